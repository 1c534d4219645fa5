"""Follow-up rewriting: a question that leans on earlier turns becomes a stand-alone question the planner reads.

Four rules, tried in order on the question's normalised tokens (rag.plan_spans.align) against the chat's memory
(rag.memory); each is string and entity work, no model call:

    years     "any older ones?"       → the previous question with its year range moved: "… before 1982?"
    swap      "and Alien?"            → the previous question about Alien instead (same kind of topic)
    field     "and the year?"         → "What year was Blade Runner released?" (a field of the last film)
    pronoun   "what else did he make?" → "What else did the director of Blade Runner make?"; "who wrote it?"

A pronoun's kind is fixed by its word (it → a film, he/she → a person) or, for they/them/their, by what the
question does with it ("did they star …", "films with them" → a person; "who directed them" → a film). A pronoun
whose kind the question names itself ("did he direct Alien?": Alien is the question's own film) is not rewritten
for that kind, and a question that names its own film or person and has no pronoun is a new topic: unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from rag.memory import FILM, PERSON, Memory, Mention, Named, Names
from rag.plan import EntityKind
from rag.plan_scan import scan
from rag.plan_spans import align


class Rewrite(StrEnum):
    YEARS = "years"  # the previous question with another year range
    SWAP = "swap"  # the previous question about another film or person
    FIELD = "field"  # a field of the last film
    PRONOUN = "pronoun"  # pronouns replaced by the films and people they stand for


@dataclass
class Resolution:
    question: str  # as asked
    text: str  # what the pipeline answers: the question itself when nothing was rewritten
    how: Rewrite | None = None
    referents: list[Mention] = field(default_factory=list)

    @property
    def rewritten(self) -> bool:
        return self.how is not None


_ACTOR = frozenset("star stars starred starring act acts acted acting appear appears appeared appearing play plays "
                   "played playing feature featured featuring".split())
_DIRECTOR = frozenset("direct directs directed directing helm helmed".split())
_WRITER = frozenset("write writes wrote written writing pen penned script scripted".split())
_MAKE = frozenset("make makes made making".split())  # a film is "made" by its director (a preference, not a rule)
ROLE_OF = {**{w: "actor" for w in _ACTOR}, **{w: "director" for w in _DIRECTOR | _MAKE},
           **{w: "writer" for w in _WRITER}}
_DOING = frozenset(ROLE_OF) | frozenset("do done work works worked produce produced create created shoot shot film "
                                        "filmed be been in".split())
_ADVERBS = frozenset("also else ever just really still".split())
_PERSON_NOUNS = frozenset("films movies work works other others latest last first best worst newest oldest earliest "
                          "most biggest next career filmography roles role debut credits own recent".split())
_FILM_NOUNS = frozenset("film films movie movies picture pictures flick flicks".split())
_CONJUNCTIONS = frozenset("and so but ok okay then also well".split())
_DEMONSTRATIVE = {("this", "film"), ("that", "film"), ("this", "movie"), ("that", "movie"), ("this", "one"),
                  ("that", "one"), ("the", "film"), ("the", "movie")}
_NOT_ANAPHORIC = frozenset("that where which who whose with starring featuring set from of by".split())
_FIELDS = {  # an ellipsis's field word → the field
    **dict.fromkeys("year years released release date when".split(), "year"),
    **dict.fromkeys("director directors directed".split(), "director"),
    **dict.fromkeys("writer writers wrote written screenplay script screenwriter".split(), "writer"),
    **dict.fromkeys("cast actors actor actress actresses stars starred starring".split(), "actor"),
    **dict.fromkeys("genre genres".split(), "genre"),
    **dict.fromkeys("language languages".split(), "language"),
    **dict.fromkeys("runtime length duration long running time".split(), "runtime"),
    **dict.fromkeys("rating rated score".split(), "rating"),
    **dict.fromkeys("plot story summary".split(), "plot"),
}
TEMPLATES = {"year": "What year was {} released?", "director": "Who directed {}?", "writer": "Who wrote {}?",
             "actor": "Who starred in {}?", "genre": "What genre is {}?", "language": "What language is {} in?",
             "runtime": "How long is {}?", "rating": "How is {} rated?", "plot": "What is {} about?"}
_FIELD_FILLER = frozenset("and so but ok okay then also what s which who whom how about is was were are the a an its "
                          "it of for please tell me this that one film movie and again".split())
_SWAP_FILLER = frozenset("and so but ok okay then what s how about for with the film movie person again instead "
                         "please".split())
_YEAR_FILLER = frozenset("any anything something some ones one films movies film movie others other more what s how "
                         "about and the there are is were was from released made that than those these even a bit "
                         "also maybe titles please show me give do you have got ok okay so then but".split())
_OLDER = frozenset("older earlier".split())
_NEWER = frozenset("newer later recent".split())
# The words these rules read as question words: a title made only of them ("Made", "Stars", "Older") names a film
# only when written as a title (rag.memory.Names), as the planner's template words do.
FUNCTION_WORDS = (frozenset(ROLE_OF) | _DOING | frozenset(_FIELDS) | _FIELD_FILLER | _SWAP_FILLER | _YEAR_FILLER
                  | _OLDER | _NEWER | _ADVERBS)


def rewrite(question: str, memory: Memory, names: Names) -> Resolution:
    """The stand-alone form of `question` given the chat so far (unchanged when it needs no earlier turn)."""
    tokens = align(question)
    if not len(memory) or not tokens:
        return Resolution(question, question)
    own = names.spans(question)
    words = [t for t, _, _ in tokens]
    for rule in (_years, _swap, _field, _pronouns):
        found = rule(question, tokens, words, own, memory, names)
        if found is not None:
            return found
    return Resolution(question, question)


# ---------------------------------------------------------------- the rules

def _years(question, tokens, words, own, memory: Memory, names: Names) -> Resolution | None:
    """"any older ones?", "and from the 90s?": the previous list question again, with the year range changed."""
    prev = memory.last
    if own or prev is None or not (prev.answer_kind == "film" or prev.op == "recommend"):
        return None
    ranges = [m for m in scan(question) if "years" in m.updates or "year" in m.updates]
    inside = {i for m in ranges for i, (_, s, e) in enumerate(tokens) if m.start <= s and e <= m.end}
    older, newer = _OLDER & set(words), _NEWER & set(words)
    if not ranges and not older and not newer:
        return None
    if any(w not in _YEAR_FILLER | _OLDER | _NEWER for i, w in enumerate(words) if i not in inside):
        return None
    if ranges:
        phrase = question[ranges[0].start:ranges[0].end]
    else:
        year = _reference_year(prev, older=bool(older))
        if year is None:
            return None
        phrase = f"{'before' if older else 'after'} {year}"
    return Resolution(question, _with_years(prev.resolved, phrase), Rewrite.YEARS, list(prev.topics))


def _reference_year(prev, older: bool) -> int | None:
    """Older or newer than what: the previous range's bound, else (recommendations) the topic film's year, else
    the years of the films the previous answer listed."""
    for m in scan(prev.resolved):
        lo, hi = m.updates.get("years", (None, None))
        if older and lo:
            return lo
        if not older and hi:
            return hi
    films = [t for t in prev.topics if t.kind == FILM and t.year]
    if films and prev.op == "recommend":
        return films[0].year
    years = prev.answer_years() or [t.year for t in films]
    return (min(years) if older else max(years)) if years else None


def _with_years(text: str, phrase: str) -> str:
    """`text` with its year range replaced by `phrase`, or `phrase` added before its final punctuation."""
    for m in scan(text):
        if "years" in m.updates:
            return text[:m.start] + phrase + text[m.end:]
    stem = text.rstrip(" ?.!")
    return f"{stem} {phrase}{text[len(stem):] or '?'}"


def _swap(question, tokens, words, own: list[Named], memory: Memory, names: Names) -> Resolution | None:
    """"and Alien?", "what about Ridley Scott?": the previous question, about the newly named film or person."""
    prev = memory.last
    mentions = {(n.mention.kind, n.mention.name) for n in own}
    if prev is None or len(mentions) != 1:
        return None
    inside = {i for n in own for i in range(n.start, n.end)}
    if any(w not in _SWAP_FILLER for i, w in enumerate(words) if i not in inside):
        return None
    new = own[0].mention
    for old in names.spans(prev.resolved):
        if old.mention.kind == new.kind and old.mention.name != new.name:
            s, e = old.chars
            return Resolution(question, prev.resolved[:s] + new.text + prev.resolved[e:], Rewrite.SWAP, [new])
    return None


def _field(question, tokens, words, own, memory: Memory, names: Names) -> Resolution | None:
    """"and the year?", "who wrote it?", "the director?": one field of the last film, as a template question."""
    if own:
        return None
    fields = {_FIELDS[w] for w in words if w not in _FIELD_FILLER and w in _FIELDS}
    if len(fields) != 1 or any(w not in _FIELD_FILLER and w not in _FIELDS for w in words):
        return None
    film = memory.pick(FILM)
    if film is None:
        return None
    return Resolution(question, TEMPLATES[fields.pop()].format(film.text), Rewrite.FIELD, [film])


def _pronouns(question, tokens, words, own: list[Named], memory: Memory, names: Names) -> Resolution | None:
    """Each pronoun replaced by the most recent film or person that fits it (see the module docstring)."""
    inside = {i for n in own for i in range(n.start, n.end)}
    own_kinds = {n.mention.kind for n in own}
    asks_for_film = any(words[i] in ("which", "what") and words[i + 1] in _FILM_NOUNS for i in range(len(words) - 1))
    edits, referents, i = [], [], 0
    while i < len(words):
        found = None if i in inside else _pronoun_at(words, i)
        if found is None:
            i += 1
            continue
        length, kind, possessive, role, plural = found
        if kind not in own_kinds and not (kind == FILM and asks_for_film):
            group = _group(memory, kind, role) if plural and not possessive else None
            mention = None if group else memory.pick(kind, role)
            if group or mention is not None:
                start, end = _chars(tokens, i, length)
                edits.append((start, end, group or _written(mention, possessive, role, words, memory)))
                referents += [mention] if mention is not None else list(memory.last.answers)
        i += length
    if not edits:
        return None
    text = question
    for start, end, replacement in reversed(edits):
        text = text[:start] + replacement + text[end:]
    return Resolution(question, _tidy(text), Rewrite.PRONOUN, referents)


def _group(memory: Memory, kind: EntityKind, role: str | None) -> str | None:
    """What a plural they/them stands for when the last answer was a list: "the writers of Fargo" (its people, as
    the planner reads them), "the films starring Tom Hanks" (its films); None otherwise (then a singular they)."""
    last = memory.last
    if last is None or len(last.answers) < 2:
        return None
    if kind == PERSON and last.people_of and role in (None, last.people_of[0]):
        return f"the {last.people_of[0]}s of {last.people_of[1]}"
    if kind == FILM and last.listing:
        return last.listing
    return None


def _pronoun_at(words: list[str], i: int) -> tuple[int, EntityKind, bool, str | None, bool] | None:
    """(tokens it spans, kind, possessive, role asked about, plural) of a pronoun starting at token i, else None."""
    w, nxt = words[i], words[i + 1] if i + 1 < len(words) else ""
    prev = words[i - 1] if i else ""
    if (w, nxt) in _DEMONSTRATIVE:
        after = words[i + 2] if i + 2 < len(words) else ""
        return None if w == "the" and after in _NOT_ANAPHORIC else (2, FILM, False, None, False)
    if w in ("it", "its"):
        return 1, FILM, w == "its", None, False
    if w in ("he", "she"):
        return 1, PERSON, False, _role_after(words, i), False
    if w in ("him", "himself", "herself"):
        return 1, PERSON, False, _role_before(words, i), False
    if w == "his":
        return 1, PERSON, True, None, False
    if w == "her":
        possessive = nxt in _PERSON_NOUNS or nxt in _FILM_NOUNS
        return 1, PERSON, possessive, None if possessive else _role_before(words, i), False
    if w == "they":
        person = _next_content(words, i) in _DOING
        return 1, PERSON if person else FILM, False, _role_after(words, i) if person else None, True
    if w == "them":
        person = prev in ("with", "by", "starring", "featuring", "alongside")
        return 1, PERSON if person else FILM, False, _role_before(words, i) if person else None, True
    if w == "their":
        return 1, PERSON if nxt in _PERSON_NOUNS else FILM, True, None, True
    return None


def _next_content(words: list[str], i: int) -> str:
    for w in words[i + 1:]:
        if w not in _ADVERBS:
            return w
    return ""


def _role_after(words: list[str], i: int) -> str | None:
    """The role a subject pronoun acts in: "did she star", "he directed"."""
    for w in words[i + 1:i + 4]:
        if w in ROLE_OF:
            return ROLE_OF[w]
    return None


def _role_before(words: list[str], i: int) -> str | None:
    """The role of an object pronoun: "films starring her", "directed by him"."""
    for w in reversed(words[max(0, i - 3):i]):
        if w in ROLE_OF:
            return ROLE_OF[w]
    return None


def _chars(tokens, i: int, length: int) -> tuple[int, int]:
    """Character span of tokens i..i+length; a pronoun glued to "'s" ("it's") keeps the "'s"."""
    start, end = tokens[i][1], tokens[i + length - 1][2]
    if length == 1 and i + 1 < len(tokens) and tokens[i + 1][1] == start:  # "it" and "s" share the span of "it's"
        end = start + len(tokens[i][0])
    return start, end


def _written(mention: Mention, possessive: bool, role: str | None, words: list[str], memory: Memory) -> str:
    """The words that replace a pronoun. A person who answered "who directed F?" is "the director of F" in a
    "what else …" question, so F itself is left out of the answer."""
    origin = memory.origin(mention, role) if mention.kind == PERSON and not possessive else None
    if origin and {"else", "other"} & set(words):
        return f"the {origin[0]} of {origin[1]}"
    return f"{mention.text}'s" if possessive else mention.text


def _tidy(text: str) -> str:
    """Without a leading "and" / "so" / "ok,", first letter capitalised."""
    words = text.split()
    while len(words) > 1 and words[0].lower().strip(",") in _CONJUNCTIONS:
        words = words[1:]
    out = " ".join(words)
    return out[:1].upper() + out[1:]
