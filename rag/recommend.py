"""Recommend films like a film ("films like Alien", "something like The Matrix but older", "a comedy like X").

Candidates are the films that share a director, writer, cast member or tag with the topic film, and its plot
neighbours (nearest plot embeddings). Each is scored by what it shares (weights below), plus a little for being
well known (votes); constraints of the plan (years, genre) and comparatives of the question ("older", "newer")
filter them. The topic film and films with its title (remakes) are never recommended. Every recommendation
carries the reason the data gives: the shared people, tags or genres, or a similar plot.
"""
from __future__ import annotations

import math
import re
from dataclasses import replace

from core.records import PassageKind, normalize, passage_key
from index.catalog import Catalog
from rag.describe import join_words
from rag.execute import Execution, Fact, label
from rag.films import FilmPassages
from rag.plan import Constraints, EntityKind, Plan

PICKS = 5  # recommendations per answer
NEIGHBOURS = 60  # plot neighbours considered
# what a shared value is worth: (relation, weight per shared value, values counted at most)
SHARED = (("director", 3.0, 2), ("writer", 2.0, 2), ("actor", 1.0, 3), ("tag", 1.0, 4))
GENRE_WEIGHT = 1.5  # times the Jaccard overlap of the genres
PLOT_WEIGHT = 4.0  # times the plot cosine above PLOT_FLOOR
PLOT_FLOOR = 0.3
TAG_MAX_FILMS, TAG_MAX_SHARE = 60, 0.003  # a tag on more films than both says little about a film
TAG_MIN_RATE, TAG_LIFT = 0.2, 3.0  # a topical tag: in >= 20% of its films' plots, 3x the catalog-wide rate
TOP_VOTED = 200  # with no film to be like: the best rated among this many most voted films
BACKGROUND_FILMS = 2000  # films sampled for the catalog-wide rate
POPULARITY_WEIGHT = 0.15  # times log10(votes + 1): among equals, the better known film
_OLDER = re.compile(r"\b(older|earlier|classic|before)\b", re.I)
_NEWER = re.compile(r"\b(newer|more recent|recent|modern|later|after)\b", re.I)
_WORDS = {"director": "directed by", "writer": "written by", "actor": "starring", "tag": "about"}


