"""The default index, made on first use: settings.index.index_dir, unpacked from the shipped pack (the demo
catalog, settings.index.pack) when the pack fits the embedder, else built from the sample catalog.

An index this module made is remade when what it came from changes: another pack, an edited catalog file, or
an edited sample. A folder holding any other valid index (one the user built) is served as it is.
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from core.config import Settings
from core.errors import CatalogError, IndexLoadError
from index.build import Progress, build_index
from index.detect import read_bytes
from index.pack import check_pack, pack_fingerprint, unpack_index
from index.store import check_embedder, read_manifest

log = logging.getLogger(__name__)


def _file_changed(source: dict) -> bool:
    path = Path(source.get("path", ""))
    try:
        return hashlib.sha256(read_bytes(str(path))).hexdigest() != source.get("sha256")
    except CatalogError:
        return True  # gone or unreadable


def stale_reason(manifest: dict, settings: Settings) -> str | None:
    """Why an index this module made no longer matches its origin (None: it does, or the user made it)."""
    sources = manifest.get("sources", [])
    unpacked = manifest.get("unpacked_from")
    if unpacked:
        pack = settings.index.pack
        if pack and Path(pack, "pack.json").is_file() and unpacked.get("pack_sha256") != pack_fingerprint(pack):
            return "the shipped pack changed"
        changed = [Path(s.get("path", "")).name for s in sources if _file_changed(s)]
        return f"catalog changed: {', '.join(changed)}" if changed else None
    sample = str(Path(settings.index.sample_catalog).absolute())
    if len(sources) == 1 and sources[0].get("path") == sample and Path(sample).is_file() \
            and _file_changed(sources[0]):
        return "sample catalog changed"
    return None


def index_is_current(index_dir: str, settings: Settings) -> bool:
    """A valid index for the current embedder whose origin has not changed (see stale_reason)."""
    try:
        manifest = read_manifest(index_dir)
        check_embedder(manifest, index_dir, settings)
    except IndexLoadError:
        return False
    reason = stale_reason(manifest, settings)
    if reason:
        log.warning("%s: %s; making it again", index_dir, reason)
    return reason is None


def usable_pack(settings: Settings) -> str | None:
    """settings.index.pack when it is a sound pack made with the current embedder, else None (the reason logged)."""
    pack = settings.index.pack
    if not pack or not Path(pack).exists():
        return None
    try:
        check_pack(pack, settings)
    except IndexLoadError as exc:
        log.warning("not using the shipped index pack: %s", exc)
        return None
    return pack


def ensure_index(settings: Settings, on_progress: Progress | None = None, embedder=None) -> str:
    """The index folder to serve, settings.index.index_dir, made first when it holds no current index: unpacked from
    settings.index.pack if usable (its catalogs missing → the sample instead), else built from the sample catalog.

    Args:
        settings: `settings.index` (index_dir, pack, sample_catalog), the embedder, progress bars.
        on_progress, embedder: passed to the unpack (for changed passages) or the build.

    Returns:
        settings.index.index_dir.

    Raises:
        CatalogError: the sample catalog cannot be read when a build is needed.
    """
    target = settings.index.index_dir
    if index_is_current(target, settings):
        return target
    pack = usable_pack(settings)
    if pack:
        try:
            unpack_index(pack, target, settings, embedder=embedder, on_progress=on_progress)
            return target
        except (CatalogError, IndexLoadError) as exc:
            log.warning("cannot unpack %s (%s); building the sample catalog instead", pack, exc)
    build_index([settings.index.sample_catalog], target, settings, on_progress=on_progress, embedder=embedder)
    return target
