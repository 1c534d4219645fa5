"""A name the question writes longer than the catalog name it linked: "Who directed That Good Night?" links
*The Good Night*, "Who directed Jaws 2?" links *Jaws*. The question then asks about a film the catalog lacks, and
answering about the look-alike would be wrong.

The linker matches normalised token n-grams; this module maps a link's tokens back to the question as typed and
widens them over the capitalised words around them (and the rest of a hyphenated word, and a sequel number).
A question typed in title case ("Who Directed Jaws?") says nothing: a widening that reaches the question's first
word is dropped.
"""
from __future__ import annotations

import re
import unicodedata

_PIECE = re.compile(r"\w+")
_JOINS = frozenset({" ", "-", ": ", " - ", "'", "’"})  # what may stand between two words of one name
_CONNECTORS = frozenset({"of", "the", "de", "la", "le", "von", "van", "der", "du", "di", "da", "del"})  # not "and":
# "Tom Hanks and Meg Ryan" are two names
_SEQUEL = re.compile(r"\d{1,2}")  # "Jaws 2"; four digits would be a year


def widened_name(question: str, start: int, end: int) -> str | None:
    """The name around tokens [start, end) of normalize(question).split() as the question writes it, when it runs
    past them ("That Good Night" around "good night"); None when it does not, or cannot be told."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", question) if not unicodedata.combining(c))
    pieces = [m for m in _PIECE.finditer(folded) if m.group() != "_"]
    if "&" in folded or not 0 <= start < end <= len(pieces):
        return None  # "&" becomes "and" in normalize: the tokens no longer align with the pieces
    first, last = start, end - 1
    while first > 0 and _joins(folded, pieces, first, first - 1):
        first -= 1
    while last + 1 < len(pieces) and _joins(folded, pieces, last, last + 1):
        last += 1
    if first == 0 and start > 0:
        return None  # widened to the first word: a question in title case
    while first < start and pieces[first].group().lower() in _CONNECTORS:
        first += 1
    while last > end - 1 and pieces[last].group().lower() in _CONNECTORS:
        last -= 1
    if (first, last) == (start, end - 1):
        return None
    return folded[pieces[first].start():pieces[last].end()]


def _joins(text: str, pieces: list, inner: int, outer: int) -> bool:
    """Whether piece `outer`, next to the name's piece `inner`, belongs to the same name."""
    left, right = min(inner, outer), max(inner, outer)
    gap = text[pieces[left].end():pieces[right].start()]
    if gap == "-":  # one hyphenated word ("Ah-ga-ssi"): always one name
        return True
    if gap not in _JOINS:
        return False
    word = pieces[outer].group()
    if word[:1].isupper():
        return True
    if word.lower() in _CONNECTORS:  # "Lord of the Rings": a connector needs a capitalised word past it
        past = outer + (outer - inner)
        return 0 <= past < len(pieces) and pieces[past].group()[:1].isupper()
    return outer > inner and gap == " " and bool(_SEQUEL.fullmatch(word))
