"""The catalog store: exact queries over an index's films (what rag.execute runs a plan's hops on).

Built in memory from the same Movie records as the passages (the index's movies.parquet), as dict indexes over
their edges (index.store.catalog_edges, the table `index build` and `index add` also write as edges.parquet for
SQL tools such as DuckDB):

    film id ──rel──▶ values   "alien (1979)" ─director─▶ ["Ridley Scott"]          follow(ids, "director")
    value ──rel──▶ film ids   "ridley scott" ─director─▶ ["alien (1979)", ...]    follow(names, "director", back=True)

Relations are plain strings, the values of rag.plan.Rel (this layer cannot import it): title, director, writer,
actor, genre, tag, language, year, rating, votes, runtime; plus "plot" (forward only) and every extra card field
under its label ("Gross", "Certificate"; matched like names). Values are the catalog's spellings; numbers are
text in follow() ("1979", "8.4") and floats in numbers(). Names, titles, genres, tags and languages match on
core.records.normalize (case, accents and punctuation folded).

Why dicts and not DuckDB: measured by benchmarks/catalog_store.py. Every call here is a few dict lookups
(microseconds); the same queries through DuckDB (in memory, ART indexes) cost 0.4-3 ms each, and the executor
calls follow() once per hop. DuckDB opens faster and holds less memory; at catalog sizes (10-100k films) the
dicts cost well under a second and ~100 MB.

Thread-safe: everything is built in __init__ and never changed; calls return fresh lists and dicts. film()
returns the stored Movie itself: read it, do not change it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from core.errors import PlanError
from core.records import Movie, normalize
from index.store import EDGE_LISTS, EDGE_NUMBERS, catalog_edges, load_movies, number_text, read_manifest

PEOPLE = ("director", "writer", "actor")  # relations whose values are people
RELATIONS = ("title", *EDGE_LISTS, "language", *EDGE_NUMBERS)  # the edge relations every catalog may have
NUMERIC = tuple(EDGE_NUMBERS)  # year, rating, votes, runtime: numbers() and filter() read them as floats
VOCABULARIES = ("person", "title", "genre", "language", "tag", "director", "writer", "actor", "field")
_NUMBER = re.compile(r"\$?\s*(-?\d[\d,]*(?:\.\d+)?|-?\.\d+)\s*(million|billion|%)?", re.IGNORECASE)
_SCALE = {"million": "e6", "billion": "e9"}  # as an exponent: float("33.2e6") is exact, 33.2 * 1e6 is not


def parse_number(text: str) -> float | None:
    """A card value that is one number: "42", "87%", "$2,624,551", "$45.13 million" (→ 45130000.0); else None."""
    m = _NUMBER.fullmatch(text.strip())
    if not m:
        return None
    return float(m.group(1).replace(",", "") + _SCALE.get((m.group(2) or "").lower(), ""))


class Catalog:
    """The films of one index and their fields, queried exactly. Film ids are Movie.id; a film's card passage is
    core.records.passage_key(PassageKind.CARD, film_id)."""

    def __init__(self, movies: Iterable[Movie]) -> None:
        """Index `movies` (films repeating an id keep their first record)."""
        self._movies: dict[str, Movie] = {}
        for m in movies:
            self._movies.setdefault(m.id, m)
        self._ids = tuple(self._movies)
        self._forward: dict[str, dict[str, list[str]]] = {}  # rel → film id → values
        self._back: dict[str, dict[str, list[str]]] = {}  # rel → normalize(value) → film ids
        self._spellings: dict[str, dict[str, list[str]]] = {}  # rel → normalize(value) → spellings
        self._index_edges()
        # never changed after this: safe to read from any thread (calls hand out copies)
        self._labels = {normalize(rel): rel for rel in self._forward if rel not in RELATIONS}  # extra card fields
        self._numbers = {rel: self._number_map(rel) for rel in (*NUMERIC, *self._labels.values())}

    def _index_edges(self) -> None:
        """The dicts, from catalog_edges (what edges.parquet holds): deriving them from the records is as fast as
        reading that file, and shares the records' strings (half the memory)."""
        forward, back, spellings = self._forward, self._back, self._spellings
        keys: dict[str, str] = {}  # normalize() once per distinct value
        for film, movie in self._movies.items():
            for rel, value in catalog_edges(movie):
                key = keys.get(value)
                if key is None:
                    key = keys[value] = normalize(value)
                values = forward.setdefault(rel, {}).get(film)
                if values is None:
                    forward[rel][film] = [value]
                else:
                    values.append(value)
                having = back.setdefault(rel, {}).get(key)
                if having is None:
                    back[rel][key] = [film]
                    spellings.setdefault(rel, {})[key] = [value]
                    continue
                if having[-1] != film:
                    having.append(film)
                if value not in (names := spellings[rel][key]):
                    names.append(value)

    def _number_map(self, rel: str) -> dict[str, float]:
        if rel in EDGE_NUMBERS:
            name = EDGE_NUMBERS[rel]
            return {i: float(v) for i, m in self._movies.items() if (v := getattr(m, name)) is not None}
        values = self._forward.get(rel, {})
        return {i: x for i, vs in values.items() if (x := parse_number(vs[0])) is not None}

    # ------------------------------------------------------------ building

    @classmethod
    def from_movies(cls, movies: Iterable[Movie]) -> Catalog:
        return cls(movies)

    @classmethod
    def open(cls, index_dir: str | Path) -> Catalog:
        """The catalog of an index folder, from its movies.parquet.

        Raises:
            IndexLoadError: no index at `index_dir`, or its movies.parquet is missing or corrupt (one line).
        """
        read_manifest(index_dir)  # a missing folder or manifest, files whose size differs from the manifest's
        return cls(load_movies(index_dir))

    # ------------------------------------------------------------ films

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, film_id: object) -> bool:
        return film_id in self._movies

    def film(self, film_id: str) -> Movie:
        """The film's record (shared: do not change it). PlanError for an id not in the catalog."""
        try:
            return self._movies[film_id]
        except KeyError:
            raise PlanError(f"no film {film_id!r} in the catalog") from None

    def all_films(self) -> list[str]:
        """Every film id, in catalog order."""
        return list(self._ids)

    def films_named(self, title: str, year: int | None = None) -> list[str]:
        """Films whose title is normalize-equal to `title` (remakes: several, in catalog order); with `year`, only
        those released that year (a KB subject's other release years count)."""
        films = self._back.get("title", {}).get(normalize(title), ())
        if year is None:
            return list(films)
        years = self._forward.get("year", {})
        return [f for f in films if str(year) in years.get(f, ())]

    def people_named(self, name: str) -> list[str]:
        """The catalog's spellings of a person (any role) whose name is normalize-equal to `name`."""
        key = normalize(name)
        names = (n for rel in PEOPLE for n in self._spellings.get(rel, {}).get(key, ()))
        return list(dict.fromkeys(names))

    # ------------------------------------------------------------ relations

    def follow(self, sources: Iterable, hop, back: bool | None = None) -> dict:
        """One hop. `hop` is a relation name (a rag.plan.Rel works), a (rel, back) pair or anything with `rel`
        and `back` attributes (a rag.plan.Hop); `back` overrides its direction.

        back=False: film id → its people or values (catalog spellings; numbers as text; [] when it has none).
        back=True: person or value → the ids of the films having it (normalize-equal; numbers compared as
        numbers: "1979", 1979 and "1979.0" are the same year).

        Returns:
            {source: list}, keyed by the sources as given, every source present.
        """
        rel, back = _hop(hop, back)
        field = self._field(rel)
        if field == "plot":
            if back:
                raise PlanError("plots cannot be followed back to films (use retrieval)")
            return {f: [m.plot] if (m := self._movies.get(f)) is not None and m.plot else [] for f in sources}
        if not back:
            values = self._forward.get(field, {})
            return {f: list(values.get(f, ())) for f in sources}
        films = self._back.get(field, {})
        as_key = (lambda s: normalize(number_text(s))) if field in NUMERIC else (lambda s: normalize(str(s)))
        return {s: list(films.get(as_key(s), ())) for s in sources}

    def extra(self, film_ids: Iterable[str] | None, key: str) -> dict[str, str]:
        """An extra card field ("Gross", "Certificate"; label matched by normalize) per film that has it."""
        values = self._forward.get(self._field(key), {})
        ids = self._ids if film_ids is None else film_ids
        return {f: vs[0] for f in ids if (vs := values.get(f))}

    def numbers(self, film_ids: Iterable[str] | None, rel) -> dict[str, float]:
        """year, rating, votes or runtime (or an extra field holding one number, e.g. "Gross" in dollars) per
        film; films lacking it are left out. film_ids None: every film (superlatives over the catalog)."""
        field = self._field(str(getattr(rel, "rel", rel)))
        values = self._numbers.get(field)
        if values is None:
            if field in self._forward or field in RELATIONS or field == "plot":
                raise PlanError(f"{field} is not a number")
            return {}
        if film_ids is None:
            return dict(values)
        return {f: values[f] for f in film_ids if f in values}

    def filter(self, film_ids: Iterable[str] | None, constraints) -> list[str]:
        """The films (in the order given; None: every film) meeting `constraints`: anything with the attributes
        of rag.plan.Constraints (year_from, year_to, genre, language, min_rating, min_runtime, max_runtime;
        None = no limit). A film lacking a constrained field fails that constraint."""
        ids = None if film_ids is None else [f for f in film_ids if f in self._movies]
        for rel in ("genre", "language"):
            wanted = getattr(constraints, rel, None)
            if wanted:
                having = self._back.get(rel, {}).get(normalize(str(wanted)), [])
                if ids is None:  # every film: start from the few having it (they are in catalog order)
                    ids = list(having)
                else:
                    having = set(having)
                    ids = [f for f in ids if f in having]
        if ids is None:
            ids = list(self._ids)
        limits = (("year", "year_from", "year_to"), ("rating", "min_rating", None),
                  ("runtime", "min_runtime", "max_runtime"))
        for rel, low_name, high_name in limits:
            low = getattr(constraints, low_name, None)
            high = getattr(constraints, high_name, None) if high_name else None
            if low is None and high is None:
                continue
            values = self._numbers[rel]
            ids = [f for f in ids if (v := values.get(f)) is not None
                   and (low is None or v >= low) and (high is None or v <= high)]
        return ids

    # ------------------------------------------------------------ what the catalog has

    def coverage(self, rel) -> int:
        """How many films have a value for `rel` (any relation, "plot" or an extra field); 0 for a field the
        catalog lacks (the answer then says "the catalog has no ..."). Note the WikiMovies KB's ratings and votes
        are words ("good"): covered here, but absent from numbers()."""
        field = self._field(str(getattr(rel, "rel", rel)))
        if field == "plot":
            return sum(1 for m in self._movies.values() if m.plot)
        return len(self._forward.get(field, {}))

    def fields(self) -> dict[str, int]:
        """Every field the catalog has (relations, "plot", extra labels) → how many films have it."""
        names = (*RELATIONS, "plot", *sorted(self._labels.values()))
        return {name: n for name in names if (n := self.coverage(name))}

    def vocabulary(self, kind: str) -> list[str]:
        """The distinct spellings of one kind, sorted: "person" (any role), "title", "genre", "language", "tag",
        "director", "writer", "actor"; or "field" (the names fields() lists)."""
        if kind == "field":
            return list(self.fields())
        if kind not in VOCABULARIES:
            raise PlanError(f"unknown vocabulary {kind!r} (choose from {', '.join(VOCABULARIES)})")
        rels = PEOPLE if kind == "person" else (kind,)
        return sorted({n for rel in rels for names in self._spellings.get(rel, {}).values() for n in names})

    def _field(self, rel: str) -> str:
        """A relation name as the edges store it: core names as they are, extra labels matched by normalize."""
        rel = str(rel)
        if rel in RELATIONS or rel == "plot" or rel in self._forward:
            return rel
        return self._labels.get(normalize(rel), rel)


def _hop(hop, back: bool | None) -> tuple[str, bool]:
    if isinstance(hop, tuple):
        hop, hop_back = hop
    else:
        hop, hop_back = getattr(hop, "rel", hop), getattr(hop, "back", False)
    return str(hop), bool(hop_back if back is None else back)