class Recommender:
    """Callable: (a recommend plan, the question) → its Execution: up to PICKS films with their reasons."""

    def __init__(self, catalog: Catalog, films: FilmPassages) -> None:
        self.catalog, self.films = catalog, films
        self._genres = {normalize(g) for g in catalog.vocabulary("genre")}
        self._topical: dict[str, bool] = {}  # tag → whether it is topical (cached: tags are few, plots many)
        self._sample: list[str] | None = None

    def __call__(self, plan: Plan, question: str = "") -> Execution:
        topic = next((t for t in plan.topics if t.kind == EntityKind.FILM), None)
        if topic is None:
            return self._best_known(plan.constraints)
        ids = self.catalog.films_named(topic.name, topic.year)
        if not ids:
            what = f"{topic.name} ({topic.year})" if topic.year else topic.name
            return Execution(missing=f"{what} is not in the catalog.", steps=[f"{topic}: not found"])
        film = max(ids, key=lambda f: (self.catalog.film(f).votes or 0, self.catalog.film(f).year or 0))
        constraints = relative_constraints(plan.constraints, question, self.catalog.film(film).year)
        reasons = self._candidates(film)
        title = normalize(self.catalog.film(film).title)
        allowed = set(self.catalog.filter(list(reasons), constraints)) if constraints else set(reasons)
        ranked = sorted((f for f in reasons if f in allowed and normalize(self.catalog.film(f).title) != title),
                        key=lambda f: (-self._score(reasons[f], f), label(self.catalog, f)))
        picks = ranked[:PICKS]
        run = Execution(steps=[f"{topic} → {film}", f"{len(reasons)} candidates"
                               + (f", {len(allowed)} meet {constraints}" if constraints else "")])
        if not picks:
            run.missing = f"The catalog has no films like {label(self.catalog, film)}" + (
                " that meet those conditions." if constraints else ".")
            return run
        run.answers = [label(self.catalog, f) for f in picks]
        lines = [f"{label(self.catalog, f)}: {self._reason(reasons[f])}." for f in picks]
        run.facts = [Fact(f"Films like {label(self.catalog, film)}: {', '.join(run.answers)}.",
                          passage_key(PassageKind.CARD, film), self.catalog.film(film).title,
                          self.catalog.film(film).year)]
        run.facts += [Fact(line, passage_key(PassageKind.CARD, f), self.catalog.film(f).title,
                           self.catalog.film(f).year) for line, f in zip(lines, picks)]
        run.answer = f"Films like {label(self.catalog, film)}:\n" + "\n".join(f"- {line}" for line in lines)
        run.steps.append(f"recommend → {', '.join(run.answers)}")
        return run

    def _best_known(self, constraints: Constraints) -> Execution:
        """No film to be like ("recommend a good comedy"): the best rated of the most voted films that meet the
        constraints (among the TOP_VOTED most voted, so that one 10/10 vote does not win)."""
        if not constraints:
            return Execution(missing="Which film should they be like? Name one, e.g. films like Alien.",
                             steps=["recommend: no film and no conditions"])
        films = self.catalog.filter(None, constraints)
        voted = sorted(films, key=lambda f: -(self.catalog.film(f).votes or 0))[:TOP_VOTED]
        picks = sorted(voted, key=lambda f: (-(self.catalog.film(f).rating or 0), label(self.catalog, f)))[:PICKS]
        run = Execution(steps=[f"recommend: {len(films)} films meet {constraints}"])
        if not picks:
            run.missing = "The catalog has no films that meet those conditions."
            return run
        run.answers = [label(self.catalog, f) for f in picks]
        lines = []
        for f in picks:
            movie = self.catalog.film(f)
            said = [join_words([g.lower() for g in movie.genres[:3]])] if movie.genres else []
            if movie.rating is not None:
                said.append(f"rated {movie.rating:g}/10" + (f" from {movie.votes:,} votes" if movie.votes else ""))
            lines.append(f"{label(self.catalog, f)}: {', '.join(said) or 'in the catalog'}.")
        run.facts = [Fact(line, passage_key(PassageKind.CARD, f), self.catalog.film(f).title,
                          self.catalog.film(f).year) for line, f in zip(lines, picks)]
        run.answer = f"Well-rated {_films_wanted(constraints)}:\n" + "\n".join(f"- {line}" for line in lines)
        return run

    def _candidates(self, film: str) -> dict[str, dict]:
        """Candidate film → what it shares with `film`: {relation: [values]}, "plot": cosine, "genres": [..]."""
        out: dict[str, dict] = {}
        for rel, _, _ in SHARED:
            values = self.catalog.follow([film], rel).get(film, [])
            shared = self.catalog.follow(values, rel, back=True)
            if rel == "tag":
                shared = {tag: films for tag, films in shared.items() if self._telling(tag, films)}
            for value, others in shared.items():
                for other in others:
                    if other != film:
                        out.setdefault(other, {}).setdefault(rel, []).append(value)
        for other, cosine in self.films.neighbours(film, NEIGHBOURS).items():
            if cosine > PLOT_FLOOR and other in self.catalog:
                out.setdefault(other, {})["plot"] = cosine
        genres = {normalize(g): g for g in self.catalog.film(film).genres}
        for other, shared in out.items():
            theirs = {normalize(g) for g in self.catalog.film(other).genres}
            shared["genres"] = [g for n, g in genres.items() if n in theirs]
            shared["jaccard"] = len(theirs & set(genres)) / max(1, len(theirs | set(genres)))
        return out

    def _telling(self, tag: str, films: list[str]) -> bool:
        """A tag that says what a film is about: on few films ("national film registry" is on hundreds), not a
        genre or a person's name (WikiMovies tags hold both), and topical: the plots of its films use the word
        TAG_LIFT times as often as plots at large ("aliens", "dystopia"; not "acting", "script" or "own")."""
        if len(tag) < 3 or len(films) > max(TAG_MAX_FILMS, TAG_MAX_SHARE * len(self.catalog)):
            return False
        if normalize(tag) in self._genres or self.catalog.people_named(tag):
            return False
        if tag not in self._topical:
            word = re.compile(rf"\b{re.escape(normalize(tag).removesuffix('s'))}")
            rate = sum(bool(word.search(self._plot(f))) for f in films) / len(films)
            background = sum(bool(word.search(p)) for p in self._background()) / max(1, len(self._background()))
            self._topical[tag] = rate >= TAG_MIN_RATE and rate >= TAG_LIFT * background
        return self._topical[tag]

    def _plot(self, film: str) -> str:
        return normalize(self.catalog.film(film).plot)

    def _background(self) -> list[str]:
        """Plots of an even sample of the catalog's films (normalised), for tag word rates."""
        if self._sample is None:
            ids = self.catalog.all_films()
            step = max(1, len(ids) // BACKGROUND_FILMS)
            self._sample = [p for p in (self._plot(f) for f in ids[::step]) if p]
        return self._sample

    def _score(self, shared: dict, film: str) -> float:
        score = sum(weight * min(limit, len(shared.get(rel, []))) for rel, weight, limit in SHARED)
        score += GENRE_WEIGHT * shared.get("jaccard", 0.0)
        score += PLOT_WEIGHT * max(0.0, shared.get("plot", 0.0) - PLOT_FLOOR)
        return score + POPULARITY_WEIGHT * math.log10((self.catalog.film(film).votes or 0) + 1)

    @staticmethod
    def _reason(shared: dict) -> str:
        """The strongest things shared, said: "also directed by Ridley Scott; also horror, science fiction"."""
        said = [f"also {_WORDS[rel]} {join_words(_distinct(shared[rel])[:limit])}"
                for rel, _, limit in SHARED if shared.get(rel)]
        if shared.get("plot", 0.0) > PLOT_FLOOR + 0.2 or not said:
            said.append("a similar plot")
        if shared.get("genres"):
            said.append(f"also {join_words([g.lower() for g in shared['genres'][:3]])}")
        return "; ".join(said[:3])


def _films_wanted(c: Constraints) -> str:
    """Constraints, said: "comedy films from 1990 to 1999"."""
    words = " ".join(str(v).lower() for v in (c.genre, c.language) if v) + " films"
    if c.year_from is not None or c.year_to is not None:
        words += (f" from {c.year_from} to {c.year_to}" if c.year_from is not None and c.year_to is not None
                  else f" from {c.year_from} on" if c.year_from is not None else f" up to {c.year_to}")
    return words.strip()


def _distinct(values: list[str]) -> list[str]:
    """Values without variants of one word ("aliens", "alien")."""
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(normalize(value).removesuffix("s"), value)
    return list(seen.values())


def relative_constraints(constraints: Constraints, question: str, year: int | None) -> Constraints:
    """The plan's constraints, plus the years a comparative implies ("but older": before the topic film)."""
    if year is None or constraints.year_from is not None or constraints.year_to is not None:
        return constraints
    if _OLDER.search(question):
        return replace(constraints, year_to=year - 1)
    if _NEWER.search(question):
        return replace(constraints, year_from=year + 1)
    return constraints
