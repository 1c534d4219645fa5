"""The planner's question templates: every label (a plan without its entities, e.g. "lookup < actor > director")
with the phrasings that ask it, composed from the phrase tables (training.plan_phrases, training.plan_phrases_ops).

A Template is one sentence frame of one group; its `fill` gives the alternatives of its nested placeholders ({F},
{X}, {S}, {ADJ}, {V}, {PV}, {N}), each a string with only slots and `(a|b)` choices left. Groups are the unit of the
dev/test split; a frame shared by several labels (the head "who directed {F}" ends 1-, 2- and 3-hop paths) is one
group, so a held-out head is held out for every path it ends.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from rag.plan_spans import GENERIC
from training import plan_phrases as P
from training import plan_phrases_ops as O
from training.plan_render import ENDINGS, FILLERS

PEOPLE_RELS = ("director", "writer", "actor")
FIELDS = ("runtime", "rating", "votes", "year")
TAG_ENDS = ("director", "writer", "actor", "genre", "year", "language")  # < tag > R
THREE_HOP_ENDS = ("director", "writer", "actor", "genre", "year", "language", "tag")  # > P < P > R
FILM_NP = ["{film}", "{film}", "{film}", "the (film|movie) {film}"]
CO_NP = {"actor": ["{person}'s co-stars", "the actors who (starred|appeared) with {person}",
                   "the co-stars of {person}"],
         "director": ["the co-directors of {person}", "the people who co-directed (films |)with {person}"],
         "writer": ["{person}'s co-writers", "the people who wrote (films |)with {person}"]}


@dataclass
class Template:
    label: str
    group: str  # "<family>.<i>": the split unit
    text: str
    fill: dict[str, list[str]] = field(default_factory=dict)
    constraints: str = ""  # "" none, "optional" or "required": {C}/{G} constraint phrases are sampled

    @property
    def family(self) -> str:
        return self.group.rsplit(".", 1)[0]


def _agree(text: str, plural: bool) -> str:
    return (text.replace("{is}", "are" if plural else "is").replace("{was}", "were" if plural else "was")
            .replace("{it}", "them" if plural else "it"))


def _sub(texts: list[str], key: str, values: list[str]) -> list[str]:
    return [t.replace("{" + key + "}", v) for t in texts for v in values]


def _bare(texts: list[str]) -> list[str]:
    return [t[4:] if t.startswith("the ") else t for t in texts]


def _slot(rel: str) -> str:
    return "{tag}" if rel == "tag" else "{person}"


def _sets(rel: str, who: list[str]) -> list[str]:
    """FILMSET[rel] with {X} filled; possessives ("{X}'s films") only for directors, where they are unambiguous."""
    frames = [f for f in P.FILMSET[rel] if rel == "director" or "{X}'s" not in f]
    return _sub(frames, "X", who)


def _groups(family: str, groups: list[list[str]]):
    for i, group in enumerate(groups):
        for text in group:
            yield f"{family}.{i}", text


def _heads() -> list[Template]:
    """Value lookups ending in `> R`: from a film, a person's or tag's films, or a film's people's films."""
    out = []
    for rel, groups in P.HEADS.items():
        for group, text in _groups(f"head.{rel}", groups):
            out.append(Template(f"lookup > {rel}", group, _agree(text, False), {"F": FILM_NP}))
            for start in (*PEOPLE_RELS, "tag"):
                if start != "tag" or rel in TAG_ENDS:
                    out.append(Template(f"lookup < {start} > {rel}", group, _agree(text, True),
                                        {"F": _sets(start, [_slot(start)])}))
            if rel in THREE_HOP_ENDS:
                for p in PEOPLE_RELS:
                    sets = P.SHARED_SET[p] + _sets(p, _sub(P.PEOPLE_OF[p], "F", ["{film}"]))
                    out.append(Template(f"lookup > {p} < {p} > {rel}", group, _agree(text, True), {"F": sets}))
    return out


def _lists() -> list[Template]:
    """Film lists: a person's (or tag's) films, a film's people's other films, co-workers' films."""
    out = []
    for rel, groups in P.LIST_VERBS.items():
        starts = {f"lookup < {rel}": [_slot(rel)]}
        if rel in PEOPLE_RELS:
            starts[f"lookup > {rel} < {rel}"] = _sub(P.PEOPLE_OF[rel], "F", ["{film}"])
            starts[f"lookup < {rel} > {rel} < {rel}"] = CO_NP[rel]
        for group, text in _groups(f"list.{rel}", groups):
            for label, who in starts.items():
                out.append(Template(label, group, text + "{C}", {"X": who},
                                    "optional" if label.startswith("lookup <") else ""))
        for group, text in _groups("listhead", P.LIST_HEADS):
            for label, who in starts.items():
                out.append(Template(label, group, text, {"S": _sets(rel, who)}))
    for rel, groups in P.SAME_AS.items():
        out += [Template(f"lookup > {rel} < {rel}", g, t) for g, t in _groups(f"same.{rel}", groups)]
    for rel, groups in P.CO_WORK.items():
        out += [Template(f"lookup < {rel} > {rel}", g, t) for g, t in _groups(f"cowork.{rel}", groups)]
    for group, text in _groups("filter", O.LOOKUP_FILTER):
        out.append(Template("lookup", group, text, {"S": ["{G}(films|movies){C}"]}, "required"))
    out += [Template("lookup", g, t) for g, t in _groups("yearlist", O.YEAR_LISTS)]
    return out


