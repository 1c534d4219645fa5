"""Exact execution of every plan operation on a tiny catalog: answers are computed, facts cite cards, and what the
catalog lacks is said plainly."""
from __future__ import annotations

import pytest

from core.records import Movie, PassageKind, passage_key
from index.catalog import Catalog
from rag.execute import Executor
from rag.plan import parse_plan

MOVIES = [
    Movie(title="Alien", year=1979, directors=["Ridley Scott"], writers=["Dan O'Bannon"], cast=["Sigourney Weaver"],
          genres=["Horror", "Science Fiction"], runtime_min=117, rating=8.5),
    Movie(title="Aliens", year=1986, directors=["James Cameron"], writers=["James Cameron"],
          cast=["Sigourney Weaver"], genres=["Action"], runtime_min=137, rating=8.4),
    Movie(title="Blade Runner", year=1982, directors=["Ridley Scott"], cast=["Harrison Ford"],
          genres=["Science Fiction"], runtime_min=116, rating=8.1),
    Movie(title="Her", year=2013, directors=["Spike Jonze"], cast=["Joaquin Phoenix"], genres=["Romance"],
          extra={"IMDb rating": "good"}),  # the WikiMovies KB rates in words
    Movie(title="Joker", year=2019, directors=["Todd Phillips"], cast=["Joaquin Phoenix"], genres=["Crime"],
          runtime_min=122, rating=8.4),
    Movie(title="The Godfather", year=1972, directors=["Francis Ford Coppola"], cast=["Marlon Brando"],
          genres=["Crime"], runtime_min=175, rating=9.2),
]


@pytest.fixture(scope="module")
def run():
    executor = Executor(Catalog.from_movies(MOVIES))
    return lambda text: executor(parse_plan(text))


def test_lookup_follows_the_asked_relation(run):
    director = run('lookup film:"Alien" > director')  # regression: "Who directed Alien?" gave the writer
    assert director.answers == ["Ridley Scott"] and director.missing is None
    assert director.facts[0].text == "Alien (1979). Directed by Ridley Scott."
    assert director.facts[0].key == passage_key(PassageKind.CARD, "alien (1979)")
    assert run('lookup film:"Alien" > writer').answers == ["Dan O'Bannon"]
    runtime = run('lookup film:"The Godfather" > runtime')  # regression: "How long is The Godfather?" gave the year
    assert runtime.answers == ["175"] and "Runtime: 175 min" in runtime.facts[0].text


def test_two_hops_and_other_films_of_the_same_person(run):
    directors = run('lookup person:"Joaquin Phoenix" < actor > director')  # not "Joaquin Phoenix"
    assert directors.answers == ["Spike Jonze", "Todd Phillips"]
    others = run('lookup film:"Alien" > director < director')  # "what else did the director of Alien direct?"
    assert others.answers == ["Blade Runner"]  # the topic film itself is not an answer
    assert others.facts[0].key == passage_key(PassageKind.PERSON, "Ridley Scott")  # cites the person's card
    three = run('lookup film:"Aliens" > actor < actor > director')
    assert three.answers == ["Ridley Scott"]
    co_stars = run('lookup person:"Joaquin Phoenix" < actor > actor')  # the topic is not its own co-star
    assert co_stars.answers == []  # his films list no one else
    writers = run('lookup person:"James Cameron" < director > writer')  # he wrote his own film: not an answer
    assert writers.answers == [] and "James Cameron" not in " ".join(f.text for f in writers.facts)


def test_count_is_computed(run):
    counted = run('count person:"Ridley Scott" < director')
    assert counted.count == 2 and counted.facts[0].text == "The catalog has 2 films directed by Ridley Scott."
    assert counted.answers == ["2"]


def test_superlatives_top_n_and_comparisons(run):
    shortest = run("argmin all > runtime")
    assert shortest.answers == ["Blade Runner (1982)"]
    assert shortest.facts[0].text == "The shortest film is Blade Runner (1982): 116 min."
    assert run("argmax all > runtime").answers == ["The Godfather (1972)"]
    top = run("top all > rating | n=2")
    assert top.answers == ["The Godfather (1972)", "Alien (1979)"]
    crime = run('argmax all > rating | genre="Crime"')
    assert crime.answers == ["The Godfather (1972)"]
    longer = run('argmax film:"Alien", film:"Aliens" > runtime')  # "which is longer, Alien or Aliens?"
    assert longer.answers == ["Aliens (1986)"]
    assert longer.facts[0].text == "Aliens (1986) is longer than Alien (1979): 137 min against 117 min."
    older = run('argmin film:"Alien", film:"Aliens" > year')
    assert older.answers == ["Alien (1979)"] and "is older than" in older.facts[0].text


def test_yes_no_check(run):
    assert run('check film:"Alien" > director = person:"Ridley Scott"').answers == ["yes"]
    no = run('check film:"Aliens" > director = person:"Ridley Scott"')
    assert no.answers == ["no"] and no.facts[0].text.startswith("No. Aliens (1986). Directed by James Cameron")


def test_constraints_filter_the_films(run):
    eighties = run('lookup genre:"Science Fiction" < genre | year=1980..1989')
    assert eighties.answers == ["Blade Runner"]
    assert run('lookup person:"Joaquin Phoenix" < actor | year=2015..').answers == ["Joker"]


def test_what_the_catalog_lacks_is_said_plainly(run):
    absent = run('lookup film:"Top Gun: Maverick" > director')  # regression: got "Tony Scott"
    assert absent.missing == "Top Gun: Maverick is not in the catalog." and absent.answers == []
    assert run('lookup film:"Alien" (1992) > director').missing == "Alien (1992) is not in the catalog."
    no_runtime = run('lookup film:"Her" > runtime')
    assert no_runtime.missing == "The catalog has no runtime for Her (2013)."
    assert run('lookup film:"Alien" > rating').facts[0].text == "Alien (1979). Rating: 8.5/10."
    assert run('lookup film:"Her" > rating').facts[0].text == "Her (2013). Rating: good."
    no_votes = run("argmax all > votes")
    assert no_votes.missing == "The catalog has no vote counts."
