"""Cross-request micro-batching (issue 17 part 3): the same questions answered one at a time and by concurrent users.

    flock /tmp/heavy.lock python -m benchmarks.batching --index /tmp/wm_only \
        --questions ../shared/data/wikimovies/questions/wiki_entities_dev.txt --out runs/batching17.json

The dev sample is `rag eval`'s (`--stratify --per-type 100 --limit 330 --seed 42`). Every question is answered as
the app answers it (`Pipeline.ask_stream`, greedy): first one after another on the unbatched generator, then by
`--clients` concurrent threads on the micro-batched one (settings.decoding.batch_window_ms, the app's
demo.micro_batch_ms). Reported: the share of answers whose text differs (the target is at most 1%), the rows per
engine call, and the throughput of both.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.common import machine_info, write_json
from core.config import Settings
from core.errors import ConfigError
from core.flags import add_settings_flags, run_command, settings_from_args


def _answer(pipeline, question: str) -> tuple[str, float, float]:
    """(answer text, seconds to the first streamed text, seconds to the answer), as the app streams it."""
    start, first, answer = time.perf_counter(), None, None
    for text, final in pipeline.ask_stream(question, mode="rag"):
        if first is None and text:
            first = time.perf_counter() - start
        answer = final or answer
    total = time.perf_counter() - start
    return (answer.text if answer is not None else ""), (first if first is not None else total), total


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def run(settings: Settings, questions_path: str, n: int, per_type: int, clients: int, window_ms: float) -> dict:
    from evaluation.questions import read_questions, select_questions
    from rag.generate import Generator
    from rag.pipeline import load_pipeline

    questions = [q.question for q in select_questions(read_questions(questions_path), limit=n, stratify=True,
                                                      per_type=per_type, seed=settings.run.seed)]
    pipeline = load_pipeline(settings)
    alone = pipeline.generator
    batched = Generator(alone.model, alone.tokenizer, settings.with_overrides(batch_window_ms=window_ms))
    if getattr(batched, "batcher", None) is None:
        raise ConfigError(f"micro-batching runs on the ctranslate2 runtime, not {batched.runtime}")
    for prefix in alone._prefixes:  # the prompt prefixes the pipeline registered (rag.pipeline)
        batched.add_prefix(prefix)
    _answer(pipeline, questions[0])  # warm-up

    t0 = time.perf_counter()
    one = [_answer(pipeline, q) for q in questions]
    one_s = time.perf_counter() - t0

    pipeline.generator = batched
    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        many = list(pool.map(lambda q: _answer(pipeline, q), questions))
    many_s = time.perf_counter() - t0
    pipeline.generator = alone

    differ = [{"question": q, "alone": a[0], "batched": b[0]} for q, a, b in zip(questions, one, many) if a[0] != b[0]]
    rows = batched.batcher.batches
    return {
        "questions": len(questions), "clients": clients, "batch_window_ms": window_ms,
        "runtime": alone.runtime, "batched_runtime": type(batched).__name__,
        "mismatch_rate": round(len(differ) / len(questions), 4), "mismatches": len(differ), "differing": differ[:20],
        "engine_calls_batched": len(rows), "rows_per_call_mean": round(statistics.mean(rows), 2) if rows else None,
        "rows_per_call_max": max(rows) if rows else None,
        "alone": {"wall_s": round(one_s, 1), "questions_per_s": round(len(questions) / one_s, 3),
                  "answer_p50_s": _p([a[2] for a in one], 0.5), "first_text_p50_s": _p([a[1] for a in one], 0.5)},
        "batched": {"wall_s": round(many_s, 1), "questions_per_s": round(len(questions) / many_s, 3),
                    "answer_p50_s": _p([b[2] for b in many], 0.5), "answer_p95_s": _p([b[2] for b in many], 0.95),
                    "first_text_p50_s": _p([b[1] for b in many], 0.5)},
        "throughput_ratio": round(one_s / many_s, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batching", description=__doc__.splitlines()[0])
    parser.add_argument("--questions", required=True, help="the dev questions file (rag eval's --questions)")
    parser.add_argument("--n", type=int, default=330, help="questions in the sample (default 330)")
    parser.add_argument("--per-type", type=int, default=100, help="stratified questions per type (default 100)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent users in the batched pass (default 8)")
    parser.add_argument("--window-ms", type=float, default=15.0, help="micro-batch window (default 15 ms)")
    parser.add_argument("--out", required=True, help="JSON report path")
    add_settings_flags(parser, fields=("index_dir", "generator", "generator_runtime", "seed", "progress"))
    args = parser.parse_args(argv)

    def go() -> int:
        settings = settings_from_args(args, Settings().with_overrides(progress=False))
        report = {"command": " ".join(["python -m benchmarks.batching", *(argv or sys.argv[1:])]),
                  "machine": machine_info(), **run(settings, args.questions, args.n, args.per_type, args.clients,
                                                   args.window_ms)}
        write_json(Path(args.out), report)
        print({k: v for k, v in report.items() if k not in ("machine", "differing")})
        return 0

    return run_command(go)


if __name__ == "__main__":
    sys.exit(main())
