"""Each speed lever measured alone against the default settings: RAG answer latency and hits@1 on the same
questions, one Pipeline per variant over the same index and embedder.

torch.inference_mode is not a lever here: rag.generate always runs under it. The ONNX embedder lever is in
benchmarks/onnx_encoder.py.
"""
from __future__ import annotations

import gc
from dataclasses import dataclass, field

from benchmarks.common import hits_at_1, torch_threads
from benchmarks.latency import bench_answers as latency_answers
from rag.config import Settings
from rag.pipeline import Pipeline


@dataclass
class Lever:
    name: str
    what: str
    settings: dict = field(default_factory=dict)  # Settings overrides
    generate: dict = field(default_factory=dict)  # generation overrides passed to ask()
    threads: int = 0  # torch intra-op threads while measured (0 = unchanged)
    fresh_model: bool = False  # the lever changes weights (dtype, int8): load a fresh copy


LEVERS = [
    Lever("baseline", "default settings"),
    Lever("threads_1", "torch.set_num_threads(1) instead of all cores", threads=1),
    Lever("no_prefix_cache", "prefill the system prompt and examples on every question", {"prefix_cache": False}),
    Lever("no_examples", "no demonstration turns in the chat prompt", {"prompt_examples": 0}),
    Lever("short_context", "max_passage_tokens 60 and k 3 (shorter contexts)", {"max_passage_tokens": 60, "k": 3}),
    Lever("no_newline_stop", "generate up to max_new_tokens instead of stopping at the answer's newline",
          generate={"stop_at_newline": False}),
    Lever("int8", "dynamic int8 quantisation of the decoder's Linear layers", {"quantize_int8": True}, fresh_model=True),
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
    return all(hasattr(settings, k) for k in lever.settings)


def bench_lever(lever: Lever, index, embedder, model, tokenizer, settings: Settings, questions: list,
                progress: bool = False) -> dict:
    from rag.models import load_generator

    s = settings.with_overrides(**lever.settings)
    if lever.fresh_model:
        model, tokenizer, _ = load_generator(s)
    with torch_threads(lever.threads):
        pipeline = _WithOverrides(Pipeline(index, embedder, model, tokenizer, s), lever.generate)
        timed, rows = latency_answers(pipeline, [q.question for q in questions], stream=False)  # warms up first
    out = {"what": lever.what, "answer": timed["answer_s"], "generate_s": timed["generate_s"],
           "new_tokens": timed["new_tokens"], "hits_at_1": hits_at_1([r["answer"] for r in rows], questions),
           "abstained": timed["abstained"]}
    del pipeline
    if lever.fresh_model:
        del model
        gc.collect()
    return out


def bench_levers(index, embedder, model, tokenizer, settings: Settings, questions: list, names: list[str] | None = None,
                 progress: bool = False) -> dict:
    """{lever name: result} plus each lever's p50 relative to the baseline (speedup > 1 = faster)."""
    from tqdm.auto import tqdm

    chosen = [l for l in LEVERS if (names is None or l.name in names or l.name == "baseline") and _valid(l, settings)]
    results = {}
    for lever in tqdm(chosen, desc="levers", unit="lever", disable=not progress):
        try:
            results[lever.name] = bench_lever(lever, index, embedder, model, tokenizer, settings, questions, progress)
        except Exception as exc:  # noqa: BLE001 - one failing lever must not sink the run
            results[lever.name] = {"what": lever.what, "error": f"{type(exc).__name__}: {exc}"}
    base = results.get("baseline", {}).get("answer", {}).get("p50")
    for name, r in results.items():
        p50 = r.get("answer", {}).get("p50")
        r["speedup_vs_baseline"] = round(base / p50, 3) if base and p50 else None
    results["_questions"] = len(questions)
    return results

