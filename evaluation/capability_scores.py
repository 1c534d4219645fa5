"""Per-answer scores of the capability sets (training.capability_data records; run by evaluation.capabilities).

    identify    first_title_right: the first answer item is the gold film (its title, and its year when the item
                gives one; a film sharing the title is accepted, since a title alone cannot tell them apart);
                any_item_right; title_in_text; plot_rank: rank among the sources of the gold film's plot passage
    describe    support_share: the share of the answer's names and numbers its cited passages hold (rag.support
                when present, else the local check below); beyond_card: a sentence that is not only card facts;
                sentences; mentions_title; cites_film (BERTScore against the overview is added by the runner)
    recommend   valid_share: items that are catalog films other than the topic; related_share: items sharing a
                genre, person or tag with the topic, or among its plot neighbours (PlotNeighbours); strict: the
                same without the genre; constraint_share: items meeting the year/genre constraints
    abstain     declined: the answer abstains or says what the catalog lacks; correct: declined == expected
"""
from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from core.records import PassageKind, normalize

_YEAR_ITEM = re.compile(r"^\s*(.*?)\s*\((\d{4})\)\s*[.!]?\s*$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_DECLINES = re.compile(r"not in the catalog|catalog (?:has|holds) no|catalog does not cover|i can only answer|"
                       r"(?:don't|do not) have (?:any )?information", re.IGNORECASE)  # the pipeline's declines
GENRE_SYNONYMS = {"sci fi": "science fiction", "musical": "music"}  # KB and TMDB spellings of one genre
CARD_WORDS = frozenset("""film movie directed director written writer writers starring stars starred star cast genre
genres language languages released release year years rating rated votes runtime minutes min tags tagged by and the
a an is was it its in of with from also this that which are were has have had stars plays played features featuring
english made drama comedy""".split())  # the words a card-facts sentence is made of, besides the facts
BEYOND_WORDS = 3  # a sentence with at least this many other content words says more than the card


# ---------------------------------------------------------------- titles and films

def parse_item(item: str) -> tuple[str, int | None]:
    """"Alien (1979)" → ("Alien", 1979); "Alien" → ("Alien", None)."""
    m = _YEAR_ITEM.match(item or "")
    return (m.group(1), int(m.group(2))) if m else ((item or "").strip().rstrip("."), None)


def names_film(item: str, films: list[dict]) -> bool:
    """The item names one of `films` ({"title", "year"}): same normalised title, and the same year if it gives one."""
    title, year = parse_item(item)
    key = normalize(title)
    return bool(key) and any(key == normalize(f["title"]) and (year is None or year == f.get("year")) for f in films)


def answer_items(answer) -> list[str]:
    """The answer's items; its text split at commas when it has none; nothing for an abstention."""
    if getattr(answer, "abstained", False):
        return []
    items = [i for i in (getattr(answer, "items", None) or []) if i and i.strip()]
    return items or [s.strip() for s in (answer.text or "").split(",") if s.strip()]


def mentions(text: str, title: str) -> bool:
    key = normalize(title)
    return bool(key) and f" {key} " in f" {normalize(text)} "


def _source_film(source) -> str | None:
    """The movie id of a card or plot source, from its passage key ("card:<id>", "plot:<id>:<part>")."""
    kind, _, rest = (getattr(source, "key", "") or "").partition(":")
    if kind == PassageKind.CARD and rest:
        return rest
    return rest.rsplit(":", 1)[0] if kind == PassageKind.PLOT and ":" in rest else None


def _is_film(source, film: dict) -> bool:
    """The source is a card or plot passage of the film (by passage key, else by title and year)."""
    movie_id = _source_film(source)
    if movie_id is not None:
        return movie_id == film.get("id")
    return normalize(getattr(source, "title", "")) == normalize(film["title"]) and getattr(source, "year", None) == \
        film.get("year")


def plot_rank(sources: list, films: list[dict]) -> int | None:
    """1-based rank of the first plot passage of one of `films` among the sources, or None."""
    for rank, source in enumerate(sources, 1):
        if str(getattr(source, "kind", "")) == PassageKind.PLOT and any(_is_film(source, f) for f in films):
            return rank
    return None


# ---------------------------------------------------------------- identify

def score_identify(record: dict, answer) -> dict:
    accept = record.get("accept") or [record["gold"]]
    items = answer_items(answer)
    return {"first_title_right": float(bool(items) and names_film(items[0], accept)),
            "any_item_right": float(any(names_film(i, accept) for i in items)),
            "title_in_text": float(not answer.abstained and mentions(answer.text or "", record["gold"]["title"])),
            "plot_rank": plot_rank(list(answer.sources or []), accept)}


