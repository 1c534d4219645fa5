"""Tune settings.answer.off_topic_threshold on dev questions: how many off-topic questions a threshold declines,
against how many on-topic ones (the capability set's controls and WikiMovies dev questions) it would wrongly decline.

    python -m benchmarks.off_topic_threshold --questions runs/capability_data \
        --wikimovies ../shared/data/wikimovies/questions/wiki_entities_dev.txt [--index DIR]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.config import Settings
from evaluation.questions import read_questions
from rag.pipeline import load_pipeline

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", required=True, help="`training capability-data` folder (abstain_dev.jsonl)")
    parser.add_argument("--wikimovies", required=True, help="a WikiMovies dev question file (on-topic questions)")
    parser.add_argument("--limit", type=int, default=1500, help="WikiMovies questions read (default 1500)")
    parser.add_argument("--index", default=None, help="index folder (default: the demo catalog)")
    args = parser.parse_args()
    pipeline = load_pipeline(Settings().with_overrides(progress=False), args.index)
    with open(Path(args.questions, "abstain_dev.jsonl"), encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    sets = {"off-topic": [r["question"] for r in rows if r["kind"] == "off_topic"],
            "controls": [r["question"] for r in rows if r["kind"] == "control"],
            "WikiMovies dev": [q.question for q in read_questions(args.wikimovies)][:args.limit]}
    confidence = {name: [plan.confidence if str(plan.op) == "off_topic" else 0.0
                         for plan in pipeline.evidence.plans(questions)] for name, questions in sets.items()}
    print("| threshold | " + " | ".join(f"{name} declined (n={len(qs)})" for name, qs in sets.items()) + " |")
    print("|---" * (len(sets) + 1) + "|")
    for t in THRESHOLDS:
        shares = [sum(c >= t for c in confidence[name]) / max(1, len(confidence[name])) for name in sets]
        print(f"| {t:.1f} | " + " | ".join(f"{s:.3f}" for s in shares) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
