"""Shared fixtures: a tiny random GPT-2 with a locally trained tokenizer, the real bundled embedder,
and a few hand-written movies. Tests marked `integration` use the real bundled models."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.records import Movie

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

_TOKENIZER_TEXT = [
    "Question: Who directed Inception? Answer: Christopher Nolan",
    "Inception (2010). Directed by Christopher Nolan. Starring Leonardo DiCaprio.",
    "Jaws (1975). Directed by Steven Spielberg. A shark terrorises a beach town.",
    "The Godfather (1972). Directed by Francis Ford Coppola. Genre: Crime, Drama.",
    "Context: passages about movies, years, writers, genres and cast members.",
] * 20


def require_shared(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test when the shared data is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory) -> Path:
    """A byte-level BPE tokenizer trained here on a few sentences, saved as a GPT-2 tokenizer."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2TokenizerFast

    out = tmp_path_factory.mktemp("tiny_tokenizer")
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(_TOKENIZER_TEXT, vocab_size=400, min_frequency=1, special_tokens=["<|endoftext|>"])
    bpe.save_model(str(out))
    tokenizer = GPT2TokenizerFast(vocab=str(out / "vocab.json"), merges=str(out / "merges.txt"), model_max_length=512)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory, tiny_tokenizer_dir) -> Path:
    """A distilgpt2-shaped (but tiny, random) GPT-2 saved as a standard HF folder with its tokenizer."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    torch.manual_seed(0)
    tokenizer = GPT2TokenizerFast.from_pretrained(tiny_tokenizer_dir)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=512, n_embd=32, n_layer=2, n_head=2,
        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
    )
    out = tmp_path_factory.mktemp("tiny_gpt2")
    GPT2LMHeadModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def embedder():
    """The real bundled all-MiniLM-L6-v2 (small and fast enough for unit tests)."""
    from core.config import Settings
    from core.models import load_embedder

    return load_embedder(Settings())


@pytest.fixture
def movies() -> list[Movie]:
    return [
        Movie(title="Inception", year=2010, directors=["Christopher Nolan"], writers=["Christopher Nolan"],
              cast=["Leonardo DiCaprio", "Joseph Gordon-Levitt"], genres=["Science Fiction", "Action"],
              plot="A thief who steals secrets through shared dreams is asked to plant an idea instead.",
              source="fixture"),
        Movie(title="Jaws", year=1975, directors=["Steven Spielberg"], writers=["Peter Benchley", "Carl Gottlieb"],
              cast=["Roy Scheider", "Robert Shaw", "Richard Dreyfuss"], genres=["Thriller"],
              plot="A police chief, a marine biologist and a fisherman hunt a great white shark.", source="fixture"),
        Movie(title="Scarface", year=1932, directors=["Howard Hawks"], cast=["Paul Muni"], genres=["Crime"],
              plot="A Chicago gangster rises through the bootlegging underworld.", source="fixture"),
        Movie(title="Scarface", year=1983, directors=["Brian De Palma"], writers=["Oliver Stone"],
              cast=["Al Pacino", "Michelle Pfeiffer"], genres=["Crime", "Drama"],
              plot="A Cuban refugee builds a drug empire in Miami.", source="fixture"),
        Movie(title="The Dark Knight", year=2008, directors=["Christopher Nolan"],
              writers=["Jonathan Nolan", "Christopher Nolan"], cast=["Christian Bale", "Heath Ledger"],
              genres=["Action", "Crime"], plot="Batman faces the Joker, who wants to plunge Gotham into anarchy.",
              source="fixture"),
    ]
