"""How much the shipped pack's int8 vectors lose against the float32 index they were packed from.

    flock /tmp/heavy.lock python -m benchmarks.pack_recall --index indexes/catalog --pack data/index_pack \\
        --questions ../shared/data/wikimovies/questions/wiki_entities_dev.txt --n 200 --out runs/pack_recall.json

The pack's vectors are dequantised (as unpacking does) in the float32 index's passage order, matched by content
hash. Reported: cosine between dequantised and original vectors; over n sampled questions, the overlap of the
dense top-k (|int8 ∩ float32| / k) and top-1 agreement; and answer recall@k and MRR (evaluation.metrics: a passage
of a gold film or holding a gold answer) for dense search alone and for the full hybrid retriever (dense + BM25 +
linking), float32 vs int8. Use dev questions, never the test files.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

from benchmarks.common import retrieval_scores, write_json
from core.config import Settings
from core.models import load_embedder
from evaluation.questions import read_questions
from index.pack import dequantize, pack_vectors, read_pack
from index.store import MovieIndex, load_index
from rag.retrieve import Retriever


def dequantised_like(index: MovieIndex, pack_dir: str) -> np.ndarray:
    """The pack's vectors, dequantised, in the order of `index.passages` (every passage must be in the pack)."""
    q, scale, hashes = pack_vectors(pack_dir, read_pack(pack_dir))
    row_of = {h.tobytes(): i for i, h in enumerate(hashes)}
    rows = [row_of.get(bytes.fromhex(p.hash)) for p in index.passages]
    missing = sum(r is None for r in rows)
    if missing:
        raise SystemExit(f"error: {missing} passages of the index are not in the pack; pack this index first")
    return dequantize(q[np.array(rows)], scale)


def measure(index_dir: str, pack_dir: str, questions_file: str, n: int, k: int, seed: int) -> dict:
    settings = Settings().with_overrides(progress=False)
    full = load_index(index_dir, settings)
    vectors = np.asarray(full.vectors, dtype=np.float32)
    deq = dequantised_like(full, pack_dir)
    cosine = (deq * vectors).sum(axis=1)
    small = MovieIndex(full.passages, deq, full.manifest, bm25=full.bm25)  # FAISS rebuilt over the int8 vectors
    questions = random.Random(seed).sample(read_questions(questions_file), n)
    texts = [q.question for q in questions]
    embedder = load_embedder(settings)
    query = embedder.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    _, ids32 = full.dense_search(query, k)
    _, ids8 = small.dense_search(query, k)
    overlap = [len(set(a) & set(b)) / k for a, b in zip(ids32.tolist(), ids8.tolist())]

    def dense_hits(ids: np.ndarray) -> list[list]:
        return [[full.passages[i] for i in row if i >= 0] for row in ids.tolist()]

    hybrid = {name: [r.hits for r in Retriever(index, embedder, settings).search_batch(texts, k=k)]
              for name, index in (("float32", full), ("int8", small))}
    return {
        "index": index_dir, "pack": pack_dir, "passages": len(full), "questions": questions_file, "n": n, "k": k,
        "seed": seed,
        "cosine_dequantised_vs_float32": {"min": round(float(cosine.min()), 6), "mean": round(float(cosine.mean()), 6),
                                          "p01": round(float(np.percentile(cosine, 1)), 6)},
        f"dense_top{k}_overlap": round(float(np.mean(overlap)), 4),
        "dense_top1_agreement": round(float(np.mean(ids32[:, 0] == ids8[:, 0])), 4),
        "dense": {"float32": retrieval_scores(dense_hits(ids32), questions, k),
                  "int8": retrieval_scores(dense_hits(ids8), questions, k)},
        "hybrid": {name: retrieval_scores(hits, questions, k) for name, hits in hybrid.items()},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.pack_recall", description=__doc__.splitlines()[0])
    p.add_argument("--index", required=True, help="the float32 index the pack was made from")
    p.add_argument("--pack", required=True, help="the pack folder")
    p.add_argument("--questions", required=True, help="a dev question file (never test)")
    p.add_argument("--n", type=int, default=200, help="questions sampled (default 200)")
    p.add_argument("--k", type=int, default=5, help="passages per question (default 5)")
    p.add_argument("--seed", type=int, default=42, help="sampling seed (default 42)")
    p.add_argument("--out", help="JSON report path (default: print only)")
    args = p.parse_args(argv)
    if "test" in Path(args.questions).name:
        print("error: use dev questions to measure the pack, never the test files", file=sys.stderr)
        return 2
    report = measure(args.index, args.pack, args.questions, args.n, args.k, args.seed)
    if args.out:
        write_json(Path(args.out), report)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
