"""Packs: int8 round trip, pack → unpack into a loadable index without re-embedding, changed catalogs re-embed only
what changed, and corrupt or mismatched packs fail with one line, leaving the target untouched."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cli.main import index_main
from core.errors import CatalogError, IndexLoadError
from index.build import build_index
from index.pack import (
    PACK_MANIFEST,
    VECTORS,
    dequantize,
    hash_bytes,
    pack_index,
    quantize,
    read_pack,
    unpack_index,
)
from index.store import load_index, read_manifest
from tests.index.conftest import FakeEmbedder, snapshot, write_sample_csv


@pytest.fixture
def packed(tmp_path, settings, movies, fake_embedder):
    """A tiny index of the fixture movies (fake embedder), built from data/sample.csv and packed into data/pack."""
    data = tmp_path / "data"
    data.mkdir()
    csv = write_sample_csv(movies, data / "sample.csv")
    index_dir = tmp_path / "built"
    build_index([str(csv)], str(index_dir), settings, embedder=fake_embedder)
    pack_dir = data / "pack"
    report = pack_index(str(index_dir), str(pack_dir), settings)
    return index_dir, pack_dir, report


def test_int8_round_trip_keeps_directions():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((200, 384)).astype(np.float32)
    vectors[:, 7] = 0.0  # a dimension that is zero everywhere stays zero (no division by zero)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    q, scale = quantize(vectors)
    assert q.dtype == np.int8 and scale.dtype == np.float32 and scale.shape == (384,)
    assert np.abs(q).max() == 127 and not q[:, 7].any()
    back = dequantize(q, scale)
    assert back.dtype == np.float32 and np.allclose(np.linalg.norm(back, axis=1), 1.0, atol=1e-5)
    assert (back * vectors).sum(axis=1).min() > 0.999
    assert hash_bytes(["00ff" * 5, "a1" * 10]).tolist()[1] == [0xA1] * 10


def test_pack_then_unpack_reuses_every_vector(packed, settings, tmp_path, monkeypatch):
    index_dir, pack_dir, report = packed
    pack = json.loads((pack_dir / PACK_MANIFEST).read_text())
    assert pack["sources"][0]["path"] == "../sample.csv"  # relative: the pack travels with its catalogs
    assert "sources" not in pack["index"] and report["cosine_min"] > 0.999
    embedder = FakeEmbedder()
    monkeypatch.setattr("core.models.load_embedder", lambda *a, **k: embedder)
    out = tmp_path / "unpacked"
    result = unpack_index(str(pack_dir), str(out), settings)
    assert (result["reused"], result["embedded"]) == (report["passages"], 0) and embedder.encoded == []
    original, unpacked = load_index(index_dir, settings), load_index(out, settings)  # manifest + embedder checks
    assert [p.key for p in unpacked.passages] == [p.key for p in original.passages]
    assert [p.hash for p in unpacked.passages] == [p.hash for p in original.passages]
    assert (np.asarray(unpacked.vectors) * np.asarray(original.vectors)).sum(axis=1).min() > 0.999
    manifest = read_manifest(out)
    assert manifest["unpacked_from"]["reused"] == report["passages"] and manifest["build_seconds"] >= 0
    assert manifest["movies"] == original.manifest["movies"]


def test_changed_catalog_embeds_only_the_changed_passages(packed, settings, movies, tmp_path):
    _, pack_dir, report = packed
    movies[1].plot = "A shark terrorises a beach town; three men go out to hunt it."
    write_sample_csv(movies, pack_dir.parent / "sample.csv")
    embedder = FakeEmbedder()
    result = unpack_index(str(pack_dir), str(tmp_path / "unpacked"), settings, embedder=embedder)
    assert result["embedded"] == 1 and embedder.encoded == [p.text for p in load_index(tmp_path / "unpacked").passages
                                                             if p.key == "plot:jaws (1975):0"]
    assert result["reused"] == report["passages"] - 1


def test_cli_pack_and_unpack(packed, tmp_path, capsys, monkeypatch):
    index_dir, _, _ = packed
    monkeypatch.setattr("core.models.load_embedder", lambda *a, **k: FakeEmbedder())
    pack_dir = tmp_path / "data" / "pack2"
    assert index_main(["pack", str(index_dir), "--out", str(pack_dir)]) == 0
    assert capsys.readouterr().out.startswith(f"packed {index_dir} into {pack_dir}: ")
    assert index_main(["unpack", str(pack_dir), "--out", str(tmp_path / "u"), "--no-progress", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["embedded"] == 0


# ---------------------------------------------------------------- bad packs: one line, nothing touched

def _corrupt_npz(pack_dir: Path) -> None:
    raw = bytearray((pack_dir / VECTORS).read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (pack_dir / VECTORS).write_bytes(bytes(raw))


def _wrong_shape(pack_dir: Path) -> None:
    """A well-formed npz whose arrays disagree with the manifest (sizes and sha256 updated to match)."""
    import hashlib

    np.savez_compressed(pack_dir / VECTORS, q=np.zeros((2, 3), np.int8), scale=np.ones(3, np.float32),
                        hashes=np.zeros((2, 10), np.uint8))
    pack = json.loads((pack_dir / PACK_MANIFEST).read_text())
    data = (pack_dir / VECTORS).read_bytes()
    pack["files"][VECTORS] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (pack_dir / PACK_MANIFEST).write_text(json.dumps(pack))


def _edit(pack_dir: Path, **changes) -> None:
    pack = json.loads((pack_dir / PACK_MANIFEST).read_text())
    pack.update(changes)
    (pack_dir / PACK_MANIFEST).write_text(json.dumps(pack))


CORRUPTIONS = {
    "no manifest": (lambda d: (d / PACK_MANIFEST).unlink(), "not an index pack"),
    "bad json": (lambda d: (d / PACK_MANIFEST).write_text("{not json"), "corrupt pack.json"),
    "old version": (lambda d: _edit(d, pack_version=0), "pack version 0"),
    "truncated vectors": (lambda d: (d / VECTORS).write_bytes((d / VECTORS).read_bytes()[:100]),
                          "vectors.npz does not match"),
    "flipped byte": (_corrupt_npz, "vectors.npz does not match"),
    "missing vectors": (lambda d: (d / VECTORS).unlink(), "vectors.npz is missing"),
    "wrong shapes": (_wrong_shape, "the manifest says"),
    "no index manifest": (lambda d: _edit(d, index=None), "no index manifest"),
}


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_corrupt_pack_is_one_line_error_and_target_untouched(packed, settings, tmp_path, name, capsys):
    index_dir, pack_dir, _ = packed
    corrupt, message = CORRUPTIONS[name]
    corrupt(pack_dir)
    before = snapshot(index_dir)
    with pytest.raises(IndexLoadError, match=message) as err:
        unpack_index(str(pack_dir), str(index_dir), settings, embedder=FakeEmbedder())
    assert "\n" not in str(err.value)
    assert snapshot(index_dir) == before
    assert index_main(["unpack", str(pack_dir), "--out", str(index_dir), "--no-progress"]) == 2
    stderr = capsys.readouterr().err.strip()
    assert stderr.startswith("error: ") and "\n" not in stderr and "Traceback" not in stderr


def test_pack_of_another_embedder_is_refused(packed, settings, tmp_path):
    _, pack_dir, _ = packed
    other = tmp_path / "other-embedder"
    other.mkdir()
    (other / "config.json").write_text('{"hidden_size": 8}')
    with pytest.raises(IndexLoadError, match="built with embedder"):
        unpack_index(str(pack_dir), str(tmp_path / "u"), settings.with_overrides(embedder=str(other)))
    assert read_pack(pack_dir)["passages"] > 0  # the pack itself is sound


def test_missing_catalog_is_one_line(packed, settings, tmp_path):
    _, pack_dir, _ = packed
    (pack_dir.parent / "sample.csv").unlink()
    with pytest.raises(CatalogError, match="sample.csv: no such file"):
        unpack_index(str(pack_dir), str(tmp_path / "u"), settings, embedder=FakeEmbedder())
    assert not (tmp_path / "u").exists()


def test_pack_refuses_an_index_whose_catalog_changed(packed, settings, movies, tmp_path):
    index_dir, pack_dir, _ = packed
    write_sample_csv(movies[:2], pack_dir.parent / "sample.csv")
    with pytest.raises(IndexLoadError, match="changed since the index was built"):
        pack_index(str(index_dir), str(tmp_path / "pack3"), settings)
    assert not (tmp_path / "pack3").exists()
