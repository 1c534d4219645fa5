"""The two record types that flow through the system: a Movie (from any catalog) and a Passage (what is indexed)."""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field


@dataclass
class Movie:
    title: str
    year: int | None = None
    directors: list[str] = field(default_factory=list)
    writers: list[str] = field(default_factory=list)
    cast: list[str] = field(default_factory=list)
    genres: list[str] = field(default_factory=list)
    language: str | None = None
    tags: list[str] = field(default_factory=list)
    rating: float | None = None  # e.g. IMDb or TMDB vote average, 0-10
    votes: int | None = None
    runtime_min: int | None = None
    plot: str = ""  # plot summary or overview; may be long
    source: str = ""  # catalog file name (or hf:dataset id) the record came from
    id: str = ""  # stable id: normalised title + year; filled by __post_init__ when empty
    extra: dict[str, str] = field(default_factory=dict)  # other facts shown on the card, e.g. {"Certificate": "A"}

    def __post_init__(self) -> None:
        if not self.id:
            self.id = movie_id(self.title, self.year)

    def to_dict(self) -> dict:
        return asdict(self)


def movie_id(title: str, year: int | None) -> str:
    """Stable id: remakes that share a title stay apart by year."""
    norm = " ".join(title.lower().split())
    return f"{norm} ({year})" if year else norm


@dataclass
class Passage:
    key: str  # stable slot, e.g. "card:<movie id>", "plot:<movie id>:0", "person:<name>"; upserts replace by key
    kind: str  # "card" | "plot" | "person"
    title: str  # movie title, or the person's name for person cards
    text: str  # what is embedded, BM25-indexed and shown as a source
    year: int | None = None
    movie_id: str | None = None  # None for person cards
    genres: list[str] = field(default_factory=list)  # for genre filters
    hash: str = ""  # content hash of (key, text); unchanged hash → never re-embedded

    def __post_init__(self) -> None:
        if not self.hash:
            self.hash = content_hash(self.key, self.text)

    def to_dict(self) -> dict:
        return asdict(self)


def content_hash(key: str, text: str) -> str:
    return hashlib.sha256(f"{key}\x00{text}".encode()).hexdigest()[:20]


@dataclass
class Question:
    """A question with its gold answers: read from a question file for evaluation, or a training pair."""

    question: str  # text sent to the model (MetaQA brackets removed)
    answers: list[str]  # gold answers; any of them is right, all of them is a complete answer
    type: str | None = None  # e.g. "movie_to_director", "actor_to_movie_to_year"
    entity: str | None = None  # topic entity named in the question (a movie for movie_to_* types)
    source: str = ""  # where it came from: a file name, "hf:<id>" or "kb:<catalog>"
    gold_keys: list[str] = field(default_factory=list)  # passage keys known to hold the answer (training pairs)

    def to_dict(self) -> dict:
        return asdict(self)