def _counts() -> list[Template]:
    out = []
    for rel, groups in O.COUNT_VERBS.items():
        starts = {f"count < {rel}": [_slot(rel)]}
        if rel in PEOPLE_RELS:
            starts[f"count > {rel} < {rel}"] = _sub(P.PEOPLE_OF[rel], "F", ["{film}"])
        for label, who in starts.items():
            optional = "optional" if label == f"count < {rel}" else ""
            out += [Template(label, g, t + "{C}", {"X": who}, optional) for g, t in _groups(f"count.{rel}", groups)]
            out += [Template(label, g, t, {"S": _bare(_sets(rel, who))}) for g, t in _groups("count.set", O.COUNT_SET)]
    for rel, groups in O.COUNT_PEOPLE.items():
        out += [Template(f"count > {rel}", g, t) for g, t in _groups(f"countpeople.{rel}", groups)]
    out += [Template("count", g, t, {"S": ["{G}(films|movies){C}"]}, "optional")
            for g, t in _groups("count.set", O.COUNT_SET)]
    return out


def _superlatives() -> list[Template]:
    out = []
    for (op, fld), adjectives in O.SUPER_ADJ.items():
        fill = {"ADJ": adjectives, "V": O.SUPER_VERB[(op, fld)], "HN": O.SUPER_NOUN[(op, fld)]}
        out += [Template(f"{op} all > {fld}", g, t, fill, "optional") for g, t in _groups("super.all", O.SUPER_ALL)]
        for rel in PEOPLE_RELS:
            frames = [[t for t in grp if rel == "director" or "{X}'s" not in t] for grp in O.SUPER_PERSON]
            person = fill | {"X": ["{person}"], "PV": [O.PERSON_VERB[rel]]}
            out += [Template(f"{op} < {rel} > {fld}", g, t, person) for g, t in _groups("super.person", frames)]
        out += [Template(f"{op} > {fld}", g, t, O.COMP[(op, fld)]) for g, t in _groups("cmp", O.COMPARATIVE)]
    for fld in FIELDS:
        fill = {"ADJ": O.SUPER_ADJ[("argmax", fld)], "N": [O.FIELD_NOUN[fld]]}
        out += [Template(f"top all > {fld}", g, t, fill, "optional") for g, t in _groups("top.all", O.TOP_ALL)]
        for rel in PEOPLE_RELS:
            frames = [[t for t in grp if rel == "director" or "{X}'s" not in t] for grp in O.TOP_PERSON]
            person = fill | {"X": ["{person}"], "PV": [O.PERSON_VERB[rel]]}
            out += [Template(f"top < {rel} > {fld}", g, t, person) for g, t in _groups("top.person", frames)]
    return out


def _others() -> list[Template]:
    out = []
    for rel, groups in O.CHECK.items():
        out += [Template(f"check > {rel}", g, t) for g, t in _groups(f"check.{rel}", groups)]
        out += [Template(f"check > {rel}", g, t, {"ST": O.CHECK_STATEMENT[rel]}) for g, t in _groups("checkwrap",
                                                                                                   O.CHECK_WRAP)]
    out += [Template("describe", g, t) for g, t in _groups("describe", O.DESCRIBE)]
    out += [Template("describe", g, t, O.MISSING_FILL) for g, t in _groups("missing", O.MISSING)]
    out += [Template("recommend", g, t, {}, "optional" if "{C}" in t else "")
            for g, t in _groups("recommend", O.RECOMMEND)]
    out += [Template("identify", g, t) for g, t in _groups("identify", O.IDENTIFY)]
    out += [Template("off_topic", g, t) for g, t in _groups("offtopic", O.OFF_TOPIC)]
    return out


def all_templates() -> list[Template]:
    """Every template of every label, in a fixed order."""
    return _heads() + _lists() + _counts() + _superlatives() + _others()


def split_groups(templates: list[Template], test_share: float = 0.2, seed: int = 42) -> dict[str, str]:
    """Group → "dev" or "test": per family, a seeded shuffle puts round(test_share × groups) (at least one, when
    the family has two or more) in test, so every family, and so every label, has phrasings never trained on."""
    families: dict[str, list[str]] = {}
    for t in templates:
        groups = families.setdefault(t.family, [])
        if t.group not in groups:
            groups.append(t.group)
    rng = random.Random(seed)
    split: dict[str, str] = {}
    for family in sorted(families):
        groups = sorted(families[family])
        rng.shuffle(groups)
        n_test = max(1, round(test_share * len(groups))) if len(groups) > 1 else 0
        split.update({g: "test" if i < n_test else "dev" for i, g in enumerate(groups)})
    return split


def template_words() -> frozenset[str]:
    """Every word the templates (and the generator's fillers) ask with; saved with the planner so that titles made
    only of these words link only when written as names (rag.plan_tags)."""
    templates = [t for t in all_templates() if t.label != "off_topic"]
    texts = [t.text for t in templates] + [v for t in templates for vs in t.fill.values() for v in vs]
    texts += FILLERS + ENDINGS
    words = {w for text in texts for w in re.findall(r"[a-z]+", re.sub(r"\{\w+\}", " ", text.lower()))}
    numbers = "two three four five six seven eight nine ten eleven twelve fifteen twenty".split()
    return frozenset(words | set(numbers) | GENERIC)
