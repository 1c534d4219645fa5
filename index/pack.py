"""Packs: a compact, shippable form of an index folder that unpacks into a normal one (`index pack|unpack`).

A pack holds the index's vectors as int8 with one scale per dimension (max |v| / 127), keyed by the passages'
content hashes, and a manifest naming the catalog files the index was built from (paths relative to the pack,
with their sha256). Unpacking reads those catalogs again and rebuilds movies, passages, FAISS and BM25 exactly as
`index build` does; each passage takes its vector from the pack by hash (dequantised, renormalised), and only
passages whose text changed since packing are embedded. The unpacked folder carries a normal manifest (embedder
hash, counts, file sizes), so it passes every load check of index.store.

    python -m index build data/sample_movies.csv data/wikimovies_kb.txt.gz data/wikimovies_plots.txt.gz \\
        data/tmdb_9000plus.csv.gz --out indexes/catalog
    python -m index pack indexes/catalog --out data/index_pack
    python -m index unpack data/index_pack --out indexes/catalog

Files: pack.json, and vectors.npz (np.savez_compressed, read with allow_pickle=False): q int8 (n, dim),
scale float32 (dim,), hashes uint8 (n, 10) = bytes.fromhex(passage.hash).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from core import models  # module attribute: tests replace models.load_embedder
from core.config import Settings
from core.errors import IndexLoadError
from core.fileio import replace_dir, staging_dir, writer_lock
from index.build import Progress, embed_texts, make_manifest, source_entries, write_index
from index.detect import read_bytes
from index.passages import build_passages
from index.sources import combine, read_catalogs
from index.store import MovieIndex, check_embedder, load_index

PACK_VERSION = 1
PACK_MANIFEST = "pack.json"
VECTORS = "vectors.npz"
HASH_BYTES = 10  # core.records.content_hash: 20 hex digits
PASSAGE_SETTINGS = ("plot_chunk_words", "person_card_films", "tag_cards")  # IndexConfig fields the passages follow


# ---------------------------------------------------------------- int8 scalar quantisation

def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(q int8 (n, dim), scale float32 (dim,)) with vectors ≈ q * scale; each dimension uses its full int8 range."""
    scale = np.abs(vectors).max(axis=0).astype(np.float32) / 127.0 if len(vectors) else np.ones(vectors.shape[1])
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)  # an all-zero dimension stays zero
    q = np.clip(np.rint(vectors / scale), -127, 127).astype(np.int8)
    return q, scale


