"""The abstain set of training.capability_data: questions the default catalog cannot answer, by kind, plus a control
of present films asked normally.

    absent_film   a real film of another training catalog (Wikipedia plots sample, IMDB-Movie-Data, vega) whose
                  title the default catalog lacks, and nothing in it looks alike
    near_miss     the same, but a catalog title looks alike: a sequel or remake of a catalog film ("X 2", "X: …"),
                  or a title within a few letters of one
    changed_year  a catalog title with a year none of its versions has (not even a year apart)
    absent_field  a present film asked for a field the catalog lacks (composer, budget, box office, …)
    off_topic     capitals, arithmetic, recipes, sports, how things work
    control       a present film asked for its director, cast, year, genre or plot (expect_abstain false)

A title of another catalog that matches a catalog title spelled differently (token-set similarity ≥ 90 with a year
at most one apart: "Star Wars Ep. I: …") is the same film, so it is left out (counted in notes).
"""
from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator

from rapidfuzz import fuzz, process

from core.records import Movie, normalize
from index.catalog import Catalog
from training.capability_data import SPLITS, CapabilityDataConfig, GroupCycle, Splitter, caps, film_ref, record, twins
from training.capability_data_text import ABSTAIN_FIELD, ABSTAIN_FILM, HELD_OUT, OFF_SLOTS, OFF_TOPIC, render

_ARTICLE = re.compile(r"^(.*), (The|A|An)$")
_MOJIBAKE = re.compile(r"[a-z][À-Þ]")  # an upper-case accented letter inside a lower-case word
KINDS = ("absent_film", "near_miss", "changed_year", "absent_field", "off_topic", "control")
SAME_FILM_SCORE = 90  # token-set similarity of a differently spelled title of the same film (with a year ±1)
LOOKALIKE_SCORE = 85  # edit similarity of a look-alike title (near_miss)
QUESTIONS_PER_TITLE = 3  # absent and near-miss titles are few: each is asked in up to three groups
FIELD_ALIASES = {"box office": ("gross", "revenue", "box office"), "composer": ("composer", "music"),
                 "budget": ("budget",)}  # catalog columns that would hold a field (vega has US gross, Budget)


def leading_article(title: str) -> str:
    """A catalog's sorting form with the article moved back: "Charge of the Light Brigade, The" → "The Charge …"."""
    m = _ARTICLE.match(title.strip())
    return f"{m.group(2)} {m.group(1)}" if m else title.strip()


