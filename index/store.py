"""The searchable index: passages + FAISS (dense) + bm25s (sparse), and its on-disk form (save_index, load_index)."""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import bm25s
import faiss
import numpy as np
import pandas as pd

from core.encoders import AGREEMENT, CHECK_SAMPLE, backend_of, vectors_agree
from core.errors import IndexLoadError
from core.fileio import recover_dir
from core.models import embedder_hash
from core.records import Movie, Passage, normalize

BM25_SPLITTER = r"(?u)\b\w+\b"  # every word, one-character ones too ("M", "X" of "Malcolm X", years)


def bm25_tokenizer(vocab: dict[str, int] | None = None) -> bm25s.tokenization.Tokenizer:
    """The one BM25 tokenizer, for passages and queries alike: lower-cased words, English stopwords dropped,
    no stemming. `vocab` is an index's token → id map (BM25.vocab_dict), so queries map onto its ids."""
    tokenizer = bm25s.tokenization.Tokenizer(lower=True, splitter=BM25_SPLITTER, stopwords="en", stemmer=None)
    if vocab is not None:
        tokenizer.word_to_id = dict(vocab)  # what Tokenizer.load_vocab sets; BM25 saves the same map
    return tokenizer


def make_faiss(vectors: np.ndarray, hnsw: bool = False) -> faiss.Index:
    """Inner product over L2-normalised vectors (= cosine); flat by default, HNSW for large corpora."""
    dim = vectors.shape[1]
    if hnsw:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def make_bm25(passages: list[Passage]) -> bm25s.BM25:
    """BM25 over the passages' texts; its vocab_dict is the tokenizer's vocabulary (empty texts get the "" token)."""
    retriever = bm25s.BM25()
    corpus = bm25_tokenizer().tokenize([p.text for p in passages], return_as="tuple", show_progress=False)
    retriever.index(corpus, show_progress=False)
    return retriever


class MovieIndex:
    """Row i of `vectors`, FAISS id i and BM25 doc i are all `passages[i]`."""

    def __init__(
        self,
        passages: list[Passage],
        vectors: np.ndarray,
        manifest: dict | None = None,
        faiss_index: faiss.Index | None = None,
        bm25: bm25s.BM25 | None = None,
    ) -> None:
        if len(passages) != len(vectors):
            raise ValueError(f"{len(passages)} passages but {len(vectors)} vectors")
        self.passages = passages
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.manifest = manifest or {}
        if faiss_index is None:
            faiss_index = make_faiss(self.vectors, self.manifest.get("hnsw", False))
        self.faiss = faiss_index
        self.bm25 = bm25 if bm25 is not None else make_bm25(passages)
        self.tokenizer = bm25_tokenizer(self.bm25.vocab_dict)  # queries use the vocabulary the index was built with

    def __len__(self) -> int:
        return len(self.passages)

    def dense_search(self, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of shape (n_queries, k); ids are -1 where fewer than k passages exist."""
        k = max(1, min(k, len(self.passages)))
        return self.faiss.search(np.ascontiguousarray(query_vectors, dtype=np.float32), k)

    def bm25_search(self, queries: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of shape (n_queries, k); zero-score hits are returned with id -1."""
        k = max(1, min(k, len(self.passages)))
        tokens = self.tokenizer.tokenize(list(queries), update_vocab=False, return_as="ids", show_progress=False,
                                         allow_empty=False)
        scores, ids = np.zeros((len(tokens), k), dtype=np.float32), np.full((len(tokens), k), -1, dtype=np.int64)
        asked = [i for i, t in enumerate(tokens) if t]  # a query of stopwords or unknown words matches nothing
        if asked:
            found, found_scores = self.bm25.retrieve([tokens[i] for i in asked], k=k, show_progress=False)
            scores[asked], ids[asked] = found_scores, np.where(found_scores > 0, found, -1)
        return scores, ids


# ---------------------------------------------------------------- persistence
# Layout of an index folder (no pickle anywhere):
#   manifest.json     embedder name + hash, dim, counts, sources with hashes, schema, build time, versions, the
#                     size ("files") and sha256 ("sha256") of every other file, and its own checksum
#                     ("manifest_sha256"); sizes are checked on every load, hashes by `index verify` (index.verify)
#   passages.parquet  one row per passage (row i = FAISS id i = BM25 doc i)
#   movies.parquet    the Movie records, so `add` can rebuild person/tag cards across old and new movies;
#                     with edges.parquet, the catalog store that index.catalog answers exact queries from
#   edges.parquet     film ↔ value edges (film id, rel, value, normalize()d key): title, people, genres, tags,
#                     languages, numbers as text, extra card fields (catalog_edges; absent from older indexes)
#   vectors.npy       float32 (n, dim), normalised; reused by `add` for unchanged passages
#   faiss.index       faiss.write_index of the flat or HNSW inner-product index
#   bm25/             bm25s.BM25.save(..., allow_pickle=False); its vocab is bm25_tokenizer()'s, reused for queries
#                     (indexes from before bm25s.Tokenizer load too: they hold the same tokens under other ids)

SCHEMA_VERSION = 1
_DISK_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EFBIG)  # named in faiss's messages
MANIFEST = "manifest.json"
DATA_FILES = ("passages.parquet", "movies.parquet", "edges.parquet", "vectors.npy", "faiss.index")


