"""evaluation.capability_scores on hand-made Answers: identify, describe, recommend and abstain scorers."""
from __future__ import annotations

import numpy as np
import pytest

from core.records import Movie, Passage, PassageKind, Stage
from evaluation import capability_scores as S
from index.catalog import Catalog
from rag.answer import Answer, Source

INCEPTION = {"title": "Inception", "year": 2010, "id": "inception (2010)"}
SCARFACE = [{"title": "Scarface", "year": 1983, "id": "scarface (1983)"},
            {"title": "Scarface", "year": 1932, "id": "scarface (1932)"}]
LOCAL = (S.claims, S.unsupported_claims, "local")


def src(title, year, kind, text, key, used=True) -> Source:
    return Source(title, year, PassageKind(kind), text, 1.0, Stage.HYBRID, key=key, used=used)


def answer(text: str, items: list[str] | None = None, sources=(), abstained: bool = False) -> Answer:
    return Answer("q", "rag", text, list(items or []), list(sources), abstained)


CARD = src("Inception", 2010, "card", "Inception (2010). Directed by Christopher Nolan. Genre: Action.",
           "card:inception (2010)")
PLOT = src("Inception", 2010, "plot", "Inception (2010): A thief who steals secrets through shared dreams.",
           "plot:inception (2010):0")
OTHER = src("Jaws", 1975, "plot", "Jaws (1975): A shark terrorises a beach town.", "plot:jaws (1975):0")


def test_identify_first_title_year_and_rank():
    rec = {"gold": INCEPTION, "accept": [INCEPTION]}
    right = S.score_identify(rec, answer("Inception (2010)", ["Inception (2010)"], [OTHER, CARD, PLOT]))
    assert right == {"first_title_right": 1.0, "any_item_right": 1.0, "title_in_text": 1.0, "plot_rank": 3}
    wrong_year = S.score_identify(rec, answer("Inception (2011)", ["Inception (2011)"], [PLOT]))
    assert wrong_year["first_title_right"] == 0.0 and wrong_year["plot_rank"] == 1
    second = S.score_identify(rec, answer("Jaws, Inception", ["Jaws", "inception"], [OTHER]))
    assert second["first_title_right"] == 0.0 and second["any_item_right"] == 1.0 and second["plot_rank"] is None
    abstained = S.score_identify(rec, answer("The movie catalog does not cover this question.", abstained=True))
    assert abstained["first_title_right"] == 0.0 and abstained["title_in_text"] == 0.0


def test_identify_accepts_a_twin_only_without_a_contradicting_year():
    rec = {"gold": SCARFACE[0], "accept": SCARFACE}
    assert S.score_identify(rec, answer("Scarface", ["Scarface"]))["first_title_right"] == 1.0
    assert S.score_identify(rec, answer("Scarface (1932)", ["Scarface (1932)"]))["first_title_right"] == 1.0
    assert S.score_identify(rec, answer("Scarface (1999)", ["Scarface (1999)"]))["first_title_right"] == 0.0
    only_gold = {"gold": SCARFACE[0], "accept": SCARFACE[:1]}
    assert S.score_identify(only_gold, answer("Scarface (1932)", ["Scarface (1932)"]))["first_title_right"] == 0.0


def test_source_film_reads_keys_with_colons():
    assert S.plot_rank([src("X: Y", 2001, "plot", "t", "plot:x: y (2001):3")],
                       [{"title": "X: Y", "year": 2001, "id": "x: y (2001)"}]) == 1


@pytest.mark.parametrize("checker", [LOCAL, None])  # the local fallback and rag.support (when present)
def test_describe_support_beyond_card_and_length(checker):
    rec = {"gold": INCEPTION, "card": {"year": 2010, "directors": ["Christopher Nolan"], "genres": ["Action"],
                                       "cast": ["Leonardo DiCaprio"]}}
    card_only = answer("Inception is a 2010 Action film directed by Christopher Nolan.", sources=[CARD, PLOT])
    scores = S.score_describe(rec, card_only, checker)
    assert scores["beyond_card"] == 0.0 and scores["sentences"] == 1 and scores["unsupported"] == 0
    assert scores["support_share"] == 1.0 and scores["supported_answer"] == 1.0 and scores["cites_film"] == 1.0
    plot = answer("Inception is a 2010 film by Christopher Nolan. A thief steals secrets through shared dreams, "
                  "helped by Michael Caine in 2012.", sources=[CARD, PLOT])
    scores = S.score_describe(rec, plot, checker)
    assert scores["beyond_card"] == 1.0 and scores["sentences"] == 2 and scores["mentions_title"] == 1.0
    assert set(scores["unsupported_claims"]) == {"Michael Caine", "2012"}
    assert scores["support_share"] == pytest.approx(1 - 2 / scores["claims"])
    unused = answer("Inception is by Christopher Nolan.", sources=[src("Inception", 2010, "card", CARD.text,
                                                                       CARD.key, used=False)])
    assert S.score_describe(rec, unused, checker)["unsupported"] == 2  # only passages in the prompt count
    nothing = S.score_describe(rec, answer("The movie catalog does not cover this question.", abstained=True), checker)
    assert nothing["support_share"] is None and nothing["sentences"] == 0 and nothing["beyond_card"] == 0.0
    slipped = S.score_describe(rec, answer("A movie catalog does not cover this question."), checker)
    assert slipped["beyond_card"] == 0.0 and slipped["sentences"] == 0  # an abstention the flag missed
    echo = S.score_describe(rec | {"question": "before i see Inception, what is it like"},
                            answer("Before i see Inception, what is it like?"), checker)
    assert echo["beyond_card"] == 0.0 and echo["sentences"] == 1


