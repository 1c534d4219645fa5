"""A chat's entity memory: the films and people each turn was about and answered with, most recent first.

Each answered turn becomes a Turn: its topics (the plan's topic entities, else the films and people the linker
finds in the question, else the cited linked card) and its answers (the plan's computed answers with their kind,
else the answer items that name a film or a person of the index). Names come from the retriever's linker tables
(rag.retrieve.Retriever), so a film carries its year (and is written "Scarface (1983)" when remakes share its
title) and a person the roles their card lists ("director of:", "writer of:", "actor in:").

`Memory.pick(kind, role)` is the referent rule of a pronoun: the most recent film or person that fits the question.
A person credited in the role the question asks about ("what else did she star in?" → an actor) beats one who is
not; within a turn, a single answer or a topic beats the items of a list answer.
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field, replace

from core.records import Stage, normalize
from rag.plan import EntityKind
from rag.plan_spans import align

FILM, PERSON = EntityKind.FILM, EntityKind.PERSON
ROLES = ("director", "writer", "actor")
_ROLE_WORDS = {"director": "director of", "writer": "writer of", "actor": "actor in"}  # person cards' words
_TRAILING_YEAR = re.compile(r"\s*\((\d{4})\)\s*$")
# Words that are pronouns before they are titles: "She" (1965), "Her" (2013), "They" (2002) and "Them!" (1954)
# name films only when written as a title (capitalised, not opening the question).
PRONOUN_WORDS = frozenset("it its he she him her his hers they them their theirs this that one".split())


@dataclass(frozen=True)
class Mention:
    """A film or a person a turn named."""

    kind: EntityKind  # FILM or PERSON
    name: str  # the catalog's spelling (a card title or a person's name)
    year: int | None = None  # films: tells remakes apart
    roles: frozenset[str] = frozenset()  # people: director / writer / actor, as the chat met them (else their card)
    origin: tuple[str, str] | None = None  # (relation, film): the one person who answered "who directed F?"
    remake: bool = False  # several films share this title: write it with its year

    @property
    def text(self) -> str:
        """How the name is written into a question."""
        return f"{self.name} ({self.year})" if self.remake and self.year else self.name


@dataclass
class Turn:
    """One answered question as the memory keeps it."""

    question: str  # as asked
    resolved: str  # as answered (the question itself when nothing was rewritten)
    topics: list[Mention] = field(default_factory=list)
    answers: list[Mention] = field(default_factory=list)  # several: a list answer
    answer_kind: str | None = None  # "film", "person", "value", or None (abstained or unknown)
    op: str | None = None  # the plan's operation ("lookup", "recommend", ...) when a planner planned it
    people_of: tuple[str, str] | None = None  # (relation, film): the answers are that film's directors, cast, ...
    listing: str | None = None  # the films answered, as a noun phrase: "the films starring Tom Hanks"

    def singular(self) -> list[Mention]:
        """Referents of a singular pronoun: a single answer, then the topics."""
        return (self.answers if len(self.answers) == 1 else []) + self.topics

    def listed(self) -> list[Mention]:
        """The items of a list answer, in the answer's order."""
        return self.answers if len(self.answers) > 1 else []

    def answer_years(self) -> list[int]:
        return [m.year for m in self.answers if m.kind == FILM and m.year]


class Memory:
    """The last `max_turns` turns of one chat."""

    def __init__(self, max_turns: int = 8) -> None:
        self.turns: deque[Turn] = deque(maxlen=max_turns)

    def __len__(self) -> int:
        return len(self.turns)

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def add(self, turn: Turn) -> None:
        self.turns.append(turn)

    def clear(self) -> None:
        self.turns.clear()

    def origin(self, person: Mention, role: str | None = None) -> tuple[str, str] | None:
        """The newest (relation, film) this person answered as ("who directed F?"), in `role` if given."""
        for turn in reversed(self.turns):
            for m in turn.answers:
                if m.origin and m.name == person.name and role in (None, m.origin[0]):
                    return m.origin
        return None

    def pick(self, kind: EntityKind, role: str | None = None) -> Mention | None:
        """The most recent mention of `kind` that fits: in the role asked about, if any, before any role; newer
        turns before older ones; in one turn, a single answer, then the topics, then a list's items in order."""
        for need_role in ((True, False) if role else (False,)):
            for turn in reversed(self.turns):
                for m in turn.singular() + turn.listed():
                    if m.kind == kind and (not need_role or role in m.roles):
                        return m
        return None


