"""Rendering a planner template into a question: nested phrases and `(a|b)` choices picked at random, slots
filled with entity spans kept, and lexical noise (lower case, typos, a missing "?", a leading filler)."""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

_CHOICE = re.compile(r"\(([^()]*\|[^()]*)\)")
_SLOT = re.compile(r"\{(\w+)\}")
ENTITY_SLOTS = {"film": "film", "film2": "film", "person": "person", "tag": "tag", "genre": "genre",
                "language": "language", "year": "year", "year2": "year"}
FILLERS = ["hey, ", "quick question: ", "please ", "i wonder ", "so ", "ok, ", "can you tell me ", "do you know ",
           "i'd like to know ", "tell me "]
_DROPPABLE = frozenset("the a an of is was are were did does do in".split())
ENDINGS = [" please", " thanks", " in the catalog", " if you know", " by the way"]


@dataclass
class Slot:
    text: str  # what the question shows
    kind: str | None = None  # an entity kind whose span is recorded, or None
    suffix: str = ""  # shown right after the slot, outside its span (a film's " (1983)")


@dataclass
class Rendered:
    question: str
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)  # slot name → character span


def choose(text: str, rng: random.Random) -> str:
    """Pick one alternative of every `(a|b|)` group (innermost first) and tidy the spaces."""
    while True:
        m = _CHOICE.search(text)
        if m is None:
            break
        text = text[:m.start()] + rng.choice(m.group(1).split("|")) + text[m.end():]
    return re.sub(r"\s+([,?.:])", r"\1", re.sub(r" {2,}", " ", text)).strip()


def fill_nested(text: str, fill: dict[str, list[str]], rng: random.Random) -> str:
    """Replace the nested placeholders ({F}, {X}, {S}, {ADJ}, ...) by one of their alternatives each."""
    for key, options in fill.items():
        if "{" + key + "}" in text:
            text = text.replace("{" + key + "}", rng.choice(options))
    return text


def typo(word: str, rng: random.Random) -> str:
    """One keyboard slip inside a word of 4+ letters: swapped, dropped or doubled letter."""
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def render(template: str, slots: dict[str, Slot], rng: random.Random, noise: bool = True) -> Rendered:
    """The question of a template whose choices are already made (`choose`), with slot spans.

    Args:
        template: text with `{slot}` placeholders only.
        slots: slot name → what to show; slots with a kind get their character span recorded.
        rng: the generator's random source.
        noise: lower-case (30%), typo in a template word (12%), filler opening (5%), "?" dropped (35%).
    """
    lower = noise and rng.random() < 0.30
    slip = noise and rng.random() < 0.12
    parts = _SLOT.split(template)  # literal, slot, literal, slot, ...
    if noise and rng.random() < 0.10:  # terse questions: one function word dropped
        literal = [(i, w) for i in range(0, len(parts), 2) for w in parts[i].split(" ") if w in _DROPPABLE]
        if literal:
            i, word = rng.choice(literal)
            words = parts[i].split(" ")
            words.remove(word)
            parts[i] = " ".join(words)
    if slip:
        literal = [i for i in range(0, len(parts), 2) if re.search(r"[a-z]{4,}", parts[i])]
        if literal:
            i = rng.choice(literal)
            words = parts[i].split(" ")
            j = rng.choice([k for k, w in enumerate(words) if len(w) >= 4 and w.isalpha()] or [0])
            words[j] = typo(words[j], rng)
            parts[i] = " ".join(words)
    text, spans = "", {}
    if noise and rng.random() < 0.08:
        text = rng.choice(FILLERS)
    for i, part in enumerate(parts):
        if i % 2 == 0:
            text += part
            continue
        slot = slots[part]
        shown = slot.text.lower() if lower or (slot.kind == "film" and noise and rng.random() < 0.08) else slot.text
        if slot.kind:
            spans[part] = (len(text), len(text) + len(shown))
        text += shown + (slot.suffix.lower() if lower else slot.suffix)
    if noise and rng.random() < 0.05:
        text += rng.choice(ENDINGS)
    if lower:
        text = text.lower()
    elif text[:1].islower() and (not noise or rng.random() < 0.6):
        text = text[:1].upper() + text[1:]
    if not noise or rng.random() >= 0.35:
        text = text.rstrip() + "?" if not text.endswith("?") else text
    return Rendered(text, spans)
