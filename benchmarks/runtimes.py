"""Generator runtimes side by side on the same model and the same real RAG prompts, and the physical floor.

Engines (each decoding greedily, forced to n new tokens so every engine does the same work):
- torch: the eager fp32 model (`model.generate`), today's path and the training path;
- ctranslate2 <type>: the model converted by rag.runtimes.convert, for each CPU weight type (int8_float32, int8,
  float32);
- onnxruntime-genai int8 / fp32: the model exported by onnxruntime-genai's model builder (optional: measured when
  `onnxruntime-genai` and `onnx-ir` are installed; not in requirements.txt, as it is not the adopted runtime).

Per engine: prefill ms (one new token), decode ms per token ((time for 17 tokens - time for 1) / 16), and greedy
agreement with torch (first token, all 17 tokens). The memory bandwidth is measured here too, and with the model's
weight bytes gives the floor per token a bandwidth-bound decoder cannot beat: bytes read per token / bandwidth.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import stats
from rag.runtimes.convert import CT2_QUANTIZATIONS, ct2_model_dir, weights_fingerprint

DECODE_TOKENS = 17  # forced new tokens for the decode rate (the prefill's one + 16)


def memory_bandwidth(megabytes: int = 512, repeats: int = 5) -> dict:
    """Best-of-`repeats` read bandwidth (a sum over a tensor far larger than the caches, all torch threads) and
    copy bandwidth (read + write), in GB/s."""
    data = torch.ones(megabytes * 2 ** 20 // 4)
    out = torch.empty_like(data)
    data.sum()
    reads, copies = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        data.sum()
        reads.append(time.perf_counter() - start)
        start = time.perf_counter()
        out.copy_(data)
        copies.append(time.perf_counter() - start)
    size = data.numel() * 4
    return {"megabytes": megabytes, "threads": torch.get_num_threads(),
            "read_gb_s": round(size / min(reads) / 1e9, 2), "copy_gb_s": round(2 * size / min(copies) / 1e9, 2)}


def weight_floor(model, bandwidth_gb_s: float) -> dict:
    """Weight bytes a decoder reads per token (every parameter once; a tied embedding is the output head) and the
    ms per token that costs at the measured bandwidth, for fp32 and int8 weights."""
    params = sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())
    floor = lambda nbytes: round(nbytes / (bandwidth_gb_s * 1e9) * 1000, 4)
    return {"parameters": params, "fp32_mb_per_token": round(params * 4 / 1e6, 1),
            "int8_mb_per_token": round(params / 1e6, 1), "fp32_floor_ms_per_token": floor(params * 4),
            "int8_floor_ms_per_token": floor(params)}


def _torch_engine(model):
    def run(ids: list[int], n: int) -> list[int]:
        with torch.inference_mode():
            out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                 max_new_tokens=n, min_new_tokens=n, do_sample=False, pad_token_id=0)
        return out[0, len(ids):].tolist()
    return run


def _ct2_engine(model, tokenizer, cache_dir: str, compute: str, threads: int):
    import ctranslate2  # deferred: optional

    folder = ct2_model_dir(model, tokenizer, cache_dir, compute)
    engine = ctranslate2.Generator(str(folder), device="cpu", compute_type=compute, intra_threads=threads)

    def run(ids: list[int], n: int) -> list[int]:
        result = engine.generate_batch([tokenizer.convert_ids_to_tokens(ids)], max_length=n, min_length=n,
                                       sampling_topk=1, include_prompt_in_result=False)
        return result[0].sequences_ids[0]
    return run


def _genai_engine(model, tokenizer, cache_dir: str, precision: str):
    """onnxruntime-genai over the model builder's export (cached by weight fingerprint)."""
    import onnxruntime_genai as og  # deferred: optional

    root = Path(cache_dir) / "onnxruntime-genai" / weights_fingerprint(model)
    out = root / precision
    if not (out / "genai_config.json").exists():
        source = root / "hf"
        if not (source / "config.json").exists():
            model.save_pretrained(source)
            tokenizer.save_pretrained(source)
        config = json.loads((source / "config.json").read_text())
        if "quantization_config" in config and not config["quantization_config"]:
            del config["quantization_config"]  # transformers 5 writes null; the builder reads it when present
            (source / "config.json").write_text(json.dumps(config, indent=2))
        done = subprocess.run([sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(source), "-o",
                               str(out), "-p", precision, "-e", "cpu", "-c", str(root / "builder-cache")],
                              capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"model builder failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    genai = og.Model(str(out))

    def run(ids: list[int], n: int) -> list[int]:
        params = og.GeneratorParams(genai)
        params.set_search_options(max_length=len(ids) + n, min_length=len(ids) + n, do_sample=False)
        generator = og.Generator(genai, params)
        generator.append_tokens([ids])
        tokens: list[int] = []
        while not generator.is_done() and len(tokens) < n:
            generator.generate_next_token()
            tokens.append(int(generator.get_next_tokens()[0]))
        return tokens
    return run


def engines(model, tokenizer, cache_dir: str, threads: int, genai: bool = True) -> dict:
    """name → run(ids, n) or an error string, for every engine this machine can run (`genai`: try
    onnxruntime-genai too)."""
    out: dict = {"torch": _torch_engine(model)}
    for compute in CT2_QUANTIZATIONS:
        try:
            out[f"ctranslate2 {compute}"] = _ct2_engine(model, tokenizer, cache_dir, compute, threads)
        except Exception as exc:
            out[f"ctranslate2 {compute}"] = f"{type(exc).__name__}: {str(exc).strip()[:200]}"
    missing = [m for m in ("onnxruntime_genai", "onnx_ir") if importlib.util.find_spec(m) is None]
    for precision in ("int8", "fp32") if genai else ():
        name = f"onnxruntime-genai {precision}"
        if missing:
            out[name] = "not installed: pip install onnxruntime-genai==0.18.0 onnx-ir==1.1.0 to measure it"
            continue
        try:
            out[name] = _genai_engine(model, tokenizer, cache_dir, precision)
        except Exception as exc:
            out[name] = f"{type(exc).__name__}: {str(exc).strip()[:200]}"
    return out


def bench_runtimes(model, tokenizer, prompts: list[str], cache_dir: str, threads: int = 0, genai: bool = True) -> dict:
    """Every engine on the same prompts (interleaved per prompt): prefill, decode per token, agreement with torch."""
    threads = threads or torch.get_num_threads()
    rows = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    bandwidth = memory_bandwidth()
    result: dict = {"prompts": len(rows), "prompt_tokens": stats([len(r) for r in rows], digits=1),
                    "memory_bandwidth": bandwidth,
                    "floor": weight_floor(model, max(bandwidth["read_gb_s"], 1e-6)), "engines": {}}
    runs = engines(model, tokenizer, cache_dir, threads, genai)
    ready = {name: run for name, run in runs.items() if callable(run)}
    times = {name: {"prefill": [], "decode": []} for name in ready}
    outputs: dict[str, list[list[int]]] = {name: [] for name in ready}
    for run in ready.values():
        run(rows[0], 2)  # warm-up
    for ids in rows:
        for name, run in ready.items():
            start = time.perf_counter()
            run(ids, 1)
            one = time.perf_counter() - start
            start = time.perf_counter()
            tokens = run(ids, DECODE_TOKENS)
            many = time.perf_counter() - start
            times[name]["prefill"].append(one)
            times[name]["decode"].append(max(many - one, 0.0) / (DECODE_TOKENS - 1))
            outputs[name].append(tokens)
    reference = outputs.get("torch", [])
    for name in runs:
        if name not in ready:
            result["engines"][name] = {"error": runs[name]}
            continue
        same = [a == b for a, b in zip(outputs[name], reference)]
        first = [a[:1] == b[:1] for a, b in zip(outputs[name], reference)]
        result["engines"][name] = {
            "prefill_ms": stats(times[name]["prefill"], scale=1000, digits=1),
            "decode_ms_per_token": stats(times[name]["decode"], scale=1000, digits=2),
            "same_first_token_as_torch": round(float(np.mean(first)), 3),
            f"same_{DECODE_TOKENS}_tokens_as_torch": round(float(np.mean(same)), 3)}
    torch_decode = result["engines"].get("torch", {}).get("decode_ms_per_token", {}).get("p50")
    for entry in result["engines"].values():
        decode = entry.get("decode_ms_per_token", {}).get("p50")
        if decode and torch_decode:
            entry["decode_speedup_vs_torch"] = round(torch_decode / decode, 2)
    return result
