"""Today's torch path against the default (new runtime) path in one run, paired question by question.

"Today's path" is the same commit with `--generator-runtime torch --embedder-backend torch`: eager fp32 torch for
the generator and the sentence-transformers torch encoder for queries. Both pipelines share the index, the planner
data and the loaded torch model. Per question, in turn: an answer from each, a streamed answer from each (time to
the first shown text), and unlinked hybrid retrieval (dense + BM25, title/person linking off) with each encoder.
"""
from __future__ import annotations

import time

from tqdm.auto import tqdm

from benchmarks.common import hits_at_1, ratio, stats
from benchmarks.retrieval import NoLinkRetriever

PATHS = ("new", "torch")


def _first_token(pipeline, question: str) -> float:
    start = time.perf_counter()
    for text, _ in pipeline.ask_stream(question):
        if text:
            return time.perf_counter() - start
    return time.perf_counter() - start


def bench_paths(new, old, questions: list, retrieval_texts: list[str], k: int = 5, progress: bool = False) -> dict:
    """Answer p50, first streamed token p50 and unlinked hybrid retrieval p50 of both pipelines, paired.

    Args:
        new, old: the default Pipeline and today's torch Pipeline over the same index.
        questions: evaluation Questions (gold answers give hits@1 for both).
        retrieval_texts: questions for the retrieval comparison.
    """
    pipelines = {"new": new, "torch": old}
    retrievers = {name: NoLinkRetriever(p.index, p.embedder, p.settings) for name, p in pipelines.items()}
    for name, pipeline in pipelines.items():  # warm-up: prefix caches, first allocations
        pipeline.ask(questions[0].question)
        _first_token(pipeline, questions[0].question)
        retrievers[name].search(retrieval_texts[0], k=k)
    walls = {n: [] for n in PATHS}
    firsts = {n: [] for n in PATHS}
    answers = {n: [] for n in PATHS}
    for q in tqdm(questions, desc="torch vs new", unit="q", disable=not progress):
        for name, pipeline in pipelines.items():
            start = time.perf_counter()
            answers[name].append(pipeline.ask(q.question))
            walls[name].append(time.perf_counter() - start)
            firsts[name].append(_first_token(pipeline, q.question))
    hybrid = {n: [] for n in PATHS}
    for text in retrieval_texts:
        for name, retriever in retrievers.items():
            start = time.perf_counter()
            retriever.search(text, k=k)
            hybrid[name].append(time.perf_counter() - start)
    out: dict = {"questions": len(questions), "retrieval_questions": len(retrieval_texts)}
    for name, pipeline in pipelines.items():
        out[name] = {"runtime": getattr(pipeline.generator, "runtime", "torch"),
                     "embedder_backend": getattr(pipeline.embedder, "backend", None),
                     "answer_s": stats(walls[name]), "first_token_s": stats(firsts[name]),
                     "hybrid_unlinked_ms": stats(hybrid[name], scale=1000, digits=2),
                     "hits_at_1": hits_at_1(answers[name], questions)}
    same = sum(a.text == b.text for a, b in zip(answers["new"], answers["torch"]))
    out["same_answer_text"] = round(same / max(len(questions), 1), 3)
    out["answer_speedup_vs_torch"] = ratio(out["torch"]["answer_s"]["p50"], out["new"]["answer_s"]["p50"], 2)
    out["first_token_ratio_vs_torch"] = ratio(out["new"]["first_token_s"]["p50"],
                                              out["torch"]["first_token_s"]["p50"], 3)
    out["hybrid_unlinked_ratio_vs_torch"] = ratio(out["new"]["hybrid_unlinked_ms"]["p50"],
                                                  out["torch"]["hybrid_unlinked_ms"]["p50"], 3)
    return out
