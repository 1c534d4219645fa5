"""The embedded sample catalog (data/sample_movies.csv): schema and validity, and a fact check of its directors,
writers, years and cast against the WikiMovies KB (../shared/data/wikimovies/kb.txt.gz; skipped when absent).

How a sample film is compared with the KB:

- Title: a sample film matches the KB subject with the same title (case-, accent- and whitespace-insensitive).
  The KB merges films that share a title into one subject with several `release_year`s ("merged" below).
- Year: the film is the KB's film when its year is one of the subject's years. Otherwise it is a year mismatch
  when the KB subject is evidently the same film (it shares a sample director; or, when the KB lists no director,
  a cast member), and a different film of the same title (a remake or namesake, e.g. Dune 2021 vs Dune 1984)
  when it is not; different films are skipped.
- People: a sample name is compared only when the KB knows that person (it is in the KB's vocabulary of
  directors, writers and actors) and the KB lists that role for the film. A name the KB lists for the film in a
  different role only (a co-director credited as writer, say) is fine. Names are compared after removing accents,
  case and punctuation; ALIASES maps people renamed since the KB was built.
  - directors: the KB's lists are (almost) complete, so every compared sample director must be in the KB's
    director list, and at least one sample director must be there. KB_OMISSIONS lists the reviewed exceptions.
  - writers and cast: the KB keeps only part of each list (about 3 top-billed actors; often only the source
    author as writer: Pulp Fiction lists just John Travolta, Citizen Kane just Orson Welles as writer). A name
    missing from such a list is no evidence against the sample, so the rule is that the two lists must agree on
    at least one name: a sample list of compared names sharing none with the KB's list is a mismatch.
  - merged subjects: their lists pool several films and drop some credits (True Grit lists only the 1969
    director), so their names are counted as checked or verified but cannot fail.
"""
from __future__ import annotations

import datetime
import gzip
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from core.config import Settings
from tests.conftest import require_shared

SAMPLE = Path(Settings().index.sample_catalog)
COLUMNS = ["title", "year", "directors", "writers", "cast", "genres", "runtime", "premise"]
LIST_COLUMNS = ["directors", "writers", "cast", "genres"]
GENRES = {"Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Family", "Fantasy",
          "History", "Horror", "Music", "Musical", "Mystery", "Romance", "Science Fiction", "Sport", "Thriller",
          "War", "Western"}
MUST_HAVE = ["Jaws", "Inception", "The Godfather", "Pulp Fiction", "The Dark Knight", "Titanic", "Toy Story",
             "Spirited Away", "Parasite"]

ROLES = {"directors": "directed_by", "writers": "written_by", "cast": "starred_actors"}
ALIASES = {"Elliot Page": "Ellen Page", "Lilly Wachowski": "Andy Wachowski"}  # sample name → name in the KB
KB_OMISSIONS = {  # (title, year, column, name): true credits the KB leaves out, reviewed by hand
    ("No Country for Old Men", 2007, "directors", "Joel Coen"),  # both Coens are credited; the KB lists only Ethan
}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()


def title_key(title: str) -> str:
    return " ".join(_fold(title).split())


def name_key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", _fold(ALIASES.get(name, name)))


def split_list(cell) -> list[str]:
    return [] if pd.isna(cell) else str(cell).split("|")


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return pd.read_csv(SAMPLE, encoding="utf-8", keep_default_na=False)


# --- schema and validity -------------------------------------------------------------------------------------

def test_columns_and_size(sample):
    assert list(sample.columns) == COLUMNS
    assert 140 <= len(sample) <= 170


def test_rows_are_valid(sample):
    problems = []
    for row in sample.itertuples(index=False):
        where = f"{row.title} ({row.year})"
        if not str(row.title).strip() or row.title != row.title.strip():
            problems.append(f"{where}: bad title")
        if not (isinstance(row.year, int) and 1900 <= row.year <= datetime.date.today().year):
            problems.append(f"{where}: implausible year")
        if not (isinstance(row.runtime, int) and 40 <= row.runtime <= 300):
            problems.append(f"{where}: implausible runtime {row.runtime!r}")
        if not 40 <= len(str(row.premise).strip()) <= 400:
            problems.append(f"{where}: premise missing or too long")
        for col in LIST_COLUMNS:
            items = split_list(getattr(row, col))
            if not items or any(not x or x != x.strip() for x in items) or len(set(items)) != len(items):
                problems.append(f"{where}: bad {col} list {getattr(row, col)!r}")
        if not 3 <= len(split_list(row.cast)) <= 5:
            problems.append(f"{where}: cast should list 3-5 principal actors")
        if set(split_list(row.genres)) - GENRES:
            problems.append(f"{where}: unknown genres {set(split_list(row.genres)) - GENRES}")
    assert not problems, "\n".join(problems)


def test_no_duplicates_and_a_remake_pair(sample):
    keys = [(title_key(t), y) for t, y in zip(sample.title, sample.year)]
    assert len(set(keys)) == len(keys), "duplicate (title, year) rows"
    years_by_title = sample.groupby(sample.title.map(title_key)).year.nunique()
    assert (years_by_title > 1).any(), "the demo needs at least one remake pair sharing a title"


