"""Training-test fixtures: tiny prepared data on the shared tiny GPT-2 fixture."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.rag.conftest import mem_index, tiny_model  # noqa: F401 - the RAG fixtures, for open-operation examples


def write_sample_catalog(movies, path: Path) -> Path:
    """The hand-written movies as a catalog in the project's "sample" CSV format (lists joined by |)."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["title", "year", "directors", "writers", "cast", "genres", "rating", "plot"])
        for m in movies:
            writer.writerow([m.title, m.year, "|".join(m.directors), "|".join(m.writers), "|".join(m.cast),
                             "|".join(m.genres), m.rating or "", m.plot])
    return path


@pytest.fixture
def catalog_csv(tmp_path, movies) -> Path:
    return write_sample_catalog(movies, tmp_path / "movies.csv")


@pytest.fixture
def prepared_dir(tmp_path, catalog_csv, tiny_gpt2_dir) -> Path:
    """RAG-rendered metadata-derived examples (gold + distractors, some abstentions) for the tiny GPT-2."""
    from core.config import Settings
    from training.data import PrepareConfig, prepare

    out = tmp_path / "prepared"
    cfg = PrepareConfig(catalogs=[str(catalog_csv)], tokenizer=str(tiny_gpt2_dir), phrasings=2, gold_share=0.8,
                        abstain_share=0.2, val_share=0.2, lm_catalogs=[str(catalog_csv)],
                        shared_data=str(tmp_path))  # no benchmark files here: the test guard is off
    prepare(cfg, str(out), Settings().with_overrides(progress=False))
    return out
