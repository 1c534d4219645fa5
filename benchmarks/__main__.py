"""Speed and memory of the movie RAG system, measured in one run on this machine.

    python -m benchmarks --index DIR --out FILE.json [--questions 200] [--answers 50] [--skip-build] [--no-progress]
    python -m benchmarks scaling --out FILE.json [--sizes 10000,50000,100000]

The main run measures, in order: index build vs raw encode (with peak RSS), incremental add of 100 films,
retrieval latency (dense, BM25, hybrid, hybrid + title linking), the ONNX embedder lever, RAG answers
(per answer, first streamed token, batched), the speed levers, a naive peer pipeline over the same
questions, and the web demo's peak RSS. The JSON is rewritten after every section, so a late failure keeps
the earlier numbers. Long runs share the CPU: run them with `nice -n 10` when the machine is quiet.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import SHARED_DATA, benchmark_questions, machine_info, peak_rss_mb, rss_mb
from core.config import Settings
from core.flags import EXIT_ERROR, add_settings_flags, run_command, settings_from_args

DEFAULT_BUILD_SOURCE = SHARED_DATA / "catalogs" / "imdb_movie_data_1000.csv"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
                                epilog="`python -m benchmarks scaling --help` for the corpus-size curve.")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--questions", type=int, default=200, help="retrieval questions (default 200)")
    p.add_argument("--answers", type=int, default=50, help="questions answered by our pipeline and the naive one (default 50)")
    p.add_argument("--question-source", choices=("auto", "wikimovies", "titles"), default="auto",
                   help="auto: WikiMovies test questions for a WikiMovies index, else questions from the index's titles")
    p.add_argument("--build-source", action="append", help="catalog(s) for the build benchmark (default: "
                   f"{DEFAULT_BUILD_SOURCE.name} from the shared data when present, else the sample catalog)")
    p.add_argument("--add-films", type=int, default=100, help="films added in the incremental add benchmark (default 100)")
    p.add_argument("--lever-questions", type=int, default=20, help="questions per speed lever (default 20)")
    p.add_argument("--levers", help="comma-separated lever names (default: all; see benchmarks/levers.py)")
    for name in ("build", "add", "onnx", "levers", "naive", "app"):
        p.add_argument(f"--skip-{name}", action="store_true", help=f"skip the {name} benchmark")
    p.add_argument("--workdir", help="scratch folder for build/add copies (default: a temporary folder)")
    # --index: e.g. a WikiMovies index; --num-threads applies to torch and FAISS for the whole run
    add_settings_flags(p, fields=("index_dir", "generator", "num_threads", "seed", "progress"))
    return p


def _scaling_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks scaling",
                                description="Build time and retrieval p50 vs corpus size (synthetic passages), flat vs HNSW.")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--sizes", default="10000,50000,100000", help="comma-separated passage counts")
    p.add_argument("--queries", type=int, default=200, help="queries per size (default 200)")
    p.add_argument("--pool", type=int, default=1000, help="real embeddings the synthetic vectors are mixed from")
    add_settings_flags(p, fields=("k", "progress"))
    return p


def _write(path: Path, result: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(result, indent=2, default=str) + "\n")
    tmp.replace(path)


def _log(message: str, progress: bool) -> None:
    if progress:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _build_sources(args) -> list[str]:
    if args.build_source:
        return args.build_source
    return [str(DEFAULT_BUILD_SOURCE)] if DEFAULT_BUILD_SOURCE.exists() else [Settings().index.sample_catalog]


def _movies(index_dir: str) -> list | None:
    from core.errors import IndexLoadError
    from index.store import load_movies

    try:
        return load_movies(index_dir)
    except IndexLoadError:
        return None


def run(args) -> dict:
    """The main benchmark; returns the result dict (also written to args.out after each section)."""
    # everything imported now, not mid-run (a module edited meanwhile could no longer match the others)
    from benchmarks import answers, build, levers, memory, naive, onnx_encoder, retrieval
    from benchmarks.report import check_targets, headline
    from core.models import load_embedder, load_generator, resolve_generator
    from index.build import ensure_index
    from index.store import load_index

    settings = settings_from_args(args)
    progress, seed, out = settings.run.progress, settings.run.seed, Path(args.out)
    if args.index_dir:  # a bad --index fails now, in seconds, not after the build benchmark
        from index.store import check_embedder, read_manifest

        check_embedder(read_manifest(args.index_dir), args.index_dir, settings)
        settings = settings.with_overrides(index_dir=str(Path(args.index_dir).absolute()))
    if settings.run.num_threads:
        import faiss
        import torch

        torch.set_num_threads(settings.run.num_threads)
        faiss.omp_set_num_threads(settings.run.num_threads)
    started = time.perf_counter()
    sections: dict = {}
    result = {"command": "python -m benchmarks " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
              "started_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine_info(),
              "settings": dataclasses.asdict(settings), "sections": sections}

    last = [started]

    def save(name: str, value: dict) -> None:
        sections[name] = value
        now = time.perf_counter()
        result.setdefault("section_seconds", {})[name] = round(now - last[0], 1)
        last[0] = now
        result.update(headline(sections))
        result["targets"] = check_targets(result)
        result["wall_s"] = round(time.perf_counter() - started, 1)
        _write(out, result)
        _log(f"{name} done ({result['wall_s']} s)", progress)

    def measure(name: str, fn, message: str) -> dict | None:
        """Run one section; a failure is recorded in its place (and reported) instead of ending the run."""
        _log(message, progress)
        try:
            value = fn()
        except Exception as exc:
            value = {"error": f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"}
            result.setdefault("failed_sections", []).append(name)
            print(f"warning: {name} failed: {value['error']}", file=sys.stderr)
        save(name, value)
        return value

    workdir_ctx = tempfile.TemporaryDirectory(prefix="bench-") if not args.workdir else None
    workdir = Path(args.workdir or workdir_ctx.name)
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if not args.skip_build:  # first, so the process peak RSS is the build's own
            measure("build", lambda: build.bench_build(_build_sources(args), workdir, progress), "build vs raw encode")
        embedder = load_embedder(settings=settings)
        index_dir = settings.index.index_dir if args.index_dir else ensure_index(settings, embedder=embedder)
        if not args.skip_add:
            measure("add", lambda: build.bench_add(index_dir, workdir, settings, embedder, args.add_films),
                    f"add {args.add_films} films")

        index = load_index(index_dir, settings, embedder)
        questions, source = benchmark_questions(index, max(args.questions, args.answers, args.lever_questions),
                                                seed, args.question_source, _movies(index_dir))
        result["index"] = {"path": index_dir, "movies": index.manifest.get("movies"), "passages": len(index),
                           "kinds": index.manifest.get("kinds"), "hnsw": bool(index.manifest.get("hnsw")),
                           "sources": [s.get("path") for s in index.manifest.get("sources", [])]}
        result["questions_source"] = source
        texts = [q.question for q in questions]
        measure("retrieval", lambda: retrieval.bench_retrieval(index, embedder, settings, texts[:args.questions],
                                                               settings.retrieval.k, progress),
                f"retrieval over {args.questions} questions")
        if not args.skip_onnx:
            measure("onnx", lambda: onnx_encoder.bench_onnx(embedder, texts[:100], [p.text for p in index.passages[:1000]],
                                                            settings.index.embed_batch_size), "onnx embedder lever")

        from rag.pipeline import Pipeline, trained_prompt_settings

        model, tokenizer, spec = load_generator(settings, resolve_generator(settings))
        settings = trained_prompt_settings(settings, spec)
        pipeline = Pipeline(index, embedder, model, tokenizer, settings, generator_name=spec.name)
        answer_qs = questions[:args.answers]
        measure("answers", lambda: {**answers.bench_answers(pipeline, answer_qs, progress), "generator": spec.name,
                                    "rss_mb": rss_mb()},
                f"answers over {len(answer_qs)} questions with {spec.name}")
        if not args.skip_levers:
            names = args.levers.split(",") if args.levers else None
            measure("levers", lambda: levers.bench_levers(index, embedder, model, tokenizer, settings,
                                                          questions[:args.lever_questions], names, progress),
                    "speed levers")
        if not args.skip_naive:
            note = "same base model folder" + (f"; our pipeline also merges the adapter {spec.adapter} (same "
                                               "architecture and size)" if spec.adapter else "")
            measure("naive", lambda: {**naive.bench_naive(spec.path, embedder, index, answer_qs, settings.retrieval.k,
                                                          settings.decoding.max_new_tokens, progress, pipeline=pipeline),
                                      "note": note},
                    f"naive pipeline over {len(answer_qs)} questions, paired with ours")
        if not args.skip_app:
            measure("memory", memory.app_or_pipeline_peak_rss, "app peak RSS (default index)")
    finally:
        if workdir_ctx is not None:
            workdir_ctx.cleanup()
    result["process_peak_rss_mb"] = peak_rss_mb()
    result["machine"]["load_avg_at_end"] = machine_info()["load_avg_1_5_15"]
    result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["wall_s"] = round(time.perf_counter() - started, 1)
    _write(out, result)
    return result


def run_scaling(args) -> dict:
    settings = settings_from_args(args)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not sizes or min(sizes) < 10:
        raise ValueError("--sizes must be positive passage counts, e.g. 10000,50000,100000")
    from benchmarks.scaling import bench_scaling  # deferred: heavy (faiss, torch)
    from core.models import load_embedder

    started = time.perf_counter()
    result = {"command": "python -m benchmarks " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
              "machine": machine_info()}
    result.update(bench_scaling(load_embedder(settings=settings), settings, sizes, args.queries, settings.retrieval.k,
                                args.pool, progress=settings.run.progress))
    result["wall_s"] = round(time.perf_counter() - started, 1)
    _write(Path(args.out), result)
    return result


def _run(argv: list[str]) -> int:
    from benchmarks.report import scaling_text, summary_text

    if argv[:1] == ["scaling"]:
        print(scaling_text(run_scaling(_scaling_parser().parse_args(argv[1:]))))
        return 0
    args = _parser().parse_args(argv)
    if min(args.questions, args.answers, args.lever_questions) < 1:
        raise ValueError("--questions, --answers and --lever-questions must be at least 1")
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
