"""The typed plan a question becomes, and its small text grammar (what `--explain` prints and a generator may emit).

A plan starts from its topic entities (films, people, tags, genres, resolved by the linker), follows a relation
path of 1-3 hops over the catalog, applies constraints, and ends in an operation:

    lookup  film:"Alien" > director                                  who directed Alien?
    lookup  person:"Joaquin Phoenix" < actor > director              who directed the films starring Joaquin Phoenix?
    lookup  film:"Alien" > director < director                       what else did the director of Alien direct?
    count   person:"Stanley Kubrick" < director                      how many Kubrick films are there?
    argmin  all > runtime                                            what is the shortest film?
    top     all > rating | genre="Horror" year=1980..1989 n=5        the five best horror films of the 1980s
    argmax  film:"Alien", film:"Aliens" > runtime                    which is longer, Alien or Aliens? (a comparison)
    check   film:"Alien" > director = person:"Ridley Scott"          did Ridley Scott direct Alien?
    identify | describe | recommend | off_topic                      (no path: answered from passages)

A hop `> rel` goes from films to their values or people; `< rel` goes back from values or people to the films
that have them. `all` starts from every film (superlatives over the catalog).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from core.errors import PlanError


class Op(StrEnum):
    LOOKUP = "lookup"  # the values or films at the end of the path (one or a list)
    COUNT = "count"  # how many films/values are at the end of the path
    # Superlatives: the path's last hop is the numeric field (YEAR/RATING/VOTES/RUNTIME); the films ranked are the
    # ones the rest of the path reaches, or the named films (a comparison: "which is longer, X or Y?"), or all films.
    ARGMAX = "argmax"  # the film with the largest value
    ARGMIN = "argmin"  # the film with the smallest value
    TOP = "top"  # the n films with the largest value (n in the plan)
    CHECK = "check"  # yes/no: is `expect` among the values at the end of the path?
    IDENTIFY = "identify"  # which film is described (plot passages)
    DESCRIBE = "describe"  # tell me about a film (its card and plot passages)
    RECOMMEND = "recommend"  # films like a topic film
    OFF_TOPIC = "off_topic"  # not about the catalog


class Rel(StrEnum):
    """Relations between films and their people or values (the WikiMovies KB relations, plus runtime)."""

    DIRECTOR = "director"
    WRITER = "writer"
    ACTOR = "actor"
    GENRE = "genre"
    TAG = "tag"
    LANGUAGE = "language"
    YEAR = "year"
    RATING = "rating"
    VOTES = "votes"
    RUNTIME = "runtime"


PEOPLE = frozenset({Rel.DIRECTOR, Rel.WRITER, Rel.ACTOR})  # relations whose values are people
NUMERIC = frozenset({Rel.YEAR, Rel.RATING, Rel.VOTES, Rel.RUNTIME})  # fields superlatives and comparisons use
PATH_OPS = frozenset({Op.LOOKUP, Op.COUNT, Op.ARGMAX, Op.ARGMIN, Op.TOP, Op.CHECK})  # executed exactly


def _quote(text: str) -> str:
    return text.replace('"', '\\"')


class EntityKind(StrEnum):
    FILM = "film"
    PERSON = "person"
    TAG = "tag"
    GENRE = "genre"
    LANGUAGE = "language"
    YEAR = "year"


@dataclass(frozen=True)
class Hop:
    rel: Rel
    back: bool = False  # False: films → values (`> rel`); True: values → films (`< rel`)

    def __str__(self) -> str:
        return f"{'<' if self.back else '>'} {self.rel}"


@dataclass(frozen=True)
class Entity:
    kind: EntityKind
    name: str  # the catalog's own spelling (a card title or a person's name)
    year: int | None = None  # tells remakes apart

    def __str__(self) -> str:
        return f'{self.kind}:"{_quote(self.name)}"' + (f" ({self.year})" if self.year else "")


@dataclass
class Constraints:
    year_from: int | None = None
    year_to: int | None = None
    genre: str | None = None
    language: str | None = None
    min_rating: float | None = None
    max_runtime: int | None = None  # minutes
    min_runtime: int | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in asdict(self).values())

    def __str__(self) -> str:
        parts = []
        if self.year_from is not None or self.year_to is not None:
            parts.append(f"year={self.year_from or ''}..{self.year_to or ''}")
        parts += [f'{k}="{_quote(v)}"' for k, v in (("genre", self.genre), ("language", self.language)) if v]
        parts += [f"{k}={v:g}" for k, v in (("min_rating", self.min_rating), ("max_runtime", self.max_runtime),
                                            ("min_runtime", self.min_runtime)) if v is not None]
        return " ".join(parts)


@dataclass
class Plan:
    op: Op
    topics: list[Entity] = field(default_factory=list)  # empty with a path: start from every film ("all")
    path: list[Hop] = field(default_factory=list)
    constraints: Constraints = field(default_factory=Constraints)
    n: int | None = None  # TOP: how many
    expect: Entity | None = None  # CHECK: the value asked about
    confidence: float = 1.0  # the planner's probability for op + path; low → the hybrid RAG fallback

    @property
    def exact(self) -> bool:
        """The plan runs on the catalog store (else it is answered from retrieved passages)."""
        return self.op in PATH_OPS

    def __str__(self) -> str:
        start = ", ".join(str(t) for t in self.topics) or ("all" if self.path else "")
        text = " ".join(x for x in (str(self.op), start, " ".join(str(h) for h in self.path)) if x)
        if self.expect is not None:
            text += f" = {self.expect}"
        extra = str(self.constraints) + (f" n={self.n}" if self.n else "")
        return f"{text} | {extra.strip()}" if extra.strip() else text

    def to_dict(self) -> dict:
        out = asdict(self)
        out["text"] = str(self)
        return out


# ---------------------------------------------------------------- the text grammar, parsed back

_ENTITY = re.compile(r'(film|person|tag|genre|language|year):"((?:[^"\\]|\\.)*)"(?: \((\d{4})\))?')
_HOP = re.compile(r"([<>]) (\w+)")
_CONSTRAINT = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[\w.]*\.\.[\w.]*|[\w.]+)')


def _entity(m: re.Match) -> Entity:
    return Entity(EntityKind(m.group(1)), m.group(2).replace('\\"', '"'), int(m.group(3)) if m.group(3) else None)


def parse_plan(text: str) -> Plan:
    """The inverse of str(plan): `op [topics] [hops] [= expect] [| constraints]`."""
    head, _, tail = text.partition(" | ")
    op_word, _, rest = head.strip().partition(" ")
    try:
        plan = Plan(Op(op_word))
    except ValueError as exc:
        raise PlanError(f"unknown operation {op_word!r}") from exc
    rest, _, expect = rest.partition(" = ")
    if expect:
        m = _ENTITY.fullmatch(expect.strip())
        if not m:
            raise PlanError(f"bad expected value {expect!r}")
        plan.expect = _entity(m)
    first_hop = min((m.start() for m in _HOP.finditer(rest)), default=len(rest))
    topics, hops = rest[:first_hop].strip(), rest[first_hop:].strip()
    if topics and topics != "all":
        plan.topics = [_entity(m) for m in _ENTITY.finditer(topics)]
        if not plan.topics:
            raise PlanError(f"bad topics {topics!r}")
    try:
        plan.path = [Hop(Rel(m.group(2)), m.group(1) == "<") for m in _HOP.finditer(hops)]
    except ValueError as exc:
        raise PlanError(f"unknown relation in {hops!r}") from exc
    for key, value in _CONSTRAINT.findall(tail):
        _set_constraint(plan, key, value)
    return plan


def _set_constraint(plan: Plan, key: str, value: str) -> None:
    c = plan.constraints
    if key == "n":
        plan.n = int(value)
    elif key == "year":
        lo, _, hi = value.partition("..")
        c.year_from, c.year_to = (int(lo) if lo else None), (int(hi) if hi else None)
    elif key in ("genre", "language"):
        setattr(c, key, value[1:-1].replace('\\"', '"') if value.startswith('"') else value)
    elif key == "min_rating":
        c.min_rating = float(value)
    elif key in ("max_runtime", "min_runtime"):
        setattr(c, key, int(float(value)))
    else:
        raise PlanError(f"unknown constraint {key!r}")
