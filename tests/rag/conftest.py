"""RAG fixtures: an in-memory MovieIndex over hand-written passages (cards, plots, person and tag cards),
embedded with the real MiniLM, and a tiny-GPT-2 pipeline over it."""
from __future__ import annotations

import numpy as np
import pytest

from index.records import Movie, Passage
from index.store import MovieIndex
from rag.config import Settings


def card(m: Movie) -> Passage:
    parts = [f"{m.title} ({m.year})."]
    if m.directors:
        parts.append(f"Directed by {', '.join(m.directors)}.")
    if m.writers:
        parts.append(f"Written by {', '.join(m.writers)}.")
    if m.cast:
        parts.append(f"Starring {', '.join(m.cast)}.")
    if m.genres:
        parts.append(f"Genre: {', '.join(m.genres)}.")
    return Passage(key=f"card:{m.id}", kind="card", title=m.title, text=" ".join(parts), year=m.year,
                   movie_id=m.id, genres=list(m.genres))


def hand_passages(movies: list[Movie]) -> list[Passage]:
    out = []
    for m in movies:
        out.append(card(m))
        out.append(Passage(key=f"plot:{m.id}:0", kind="plot", title=m.title, text=f"{m.title} ({m.year}): {m.plot}",
                           year=m.year, movie_id=m.id, genres=list(m.genres)))
    out.append(Passage(key="person:christopher nolan:0", kind="person", title="Christopher Nolan",
                       text="Christopher Nolan — director of: The Dark Knight (2008), Inception (2010); "
                            "writer of: The Dark Knight (2008), Inception (2010)."))
    out.append(Passage(key="person:al pacino:0", kind="person", title="Al Pacino",
                       text="Al Pacino — actor in: Scarface (1983)."))
    out.append(Passage(key="tag:shark:0", kind="tag", title="shark", text="Films tagged 'shark': Jaws (1975)."))
    m = Movie(title="M", year=1931, directors=["Fritz Lang"], genres=["Crime", "Thriller"],
              plot="A child murderer is hunted by police and criminals in Berlin.")
    out.append(card(m))
    return out


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
              cast=["Roy Scheider", "Robert Shaw", "Richard Dreyfuss"], genres=["Thriller"],
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
def tiny_lm_dir(tiny_gpt2_dir, tiny_tokenizer_dir, tmp_path_factory):
    """tests/conftest.py `tiny_gpt2_dir`, or the same recipe rebuilt when its tokenizer came out empty
    (transformers 5 takes GPT2TokenizerFast(vocab=..., merges=...); vocab_file=/merges_file= are ignored)."""
    import torch
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    if len(AutoTokenizer.from_pretrained(tiny_gpt2_dir)) > 1:
        return tiny_gpt2_dir
    out = tmp_path_factory.mktemp("tiny_lm")
    tokenizer = GPT2TokenizerFast(vocab=str(tiny_tokenizer_dir / "vocab.json"),
                                  merges=str(tiny_tokenizer_dir / "merges.txt"), model_max_length=512)
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=512, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id)
    GPT2LMHeadModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_model(tiny_lm_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_lm_dir)
    tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(tiny_lm_dir).eval()
    return model, tokenizer


@pytest.fixture
def rag_settings(tmp_path) -> Settings:
    return Settings(progress=False, index_dir=str(tmp_path / "index"), max_new_tokens=8, batch_size=4)


@pytest.fixture
def tiny_pipeline(mem_index, embedder, tiny_model, rag_settings):
    from rag.pipeline import Pipeline

    model, tokenizer = tiny_model
    return Pipeline(mem_index, embedder, model, tokenizer, rag_settings, generator_name="tiny-gpt2")