# ---------------------------------------------------------------- describe

def support_checker() -> tuple[Callable[[str], list[str]], Callable[[str, list[str]], list[str]], str]:
    """(claims, unsupported_claims, name): rag.support's when it is there, else the local fallback."""
    try:
        from rag.support import claims as rag_claims  # deferred: written alongside this harness
        from rag.support import unsupported_claims as rag_unsupported
    except ImportError:
        return claims, unsupported_claims, "evaluation.capability_scores (local fallback)"
    return rag_claims, rag_unsupported, "rag.support"


_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[\w'’-]+")
_CONNECTORS = frozenset("of the de la le von van der du di da del".split())
_LEADS = frozenset("""a an the in on at after before when while as his her their its this that these those he she
they it we you i but and or so then there here with from for by to of also both however later when where what who
""".split())


def claims(text: str) -> list[str]:
    """Local fallback: the numbers and capitalised names of a text (sentence-initial function words left out)."""
    found = [m.group() for m in _NUMBER.finditer(text or "")]
    for sentence in re.split(r"(?<=[.!?:;])\s+|\n+", text or ""):
        run: list[str] = []
        for word in [*_WORD.findall(sentence), ""]:
            if word[:1].isupper():
                run.append(re.sub(r"['’]s$", "", word))
            elif run and word and word.lower() in _CONNECTORS:
                run.append(word)
            else:
                while run and (run[-1].lower() in _CONNECTORS or run[0].lower() in _LEADS):
                    run.pop(-1 if run[-1].lower() in _CONNECTORS else 0)
                if run:
                    found.append(" ".join(run))
                run = []
    return list(dict.fromkeys(found))


def unsupported_claims(text: str, passages: list[str]) -> list[str]:
    """Local fallback of rag.support.unsupported_claims: the claims no passage holds (normalised, as whole words)."""
    held = " " + " ".join(normalize(p) for p in passages) + " "
    return [c for c in claims(text) if f" {normalize(c)} " not in held]


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split((text or "").strip()) if s.strip()]


def beyond_card(sentence: str, card: dict, title: str, question: str = "") -> bool:
    """The sentence says something besides the card's facts (title, year, people, genres, language, tags) and
    besides the question's own words (an answer that repeats the question says nothing more)."""
    text = f" {normalize(sentence)} "
    facts = [title, str(card.get("year") or ""), card.get("language") or "",
             *card.get("directors", []), *card.get("writers", []), *card.get("cast", []),
             *card.get("genres", []), *card.get("tags", [])]
    for fact in sorted((normalize(f) for f in facts if f), key=len, reverse=True):
        text = text.replace(f" {fact} ", " ")
    asked = set(normalize(question).split())
    rest = [w for w in text.split() if len(w) > 2 and not w.isdigit() and w not in CARD_WORDS and w not in asked]
    return len(rest) >= BEYOND_WORDS


def score_describe(record: dict, answer, checker=None) -> dict:
    claims_of, unsupported_of, _ = checker or support_checker()
    text = "" if declines(answer) else (answer.text or "")  # an abstention, however worded, describes nothing
    cited = [s.text for s in (answer.sources or []) if getattr(s, "used", True)]
    stated = claims_of(text) if text else []
    missing = unsupported_of(text, cited) if stated else []
    return {"claims": len(stated), "unsupported": len(missing), "unsupported_claims": missing,
            "support_share": (1.0 - len(missing) / len(stated)) if stated else None,
            "supported_answer": float(not missing) if text else None,
            "beyond_card": float(any(beyond_card(s, record.get("card", {}), record["gold"]["title"],
                                                 record.get("question", "")) for s in sentences(text))),
            "sentences": len(sentences(text)),
            "mentions_title": float(mentions(text, record["gold"]["title"])),
            "cites_film": float(any(_is_film(s, record["gold"]) for s in (answer.sources or [])
                                    if getattr(s, "used", True)))}


# ---------------------------------------------------------------- recommend

def _genre(name: str) -> str:
    key = normalize(name)
    return GENRE_SYNONYMS.get(key, key)


