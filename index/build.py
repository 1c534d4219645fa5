"""Build and extend index folders: catalogs → movies → passages → vectors → files, swapped in atomically.

Every write goes to a staging folder beside the target, is fsynced, and replaces the target with one
atomic rename (an exchange on Linux), so a crash or kill at any point leaves the previous index loadable
(core.fileio). One writer per index folder at a time (a file lock beside it).
Catalogs are fully read and checked before anything is written: bad input leaves the index untouched.
"""
from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from core import models  # module attribute: tests replace models.load_embedder
from core.config import Settings
from core.errors import CatalogError, IndexLoadError, IndexWriteError
from core.fileio import replace_dir, staging_dir, writer_lock
from core.records import Movie, Passage
from index.formats import merge_movies
from index.passages import build_passages
from index.sources import CatalogRead, combine, read_catalogs
from index.store import (
    SCHEMA_VERSION,
    MovieIndex,
    load_index,
    load_movies,
    read_manifest,
    save_index,
)

Progress = Callable[[int, int], None]
ENCODE_CHUNK = 2048  # passages per encode() call; calls only exist to drive the progress bar and callback


# ---------------------------------------------------------------- embedding

def embedding_dim(embedder) -> int:
    get_dim = getattr(embedder, "get_embedding_dimension", None) or embedder.get_sentence_embedding_dimension
    return int(get_dim())


