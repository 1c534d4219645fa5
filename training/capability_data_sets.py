"""The identify, describe and recommend sets of training.capability_data: one maker per capability, each a callable
returning question records (split, phrasing group and gold fields) and counting what it left out in `notes`."""
from __future__ import annotations

import random
from collections import Counter
from types import SimpleNamespace

from core.records import Movie, PassageKind, normalize, passage_key
from index.catalog import Catalog
from training.capability_data import (
    SPLITS,
    CapabilityDataConfig,
    GroupCycle,
    Splitter,
    caps,
    film_ref,
    record,
    twins,
)
from training.capability_data_text import (
    CONSTRAINT_PHRASES,
    DESCRIBE,
    GENRE_NOUNS,
    HELD_OUT,
    IDENTIFY,
    RECOMMEND,
    as_clause,
    common_words,
    description_sentences,
    mentions,
    partial,
    render,
    shares_long_run,
)

FORMS = ("full", "partial", "lower")  # an identify description whole, cut short, or typed in lower case
MIN_PLOT_WORDS = 15  # describe and recommend topics have a plot at least this long
MIN_CHOICES = 5  # a recommendation constraint leaves at least this many catalog films sharing a genre


def match_film(catalog: Catalog, movie: Movie) -> str | None:
    """The default catalog's film for a record of another catalog: same title and year, else the one film of that
    title released a year apart (festival vs release dates, as index.sources merges them); None when unsure."""
    exact = catalog.films_named(movie.title, movie.year) if movie.year else []
    if len(exact) == 1:
        return exact[0]
    near = [f for f in catalog.films_named(movie.title)
            if movie.year and (y := catalog.film(f).year) and abs(y - movie.year) <= 1]
    return near[0] if len(near) == 1 else None


class IdentifyMaker:
    """Identify questions from independently written descriptions of the catalog's films.

    Args:
        catalog: the default catalog (gold films, their plots for the overlap check, their twins).
        descriptions: catalog file name → Movie records whose `plot` is the independent description.
        split: film id → split.
        config: questions per film and split caps, the overlap limit, the seed.
    """

    def __init__(self, catalog: Catalog, descriptions: dict[str, list[Movie]], split: Splitter,
                 config: CapabilityDataConfig) -> None:
        self.catalog, self.split, self.config = catalog, split, config
        self.rng = random.Random(config.seed)
        self.notes: Counter = Counter()
        self.texts: dict[str, list[tuple[str, int, str]]] = {}  # film id → (source file, position, sentence)
        for source, movies in descriptions.items():
            for movie in movies:
                film = match_film(self.catalog, movie)
                if film is None:
                    self.notes[f"{source}: no single default-catalog film of that title and year"] += 1
                    continue
                for position, sentence in enumerate(description_sentences(movie.plot)):
                    self.texts.setdefault(film, []).append((source, position, sentence))
        self.common = common_words([m.plot for movies in descriptions.values() for m in movies])

    def __call__(self) -> list[dict]:
        cycle, out, limit = GroupCycle(list(IDENTIFY), HELD_OUT["identify"]), [], caps(self.config)
        films = sorted(self.texts)
        self.rng.shuffle(films)
        self.notes["films described"] = len(films)
        for film_id in films:
            split = self.split(film_id)
            if sum(r["split"] == split for r in out) >= limit[split]:
                continue
            out += self._film_questions(self.catalog.film(film_id), split, cycle)
        return out

    def _film_questions(self, film: Movie, split: str, cycle: GroupCycle) -> list[dict]:
        candidates = sorted(self.texts[film.id], key=lambda c: c[1])  # every source's opening sentence first
        out: list[dict] = []
        for source, _, sentence in candidates:
            if len(out) >= self.config.identify_per_film:
                break
            form, group = self.rng.choice(FORMS), cycle(split)
            clause = as_clause(sentence, self.common)
            if form == "partial":
                clause = partial(clause, self.rng.randint(8, 14))
            question = render(self.rng.choice(IDENTIFY[group]), d=clause)
            question = question.lower().rstrip(".?!") if form == "lower" else question
            self.notes["questions tried"] += 1
            if shares_long_run(question, [film.plot], self.config.max_shared_run):
                self.notes[f"dropped: shares more than {self.config.max_shared_run} words with the film's plot"] += 1
                cycle.turn[split] -= 1  # the group's turn is not used up by a dropped question
                continue
            if mentions(question, film.title):
                self.notes["dropped: names the film"] += 1
                cycle.turn[split] -= 1
                continue
            alike = twins(self.catalog, film)
            out.append(record("identify", split, group, question, [film.title], entity=None,
                              gold_keys=[passage_key(PassageKind.PLOT, film.id)], source=source,
                              gold=film_ref(film), twins=alike, accept=[film_ref(film), *alike],
                              ambiguous=bool(alike), form=form))
        return out