def passages_frame(passages: list[Passage]) -> pd.DataFrame:
    return pd.DataFrame({
        "key": [p.key for p in passages], "kind": [str(p.kind) for p in passages], "title": [p.title for p in passages],
        "text": [p.text for p in passages], "year": pd.array([p.year for p in passages], dtype="Int32"),
        "movie_id": [p.movie_id for p in passages], "genres": [p.genres for p in passages],
        "hash": [p.hash for p in passages],
    })


def passages_from_frame(df: pd.DataFrame) -> list[Passage]:
    years = [None if pd.isna(y) else int(y) for y in df["year"]]
    genres = [list(g) if g is not None else [] for g in df["genres"]]
    return [Passage(key=k, kind=kind, title=t, text=x, year=y, movie_id=m, genres=g, hash=h)
            for k, kind, t, x, y, m, g, h in zip(df["key"], df["kind"], df["title"], df["text"], years,
                                                 df["movie_id"], genres, df["hash"])]


_MOVIE_LISTS = ("directors", "writers", "cast", "genres", "tags")
_MOVIE_NUMBERS = {"year": "Int32", "votes": "Int64", "runtime_min": "Int32", "rating": "Float64"}


def movies_frame(movies: list[Movie]) -> pd.DataFrame:
    columns = {name: [getattr(m, name) for m in movies] for name in Movie.__dataclass_fields__}
    for name, dtype in _MOVIE_NUMBERS.items():
        columns[name] = pd.array(columns[name], dtype=dtype)
    columns["extra"] = [json.dumps(e, ensure_ascii=False) for e in columns["extra"]]
    return pd.DataFrame(columns)


def _none(value):
    return None if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) else value


def movies_from_frame(df: pd.DataFrame) -> list[Movie]:
    cols = {name: df[name].tolist() for name in Movie.__dataclass_fields__}
    for name in _MOVIE_NUMBERS:
        cast = float if name == "rating" else int
        cols[name] = [None if _none(v) is None else cast(v) for v in cols[name]]
    for name in _MOVIE_LISTS:
        cols[name] = [list(v) if _none(v) is not None else [] for v in cols[name]]
    cols["language"] = [_none(v) for v in cols["language"]]
    for name in ("title", "plot", "source", "id"):
        cols[name] = [v if isinstance(v, str) else "" for v in cols[name]]
    cols["extra"] = [json.loads(v) if isinstance(v, str) and v else {} for v in cols["extra"]]
    names = list(cols)
    return [Movie(**dict(zip(names, values))) for values in zip(*cols.values())]


# ---------------------------------------------------------------- the catalog store's edges (index.catalog)

