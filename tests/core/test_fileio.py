"""core.fileio: atomic folder replace, recovery of an interrupted replace, staging folders and their locks."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock, Timeout

from core.fileio import clean_stale, fsync_tree, recover_dir, replace_dir, staging_dir, writer_lock

REPO = Path(__file__).resolve().parents[2]


def _folder(path: Path, **files: str) -> Path:
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def _siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


@pytest.mark.parametrize("exchange", [True, False])
def test_replace_dir(tmp_path, monkeypatch, exchange):
    if not exchange:  # the portable two-rename path
        monkeypatch.setattr("core.fileio._exchange", lambda a, b: False)
    dst = tmp_path / "out"
    assert replace_dir(_folder(tmp_path / "new1", a="1"), dst)
    assert (dst / "a").read_text() == "1" and _siblings(dst) == ["out"]
    assert replace_dir(_folder(tmp_path / "new2", b="2"), dst)
    assert sorted(os.listdir(dst)) == ["b"] and _siblings(dst) == ["out"]


def test_replace_dir_keep_existing(tmp_path):
    dst = _folder(tmp_path / "out", a="first")
    src = _folder(tmp_path / "new", a="second")
    assert replace_dir(src, dst, keep_existing=True) is False
    assert (dst / "a").read_text() == "first" and src.exists()


def test_recover_dir_after_a_crash_between_the_two_renames(tmp_path):
    dst = tmp_path / "out"
    _folder(tmp_path / ".out.old-aaaa", other="x")  # no marker: not a complete copy
    old = _folder(tmp_path / ".out.old-bbbb", manifest="m")
    recover_dir(dst, marker="manifest")
    assert (dst / "manifest").read_text() == "m" and not old.exists()
    recover_dir(dst, marker="manifest")  # dst exists: nothing to do
    assert clean_stale(dst) == [tmp_path / ".out.old-aaaa"] and _siblings(dst) == ["out"]


def test_staging_dir_is_cleaned_on_error_and_readable(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(RuntimeError), staging_dir(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".out.tmp-")
        assert (tmp.parent / f"{tmp.name}.lock").exists()
        umask = os.umask(0)
        os.umask(umask)
        assert tmp.stat().st_mode & 0o777 == 0o777 & ~umask
        raise RuntimeError("writer failed")
    assert os.listdir(tmp_path) == []


def test_staging_dir_then_replace(tmp_path):
    target = tmp_path / "out"
    for text in ("v1", "v2"):
        with staging_dir(target) as tmp:
            _folder(tmp / "sub", f=text)
            fsync_tree(tmp)
            replace_dir(tmp, target)
    assert (target / "sub" / "f").read_text() == "v2" and _siblings(target) == ["out"]


_HOLDER = """
import sys, time
sys.path.insert(0, {repo!r})
from core.fileio import staging_dir
with staging_dir({target!r}) as tmp:
    (tmp / "part").write_text("half written")
    print(tmp, flush=True)
    time.sleep(60)
"""


def test_clean_stale_keeps_live_staging_and_removes_a_killed_writers(tmp_path):
    target = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-c", _HOLDER.format(repo=str(REPO), target=str(target))],
                             stdout=subprocess.PIPE, text=True)
    try:
        tmp = Path(child.stdout.readline().strip())
        assert tmp.is_dir() and clean_stale(target) == [] and tmp.is_dir()  # its writer is alive
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    orphan = tmp_path / ".out.tmp-orphan.lock"  # a lock file whose folder was never made
    orphan.write_text("")
    assert clean_stale(target) == [tmp] and os.listdir(tmp_path) == []


def test_writer_lock_is_exclusive(tmp_path):
    target = tmp_path / "sub" / "out"
    with writer_lock(target), pytest.raises(Timeout):
        FileLock(tmp_path / "sub" / ".out.lock").acquire(blocking=False)
    with FileLock(tmp_path / "sub" / ".out.lock").acquire(blocking=False):
        pass
