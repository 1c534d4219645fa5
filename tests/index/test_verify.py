"""index verify: every file present, unchanged (sha256), loadable and agreeing with the manifest; each corruption is
one `error: <file>: <what>` line with exit code 2."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cli.main import index_main
from core.errors import IndexLoadError
from index.build import build_index
from index.store import MANIFEST, file_sha256, manifest_checksum
from index.verify import verify_index


@pytest.fixture
def built(sample_csv, settings, fake_embedder) -> Path:
    build_index([str(sample_csv)], settings.index.index_dir, settings, embedder=fake_embedder)
    return Path(settings.index.index_dir)


def _truncate(path: Path, keep: float = 0.5) -> None:
    path.write_bytes(path.read_bytes()[:int(path.stat().st_size * keep)])


def _flip(path: Path, at: int = -8) -> None:
    """Same size, one byte changed: only the sha256 notices (the file still loads)."""
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def _edit_manifest(folder: Path, keep_checksum: bool = False, **changes) -> None:
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest.update(changes)
    if keep_checksum:  # a careful editor who also recomputes the checksum
        manifest["manifest_sha256"] = manifest_checksum(manifest)
    (folder / MANIFEST).write_text(json.dumps(manifest))


def _nan_vectors(folder: Path) -> None:
    """NaN vectors written with a matching size, hash and checksum: only the content check notices."""
    vectors = np.load(folder / "vectors.npy")
    vectors[0, 0] = np.nan
    np.save(folder / "vectors.npy", vectors, allow_pickle=False)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["sha256"]["vectors.npy"] = file_sha256(folder / "vectors.npy")
    manifest["manifest_sha256"] = manifest_checksum(manifest)
    (folder / MANIFEST).write_text(json.dumps(manifest))


CORRUPTIONS = {  # name → (damage, the file the error line must start with, a phrase of it)
    "truncated faiss.index": (lambda d: _truncate(d / "faiss.index"), "faiss.index", "bytes, manifest says"),
    "truncated passages.parquet": (lambda d: _truncate(d / "passages.parquet"), "passages.parquet", "bytes"),
    "truncated movies.parquet": (lambda d: _truncate(d / "movies.parquet"), "movies.parquet", "bytes"),
    "truncated vectors.npy": (lambda d: _truncate(d / "vectors.npy", 0.9), "vectors.npy", "bytes"),
    "flipped byte in vectors.npy": (lambda d: _flip(d / "vectors.npy"), "vectors.npy", "sha256"),
    "flipped byte in faiss.index": (lambda d: _flip(d / "faiss.index", 200), "faiss.index", "sha256"),
    "flipped byte in edges.parquet": (lambda d: _flip(d / "edges.parquet", 100), "edges.parquet", "sha256"),
    "edited manifest": (lambda d: _edit_manifest(d, movies=4), MANIFEST, "edited after the build"),
    "edited manifest, checksum redone": (lambda d: _edit_manifest(d, keep_checksum=True, passages=3), MANIFEST,
                                         "passage counts disagree"),
    "manifest not JSON": (lambda d: (d / MANIFEST).write_text("{oops"), MANIFEST, "corrupt manifest.json"),
    "missing movies.parquet": (lambda d: (d / "movies.parquet").unlink(), "movies.parquet", "missing"),
    "missing bm25 file": (lambda d: next((d / "bm25").glob("*.npy")).unlink(), "bm25/", "missing"),
    "NaN vectors": (_nan_vectors, "vectors.npy", "NaN"),
}


def test_clean_index_passes(built, capsys, movies):
    report = verify_index(built)
    assert report["movies"] == len(movies) and report["hashed"] == report["files"] - 1 and report["checksum"]
    assert index_main(["verify", str(built)]) == 0
    line = capsys.readouterr().out
    assert line.startswith(f"ok {built}: {len(movies)} movies,") and line.count("\n") == 1
    assert "sha256 of" in line and "manifest checksum ok" in line


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_corruption_named_in_one_line(built, capsys, name):
    damage, file, phrase = CORRUPTIONS[name]
    damage(built)
    with pytest.raises(IndexLoadError) as err:
        verify_index(built)
    assert str(err.value).startswith(f"{built / file}") and phrase in str(err.value), str(err.value)
    assert index_main(["verify", str(built)]) == 2
    err_text = capsys.readouterr().err
    assert err_text.startswith(f"error: {built / file}") and err_text.count("\n") == 1, err_text


def test_older_manifest_without_hashes(built, capsys):
    manifest = json.loads((built / MANIFEST).read_text())
    for key in ("sha256", "manifest_sha256"):
        manifest.pop(key)
    (built / MANIFEST).write_text(json.dumps(manifest))
    assert index_main(["verify", str(built)]) == 0
    assert "no hashes in this older manifest, sizes checked" in capsys.readouterr().out


def test_missing_index(tmp_path, capsys):
    assert index_main(["verify", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'none'}: no index here")
