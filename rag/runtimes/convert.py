"""Offline conversion of a loaded generator into a runtime's own format, cached like the GGUF conversion.

The cache key is a fingerprint of the weights the model holds (sha256 over every tensor, so a merged LoRA
adapter, a plot adapter's view or a retrained model each get their own folder), the quantization and the
converter's version: `<cache_dir>/ctranslate2/<fingerprint>-<quantization>/`. A folder is written in a staging
folder and swapped in atomically; a concurrent converter that finished first wins.
"""
from __future__ import annotations

import copy
import hashlib
import time
from pathlib import Path

from core.errors import ModelUnavailable
from core.fileio import replace_dir, staging_dir
from core.memory import release_memory
from rag.runtimes import require

CT2_QUANTIZATIONS = ("int8_float32", "int8", "float32")  # CPU weight types this project offers (ct2_compute_type)


def weights_fingerprint(model) -> str:
    """sha256 (16 hex digits) of the model's class, config and every tensor's name, shape, dtype and bytes.

    About 0.3 s for the 135M-parameter SmolLM2 on one core; tied tensors are hashed once.
    """
    import torch  # deferred: heavy

    digest = hashlib.sha256(type(model).__name__.encode())
    config = getattr(model, "config", None)
    digest.update((config.to_json_string(use_diff=False) if config is not None else "").encode())
    seen: set[int] = set()
    with torch.no_grad():
        for name, tensor in sorted(model.state_dict().items()):
            digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
            if tensor.data_ptr() in seen or tensor.numel() == 0:
                continue
            seen.add(tensor.data_ptr())
            digest.update(memoryview(tensor.detach().contiguous().reshape(-1).view(torch.uint8).numpy()))
    return digest.hexdigest()[:16]


def _plain_copy(model):
    """A converter-ready copy of the model: a PEFT wrapper is merged into a full model (the loaded model is left
    unchanged; the converter takes its modules apart while it reads them)."""
    duplicate = copy.deepcopy(model)
    if callable(getattr(duplicate, "merge_and_unload", None)):
        duplicate = duplicate.merge_and_unload()
    return duplicate.float().eval()


def ct2_model_dir(model, tokenizer, cache_dir: str | Path, quantization: str, progress: bool = False) -> Path:
    """The CTranslate2 folder of `model`, converted on first use (a few seconds for SmolLM2-135M).

    Args:
        model: a loaded Hugging Face causal LM (or a PEFT model over one), left unchanged.
        tokenizer: its tokenizer (the vocabulary the converted model stores).
        cache_dir: settings.models.cache_dir.
        quantization: one of CT2_QUANTIZATIONS (the weights' storage type).
        progress: say on stderr when a conversion starts and how long it took.

    Raises:
        ModelUnavailable: ctranslate2 is missing, or it cannot convert this architecture (one line).
    """
    ctranslate2 = require("ctranslate2", "the ctranslate2 generator runtime")
    if quantization not in CT2_QUANTIZATIONS:
        raise ModelUnavailable(f"ct2_compute_type must be one of {', '.join(CT2_QUANTIZATIONS)}, not {quantization!r}")
    key = f"{weights_fingerprint(model)}-{quantization}-ct2_{ctranslate2.__version__}"
    target = Path(cache_dir) / "ctranslate2" / key
    if (target / "model.bin").exists():
        return target
    from ctranslate2.converters.transformers import _MODEL_LOADERS  # deferred: imports transformers

    config_name = type(getattr(_base(model), "config", None)).__name__
    loader = _MODEL_LOADERS.get(config_name)
    if loader is None:
        raise ModelUnavailable(f"CTranslate2 cannot convert a {config_name} model; use --generator-runtime torch")
    start = time.perf_counter()
    if progress:
        import sys

        print(f"converting the generator for CTranslate2 ({quantization}) into {target} ...", file=sys.stderr,
              flush=True)
    with staging_dir(target) as tmp:
        try:
            spec = loader(_plain_copy(model), tokenizer)
            spec.validate()
            spec.optimize(quantization=quantization)
            spec.save(str(tmp))
        except Exception as exc:
            raise ModelUnavailable(f"cannot convert the generator for CTranslate2: "
                                   f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}; "
                                   f"use --generator-runtime torch") from exc
        replace_dir(tmp, target, keep_existing=True)  # another process may have finished first
    release_memory()  # the float copy and the converter's buffers would stay in RSS next to the engine
    if progress:
        import sys

        print(f"converted in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    return target


def _base(model):
    get_base = getattr(model, "get_base_model", None)
    return get_base() if callable(get_base) else model
