"""How cost grows with corpus size: build time and retrieval latency at 10k, 50k and 100k synthetic passages,
flat vs HNSW FAISS, with HNSW recall@k measured against exact flat search.

Synthetic corpus: fictional film cards and plot passages from templates (real words for BM25). Vectors are
mixtures of real MiniLM embeddings of a pool of such texts plus Gaussian noise, so they live where the
embedder's vectors live without embedding 100k texts; each query vector is a fresh mixture near one
passage. Embedding time is extrapolated from a measured encode rate on sample passages (it is linear in n);
FAISS and BM25 build times and all search times are measured.
"""
from __future__ import annotations

import random
import time

import numpy as np
from tqdm.auto import tqdm

from benchmarks.common import rss_mb, stats, time_each
from core.config import Settings
from core.records import Passage
from index.store import MovieIndex, make_bm25, make_faiss
from rag.retrieve import Retriever

_ADJ = ("silent crimson iron velvet hollow golden broken northern secret burning distant wild last lost "
        "frozen electric bitter quiet savage hidden").split()
_NOUN = ("harbor garden storm echo moon river winter shadow compass light tide orchard signal lantern "
         "kingdom mirror engine frontier voyage letter").split()
_NAMES = ("Ada Bruno Clara Dario Elsa Felix Greta Hugo Ines Jonas Kira Lars Mona Nils Olga Pavel Rosa Sven Tilda "
          "Arden Bexley Corvin Dalby Ekholm Falk Garrow Hale Ivers Jessup Korda Lindqvist Marlow Norell").split()
_GENRES = ("Drama", "Comedy", "Thriller", "Horror", "Romance", "Science Fiction", "Western", "Crime")


class LookupEmbedder:
    """Stands in for the embedder in Retriever: returns the precomputed vector of each query text."""

    def __init__(self, table: dict[str, np.ndarray]) -> None:
        self.table = table

    def encode(self, texts, **_ignored) -> np.ndarray:
        return np.stack([self.table[t] for t in ([texts] if isinstance(texts, str) else texts)])


