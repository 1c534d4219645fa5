"""Generating labelled planner questions from a catalog: slot pools, one question per template draw (its label,
gold plan, entity spans and constraints), and the dev/test generation over every label's template groups."""
from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from dataclasses import asdict

from core.records import Movie, normalize
from rag.plan import PEOPLE, Constraints, Entity, EntityKind, Op, Plan, Rel, parse_plan
from rag.plan_tags import Vocabulary
from rag.planner import DEFAULT_N, topic_kind
from training import plan_phrases_ops as O
from training.plan_kb import MemoryCatalog, values_of
from training.plan_render import Slot, choose, fill_nested, render
from training.plan_templates import Template, all_templates, split_groups

_DECADE_WORDS = {1920: "twenties", 1930: "thirties", 1940: "forties", 1950: "fifties", 1960: "sixties",
                 1970: "seventies", 1980: "eighties", 1990: "nineties"}
MISSING_SHARE = 0.05  # questions about a film the catalog lacks (the answer says so)
_NUMBER_WORDS = "zero one two three four five six seven eight nine ten".split()


class Pools:
    """What slots are filled from: films (by the relations they have), people by role, tags, the catalog's genres
    and languages (as the tagger's Vocabulary maps them) and plot sentences for identify questions."""

    def __init__(self, movies: list[Movie]) -> None:
        self.catalog = MemoryCatalog(movies)
        self.films = list(self.catalog.films.values())
        self.with_rel = {rel: [m for m in self.films if values_of(m, rel)] for rel in Rel}
        self.people = {rel: sorted(self.catalog.spelling[rel].values()) for rel in PEOPLE}
        self.tags = sorted(self.catalog.spelling[Rel.TAG][k] for k, ids in self.catalog.back[Rel.TAG].items()
                           if len(ids) >= 2)
        genres = Counter(g for m in self.films for g in m.genres)
        languages = Counter(x for m in self.films for x in values_of(m, Rel.LANGUAGE))
        self.vocab = Vocabulary.from_counts(genres, languages)
        common = min(20, max(genres.values(), default=1))  # genres of 20+ films (all, in a small catalog)
        self.genre_forms = sorted({f for f, g in self.vocab.genres.items() if genres[g] >= common and "/" not in g
                                   and not f.endswith(("s", "ies")) or f in ("sci fi", "sports")}) or ["drama"]
        self.languages = sorted(lang for lang, c in languages.items() if c >= min(10, max(languages.values()))
                                and normalize(lang) in self.vocab.languages) or ["English"]
        self.tags = self.tags or ["friendship", "revenge"]
        self.title_count = Counter(normalize(m.title) for m in self.films)
        self.plots = sorted({s for m in self.films if m.plot for s in [_first_sentence(m.plot)] if s}) or [
            "a man goes on a long journey to find his family"]


def _first_sentence(plot: str) -> str | None:
    sentence = re.split(r"(?<=[.!?])\s", plot.strip().split("\n")[0])[0].strip().rstrip(".!")
    words = sentence.split()
    if not 6 <= len(words) <= 30 or not sentence.isascii():
        return None
    return sentence[0].lower() + sentence[1:]


# ---------------------------------------------------------------- slots

def film_slot(movie: Movie, pools: Pools, rng: random.Random) -> tuple[Slot, Entity]:
    """A film as a question names it: with its year when remakes share the title (and sometimes anyway)."""
    shared = pools.title_count[normalize(movie.title)] > 1
    shown = movie.year and (shared or rng.random() < 0.07)
    suffix = rng.choice([f" ({movie.year})"] * 3 + [f" {movie.year}", f" from {movie.year}"]) if shown else ""
    year = movie.year if shown or not shared else None
    return Slot(movie.title, "film", suffix), Entity(EntityKind.FILM, movie.title, year)


