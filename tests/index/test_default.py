"""The default index: built from the sample without a pack, unpacked from a pack when there is one, made again
when its origin changes, and never replaced when it is an index the user built."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from index.build import build_index
from index.default import ensure_index, index_is_current, usable_pack
from index.pack import pack_index
from index.store import load_index, read_manifest
from tests.index.conftest import FakeEmbedder, write_sample_csv


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    embedder = FakeEmbedder()
    monkeypatch.setattr("core.models.load_embedder", lambda *a, **k: embedder)
    return embedder


@pytest.fixture
def with_pack(tmp_path, settings, movies):
    """Settings whose pack is a tiny pack of the fixture movies (data/films.csv), sample = the first two films."""
    data = tmp_path / "data"
    data.mkdir()
    csv = write_sample_csv(movies, data / "films.csv")
    build_index([str(csv)], str(tmp_path / "built"), settings, embedder=FakeEmbedder())
    pack_index(str(tmp_path / "built"), str(data / "pack"), settings)
    write_sample_csv(movies[:2], Path(settings.index.sample_catalog))
    return settings.with_overrides(pack=str(data / "pack"))


def _mtime(folder: str) -> int:
    return (Path(folder) / "manifest.json").stat().st_mtime_ns


def test_without_a_pack_the_sample_is_built_once_and_rebuilt_when_needed(settings, movies):
    write_sample_csv(movies, Path(settings.index.sample_catalog))
    assert ensure_index(settings) == settings.index.index_dir
    built_at = read_manifest(settings.index.index_dir)["built_at"]
    mtime = _mtime(settings.index.index_dir)
    ensure_index(settings)
    assert _mtime(settings.index.index_dir) == mtime  # valid → untouched
    (Path(settings.index.index_dir) / "vectors.npy").write_bytes(b"broken")  # corrupt → rebuilt
    ensure_index(settings)
    assert load_index(settings.index.index_dir, settings).manifest["movies"] == len(movies)
    write_sample_csv(movies[:3], Path(settings.index.sample_catalog))  # sample catalog changed → rebuilt
    time.sleep(0.01)
    ensure_index(settings)
    assert read_manifest(settings.index.index_dir)["movies"] == 3 and built_at


def test_pack_is_unpacked_once_and_again_when_its_catalog_changes(with_pack, movies, fake_model):
    settings = with_pack
    target = ensure_index(settings)
    manifest = read_manifest(target)
    assert manifest["movies"] == len(movies) and manifest["unpacked_from"]["embedded"] == 0
    assert fake_model.encoded == []  # every vector came from the pack
    mtime = _mtime(target)
    assert index_is_current(target, settings) and ensure_index(settings) == target and _mtime(target) == mtime
    movies[0].plot = "A thief plants an idea in a dream within a dream."
    write_sample_csv(movies, Path(settings.index.pack).parent / "films.csv")  # a catalog edited after packing
    assert not index_is_current(target, settings)
    ensure_index(settings)
    assert read_manifest(target)["unpacked_from"]["embedded"] == 1 and len(fake_model.encoded) == 1


def test_a_new_pack_replaces_the_unpacked_index(with_pack, movies, tmp_path):
    settings = with_pack
    target = ensure_index(settings)
    write_sample_csv(movies[:3], Path(settings.index.pack).parent / "films.csv")
    build_index([str(Path(settings.index.pack).parent / "films.csv")], str(tmp_path / "built"), settings,
                embedder=FakeEmbedder())
    pack_index(str(tmp_path / "built"), settings.index.pack, settings)
    assert not index_is_current(target, settings)
    ensure_index(settings)
    assert read_manifest(target)["movies"] == 3


def test_a_users_own_index_is_served_as_it_is(with_pack, movies, tmp_path):
    settings = with_pack
    own = write_sample_csv(movies[3:], tmp_path / "mine.csv")
    build_index([str(own)], settings.index.index_dir, settings, embedder=FakeEmbedder())
    write_sample_csv(movies[4:], own)  # even when its catalog changed since: the user rebuilds it
    mtime = _mtime(settings.index.index_dir)
    assert ensure_index(settings) == settings.index.index_dir and _mtime(settings.index.index_dir) == mtime


def test_unusable_pack_falls_back_to_the_sample(with_pack, tmp_path, caplog):
    settings = with_pack
    (Path(settings.index.pack) / "vectors.npz").write_bytes(b"broken")
    assert usable_pack(settings) is None and "corrupt pack" in caplog.text
    ensure_index(settings)
    assert read_manifest(settings.index.index_dir)["movies"] == 2  # the sample's two films


def test_missing_catalog_falls_back_to_the_sample(with_pack, caplog):
    settings = with_pack
    (Path(settings.index.pack).parent / "films.csv").unlink()
    ensure_index(settings)
    assert read_manifest(settings.index.index_dir)["movies"] == 2 and "films.csv: no such file" in caplog.text
