"""End-to-end RAG answer latency: per answer (ask), time to first streamed token (ask_stream), and
questions/s of batched evaluation (ask_batch), all on one loaded Pipeline."""
from __future__ import annotations

import time

import numpy as np
from tqdm.auto import tqdm

from benchmarks.common import hits_at_1, stats


def _new_tokens(tokenizer, texts: list[str]) -> dict:
    counts = [len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
    return {"mean": round(float(np.mean(counts)), 2), "max": int(max(counts))} if counts else {"mean": None, "max": None}


def time_asks(pipeline, questions: list, progress: bool = False, desc: str = "ask") -> tuple[list, list[float]]:
    """(answers, wall seconds per answer) for pipeline.ask over the questions, one by one."""
    answers, walls = [], []
    for q in tqdm(questions, desc=desc, unit="q", disable=not progress):
        start = time.perf_counter()
        answers.append(pipeline.ask(q.question))
        walls.append(time.perf_counter() - start)
    return answers, walls


def time_first_tokens(pipeline, questions: list, progress: bool = False) -> tuple[list[float], list[float], int]:
    """(seconds to the first non-empty streamed text, seconds to the full answer, abstentions) per question."""
    firsts, totals, abstained = [], [], 0
    for q in tqdm(questions, desc="stream", unit="q", disable=not progress):
        start, first, answer = time.perf_counter(), None, None
        for text, answer in pipeline.ask_stream(q.question):
            if first is None and text:
                first = time.perf_counter() - start
        totals.append(time.perf_counter() - start)
        firsts.append(first if first is not None else totals[-1])
        abstained += bool(answer is not None and answer.abstained)
    return firsts, totals, abstained


def bench_answers(pipeline, questions: list, stream_questions: int | None = None, progress: bool = False) -> dict:
    """RAG answers over `questions` (rag.questions.Question): sequential, streamed and batched."""
    start = time.perf_counter()
    pipeline.ask(questions[0].question)  # cold: prefix KV cache, first-call allocations
    cold_s = time.perf_counter() - start

    answers, walls = time_asks(pipeline, questions, progress)
    generated = [w for w, a in zip(walls, answers) if not a.abstained]
    parts = {name: stats([a.timings.get(name, 0.0) for a in answers]) for name in ("retrieve_s", "prompt_s", "generate_s")}

    firsts, stream_totals, stream_abstained = time_first_tokens(pipeline, questions[:stream_questions or len(questions)],
                                                                progress)
    start = time.perf_counter()
    batched = pipeline.ask_batch([q.question for q in questions], progress=progress)
    batch_s = time.perf_counter() - start

    return {
        "questions": len(questions), "cold_first_answer_s": round(cold_s, 3),
        "sequential": stats(walls), "sequential_total_s": round(sum(walls), 3),
        "sequential_generated_only": stats(generated), "timings_breakdown": parts,
        "abstained": sum(a.abstained for a in answers), "new_tokens": _new_tokens(pipeline.tokenizer, [a.text for a in answers]),
        "hits_at_1": hits_at_1(answers, questions),
        "first_token": stats(firsts), "stream_total": stats(stream_totals), "stream_abstained": stream_abstained,
        "batched_total_s": round(batch_s, 3), "batched_questions_per_s": round(len(questions) / batch_s, 3),
        "batched_hits_at_1": hits_at_1(batched, questions), "batch_size": pipeline.settings.batch_size,
        "max_new_tokens": pipeline.settings.max_new_tokens, "examples": [
            {"question": q.question, "answer": a.text, "gold": q.answers[:3], "abstained": a.abstained}
            for q, a in list(zip(questions, answers))[:5]],
    }
