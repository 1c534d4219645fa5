"""Speed and memory of the movie RAG system, measured in one run on this machine.

    python -m benchmarks --index DIR --out FILE.json [--questions 200] [--answers 50] [--skip-build] [--no-progress]
    python -m benchmarks scaling --out FILE.json [--sizes 10000,50000,100000]

The main run (benchmarks/suite.py) measures, in order: index build vs raw encode (with peak RSS), incremental
add of 100 films, retrieval latency (dense, BM25, hybrid, hybrid + title linking), the ONNX embedder lever, RAG
answers (per answer, first streamed token, batched) on the default runtime, today's torch path paired with it
(answers, first token, unlinked hybrid retrieval), where the time goes (encode, search, plan, prompt, prefill,
decode, post-processing) on both, the generator runtimes side by side with the memory bandwidth and the floor per
token, the torch speed levers, a naive peer pipeline over the same questions, and the web demo's peak RSS. The
JSON is rewritten after every section, so a late failure keeps the earlier numbers. Long runs share the CPU: run
them with `nice -n 10` when the machine is quiet.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from benchmarks.common import DEFAULT_BUILD_SOURCE, command_line, machine_info, write_json
from benchmarks.report import scaling_text, summary_text
from core.flags import EXIT_ERROR, add_settings_flags, run_command, settings_from_args
from core.models import load_embedder


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
                                epilog="`python -m benchmarks scaling --help` for the corpus-size curve.")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--questions", type=int, default=200, help="retrieval questions (default 200)")
    p.add_argument("--answers", type=int, default=50,
                   help="questions answered by our pipeline and the naive one (default 50)")
    p.add_argument("--question-source", choices=("auto", "wikimovies", "titles"), default="auto",
                   help="auto: WikiMovies test questions for a WikiMovies index, "
                        "else questions from the index's titles")
    p.add_argument("--build-source", action="append", help="catalog(s) for the build benchmark (default: "
                   f"{DEFAULT_BUILD_SOURCE.name} from the shared data when present, else the sample catalog)")
    p.add_argument("--add-films", type=int, default=100,
                   help="films added in the incremental add benchmark (default 100)")
    p.add_argument("--lever-questions", type=int, default=20, help="questions per speed lever (default 20)")
    p.add_argument("--levers", help="comma-separated lever names (default: all; see benchmarks/levers.py)")
    p.add_argument("--runtime-prompts", type=int, default=20,
                   help="real prompts the generator runtimes are timed on (default 20)")
    for name in ("build", "add", "onnx", "torch-path", "breakdown", "runtimes", "levers", "naive", "app"):
        p.add_argument(f"--skip-{name}", action="store_true", help=f"skip the {name} benchmark")
    p.add_argument("--workdir", help="scratch folder for build/add copies (default: a temporary folder)")
    # --index: e.g. a WikiMovies index; --num-threads applies to torch and FAISS for the whole run
    add_settings_flags(p, fields=("index_dir", "generator", "num_threads", "seed", "progress", "generator_runtime",
                                  "ct2_compute_type", "ct2_threads", "embedder_backend"))
    return p


def _scaling_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks scaling",
        description="Build time and retrieval p50 vs corpus size (synthetic passages), flat vs HNSW.")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--sizes", default="10000,50000,100000", help="comma-separated passage counts")
    p.add_argument("--queries", type=int, default=200, help="queries per size (default 200)")
    p.add_argument("--pool", type=int, default=1000, help="real embeddings the synthetic vectors are mixed from")
    add_settings_flags(p, fields=("k", "progress"))
    return p


def run_scaling(args) -> dict:
    settings = settings_from_args(args)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not sizes or min(sizes) < 10:
        raise ValueError("--sizes must be positive passage counts, e.g. 10000,50000,100000")
    from benchmarks.scaling import bench_scaling  # deferred: heavy (faiss, torch)

    started = time.perf_counter()
    result = {"command": command_line(), "machine": machine_info()}
    result.update(bench_scaling(load_embedder(settings=settings), settings, sizes, args.queries, settings.retrieval.k,
                                args.pool, progress=settings.run.progress))
    result["wall_s"] = round(time.perf_counter() - started, 1)
    write_json(Path(args.out), result)
    return result


def _run(argv: list[str]) -> int:
    if argv[:1] == ["scaling"]:
        print(scaling_text(run_scaling(_scaling_parser().parse_args(argv[1:]))))
        return 0
    args = _parser().parse_args(argv)
    if min(args.questions, args.answers, args.lever_questions) < 1:
        raise ValueError("--questions, --answers and --lever-questions must be at least 1")
    from benchmarks.suite import run  # deferred: heavy (torch, faiss); it imports every section's module at once

    result = run(args)
    print(summary_text(result))
    if result.get("failed_sections"):
        print(f"error: sections failed: {', '.join(result['failed_sections'])} (see {args.out})", file=sys.stderr)
        return EXIT_ERROR
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--no-progress" in argv:
        from transformers.utils import logging as hf_logging  # deferred: heavy

        hf_logging.disable_progress_bar()  # "Loading weights" bars of model loads
    return run_command(lambda: _run(argv))


if __name__ == "__main__":
    sys.exit(main())
