"""Describe, recommend and identify on the tiny catalog: the films chosen, the evidence, and the written answer."""
from __future__ import annotations

import pytest

from core.config import Settings
from core.records import Passage, PassageKind
from index.catalog import Catalog
from rag.describe import Describer, cited_chunks, plot_opening
from rag.films import FilmPassages
from rag.identify import Identifier
from rag.plan import parse_plan
from rag.recommend import Recommender, relative_constraints
from tests.rag.conftest import _movies


@pytest.fixture(scope="module")
def films(mem_index):
    return FilmPassages(mem_index)


@pytest.fixture(scope="module")
def catalog():
    return Catalog.from_movies(_movies())


def test_describe_says_what_the_film_is_and_what_happens(catalog, films):
    run = Describer(catalog, films)(parse_plan('describe film:"Jaws"'))
    assert run.answers == ["Jaws (1975)"] and not run.missing
    assert run.answer == ("Jaws (1975) is a thriller film directed by Steven Spielberg, starring Roy Scheider, "
                          "Robert Shaw and Richard Dreyfuss. A police chief, a marine biologist and a fisherman "
                          "hunt a great white shark.")
    assert [f.key for f in run.facts] == ["card:jaws (1975)", "plot:jaws (1975):0"]


def test_describe_names_the_other_films_of_the_title_and_what_is_absent(catalog, films):
    run = Describer(catalog, films)(parse_plan('describe film:"Scarface"'))
    assert run.answers == ["Scarface (1983)"]  # no votes anywhere: the newer one
    assert run.answer.endswith("(Also in the catalog: Scarface (1932).)")
    missing = Describer(catalog, films)(parse_plan('describe film:"Top Gun: Maverick"'))
    assert missing.missing == "Top Gun: Maverick is not in the catalog." and not missing.facts


def test_plot_opening_keeps_whole_sentences():
    plot = "First sentence here. Second one follows. A third would be too many."
    assert plot_opening(plot) == "First sentence here. Second one follows."
    assert plot_opening("word " * 200, words=10).endswith("…")
    assert plot_opening("a lower-cased overview. Then more.") == "A lower-cased overview. Then more."


def test_the_evidence_cites_every_plot_chunk_the_opening_uses():
    def chunk(i: int, text: str) -> Passage:
        return Passage(key=f"plot:x:{i}", kind=PassageKind.PLOT, text=f"Blade: Runner (1998): {text}",
                       title="Blade: Runner", year=1998)

    overview, synopsis = "A hunter slays vampires.", "The Daywalker protects humanity. He fights an army."
    chunks = [chunk(0, overview), chunk(1, synopsis), chunk(2, "Later events.")]
    assert cited_chunks(chunks, plot_opening(f"{overview}\n\n{synopsis}")) == chunks[:2]  # paragraphs: two chunks
    assert cited_chunks(chunks, plot_opening(overview)) == chunks[:1]
    assert cited_chunks([], "Anything.") == []


def test_recommend_ranks_shared_people_and_never_the_film_itself(catalog, films):
    run = Recommender(catalog, films)(parse_plan('recommend film:"Inception"'), "films like Inception")
    assert run.answers[0] == "The Dark Knight (2008)" and "Inception (2010)" not in run.answers
    assert "also directed by Christopher Nolan" in run.facts[1].text
    assert run.answer.startswith("Films like Inception (2010):\n- The Dark Knight (2008): also directed by")


def test_recommend_leaves_out_remakes_and_applies_comparatives(catalog, films):
    run = Recommender(catalog, films)(parse_plan('recommend film:"Scarface" (1983)'), "films like Scarface")
    assert not any(a.startswith("Scarface") for a in run.answers)
    plan = parse_plan('recommend film:"The Dark Knight"')
    assert relative_constraints(plan.constraints, "something like it but older", 2008).year_to == 2007
    older = Recommender(catalog, films)(plan, "something like The Dark Knight but older")
    assert older.answers and all(int(a[-5:-1]) < 2008 for a in older.answers)


def test_recommend_without_a_film_takes_the_constraints(catalog, films):
    run = Recommender(catalog, films)(parse_plan("recommend | genre=Crime"), "recommend a crime film")
    assert set(run.answers) <= {"Scarface (1932)", "Scarface (1983)", "The Dark Knight (2008)"} and run.answers
    none = Recommender(catalog, films)(parse_plan("recommend all"), "recommend something")
    assert none.missing and not none.answers


def test_identify_finds_the_film_from_its_plot(mem_index, embedder, films):
    identify = Identifier(mem_index, embedder, films, Settings())
    thief, nothing = identify(["what's the movie where a thief plants an idea in someone's dream?",
                               "what is the boiling point of water at sea level in kelvin"])
    assert thief.answers[0] == "Inception (2010)" and thief.facts[0].key == "plot:inception (2010):0"
    assert thief.answer.startswith("Inception (2010)")
    assert nothing.missing == "No film in the catalog matches that description." and not nothing.answers
