"""The searchable index: passages + FAISS (dense) + bm25s (sparse). Persistence lives in index.persist."""
from __future__ import annotations

import re

import bm25s
import faiss
import numpy as np

from index.records import Passage

_TOKEN = re.compile(r"(?u)\b\w+\b")
_STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_EN)


def bm25_tokens(text: str) -> list[str]:
    """Lower-cased word tokens without English stopwords; used for passages and queries alike."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in _STOPWORDS]


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
    retriever = bm25s.BM25()
    corpus = [bm25_tokens(p.text) or ["<empty>"] for p in passages]
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
        self.faiss = faiss_index if faiss_index is not None else make_faiss(self.vectors, self.manifest.get("hnsw", False))
        self.bm25 = bm25 if bm25 is not None else make_bm25(passages)

    def __len__(self) -> int:
        return len(self.passages)

    def dense_search(self, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of shape (n_queries, k); ids are -1 where fewer than k passages exist."""
        k = max(1, min(k, len(self.passages)))
        return self.faiss.search(np.ascontiguousarray(query_vectors, dtype=np.float32), k)

    def bm25_search(self, queries: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of shape (n_queries, k); zero-score hits are returned with id -1."""
        k = max(1, min(k, len(self.passages)))
        tokens = [bm25_tokens(q) or ["<empty>"] for q in queries]
        ids, scores = self.bm25.retrieve(tokens, k=k, show_progress=False)
        ids = np.where(scores > 0, ids, -1)
        return scores, ids
