"""The ONNX lever for the embedder: query-encode latency and passage throughput, torch vs ONNX Runtime.

sentence-transformers' own backend="onnx" needs `optimum-onnx`, whose releases pin transformers < 4.58
(installing it would downgrade transformers 5.x), so it is tried and its error reported. As a measurable
stand-in, the bundled MiniLM's transformer is exported here with torch.onnx (needs the `onnx` package) and run
with onnxruntime, with the same mean pooling and normalisation as the SentenceTransformer.
"""
from __future__ import annotations

import importlib.util
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks.common import stats
from core.models import bundled_embedder_dir

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxEncoder:
    """encode(texts) like SentenceTransformer.encode(normalize_embeddings=True) for a mean-pooling BERT embedder."""

    def __init__(self, st_model, folder: str | Path, threads: int = 0) -> None:
        import onnxruntime as ort  # deferred: heavy and optional (bench_onnx checks for it first)
        import torch  # deferred: heavy

        self.tokenizer, self.max_len = st_model.tokenizer, st_model.max_seq_length
        path = Path(folder) / "model.onnx"
        if not path.exists():
            self._export(st_model, path, torch)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]

    def _export(self, st_model, path: Path, torch) -> None:
        hf = st_model[0].auto_model.eval()

        class Body(torch.nn.Module):
            def __init__(self, model):
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.model(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state

        sample = self.tokenizer(["who directed the movie Jaws?"], return_tensors="pt")
        axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "hidden")}
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(Body(hf), tuple(sample[n] for n in _INPUTS), str(path), input_names=list(_INPUTS),
                              output_names=["hidden"], dynamic_axes=axes, opset_version=17, dynamo=False)

    def encode(self, texts, batch_size: int = 64, **_ignored) -> np.ndarray:
        texts = [texts] if isinstance(texts, str) else list(texts)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), 0), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            idx = order[start:start + batch_size]
            enc = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=self.max_len,
                                 return_tensors="np")
            hidden = self.session.run(None, {n: enc[n].astype(np.int64) for n in self.inputs})[0]
            mask = enc["attention_mask"][..., None].astype(np.float32)
            vec = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
            vec /= np.clip(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12, None)
            if out.shape[1] == 0:
                out = np.empty((len(texts), vec.shape[1]), dtype=np.float32)
            out[idx] = vec
        return out


def try_st_backend(model_dir: str) -> str:
    """What happens with sentence-transformers' own ONNX backend on the bundled folder (offline)."""
    from sentence_transformers import SentenceTransformer  # deferred: heavy

    try:
        SentenceTransformer(model_dir, device="cpu", backend="onnx")
        return "ok"
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:240]}"


def bench_onnx(embedder, queries: list[str], passages: list[str], batch_size: int = 64) -> dict:
    """Query latency (one per call) and passage throughput, torch vs ONNX Runtime; vectors compared."""
    folder = bundled_embedder_dir()
    result: dict = {"st_backend_onnx": try_st_backend(str(folder)) if folder else "no bundled embedder folder"}
    missing = [m for m in ("onnx", "onnxruntime") if importlib.util.find_spec(m) is None]  # onnx: for the export
    if missing:
        result["error"] = f"{' and '.join(missing)} not installed; pip install onnxruntime onnx to measure this lever"
        return result
    import onnxruntime  # deferred: optional, checked just above
    with tempfile.TemporaryDirectory(prefix="onnx-minilm-") as tmp:
        start = time.perf_counter()
        onnx_enc = OnnxEncoder(embedder, tmp)
        result.update({"onnxruntime": onnxruntime.__version__, "export_s": round(time.perf_counter() - start, 2)})
        torch_q = lambda q: embedder.encode([q], normalize_embeddings=True, convert_to_numpy=True,
                                            show_progress_bar=False)
        times = {"torch": [], "onnx": []}
        for fn in (torch_q, onnx_enc.encode):
            fn(queries[0])
        for q in queries:  # interleaved so load from other processes hits both alike
            for name, fn in (("torch", torch_q), ("onnx", onnx_enc.encode)):
                t = time.perf_counter()
                fn(q)
                times[name].append(time.perf_counter() - t)
        result["query_encode_ms"] = {name: stats(t, scale=1000, digits=2) for name, t in times.items()}
        t = time.perf_counter()
        ref = embedder.encode(passages, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                              show_progress_bar=False)
        torch_s = time.perf_counter() - t
        t = time.perf_counter()
        got = onnx_enc.encode(passages, batch_size=batch_size)
        onnx_s = time.perf_counter() - t
    result.update({
        "passages": len(passages), "passages_per_s": {"torch": round(len(passages) / torch_s, 1),
                                                     "onnx": round(len(passages) / onnx_s, 1)},
        "max_abs_vector_diff": float(np.abs(ref - got).max()),
        "query_speedup": round(result["query_encode_ms"]["torch"]["p50"] / result["query_encode_ms"]["onnx"]["p50"], 2),
        "passage_speedup": round(torch_s / onnx_s, 2)})
    return result