EDGE_LISTS = {"director": "directors", "writer": "writers", "actor": "cast", "genre": "genres", "tag": "tags"}
EDGE_NUMBERS = {"year": "year", "rating": "rating", "votes": "votes", "runtime": "runtime_min"}
KB_WORDS = {"rating": "IMDb rating", "votes": "IMDb votes"}  # the WikiMovies KB rates in words ("good", "famous")
OTHER_YEARS = "Other release years"  # a KB subject's further years (index.sources)


def catalog_edges(movie: Movie) -> Iterator[tuple[str, str]]:
    """(rel, value) pairs of one film, as the catalog store follows them: its title, people, genres and tags,
    each language of "English, French", its numbers as text (the KB's rating and votes words where it has no
    number; its other release years too) and every extra card field under its own label (e.g. "Gross")."""
    yield "title", movie.title
    for rel, name in EDGE_LISTS.items():
        yield from ((rel, v) for v in dict.fromkeys(getattr(movie, name)) if v)
    yield from (("language", v) for v in dict.fromkeys(_split(movie.language)))
    for rel, name in EDGE_NUMBERS.items():
        value = getattr(movie, name)
        if value is not None:
            yield rel, number_text(value)
        elif rel in KB_WORDS:
            yield from ((rel, v) for v in _split(movie.extra.get(KB_WORDS[rel])))
    yield from (("year", v) for v in _split(movie.extra.get(OTHER_YEARS)) if v != str(movie.year))
    yield from movie.extra.items()


def number_text(value: float | int | str) -> str:
    """A number as an edge value (and as index.catalog matches one): 1979, "1979.0" → "1979"; 8.25 → "8.25"."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(int(x)) if x.is_integer() else f"{x:g}"


def _split(text: str | None) -> list[str]:
    return [v for v in (x.strip() for x in (text or "").split(",")) if v]


def edges_frame(movies: list[Movie]) -> pd.DataFrame:
    """Every film's catalog_edges as rows (film id, rel, value, key = normalize(value)), films in order."""
    rows = [(m.id, rel, value) for m in movies for rel, value in catalog_edges(m)]
    keys = {value: normalize(value) for value in {r[2] for r in rows}}
    return pd.DataFrame({"film": [r[0] for r in rows], "rel": [r[1] for r in rows], "value": [r[2] for r in rows],
                         "key": [keys[r[2]] for r in rows]})