def test_demo_films_present(sample):
    titles = set(sample.title)
    assert not [t for t in MUST_HAVE if t not in titles]
    jaws = sample[sample.title == "Jaws"].iloc[0]
    assert jaws.year == 1975 and split_list(jaws.directors) == ["Steven Spielberg"]


# --- fact check against the WikiMovies KB ----------------------------------------------------------------------

@dataclass
class KbFilm:
    years: set[int] = field(default_factory=set)
    people: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # relation → name keys

    def anyone(self) -> set[str]:
        return set().union(*self.people.values()) if self.people else set()


@dataclass
class KbCheck:
    mismatches: list[str] = field(default_factory=list)
    films_matched: int = 0  # sample films found in the KB as the same film
    other_films: list[str] = field(default_factory=list)  # same title, different film (remake / namesake)
    facts_checked: int = 0  # year facts + compared (film, role, person) facts
    facts_verified: int = 0  # compared person facts the KB lists in the same role


def load_kb(path: Path) -> tuple[dict[str, KbFilm], set[str]]:
    """KB subjects by title key, and the vocabulary of people (name keys)."""
    films: dict[str, KbFilm] = defaultdict(KbFilm)
    vocab: set[str] = set()
    relations = set(ROLES.values())
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            subject, relation, obj = line.rstrip("\n").split("|", 2)
            if relation in relations:
                key = name_key(obj)
                films[title_key(subject)].people[relation].add(key)
                vocab.add(key)
            elif relation == "release_year" and obj.isdigit():
                films[title_key(subject)].years.add(int(obj))
    return dict(films), vocab


@pytest.fixture(scope="module")
def kb() -> tuple[dict[str, KbFilm], set[str]]:
    return load_kb(require_shared("wikimovies", "kb.txt.gz"))  # parsed once per module


def check_against_kb(sample: pd.DataFrame, films: dict[str, KbFilm], vocab: set[str]) -> KbCheck:
    report = KbCheck()
    for row in sample.itertuples(index=False):
        film = films.get(title_key(row.title))
        if film is None:
            continue
        where = f"{row.title} ({row.year})"
        names = {col: split_list(getattr(row, col)) for col in ROLES}
        keys = {col: {name_key(n) for n in names[col]} for col in ROLES}
        kb_directors, kb_cast = film.people["directed_by"], film.people["starred_actors"]
        same_film_evidence = (bool(keys["directors"] & kb_directors)
                              or (not kb_directors and bool(keys["cast"] & kb_cast)))
        if film.years:
            report.facts_checked += 1
            if row.year not in film.years:
                if same_film_evidence:
                    report.mismatches.append(f"{where}: year; the KB has {sorted(film.years)} for this film")
                else:
                    report.other_films.append(where)
                continue
        elif not same_film_evidence:
            report.other_films.append(where)
            continue
        report.films_matched += 1
        merged = len(film.years) > 1
        everyone = film.anyone()
        for col, relation in ROLES.items():
            kb_names = film.people[relation]
            if not kb_names:
                continue
            compared = [n for n in names[col] if name_key(n) in vocab]
            report.facts_checked += len(compared)
            report.facts_verified += sum(name_key(n) in kb_names for n in compared)
            if merged:
                continue
            if col == "directors":
                absent = [n for n in compared if name_key(n) not in everyone
                          and (row.title, row.year, col, n) not in KB_OMISSIONS]
                if absent:
                    report.mismatches.append(f"{where}: directors {absent} are not KB directors of this film")
                if not keys[col] & kb_names:
                    report.mismatches.append(f"{where}: no sample director is among the KB's directors")
            elif compared and not {name_key(n) for n in compared} & kb_names:
                report.mismatches.append(f"{where}: {col} {compared} share no name with the KB's {relation} list")
    return report


def test_sample_agrees_with_wikimovies_kb(sample, kb):
    films, vocab = kb
    report = check_against_kb(sample, films, vocab)
    assert not report.mismatches, f"{len(report.mismatches)} mismatches with the KB:\n" + "\n".join(report.mismatches)
    assert report.films_matched >= 80 and report.facts_checked >= 400  # the check must not pass vacuously


def test_kb_check_catches_wrong_facts(sample, kb):
    """The checker itself: a wrong year, director, cast or writer list on known films is reported."""
    films, vocab = kb
    bad = sample.copy()
    bad.loc[bad.title == "Jaws", "year"] = 1976  # same director in the KB → a year mismatch, not a remake
    bad.loc[bad.title == "Inception", "directors"] = "Steven Spielberg"
    bad.loc[bad.title == "The Godfather", "cast"] = "Tom Hanks|Meg Ryan|Bill Pullman"
    bad.loc[bad.title == "Jurassic Park", "writers"] = "Mario Puzo"
    found = "\n".join(check_against_kb(bad, films, vocab).mismatches)
    for expected in ["Jaws (1976): year", "Inception (2010): directors", "The Godfather (1972): cast",
                     "Jurassic Park (1993): writers"]:
        assert expected in found
