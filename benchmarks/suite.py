"""The main run of `python -m benchmarks`: its sections in order, each recorded in one result dict that is
rewritten to the output JSON after every section, so a late failure keeps the earlier numbers.

Everything is imported with this module, when the run starts, not mid-run: a module edited meanwhile could no
longer match the others.
"""
from __future__ import annotations

import dataclasses
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import faiss
import torch

from benchmarks import answers, breakdown, build, levers, memory, naive, onnx_encoder, paths, retrieval, runtimes
from benchmarks.common import (
    DEFAULT_BUILD_SOURCE,
    benchmark_questions,
    command_line,
    machine_info,
    peak_rss_mb,
    rss_mb,
    write_json,
)
from benchmarks.report import check_targets, headline
from core.config import Settings
from core.errors import IndexLoadError
from core.flags import settings_from_args
from core.models import load_embedder, load_generator, resolve_generator
from index.catalog import Catalog
from index.default import ensure_index
from index.store import check_embedder, load_index, load_movies, read_manifest
from rag.answer import trained_prompt_settings
from rag.pipeline import Pipeline
from rag.planner import load_planner


def log(message: str, progress: bool) -> None:
    if progress:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Recorder:
    """The result dict of one run: `measure` runs a section, records it (or its error) and rewrites the JSON."""

    def __init__(self, out: Path, settings: Settings) -> None:
        self.out, self.progress = out, settings.run.progress
        self.started = self.last = time.perf_counter()
        self.sections: dict = {}
        self.result: dict = {"command": command_line(), "started_at": _now(), "machine": machine_info(),
                             "settings": dataclasses.asdict(settings), "sections": self.sections}

    def save(self, name: str, value: dict) -> None:
        self.sections[name] = value
        now = time.perf_counter()
        self.result.setdefault("section_seconds", {})[name] = round(now - self.last, 1)
        self.last = now
        self.result.update(headline(self.sections))
        self.result["targets"] = check_targets(self.result)
        self.result["wall_s"] = round(time.perf_counter() - self.started, 1)
        write_json(self.out, self.result)
        log(f"{name} done ({self.result['wall_s']} s)", self.progress)

    def measure(self, name: str, fn, message: str) -> dict:
        """Run one section; a failure is recorded in its place (and reported) instead of ending the run."""
        log(message, self.progress)
        try:
            value = fn()
        except Exception as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            value = {"error": f"{type(exc).__name__}: {first_line}"}
            self.result.setdefault("failed_sections", []).append(name)
            print(f"warning: {name} failed: {value['error']}", file=sys.stderr)
        self.save(name, value)
        return value

    def finish(self) -> dict:
        """The end-of-run facts (peak RSS, load average, times), written once more; returns the result."""
        self.result["process_peak_rss_mb"] = peak_rss_mb()
        self.result["machine"]["load_avg_at_end"] = machine_info()["load_avg_1_5_15"]
        self.result["finished_at"] = _now()
        self.result["wall_s"] = round(time.perf_counter() - self.started, 1)
        write_json(self.out, self.result)
        return self.result


def run(args) -> dict:
    """The main benchmark; returns the result dict (also written to args.out after each section)."""
    settings = _run_settings(args)
    rec = Recorder(Path(args.out), settings)
    workdir_ctx = tempfile.TemporaryDirectory(prefix="bench-") if not args.workdir else None
    workdir = Path(args.workdir or workdir_ctx.name)
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if not args.skip_build:  # first, so the process peak RSS is the build's own
            rec.measure("build", lambda: build.bench_build(_build_sources(args), workdir, rec.progress),
                        "build vs raw encode")
        embedder = load_embedder(settings=settings)
        index_dir = settings.index.index_dir if args.index_dir else ensure_index(settings, embedder=embedder)
        if not args.skip_add:
            rec.measure("add", lambda: build.bench_add(index_dir, workdir, settings, embedder, args.add_films),
                        f"add {args.add_films} films")
        index = load_index(index_dir, settings, embedder)
        questions = _questions(rec, args, settings, index, index_dir)
        _retrieval_sections(rec, args, settings, index, embedder, [q.question for q in questions])
        _answer_sections(rec, args, settings, index, embedder, questions, index_dir)
    finally:
        if workdir_ctx is not None:
            workdir_ctx.cleanup()
    return rec.finish()


def _run_settings(args) -> Settings:
    """Settings from the flags; a bad --index fails now, in seconds, not after the build benchmark."""
    settings = settings_from_args(args)
    if args.index_dir:
        check_embedder(read_manifest(args.index_dir), args.index_dir, settings)
        settings = settings.with_overrides(index_dir=str(Path(args.index_dir).absolute()))
    if settings.run.num_threads:  # torch and FAISS, for the whole run
        torch.set_num_threads(settings.run.num_threads)
        faiss.omp_set_num_threads(settings.run.num_threads)
    return settings


def _prompts(pipeline, questions: list[str]) -> list[str]:
    """The rendered prompts the pipeline generates from for these questions (what the runtimes are timed on)."""
    seen: list[str] = []
    generate = pipeline.generator.generate

    def recording(prompts, **options):
        seen.extend(prompts)
        return generate(prompts, **options)

    pipeline.generator.generate = recording
    try:
        pipeline.ask_batch(questions, progress=False)
    finally:
        del pipeline.generator.generate
    return seen or questions


def _build_sources(args) -> list[str]:
    if args.build_source:
        return args.build_source
    return [str(DEFAULT_BUILD_SOURCE)] if DEFAULT_BUILD_SOURCE.exists() else [Settings().index.sample_catalog]