class PlotNeighbours:
    """Film id → its `n` nearest films by the index's plot-passage vectors (mean of its plot vectors, cosine,
    best passage per other film).

    Args:
        passages: the index's passages (row i = vectors[i]).
        vectors: their normalised embeddings.
        n: neighbours per film.
    """

    def __init__(self, passages: list, vectors: np.ndarray, n: int = 50) -> None:
        rows = [i for i, p in enumerate(passages) if p.kind == PassageKind.PLOT and p.movie_id]
        self.names, self.codes = np.unique([passages[i].movie_id for i in rows], return_inverse=True)
        self.vectors = np.asarray(vectors[rows], dtype=np.float32)
        self.code = {name: i for i, name in enumerate(self.names)}
        self.n, self._cache = n, {}

    def __call__(self, film_id: str) -> set[str]:
        if film_id not in self._cache:
            self._cache[film_id] = self._nearest(film_id)
        return self._cache[film_id]

    def _nearest(self, film_id: str) -> set[str]:
        code = self.code.get(film_id)
        if code is None:
            return set()
        query = self.vectors[self.codes == code].mean(axis=0)
        best = np.full(len(self.names), -np.inf, dtype=np.float32)
        np.maximum.at(best, self.codes, self.vectors @ (query / (np.linalg.norm(query) or 1.0)))
        best[code] = -np.inf
        n = min(self.n, len(self.names) - 1)
        return {str(self.names[i]) for i in np.argpartition(-best, n - 1)[:n]} if n > 0 else set()


class RecommendScorer:
    """Scores a recommendation against the catalog (index.catalog.Catalog) and the topic's plot neighbours."""

    def __init__(self, catalog, neighbours: Callable[[str], set[str]] | None = None) -> None:
        self.catalog, self.neighbours = catalog, neighbours or (lambda _: set())

    def _facts(self, film_id: str) -> dict[str, set[str]]:
        m = self.catalog.film(film_id)
        return {"genre": {_genre(g) for g in m.genres}, "person": {normalize(p) for p in
                                                                   (*m.directors, *m.writers, *m.cast)},
                "tag": {normalize(t) for t in m.tags}}

    def films_of(self, item: str) -> list[str]:
        title, year = parse_item(item)
        return self.catalog.films_named(title, year) if year else self.catalog.films_named(title)

    def __call__(self, record: dict, answer) -> dict:
        topic = record["topic"]["id"]
        facts, near = self._facts(topic), self.neighbours(topic)
        cons = record.get("constraints") or {}
        constrained = any(v is not None for v in cons.values())
        items = answer_items(answer)
        resolved = [[f for f in self.films_of(i) if f != topic] for i in items]
        valid = [bool(films) for films in resolved]
        shares = {k: [any(self._facts(f)[k] & facts[k] for f in films) for films in resolved] for k in facts}
        shares["neighbour"] = [any(f in near for f in films) for films in resolved]
        related = [any(s[i] for s in shares.values()) for i in range(len(items))]
        strict = [shares["person"][i] or shares["tag"][i] or shares["neighbour"][i] for i in range(len(items))]
        meets = [any(self._meets(f, cons) for f in films) for films in resolved]
        mean = (lambda xs: sum(xs) / len(xs)) if items else (lambda xs: None)
        return {"items": len(items), "valid_share": mean(valid), "all_valid": float(bool(items) and all(valid)),
                "related_share": mean(related), "related_strict_share": mean(strict),
                **{f"shares_{k}": mean(v) for k, v in shares.items()},
                "constraint_share": mean(meets) if constrained else None,
                "list": sorted({f for films in resolved for f in films[:1]} | {normalize(i) for i, ok in
                                                                                zip(items, valid) if not ok})}

    def _meets(self, film_id: str, cons: dict) -> bool:
        year = self.catalog.film(film_id).year
        if (cons.get("year_from") is not None or cons.get("year_to") is not None) and year is None:
            return False
        if cons.get("year_from") is not None and year < cons["year_from"]:
            return False
        if cons.get("year_to") is not None and year > cons["year_to"]:
            return False
        return not cons.get("genre") or _genre(cons["genre"]) in self._facts(film_id)["genre"]


def distinct_lists(rows: list[dict], topics: list[str]) -> float | None:
    """The share of distinct recommendation lists among the answers (with items) to different topic films: 1.0
    when every topic gets its own list, low when one list is handed to everyone."""
    first: dict[str, tuple] = {}
    for row, topic in zip(rows, topics):
        if row["items"] and topic not in first:
            first[topic] = tuple(row["list"])
    return len(set(first.values())) / len(first) if first else None


# ---------------------------------------------------------------- abstain

def declines(answer) -> bool:
    """The answer abstains, or says the catalog lacks the film, the field or the topic."""
    return bool(answer.abstained) or bool(_DECLINES.search(answer.text or ""))


def score_abstain(record: dict, answer) -> dict:
    declined = declines(answer)
    return {"declined": float(declined), "correct": float(declined == bool(record["expect_abstain"]))}
