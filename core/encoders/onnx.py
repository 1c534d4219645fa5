"""A SentenceTransformer whose transformer runs on ONNX Runtime (embedder_backend "onnx" / "onnx-int8").

The model's transformer is exported once with torch.onnx into `<cache_dir>/onnx/<embedder fingerprint>/`
(model.onnx, and model_int8.onnx for the int8 backend), written in a staging folder and swapped in atomically.
`encode` keeps SentenceTransformer.encode's contract for the options this project uses (batch_size,
normalize_embeddings, convert_to_numpy / convert_to_tensor, show_progress_bar): the SentenceTransformer tokenizes,
ONNX Runtime computes the token embeddings, and the model's own pooling and normalisation modules finish.
Everything else (tokenizer, max_seq_length, get_sentence_embedding_dimension, ...) is the wrapped model's.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from core.encoders import EmbedderBackend, require
from core.errors import ModelUnavailable
from core.fileio import replace_dir, staging_dir
from core.memory import release_memory

_FILES = {EmbedderBackend.ONNX: "model.onnx", EmbedderBackend.ONNX_INT8: "model_int8.onnx"}


class OnnxEmbedder:
    """SentenceTransformer.encode on ONNX Runtime.

    Args:
        model: a SentenceTransformer of its own (tokenizer, pooling and normalisation; export source). Its
            transformer's weights are released once the session is up: never share it with a torch embedder.
        folder: its export folder (`<cache_dir>/onnx/<fingerprint>`), filled on first use.
        backend: EmbedderBackend.ONNX or ONNX_INT8.
        threads: ONNX Runtime intra-op threads (0: torch's thread count).
    """

    def __init__(self, model, folder: str | Path, backend: EmbedderBackend, threads: int = 0) -> None:
        ort = require("onnxruntime", f"the {backend} embedder backend")
        import torch  # deferred: heavy

        self.model, self.backend = model, str(backend)
        path = export(model, Path(folder), backend)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.tail = list(model)[1:]  # pooling, normalisation, ...: the modules after the transformer
        _drop_transformer_weights(model)  # ONNX Runtime holds its own copy: ~90 MB less RSS for MiniLM

    def __getattr__(self, name: str):
        return getattr(self.__dict__["model"], name)

    def __getitem__(self, i):  # the SentenceTransformer's modules, as model[0]
        return self.model[i]

    def __iter__(self):
        return iter(self.model)

    def __len__(self) -> int:
        return len(self.model)

    def encode(self, sentences, batch_size: int = 32, show_progress_bar: bool | None = None,
               convert_to_numpy: bool = True, convert_to_tensor: bool = False, normalize_embeddings: bool = False,
               **_unused):
        import torch  # deferred: heavy

        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths share a batch: less padding
        vectors: list[torch.Tensor | None] = [None] * len(texts)
        starts = range(0, len(texts), max(1, batch_size))
        if show_progress_bar:
            from tqdm.auto import tqdm  # deferred: only with a bar

            starts = tqdm(starts, desc="Batches")
        for start in starts:
            rows = order[start:start + batch_size]
            features = self.model.preprocess([texts[i] for i in rows])
            hidden = self.session.run(None, {n: features[n].numpy().astype(np.int64) for n in self.inputs})[0]
            out = {"token_embeddings": torch.from_numpy(hidden), "attention_mask": features["attention_mask"]}
            with torch.inference_mode():
                for module in self.tail:
                    out = module(out)
            embedding = out["sentence_embedding"].float()
            if normalize_embeddings:
                embedding = torch.nn.functional.normalize(embedding, p=2, dim=1)
            for i, vector in zip(rows, embedding):
                vectors[i] = vector
        stacked = torch.stack(vectors) if vectors else torch.empty(0, self.model.get_sentence_embedding_dimension())
        if convert_to_tensor:
            return stacked[0] if single else stacked
        result = stacked.numpy() if convert_to_numpy else list(stacked)
        return result[0] if single else result


def _drop_transformer_weights(model) -> None:
    """Empty the transformer's parameters (the module tree, config and tokenizer stay: attribute lookups work)."""
    import torch  # deferred: heavy

    for param in model[0].parameters():
        param.data = torch.empty(0, dtype=param.dtype)


def export(model, folder: Path, backend: EmbedderBackend) -> Path:
    """The backend's ONNX file in `folder`, exported (and for int8 quantized) on first use."""
    path = folder / _FILES[backend]
    if path.exists():
        return path
    require("onnx", f"exporting the embedder for the {backend} backend")
    with staging_dir(folder) as tmp:
        if (folder / _FILES[EmbedderBackend.ONNX]).exists():  # the int8 file joins an existing float export
            for file in folder.iterdir():
                (tmp / file.name).write_bytes(file.read_bytes())
        else:
            _export_float(model, tmp / _FILES[EmbedderBackend.ONNX])
        if backend is EmbedderBackend.ONNX_INT8:
            from onnxruntime.quantization import QuantType, quantize_dynamic  # deferred: only for int8

            quantize_dynamic(str(tmp / _FILES[EmbedderBackend.ONNX]), str(tmp / path.name),
                             weight_type=QuantType.QInt8)
        replace_dir(tmp, folder, keep_existing=False)
    release_memory()  # the exporter's traced graph and buffers would stay in RSS
    return path


def _export_float(model, path: Path) -> None:
    """torch.onnx export of the SentenceTransformer's transformer: token ids in, last hidden state out."""
    import torch  # deferred: heavy

    transformer = model[0]
    hf = getattr(transformer, "auto_model", None) or getattr(transformer, "model", None)
    if hf is None:
        raise ModelUnavailable(f"cannot export the embedder to ONNX: its first module is {type(transformer).__name__}")
    sample = model.preprocess(["who directed the movie Jaws?", "a second, longer sentence about films"])
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class Body(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *inputs):
            return self.inner(**dict(zip(names, inputs))).last_hidden_state

    axes = {n: {0: "batch", 1: "tokens"} for n in (*names, "hidden")}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(Body(hf.eval()), tuple(sample[n] for n in names), str(path), input_names=names,
                          output_names=["hidden"], dynamic_axes=axes, opset_version=17, dynamo=False)