@dataclass
class Named:
    """A film or person a question names: its token span (rag.plan_spans.align tokens) and character span."""

    start: int
    end: int
    chars: tuple[int, int]
    mention: Mention


class Names:
    """Films and people by name, over the retriever's linker tables (none without a retriever: plain mode).

    Args:
        retriever: a rag.retrieve.Retriever (its `link` and `tables`), or None.
        common: question-template words (the planner's `common`): a title made only of them names a film only when
            written as a title, as the planner reads it too ("any more?" does not name the film "More").
    """

    def __init__(self, retriever=None, common: frozenset[str] = frozenset()) -> None:
        self.retriever = retriever
        self.weak = PRONOUN_WORDS | frozenset(common)
        self.tables = getattr(retriever, "tables", None) or {}
        self.passages = retriever.index.passages if retriever is not None else []

    def known(self, kind: EntityKind, name: str) -> bool:
        """The index has a card of this name (always True without a retriever: nothing to check against)."""
        if self.retriever is None:
            return True
        stage = Stage.TITLE_LINK if kind == FILM else Stage.PERSON_LINK
        return normalize(name) in self.tables.get(stage, {})

    def film(self, title: str, year: int | None = None, rows: list[int] | None = None) -> Mention:
        """A film by title (its year filled in when one film has the title, or by `rows`, a link's card rows)."""
        every = self.tables.get(Stage.TITLE_LINK, {}).get(normalize(title), [])
        years = {self.passages[r].year for r in every}
        chosen = {self.passages[r].year for r in rows} if rows else years
        if year is None and len(chosen) == 1:
            year = next(iter(chosen))
        name = self.passages[rows[0]].title if rows else title
        return Mention(FILM, name, year, remake=len(years) > 1)

    def person(self, name: str) -> Mention:
        """A person by name, with the roles their card lists."""
        rows = self.tables.get(Stage.PERSON_LINK, {}).get(normalize(name), [])
        text = " ".join(self.passages[r].text for r in rows)
        roles = frozenset(role for role, words in _ROLE_WORDS.items() if words in text)
        return Mention(PERSON, self.passages[rows[0]].title if rows else name, roles=roles)

    def lookup(self, item: str, kind: EntityKind | None = None) -> Mention | None:
        """The film or person an answer item names exactly ("Alien (1979)", "Ridley Scott"), else None. With `kind`,
        an item is taken as that kind even when the index does not know it."""
        m = _TRAILING_YEAR.search(item)
        name, year = (item[:m.start()], int(m.group(1))) if m else (item, None)
        name = name.strip()
        if not name:
            return None
        key = normalize(name)
        if kind == FILM or (kind is None and key in self.tables.get(Stage.TITLE_LINK, {})):
            return self.film(name, year)
        if kind == PERSON or (kind is None and key in self.tables.get(Stage.PERSON_LINK, {})):
            return self.person(name)
        return None

    def spans(self, question: str) -> list[Named]:
        """The films and people the question names, by the linker (tags and fuzzy links left out). A pronoun or
        template word that is also a title ("her", "they", "more") names the film only when written as one: "who
        directed Her?"."""
        if self.retriever is None:
            return []
        tokens = align(question)
        if tokens is None:
            return []
        out = []
        for link in self.retriever.link(question):
            if link.start < 0 or link.stage not in (Stage.TITLE_LINK, Stage.PERSON_LINK):
                continue
            start, end = tokens[link.start][1], tokens[link.end - 1][2]
            words = [t for t, _, _ in tokens[link.start:link.end]]
            raw = question[start:end]
            if all(w in self.weak for w in words) and not (link.start > 0 and raw[:1].isupper()):
                continue
            if link.stage == Stage.TITLE_LINK:
                mention = self.film(self.passages[link.rows[0]].title, rows=link.rows)
            else:
                mention = self.person(self.passages[link.rows[0]].title)
            out.append(Named(link.start, link.end, (start, end), mention))
        return out


