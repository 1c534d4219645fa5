"""A small in-memory catalog over Movie records for the planner's training data: follow a relation path, filter
by constraints, pick superlatives. It computes gold answers for generated questions and labels MetaQA 2-hop
questions by weak supervision. Same semantics as the catalog store (index.catalog), kept separate because the
training data must not depend on an index being built; people and values match on core.records.normalize()."""
from __future__ import annotations

from collections import defaultdict

from core.records import Movie, normalize
from rag.plan import NUMERIC, PEOPLE, Constraints, Hop, Rel

_LIST_FIELDS = {Rel.DIRECTOR: "directors", Rel.WRITER: "writers", Rel.ACTOR: "cast", Rel.GENRE: "genres",
                Rel.TAG: "tags"}


def values_of(movie: Movie, rel: Rel) -> list[str]:
    """A film's values for one relation, as text (languages split on ", ")."""
    if rel in _LIST_FIELDS:
        return list(dict.fromkeys(getattr(movie, _LIST_FIELDS[rel])))
    if rel == Rel.LANGUAGE:
        return [x.strip() for x in (movie.language or "").split(",") if x.strip()]
    number = number_of(movie, rel)
    if number is None:
        return []
    return [f"{number:g}" if rel == Rel.RATING else str(int(number))]


def number_of(movie: Movie, rel: Rel) -> float | None:
    value = {Rel.YEAR: movie.year, Rel.RATING: movie.rating, Rel.VOTES: movie.votes,
             Rel.RUNTIME: movie.runtime_min}.get(rel)
    return None if value is None else float(value)


class MemoryCatalog:
    """Films by id, and per relation the normalised value → film ids table for back hops."""

    def __init__(self, movies: list[Movie]) -> None:
        self.films: dict[str, Movie] = {m.id: m for m in movies}
        self.by_title: dict[str, list[str]] = defaultdict(list)
        for m in self.films.values():
            self.by_title[normalize(m.title)].append(m.id)
        self.back: dict[Rel, dict[str, list[str]]] = {rel: defaultdict(list) for rel in Rel}
        self.spelling: dict[Rel, dict[str, str]] = {rel: {} for rel in Rel}  # normalised value → a spelling
        for m in self.films.values():
            for rel in Rel:
                for value in values_of(m, rel):
                    key = normalize(value)
                    self.back[rel][key].append(m.id)
                    self.spelling[rel].setdefault(key, value)

    def films_named(self, title: str, year: int | None = None) -> list[str]:
        ids = self.by_title.get(normalize(title), [])
        return [i for i in ids if year is None or self.films[i].year == year]

    def follow(self, items: list[str], hop: Hop) -> list[str]:
        """One hop: film ids → values (`> rel`), or values → film ids (`< rel`); order kept, duplicates dropped."""
        out: dict[str, None] = {}
        for item in items:
            if hop.back:
                out.update(dict.fromkeys(self.back[hop.rel].get(normalize(item), [])))
            elif item in self.films:
                out.update(dict.fromkeys(values_of(self.films[item], hop.rel)))
        return list(out)

    def run_path(self, start: list[str], path: list[Hop], limit: int = 20000) -> list[str]:
        """Follow every hop; stops early (returns what it has) when a set grows past `limit`."""
        items = start
        for hop in path:
            items = self.follow(items, hop)
            if len(items) > limit:
                break
        return items

    def filter(self, film_ids: list[str], c: Constraints) -> list[str]:
        return [i for i in film_ids if passes(self.films[i], c)]

    def numbers(self, film_ids: list[str], rel: Rel) -> dict[str, float]:
        out = {}
        for i in film_ids:
            value = number_of(self.films[i], rel)
            if value is not None:
                out[i] = value
        return out


def passes(m: Movie, c: Constraints) -> bool:
    """A film meets every constraint; a film lacking a constrained field fails it."""
    checks = []
    if c.year_from is not None or c.year_to is not None:
        checks.append(m.year is not None and (c.year_from or 0) <= m.year <= (c.year_to or 9999))
    if c.genre:
        checks.append(c.genre.lower() in {g.lower() for g in m.genres})
    if c.language:
        checks.append(c.language.lower() in {x.lower() for x in values_of(m, Rel.LANGUAGE)})
    if c.min_rating is not None:
        checks.append(m.rating is not None and m.rating >= c.min_rating)
    if c.max_runtime is not None:
        checks.append(m.runtime_min is not None and m.runtime_min <= c.max_runtime)
    if c.min_runtime is not None:
        checks.append(m.runtime_min is not None and m.runtime_min >= c.min_runtime)
    return all(checks)


def ends_in_films(path: list[Hop]) -> bool:
    return bool(path) and path[-1].back


def start_kind_is_film(path: list[Hop]) -> bool:
    return bool(path) and not path[0].back


def answer_names(catalog: MemoryCatalog, items: list[str], path: list[Hop]) -> list[str]:
    """What a path's end items are called in an answer: film titles for film ids, values as they are."""
    if ends_in_films(path) or not path:
        return list(dict.fromkeys(catalog.films[i].title for i in items if i in catalog.films))
    return items


def hop_kinds_ok(path: list[Hop]) -> bool:
    """A path alternates films and values: `>` from films, `<` from values of the relation just reached (any
    people relation may follow another: a writer can also be a director)."""
    at_films = not path[0].back if path else True
    previous: Rel | None = None
    for hop in path:
        if hop.back == at_films:
            return False
        if hop.back and previous is not None and previous != hop.rel and not (previous in PEOPLE and hop.rel in PEOPLE):
            return False
        previous, at_films = hop.rel, hop.back
    return not any(h.back and h.rel in NUMERIC - {Rel.YEAR} for h in path)
