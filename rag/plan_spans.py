"""What the planner's tagger works with: token spans over the linker's tokens (core.records.normalize), the
catalog's genre and language names and famous surnames, and the small word lists titles and questions are made of."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from core.records import normalize
from rag.retrieve import GENERIC_WORDS

GENERIC = GENERIC_WORDS  # the linker's question-template words: never a name or a tag on their own

_GENRE_ALIASES = {"science fiction": ("sci fi", "scifi"), "sci fi": ("science fiction", "scifi"),
                  "animation": ("animated", "cartoon", "cartoons"), "romance": ("romantic", "romances"),
                  "biography": ("biopic", "biopics", "biographical"), "history": ("historical",),
                  "sport": ("sports",), "film noir": ("noir",), "comedy": ("comedies", "comedic"),
                  "documentary": ("documentaries",), "mystery": ("mysteries",), "fantasy": ("fantasies",)}
_WORD = re.compile(r"[^\W_]+|&")
ROMAN = frozenset("ii iii iv v vi vii viii ix x".split())
TITLE_WORDS = frozenset("of a an the to in on at for from with and de la le du".split())  # inside titles
CONNECT = frozenset("of the and a an in on at de la le von van der du del da di y".split())
OPENERS = frozenset("""who whom whose what which when where why how did does do is was were are can could would
will should has have had tell give list name show find i im i'm in the a an please hey ok okay""".split())


@dataclass
class Span:
    start: int  # token span over normalize(question).split()
    end: int
    kind: str  # film | person | tag | genre | language | year | decade | num | name
    value: object = None  # link: its card rows; genre/language: the catalog's name; year: int; name: raw text
    alts: list = field(default_factory=list)  # other readings of the same span: (kind, value)
    year: int | None = None  # a film's year named right next to it ("Scarface (1983)", "the 1983 Scarface")


@dataclass
class Vocabulary:
    """Normalised surface form → the catalog's genre or language name."""

    genres: dict[str, str]
    languages: dict[str, str]
    surnames: dict[str, list[int]] = field(default_factory=dict)  # "kubrick" → person card rows (5+ films)

    @classmethod
    def from_counts(cls, genres: Counter, languages: Counter) -> Vocabulary:
        forms: dict[str, tuple[int, str]] = {}
        min_genre = 3 if sum(genres.values()) >= 1000 else 1  # one-off genres of big catalogs ("Can", "Usa") are noise
        for name, count in genres.items():
            key = normalize(name)
            if len(key) < 3 or count < min_genre:
                continue
            variants = {key, key + "s", key[:-1] + "ies" if key.endswith("y") else key, *_GENRE_ALIASES.get(key, ())}
            for v in variants:  # a form two genres share goes to the larger one ("sci fi": Sci-Fi, Science Fiction)
                if v not in forms or forms[v][0] < count:
                    forms[v] = (count, name)
        min_lang = 3 if sum(languages.values()) >= 1000 else 1  # drop one-off languages ("Fur", "Crow") of big catalogs
        langs = {normalize(n): n for n, c in languages.items() if c >= min_lang and len(normalize(n)) >= 3}
        return cls({k: v for k, (_, v) in forms.items()}, langs)

    @classmethod
    def from_passages(cls, passages) -> Vocabulary:
        """From an index's card passages: their genres, and the "Language: …" of their text."""
        genres: Counter = Counter()
        languages: Counter = Counter()
        films: Counter = Counter()
        rows: dict[str, list[int]] = {}
        for i, p in enumerate(passages):
            if p.kind == "person":
                name = normalize(p.title)
                rows.setdefault(name, []).append(i)
                films[name] += len(re.findall(r"\(\d{4}\)", p.text))
            if p.kind != "card":
                continue
            genres.update(p.genres)
            m = re.search(r"\bLanguage: ([^.]+)\.", p.text)
            if m:
                languages.update(x.strip() for x in m.group(1).split(",") if x.strip())
        vocab = cls.from_counts(genres, languages)
        best: dict[str, str] = {}  # a surname names the person with the most films who has it ("Nolan")
        for name, n in films.items():
            if len(name.split()) >= 2 and n >= 5 and films[best.get(name.split()[-1], name)] <= n:
                best[name.split()[-1]] = name
        vocab.surnames = {last: rows[name] for last, name in best.items()}
        return vocab


def align(question: str) -> list[tuple[str, int, int]] | None:
    """The normalised tokens with their character spans in the question, or None if they differ from normalize()."""
    tokens = [(t, m.start(), m.end()) for m in _WORD.finditer(question) for t in normalize(m.group()).split()]
    return tokens if [t for t, _, _ in tokens] == normalize(question).split() else None
