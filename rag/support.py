"""Grounding check of open answers (describe, recommend, identify): the names and numbers of a text that its
passages do not hold.

A claim is a number ("2019", "132") or a name: a run of capitalised words ("Bong Joon-ho", "The Dark Knight"),
minus the function words a sentence may start with ("The", "After", "His"). A claim is supported when its
normalised words occur, in order and adjacent, in the normalised passages. Lower-case words (genres, plot verbs)
are not claims: a summary may paraphrase them.
"""
from __future__ import annotations

import re

from core.records import normalize

_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:st|nd|rd|th|s)?(?!\w)")  # "1991", "7th", "'30s" (whole words)
_WORD = re.compile(r"[\w'’-]+")
_POSSESSIVE = re.compile(r"['’]s$")  # "Ki-taek's" claims "Ki-taek"; "Brink's Job" stays whole inside a name
_CONNECTORS = frozenset("of the de la le von van der du di da del".split())  # inside names: "Lord of the Rings"
_LEADS = frozenset("""
a an the in on at after before when while as his her their its this that these those he she they it we you i
but and or so then there here one two three with without from for by to of meanwhile also both however later
soon years year if once upon during eventually finally following together
""".split())  # capitalised only because a sentence starts with them


def claims(text: str) -> list[str]:
    """The numbers and names `text` states, in order (duplicates kept once)."""
    return list(dict.fromkeys(_POSSESSIVE.sub("", claim) for claim, _ in _claims(text)))


def unsupported_claims(text: str, passages: list[str]) -> list[str]:
    """The claims of `text` that no passage holds (an empty list: every name and number is grounded). A name
    that opens a sentence may carry a capitalised ordinary word first ("Starring Song Kang-ho"): it counts as held
    when both that word and the rest are."""
    held = " " + " ".join(normalize(p) for p in passages) + " "
    has = lambda words: f" {normalize(words)} " in held or f" {normalize(_POSSESSIVE.sub('', words))} " in held
    out = []
    for claim, opens_sentence in _claims(text):
        first, _, rest = claim.partition(" ")
        if not has(claim) and not (opens_sentence and rest and has(first) and has(rest)):
            out.append(_POSSESSIVE.sub("", claim))
    return list(dict.fromkeys(out))


def _claims(text: str) -> list[tuple[str, bool]]:
    """(claim, whether it opens its sentence), in order."""
    found: list[tuple[str, bool]] = [(m.group(), False) for m in _NUMBER.finditer(text)]
    for sentence in re.split(r"(?<=[.!?:;])\s+|\n+", text):
        run: list[str] = []
        words = [*_WORD.findall(sentence), ""]  # "" flushes the last run
        for position, word in enumerate(words):
            if word[:1].isupper() and not word.isdigit():
                run.append(word)  # a final possessive is dropped when the claim is checked
                continue
            if run and word.lower() in _CONNECTORS and word:
                run.append(word)
                continue
            opens = position == len(run)
            while run and (run[-1].lower() in _CONNECTORS or run[0].lower() in _LEADS):
                opens = opens and run[-1].lower() in _CONNECTORS
                run.pop(-1 if run[-1].lower() in _CONNECTORS else 0)
            if run:
                found.append((" ".join(run), opens))
            run = []
    return found
