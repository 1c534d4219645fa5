"""End-to-end RAG answer latency on one loaded Pipeline: per answer and time to first streamed token
(benchmarks/latency.py `bench_answers`), plus questions/s of batched evaluation (ask_batch) and
hits@1 when the questions carry gold answers."""
from __future__ import annotations

import time

from benchmarks.common import hits_at_1
from benchmarks.latency import bench_answers as latency_answers


def bench_answers(pipeline, questions: list, progress: bool = False) -> dict:
    """RAG answers over `questions` (evaluation.questions.Question): sequential, streamed and batched."""
    texts = [q.question for q in questions]
    start = time.perf_counter()
    pipeline.ask(texts[0])  # cold: prefix KV cache, first-call allocations
    cold_s = time.perf_counter() - start

    timed, rows = latency_answers(pipeline, texts, stream=True)  # sequential ask, then ask_stream, per question
    sequential_total = timed["answer_s"]["mean"] * len(texts)  # = the sum of the timed walls

    start = time.perf_counter()
    batched = pipeline.ask_batch(texts, progress=progress)
    batch_s = time.perf_counter() - start

    return {
        "questions": len(questions), "cold_first_answer_s": round(cold_s, 3),
        "sequential": timed["answer_s"], "sequential_total_s": round(sequential_total, 3),
        "timings_breakdown": {k: timed[k] for k in ("retrieve_s", "plan_s", "prompt_s", "generate_s") if k in timed},
        "plan_share_of_answer_p50": timed.get("plan_share_of_answer_p50"),
        "new_tokens": timed["new_tokens"], "abstained": timed["abstained"],
        "hits_at_1": hits_at_1([r["answer"] for r in rows], questions),
        "first_token": timed["first_token_s"],
        "batched_total_s": round(batch_s, 3), "batched_questions_per_s": round(len(questions) / batch_s, 3),
        "batched_hits_at_1": hits_at_1(batched, questions), "batch_size": pipeline.settings.decoding.batch_size,
        "batched_same_answer": round(sum(a.text == r["answer"] for a, r in zip(batched, rows)) / len(rows), 4),
        "max_new_tokens": pipeline.settings.decoding.max_new_tokens, "examples": [
            {"question": q.question, "answer": r["answer"], "gold": q.answers[:3], "abstained": r["abstained"]}
            for q, r in list(zip(questions, rows))[:5]],
    }
