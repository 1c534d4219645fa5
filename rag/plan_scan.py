"""Number-like constraint mentions in a question, found by general patterns (rag.plan_tags uses them): year
ranges (in/from 1999, the 90s, early 1980s, between 1990 and 1995, before/after/since 2000, 2000 or later), a
minimum rating ("rated above 7.5"), runtime bounds ("under 2 hours", "longer than 150 minutes", strict bounds
exclusive) and n ("top 5", "the ten best", "seven lengthiest"). Each match keeps its character span, the parts to
mask, and what it sets."""
from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER_WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve "
                                            "thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty"
                                            .split())}
_DECADE_WORDS = {w: 1900 + 10 * i for i, w in enumerate("x x twenties thirties forties fifties sixties seventies "
                                                         "eighties nineties".split()) if w != "x"}
Y = r"(1[89]\d\d|20[0-4]\d)"
COUNT = r"(\d+|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
NUM = r"(\d+(?:\.\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r"|an?)"
DEC = (r"(?<![\w'’])(?:(early|mid|late)[\s-]+)?(?:the\s+)?(?:(1[89]\d0|20[0-4]0)['’]?s|['’]?(\d)0['’]?s|"
       r"(" + "|".join(_DECADE_WORDS) + r"))\b")
_RANGE = re.compile(rf"\b(?:between\s+{Y}\s+and\s+{Y}|from\s+{Y}\s+(?:to|until|till|through|-)\s+{Y}|"
                    rf"{Y}\s*(?:-|–|to)\s*{Y})\b")
_BOUND = re.compile(rf"\b(before|prior to|earlier than|until|up to|through|after|later than|since|from)\s+(?:{Y}|{DEC})"
                    r"(\s+(?:on|onwards?|or later|and later|or earlier|and earlier))?")
_OR_LATER = re.compile(rf"(?<!\d){Y}\s+(?:or|and)\s+(later|after|newer|earlier|before|older)\b")
_DECADE = re.compile(DEC)
YEAR = re.compile(rf"(?<![\d.]){Y}(?![\d.])")
_RATING = re.compile(r"\b(?:rated|rating|ratings|score|scored|imdb rating)\s+(?:of\s+|is\s+)?(?:(?:above|over|at least|"
                     r"more than|higher than|greater than|better than|no less than|>=?)\s+)?(\d+(?:\.\d+)?)"
                     r"(?:\s*(?:/|out of)\s*10)?(?:\s*\+|\s+or\s+(?:higher|more|above|better|over)|\s+and\s+up)?")
_RUNTIME = re.compile(r"\b(?:(under|less than|shorter than|below|at most|no more than|no longer than|up to|within|"
                      r"over|more than|longer than|above|at least|exceeding|no less than)\s+)?" + NUM +
                      r"(\s+and\s+a\s+half)?\s*-?\s*(hours?|hrs?|minutes?|mins?)\b"
                      r"(\s+or\s+(?:less|shorter|fewer|under|more|longer|over))?")
_N = re.compile(r"\btop[\s-]+" + COUNT + r"\b|\b" + COUNT + r"\s+(?:of the\s+)?(?:\w+est|best|worst|most|least|top|"
                r"popular|recent|top-rated|highest-rated|films|movies)\b")
_STRICT_MAX, _MAX = ("under", "less than", "shorter than", "below"), ("at most", "no more than", "no longer than",
                                                                        "up to", "within")
_STRICT_MIN = ("over", "more than", "longer than", "above", "exceeding")

def _number(text: str) -> float:
    text = text.lower()
    return float(_NUMBER_WORDS.get(text, 1 if text in ("a", "an") else text if text[0].isdigit() else 0))


def _decade(m: re.Match, offset: int) -> tuple[int, int]:
    """(from, to) of a decade match whose groups start at `offset`: the 1990s, '90s, the nineties, late 80s."""
    part, full, short, word = m.group(offset), m.group(offset + 1), m.group(offset + 2), m.group(offset + 3)
    if full:
        lo = int(full)
    elif short:
        lo = {0: 2000, 1: 2010}.get(int(short), 1900 + 10 * int(short))
    else:
        lo = _DECADE_WORDS[word.lower()]
    return {"early": (lo, lo + 3), "mid": (lo + 3, lo + 6), "late": (lo + 6, lo + 9)}.get(part, (lo, lo + 9))




