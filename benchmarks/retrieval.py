"""Retrieval latency per question at k: dense, BM25, hybrid (RRF) and hybrid with title/person linking, each
including the query encoding a user waits for; plus the breakdown of benchmarks/latency.py (encode, dense
and BM25 at candidate depth, linking + fusion)."""
from __future__ import annotations

import os
import time

import faiss
import numpy as np
from tqdm.auto import tqdm

from benchmarks.common import stats
from benchmarks.latency import bench_retrieval as latency_breakdown
from core.config import Settings
from rag.retrieve import Retriever


class NoLinkRetriever(Retriever):
    """The same fused dense + BM25 search with title/person linking switched off."""

    def link(self, question, candidates=()):
        return []


def retrieval_methods(index, embedder, settings: Settings, k: int) -> dict:
    """name → fn(question) for each retrieval variant, all at the same k."""
    hybrid, linked = NoLinkRetriever(index, embedder, settings), Retriever(index, embedder, settings)

    def encode(q: str) -> np.ndarray:
        return embedder.encode([q], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)

    return {
        "query_encode": encode,
        "dense": lambda q: index.dense_search(encode(q), k),
        "bm25": lambda q: index.bm25_search([q], k),
        "hybrid": lambda q: hybrid.search(q, k=k),
        "hybrid_linked": lambda q: linked.search(q, k=k),
    }


def bench_threads(index, embedder, questions: list[str], k: int, threads: int | None = None) -> dict:
    """Query encoding (torch) and FAISS search (OpenMP) p50/p95 ms with this run's thread counts and with
    `threads` (default: 1 if the run uses more, else all cores), interleaved per question. On a shared, busy
    CPU, one thread avoids waiting on descheduled workers at every parallel region."""
    import torch  # deferred: heavy

    if threads is None:
        threads = 1 if torch.get_num_threads() > 1 else (os.cpu_count() or 1)
    vectors = embedder.encode(list(questions), normalize_embeddings=True, convert_to_numpy=True,
                              show_progress_bar=False)
    default_torch, default_omp = torch.get_num_threads(), faiss.omp_get_max_threads()
    times: dict[str, list[float]] = {}
    variants = (("default", default_torch, default_omp), (f"threads_{threads}", threads, threads))
    try:
        for i, q in enumerate(questions):
            for label, n_torch, n_omp in variants:
                torch.set_num_threads(n_torch)
                faiss.omp_set_num_threads(n_omp)
                start = time.perf_counter()
                embedder.encode([q], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
                mid = time.perf_counter()
                index.dense_search(vectors[i:i + 1], k)
                end = time.perf_counter()
                times.setdefault(f"encode_{label}", []).append(mid - start)
                times.setdefault(f"faiss_{label}", []).append(end - mid)
    finally:
        torch.set_num_threads(default_torch)
        faiss.omp_set_num_threads(default_omp)
    out = {name: stats(t[1:], scale=1000, digits=2) for name, t in times.items()}  # first round = warm-up
    out.update({"torch_threads_default": default_torch, "faiss_threads_default": default_omp, "threads_other": threads})
    return out


def bench_retrieval(index, embedder, settings: Settings, questions: list[str], k: int = 5,
                    progress: bool = False) -> dict:
    """p50/p95/mean ms per method over the questions, one question per call (as a user asks); methods are
    interleaved per question so a burst of load from other processes hits all of them alike."""
    methods = retrieval_methods(index, embedder, settings, k)
    for fn in methods.values():  # warm-up: first-call allocations, BM25 caches
        fn(questions[0])
    times: dict[str, list[float]] = {name: [] for name in methods}
    for q in tqdm(questions, desc="retrieval", unit="q", disable=not progress):
        for name, fn in methods.items():
            start = time.perf_counter()
            fn(q)
            times[name].append(time.perf_counter() - start)
    linked = Retriever(index, embedder, settings)
    start = time.perf_counter()
    batch = linked.search_batch(list(questions), k=k)
    batch_s = time.perf_counter() - start
    out = {name: stats(t, scale=1000, digits=2) for name, t in times.items()}
    out.update({"k": k, "questions": len(questions), "passages": len(index), "faiss": type(index.faiss).__name__,
                "linked_questions": sum(r.linked for r in batch),
                "hybrid_linked_batch_questions_per_s": round(len(questions) / batch_s, 1),
                "breakdown_ms": latency_breakdown(linked, list(questions)),
                "threads_ms": bench_threads(index, embedder, list(questions)[:100], k)})
    return out
