"""Serving runtimes of the generator: which engine runs `rag.generate.Generator`'s decoding.

`settings.decoding.generator_runtime` picks one (`--generator-runtime`):
- "torch": eager PyTorch (rag.generate.Generator itself); the training path and the fallback.
- "ctranslate2": CTranslate2 on CPU (rag.runtimes.ct2), the model converted once into the cache (int8 weights by
  default, `settings.decoding.ct2_compute_type`); same interface, options, stop strings, streaming and prefix cache.
- "auto" (default): CTranslate2 for Llama-family models (the shipped SmolLM2 and its adapters, whose accuracy
  was checked on the dev sample), torch for any other architecture and whenever a torch lever is set
  (generator_dtype bfloat16, quantize_int8).

Each backend imports its package only when chosen; a missing package is a one-line ModelUnavailable that says
what to install (`require`).
"""
from __future__ import annotations

import enum

from core import optional
from core.errors import ConfigError

# What `pip install` brings each optional runtime package (the versions pinned in requirements.txt).
PACKAGES = {"ctranslate2": "ctranslate2==4.8.5"}
AUTO_CTRANSLATE2 = {"LlamaForCausalLM"}  # architectures "auto" serves with CTranslate2 (accuracy checked on dev)


class Runtime(enum.StrEnum):
    """settings.decoding.generator_runtime values."""

    AUTO = "auto"
    TORCH = "torch"
    CTRANSLATE2 = "ctranslate2"


def require(module: str, purpose: str):
    """Import an optional runtime package, or ModelUnavailable naming the pip command and the torch fallback."""
    return optional.require(module, purpose, PACKAGES.get(module, module), "--generator-runtime torch")


def base_architecture(model) -> str:
    """The model class behind any PEFT wrapper (a plot adapter's view is a PeftModel over a LlamaForCausalLM)."""
    get_base = getattr(model, "get_base_model", None)
    return type(get_base() if callable(get_base) else model).__name__


def resolve_runtime(model, settings) -> Runtime:
    """The runtime `settings.decoding.generator_runtime` means for this model ("auto" resolved).

    Raises:
        ConfigError: an unknown runtime name.
    """
    value = settings.decoding.generator_runtime
    try:
        runtime = Runtime(value)
    except ValueError:
        raise ConfigError(f"generator_runtime must be one of {', '.join(Runtime)}, not {value!r}") from None
    if runtime is Runtime.AUTO:
        torch_levers = settings.decoding.quantize_int8 or settings.decoding.generator_dtype != "float32"
        ct2 = base_architecture(model) in AUTO_CTRANSLATE2 and not torch_levers
        return Runtime.CTRANSLATE2 if ct2 else Runtime.TORCH
    return runtime


def generator_class(model, settings) -> type:
    """The Generator class that serves `model` under settings.decoding.generator_runtime (rag.generate's hook)."""
    from rag.generate import Generator  # deferred: rag.generate asks this module for its class

    if model is None or resolve_runtime(model, settings) is Runtime.TORCH:
        return Generator
    if settings.decoding.batch_window_ms > 0:
        from rag.runtimes.ct2_batched import BatchedCTranslate2Generator  # deferred: imports ctranslate2

        return BatchedCTranslate2Generator
    from rag.runtimes.ct2 import CTranslate2Generator  # deferred: imports ctranslate2

    return CTranslate2Generator
