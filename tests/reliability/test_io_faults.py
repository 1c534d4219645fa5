"""I/O faults while an index is written: a full disk (ENOSPC) or an I/O error (EIO) at each step of the write gives
one clear line (IndexWriteError; `error: ...`, exit 2 from the CLI) and leaves the old index byte-identical, with no
temp folder behind. Faults are injected by replacing each writer (parquet, numpy, faiss, bm25s, the manifest,
fsync, the swap, the lock) with one that raises; one test fills a real (tmpfs) disk where mounting is allowed."""
from __future__ import annotations

import builtins
import errno
import os
import shutil
import subprocess
from pathlib import Path

import bm25s
import faiss
import numpy as np
import pandas as pd
import pytest

from cli.main import index_main
from core import fileio
from core.config import Settings
from core.errors import IndexWriteError
from index import build
from index.build import add_to_index, build_index
from index.store import load_index
from index.verify import verify_index
from tests.index.conftest import FakeEmbedder, snapshot
from tests.reliability.catalogue import film, films_csv

SETTINGS = Settings().with_overrides(progress=False)


def _fail(code: int, after: int = 0):
    """A replacement that lets `after` calls through to `real`, then raises OSError(code)."""
    def wrap(real):
        calls = {"n": 0}

        def failing(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] > after:
                raise OSError(code, os.strerror(code))
            return real(*args, **kwargs)
        return failing
    return wrap


def _faiss_full(index, path):  # faiss reports a full disk as a RuntimeError naming the errno's text
    raise RuntimeError(f"Error in faiss::write_index: write error in {path}: 12 != 3072 (No space left on device)")


def _short_write(*args, **kwargs):  # numpy's short write: an OSError without an errno
    raise OSError("768000 requested and 262112 written")


# (name, object, attribute, replacement factory or function): every write step of index.build.write_index
FAULTS = [
    ("passages.parquet", pd.DataFrame, "to_parquet", _fail(errno.ENOSPC)),
    ("movies.parquet", pd.DataFrame, "to_parquet", _fail(errno.ENOSPC, after=1)),
    ("edges.parquet", pd.DataFrame, "to_parquet", _fail(errno.EIO, after=2)),
    ("vectors.npy", np, "save", _fail(errno.ENOSPC)),
    ("vectors.npy short write", np, "save", lambda real: _short_write),
    ("faiss.index", faiss, "write_index", lambda real: _faiss_full),
    ("bm25", bm25s.BM25, "save", _fail(errno.ENOSPC)),
    ("manifest.json", Path, "write_text", _fail(errno.ENOSPC)),
    ("fsync (EIO)", os, "fsync", _fail(errno.EIO)),
    ("fsync of the last file", os, "fsync", _fail(errno.EIO, after=8)),
    ("swap (renameat2 EIO)", fileio, "_exchange", lambda real: _fail(errno.EIO)(real)),
    ("staging folder", fileio, "secrets", None),  # replaced below: mkdir of the staging folder fails
]


@pytest.fixture
def index_dir(tmp_path) -> Path:
    source = tmp_path / "old.csv"
    source.write_bytes(films_csv(film("Jaws"), film("Alien", year="1979")))
    build_index([str(source)], str(tmp_path / "indexes" / "index"), SETTINGS, embedder=FakeEmbedder())
    return tmp_path / "indexes" / "index"


@pytest.fixture
def new_source(tmp_path) -> Path:
    path = tmp_path / "new.csv"
    path.write_bytes(films_csv(film("Heat", year="1995"), film("Ran", year="1985")))
    return path


def _inject(monkeypatch, target, attribute, factory) -> None:
    if factory is None:  # the staging folder cannot be created
        real_mkdir = Path.mkdir
        monkeypatch.setattr(Path, "mkdir", lambda self, *a, **k: (_ for _ in ()).throw(
            OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))) if ".tmp-" in self.name
            else real_mkdir(self, *a, **k))
        return
    monkeypatch.setattr(target, attribute, factory(getattr(target, attribute)))


def _no_leftovers(index_dir: Path) -> bool:
    return not [p for p in index_dir.parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name]


