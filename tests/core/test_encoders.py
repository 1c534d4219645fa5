"""core.encoders: the ONNX Runtime embedder against the torch SentenceTransformer, the index manifest's backend and
the cross-backend acceptance check, and the one-line error when onnxruntime is missing."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from core.config import Settings
from core.encoders import AGREEMENT, backend_of, vectors_agree
from core.errors import IndexLoadError, ModelUnavailable
from core.models import load_embedder

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

TEXTS = ["Who directed Jaws?", "Inception (2010). Directed by Christopher Nolan. Starring Leonardo DiCaprio.",
         "what films are about sharks", "x"]


@pytest.fixture(scope="module")
def backends(tmp_path_factory):
    cache = str(tmp_path_factory.mktemp("encoder_cache"))
    base = Settings().with_overrides(cache_dir=cache, progress=False)
    return {name: load_embedder(base.with_overrides(embedder_backend=name)) for name in ("torch", "onnx", "onnx-int8")}


def test_onnx_vectors_match_torch_and_int8_is_close(backends):
    want = backends["torch"].encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    got = backends["onnx"].encode(TEXTS, batch_size=2, normalize_embeddings=True, convert_to_numpy=True)
    assert got.shape == want.shape and got.dtype == np.float32
    assert vectors_agree(backends["onnx"], TEXTS, want) >= 0.99999
    assert vectors_agree(backends["onnx-int8"], TEXTS, want) > 0.8  # int8 weights: close, not the same
    assert backends["onnx"].encode(TEXTS[0]).shape == (want.shape[1],)  # one string → one vector
    assert backends["onnx"].encode(TEXTS, convert_to_tensor=True).shape == want.shape
    assert backends["onnx"].get_sentence_embedding_dimension() == want.shape[1]
    assert [backend_of(e) for e in backends.values()] == ["torch", "onnx", "onnx-int8"]
    assert backend_of(object()) is None


def test_the_onnx_embedder_releases_its_own_torch_weights_only(backends):
    def weights(embedder) -> int:
        return sum(p.numel() for p in embedder[0].parameters())

    assert weights(backends["onnx"]) == 0 and weights(backends["torch"]) > 1_000_000
    want = backends["torch"].encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)  # still encodes on torch
    assert vectors_agree(backends["onnx"], TEXTS, want) >= 0.99999


def test_the_export_is_cached(tmp_path):
    import core.models

    settings = Settings().with_overrides(embedder_backend="onnx", cache_dir=str(tmp_path), progress=False)
    load_embedder(settings)
    files = list(tmp_path.glob("onnx/*/model.onnx"))
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    core.models._load_backend_embedder.cache_clear()
    assert load_embedder(settings).backend == "onnx" and files[0].stat().st_mtime_ns == stamp


def test_an_index_built_by_another_backend_is_checked(tmp_path, backends):
    from index.build import build_index
    from index.store import load_index, read_manifest

    settings = Settings().with_overrides(embedder_backend="torch", progress=False)
    catalog = tmp_path / "films.csv"
    catalog.write_text("title,year,director,plot\nJaws,1975,Steven Spielberg,A shark terrorises a beach town.\n"
                       "Alien,1979,Ridley Scott,A crew meets a deadly creature.\nHeat,1995,Michael Mann,A heist.\n")
    build_index([str(catalog)], tmp_path / "idx", settings, embedder=backends["torch"])
    assert read_manifest(tmp_path / "idx")["embedder_backend"] == "torch"
    assert len(load_index(tmp_path / "idx", settings, backends["onnx"])) > 0  # ONNX reproduces torch's vectors

    class Shifted:  # a backend whose vectors differ: refused with a one-line reason
        backend = "onnx-int8"

        def encode(self, texts, **kwargs):
            out = backends["torch"].encode(texts, normalize_embeddings=True, convert_to_numpy=True)
            out[:, :20] = -out[:, :20]
            return out

        def get_sentence_embedding_dimension(self):
            return 384

    refused = rf"embedded by the torch embedder backend.*< {AGREEMENT}.*--embedder-backend torch"
    with pytest.raises(IndexLoadError, match=refused):
        load_index(tmp_path / "idx", settings, Shifted())


def test_a_missing_onnxruntime_says_what_to_install(monkeypatch, tmp_path):
    import core.models

    core.models._load_backend_embedder.cache_clear()
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ModelUnavailable, match=r"pip install onnxruntime==[\d.]+ \(or --embedder-backend torch\)"):
        load_embedder(Settings().with_overrides(embedder_backend="onnx", cache_dir=str(tmp_path), progress=False))
    core.models._load_backend_embedder.cache_clear()
    with pytest.raises(ModelUnavailable, match="embedder_backend must be one of torch, onnx, onnx-int8"):
        load_embedder(Settings().with_overrides(embedder_backend="tensorrt", cache_dir=str(tmp_path), progress=False))