class DescribeMaker:
    """"Tell me about X" over catalog films with a plot; the film's plot paragraphs are the BERTScore references."""

    def __init__(self, catalog: Catalog, split: Splitter, config: CapabilityDataConfig) -> None:
        self.catalog, self.split, self.config = catalog, split, config
        self.rng = random.Random(config.seed + 1)
        self.notes: Counter = Counter()

    def __call__(self) -> list[dict]:
        cycle, limit, out = GroupCycle(list(DESCRIBE), HELD_OUT["describe"]), caps(self.config), []
        counts: Counter = Counter()
        films = [self.catalog.film(i) for i in self.catalog.all_films()]
        films = [m for m in films if m.year and len(m.plot.split()) >= MIN_PLOT_WORDS and len(normalize(m.title)) > 1]
        self.rng.shuffle(films)
        for film in films:
            split = self.split(film.id)
            if counts[split] >= limit[split]:
                if all(counts[s] >= limit[s] for s in SPLITS):
                    break
                continue
            counts[split] += 1
            group = cycle(split)
            alike = twins(self.catalog, film)
            title = f"{film.title} ({film.year})" if alike else film.title
            question = render(self.rng.choice(DESCRIBE[group]), t=title)
            out.append(record("describe", split, group, question, [film.title], entity=film.title,
                              gold_keys=[passage_key(kind, film.id) for kind in (PassageKind.CARD, PassageKind.PLOT)],
                              source="default catalog", gold=film_ref(film), twins=alike, accept=[film_ref(film)],
                              overview=[p.strip() for p in film.plot.split("\n\n") if p.strip()],
                              card={"year": film.year, "directors": film.directors, "writers": film.writers,
                                    "cast": film.cast, "genres": film.genres, "language": film.language,
                                    "tags": film.tags}))
        self.notes["films with a plot"] = len(films)
        return out


class RecommendMaker:
    """"Films like X" with optional constraints (older, newer, a genre), each satisfiable by the catalog."""

    KINDS = ("none", "older", "none", "newer", "genre")  # constraint kinds, drawn (two in five unconstrained)

    def __init__(self, catalog: Catalog, split: Splitter, config: CapabilityDataConfig) -> None:
        self.catalog, self.split, self.config = catalog, split, config
        self.rng = random.Random(config.seed + 2)
        self.notes: Counter = Counter()
        self.genres = sorted(g for g in GENRE_NOUNS if catalog.follow([g], "genre", back=True)[g])

    def topics(self) -> list[Movie]:
        """Films a recommendation can start from: a year, genres, a plot, and known people or tags or votes."""
        films = [self.catalog.film(i) for i in self.catalog.all_films()]
        return [m for m in films if m.year and m.genres and len(m.plot.split()) >= MIN_PLOT_WORDS
                and (m.directors or m.tags or (m.votes or 0) >= 100) and len(normalize(m.title)) > 1]

    def __call__(self) -> list[dict]:
        cycle, limit, out = GroupCycle(list(RECOMMEND), HELD_OUT["recommend"]), caps(self.config), []
        counts: Counter = Counter()
        films = self.topics()
        self.rng.shuffle(films)
        for film in films:
            split = self.split(film.id)
            if counts[split] >= limit[split]:
                if all(counts[s] >= limit[s] for s in SPLITS):
                    break
                continue
            kind = self.rng.choice(self.KINDS)  # drawn, not cycled: a cycle would pair each group with one kind
            constraints, slots = self._constraints(film, kind)
            if constraints is None:
                self.notes[f"skipped: {kind} constraint leaves fewer than {MIN_CHOICES} films"] += 1
                continue
            counts[split] += 1
            group = cycle(split)
            alike = twins(self.catalog, film)
            slots["t"] = f"{film.title} ({film.year})" if alike else film.title
            question = render(self._template(group, kind), **slots)
            out.append(record("recommend", split, group, question, [], entity=film.title,
                              gold_keys=[passage_key(PassageKind.CARD, film.id)], source="default catalog",
                              kind=kind, topic=film_ref(film), twins=alike, constraints=constraints))
        return out

    def _template(self, group: str, kind: str) -> str:
        if kind == "genre":  # the genre in the template itself ("a comedy like X") or in the constraint phrase
            return self.rng.choice([t for t in RECOMMEND[group] if "{gnoun}" in t or "{c}" in t])
        return self.rng.choice([t for t in RECOMMEND[group] if "{gnoun}" not in t])

    def _constraints(self, film: Movie, kind: str) -> tuple[dict | None, dict]:
        """The constraints as data and the template slots; (None, {}) when the catalog cannot satisfy them."""
        cons = {"year_from": None, "year_to": None, "genre": None}
        if kind == "older":
            cons["year_to"] = film.year - 1
        elif kind == "newer":
            cons["year_from"] = film.year + 1
        elif kind == "genre":
            own = [g for g in film.genres if g in GENRE_NOUNS]
            cons["genre"] = self.rng.choice(own if own and self.rng.random() < 0.5 else self.genres)
        if kind != "none" and self._choices(film, cons) < MIN_CHOICES:
            return None, {}
        genre = cons["genre"] or ""
        slots = {"gnoun": GENRE_NOUNS.get(genre, ""), "gname": genre.lower(), "year": str(film.year), "c": ""}
        if kind != "none":
            slots["c"] = self.rng.choice(CONSTRAINT_PHRASES[kind]).format(**slots)
        return cons, slots

    def _choices(self, film: Movie, cons: dict) -> int:
        """How many other catalog films meet the constraints and share a genre with the film."""
        shares = {f for films in self.catalog.follow(film.genres, "genre", back=True).values() for f in films}
        meeting = self.catalog.filter(shares, SimpleNamespace(**cons))
        return sum(1 for f in meeting if f != film.id)