def dequantize(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """float32 rows q * scale, L2-normalised again (the index searches by inner product = cosine)."""
    vectors = q.astype(np.float32) * scale.astype(np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def hash_bytes(hashes: list[str]) -> np.ndarray:
    """Passage content hashes (hex) as an (n, 10) uint8 array."""
    return np.frombuffer(b"".join(bytes.fromhex(h) for h in hashes), dtype=np.uint8).reshape(len(hashes), HASH_BYTES)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- pack

def _pack_sources(manifest: dict, index_dir: str, out: Path) -> list[dict]:
    """The index's catalog files, relative to the pack folder; each must still hold what the index was built from."""
    entries = []
    for source in manifest.get("sources", []):
        path = Path(source.get("path", ""))
        if str(path).startswith("hf:") or not path.is_file():
            raise IndexLoadError(f"{index_dir}: source {path} is not a local file; a pack needs the catalog files")
        if hashlib.sha256(read_bytes(str(path))).hexdigest() != source.get("sha256"):
            raise IndexLoadError(f"{index_dir}: {path} changed since the index was built; rebuild the index first")
        entries.append({"path": os.path.relpath(path, out), "format": source.get("format"),
                        "sha256": source.get("sha256"), "movies": source.get("movies")})
    return entries


def pack_index(index_dir: str, out_dir: str, settings: Settings) -> dict:
    """Write the pack of an index folder to `out_dir` (replaced atomically).

    Args:
        index_dir: an index built from local catalog files (`index build`), by the current embedder.
        out_dir: the pack folder; its catalog paths are stored relative to it, so move the pack with its catalogs.
        settings: the embedder the index must have been built with.

    Returns:
        A report: pack, passages, dim, bytes, cosine_min, cosine_mean (dequantised vs the index's float32 vectors).

    Raises:
        IndexLoadError: the index is missing or corrupt, or its catalogs are not local files as built.
    """
    index = load_index(index_dir, settings)
    out = Path(out_dir).absolute()
    manifest = {k: v for k, v in index.manifest.items() if k not in ("files", "sources")}  # sources: relative below
    sources = _pack_sources(index.manifest, index_dir, out)
    vectors = np.asarray(index.vectors, dtype=np.float32)
    q, scale = quantize(vectors)
    cosine = (dequantize(q, scale) * vectors).sum(axis=1) if len(vectors) else np.ones(1)
    with writer_lock(out), staging_dir(out) as tmp:
        np.savez_compressed(tmp / VECTORS, q=q, scale=scale, hashes=hash_bytes([p.hash for p in index.passages]))
        pack = {"pack_version": PACK_VERSION, "passages": len(index.passages), "dim": int(vectors.shape[1]),
                "quantization": {"dtype": "int8", "scale": "per dimension: max |v| / 127",
                                 "cosine_to_float32": {"min": round(float(cosine.min()), 6),
                                                       "mean": round(float(cosine.mean()), 6)}},
                "sources": sources, "index": manifest,
                "packed_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "files": {VECTORS: {"size": (tmp / VECTORS).stat().st_size, "sha256": _sha256(tmp / VECTORS)}}}
        (tmp / PACK_MANIFEST).write_text(json.dumps(pack, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        size = sum(f.stat().st_size for f in tmp.iterdir())
        replace_dir(tmp, out)
    return {"pack": str(out_dir), "passages": len(index.passages), "dim": int(vectors.shape[1]), "bytes": size,
            **{f"cosine_{k}": v for k, v in pack["quantization"]["cosine_to_float32"].items()}}


# ---------------------------------------------------------------- read and check

def read_pack(pack_dir: str | Path) -> dict:
    """The pack manifest, after checking the folder, the version and every file's size and sha256.

    Raises:
        IndexLoadError: one line saying what is missing or corrupt.
    """
    folder = Path(pack_dir)
    if not (folder / PACK_MANIFEST).is_file():
        raise IndexLoadError(f"{pack_dir}: not an index pack (no {PACK_MANIFEST}); "
                             f"make one with `python -m index pack INDEX --out {pack_dir}`")
    try:
        pack = json.loads((folder / PACK_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexLoadError(f"{pack_dir}: corrupt {PACK_MANIFEST} ({exc})") from exc
    if not isinstance(pack, dict) or pack.get("pack_version") != PACK_VERSION:
        found = pack.get("pack_version") if isinstance(pack, dict) else None
        raise IndexLoadError(f"{pack_dir}: pack version {found}, expected {PACK_VERSION}; pack the index again")
    if not isinstance(pack.get("index"), dict) or not isinstance(pack.get("sources"), list):
        raise IndexLoadError(f"{pack_dir}: corrupt {PACK_MANIFEST} (no index manifest or sources)")
    for name, expected in (pack.get("files") or {}).items():
        path = folder / name
        if not path.is_file():
            raise IndexLoadError(f"{pack_dir}: corrupt pack, {name} is missing")
        if path.stat().st_size != expected.get("size") or _sha256(path) != expected.get("sha256"):
            raise IndexLoadError(f"{pack_dir}: corrupt pack, {name} does not match its size and sha256 in "
                                 f"{PACK_MANIFEST}")
    if VECTORS not in (pack.get("files") or {}):
        raise IndexLoadError(f"{pack_dir}: corrupt {PACK_MANIFEST} (no {VECTORS} entry)")
    return pack


def pack_vectors(pack_dir: str | Path, pack: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(q, scale, hashes) of a read pack, with shapes and dtypes checked against its manifest."""
    try:
        with np.load(Path(pack_dir) / VECTORS, allow_pickle=False) as data:
            q, scale, hashes = data["q"], data["scale"], data["hashes"]
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise IndexLoadError(f"{pack_dir}: corrupt pack, cannot read {VECTORS} ({detail})") from exc
    n, dim = pack.get("passages"), pack.get("dim")
    if (q.dtype, scale.dtype, hashes.dtype) != (np.int8, np.float32, np.uint8) or q.shape != (n, dim) \
            or scale.shape != (dim,) or hashes.shape != (n, HASH_BYTES):
        raise IndexLoadError(f"{pack_dir}: corrupt pack, {VECTORS} holds q {q.dtype} {q.shape}, scale {scale.shape}, "
                             f"hashes {hashes.shape}; the manifest says {n} passages of dim {dim}")
    return q, scale, hashes


def pack_sources(pack_dir: str | Path, pack: dict) -> list[str]:
    """The pack's catalog files as paths (resolved against the pack folder)."""
    return [str((Path(pack_dir) / s["path"]).resolve()) for s in pack["sources"]]


def pack_fingerprint(pack_dir: str | Path) -> str:
    """sha256 of the pack manifest: an index unpacked from another pack version is stale."""
    return _sha256(Path(pack_dir) / PACK_MANIFEST)


def check_pack(pack_dir: str | Path, settings: Settings) -> dict:
    """read_pack plus the embedder check (the same one index.store applies to index folders)."""
    pack = read_pack(pack_dir)
    check_embedder(pack["index"], pack_dir, settings)
    return pack


# ---------------------------------------------------------------- unpack

def unpack_index(pack_dir: str, out_dir: str, settings: Settings, embedder=None,
                 on_progress: Progress | None = None) -> dict:
    """Rebuild the packed index from its catalogs into `out_dir` (replaced atomically), vectors from the pack.

    Args:
        pack_dir: a folder written by `pack_index`.
        out_dir: the index folder to write.
        settings: the embedder (checked against the pack's) and progress bars; the passage settings come from the
            pack, so the passages hash as they did when packed.
        embedder: for passages whose text changed since packing; loaded only if there are any.
        on_progress: called with (passages embedded, total) while changed passages are embedded.

    Returns:
        A report: index, movies, passages, reused, embedded, seconds, sources.

    Raises:
        IndexLoadError: the pack is corrupt or made with another embedder.
        CatalogError: a catalog file of the pack is missing or unreadable (out_dir is then untouched).
    """
    start = time.perf_counter()
    pack = check_pack(pack_dir, settings)
    built = pack["index"]
    settings = settings.with_overrides(**{k: v for k, v in (built.get("passage_settings") or {}).items()
                                          if k in PASSAGE_SETTINGS})
    q, scale, hashes = pack_vectors(pack_dir, pack)
    with tqdm(total=4, desc=f"unpacking {Path(pack_dir).name}", unit="step", disable=not settings.run.progress,
              bar_format="{desc}: {n}/{total} steps {postfix} [{elapsed}]") as bar:
        bar.set_postfix_str("reading the catalogs")
        reads = read_catalogs(pack_sources(pack_dir, pack), settings)
        movies = combine(reads)
        bar.update()
        bar.set_postfix_str("building passages")
        passages = build_passages(movies, settings)
        bar.update()
        bar.set_postfix_str("dequantising vectors")
        row_of = {h.tobytes(): i for i, h in enumerate(hashes)}
        rows = np.array([row_of.get(bytes.fromhex(p.hash), -1) for p in passages], dtype=np.int64)
        found, todo = np.flatnonzero(rows >= 0), np.flatnonzero(rows < 0)
        vectors = np.empty((len(passages), q.shape[1]), dtype=np.float32)
        vectors[found] = dequantize(q[rows[found]], scale)
        if len(todo):  # passages whose text changed since packing
            embedder = embedder or models.load_embedder(settings)
            vectors[todo] = embed_texts(embedder, [passages[i].text for i in todo], settings, on_progress)
        bar.update()
        bar.set_postfix_str("indexing (FAISS, BM25) and writing")
        manifest = make_manifest(movies, passages, vectors.shape[1], source_entries(reads), settings,
                                 bool(built.get("hnsw")))
        manifest["unpacked_from"] = {"pack": str(Path(pack_dir).absolute()),
                                     "pack_sha256": pack_fingerprint(pack_dir),
                                     "packed_index_built_at": built.get("built_at"), "vectors": "int8 → float32",
                                     "reused": int(len(found)), "embedded": int(len(todo))}
        with writer_lock(out_dir):
            index = MovieIndex(passages, vectors, manifest)
            manifest["build_seconds"] = round(time.perf_counter() - start, 1)
            write_index(index, movies, out_dir)
        bar.update()
    return {"index": str(out_dir), "movies": len(movies), "passages": len(passages), "reused": int(len(found)),
            "embedded": int(len(todo)), "seconds": round(time.perf_counter() - start, 2),
            "sources": [r.path for r in reads]}
