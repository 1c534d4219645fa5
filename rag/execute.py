"""Exact execution of a plan (rag.plan) on the catalog store (index.catalog): the answer set, computed, and the
evidence the generator words it from.

Evidence is short fact lines in the index's own card format ("Alien (1979). Directed by Ridley Scott."), one per
film, each citing that film's card; counts, superlatives, comparisons and yes/no checks add one result line that
states what was computed ("Aliens (1986) is longer than Alien (1979): 137 min against 117 min."), so the generator
never has to count or compare. What the catalog lacks is said plainly instead of being guessed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from core.records import PassageKind, passage_key
from index.catalog import Catalog
from rag.plan import NUMERIC, PEOPLE, Entity, EntityKind, Hop, Op, Plan, Rel

MAX_FACTS = 12  # fact lines in the prompt at most (the answers' lines first)
MAX_LISTED = 30  # answers listed at most

_FORWARD = {Rel.DIRECTOR: "Directed by", Rel.WRITER: "Written by", Rel.ACTOR: "Starring", Rel.GENRE: "Genre:",
            Rel.TAG: "Tags:", Rel.LANGUAGE: "Language:", Rel.YEAR: "Released in", Rel.RATING: "Rating:",
            Rel.VOTES: "Votes:", Rel.RUNTIME: "Runtime:"}  # the words card_text uses for each field
_UNIT = {Rel.RUNTIME: " min", Rel.RATING: "/10"}
_ROLE = {Rel.DIRECTOR: "director of", Rel.WRITER: "writer of", Rel.ACTOR: "actor in"}  # person cards' words
_MORE = {Rel.RUNTIME: ("longer", "shorter"), Rel.YEAR: ("newer", "older"), Rel.RATING: ("rated higher", "rated lower"),
         Rel.VOTES: ("more voted", "less voted")}
_MOST = {Rel.RUNTIME: ("longest", "shortest"), Rel.YEAR: ("newest", "oldest"),
         Rel.RATING: ("best rated", "worst rated"), Rel.VOTES: ("most voted", "least voted")}
_NOUN = {Rel.DIRECTOR: "director credits", Rel.WRITER: "writer credits", Rel.ACTOR: "cast lists", Rel.GENRE: "genres",
         Rel.TAG: "tags", Rel.LANGUAGE: "languages", Rel.YEAR: "release years", Rel.RATING: "ratings",
         Rel.VOTES: "vote counts", Rel.RUNTIME: "runtimes"}


@dataclass
class Fact:
    text: str  # one evidence line
    key: str  # the passage key it cites (a film's card)
    title: str = ""
    year: int | None = None


@dataclass
class Execution:
    answers: list[str] = field(default_factory=list)  # the computed answer items
    facts: list[Fact] = field(default_factory=list)  # evidence, result line first
    steps: list[str] = field(default_factory=list)  # how it ran, for --explain
    missing: str | None = None  # what the catalog lacks, said as a full sentence (the answer then)
    count: int | None = None  # COUNT: the computed number
    answer: str | None = None  # describe, recommend, identify: the answer written from the data (the fallback)


def label(catalog: Catalog, film_id: str) -> str:
    movie = catalog.film(film_id)
    return f"{movie.title} ({movie.year})" if movie.year else movie.title


def _value(rel: Rel, value: str) -> str:
    """A value with its unit ("117 min", "8.4/10"); WikiMovies ratings that are words ("good") stay words."""
    numeric = value.replace(".", "", 1).isdigit()
    return f"{value}{_UNIT.get(rel, '') if numeric else ''}"


def _fact(catalog: Catalog, film_id: str, rel: Rel, values: list[str]) -> Fact:
    movie = catalog.film(film_id)
    shown = ", ".join(_value(rel, v) for v in values[:MAX_LISTED])
    return Fact(f"{label(catalog, film_id)}. {_FORWARD[rel]} {shown}.", passage_key(PassageKind.CARD, movie.id),
                movie.title, movie.year)


class Executor:
    """Runs plans on one catalog. Stateless apart from the catalog, so it is safe across threads."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def __call__(self, plan: Plan) -> Execution:
        """Execute one plan: resolve its topics, follow its path, apply its constraints and operation."""
        run = Execution()
        start = self._start(plan, run)
        if run.missing:
            return run
        nodes, films = self._walk(start, plan, run)
        if run.missing:
            return run
        if plan.op in (Op.ARGMAX, Op.ARGMIN, Op.TOP):
            self._rank(plan, films, run)
        elif plan.op == Op.CHECK:
            self._check(plan, nodes, run)
        else:
            ends_in_films = plan.path[-1].back if plan.path else bool(films)
            run.answers = [self.catalog.film(f).title if ends_in_films else f for f in nodes[:MAX_LISTED]]
            if plan.op == Op.COUNT:
                run.count, run.answers = len(nodes), [str(len(nodes))]
                line = self._count_line(plan, len(nodes), [f.title for f in run.facts if f.title])
                run.facts.insert(0, _result(line, run.facts))
        run.facts = run.facts[:MAX_FACTS]
        return run

    # ------------------------------------------------------------ topics and path

    def _start(self, plan: Plan, run: Execution) -> list[str]:
        """Topic films → film ids; people and values → their catalog spelling; no topics → every film."""
        if not plan.topics:
            run.steps.append(f"start: all {len(self.catalog)} films")
            return self.catalog.all_films()
        out: list[str] = []
        for topic in plan.topics:
            found = self._resolve(topic)
            if not found:
                what = f"{topic.name} ({topic.year})" if topic.year else topic.name
                run.missing = f"{what} is not in the catalog."
                run.steps.append(f"{topic}: not found")
                return []
            run.steps.append(f"{topic} → {', '.join(found[:5])}")
            out += [f for f in found if f not in out]
        return out

    def _resolve(self, topic: Entity) -> list[str]:
        if topic.kind == EntityKind.FILM:
            return self.catalog.films_named(topic.name, topic.year)
        if topic.kind == EntityKind.PERSON:
            return self.catalog.people_named(topic.name)
        return [topic.name]  # tags, genres, languages and years are matched as values

    def _walk(self, start: list[str], plan: Plan, run: Execution) -> tuple[list[str], list[str]]:
        """Follow the path hop by hop. Returns (the nodes at the end, the last film set on the way)."""
        hops = plan.path[:-1] if plan.op in (Op.ARGMAX, Op.ARGMIN, Op.TOP) else plan.path
        nodes = start
        films = start if not plan.topics or plan.topics[0].kind == EntityKind.FILM else []
        topic_films = set(films) if plan.topics else set()
        for i, hop in enumerate(hops):
            run.facts = []  # the prompt holds the last hop's lines: they answer the question (steps keep the chain)
            edges = self.catalog.follow(nodes, hop.rel, hop.back)
            if hop.back:
                nodes = self._films_reached(edges, hop, topic_films, plan, run)
                films = nodes
            else:
                if not any(edges.values()) and nodes:
                    run.missing = self._missing_field(hop.rel, nodes)
                    return [], films
                if i > 0:  # a path back to the topic's own kind: the topic is not its own answer ("co-stars of X")
                    edges = {f: [v for v in vs if v not in start] for f, vs in edges.items()}
                nodes = _ordered(v for vs in edges.values() for v in vs)
                run.facts[:0] = [_fact(self.catalog, f, hop.rel, vs) for f, vs in edges.items() if vs]
            run.steps.append(f"hop {i + 1} {hop}: {len(nodes)} {'films' if hop.back else 'values'}")
        if not hops and films and plan.constraints:
            films = nodes = self.catalog.filter(films, plan.constraints)
        return nodes, films

    def _films_reached(self, edges: dict[str, list[str]], hop: Hop, topic_films: set[str], plan: Plan,
                       run: Execution) -> list[str]:
        """Films reached by a backward hop: the topic films themselves excluded ("what else did …"), constraints
        applied, and a fact line per film citing its card."""
        films = _ordered(f for fs in edges.values() for f in fs if f not in topic_films)
        if plan.constraints:
            films = self.catalog.filter(films, plan.constraints)
        kept = set(films)
        for value, fs in edges.items():  # one line per person or value, in the index's person-card format
            ids = [f for f in fs if f in kept][:MAX_LISTED]
            if ids:
                listed = ", ".join(label(self.catalog, f) for f in ids)
                run.facts.insert(0, Fact(f"{value} — {_ROLE.get(hop.rel, 'films')}: {listed}.",
                                         self._citation(hop.rel, value, ids[0]), value))
        return films

    def _citation(self, rel: Rel, value: str, first_film: str) -> str:
        """The card a value's film list comes from: the person's or tag's card; genres, languages and years have
        none, so the first film's card."""
        if rel in PEOPLE:
            return passage_key(PassageKind.PERSON, value)
        if rel == Rel.TAG:
            return passage_key(PassageKind.TAG, value)
        return passage_key(PassageKind.CARD, self.catalog.film(first_film).id)

    def _missing_field(self, rel: Rel, films: list[str]) -> str:
        if self.catalog.coverage(str(rel)) == 0:
            return f"The catalog has no {_NOUN[rel]}."
        names = ", ".join(label(self.catalog, f) for f in films[:3])
        return f"The catalog has no {_NOUN[rel].rstrip('s')} for {names}."

    # ------------------------------------------------------------ operations

    def _rank(self, plan: Plan, films: list[str], run: Execution) -> None:
        rel = plan.path[-1].rel if plan.path else None
        if rel not in NUMERIC:
            run.missing = "The catalog can only rank films by year, rating, votes or runtime."
            return
        numbers = self.catalog.numbers(films, str(rel))
        if not numbers:
            run.missing = f"The catalog has no {_NOUN[rel]}" + (" for these films." if plan.topics else ".")
            return
        largest = plan.op != Op.ARGMIN
        ranked = sorted(numbers, key=lambda f: (-numbers[f] if largest else numbers[f], label(self.catalog, f)))
        n = (plan.n or 5) if plan.op == Op.TOP else 1
        winners = ranked[:n]
        run.answers = [label(self.catalog, f) for f in winners]
        run.steps.append(f"{plan.op} by {rel} over {len(numbers)} films → {', '.join(run.answers)}")
        result = Fact(self._rank_line(plan, rel, ranked, numbers, largest), passage_key(PassageKind.CARD, winners[0]))
        run.facts = [result] + [_fact(self.catalog, f, rel, [_number(numbers[f])]) for f in ranked[:n + 1]]

    def _rank_line(self, plan: Plan, rel: Rel, ranked: list[str], numbers: dict[str, float], largest: bool) -> str:
        best, words = ranked[0], _MORE if len(plan.topics) >= 2 else _MOST
        word = words[rel][0 if largest else 1]
        shown = _value(rel, _number(numbers[best]))
        if len(plan.topics) >= 2 and len(ranked) >= 2:  # a comparison of the films named
            other = ranked[1]
            return (f"{label(self.catalog, best)} is {word} than {label(self.catalog, other)}: {shown} against "
                    f"{_value(rel, _number(numbers[other]))}.")
        if plan.op == Op.TOP:
            listed = ", ".join(label(self.catalog, f) for f in ranked[:plan.n or 5])
            return f"The {word} films are, in order: {listed}."
        return f"The {word} film is {label(self.catalog, best)}: {shown}."

    def _check(self, plan: Plan, nodes: list[str], run: Execution) -> None:
        expected = plan.expect.name if plan.expect else ""
        found = [n for n in nodes if _same(n, expected)]
        run.answers = ["yes" if found else "no"]
        shown = ", ".join(nodes[:5]) or "nothing"
        verdict = "Yes" if found else "No"
        evidence = run.facts[-1].text if run.facts else f"The catalog lists {shown}."
        run.facts.insert(0, _result(f"{verdict}. {evidence}", run.facts))
        run.steps.append(f"check {expected!r} among {len(nodes)} values → {run.answers[0]}")

    def _count_line(self, plan: Plan, n: int, people: list[str]) -> str:
        """The count, said; `people` are the names of the person lines the films came from (on a 2-hop path
        "the director of X", the director rather than X)."""
        hop = plan.path[-1] if plan.path else None
        if hop is not None and hop.back and hop.rel in PEOPLE:
            topic = ", ".join(people if people else [t.name for t in plan.topics])
            what = {Rel.DIRECTOR: "directed by", Rel.WRITER: "written by", Rel.ACTOR: "starring"}[hop.rel]
            return f"The catalog has {n} film{'s' if n != 1 else ''} {what} {topic}."
        return f"The catalog has {n} answer{'s' if n != 1 else ''}."


def _result(line: str, facts: list[Fact]) -> Fact:
    """A result line, citing (and titled like) the first fact line it was computed from."""
    first = facts[0] if facts else Fact("", "")
    return Fact(line, first.key, first.title, first.year)


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _same(a: str, b: str) -> bool:
    return a.casefold().strip() == b.casefold().strip()


def _ordered(items) -> list[str]:
    """Distinct items in first-seen order."""
    return list(dict.fromkeys(items))
