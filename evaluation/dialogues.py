"""Follow-up dialogues for evaluating the chat's memory (issue 15): 2-3 turn dialogues generated from movie
catalogs, each turn with its gold answers computed from the catalog store (index.catalog.Catalog).

A turn's role says what it tests:
    first         the opening question (scored as the baseline the follow-ups build on)
    follow-up     leans on an earlier turn: a pronoun ("what else did she star in?"), an ellipsis ("and the
                  year?"), a swapped topic ("and Alien?") or a moved year range ("any older ones?")
    topic-change  names its own, different film: it must be answered about that film, not the earlier one

Films are drawn from titles that occur once across the catalogs read (no remakes sharing a title) and that the
linker can link (not a pronoun or template word, not also a person's name). People carry no gender
field, so he/she/they are drawn at random: the chat must resolve them by what fits the question.
"""
from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.config import REPO_ROOT, Settings
from core.errors import InputError
from core.records import Movie, normalize
from index.catalog import Catalog
from rag.memory import PRONOUN_WORDS
from rag.retrieve import GENERIC_WORDS

SHARED = REPO_ROOT.parent / "shared" / "data"
TRAINING_CATALOGS = (  # every catalog but imdb_top_1000.csv (held out), in the order the training index is built
    SHARED / "wikimovies" / "kb.txt.gz", SHARED / "wikimovies" / "plots.txt.gz",  # (merged lists keep that order)
    SHARED / "catalogs" / "tmdb_9000plus.csv", SHARED / "catalogs" / "imdb_movie_data_1000.csv",
    SHARED / "catalogs" / "vega_movies.json", SHARED / "catalogs" / "wiki_movie_plots_sample.csv")
HELD_OUT = frozenset({"imdb_top_1000.csv"})
PRONOUNS = ("he", "she", "they")


@dataclass
class DialogueTurn:
    question: str
    answers: list[str]  # gold: any of them is right
    role: str  # "first", "follow-up" or "topic-change"
    topic: str = ""  # the film (or person) the turn is about, as the catalog writes it


@dataclass
class Dialogue:
    id: str
    kind: str  # the recipe that made it
    turns: list[DialogueTurn] = field(default_factory=list)


def read_movies(paths: list[str] | None = None, settings: Settings | None = None) -> list[Movie]:
    """The films of the catalogs (default: the training catalogs), one record per film merged across sources as
    `index build` merges them (so the gold answers are what an index of these catalogs holds); the held-out
    catalog is refused."""
    from index.sources import combine, read_catalogs  # deferred: the format readers (pandas)

    paths = [str(p) for p in (paths or TRAINING_CATALOGS)]
    held = [p for p in paths if Path(p).name in HELD_OUT]
    if held:
        raise InputError(f"{held[0]} is held out for testing: generate dialogues from the training catalogs")
    return combine(read_catalogs(paths, settings or Settings()))