@pytest.mark.parametrize("operation", ["build", "add"])
@pytest.mark.parametrize("name, target, attribute, factory", FAULTS, ids=[f[0] for f in FAULTS])
def test_fault_keeps_old_index(index_dir, new_source, monkeypatch, operation, name, target, attribute, factory):
    before = snapshot(index_dir)
    _inject(monkeypatch, target, attribute, factory)
    with pytest.raises(IndexWriteError) as err:
        if operation == "build":
            build_index([str(new_source)], str(index_dir), SETTINGS, embedder=FakeEmbedder())
        else:
            add_to_index(str(index_dir), [str(new_source)], SETTINGS, embedder=FakeEmbedder())
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{index_dir}: cannot write the index (")
    assert message.endswith("the previous index is unchanged"), message
    assert any(why in message for why in ("No space left on device", "Input/output error", "requested and")), message
    monkeypatch.undo()
    assert snapshot(index_dir) == before and _no_leftovers(index_dir)
    verify_index(index_dir)
    build_index([str(new_source)], str(index_dir), SETTINGS, embedder=FakeEmbedder())  # the next write works
    assert load_index(index_dir).manifest["movies"] == 2 and _no_leftovers(index_dir)


def test_fault_names_the_file(index_dir, new_source, monkeypatch):
    monkeypatch.setattr(faiss, "write_index", _faiss_full)
    with pytest.raises(IndexWriteError, match=r"\(faiss.index: No space left on device, [\d.]+ MB free on that disk\)"):
        build_index([str(new_source)], str(index_dir), SETTINGS, embedder=FakeEmbedder())


def test_fallback_rename_failure_puts_old_back(index_dir, new_source, monkeypatch):
    """Without renameat2 the swap is two renames; when the second fails, the first is undone."""
    before = snapshot(index_dir)
    monkeypatch.setattr(fileio, "_exchange", lambda a, b: False)
    real_rename = os.rename
    monkeypatch.setattr(os, "rename", lambda a, b: (_ for _ in ()).throw(OSError(errno.EIO, "Input/output error"))
                        if ".tmp-" in str(a) else real_rename(a, b))
    with pytest.raises(IndexWriteError, match="previous index is unchanged"):
        build_index([str(new_source)], str(index_dir), SETTINGS, embedder=FakeEmbedder())
    monkeypatch.undo()
    assert snapshot(index_dir) == before and _no_leftovers(index_dir)


def test_fault_after_the_swap_says_so(index_dir, new_source, monkeypatch):
    """An fsync failing after the new index is swapped in: the message says the new index is in place."""
    real = fileio.fsync_path
    monkeypatch.setattr(fileio, "fsync_path", lambda p: (_ for _ in ()).throw(OSError(errno.EIO, "Input/output "
                        "error")) if Path(p) == index_dir.parent else real(p))
    with pytest.raises(IndexWriteError, match="the new index is in place but may not be on disk yet"):
        build_index([str(new_source)], str(index_dir), SETTINGS, embedder=FakeEmbedder())
    monkeypatch.undo()
    assert load_index(index_dir).manifest["movies"] == 2 and _no_leftovers(index_dir)  # the new one, whole
    verify_index(index_dir)


def test_lock_file_cannot_be_created(index_dir, new_source, monkeypatch):
    before = snapshot(index_dir)

    def no_lock(target):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
    monkeypatch.setattr(build, "writer_lock", no_lock)
    with pytest.raises(IndexWriteError, match="cannot take the writer lock .*No space left on device"):
        add_to_index(str(index_dir), [str(new_source)], SETTINGS, embedder=FakeEmbedder())
    assert snapshot(index_dir) == before


def test_cli_prints_one_line(index_dir, new_source, monkeypatch, capsys):
    monkeypatch.setattr("core.models.load_embedder", lambda *a, **k: FakeEmbedder())
    monkeypatch.setattr(np, "save", _fail(errno.ENOSPC)(np.save))
    before = snapshot(index_dir)
    assert index_main(["add", str(index_dir), str(new_source), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {index_dir}: cannot write the index (vectors.npy: No "
                                                   f"space left on device"), err
    assert snapshot(index_dir) == before


def test_open_for_writing_fails_at_every_call(index_dir, new_source, monkeypatch):
    """ENOSPC from the n-th file opened for writing (numpy, bm25s and the manifest open files in Python)."""
    before = snapshot(index_dir)
    real_open = builtins.open
    for n in range(1, 40):
        monkeypatch.setattr(builtins, "open", _failing_open(real_open, n))
        try:
            build_index([str(new_source)], str(index_dir), SETTINGS, embedder=FakeEmbedder())
        except IndexWriteError as exc:
            assert "No space left on device" in str(exc) and "previous index is unchanged" in str(exc)
        else:
            break  # n passed the number of files written: every earlier n failed cleanly
        finally:
            monkeypatch.setattr(builtins, "open", real_open)
        assert snapshot(index_dir) == before and _no_leftovers(index_dir), n
    assert n > 5, "the index write opens several files in Python; the fault never hit"


def _failing_open(real_open, n: int):
    """open() that raises ENOSPC on the n-th file opened for writing inside a staging folder."""
    calls = {"n": 0}

    def failing_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+") and ".tmp-" in str(file):
            calls["n"] += 1
            if calls["n"] == n:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(file))
        return real_open(file, mode, *args, **kwargs)
    return failing_open


@pytest.fixture
def tiny_disk(tmp_path):
    """mount(size_mb): a tmpfs of that size (root with CAP_SYS_ADMIN only; the test is skipped elsewhere)."""
    mounted = []

    def mount(size_mb: int) -> Path:
        folder = tmp_path / "disk"
        folder.mkdir()
        if os.geteuid() != 0 or shutil.which("mount") is None:
            pytest.skip("mounting a small tmpfs needs root")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(folder)],
                              capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(folder)
        return folder
    yield mount
    for folder in mounted:
        subprocess.run(["umount", str(folder)], check=False)


def test_real_full_disk(tiny_disk, tmp_path):
    """An index that fits once on the disk but not twice: writing its new version runs out of space."""
    source = tmp_path / "films.csv"
    source.write_bytes(films_csv(*(film(f"Film {i}", plot=" ".join(f"w{i * j % 301}" for j in range(100)))
                                   for i in range(400))))
    sizing = tmp_path / "sizing"
    build_index([str(source)], str(sizing), SETTINGS, embedder=FakeEmbedder())
    size = sum(p.stat().st_size for p in sizing.rglob("*") if p.is_file())
    disk = tiny_disk(int(size * 1.5 / 1e6) + 1)
    index_dir = disk / "index"
    shutil.copytree(sizing, index_dir)
    before = snapshot(index_dir)
    with pytest.raises(IndexWriteError, match="No space left on device.*the previous index is unchanged"):
        build_index([str(source)], str(index_dir), SETTINGS, embedder=FakeEmbedder())
    assert snapshot(index_dir) == before and _no_leftovers(index_dir)
    verify_index(index_dir)


@pytest.mark.parametrize("extend", [False, True], ids=["rebuild", "extend"])
def test_demo_upload_on_a_full_disk_keeps_serving(index_dir, new_source, tmp_path, monkeypatch, extend):
    """The demo's Index tab (rag.ui.Demo.update_index): a full disk is one status line; the live index is untouched
    and keeps serving, the uploads folder still holds a whole index."""
    from rag.ui import Demo

    class Serving:
        planner = None
        index = None

        def swap_index(self, index, catalog=None):
            self.index = index

    uploads = tmp_path / "uploads"
    shutil.copytree(index_dir, uploads)
    live_before = snapshot(index_dir)
    monkeypatch.setattr("core.models.load_embedder", lambda *a, **k: FakeEmbedder())
    monkeypatch.setattr(np, "save", _fail(errno.ENOSPC)(np.save))
    serving = Serving()
    demo = Demo(serving, SETTINGS.with_overrides(index_dir=str(index_dir)), str(uploads))
    status = demo.update_index([str(new_source)], extend=extend)
    assert status.startswith("error: ") and "No space left on device" in status and "\n" not in status, status
    assert status.endswith("(the previous index is still serving)") and serving.index is None
    assert snapshot(index_dir) == live_before and demo.live_dir == str(index_dir)
    monkeypatch.undo()
    verify_index(uploads)
