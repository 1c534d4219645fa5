"""Helpers for index tests: a sample-format CSV of the fixture movies, a fast fake embedder, and a byte
snapshot of an index folder (to prove bad input leaves it untouched)."""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pytest

from core.config import Settings
from core.records import Movie

SAMPLE_COLUMNS = ["title", "year", "directors", "writers", "cast", "genres", "runtime", "premise"]


def write_sample_csv(movies: list[Movie], path: Path, encoding: str = "utf-8") -> Path:
    """The project's sample format: "|"-separated lists."""
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerow(SAMPLE_COLUMNS)
        for m in movies:
            writer.writerow([m.title, m.year or "", "|".join(m.directors), "|".join(m.writers), "|".join(m.cast),
                             "|".join(m.genres), m.runtime_min or "", m.plot])
    return path


class FakeEmbedder:
    """Deterministic unit vectors from a hash of the text (dim 384, like MiniLM); records what it encoded."""

    def __init__(self, dim: int = 384):
        self.dim = dim
        self.encoded: list[str] = []

    def get_embedding_dimension(self) -> int:
        return self.dim

    def encode(self, texts, **kwargs):
        self.encoded += list(texts)
        rows = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
        return np.stack(rows) if rows else np.zeros((0, self.dim), np.float32)


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder`, plus the names beside it (no leftover temp folders)."""
    folder = Path(folder)
    files = {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(folder.rglob("*")) if p.is_file()}
    files["<siblings>"] = ",".join(sorted(p.name for p in folder.parent.iterdir() if not p.name.endswith(".lock")))
    return files


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings().with_overrides(progress=False, index_dir=str(tmp_path / "indexes" / "index"),
                                      sample_catalog=str(tmp_path / "sample.csv"), pack="")  # no shipped pack


@pytest.fixture
def sample_csv(tmp_path, movies) -> Path:
    return write_sample_csv(movies, tmp_path / "sample.csv")


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()
