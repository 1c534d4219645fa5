"""How much of a plot question the catalog can know: identify results split by the share of the question's content
words that the gold film's own passages (card and plot) contain.

A question written from another source's plot ("a young thief named Bek and his love Zaya attend the coronation of
Horus") may name nothing the catalog's one-line overview holds ("A common thief joins a mythical god on a quest
through Egypt"); no catalog-grounded system can identify it. This splits an `eval-capabilities --capability identify`
report by that coverage, so the number for answerable questions is visible beside the overall one.

    python -m benchmarks.identify_coverage --report runs/s5/cap_identify.json \
        --questions runs/capability_data/identify_test.jsonl [--index DIR]
"""
from __future__ import annotations

import argparse
import json

from core.config import Settings
from core.records import normalize
from index.default import ensure_index
from index.store import load_index
from rag.films import FilmPassages
from rag.identify import FRAME_WORDS

BUCKETS = ((0.0, 0.25), (0.25, 0.5), (0.5, 1.01))  # coverage ranges [low, high)


def coverage(question: str, film_text: str) -> float:
    """Share of the question's content words (4+ letters, frame words left out) that occur in `film_text`."""
    held = set(normalize(film_text).split())
    words = [w for w in normalize(question).split() if len(w) > 3 and w not in FRAME_WORDS]
    return sum(w in held for w in words) / max(1, len(words))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", required=True, help="an eval-capabilities identify report (JSON)")
    parser.add_argument("--questions", required=True, help="the identify question file it was run on (JSONL)")
    parser.add_argument("--index", default=None, help="the index it was run on (default: the demo catalog)")
    args = parser.parse_args()
    settings = Settings().with_overrides(progress=False)
    index = load_index(args.index or ensure_index(settings), settings)
    films = FilmPassages(index)
    gold = {}
    with open(args.questions, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            gold[row["id"]] = row["gold"]["id"]
    rows = json.load(open(args.report, encoding="utf-8"))["per_question"]
    print("| coverage of the question's words by the gold film's passages | n | first title right | plot recall@1 |")
    print("|---|---|---|---|")
    for low, high in BUCKETS:
        picked = []
        for row in rows:
            film = gold[row["id"]]
            text = " ".join([films.card(film).text if films.card(film) else ""] + [p.text for p in films.plots(film)])
            if low <= coverage(row["question"], text) < high:
                picked.append(row)
        if picked:
            right = sum(r["first_title_right"] for r in picked) / len(picked)
            recall = sum(r["plot_recall@1"] for r in picked) / len(picked)
            print(f"| {low:.2f}–{min(high, 1.0):.2f} | {len(picked)} | {right:.3f} | {recall:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
