"""Embedder backends: the same sentence-transformers model run by torch or by ONNX Runtime.

`settings.models.embedder_backend` picks one (core.models.load_embedder applies it):
- "torch": the SentenceTransformer as loaded;
- "onnx" (default): its transformer exported once to ONNX (cached under settings.models.cache_dir) and run by ONNX
  Runtime; tokenization, pooling and normalisation stay the SentenceTransformer's own modules;
- "onnx-int8": the same export with dynamically quantized int8 weights.

sentence-transformers' own backend="onnx"/"openvino" needs optimum, whose releases pin transformers below the 5.x
this project uses, so the export here is torch.onnx on the model's transformer (core.encoders.onnx).

An index records the backend that embedded it (manifest "embedder_backend"); another backend's vectors are
accepted only when they agree with its own on a sample of passages (`vectors_agree`, cosine >= AGREEMENT).
"""
from __future__ import annotations

import enum

import numpy as np

from core import optional
from core.errors import ModelUnavailable

PACKAGES = {"onnxruntime": "onnxruntime==1.31.1", "onnx": "onnx==1.23.2"}  # as pinned in requirements.txt
AGREEMENT = 0.999  # least cosine between two backends' vectors of the same passage for one to accept the other's
CHECK_SAMPLE = 8  # passages re-embedded to check an index built by another backend


class EmbedderBackend(enum.StrEnum):
    """settings.models.embedder_backend values."""

    TORCH = "torch"
    ONNX = "onnx"
    ONNX_INT8 = "onnx-int8"


def require(module: str, purpose: str):
    """Import an optional package, or ModelUnavailable naming the pip command and the torch fallback."""
    return optional.require(module, purpose, PACKAGES.get(module, module), "--embedder-backend torch")


def parse_backend(value: str) -> EmbedderBackend:
    try:
        return EmbedderBackend(value)
    except ValueError:
        raise ModelUnavailable(f"embedder_backend must be one of {', '.join(EmbedderBackend)}, not {value!r}") from None


def backend_of(embedder) -> str | None:
    """The backend an embedder object runs on ("torch" for a plain SentenceTransformer); None when it does not say
    (a test double), so no cross-backend check applies to it."""
    backend = getattr(embedder, "backend", None)
    return backend if isinstance(backend, str) else None


def vectors_agree(embedder, texts: list[str], stored: np.ndarray) -> float:
    """The least cosine between `embedder`'s vectors of `texts` and the `stored` ones (rows in the same order)."""
    fresh = np.asarray(embedder.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True,
                                       show_progress_bar=False), dtype=np.float32)
    stored = np.asarray(stored, dtype=np.float32)
    norms = np.linalg.norm(stored, axis=1) * np.linalg.norm(fresh, axis=1)
    return float(np.min((stored * fresh).sum(1) / np.clip(norms, 1e-12, None)))
