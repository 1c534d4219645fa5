"""The embedder backends side by side (torch, ONNX Runtime, ONNX Runtime int8) on one index built by torch.

    flock /tmp/heavy.lock python -m benchmarks.encoder_backends --index /tmp/wm_only \\
        --questions ../shared/data/wikimovies/questions/wiki_entities_dev.txt --n 200 --out runs/encoder_backends.json

Per backend: query encoding p50/p95 ms (one question per call, backends interleaved), passages/s on the index's
first passages, the cosine of its passage vectors to the index's stored (torch) ones, whether index.store's
cross-backend check accepts the index (cosine >= core.encoders.AGREEMENT on its sample), and over n dev questions
answer recall@k and MRR for dense search alone and for the full hybrid retriever. int8 is worth having only if its
recall holds. Use dev questions, never the test files.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.common import retrieval_scores, stats, write_json
from core.config import Settings
from core.encoders import AGREEMENT, EmbedderBackend, vectors_agree
from core.errors import IndexLoadError
from core.models import load_embedder
from evaluation.questions import read_questions
from index.store import check_backend, load_index
from rag.retrieve import Retriever


def _accepted(index, embedder) -> bool | str:
    try:
        check_backend(dict(index.manifest, embedder_backend="torch"), "index", index.passages,
                      np.asarray(index.vectors), embedder)
        return True
    except IndexLoadError as exc:
        return str(exc)


def bench_backends(index, embedders: dict, questions: list, k: int = 5, passages: int = 1000) -> dict:
    """Every figure above for each named embedder over `index` (a torch-built index)."""
    texts = [q.question for q in questions]
    sample = [p.text for p in index.passages[:passages]]
    stored = np.asarray(index.vectors[:passages], dtype=np.float32)
    times: dict[str, list[float]] = {name: [] for name in embedders}
    for emb in embedders.values():
        emb.encode(texts[:2], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)  # warm-up
    for q in texts:  # interleaved, so load from other processes hits every backend alike
        for name, emb in embedders.items():
            start = time.perf_counter()
            emb.encode([q], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
            times[name].append(time.perf_counter() - start)
    out: dict = {"questions": len(texts), "k": k, "passages_sampled": len(sample), "agreement_needed": AGREEMENT}
    for name, emb in embedders.items():
        start = time.perf_counter()
        vectors = emb.encode(sample, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                             show_progress_bar=False)
        seconds = time.perf_counter() - start
        cosine = (np.asarray(vectors, dtype=np.float32) * stored).sum(1)
        query = emb.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        _, ids = index.dense_search(query, k)
        dense = [[index.passages[i] for i in row if i >= 0] for row in ids.tolist()]
        hybrid = [r.hits for r in Retriever(index, emb, Settings().with_overrides(progress=False))
                  .search_batch(texts, k=k)]
        out[name] = {"query_encode_ms": stats(times[name], scale=1000, digits=2),
                     "passages_per_s": round(len(sample) / seconds, 1),
                     "cosine_to_torch_index": {"min": round(float(cosine.min()), 6),
                                               "mean": round(float(cosine.mean()), 6),
                                               "p01": round(float(np.percentile(cosine, 1)), 6)},
                     "check_sample_least_cosine": round(vectors_agree(emb, sample[:8], stored[:8]), 6),
                     "index_accepted": _accepted(index, emb),
                     "dense": retrieval_scores(dense, questions, k), "hybrid": retrieval_scores(hybrid, questions, k)}
    base = out["torch"]["query_encode_ms"]["p50"] if "torch" in out else None
    for name in embedders:
        if base:
            out[name]["query_speedup_vs_torch"] = round(base / out[name]["query_encode_ms"]["p50"], 2)
    return out


def load_backends(settings: Settings, names=tuple(EmbedderBackend)) -> dict:
    return {str(name): load_embedder(settings.with_overrides(embedder_backend=str(name))) for name in names}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.encoder_backends", description=__doc__.splitlines()[0])
    p.add_argument("--index", required=True, help="an index built with the torch backend (e.g. /tmp/wm_only)")
    p.add_argument("--questions", required=True, help="a dev question file (never test)")
    p.add_argument("--n", type=int, default=200, help="questions sampled (default 200)")
    p.add_argument("--k", type=int, default=5, help="passages per question (default 5)")
    p.add_argument("--seed", type=int, default=42, help="sampling seed (default 42)")
    p.add_argument("--out", help="JSON report path (default: print only)")
    args = p.parse_args(argv)
    if "test" in Path(args.questions).name:
        print("error: use dev questions, never the test files", file=sys.stderr)
        return 2
    settings = Settings().with_overrides(progress=False)
    index = load_index(args.index, settings)
    questions = random.Random(args.seed).sample(read_questions(args.questions), args.n)
    report = {"index": args.index, "questions_file": args.questions, "seed": args.seed,
              **bench_backends(index, load_backends(settings), questions, args.k)}
    if args.out:
        write_json(Path(args.out), report)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