def _decade(rng: random.Random) -> tuple[str, tuple[int, int]]:
    lo = rng.choice(range(1930, 2020, 10))
    forms = [f"{lo}s", f"{lo}s", f"'{str(lo)[2:]}s", f"{str(lo)[2:]}s"] + ([_DECADE_WORDS[lo]] if lo in _DECADE_WORDS
                                                                         else [])
    text, span = rng.choice(forms), (lo, lo + 9)
    part = rng.choice(["", "", "", "", "early ", "late "])
    if part:
        span = (lo, lo + 3) if part == "early " else (lo + 6, lo + 9)
    return part + text, span


def constraint_phrase(mode: str, text: str, pools: Pools, rng: random.Random,
                      slots: dict) -> tuple[str, str, Constraints]:
    """({G} text, {C} text, gold constraints) for a template whose constraints are "optional" or "required"."""
    c = Constraints()
    if not mode:
        return "", "", c
    roll = rng.random()
    use_g, use_c = (roll < 0.45, roll >= 0.25) if mode == "required" else (0.5 <= roll < 0.75, roll >= 0.65)
    use_g, use_c = use_g and "{G}" in text, use_c and "{C}" in text
    if mode == "required" and not (use_g or use_c):
        use_g, use_c = "{G}" in text, "{C}" in text and "{G}" not in text
    g_text = c_text = ""
    if use_g:
        if rng.random() < 0.75:
            form = rng.choice(pools.genre_forms)
            g_text, c.genre = ("sci-fi" if form == "sci fi" else form) + " ", pools.vocab.genres[form]
        else:
            lang = rng.choice(pools.languages)
            g_text, c.language = lang + rng.choice(["", "", "-language"]) + " ", lang
    if use_c:
        kinds = [k for k in O.SUFFIX if k != "language" or c.language is None]
        kind = rng.choice(kinds)
        c_text = rng.choice(O.SUFFIX[kind])
        _constraint_values(kind, c_text, c, pools, rng, slots)
    return g_text, c_text, c


def _constraint_values(kind: str, phrase: str, c: Constraints, pools: Pools, rng: random.Random, slots: dict) -> None:
    year = rng.randint(1930, 2015)
    slots["year"] = Slot(str(year))
    if kind == "decade":
        text, (c.year_from, c.year_to) = _decade(rng)
        slots["decade"] = Slot(text)
    elif kind in ("year", "range"):
        year2 = year + rng.randint(2, 10)
        slots["year2"] = Slot(str(year2))
        c.year_from, c.year_to = year, (year if kind == "year" else year2)
    elif kind in ("after", "since", "before"):
        c.year_from = {"after": year + 1, "since": year}.get(kind)
        c.year_to = year - 1 if kind == "before" else None
    elif kind == "language":
        c.language = rng.choice(pools.languages)
        slots["language"] = Slot(c.language)
    elif kind == "rating":
        value = rng.choice([5, 5.5, 6, 6.5, 7, 7.5, 8, 8.5])
        slots["rating"], c.min_rating = Slot(f"{value:g}"), float(value)
    else:  # runtime: every phrasing is strict ("under 90 minutes" → at most 89)
        hours = "{hours}" in phrase
        value = rng.choice([1, 1.5, 2, 2.5, 3]) if hours else rng.choice(range(80, 190, 10))
        slots["hours" if hours else "minutes"] = Slot(f"{value:g}")
        minutes = int(value * 60) if hours else value
        if kind == "short":
            c.max_runtime = minutes - 1
        else:
            c.min_runtime = minutes + 1


# ---------------------------------------------------------------- one question

def fake_film(pools: Pools, rng: random.Random) -> Movie:
    """A title the catalog lacks: made up, or a catalog title as a sequel ("Jaws 5", "Alien: Horizon")."""
    words = {k: rng.choice(O.FAKE_TITLE[k2]) for k, k2 in (("adj", "adj"), ("noun", "noun"), ("noun2", "noun"))}
    for _ in range(20):
        if rng.random() < 0.4:
            base = rng.choice(pools.films).title
            title = f"{base} {rng.choice(['2', '3', '4', '5', 'II', 'III'])}" if rng.random() < 0.5 else \
                f"{base}: {words['noun']}"
        else:
            title = rng.choice(O.FAKE_TITLE["forms"]).format(**words)
        if not pools.catalog.by_title.get(normalize(title)):
            return Movie(title=title)
    return Movie(title="The Unmade Film")


