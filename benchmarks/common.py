"""Shared helpers: percentiles, memory readings, machine facts and the benchmark question set."""
from __future__ import annotations

import json
import os
import platform
import random
import resource
import shlex
import sys
import time
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import psutil

from core.records import Question
from evaluation import metrics
from evaluation.questions import read_questions
from rag.prompt import split_answer

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
WIKIMOVIES_TEST = SHARED_DATA / "wikimovies" / "questions" / "wiki_entities_test.txt"
DEFAULT_BUILD_SOURCE = SHARED_DATA / "catalogs" / "imdb_movie_data_1000.csv"  # the build benchmark's catalog
PACKAGES = ("torch", "transformers", "sentence-transformers", "faiss-cpu", "bm25s", "numpy", "gradio",
            "gradio_client", "onnxruntime", "onnx", "psutil")
TITLE_TEMPLATES = (  # (question, Movie field holding the gold answers)
    ("Who directed {t}?", "directors"), ("What year was {t} released?", "year"), ("Who starred in {t}?", "cast"),
    ("What genre is {t}?", "genres"), ("Who wrote {t}?", "writers"))


def stats(values: list[float], scale: float = 1.0, digits: int = 4) -> dict:
    """p50, p95, mean, max and n of `values` (times `scale`, e.g. 1000 for ms)."""
    if not values:
        return {"p50": None, "p95": None, "mean": None, "max": None, "n": 0}
    arr = np.asarray(values, dtype=float) * scale
    return {"p50": round(float(np.percentile(arr, 50)), digits), "p95": round(float(np.percentile(arr, 95)), digits),
            "mean": round(float(arr.mean()), digits), "max": round(float(arr.max()), digits), "n": int(len(arr))}


def time_each(fn, items, warmup: int = 1) -> list[float]:
    """Wall seconds of fn(item) for each item, after `warmup` untimed calls on the first items."""
    items = list(items)
    for item in items[:warmup]:
        fn(item)
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - start)
    return out


def rss_mb(pid: int | None = None, children: bool = False) -> float:
    """Resident memory of a process (and optionally its children) in MiB."""
    proc = psutil.Process(pid)
    procs = [proc, *proc.children(recursive=True)] if children else [proc]
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return round(total / 2**20, 1)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux ru_maxrss is in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def ratio(a: float | None, b: float | None, digits: int = 3) -> float | None:
    return round(a / b, digits) if a is not None and b else None


def command_line() -> str:
    """How this process was started, for the result JSON."""
    return "python -m benchmarks " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def write_json(path: Path, result: dict) -> None:
    """Write through a temporary file, so a reader never sees half a result."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(result, indent=2, default=str) + "\n")
    tmp.replace(path)


@contextmanager
def torch_threads(n: int):
    """Temporarily run torch with n intra-op threads (0 → leave as is)."""
    import torch  # deferred: heavy

    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def versions() -> dict:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def machine_info() -> dict:
    import torch  # deferred: heavy

    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"cpu_count": os.cpu_count(), "cpu_affinity": affinity,
            "torch_threads": torch.get_num_threads(), "torch_interop_threads": torch.get_num_interop_threads(),
            "load_avg_1_5_15": [round(x, 2) for x in os.getloadavg()],
            "memory_total_mb": round(psutil.virtual_memory().total / 2**20),
            "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "versions": versions()}


# ---------------------------------------------------------------- questions

def retrieval_scores(results: list[list], questions: list, k: int) -> dict:
    """recall@k and MRR of retrieved passage lists against the questions' answers (evaluation.metrics)."""
    ranks = [metrics.retrieval_rank(found, q) for found, q in zip(results, questions)]
    return {f"recall@{k}": round(metrics.recall_at_k(ranks, k), 4), "mrr": round(metrics.mrr(ranks), 4)}


def is_wikimovies_index(index) -> bool:
    return any(str(s.get("format", "")).startswith("wikimovies") for s in index.manifest.get("sources", []))


def title_questions(index, n: int, seed: int = 42, movies: list | None = None) -> list:
    """Questions about the index's own films; with their Movie records, gold answers come from the fields."""
    rng = random.Random(seed)
    if movies:
        out = []
        for i in range(n):
            template, name = TITLE_TEMPLATES[i % len(TITLE_TEMPLATES)]
            for _ in range(50):  # a film that has this field; else the last one tried, without gold
                movie = rng.choice(movies)
                value = getattr(movie, name)
                gold = [str(value)] if isinstance(value, int) else list(value or [])
                if gold:
                    break
            out.append(Question(template.format(t=movie.title), gold, name, movie.title))
        return out
    titles = sorted({p.title for p in index.passages if p.kind == "card"}) or sorted({p.title for p in index.passages})
    titles = titles or ["Jaws"]
    return [Question(TITLE_TEMPLATES[i % len(TITLE_TEMPLATES)][0].format(t=rng.choice(titles)), [], None, None)
            for i in range(n)]


def benchmark_questions(index, n: int, seed: int = 42, source: str = "auto",
                        movies: list | None = None) -> tuple[list, str]:
    """(n questions, where they came from). auto → WikiMovies test questions when that file exists and the index
    was built from the WikiMovies KB, else questions generated from the index's titles."""
    use_wm = source == "wikimovies" or (source == "auto" and WIKIMOVIES_TEST.exists() and is_wikimovies_index(index))
    if use_wm:
        questions = read_questions(WIKIMOVIES_TEST)
        picked = random.Random(seed).sample(questions, min(n, len(questions)))
        return picked, f"WikiMovies test ({WIKIMOVIES_TEST.name}), {len(picked)} sampled with seed {seed}"
    gold = " with gold answers from the films' records" if movies else ""
    return title_questions(index, n, seed, movies), f"generated from the index's titles{gold} ({n}, seed {seed})"


def hits_at_1(answers: list, questions: list) -> float | None:
    """Mean hits@1 of answers against gold (None when the questions have no gold answers)."""
    scored = [metrics.hits_at_1(getattr(a, "items", None) or split_answer(getattr(a, "text", a)), q.answers,
                                text=getattr(a, "text", a)) for a, q in zip(answers, questions) if q.answers]
    return round(float(np.mean(scored)), 4) if scored else None