@dataclass
class Match:
    start: int  # character span in the question
    end: int
    masks: list[tuple[int, int, str]]  # (start, end, placeholder kind)
    updates: dict  # Constraints fields, "n", or "year" (a bare year: a film's year or a one-year range)


def _each(pattern: re.Pattern, text: str, taken: list[tuple[int, int]]):
    for m in pattern.finditer(text):
        if all(m.end() <= s or m.start() >= e for s, e in taken):
            taken.append(m.span())
            yield m


def scan(question: str) -> list[Match]:
    """Every number-like constraint mention, first patterns first (a range before its years)."""
    text = "".join(c.lower() if len(c.lower()) == 1 else c for c in question)  # same length as the question
    taken: list[tuple[int, int]] = []
    out = []
    for m in _each(_RANGE, text, taken):
        ys = [(m.start(i), m.end(i), int(g)) for i, g in enumerate(m.groups(), start=1) if g]
        out.append(Match(*m.span(), [(s, e, "year") for s, e, _ in ys], {"years": (ys[0][2], ys[1][2])}))
    for m in _each(_BOUND, text, taken):
        tail = (m.group(7) or "").strip()
        if m.group(2):
            lo = hi = int(m.group(2))
            mask = (m.start(2), m.end(2), "year")
        else:
            lo, hi = _decade(m, 3)
            mask = (min(m.start(i) for i in (3, 4, 5, 6) if m.group(i)), m.end() - len(m.group(7) or ""), "decade")
        if m.group(1) == "from" and m.group(2) and not tail:  # "Scarface from 1983": maybe the film's year
            out.append(Match(*m.span(), [mask], {"year": lo}))
        else:
            out.append(Match(*m.span(), [mask], {"years": _bounded(m.group(1), tail, lo, hi)}))
    for m in _each(_OR_LATER, text, taken):
        y = int(m.group(1))
        years = (y, None) if m.group(2) in ("later", "after", "newer") else (None, y)
        out.append(Match(*m.span(), [(m.start(1), m.end(1), "year")], {"years": years}))
    for m in _each(_DECADE, text, taken):
        out.append(Match(*m.span(), [(*m.span(), "decade")], {"years": _decade(m, 1)}))
    for m in _each(YEAR, text, taken):
        out.append(Match(*m.span(), [(*m.span(), "year")], {"year": int(m.group(1))}))
    for m in _each(_RATING, text, taken):
        value = float(m.group(1))
        out.append(Match(*m.span(), [(m.start(1), m.end(1), "num")], {"min_rating": value} if value <= 10 else {}))
    for m in _each(_RUNTIME, text, taken):
        out.append(_runtime(m))
    for m in _each(_N, text, taken):
        g = 1 if m.group(1) else 2
        value = int(_number(m.group(g)))
        out.append(Match(*m.span(), [(m.start(g), m.end(g), "num")], {"n": value} if 0 < value <= 100 else {}))
    for m in _each(re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])"), text, taken):
        out.append(Match(*m.span(), [(*m.span(), "num")], {}))
    return out


def _runtime(m: re.Match) -> Match:
    qualifier, value, half, unit, tail = m.groups()
    minutes = int(_number(value) * (60 if unit.startswith("h") else 1) + (30 if half else 0))
    masks = [(m.start(2), m.end(2), "num")] if value[0].isdigit() or value in _NUMBER_WORDS else []
    tail = tail.split()[-1] if tail else ""
    if qualifier in _STRICT_MAX:
        updates = {"max_runtime": minutes - 1}
    elif qualifier in _MAX or tail in ("less", "shorter", "fewer", "under"):
        updates = {"max_runtime": minutes}
    elif qualifier in _STRICT_MIN:
        updates = {"min_runtime": minutes + 1}
    elif qualifier in ("at least", "no less than") or tail in ("more", "longer", "over"):
        updates = {"min_runtime": minutes}
    else:
        updates = {}
    return Match(*m.span(), masks, updates)


def _bounded(word: str, tail: str, lo: int, hi: int) -> tuple[int | None, int | None]:
    """The year range "before 1990", "since the 80s", "from 2000 on" stand for."""
    if tail in ("or later", "and later", "on", "onwards", "onward") or word == "since":
        return lo, None
    if tail in ("or earlier", "and earlier"):
        return None, hi
    if word in ("before", "prior to", "earlier than"):
        return None, lo - 1
    if word in ("until", "up to", "through"):
        return None, hi
    if word in ("after", "later than"):
        return hi + 1, None
    return lo, hi  # "from 1999": that year
