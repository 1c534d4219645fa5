"""Index build throughput against raw SentenceTransformer.encode, and incremental add of new films.

The build comparison reuses benchmarks.build_vs_encode as a function.
The add benchmark copies an index, upserts synthetic films through index.build.add_to_index with an
embedder wrapper that records every text it encodes, and counts how many of those were already in the index.
"""
from __future__ import annotations

import contextlib
import csv
import io
import random
import shutil
import time
from pathlib import Path

from benchmarks.build_vs_encode import measure, parse_args
from core.config import Settings
from index.build import add_to_index
from index.store import load_index

_WORDS = ("Silent Midnight Crimson Harbor Iron Garden Velvet Storm Hollow Echo Paper Moon Glass River Last Winter "
          "Golden Shadow Broken Compass Northern Light Secret Tide Burning Orchard Distant Signal Wild Lantern").split()
_FIRST = ("Ada Bruno Clara Dario Elsa Felix Greta Hugo Ines Jonas Kira Lars Mona Nils Olga Pavel Rosa Sven Tilda "
          "Uwe").split()
_LAST = "Arden Bexley Corvin Dalby Ekholm Falk Garrow Hale Ivers Jessup Korda Lindqvist Marlow Norell Ostrow".split()
_GENRES = ("Drama", "Comedy", "Thriller", "Horror", "Romance", "Science Fiction", "Western", "Crime", "Animation")


class CountingEmbedder:
    """Delegates to a SentenceTransformer and records every text passed to encode()."""

    def __init__(self, inner) -> None:
        self.inner, self.texts = inner, []

    def encode(self, sentences, *args, **kwargs):
        self.texts.extend([sentences] if isinstance(sentences, str) else list(sentences))
        return self.inner.encode(sentences, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def bench_build(sources: list[str], workdir: Path, progress: bool = False) -> dict:
    """Full build pipeline vs one raw encode() of the same passages (benchmarks.build_vs_encode)."""
    out = Path(workdir) / "build_index"
    argv = [*sources, "--out", str(out)] + ([] if progress else ["--no-progress"])
    with contextlib.redirect_stdout(io.StringIO()):  # it prints its own JSON; ours carries the numbers
        result = measure(parse_args(argv))
    shutil.rmtree(out, ignore_errors=True)
    result["build_ratio_vs_raw_encode"] = round(result["build_passages_per_s"] / result["raw_passages_per_s"], 3)
    return result


def synthetic_movies_csv(path: Path, n: int, seed: int = 42, known_people: list[str] = ()) -> Path:
    """n fictional films in the embedded-sample CSV format; every 5th film also casts a person already in
    the index, so the add benchmark updates a few person cards as a real catalog would."""
    rng = random.Random(seed)
    people = [f"{first} {last}" for first in _FIRST for last in _LAST]
    known_people = list(known_people)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["title", "year", "directors", "writers", "cast", "genres", "runtime", "premise"])
        for i in range(n):
            title = f"The {rng.choice(_WORDS)} {rng.choice(_WORDS)} of {rng.choice(_LAST)} {i + 1}"
            cast = rng.sample(people, 3) + ([rng.choice(known_people)] if known_people and i % 5 == 0 else [])
            premise = (f"A {rng.choice(_GENRES).lower()} about {cast[0]}, who finds a {rng.choice(_WORDS).lower()} "
                       f"{rng.choice(_WORDS).lower()} near the {rng.choice(_WORDS).lower()} "
                       "and must decide whom to trust.")
            writer.writerow([title, rng.randint(1950, 2024), rng.choice(people), "|".join(rng.sample(people, 2)),
                             "|".join(cast), "|".join(rng.sample(_GENRES, 2)), rng.randint(80, 160), premise])
    return path


def bench_add(index_dir: str, workdir: Path, settings: Settings, embedder, n_films: int = 100) -> dict:
    """Seconds to upsert n_films new films into a copy of `index_dir`, and how many passages that were already
    in the index got encoded again (must be 0: unchanged passages keep their vectors)."""
    workdir = Path(workdir)
    copy = workdir / "add_index"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(index_dir, copy)
    old = load_index(copy, settings)
    old_texts = {p.text for p in old.passages}
    known = sorted({p.title for p in old.passages if p.kind == "person"})[:200]
    catalog = synthetic_movies_csv(workdir / "add_films.csv", n_films, settings.run.seed, known)
    del old
    counter = CountingEmbedder(embedder)
    start = time.perf_counter()
    report = add_to_index(str(copy), [str(catalog)], settings, embedder=counter)
    wall = time.perf_counter() - start
    reembedded = sum(1 for t in counter.texts if t in old_texts)
    shutil.rmtree(copy, ignore_errors=True)
    return {"films": n_films, "seconds": round(wall, 2), "report_seconds": report["seconds"],
            "new": report["new"], "updated": report["updated"], "unchanged": report["unchanged"],
            "removed": report.get("removed"), "embedded": report["embedded"], "encoded_texts": len(counter.texts),
            "reembedded_existing": reembedded, "passages_before": report.get("passages_before"),
            "passages_after": report["passages"]}
