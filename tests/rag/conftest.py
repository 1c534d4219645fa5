"""RAG fixtures: an in-memory MovieIndex over a few hand-written films,
built by index.passages and embedded with the real MiniLM, and a tiny-GPT-2 pipeline over it."""
from __future__ import annotations

import numpy as np
import pytest

from core.config import Settings
from core.records import Movie, Passage
from index.passages import build_passages
from index.store import MovieIndex


def hand_passages(movies: list[Movie]) -> list[Passage]:
    """The index's own passages (cards, plot chunks, person and tag cards) for `movies` plus "M" (1931), a
    one-letter title that must not link from ordinary questions."""
    movies = list(movies) + [Movie(title="M", year=1931, directors=["Fritz Lang"], genres=["Crime", "Thriller"],
                                   plot="A child murderer is hunted by police and criminals in Berlin.")]
    return build_passages(movies, Settings())


def make_index(passages: list[Passage], embedder) -> MovieIndex:
    vectors = embedder.encode([p.text for p in passages], normalize_embeddings=True, convert_to_numpy=True,
                              show_progress_bar=False)
    return MovieIndex(passages, np.asarray(vectors, dtype=np.float32), {"embedder": "test", "dim": vectors.shape[1]})


def _movies() -> list[Movie]:
    """The films of tests/conftest.py `movies` (function-scoped there), for session-scoped indexes."""
    return [
        Movie(title="Inception", year=2010, directors=["Christopher Nolan"], writers=["Christopher Nolan"],
              cast=["Leonardo DiCaprio", "Joseph Gordon-Levitt"], genres=["Science Fiction", "Action"],
              plot="A thief who steals secrets through shared dreams is asked to plant an idea instead."),
        Movie(title="Jaws", year=1975, directors=["Steven Spielberg"], writers=["Peter Benchley", "Carl Gottlieb"],
              cast=["Roy Scheider", "Robert Shaw", "Richard Dreyfuss"], genres=["Thriller"], tags=["shark"],
              plot="A police chief, a marine biologist and a fisherman hunt a great white shark."),
        Movie(title="Scarface", year=1932, directors=["Howard Hawks"], cast=["Paul Muni"], genres=["Crime"],
              plot="A Chicago gangster rises through the bootlegging underworld."),
        Movie(title="Scarface", year=1983, directors=["Brian De Palma"], writers=["Oliver Stone"],
              cast=["Al Pacino", "Michelle Pfeiffer"], genres=["Crime", "Drama"],
              plot="A Cuban refugee builds a drug empire in Miami."),
        Movie(title="The Dark Knight", year=2008, directors=["Christopher Nolan"],
              writers=["Jonathan Nolan", "Christopher Nolan"], cast=["Christian Bale", "Heath Ledger"],
              genres=["Action", "Crime"], plot="Batman faces the Joker, who wants to plunge Gotham into anarchy."),
    ]


@pytest.fixture(scope="session")
def mem_index(embedder):
    return make_index(hand_passages(_movies()), embedder)


@pytest.fixture(scope="session")
def tiny_model(tiny_gpt2_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_gpt2_dir)
    tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(tiny_gpt2_dir).eval()
    return model, tokenizer


@pytest.fixture
def rag_settings(tmp_path) -> Settings:
    return Settings().with_overrides(progress=False, index_dir=str(tmp_path / "index"), max_new_tokens=8, batch_size=4)


@pytest.fixture
def tiny_pipeline(mem_index, embedder, tiny_model, rag_settings):
    from rag.pipeline import Pipeline

    model, tokenizer = tiny_model
    return Pipeline(mem_index, embedder, model, tokenizer, rag_settings, generator_name="tiny-gpt2")