def turn_from_answer(question: str, resolved: str, answer, names: Names) -> Turn:
    """The Turn an Answer leaves: the plan's topics and computed answers when it has them, else the films and
    people of the question and of the answer items (else the first linked card it cites)."""
    plan = getattr(answer, "plan", None) or {}
    turn = Turn(question, resolved, op=str(plan["op"]) if plan.get("op") else None)
    for topic in plan.get("topics") or []:
        if not names.known(topic["kind"], topic["name"]):
            continue  # an unlinked name the planner guessed ("any newer ones?" → film:"ones")
        if topic["kind"] == FILM:
            turn.topics.append(names.film(topic["name"], topic.get("year")))
        elif topic["kind"] == PERSON:
            turn.topics.append(names.person(topic["name"]))
    if not turn.topics:
        turn.topics = _unique(n.mention for n in names.spans(resolved))
    if getattr(answer, "abstained", False):
        return turn
    if plan.get("executed") and plan.get("answers") is not None:
        turn.answer_kind = _answer_kind(plan)
        kind = {"film": FILM, "person": PERSON}.get(turn.answer_kind or "")
        if kind is not None:
            turn.answers = _unique(names.lookup(a, kind) for a in plan["answers"])
            _add_links(turn, plan)
        return turn
    turn.answers = _unique(names.lookup(item) for item in (getattr(answer, "items", None) or [])[:12])
    turn.answer_kind = str(turn.answers[0].kind) if turn.answers else None
    if not turn.topics and not turn.answers:
        turn.topics = _cited(answer, names)
    return turn


def turn_from_text(question: str, resolved: str, answer_text: str, names: Names) -> Turn:
    """A Turn rebuilt from text alone (a chat history without its Answer objects): the films and people the
    resolved question names, and the answer's items that name one."""
    from rag.prompt import split_answer  # deferred: prompt pulls in the tokenizer helpers

    turn = Turn(question, resolved, topics=_unique(n.mention for n in names.spans(resolved)))
    turn.answers = _unique(names.lookup(item) for item in split_answer(answer_text or "")[:12])
    turn.answer_kind = str(turn.answers[0].kind) if turn.answers else None
    return turn


def _answer_kind(plan: dict) -> str:
    """What an executed plan's answers are: films, people or values (counts, yes/no, years, genres)."""
    op, path = str(plan.get("op")), plan.get("path") or []
    if op in ("argmax", "argmin", "top"):
        return "film"
    if op in ("count", "check") or not path:
        return "value"
    last = path[-1]
    if last["back"]:
        return "film"
    return "person" if str(last["rel"]) in ROLES else "value"


_LISTINGS = {"actor": "the films starring {}", "director": "the films directed by {}",
             "writer": "the films written by {}"}


def _add_links(turn: Turn, plan: dict) -> None:
    """What a one-hop lookup's answers are of: the people of one film ("who directed F?"; one person answering
    also remembers F, so "what else did he direct?" can leave F out), or the films of one person."""
    path = plan.get("path") or []
    if len(path) != 1 or str(path[0]["rel"]) not in ROLES:
        return
    rel, back = str(path[0]["rel"]), bool(path[0]["back"])
    films = [t for t in turn.topics if t.kind == FILM]
    people = [t for t in turn.topics if t.kind == PERSON]
    if not back and len(films) == 1 and turn.answer_kind == "person":
        turn.people_of = (rel, films[0].text)
        single = len(turn.answers) == 1 and rel in ("director", "writer")
        turn.answers = [replace(m, roles=frozenset({rel}), origin=(rel, films[0].text) if single else None)
                        for m in turn.answers]  # in the role the chat met them in, not every role of their card
    if back and len(people) == 1:
        turn.topics = [replace(m, roles=frozenset({rel})) if m.kind == PERSON else m for m in turn.topics]
    constrained = any(v is not None for v in (plan.get("constraints") or {}).values())
    if back and len(people) == 1 and turn.answer_kind == "film" and not constrained:
        turn.listing = _LISTINGS[rel].format(people[0].text)


def _cited(answer, names: Names) -> list[Mention]:
    """The first card the answer cites that the question named (a film's or a person's card)."""
    for source in getattr(answer, "sources", None) or []:
        if getattr(source, "used", True) and source.stage in (Stage.TITLE_LINK, Stage.PERSON_LINK):
            return [names.film(source.title, source.year) if source.kind == "card" else names.person(source.title)]
    return []


def _unique(mentions) -> list[Mention]:
    out: list[Mention] = []
    for m in mentions:
        if m is not None and all((m.kind, m.name, m.year) != (o.kind, o.name, o.year) for o in out):
            out.append(m)
    return out
