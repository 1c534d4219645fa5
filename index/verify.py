"""`index verify`: check an index folder end to end, beyond what every load checks (sizes, counts, dims).

Every file's sha256 against the manifest, the manifest's own checksum (an edit after the build), every file loaded
(passages, vectors, FAISS, BM25, movies, catalog edges), vectors finite, and the counts and ids of the files
agreeing with each other. The first problem is one line that starts with the file it is about.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import IndexLoadError
from index.store import (
    MANIFEST,
    file_sha256,
    first_line,
    load_index,
    load_movies,
    manifest_checksum,
    read_manifest,
)

EDGE_COLUMNS = ("film", "rel", "value", "key")


def verify_index(index_dir: str | Path, settings=None) -> dict:
    """Check every file of the index at `index_dir`.

    Args:
        index_dir: an index folder written by index.build.
        settings: when given, also refuse an index built by another embedder than `settings.models.embedder`.

    Returns:
        A summary: index, movies, passages, dim, files, bytes, hashed (files whose sha256 was checked),
        checksum (whether the manifest carries its own checksum), embedder.

    Raises:
        IndexLoadError: the first problem found, as `<file>: <what>` on one line.
    """
    folder = Path(index_dir)
    manifest = read_manifest(folder)  # schema, every listed file present with its size
    _check_checksum(folder, manifest)
    hashes = manifest.get("sha256", {})
    for name, expected in hashes.items():
        if file_sha256(folder / name) != expected:
            raise IndexLoadError(f"{folder / name}: content differs from the manifest's sha256 (changed or damaged "
                                 f"after the build); rebuild the index")
    index = load_index(folder, settings)  # passages, vectors, FAISS, BM25: loadable, counts and dims agree
    if not np.isfinite(index.vectors).all():
        raise IndexLoadError(f"{folder / 'vectors.npy'}: holds NaN or infinite values; rebuild the index")
    movies = load_movies(folder)
    if len(movies) != manifest.get("movies"):
        raise IndexLoadError(f"{folder / 'movies.parquet'}: {len(movies)} movies, the manifest says "
                             f"{manifest.get('movies')}; rebuild the index")
    ids = {m.id for m in movies}
    orphans = sorted({p.movie_id for p in index.passages if isinstance(p.movie_id, str)} - ids)  # cards: no film
    if orphans:
        raise IndexLoadError(f"{folder / 'passages.parquet'}: {len(orphans)} passages of films missing from "
                             f"movies.parquet (e.g. {orphans[0]!r}); rebuild the index")
    _check_edges(folder, ids)
    files = manifest.get("files", {})
    return {"index": str(index_dir), "movies": len(movies), "passages": len(index), "dim": manifest.get("dim"),
            "files": len(files) + 1, "bytes": sum(files.values()) + (folder / MANIFEST).stat().st_size,
            "hashed": len(hashes), "checksum": "manifest_sha256" in manifest, "embedder": manifest.get("embedder")}


def _check_checksum(folder: Path, manifest: dict) -> None:
    stored = manifest.get("manifest_sha256")
    if stored is not None and stored != manifest_checksum(manifest):
        raise IndexLoadError(f"{folder / MANIFEST}: edited after the build (its checksum differs); rebuild the index")


def _check_edges(folder: Path, ids: set[str]) -> None:
    path = folder / "edges.parquet"
    if not path.exists():  # indexes from before the catalog store
        return
    try:
        edges = pd.read_parquet(path)
    except Exception as exc:
        raise IndexLoadError(f"{path}: corrupt index file edges.parquet ({first_line(exc, path)})") from exc
    missing = [c for c in EDGE_COLUMNS if c not in edges.columns]
    if missing:
        raise IndexLoadError(f"{path}: missing columns {', '.join(missing)}; rebuild the index")
    unknown = set(edges["film"]) - ids
    if unknown:
        raise IndexLoadError(f"{path}: edges of {len(unknown)} films missing from movies.parquet; rebuild the index")


def summary_line(report: dict) -> str:
    hashed = (f"sha256 of {report['hashed']} files match" if report["hashed"]
              else "no hashes in this older manifest, sizes checked")
    checksum = ", manifest checksum ok" if report["checksum"] else ""
    return (f"ok {report['index']}: {report['movies']} movies, {report['passages']} passages of dim {report['dim']}, "
            f"{report['files']} files ({report['bytes'] / 1e6:.1f} MB) load and agree; {hashed}{checksum}")