def _pick_film(pools: Pools, rng: random.Random, rel: Rel | None, avoid: Movie | None = None) -> Movie:
    films = (pools.with_rel[rel] if rel is not None else []) or pools.films  # a small catalog may lack the field
    for _ in range(50):
        movie = rng.choice(films)
        if movie is not avoid and movie.title != getattr(avoid, "title", None):
            return movie
    return rng.choice(pools.films)


def make_question(t: Template, pools: Pools, rng: random.Random, split: str, noise: bool = True,
                  film: Movie | None = None) -> dict:
    """One labelled question of template `t`, with its gold plan and entity spans (`film`: the {film} to use, e.g.
    a title the catalog lacks)."""
    slots: dict[str, Slot] = {}
    text = fill_nested(t.text, t.fill, rng)
    g_text, c_text, constraints = constraint_phrase(t.constraints, text, pools, rng, slots)
    text = choose(text.replace("{G}", g_text).replace("{C}", c_text), rng)
    plan = parse_plan(t.label)
    rel = plan.path[-1].rel if plan.path else None
    topics, expect, n = _entity_slots(t.label, text, plan, pools, rng, slots, film)
    _value_slots(text, plan, rel, pools, rng, slots, constraints)
    if "{n}" in text:
        n = rng.randint(3, 10)
        slots["n"] = Slot(_NUMBER_WORDS[n] if n <= 10 and rng.random() < 0.3 else str(n))
    if plan.op == Op.CHECK:
        expect = _expect_value(rel, slots, pools) or expect
    if plan.op == Op.TOP:
        n = n or DEFAULT_N
    gold = Plan(plan.op, topics, plan.path, constraints if plan.op != Op.OFF_TOPIC else Constraints(),
                n if plan.op == Op.TOP else None, expect)
    rendered = render(text, slots, rng, noise)
    entities = [{"slot": s, "kind": slots[s].kind, "text": rendered.question[a:b], "start": a, "end": b}
                for s, (a, b) in rendered.spans.items()]
    return {"question": rendered.question, "label": t.label, "plan": str(gold), "op": str(plan.op), "group": t.group,
            "split": split, "source": "template", "entities": entities, "constraints": asdict(gold.constraints),
            "n": gold.n, "expect": str(expect) if expect else None}


def _entity_slots(label: str, text: str, plan: Plan, pools: Pools, rng: random.Random, slots: dict,
                  forced: Movie | None = None):
    topics, expect, n = [], None, None
    first = plan.path[0].rel if plan.path else None
    if "{film}" in text:
        need = plan.path[-1].rel if plan.op in (Op.ARGMAX, Op.ARGMIN) else first
        if forced is None and rng.random() < MISSING_SHARE and plan.op not in (Op.IDENTIFY, Op.OFF_TOPIC):
            forced = fake_film(pools, rng)
        film = forced or _pick_film(pools, rng, need)
        slots["film"], entity = film_slot(film, pools, rng)
        if forced is not None:
            suffix = f" ({film.year})" if film.year else ""
            slots["film"], entity = Slot(film.title, "film", suffix), Entity(EntityKind.FILM, film.title, film.year)
        topics.append(entity)
        slots["_movie"] = film
        if "{film2}" in text:
            film2 = _pick_film(pools, rng, need, avoid=film)
            slots["film2"], entity2 = film_slot(film2, pools, rng)
            topics.append(entity2)
    if "{person}" in text:
        role = first if first in PEOPLE else rng.choice(sorted(PEOPLE))
        truth = values_of(slots["_movie"], role) if plan.op == Op.CHECK and "_movie" in slots else []
        name = rng.choice(truth) if truth and rng.random() < 0.5 else rng.choice(pools.people[role])
        slots["person"] = Slot(name, "person")
        entity = Entity(EntityKind.PERSON, name)
        expect = entity if plan.op == Op.CHECK else None
        topics += [] if plan.op == Op.CHECK else [entity]
    if "{tag}" in text:
        truth = values_of(slots["_movie"], Rel.TAG) if plan.op == Op.CHECK and "_movie" in slots else []
        name = rng.choice(truth) if truth and rng.random() < 0.5 else rng.choice(pools.tags)
        slots["tag"] = Slot(name, "tag")
        entity = Entity(EntityKind.TAG, name)
        expect = entity if plan.op == Op.CHECK else None
        topics += [] if plan.op == Op.CHECK else [entity]
    if topic_kind(label) is None or plan.op == Op.IDENTIFY:
        topics = [] if plan.op != Op.RECOMMEND else topics
    return topics, expect, n