def _movies(index_dir: str) -> list | None:
    try:
        return load_movies(index_dir)
    except IndexLoadError:
        return None


def _questions(rec: Recorder, args, settings: Settings, index, index_dir: str) -> list:
    """Enough benchmark questions for every section; the index and where the questions came from are recorded."""
    questions, source = benchmark_questions(index, max(args.questions, args.answers, args.lever_questions),
                                            settings.run.seed, args.question_source, _movies(index_dir))
    rec.result["index"] = {"path": index_dir, "movies": index.manifest.get("movies"), "passages": len(index),
                           "kinds": index.manifest.get("kinds"), "hnsw": bool(index.manifest.get("hnsw")),
                           "sources": [s.get("path") for s in index.manifest.get("sources", [])]}
    rec.result["questions_source"] = source
    return questions


def _retrieval_sections(rec: Recorder, args, settings: Settings, index, embedder, texts: list[str]) -> None:
    """Retrieval latency per method, then the ONNX embedder lever."""
    rec.measure("retrieval", lambda: retrieval.bench_retrieval(index, embedder, settings, texts[:args.questions],
                                                               settings.retrieval.k, rec.progress),
                f"retrieval over {args.questions} questions")
    if not args.skip_onnx:
        torch_embedder = load_embedder(settings=settings.with_overrides(embedder_backend="torch"))  # the lever's base
        rec.measure("onnx", lambda: onnx_encoder.bench_onnx(torch_embedder, texts[:100],
                                                            [p.text for p in index.passages[:1000]],
                                                            settings.index.embed_batch_size),
                    "onnx embedder lever")


def _answer_sections(rec: Recorder, args, settings: Settings, index, embedder, questions: list,
                     index_dir: str) -> None:
    """Our answers, the speed levers, the naive peer pipeline (paired with ours) and the web demo's peak RSS."""
    progress = rec.progress
    model, tokenizer, spec = load_generator(settings, resolve_generator(settings))
    settings = trained_prompt_settings(settings, spec)
    planner = load_planner(settings, embedder) if Path(settings.models.planner).is_dir() else None
    catalog = Catalog.open(index_dir) if planner is not None else None  # as rag.pipeline.load_pipeline does
    pipeline = Pipeline(index, embedder, model, tokenizer, settings, generator_name=spec.name, planner=planner,
                        catalog=catalog)
    # today's path, kept runnable behind the flags: eager torch generator, torch query encoder (same model object)
    torch_settings = settings.with_overrides(generator_runtime="torch", embedder_backend="torch")
    torch_embedder = load_embedder(settings=torch_settings)
    answer_qs = questions[:args.answers]
    rec.measure("answers", lambda: {**answers.bench_answers(pipeline, answer_qs, progress), "generator": spec.name,
                                    "runtime": pipeline.generator.runtime,
                                    "embedder_backend": getattr(embedder, "backend", None), "rss_mb": rss_mb()},
                f"answers over {len(answer_qs)} questions with {spec.name} on {pipeline.generator.runtime}")
    if not (args.skip_torch_path and args.skip_breakdown):
        torch_pipeline = Pipeline(index, torch_embedder, model, tokenizer, torch_settings, generator_name=spec.name,
                                  planner=load_planner(torch_settings, torch_embedder) if planner else None,
                                  catalog=catalog)
        if not args.skip_torch_path:
            texts = [q.question for q in questions[:args.questions]]
            rec.measure("torch_path", lambda: paths.bench_paths(pipeline, torch_pipeline, answer_qs, texts,
                                                                settings.retrieval.k, progress),
                        f"today's torch path vs {pipeline.generator.runtime}, paired")
        if not args.skip_breakdown:
            texts = [q.question for q in answer_qs]
            rec.measure("breakdown", lambda: {"new": breakdown.bench_breakdown(pipeline, texts),
                                              "torch": breakdown.bench_breakdown(torch_pipeline, texts)},
                        "where the time goes")
        del torch_pipeline
    if not args.skip_runtimes:
        prompts = _prompts(pipeline, [q.question for q in answer_qs[:args.runtime_prompts]])
        rec.measure("runtimes", lambda: runtimes.bench_runtimes(model, tokenizer, prompts, settings.models.cache_dir,
                                                                settings.run.num_threads),
                    f"generator runtimes side by side on {len(prompts)} prompts")
    if not args.skip_levers:  # torch levers: measured on the torch runtime, as before
        names = args.levers.split(",") if args.levers else None
        rec.measure("levers", lambda: levers.bench_levers(index, embedder, model, tokenizer, torch_settings,
                                                          questions[:args.lever_questions], names, progress),
                    "speed levers")
    if not args.skip_naive:
        note = "same base model folder" + (f"; our pipeline also merges the adapter {spec.adapter} (same "
                                           "architecture and size)" if spec.adapter else "") + \
            "; the naive peer encodes with the torch sentence-transformers encoder"
        rec.measure("naive", lambda: {**naive.bench_naive(spec.path, torch_embedder, index, answer_qs,
                                                          settings.retrieval.k, settings.decoding.max_new_tokens,
                                                          progress, pipeline=pipeline),
                                      "note": note},
                    f"naive pipeline over {len(answer_qs)} questions, paired with ours")
    if not args.skip_app:
        rec.measure("memory", memory.app_or_pipeline_peak_rss, "app peak RSS (default index)")
