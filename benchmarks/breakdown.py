"""Where an answer's time goes, per stage, on a loaded Pipeline: encode, search, plan, prompt, prefill, decode and
post-processing.

Measured through public seams only, without changing the pipeline: the retriever's embedder is wrapped to time
query encoding; the generator's decoding call (`_run`, the one hook every runtime implements) is wrapped to record
each call's rows and new tokens, and after each answer the same rows are run again for one new token, which is the
prefill (plus one decode step). Per answer:
- encode: query encoding by the retriever (0 when a title or person links: lazy dense search);
- plan: the planner and exact execution (Answer.timings plan_s);
- search: the rest of retrieval (FAISS, BM25, linking, fusion);
- prompt: packing the passages into the prompt;
- prefill / decode: the generator's time, split by the one-token rerun; decode per token over the new tokens;
- post: everything after generation (answer items, snapping, spans) and the pipeline's own overhead.
"""
from __future__ import annotations

import copy
import time

from benchmarks.common import stats

STAGES = ("encode", "search", "plan", "prompt", "prefill", "decode", "post")


class TimedEmbedder:
    """The embedder with its encode() time summed in `seconds`; everything else passes through."""

    def __init__(self, embedder) -> None:
        self.embedder, self.seconds = embedder, 0.0

    def __getattr__(self, name: str):
        return getattr(self.__dict__["embedder"], name)

    def encode(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.embedder.encode(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


def bench_breakdown(pipeline, questions: list[str]) -> dict:
    """Stage times (p50 and mean, seconds) over `questions`, asked one at a time; the pipeline is restored after."""
    generator, embedder, catalog = pipeline.generator, pipeline.embedder, pipeline.catalog
    timed = TimedEmbedder(embedder)
    calls: list[tuple] = []
    run = generator._run

    def recording_run(rows, prefix, config, stop, *args, **kwargs):
        out = run(rows, prefix, config, stop, *args, **kwargs)
        calls.append((rows, prefix, config, stop, sum(len(o) for o in out)))
        return out

    pipeline.embedder = timed
    pipeline.swap_index(pipeline.index, catalog)  # the retriever now encodes through `timed`
    generator._run = recording_run
    per_stage: dict[str, list[float]] = {s: [] for s in (*STAGES, "total")}
    tokens, per_token = [], []
    try:
        pipeline.ask(questions[0])  # warm-up
        for question in questions:
            timed.seconds, calls[:] = 0.0, []
            start = time.perf_counter()
            answer = pipeline.ask(question)
            wall = time.perf_counter() - start
            t = answer.timings
            prefill = 0.0
            for rows, prefix, config, stop, _ in calls:  # the same rows again, for one new token
                one = copy.deepcopy(config)
                one.max_new_tokens = 1
                begin = time.perf_counter()
                run(rows, prefix, one, stop)
                prefill += time.perf_counter() - begin
            generate = t.get("generate_s", 0.0)
            new = sum(c[4] for c in calls)
            decode = max(generate - prefill, 0.0) if calls else 0.0
            plan = t.get("plan_s", 0.0)
            values = {"encode": timed.seconds, "plan": plan,
                      "search": max(t.get("retrieve_s", 0.0) - plan - timed.seconds, 0.0),
                      "prompt": t.get("prompt_s", 0.0), "prefill": min(prefill, generate) if calls else 0.0,
                      "decode": decode,
                      "post": max(wall - t.get("retrieve_s", 0.0) - t.get("prompt_s", 0.0) - generate, 0.0),
                      "total": wall}
            for stage, value in values.items():
                per_stage[stage].append(value)
            tokens.append(new)
            if new > len(calls):
                per_token.append(decode / (new - len(calls)))
    finally:
        generator.__dict__.pop("_run", None)
        pipeline.embedder = embedder
        pipeline.swap_index(pipeline.index, catalog)
    out = {stage: stats(values, scale=1000, digits=2) for stage, values in per_stage.items()}
    out["unit"] = "ms"
    out["runtime"] = getattr(generator, "runtime", "torch")
    out["embedder_backend"] = getattr(embedder, "backend", None)
    out["new_tokens"] = stats(tokens, digits=1)
    out["decode_ms_per_token"] = stats(per_token, scale=1000, digits=2) if per_token else None
    total = sum(out[s]["mean"] for s in STAGES) or 1.0
    out["share_of_mean"] = {s: round(out[s]["mean"] / total, 3) for s in STAGES}
    return out
