"""Crash-safe folder writes, the one place that fsyncs, swaps folders into place and takes file locks.

A new version of a folder (an index, an installed model, a converted model) is written into a staging
folder beside it, fsynced, and swapped in with one atomic rename, so a crash or kill at any moment leaves
either the old or the new version. A staging folder is "live" while its writer holds its lock file; the
kernel drops the lock when the writer dies, so what a dead writer left behind is found without guessing.
"""
from __future__ import annotations

import ctypes
import errno
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

_STAGING = ".tmp-"  # ".<name>.tmp-<random>": a folder being written, and "<that>.lock" while its writer lives
_OLD = ".old-"  # ".<name>.old-<random>": the previous version during a two-rename replace
_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100
_UNSUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP}  # no renameat2 exchange here


def fsync_path(path: str | Path) -> None:
    """Flush one file or folder (a folder's entries: names created or renamed in it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: str | Path) -> None:
    """fsync every file, then every folder (deepest first), so a later rename publishes complete data."""
    folders = []
    for folder, _, files in os.walk(root):
        folders.append(Path(folder))
        for name in files:
            fsync_path(Path(folder) / name)
    for folder in reversed(folders):
        fsync_path(folder)


def writer_lock(target: str | Path) -> FileLock:
    """The lock that lets one process at a time write `target` (a ".<name>.lock" file beside it)."""
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(target.parent / f".{target.name}.lock")


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with renameat2(RENAME_EXCHANGE); False where unsupported (OSError on a real
    failure, e.g. EIO, with nothing swapped)."""
    if sys.platform != "linux":
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(b))


def replace_dir(src: str | Path, dst: str | Path, keep_existing: bool = False) -> bool:
    """Make the complete folder `src` the new `dst` in one atomic step, fsynced first; the old `dst` is deleted.

    On Linux the two folders are exchanged by one renameat2 call; elsewhere it takes two renames, and
    recover_dir() puts the old version back if a crash falls between them. With `keep_existing`, an
    existing `dst` wins (another process published it first): nothing is replaced and the result is False.
    """
    src, dst = Path(src), Path(dst)
    fsync_tree(src)
    if dst.exists():
        if keep_existing:
            return False
        if _exchange(src, dst):
            shutil.rmtree(src, ignore_errors=True)  # now holds the previous version
        else:
            old = dst.parent / f".{dst.name}{_OLD}{secrets.token_hex(4)}"
            os.rename(dst, old)
            try:
                os.rename(src, dst)
            except OSError:
                os.rename(old, dst)  # put the previous version back before reporting the failure
                raise
            shutil.rmtree(old, ignore_errors=True)
    else:
        try:
            os.rename(src, dst)
        except OSError:  # dst appeared meanwhile, written by another process
            if not keep_existing:
                raise
            return False
    fsync_path(dst.parent)
    return True


def recover_dir(dst: str | Path, marker: str | None = None) -> None:
    """Finish a two-rename replace cut short by a crash: when `dst` is missing, put back its moved-aside
    previous version (the newest one that holds the file `marker`, when given)."""
    dst = Path(dst)
    if dst.exists() or not dst.parent.is_dir():
        return
    olds = sorted(dst.parent.glob(f".{dst.name}{_OLD}*"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in olds:
        if old.is_dir() and (marker is None or (old / marker).exists()):
            os.rename(old, dst)
            return


def _lock_file(folder: Path) -> Path:
    return folder.with_name(folder.name + ".lock")


def clean_stale(target: str | Path) -> list[Path]:
    """Delete what dead writers left beside `target`: staging folders whose lock nobody holds, their lock
    files, and (while `target` exists) the old copies of an interrupted replace. Returns the folders deleted."""
    target = Path(target).absolute()
    removed = []
    names = {p.name.removesuffix(".lock") for p in target.parent.glob(f".{target.name}{_STAGING}*")}
    for name in sorted(names):
        folder = target.parent / name
        try:
            with FileLock(_lock_file(folder), blocking=False):
                if folder.exists():
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder)
                _lock_file(folder).unlink(missing_ok=True)
        except Timeout:
            continue  # its writer is alive
    if target.exists():
        for old in target.parent.glob(f".{target.name}{_OLD}*"):
            shutil.rmtree(old, ignore_errors=True)
            removed.append(old)
    return removed


@contextmanager
def staging_dir(target: str | Path) -> Iterator[Path]:
    """A new, empty folder beside `target` (same file system, so replace_dir is atomic) to write its next version
    in. Leftovers of dead writers are cleaned first; on exit, whatever is still at the staging path is deleted."""
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target)
    folder = target.parent / f".{target.name}{_STAGING}{secrets.token_hex(6)}"
    with FileLock(_lock_file(folder)):
        try:
            folder.mkdir()  # mode 0777 minus umask, as readable as any other folder (mkdtemp would make it 0700)
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            _lock_file(folder).unlink(missing_ok=True)  # while still held, so no one else can take it