def synthetic_passages(n: int, seed: int = 0) -> list[Passage]:
    """n passages: every 3rd is a film card, the rest are plot chunks of that film."""
    rng = random.Random(seed)
    out, title, year = [], "", 2000
    for i in range(n):
        if i % 3 == 0:
            title = f"The {rng.choice(_ADJ).title()} {rng.choice(_NOUN).title()} {i // 3}"
            year = rng.randint(1930, 2024)
            who = lambda: f"{rng.choice(_NAMES)} {rng.choice(_NAMES)}"
            text = (f"{title} ({year}). Directed by {who()}. Starring {who()}, {who()}. "
                    f"Genre: {rng.choice(_GENRES)}.")
            out.append(Passage(key=f"card:{i}", kind="card", title=title, text=text, year=year, movie_id=str(i // 3)))
        else:
            words = " ".join(rng.choice(_ADJ + _NOUN) for _ in range(40))
            out.append(Passage(key=f"plot:{i}", kind="plot", title=title, text=f"{title}: {words}.", year=year,
                               movie_id=str(i // 3)))
    return out


def mixed_vectors(pool: np.ndarray, n: int, rng: np.random.Generator,
                  noise: float = 0.03) -> tuple[np.ndarray, np.ndarray]:
    """(n normalised vectors, their two pool indices): pool[a] + 0.5 * pool[b] + Gaussian noise."""
    pairs = rng.integers(0, len(pool), size=(n, 2))
    vec = pool[pairs[:, 0]] + 0.5 * pool[pairs[:, 1]] + rng.normal(0, noise, size=(n, pool.shape[1])).astype(np.float32)
    vec /= np.linalg.norm(vec, axis=1, keepdims=True)
    return vec.astype(np.float32), pairs


def recall_at(approx: np.ndarray, exact: np.ndarray, k: int) -> float:
    """Mean fraction of the exact top-k ids that the approximate search also returns in its top k."""
    return float(np.mean([len(set(a[:k]) & set(e[:k])) / k for a, e in zip(approx, exact)]))


def bench_size(passages: list[Passage], vectors: np.ndarray, queries: list[str], qvecs: np.ndarray,
               settings: Settings, k: int, embed_rate: float) -> dict:
    n = len(passages)
    t = time.perf_counter()
    flat = make_faiss(vectors, hnsw=False)
    flat_s = time.perf_counter() - t
    t = time.perf_counter()
    hnsw = make_faiss(vectors, hnsw=True)
    hnsw_s = time.perf_counter() - t
    t = time.perf_counter()
    bm25 = make_bm25(passages)
    bm25_s = time.perf_counter() - t
    embed_est = n / embed_rate

    table = dict(zip(queries, qvecs))
    lookup = LookupEmbedder(table)
    row = {"passages": n, "embed_s_estimated": round(embed_est, 1), "faiss_flat_build_s": round(flat_s, 3),
           "faiss_hnsw_build_s": round(hnsw_s, 2), "bm25_build_s": round(bm25_s, 2),
           "build_s_flat_estimated": round(embed_est + flat_s + bm25_s, 1),
           "build_s_hnsw_estimated": round(embed_est + hnsw_s + bm25_s, 1)}
    for name, fa in (("flat", flat), ("hnsw", hnsw)):
        idx = MovieIndex(passages, vectors, {"hnsw": name == "hnsw"}, faiss_index=fa, bm25=bm25)
        retriever = Retriever(idx, lookup, settings)
        dense = time_each(lambda q, fa=fa: fa.search(table[q][None, :], k), queries)
        hybrid = time_each(lambda q, retriever=retriever: retriever.search(q, k=k), queries)
        row[f"dense_{name}_ms"] = stats(dense, 1000, 3)
        row[f"hybrid_linked_{name}_ms"] = stats(hybrid, 1000, 2)
    row["bm25_ms"] = stats(time_each(lambda q: idx.bm25_search([q], k), queries), 1000, 2)  # tokenize + retrieve
    depth = max(k, settings.retrieval.candidates)
    _, exact = flat.search(qvecs, depth)
    _, approx = hnsw.search(qvecs, depth)
    row[f"hnsw_recall_at_{k}"] = round(recall_at(approx, exact, k), 4)
    row[f"hnsw_recall_at_{depth}"] = round(recall_at(approx, exact, depth), 4)
    row["hnsw_params"] = {"M": 32, "efConstruction": hnsw.hnsw.efConstruction, "efSearch": hnsw.hnsw.efSearch}
    default_ef, hnsw.hnsw.efSearch = hnsw.hnsw.efSearch, 2 * hnsw.hnsw.efSearch  # the recall a wider search buys
    _, approx = hnsw.search(qvecs, depth)
    row[f"hnsw_ef{hnsw.hnsw.efSearch}_recall_at_{k}"] = round(recall_at(approx, exact, k), 4)
    row[f"hnsw_ef{hnsw.hnsw.efSearch}_ms"] = stats(time_each(lambda q: hnsw.search(table[q][None, :], k), queries),
                                                   1000, 3)
    hnsw.hnsw.efSearch = default_ef
    row["rss_mb"] = rss_mb()
    return row


def bench_scaling(embedder, settings: Settings, sizes: list[int] = (10_000, 50_000, 100_000), queries: int = 200,
                  k: int = 5, pool: int = 1000, embed_sample: int = 512, seed: int = 0, progress: bool = False) -> dict:
    """One synthetic corpus of max(sizes) passages; each size uses its first n passages."""
    rng = np.random.default_rng(seed)
    n_max = max(sizes)
    passages = synthetic_passages(n_max, seed)
    pool_texts = [p.text for p in synthetic_passages(pool, seed + 1)]
    pool_vecs = embedder.encode(pool_texts, batch_size=settings.index.embed_batch_size, normalize_embeddings=True,
                                convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
    sample = [p.text for p in passages[:embed_sample]]
    t = time.perf_counter()
    embedder.encode(sample, batch_size=settings.index.embed_batch_size, normalize_embeddings=True,
                    show_progress_bar=False)
    embed_rate = len(sample) / (time.perf_counter() - t)
    vectors, pairs = mixed_vectors(pool_vecs, n_max, rng)

    qtexts = [f"Who directed {passages[3 * int(i)].title}?" for i in rng.integers(0, n_max // 3, size=queries)]
    qtexts = list(dict.fromkeys(qtexts))
    encode_ms = stats(time_each(lambda q: embedder.encode([q], normalize_embeddings=True, show_progress_bar=False),
                                    qtexts[:50]), 1000, 2)
    rows = []
    for n in tqdm(sorted(sizes), desc="scaling", unit="size", disable=not progress):
        # queries near passages of the first n: a fresh mixture of the same two pool vectors + noise
        targets = rng.integers(0, n, size=len(qtexts))
        qvecs = pool_vecs[pairs[targets, 0]] + 0.5 * pool_vecs[pairs[targets, 1]]
        qvecs += rng.normal(0, 0.03, size=qvecs.shape).astype(np.float32)
        qvecs = (qvecs / np.linalg.norm(qvecs, axis=1, keepdims=True)).astype(np.float32)
        rows.append(bench_size(passages[:n], vectors[:n], qtexts, qvecs, settings, k, embed_rate))
    return {"sizes": sorted(sizes), "queries": len(qtexts), "k": k, "pool_texts": pool,
            "embed_passages_per_s": round(embed_rate, 1), "query_encode_ms": encode_ms, "rows": rows,
            "method": __doc__.split("\n\n")[1].replace("\n", " ")}
