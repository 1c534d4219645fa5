"""Index files: round trip without pickle, manifest contents, and refusal of missing/corrupt/mismatched indexes."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.errors import IndexLoadError
from index.build import build_index
from index.sources import read_catalog
from index.store import load_index, load_movies, read_manifest
from tests.index.conftest import FakeEmbedder


@pytest.fixture
def built(sample_csv, settings, fake_embedder):
    build_index([str(sample_csv)], settings.index.index_dir, settings, embedder=fake_embedder)
    return settings.index.index_dir


def test_round_trip(built, settings, sample_csv):
    index = load_index(built, settings, FakeEmbedder())
    assert len(index) == index.manifest["passages"] == index.vectors.shape[0] == index.faiss.ntotal
    assert index.vectors.dtype == np.float32 and np.allclose(np.linalg.norm(index.vectors, axis=1), 1, atol=1e-5)
    assert sorted(m.to_dict().items() for m in load_movies(built)) == sorted(
        m.to_dict().items() for m in read_catalog(str(sample_csv), settings).movies)
    # dense search finds each passage from its own vector; BM25 finds names
    scores, ids = index.dense_search(index.vectors[:3], 1)
    assert ids[:, 0].tolist() == [0, 1, 2]
    _, ids = index.bm25_search(["Spielberg"], 3)
    assert any("Spielberg" in index.passages[i].text for i in ids[0] if i >= 0)


def test_manifest_fields(built, sample_csv):
    manifest = read_manifest(built)
    for key in ("movies", "passages", "embedder", "embedder_hash", "dim", "sources", "schema_version", "built_at",
                "versions", "kinds", "files", "hnsw"):
        assert key in manifest
    assert manifest["movies"] == 5 and manifest["dim"] == 384
    source = manifest["sources"][0]
    assert source["path"] == str(sample_csv) and len(source["sha256"]) == 64 and source["format"] == "sample"
    assert {"faiss-cpu", "bm25s", "numpy"} <= set(manifest["versions"])


def test_no_pickle_anywhere(built):
    from pathlib import Path

    for path in Path(built).rglob("*.npy"):
        np.load(path, allow_pickle=False)  # raises if an object array (pickle) was stored
    assert not [p for p in Path(built).rglob("*") if p.suffix in {".pkl", ".pickle", ".pt"}]


def test_hnsw_option(sample_csv, settings, fake_embedder):
    settings.index.hnsw = True
    build_index([str(sample_csv)], settings.index.index_dir, settings, embedder=fake_embedder)
    index = load_index(settings.index.index_dir, settings)
    assert index.manifest["hnsw"] and "HNSW" in type(index.faiss).__name__
    _, ids = index.dense_search(index.vectors[:1], 1)
    assert ids[0, 0] == 0


def test_missing_and_not_an_index(tmp_path):
    with pytest.raises(IndexLoadError, match="no index here"):
        load_index(tmp_path / "nothing")
    with pytest.raises(IndexLoadError, match="no manifest.json"):
        load_index(tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(IndexLoadError, match="it is a file"):
        load_index(tmp_path / "file")


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "manifest.json").write_text("{not json"), "corrupt manifest.json"),
    (lambda d: (d / "vectors.npy").write_bytes((d / "vectors.npy").read_bytes()[:-10]), "vectors.npy has"),
    (lambda d: (d / "passages.parquet").unlink(), "passages.parquet is missing"),
    (lambda d: _overwrite(d / "faiss.index", b"\0"), "corrupt index file faiss.index"),
    (lambda d: _overwrite(d / "passages.parquet", b"x"), "corrupt index file passages.parquet"),
    (lambda d: _edit_manifest(d, schema_version=99), "schema version 99"),
    (lambda d: _edit_manifest(d, passages=3), "counts disagree"),
])
def test_corrupt_index_refused(built, damage, message):
    from pathlib import Path

    damage(Path(built))
    with pytest.raises(IndexLoadError, match=message) as err:
        load_index(built)
    assert "\n" not in str(err.value)


def _overwrite(path, byte: bytes) -> None:
    """Same size, other bytes: only the file's own check can notice."""
    path.write_bytes(byte * path.stat().st_size)


def _edit_manifest(folder, **changes):
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(changes)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_other_embedder_refused(built, settings, tmp_path):
    other = tmp_path / "other-embedder"
    other.mkdir()
    (other / "config.json").write_text('{"hidden_size": 8}')
    with pytest.raises(IndexLoadError, match="built with embedder"):
        load_index(built, settings.with_overrides(embedder=str(other)))
    with pytest.raises(IndexLoadError, match="dim 384, the embedder makes dim 8"):
        load_index(built, settings, FakeEmbedder(dim=8))
    load_index(built, settings, FakeEmbedder())  # same embedder and dim: fine


def test_bm25_tokenizer_and_indexes_from_before_it(built, settings):
    """bm25s.Tokenizer splits like the former regex tokenizer, and an index whose BM25 was built from that
    tokenizer's string tokens (schema 1, before bm25s.Tokenizer) answers queries exactly as a new one does."""
    import re

    import bm25s

    from index.store import MovieIndex, bm25_tokenizer

    text = "Who directed M, Jaws (1975) and Schindler's List? The film's 2nd-unit crew!"
    old = [t for t in re.findall(r"(?u)\b\w+\b", text.lower()) if t not in set(bm25s.stopwords.STOPWORDS_EN)]
    assert bm25_tokenizer().tokenize([text], return_as="string", show_progress=False) == [old]

    index = load_index(built, settings)
    legacy = bm25s.BM25()
    legacy.index([[t for t in re.findall(r"(?u)\b\w+\b", p.text.lower()) if t not in set(bm25s.stopwords.STOPWORDS_EN)]
                  or ["<empty>"] for p in index.passages], show_progress=False)
    before = MovieIndex(index.passages, index.vectors, index.manifest, index.faiss, legacy)
    queries = ["the of and", "Spielberg shark", "who directed Inception?", "zzyzx", "Jaws"]  # stopwords, unknown words
    (s_new, i_new), (s_old, i_old) = index.bm25_search(queries, 4), before.bm25_search(queries, 4)
    assert i_new.tolist() == i_old.tolist() and np.allclose(s_new, s_old)
    assert (i_new[0] == -1).all() and (i_new[3] == -1).all() and (i_new[1] >= 0).any()