class AbstainMaker:
    """Callable: the abstain records of every kind, each kind spread evenly over the splits' caps.

    Args:
        catalog: the default catalog.
        others: catalog file name → its Movie records (the real titles the default catalog may lack).
        split: key → split (film id, or the title or question text where there is no catalog film).
        config: the split caps and the seed.
    """

    def __init__(self, catalog: Catalog, others: dict[str, list[Movie]], split: Splitter,
                 config: CapabilityDataConfig) -> None:
        self.catalog, self.split, self.config = catalog, split, config
        self.rng = random.Random(config.seed + 3)
        self.notes: Counter = Counter()
        self.absent, self.near = self._absent_titles(others)
        held = {normalize(f) for f in catalog.fields()}
        self.fields = {group: [(t, f) for t, f in templates
                               if not any(normalize(a) in h for a in FIELD_ALIASES.get(f, (f,)) for h in held)]
                       for group, templates in ABSTAIN_FIELD.items()}
        films = [catalog.film(i) for i in catalog.all_films()]
        self.films = [m for m in films if m.year and len(normalize(m.title)) > 1]

    def __call__(self) -> list[dict]:
        per_kind = {s: math.ceil(n / len(KINDS)) for s, n in caps(self.config).items()}
        makers: dict[str, Callable[[], Iterator[tuple[str, Callable[[str], dict | None]]]]] = {
            "absent_film": lambda: self._titles(self.absent, "absent_film"),
            "near_miss": lambda: self._titles(self.near, "near_miss"),
            "changed_year": self._changed_years, "absent_field": self._fields, "off_topic": self._off_topic,
            "control": self._controls}
        out: list[dict] = []
        asked: set[str] = set()  # a question text is asked once, in one split
        for kind in KINDS:
            counts: Counter = Counter()
            cycle = GroupCycle(list(ABSTAIN_FILM), HELD_OUT["abstain"])
            for key, make in makers[kind]():
                split = self.split(key)
                if counts[split] >= per_kind[split]:
                    if all(counts[s] >= per_kind[s] for s in SPLITS):
                        break
                    continue
                row = make(cycle(split))
                if row is None or row["question"] in asked:
                    cycle.turn[split] -= 1  # the group's turn is not used up
                    continue
                asked.add(row["question"])
                counts[split] += 1
                out.append(row | {"split": split})
        return out

    # ------------------------------------------------------------ titles the catalog lacks

    def _absent_titles(self, others: dict[str, list[Movie]]) -> tuple[list[tuple], list[tuple]]:
        """(absent, near-miss) lists of (title, year, source file, look-alike catalog title or None)."""
        titles = self.catalog.vocabulary("title")
        keys = [normalize(t) for t in titles]
        known = set(keys)
        seen: set[str] = set()
        absent, near = [], []
        for source, movies in sorted(others.items()):
            for m in movies:
                title = leading_article(m.title)
                key = normalize(title)
                if not key or key in known or key in seen:
                    continue
                if _MOJIBAKE.search(title):  # vega's deliberate errors ("AstÈrix"): not a title anyone asks
                    self.notes[f"{source}: left out, a garbled title"] += 1
                    continue
                seen.add(key)
                if self._same_film(key, m.year, titles, keys):
                    self.notes[f"{source}: left out, a catalog film spelled differently"] += 1
                    continue
                alike = self._lookalike(key, titles, keys, known)
                (near if alike else absent).append((title, m.year, source, alike))
        self.notes["absent titles"], self.notes["near-miss titles"] = len(absent), len(near)
        return absent, near

    def _same_film(self, key: str, year: int | None, titles: list[str], keys: list[str]) -> bool:
        hits = process.extract(key, keys, scorer=fuzz.token_set_ratio, score_cutoff=SAME_FILM_SCORE, limit=None)
        for _, _, i in hits:
            years = [self.catalog.film(f).year for f in self.catalog.films_named(titles[i])]
            if year is None or any(y is not None and abs(y - year) <= 1 for y in years):
                return True
        return False

    @staticmethod
    def _lookalike(key: str, titles: list[str], keys: list[str], known: set[str]) -> str | None:
        """A catalog title the absent one extends ("alien" of "alien resurrection"), or one a few letters off."""
        words = key.split()
        for n in range(len(words) - 1, 0, -1):
            head = " ".join(words[:n])
            if head in known and (n >= 2 or len(head) >= 5):
                return titles[keys.index(head)]
        best = process.extractOne(key, keys, scorer=fuzz.ratio, score_cutoff=LOOKALIKE_SCORE)
        return titles[best[2]] if best else None

    def _titles(self, pool: list[tuple], kind: str) -> Iterator[tuple[str, Callable]]:
        pool = list(pool)
        self.rng.shuffle(pool)
        for title, year, source, alike in pool:
            for _ in range(QUESTIONS_PER_TITLE):
                named = f"{title} ({year})" if year and self.rng.random() < 0.3 else title

                def make(group: str, named: str = named, title: str = title, year=year, source=source,
                         alike=alike) -> dict:
                    template, relation = self.rng.choice(ABSTAIN_FILM[group])
                    return record("abstain", "", group, render(template, film=named), [], entity=title, gold_keys=[],
                                  source=source, kind=kind, expect_abstain=True, relation=relation,
                                  film={"title": title, "year": year}, lookalike=alike)

                yield normalize(title), make

    # ------------------------------------------------------------ catalog films

    def _named(self, film: Movie, year: int | None = None) -> str:
        if year is not None:
            return f"{film.title} ({year})" if self.rng.random() < 0.5 else f"the {year} film {film.title}"
        return f"{film.title} ({film.year})" if twins(self.catalog, film) else film.title

    def _changed_years(self) -> Iterator[tuple[str, Callable]]:
        for film in self.rng.sample(self.films, len(self.films)):
            shifted = film.year + self.rng.choice([-1, 1]) * self.rng.randint(3, 15)
            if not 1920 <= shifted <= 2024 or any(self.catalog.films_named(film.title, y)
                                                  for y in range(shifted - 1, shifted + 2)):
                continue

            def make(group: str, film: Movie = film, shifted: int = shifted) -> dict:
                template, relation = self.rng.choice(ABSTAIN_FILM[group])
                return record("abstain", "", group, render(template, film=self._named(film, shifted)), [],
                              entity=film.title, gold_keys=[], source="default catalog", kind="changed_year",
                              expect_abstain=True, relation=relation, film={"title": film.title, "year": shifted},
                              catalog_films=[film_ref(self.catalog.film(i))
                                             for i in self.catalog.films_named(film.title)])

            yield film.id, make

    def _fields(self) -> Iterator[tuple[str, Callable]]:
        for film in self.rng.sample(self.films, len(self.films)):
            def make(group: str, film: Movie = film) -> dict | None:
                if not self.fields[group]:
                    return None
                template, field = self.rng.choice(self.fields[group])
                return record("abstain", "", group, render(template, film=self._named(film)), [], entity=film.title,
                              gold_keys=[], source="default catalog", kind="absent_field", expect_abstain=True,
                              relation=field, film=film_ref(film))

            yield film.id, make

    def _controls(self) -> Iterator[tuple[str, Callable]]:
        for film in self.rng.sample(self.films, len(self.films)):
            def make(group: str, film: Movie = film) -> dict | None:
                gold = {"director": film.directors, "actor": film.cast, "year": [str(film.year)],
                        "genre": film.genres, "plot": [film.title] if film.plot else []}
                usable = [(t, r) for t, r in ABSTAIN_FILM[group] if gold[r]]
                if not usable:
                    return None
                template, relation = self.rng.choice(usable)
                return record("abstain", "", group, render(template, film=self._named(film)), list(gold[relation]),
                              entity=film.title, gold_keys=[], source="default catalog", kind="control",
                              expect_abstain=False, relation=relation, film=film_ref(film))

            yield film.id, make

    # ------------------------------------------------------------ off-topic

    def _off_topic(self) -> Iterator[tuple[str, Callable]]:
        """Slot values drawn at random, split by their combination; the group's template is picked when the split
        (and so the group) is known."""
        for _ in range(20000):
            slots = {name: self.rng.choice(values) for name, values in OFF_SLOTS.items()}
            pick = self.rng.random()

            def make(group: str, slots: dict = slots, pick: float = pick) -> dict:
                templates = OFF_TOPIC[group]
                text = render(templates[int(pick * len(templates))], **slots)
                return record("abstain", "", group, text, [], entity=None, gold_keys=[], source="generated",
                              kind="off_topic", expect_abstain=True, relation=None)

            yield "|".join(slots.values()), make
