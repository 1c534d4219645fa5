"""Each speed lever measured alone against the default settings: RAG answer latency and hits@1 on the same
questions, one Pipeline per variant over the same index and embedder, asked in turn per question.

torch.inference_mode is not a lever here: rag.generate always runs under it. The ONNX embedder lever is in
benchmarks/onnx_encoder.py.
"""
from __future__ import annotations

import gc
import os
import time
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from benchmarks.common import hits_at_1, stats, torch_threads
from core.config import Settings, field_owners
from core.models import load_generator
from rag.pipeline import Pipeline


@dataclass
class Lever:
    name: str
    what: str
    settings: dict = field(default_factory=dict)  # Settings overrides
    generate: dict = field(default_factory=dict)  # generation overrides passed to ask()
    threads: int = 0  # torch intra-op threads while measured (0 = unchanged, -1 = 1 if the run uses more, else all)
    fresh_model: bool = False  # the lever changes weights (dtype, int8): load a fresh copy


LEVERS = [
    Lever("baseline", "default settings"),
    Lever("threads", "the other torch thread count: 1 when the run uses all cores, else all cores", threads=-1),
    Lever("no_prefix_cache", "prefill the system prompt and examples on every question", {"prefix_cache": False}),
    Lever("no_examples", "no demonstration turns in the chat prompt", {"prompt_examples": 0}),
    Lever("short_context", "max_passage_tokens 60 and k 3 (shorter contexts)", {"max_passage_tokens": 60, "k": 3}),
    Lever("no_newline_stop", "generate up to max_new_tokens instead of stopping at the answer's newline",
          generate={"stop": ()}),
    Lever("no_lazy_dense", "encode + FAISS search even when the question names a film or person",
          {"lazy_dense": False}),
    Lever("full_linked_context", "all k passages in the prompt when a title links (not just 2)", {"linked_context": 0}),
    Lever("int8", "dynamic int8 quantisation of the decoder's Linear layers", {"quantize_int8": True},
          fresh_model=True),
    Lever("bfloat16", "generator weights in bfloat16", {"generator_dtype": "bfloat16"}, fresh_model=True),
]


class _WithOverrides:
    """A Pipeline whose ask() always passes the lever's generation overrides."""

    def __init__(self, pipeline: Pipeline, overrides: dict) -> None:
        self.pipeline, self.overrides = pipeline, overrides

    def ask(self, question: str, **kwargs):
        return self.pipeline.ask(question, **{**self.overrides, **kwargs})

    def __getattr__(self, name):
        return getattr(self.pipeline, name)


def _valid(lever: Lever, settings: Settings) -> bool:
    return set(lever.settings) <= set(field_owners())


def _pipeline(lever: Lever, index, embedder, model, tokenizer, settings: Settings):
    s = settings.with_overrides(**lever.settings)
    if lever.fresh_model:
        model, tokenizer, _ = load_generator(s)
    return _WithOverrides(Pipeline(index, embedder, model, tokenizer, s), lever.generate)


def run_interleaved(pipelines: dict, levers: dict[str, Lever], questions: list, progress: bool = False) -> dict:
    """Each question asked of every pipeline in turn (after one warm-up ask each), so a burst of load from
    other processes hits all variants alike. Returns name → (answers, wall seconds)."""
    for name, pipeline in pipelines.items():
        with torch_threads(levers[name].threads):
            pipeline.ask(questions[0].question)
    out = {name: ([], []) for name in pipelines}
    for q in tqdm(questions, desc="levers", unit="q", disable=not progress):
        for name, pipeline in pipelines.items():
            with torch_threads(levers[name].threads):
                start = time.perf_counter()
                answer = pipeline.ask(q.question)
                out[name][1].append(time.perf_counter() - start)
            out[name][0].append(answer)
    return out


def _summary(lever: Lever, answers: list, walls: list[float], questions: list, baseline_walls: list[float]) -> dict:
    base = stats(baseline_walls)["p50"]
    mine = stats(walls)
    return {"what": lever.what, "answer": mine,
            "generate_s": stats([a.timings.get("generate_s", 0.0) for a in answers]),
            "hits_at_1": hits_at_1(answers, questions), "abstained": sum(a.abstained for a in answers),
            "paired_baseline_p50": base,
            "speedup_vs_baseline": round(base / mine["p50"], 3) if base and mine["p50"] else None}


def bench_levers(index, embedder, model, tokenizer, settings: Settings, questions: list, names: list[str] | None = None,
                 progress: bool = False) -> dict:
    """{lever name: result}. Levers that share the loaded model run interleaved with the baseline in one pass;
    each lever that needs its own weights (int8, bfloat16) runs interleaved with the baseline in a pass of its
    own, its copy freed afterwards. speedup_vs_baseline > 1 means faster than the paired baseline."""
    chosen = {}
    for lever in LEVERS:
        if (names is None or lever.name in names or lever.name == "baseline") and _valid(lever, settings):
            if lever.threads == -1:  # resolve "the other thread count" against this run's
                n = 1 if torch.get_num_threads() > 1 else (os.cpu_count() or 1)
                lever = Lever(f"threads_{n}", f"torch.set_num_threads({n}) instead of {torch.get_num_threads()}",
                              threads=n)
            chosen[lever.name] = lever
    results: dict = {"_questions": len(questions)}
    shared = [n for n, lever in chosen.items() if not lever.fresh_model]
    passes = [shared] + [["baseline", n] for n, lever in chosen.items() if lever.fresh_model]
    for names_in_pass in passes:
        try:
            pipelines = {n: _pipeline(chosen[n], index, embedder, model, tokenizer, settings) for n in names_in_pass}
            timed = run_interleaved(pipelines, chosen, questions, progress)
        except Exception as exc:
            for n in names_in_pass:
                results.setdefault(n, {"what": chosen[n].what, "error": f"{type(exc).__name__}: {exc}"})
            continue
        for n, (answers, walls) in timed.items():
            if n != "baseline" or "baseline" not in results:
                results[n] = _summary(chosen[n], answers, walls, questions, timed["baseline"][1])
        del pipelines, timed
        gc.collect()
    return results