def _value_slots(text: str, plan: Plan, rel, pools: Pools, rng: random.Random, slots: dict, c: Constraints) -> None:
    movie = slots.get("_movie")
    if "{genre}" in text and "genre" not in slots:
        form = rng.choice(pools.genre_forms)
        truth = [normalize(g) for g in (movie.genres if movie else []) if normalize(g) in pools.genre_forms]
        form = rng.choice(truth) if truth and rng.random() < 0.5 else form
        slots["genre"] = Slot("sci-fi" if form == "sci fi" else form, "genre")
    if "{language}" in text and "language" not in slots:
        slots["language"] = Slot(rng.choice(pools.languages), "language")
    if "{year}" in text and "year" not in slots:
        year = movie.year if movie is not None and movie.year and rng.random() < 0.5 else rng.randint(1930, 2016)
        slots["year"] = Slot(str(year), "year")
        if plan.op == Op.LOOKUP and not plan.path:
            c.year_from = c.year_to = year
    if "{D}" in text:
        slots["D"] = Slot(rng.choice(pools.plots))
    for key, options in O.OFF_SLOTS.items():
        if "{" + key + "}" in text:
            slots[key] = Slot(rng.choice(options))
    for key in ("decade", "year2", "rating", "minutes", "hours"):
        if "{" + key + "}" in text and key not in slots:
            slots[key] = Slot("2000")  # never reached: constraint phrases fill their own slots


def _expect_value(rel, slots: dict, pools: Pools) -> Entity | None:
    if rel == Rel.GENRE and "genre" in slots:
        return Entity(EntityKind.GENRE, pools.vocab.genres[normalize(slots["genre"].text)])
    if rel == Rel.LANGUAGE and "language" in slots:
        return Entity(EntityKind.LANGUAGE, slots["language"].text)
    if rel == Rel.YEAR and "year" in slots:
        return Entity(EntityKind.YEAR, slots["year"].text)
    return None


OPEN_LABELS = ("describe", "identify", "recommend", "off_topic")  # one label each, many phrasings


def generate(pools: Pools, per_label: int, test_per_label: int, test_share: float = 0.2,
             seed: int = 42, open_per_label: int | None = None) -> tuple[list[dict], dict[str, str]]:
    """Questions for every label: per_label from dev groups (open_per_label for the labels of OPEN_LABELS, whose
    one label covers many phrasings), test_per_label from test groups.

    Returns:
        The questions (label, gold plan, entity spans, constraints, group, split) and the group → split map.
    """
    templates = all_templates()
    split_of = split_groups(templates, test_share, seed)
    by_key: dict[tuple[str, str], list[Template]] = defaultdict(list)
    for t in templates:
        by_key[(t.label, split_of[t.group])].append(t)
    rng = random.Random(seed)
    out = []
    for (label, split), ts in sorted(by_key.items()):
        dev_n = open_per_label if open_per_label and label.split()[0] in OPEN_LABELS else per_label
        for _ in range(dev_n if split == "dev" else test_per_label):
            item = make_question(rng.choice(ts), pools, rng, split)
            out.append(item)
    return out, split_of