def test_local_claims_skip_sentence_openers():
    assert S.claims("The film stars Al Pacino. In 1983 it was remade by Brian De Palma.") == \
        ["1983", "Al Pacino", "Brian De Palma"]


def _catalog() -> Catalog:
    return Catalog.from_movies([
        Movie("Alien", 1979, directors=["Ridley Scott"], cast=["Sigourney Weaver"], genres=["Horror", "Sci-Fi"],
              tags=["space"]),
        Movie("Aliens", 1986, directors=["James Cameron"], cast=["Sigourney Weaver"], genres=["Action"]),
        Movie("The Thing", 1982, directors=["John Carpenter"], genres=["Horror"], tags=["alien"]),
        Movie("Blade Runner", 1982, directors=["Ridley Scott"], genres=["Drama"]),
        Movie("Notting Hill", 1999, directors=["Roger Michell"], genres=["Romance"]),
        Movie("Moon", 2009, directors=["Duncan Jones"], genres=["Science Fiction"]),
    ])


def test_recommend_valid_related_constraints():
    scorer = S.RecommendScorer(_catalog(), lambda film: {"moon (2009)"} if film == "alien (1979)" else set())
    rec = {"topic": {"title": "Alien", "year": 1979, "id": "alien (1979)"},
           "constraints": {"year_from": 1980, "year_to": None, "genre": None}}
    got = scorer(rec, answer("", ["Aliens", "The Thing (1982)", "Alien", "Notting Hill", "Moon", "Made Up Film"]))
    assert got["items"] == 6 and got["valid_share"] == pytest.approx(4 / 6) and got["all_valid"] == 0.0
    # Aliens: actor; The Thing: genre; Notting Hill: nothing; Moon: neighbour and Sci-Fi = Science Fiction
    assert got["related_share"] == pytest.approx(3 / 6) and got["related_strict_share"] == pytest.approx(2 / 6)
    assert got["shares_person"] == pytest.approx(1 / 6) and got["shares_genre"] == pytest.approx(2 / 6)
    assert got["constraint_share"] == pytest.approx(4 / 6)  # the topic and the made-up film meet nothing
    genre = scorer(rec | {"constraints": {"year_from": None, "year_to": None, "genre": "Horror"}},
                   answer("", ["The Thing", "Blade Runner"]))
    assert genre["constraint_share"] == 0.5 and genre["all_valid"] == 1.0
    free = scorer(rec | {"constraints": {"year_from": None, "year_to": None, "genre": None}}, answer("", ["Moon"]))
    assert free["constraint_share"] is None
    empty = scorer(rec, answer("The movie catalog does not cover this question.", abstained=True))
    assert empty["items"] == 0 and empty["valid_share"] is None and empty["all_valid"] == 0.0


def test_distinct_lists_catches_one_list_for_every_topic():
    scorer = S.RecommendScorer(_catalog())
    topics = ["alien (1979)", "the thing (1982)", "moon (2009)"]
    same = [scorer({"topic": {"id": t}}, answer("", ["Notting Hill", "Blade Runner"])) for t in topics]
    assert S.distinct_lists(same, topics) == pytest.approx(1 / 3)
    own = [scorer({"topic": {"id": t}}, answer("", [title])) for t, title in zip(topics, ["Aliens", "Alien", "Moon"])]
    assert S.distinct_lists(own, topics) == 1.0


def test_plot_neighbours_from_plot_vectors():
    passages = [Passage(f"plot:{m}:0", "plot", m, "t", movie_id=m) for m in ("a", "b", "c", "d")]
    passages.insert(1, Passage("card:a", "card", "a", "t", movie_id="a"))  # cards are not plot neighbours
    vectors = np.array([[1, 0], [1, 0], [0.9, 0.1], [0, 1], [0.6, 0.8]], dtype=np.float32)
    near = S.PlotNeighbours(passages, vectors, n=2)
    assert near("a") == {"b", "d"} and near("zzz") == set()


def test_abstain_declines():
    absent = {"expect_abstain": True}
    control = {"expect_abstain": False}
    assert S.score_abstain(absent, answer("x", abstained=True)) == {"declined": 1.0, "correct": 1.0}
    assert S.score_abstain(absent, answer("Top Gun: Maverick is not in the catalog."))["correct"] == 1.0
    assert S.score_abstain(absent, answer("The catalog has no composer credits."))["correct"] == 1.0
    assert S.score_abstain(absent, answer("Tony Scott"))["correct"] == 0.0
    assert S.score_abstain(control, answer("Ridley Scott")) == {"declined": 0.0, "correct": 1.0}
    assert S.score_abstain(control, answer("x", abstained=True))["correct"] == 0.0