def embed_texts(embedder, texts: list[str], settings: Settings, on_progress: Progress | None = None) -> np.ndarray:
    """Normalised float32 vectors. Texts are sorted by length once (as SentenceTransformer.encode does inside
    one call) and encoded in big chunks, so batches are as tight as a single encode() call."""
    dim = embedding_dim(embedder)
    out = np.empty((len(texts), dim), dtype=np.float32)
    order = np.argsort([-len(t) for t in texts], kind="stable")
    done = 0
    with tqdm(total=len(texts), desc="embedding", unit="passage", disable=not settings.run.progress) as bar:
        for start in range(0, len(texts), ENCODE_CHUNK):
            idx = order[start:start + ENCODE_CHUNK]
            out[idx] = embedder.encode([texts[i] for i in idx], batch_size=settings.index.embed_batch_size,
                                       normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
            done += len(idx)
            bar.update(len(idx))
            if on_progress:
                on_progress(done, len(texts))
    return out


# ---------------------------------------------------------------- writing

def write_index(index: MovieIndex, movies: list[Movie], out_dir: str | Path) -> None:
    """Save into a staging folder beside `out_dir`, then swap it in atomically (core.fileio).

    Raises:
        IndexLoadError: out_dir exists and is not a folder.
        IndexWriteError: a write failed (a full disk, an I/O error); one line that says whether out_dir still holds
            the previous index (it does unless the failure came after the swap).
    """
    target = Path(out_dir).absolute()
    if target.exists() and not target.is_dir():
        raise IndexLoadError(f"{out_dir}: exists and is not a folder")
    before = _identity(target)
    try:
        with staging_dir(target) as tmp:
            save_index(index, movies, tmp)
            replace_dir(tmp, target)
    except OSError as exc:
        after = _identity(target)
        if after == before:
            outcome = "the previous index is unchanged" if before else "no index was written"
        elif after is None:  # a two-rename swap cut between its renames (core.fileio.recover_dir)
            outcome = "the previous index was moved aside and is put back when it is next loaded"
        else:
            outcome = "the new index is in place but may not be on disk yet"
        raise IndexWriteError(f"{out_dir}: cannot write the index ({_why(exc)}); {outcome}") from exc


def _identity(folder: Path) -> int | None:
    """The folder's inode: the swap replaces it, so an unchanged inode means an untouched index."""
    try:
        return folder.stat().st_ino
    except OSError:
        return None


def _why(exc: OSError) -> str:
    """"<file>: <reason>": which write failed (the file name: its folder was a staging folder) and why."""
    where = f"{Path(exc.filename).name}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


@contextmanager
def _writer(target: str | Path) -> Iterator[None]:
    """The index's writer lock (core.fileio.writer_lock); a lock file that cannot be created is a one-line error."""
    try:
        lock = writer_lock(target)
        lock.acquire()
    except OSError as exc:
        raise IndexWriteError(f"{target}: cannot take the writer lock ({_why(exc)}); the index is unchanged") from exc
    try:
        yield
    finally:
        lock.release()


# ---------------------------------------------------------------- manifest

def _versions() -> dict:
    out = {"python": platform.python_version()}
    for package in ("faiss-cpu", "bm25s", "sentence-transformers", "torch", "numpy", "pandas", "pyarrow"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            pass
    return out


def make_manifest(movies: list[Movie], passages: list[Passage], dim: int, sources: list[dict], settings: Settings,
                  hnsw: bool) -> dict:
    kinds: dict[str, int] = {}
    for p in passages:
        kinds[p.kind] = kinds.get(p.kind, 0) + 1
    return {
        "schema_version": SCHEMA_VERSION,
        "movies": len(movies), "passages": len(passages), "kinds": kinds,
        "embedder": settings.models.embedder, "embedder_hash": models.embedder_hash(settings.models.embedder, settings),
        "embedder_backend": settings.models.embedder_backend,  # checked on load against the embedder's (index.store)
        "dim": dim, "hnsw": hnsw, "metric": "inner_product (cosine on normalised vectors)",
        "passage_settings": {"plot_chunk_words": settings.index.plot_chunk_words,
                             "person_card_films": settings.index.person_card_films,
                             "tag_cards": settings.index.tag_cards},
        "sources": sources,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": _versions(),
    }


def source_entries(reads: list[CatalogRead]) -> list[dict]:
    return [{"path": str(Path(r.path).absolute()) if not r.path.startswith("hf:") else r.path, **{
        k: v for k, v in r.summary().items() if k != "path"}} for r in reads]


def _skipped(reads: list[CatalogRead]) -> dict:
    return {r.path: r.skipped for r in reads if r.skipped}


# ---------------------------------------------------------------- build / add / ensure

def build_index(sources: list[str], out_dir: str, settings: Settings, format: str | None = None,
                on_progress: Progress | None = None, embedder=None) -> dict:
    """Read `sources`, build all passages, embed them and write a new index at `out_dir` (atomic).

    Args:
        sources: catalog files or `hf:` ids (see index.sources.read_catalog); all are read before anything is written.
        out_dir: the index folder, replaced whole once the new index is written.
        settings: the embedder (`settings.models`), passage and index options (`settings.index`), progress bars.
        format: one catalog format for every source; None detects each.
        on_progress: called with (passages embedded, total) as embedding goes.
        embedder: an already loaded embedder; default `core.models.load_embedder(settings)`.

    Returns:
        A report: index, movies, passages, embedded, seconds, embed_seconds, passages_per_s, kinds, skipped, sources.

    Raises:
        CatalogError: no sources, or a source cannot be read (out_dir is then untouched).
        IndexLoadError: out_dir exists and is not a folder.
    """
    start = time.perf_counter()
    if not sources:
        raise CatalogError("no catalog sources given")
    reads = read_catalogs(list(sources), settings, format)
    movies = combine(reads)
    passages = build_passages(movies, settings)
    if embedder is None:
        embedder = models.load_embedder(settings)
    with _writer(out_dir):
        embed_start = time.perf_counter()
        vectors = embed_texts(embedder, [p.text for p in passages], settings, on_progress)
        embed_s = time.perf_counter() - embed_start
        manifest = make_manifest(movies, passages, vectors.shape[1], source_entries(reads), settings,
                                 settings.index.hnsw)
        manifest["build_seconds"] = round(time.perf_counter() - start, 1)  # read, embed and assemble (not the write)
        write_index(MovieIndex(passages, vectors, manifest), movies, out_dir)
    seconds = time.perf_counter() - start
    return {"index": str(out_dir), "movies": len(movies), "passages": len(passages), "embedded": len(passages),
            "seconds": round(seconds, 2), "embed_seconds": round(embed_s, 2),
            "passages_per_s": round(len(passages) / seconds, 1) if seconds else None,
            "kinds": manifest["kinds"], "skipped": _skipped(reads), "sources": [r.path for r in reads]}


def upsert_movies(old: list[Movie], reads: list[CatalogRead]) -> list[Movie]:
    """Old movies updated by the new reads. A film from the same single source is replaced (an edited catalog);
    a film known from other sources is merged (lists united, missing fields filled)."""
    movies = {m.id: m for m in old}
    for m in combine(reads):
        prev = movies.get(m.id)
        movies[m.id] = m if prev is None or prev.source == m.source else merge_movies(prev, m)
    return list(movies.values())


def _match_old_rows(old: MovieIndex, passages: list[Passage]) -> tuple[np.ndarray, dict[str, int]]:
    """For each new passage, the old row whose vector it can reuse (same key and hash, else the very same text),
    or -1 to embed it; and the counts new, updated, unchanged (by key and hash), removed (old keys gone)."""
    old_rows = {p.key: (i, p.hash) for i, p in enumerate(old.passages)}
    by_text = {p.text: i for i, p in enumerate(old.passages)}
    counts = {"new": 0, "updated": 0, "unchanged": 0}
    source_rows = np.empty(len(passages), dtype=np.int64)
    for j, p in enumerate(passages):
        prev = old_rows.get(p.key)
        same = prev is not None and prev[1] == p.hash
        counts["new" if prev is None else "unchanged" if same else "updated"] += 1
        source_rows[j] = prev[0] if same else by_text.get(p.text, -1)
    new_keys = {p.key for p in passages}
    counts["removed"] = sum(1 for k in old_rows if k not in new_keys)
    return source_rows, counts


def add_to_index(index_dir: str, sources: list[str], settings: Settings, format: str | None = None,
                 on_progress: Progress | None = None, embedder=None) -> dict:
    """Upsert the movies of `sources` into an existing index. Passages are matched by key and content hash:
    unchanged ones keep their vectors, changed ones are replaced, new ones added, vanished ones dropped.

    Args:
        index_dir: an existing index folder, replaced whole once the extended index is written.
        sources: catalog files or `hf:` ids; a WikiMovies plot file alone attaches to the index's KB movies.
        settings, format, on_progress, embedder: as for `build_index` (the embedder loads only if text changed).

    Returns:
        A report: index, new, updated, unchanged, removed, embedded, movies, movies_before, passages,
        passages_before, seconds, skipped, sources.

    Raises:
        CatalogError: no sources, or a source cannot be read (the index is then untouched).
        IndexLoadError: no valid index at index_dir, or one built by another embedder or vector size.
    """
    start = time.perf_counter()
    target = Path(index_dir).absolute()
    if not sources:
        raise CatalogError("no catalog sources given")
    read_manifest(target)  # a clear error for a missing index before anything else
    with _writer(target):
        old = load_index(target, settings)
        old_movies = load_movies(target)
        reads = read_catalogs(list(sources), settings, format, known=old_movies)
        movies = upsert_movies(old_movies, reads)
        passages = build_passages(movies, settings)
        source_rows, counts = _match_old_rows(old, passages)
        todo = np.flatnonzero(source_rows < 0)
        vectors = np.empty((len(passages), old.vectors.shape[1]), dtype=np.float32)
        keep = np.flatnonzero(source_rows >= 0)
        vectors[keep] = old.vectors[source_rows[keep]]
        if len(todo):
            if embedder is None:
                embedder = models.load_embedder(settings)
            if embedding_dim(embedder) != vectors.shape[1]:
                raise IndexLoadError(f"{index_dir}: index vectors have dim {vectors.shape[1]}, the embedder makes "
                                     f"dim {embedding_dim(embedder)}; rebuild the index with this embedder")
            vectors[todo] = embed_texts(embedder, [passages[i].text for i in todo], settings, on_progress)
        elif on_progress:
            on_progress(0, 0)
        entries = {s["path"]: s for s in old.manifest.get("sources", [])}
        entries.update({s["path"]: s for s in source_entries(reads)})
        manifest = make_manifest(movies, passages, vectors.shape[1], list(entries.values()), settings,
                                 bool(settings.index.hnsw or old.manifest.get("hnsw")))
        manifest["created_at"] = old.manifest.get("created_at", old.manifest.get("built_at"))
        manifest["build_seconds"] = round(time.perf_counter() - start, 1)
        write_index(MovieIndex(passages, vectors, manifest), movies, target)
    seconds = time.perf_counter() - start
    return {"index": str(index_dir), **counts, "embedded": int(len(todo)), "movies": len(movies),
            "movies_before": len(old_movies), "passages": len(passages), "passages_before": len(old.passages),
            "seconds": round(seconds, 2), "skipped": _skipped(reads), "sources": [r.path for r in reads]}
