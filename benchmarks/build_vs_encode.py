"""Index build throughput next to raw SentenceTransformer.encode on the very same passages, in one process.

    python -m benchmarks.build_vs_encode SOURCE... --out DIR [--json results.json] [--batch-size N] [--no-progress]

Loads the embedder once (not timed), runs the full `index.build.build_index` pipeline (parse, passages,
embed, BM25, FAISS, atomic write), then encodes the built passages' texts with one plain
`SentenceTransformer.encode` call (same batch size, normalised, float32). Reports wall seconds, passages/s,
the ratio of the two, and peak RSS of the build phase. On a shared machine wall time drifts with other load,
so process CPU seconds (all threads) of both phases are reported too; their ratio is the steadier number.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import psutil

from core.flags import add_settings_flags, run_command, settings_from_args
from core.models import load_embedder
from index.build import build_index
from index.store import load_index


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.build_vs_encode", description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+")
    parser.add_argument("--out", required=True, help="index folder to build")
    parser.add_argument("--format", default=None)
    parser.add_argument("--json", help="also write the result here")
    add_settings_flags(parser, fields=("embedder", "embedder_backend", "embed_batch_size", "progress"),
                       aliases={"embed_batch_size": ("--batch-size", "--embed-batch-size")})
    return parser.parse_args(argv)


def measure(args: argparse.Namespace) -> dict:
    """Build, then raw-encode the same passages; prints and returns the result."""
    settings = settings_from_args(args)

    t0 = time.perf_counter()
    embedder = load_embedder(settings=settings)
    embedder.encode(["warm-up"], normalize_embeddings=True)
    load_s = time.perf_counter() - t0
    rss_before = psutil.Process().memory_info().rss / 2**20

    cpu0 = time.process_time()
    report = build_index(args.sources, args.out, settings, format=args.format, embedder=embedder)
    build_cpu = time.process_time() - cpu0
    build_peak = peak_rss_mb()

    index = load_index(args.out, settings, embedder)
    texts = [p.text for p in index.passages]
    raw_embedder = load_embedder(settings=settings.with_overrides(embedder_backend="torch"))  # raw torch encode()
    raw_embedder.encode(["warm-up"], normalize_embeddings=True)
    t0, cpu0 = time.perf_counter(), time.process_time()
    raw = raw_embedder.encode(texts, batch_size=settings.index.embed_batch_size, normalize_embeddings=True,
                          convert_to_numpy=True, show_progress_bar=settings.run.progress).astype(np.float32)
    raw_s, raw_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    max_diff = float(np.abs(raw - np.asarray(index.vectors)).max())

    result = {
        "sources": args.sources, "index": args.out, "movies": report["movies"], "passages": report["passages"],
        "kinds": report["kinds"], "batch_size": settings.index.embed_batch_size, "embedder_load_s": round(load_s, 2),
        "embedder_backend": settings.models.embedder_backend, "raw_encode_backend": "torch",
        "build_s": report["seconds"], "build_embed_s": report["embed_seconds"],
        "build_passages_per_s": report["passages_per_s"],
        "raw_encode_s": round(raw_s, 2), "raw_passages_per_s": round(len(texts) / raw_s, 1),
        "build_vs_raw": round(raw_s / report["seconds"], 3),
        "build_cpu_s": round(build_cpu, 1), "raw_encode_cpu_s": round(raw_cpu, 1),
        "build_vs_raw_cpu": round(raw_cpu / build_cpu, 3),
        "load_avg_1m_end": round(psutil.getloadavg()[0], 2), "cpu_count": psutil.cpu_count(),
        "rss_before_build_mb": round(rss_before, 1), "peak_rss_build_mb": round(build_peak, 1),
        "max_abs_vector_diff": max_diff,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_command(lambda: measure(args) and 0)


if __name__ == "__main__":
    sys.exit(main())