def save_index(index: MovieIndex, movies: list[Movie], folder: str | Path) -> None:
    """Write every file of `index` into `folder`, manifest last (with the data files' sizes, checked on load).

    Not atomic by itself: index.build.write_index calls it on a fresh staging folder, which replace_dir fsyncs
    and swaps in.

    Args:
        index: the passages, vectors, FAISS and BM25 indexes and the manifest (its "files" entry is set here).
        movies: the Movie records behind the passages, kept for `add`.
        folder: the folder to write into (created if missing).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    writes = {
        "passages.parquet": lambda path: passages_frame(index.passages).to_parquet(path, index=False),
        "movies.parquet": lambda path: movies_frame(movies).to_parquet(path, index=False),
        "edges.parquet": lambda path: edges_frame(movies).to_parquet(path, index=False),
        "vectors.npy": lambda path: np.save(path, index.vectors, allow_pickle=False),
        "faiss.index": lambda path: faiss.write_index(index.faiss, str(path)),
        "bm25": lambda path: index.bm25.save(str(path), allow_pickle=False, show_progress=False),
    }
    for name, write in writes.items():
        _write(folder / name, write)
    names = [*DATA_FILES, *(f"bm25/{f.name}" for f in sorted((folder / "bm25").iterdir()))]
    index.manifest["files"] = {name: (folder / name).stat().st_size for name in names}
    index.manifest["sha256"] = {name: file_sha256(folder / name) for name in names}
    index.manifest["manifest_sha256"] = manifest_checksum(index.manifest)
    text = json.dumps(index.manifest, indent=2, ensure_ascii=False) + "\n"
    _write(folder / MANIFEST, lambda path: path.write_text(text, encoding="utf-8"))


def _write(path: Path, write: Callable[[Path], object]) -> None:
    """Write one file (or the bm25 folder). A failure becomes an OSError naming it, with the reason the disk gave
    (faiss reports a full disk as a RuntimeError, numpy as a short write without an errno) and the space left."""
    try:
        write(path)
    except (OSError, RuntimeError) as exc:
        code = getattr(exc, "errno", None) or next((c for c in _DISK_ERRORS if os.strerror(c) in str(exc)), None)
        try:
            free = shutil.disk_usage(path.parent).free
        except OSError:
            free = None
        if code is None and free == 0:  # a short write on a full disk
            code = errno.ENOSPC
        reason = os.strerror(code) if code else first_line(exc, path)
        if free is not None:
            reason += f", {free / 1e6:.1f} MB free on that disk"
        raise OSError(code or errno.EIO, reason, str(path)) from exc


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_checksum(manifest: dict) -> str:
    """sha256 of the manifest's content without its own checksum: an edit after the build shows (index verify)."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def read_manifest(index_dir: str | Path) -> dict:
    """The manifest of an index folder; IndexLoadError when the folder or manifest is missing or invalid."""
    folder = Path(index_dir)
    recover_dir(folder, marker=MANIFEST)  # a replace interrupted between its two renames (non-Linux)
    if not folder.exists():
        raise IndexLoadError(f"{index_dir}: no index here; "
                             f"build one with `python -m index build SOURCE... --out {index_dir}`")
    if not folder.is_dir():
        raise IndexLoadError(f"{index_dir}: not an index folder (it is a file)")
    if not (folder / MANIFEST).is_file():
        raise IndexLoadError(f"{index_dir}: not an index folder (no {MANIFEST})")
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexLoadError(f"{folder / MANIFEST}: corrupt manifest.json ({exc}); rebuild the index") from exc
    if not isinstance(manifest, dict) or manifest.get("schema_version") != SCHEMA_VERSION:
        found = manifest.get("schema_version") if isinstance(manifest, dict) else None
        raise IndexLoadError(f"{index_dir}: index schema version {found}, expected {SCHEMA_VERSION}; "
                             f"rebuild the index")
    files = manifest.get("files", {})
    if not isinstance(files, dict):
        raise IndexLoadError(f"{folder / MANIFEST}: corrupt manifest.json (its files entry is not a mapping); "
                             f"rebuild the index")
    for name, size in files.items():
        path = folder / name
        if not path.is_file():
            raise IndexLoadError(f"{path}: corrupt index, {name} is missing; rebuild the index")
        if path.stat().st_size != size:
            raise IndexLoadError(f"{path}: corrupt index, {name} has {path.stat().st_size} bytes, "
                                 f"manifest says {size}; rebuild the index")
    return manifest


def check_embedder(manifest: dict, index_dir, settings=None, embedder=None) -> None:
    """Refuse an index built with another embedder (by weight hash) or with another vector size."""
    if settings is not None:
        current = embedder_hash(settings.models.embedder, settings)
        built = manifest.get("embedder_hash")
        same = current == built if current and built else settings.models.embedder == manifest.get("embedder")
        if not same:
            raise IndexLoadError(
                f"{index_dir}: built with embedder '{manifest.get('embedder')}' (hash {built}), but the current "
                f"embedder is '{settings.models.embedder}' (hash {current}); rebuild the index with this embedder")
    if embedder is not None:
        get_dim = getattr(embedder, "get_embedding_dimension", None) or embedder.get_sentence_embedding_dimension
        dim = get_dim()
        if dim != manifest.get("dim"):
            raise IndexLoadError(f"{index_dir}: index vectors have dim {manifest.get('dim')}, "
                                 f"the embedder makes dim {dim}; rebuild the index with this embedder")


def load_movies(index_dir: str | Path) -> list[Movie]:
    """The Movie records an index was built from (what `add` rebuilds person and tag cards across)."""
    try:
        return movies_from_frame(pd.read_parquet(Path(index_dir) / "movies.parquet"))
    except Exception as exc:
        path = Path(index_dir) / "movies.parquet"
        raise IndexLoadError(f"{path}: corrupt movies.parquet ({first_line(exc, path)})") from exc


