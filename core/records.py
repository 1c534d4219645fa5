"""The records that flow through the system (a Movie from any catalog, a Passage that is indexed, a Question),
the names they use (passage kinds, retrieval stages, the passage key format) and the one text normaliser."""
from __future__ import annotations

import enum
import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass, field

_NON_WORD = re.compile(r"[^\w]+")


def normalize(text: str) -> str:
    """The one matching form of names, titles and questions: accents folded, lower-case, '&' → 'and',
    punctuation → spaces, whitespace collapsed ("Les Misérables!" → "les miserables")."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().replace("&", " and ")
    return " ".join(_NON_WORD.sub(" ", text).replace("_", " ").split())


def key_text(text: str) -> str:
    """A name as it stands inside movie ids and passage keys: lower-case, whitespace collapsed. Weaker than
    normalize() on purpose: ids and keys are stored in indexes, so they must not change, and films whose
    titles differ only in punctuation or accents ("Amélie", "Amelie") stay apart."""
    return " ".join(text.lower().split())


class PassageKind(enum.StrEnum):
    """What a passage is; the value is what passages.parquet stores."""

    CARD = "card"  # one film's metadata card
    PLOT = "plot"  # a chunk of a film's plot
    PERSON = "person"  # a director/writer/actor and their films
    TAG = "tag"  # the films carrying a tag


class Stage(enum.StrEnum):
    """How a retrieval hit was found."""

    TITLE_LINK = "title-link"  # a film named in the question
    PERSON_LINK = "person-link"  # a person named in the question
    TAG_LINK = "tag-link"  # a tag named in a topical question
    HOP_LINK = "hop-link"  # a card named by a linked card (second hop)
    DENSE = "dense"  # found by the dense search only
    BM25 = "bm25"  # found by BM25 only
    HYBRID = "hybrid"  # found by both dense and BM25
    PLAN = "plan"  # a fact line computed by running the question's plan on the catalog store (rag.execute)

    @property
    def is_link(self) -> bool:
        """Pinned by linking (shown first), rather than ranked by search."""
        return self in _LINK_STAGES


_LINK_STAGES = frozenset({Stage.TITLE_LINK, Stage.PERSON_LINK, Stage.TAG_LINK, Stage.HOP_LINK, Stage.PLAN})


def passage_key(kind: PassageKind | str, name: str, part: int | None = None) -> str:
    """The passage key format: "card:<movie id>", "plot:<movie id>:<i>", "person:<name>:<i>", "tag:<tag>:<i>".
    People and tags are named by key_text(); without `part`, the key names all passages of that film, person
    or tag (what a training pair's gold_keys hold)."""
    kind = PassageKind(kind)
    name = name if kind in (PassageKind.CARD, PassageKind.PLOT) else key_text(name)
    return f"{kind}:{name}" if part is None else f"{kind}:{name}:{part}"


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
    id: str = ""  # stable id: key_text(title) + year; filled by __post_init__ when empty
    extra: dict[str, str] = field(default_factory=dict)  # other facts shown on the card, e.g. {"Certificate": "A"}

    def __post_init__(self) -> None:
        if not self.id:
            self.id = movie_id(self.title, self.year)

    def to_dict(self) -> dict:
        return asdict(self)


def movie_id(title: str, year: int | None) -> str:
    """Stable id: remakes that share a title stay apart by year."""
    return f"{key_text(title)} ({year})" if year else key_text(title)


@dataclass
class Passage:
    key: str  # stable slot built by passage_key(); upserts replace by key
    kind: PassageKind  # card, plot, person or tag (a plain string is converted)
    title: str  # movie title, or the person's name / the tag for person and tag cards
    text: str  # what is embedded, BM25-indexed and shown as a source
    year: int | None = None
    movie_id: str | None = None  # None for person and tag cards
    genres: list[str] = field(default_factory=list)  # for genre filters
    hash: str = ""  # content hash of (key, text); unchanged hash → never re-embedded

    def __post_init__(self) -> None:
        self.kind = PassageKind(self.kind)
        if not self.hash:
            self.hash = content_hash(self.key, self.text)

    @property
    def ref(self) -> str:
        """The key without its part: the film, person or tag this passage is about."""
        name = self.movie_id if self.kind in (PassageKind.CARD, PassageKind.PLOT) else self.title
        return passage_key(self.kind, name or "")

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