class DialogueMaker:
    """Callable: n → n dialogues, mixing the recipes, seeded.

    Args:
        movies: the films (read_movies); titles occurring more than once are not used as topics.
        seed: the random seed.
    """

    def __init__(self, movies: list[Movie], seed: int = 42) -> None:
        self.catalog = Catalog.from_movies(movies)
        self.rng = random.Random(seed)
        titles = Counter(normalize(m.title) for m in movies)
        people = {normalize(p) for m in movies for p in (*m.directors, *m.writers, *m.cast)}
        self.films = [self.catalog.film(i) for i in self.catalog.all_films()
                      if titles[normalize(self.catalog.film(i).title)] == 1 and self._linkable(i, people)]
        self.topics = {m.title for m in self.films}  # the titles a turn may be about
        self.recipes = [self.facts, self.person_else, self.topic_change, self.person_else, self.cast_else,
                        self.topic_change, self.years, self.swap, self.topic_change, self.fields]

    def __call__(self, n: int) -> list[Dialogue]:
        out: list[Dialogue] = []
        tries = 0
        while len(out) < n and tries < n * 200:
            tries += 1
            recipe = self.recipes[len(out) % len(self.recipes)]
            dialogue = recipe(self.rng.choice(self.films))
            if dialogue is not None and all(t.answers for t in dialogue.turns):
                dialogue.id = f"d{len(out):04d}"
                out.append(dialogue)
        return out

    # ------------------------------------------------------------ recipes (None: the film does not qualify)

    def facts(self, film: Movie) -> Dialogue | None:
        """Who directed F? → and who wrote it? → and the year?"""
        if not (film.directors and film.writers and film.year):
            return None
        return Dialogue("", "facts", [
            self._turn("Who directed {}?|Who is the director of {}?", film, film.directors, "first"),
            self._turn("And who wrote it?|Who wrote it?|And the writer?|Who wrote the screenplay?|Who was its writer?",
                       film, film.writers),
            self._turn("And the year?|When was it released?|What year did it come out?|And when did that movie come "
                       "out?", film, [str(film.year)])])

    def person_else(self, film: Movie) -> Dialogue | None:
        """Who directed (wrote) F? → what else did he/she/they direct (write)? [→ and what genre is it?]

        "it" in the third turn is the one other film when the answer named one, else F: a list answer does not
        displace the film the dialogue is about."""
        role, verb, done, people = self.rng.choice([("director", "direct", "directed", film.directors),
                                                    ("writer", "write", "written", film.writers)])
        others = self._others(people, role, film)
        if len(people) != 1 or not others:
            return None
        ask = "Who directed {}?" if role == "director" else "Who wrote {}?"
        turns = [self._turn(ask, film, people, "first"),
                 DialogueTurn(self._pick(f"What else did {{p}} {verb}?|What other films did {{p}} {verb}?|"
                                         f"What other movies has {{p}} {done}?"), others,
                              "follow-up", people[0])]
        about = film
        if len(others) == 1:  # "it" is that film: asked about only when its title is a film of its own
            about = next(m for f in self._films_of(people[0], role) if (m := self.catalog.film(f)).title == others[0])
        if about.title in self.topics and about.genres and self.rng.random() < 0.5:
            turns.append(self._turn("And what genre is it?|What genre is it?", about, about.genres))
        return Dialogue("", f"{role}-else", turns)

    def cast_else(self, film: Movie) -> Dialogue | None:
        """Who starred in F? → what else did he/she star in? (the first actor listed), or what else did they star
        in? (the cast: any of their other films)"""
        pronoun = self.rng.choice(PRONOUNS)
        people = film.cast if pronoun == "they" else film.cast[:1]
        others = sorted({t for person in people for t in self._others([person], "actor", film)})
        if not others or len(film.cast) < 2:
            return None
        ask = self.rng.choice(["What else did {p} star in?", "What other films did {p} act in?",
                               "What else has {p} been in?"])
        return Dialogue("", "actor-else", [
            self._turn("Who starred in {}?|Who was in {}?", film, film.cast, "first"),
            DialogueTurn(ask.replace("{p}", pronoun), others, "follow-up", ", ".join(people))])

    def years(self, film: Movie) -> Dialogue | None:
        """Which films did A star in since Y? → any older ones? (or before Y → any newer ones?)"""
        role, person = ("actor", film.cast[0]) if film.cast else ("director", (film.directors or [""])[0])
        if not person:
            return None
        years = sorted({y for f in self._films_of(person, role) if (y := self.catalog.film(f).year)})
        if len(years) < 4:
            return None
        split = years[len(years) // 2]
        verb = "star in" if role == "actor" else "direct"
        before = self._titles(person, role, lambda y: y < split)
        since = self._titles(person, role, lambda y: y >= split)
        if self.rng.random() < 0.5:
            turns = [DialogueTurn(f"Which films did {person} {verb} since {split}?", since, "first", person),
                     DialogueTurn(self._pick("Any older ones?|And older ones?|What about older ones?"), before,
                                  "follow-up", person)]
        else:
            turns = [DialogueTurn(f"Which films did {person} {verb} before {split}?", before, "first", person),
                     DialogueTurn(self._pick("Any newer ones?|And newer ones?|What about more recent ones?"), since,
                                  "follow-up", person)]
        return Dialogue("", "years", turns)

    def swap(self, film: Movie) -> Dialogue | None:
        """Who directed F1? → and F2? (the same question about another film)"""
        ask, field_of = self.rng.choice([("Who directed {}?", lambda m: m.directors),
                                         ("Who wrote {}?", lambda m: m.writers),
                                         ("What year was {} released?", lambda m: [str(m.year)] if m.year else [])])
        other = self._other_film(film, field_of)
        if other is None or not field_of(film):
            return None
        return Dialogue("", "swap", [self._turn(ask, film, field_of(film), "first"),
                                     self._turn("And {}?|What about {}?|How about {}?", other, field_of(other),
                                                "follow-up")])

    def topic_change(self, film: Movie) -> Dialogue | None:
        """A question about F1, then a full question about F2 (its own topic) [→ a follow-up about F2]."""
        asks = [("Who directed {}?", lambda m: m.directors), ("Who wrote {}?", lambda m: m.writers),
                ("What year was {} released?", lambda m: [str(m.year)] if m.year else []),
                ("What genre is {}?", lambda m: m.genres)]
        (first, first_of), (second, second_of) = self.rng.sample(asks, 2)
        other = self._other_film(film, second_of)
        if other is None or not first_of(film):
            return None
        second = self._pick(f"{second}|And {second[0].lower()}{second[1:]}")
        turns = [self._turn(first, film, first_of(film), "first"),
                 self._turn(second, other, second_of(other), "topic-change")]
        if other.cast and self.rng.random() < 0.5:
            turns.append(self._turn("Who starred in it?|And who was in it?", other, other.cast))
        return Dialogue("", "topic-change", turns)

    def fields(self, film: Movie) -> Dialogue | None:
        """What year was F released? → what genre is it? → who starred in it?"""
        if not (film.year and film.genres and film.cast):
            return None
        return Dialogue("", "fields", [
            self._turn("What year was {} released?", film, [str(film.year)], "first"),
            self._turn("What genre is it?|And the genre?|What kind of film is it?", film, film.genres),
            self._turn("Who starred in it?|And the cast?|Who acted in this film?", film, film.cast)])

    # ------------------------------------------------------------ helpers

    def _linkable(self, film_id: str, people: set[str]) -> bool:
        words = normalize(self.catalog.film(film_id).title).split()
        return (len(" ".join(words)) > 2 and not all(w in GENERIC_WORDS or w in PRONOUN_WORDS for w in words)
                and " ".join(words) not in people)

    def _pick(self, options: str) -> str:
        return self.rng.choice(options.split("|")).replace("{p}", self.rng.choice(PRONOUNS))

    def _turn(self, options: str, film: Movie, answers: list[str], role: str = "follow-up") -> DialogueTurn:
        return DialogueTurn(self._pick(options).replace("{}", film.title), list(answers), role, film.title)

    def _films_of(self, person: str, role: str) -> list[str]:
        return self.catalog.follow([person], role, back=True)[person]

    def _others(self, people: list[str], role: str, film: Movie) -> list[str]:
        """The titles of the other films of the one person listed (empty when there are none or several)."""
        if len(people) != 1:
            return []
        titles = {self.catalog.film(f).title for f in self._films_of(people[0], role)}
        return sorted(titles - {film.title})

    def _titles(self, person: str, role: str, keep) -> list[str]:
        return sorted({m.title for f in self._films_of(person, role)
                       if (m := self.catalog.film(f)).year and keep(m.year)})

    def _other_film(self, film: Movie, field_of) -> Movie | None:
        """Another film whose gold answers share nothing with the first film's (so inheriting is visible)."""
        for _ in range(50):
            other = self.rng.choice(self.films)
            values = {normalize(v) for v in field_of(other)}
            if other.title != film.title and values and not values & {normalize(v) for v in field_of(film)}:
                return other
        return None


def write_dialogues(dialogues: list[Dialogue], path: str | Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for d in dialogues:
            fh.write(json.dumps(asdict(d), ensure_ascii=False) + "\n")


def read_dialogues(path: str | Path) -> list[Dialogue]:
    """Dialogues written by write_dialogues (one JSON object per line)."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            out.append(Dialogue(data["id"], data["kind"], [DialogueTurn(**t) for t in data["turns"]]))
    return out