def load_index(index_dir: str | Path, settings=None, embedder=None) -> MovieIndex:
    """Load an index folder, checking file sizes, counts and dimensions against its manifest.

    Args:
        index_dir: a folder written by index.build (build_index, add_to_index).
        settings: when given, refuse an index built by another embedder than `settings.models.embedder`
            (compared by weight hash).
        embedder: when given, refuse an index whose vector size differs from the embedder's.

    Returns:
        The MovieIndex (vectors memory-mapped read-only).

    Raises:
        IndexLoadError: the folder is missing, corrupt, or mismatched (one line that says what to do).
    """
    folder = Path(index_dir)
    manifest = read_manifest(folder)
    check_embedder(manifest, index_dir, settings, embedder)
    current = "passages.parquet"
    try:
        passages = passages_from_frame(pd.read_parquet(folder / current))
        current = "vectors.npy"
        vectors = np.load(folder / current, mmap_mode="r", allow_pickle=False)
        current = "faiss.index"
        faiss_index = faiss.read_index(str(folder / current))
        current = "bm25"
        bm25 = bm25s.BM25.load(str(folder / current), allow_pickle=False, show_progress=False)
    except Exception as exc:
        path = folder / current
        raise IndexLoadError(f"{path}: corrupt index file {current} ({first_line(exc, path)})") from exc
    if vectors.ndim != 2 or vectors.dtype != np.float32:
        raise IndexLoadError(f"{folder / 'vectors.npy'}: corrupt index, vectors.npy is {vectors.dtype} {vectors.shape}")
    num_docs = bm25.scores.get("num_docs") if isinstance(bm25.scores, dict) else None
    counts = {"passages.parquet": len(passages), "vectors.npy": vectors.shape[0], "faiss.index": faiss_index.ntotal,
              "bm25": num_docs if num_docs is not None else len(passages)}
    _agree(folder, "passage counts", manifest.get("passages"), counts)
    _agree(folder, "dims", manifest.get("dim"), {"vectors.npy": vectors.shape[1], "faiss.index": faiss_index.d})
    check_backend(manifest, index_dir, passages, vectors, embedder)
    return MovieIndex(passages, vectors, manifest, faiss_index, bm25)


def check_backend(manifest: dict, index_dir, passages: list[Passage], vectors: np.ndarray, embedder) -> None:
    """Vectors another embedder backend made (manifest "embedder_backend"; torch before it was recorded) are accepted
    only when `embedder` reproduces them on a sample of passages: least cosine >= core.encoders.AGREEMENT."""
    current, built = backend_of(embedder), manifest.get("embedder_backend", "torch")
    if current is None or current == built or not len(passages):
        return
    rows = np.unique(np.linspace(0, len(passages) - 1, CHECK_SAMPLE).astype(int))
    cosine = vectors_agree(embedder, [passages[i].text for i in rows], vectors[rows])
    if cosine < AGREEMENT:
        raise IndexLoadError(f"{index_dir}: embedded by the {built} embedder backend, whose vectors the {current} "
                             f"backend does not reproduce (least cosine {cosine:.4f} < {AGREEMENT}); rebuild the index "
                             f"or pass --embedder-backend {built}")


def first_line(exc: BaseException, path: Path | None = None) -> str:
    """The first line of an error's message (its type when empty), with `path` shortened to its file name."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line.replace(str(path), path.name) if path is not None else line


def _agree(folder: Path, what: str, expected, found: dict[str, int]) -> None:
    """IndexLoadError naming the file whose `what` (passage counts, dims) differs from the manifest's, or the manifest
    itself when every file disagrees with it."""
    odd = [name for name, n in found.items() if n != expected]
    if not odd:
        return
    shown = ", ".join(f"{name} {n}" for name, n in found.items())
    culprit = MANIFEST if len(odd) == len(found) else odd[0]
    raise IndexLoadError(f"{folder / culprit}: corrupt index, {what} disagree (manifest {expected}, {shown}); "
                         f"rebuild the index")

