"""Answer and retrieval metrics on hand-made cases: multi-answer gold, case, accents, "The"-prefixed titles."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from core.records import Passage, Question
from evaluation.metrics import (
    any_hit,
    exact_match,
    hits_at_1,
    mrr,
    normalize_answer,
    paired_bootstrap,
    recall_at_k,
    retrieval_rank,
    token_f1,
)


def test_normalize_answer():
    assert normalize_answer("The Dark Knight") == "dark knight"
    assert normalize_answer("  GRÉGOIRE   Colin!") == "gregoire colin"
    assert normalize_answer("Schindler's List.") == "schindlers list"
    assert normalize_answer("Spider-Man: Homecoming") == "spider man homecoming"
    assert normalize_answer("Amélie") == normalize_answer("amelie")


def test_hits_at_1_multi_answer_case_accents_and_articles():
    gold = ["Inspector Gadget", "Black Christmas", "Amélie"]
    assert hits_at_1(["black christmas", "Jaws"], gold) == 1.0  # any gold, case-insensitive
    assert hits_at_1(["Jaws", "Black Christmas"], gold) == 0.0  # only the first item counts
    assert hits_at_1(["Amelie"], gold) == 1.0  # accents
    assert hits_at_1(["Dark Knight"], ["The Dark Knight"]) == 1.0  # "The"-prefixed title
    assert hits_at_1([], gold) == 0.0
    # a gold title that contains the ", " separator is still a hit when the answer starts with it
    assert hits_at_1(["Silent Night", "Deadly Night"], ["Silent Night, Deadly Night"],
                     "Silent Night, Deadly Night") == 1.0
    assert hits_at_1(["Jaws 2"], ["Jaws"], "Jaws 2") == 0.0
    assert hits_at_1(["The Big Combo (1955)."], ["The Big Combo"]) == 1.0  # a trailing year names the same movie
    assert hits_at_1(["1955"], ["1955"]) == 1.0 and hits_at_1(["(1955)"], ["1955"]) == 1.0


def test_any_hit_needs_whole_words():
    assert any_hit("It was directed by Steven Spielberg in 1975.", ["steven spielberg"]) == 1.0
    assert any_hit("Upside Down", ["Up"]) == 0.0
    assert any_hit("I'd say the film is Up.", ["Up"]) == 1.0
    assert any_hit("the answer is", ["The"]) == 0.0  # a gold that normalises to nothing never hits


def test_exact_match_and_token_f1():
    assert exact_match("the dark knight", ["The Dark Knight"]) == 1.0
    assert exact_match("Dark Knight Rises", ["The Dark Knight"]) == 0.0
    assert exact_match("Jaws, Jaws 2", ["Jaws", "Jaws 2"]) == 1.0  # the whole gold list is a reference too
    assert token_f1("Spielberg", ["Steven Spielberg"]) == pytest.approx(2 / 3)
    assert token_f1("Christopher Nolan", ["Steven Spielberg", "Christopher Nolan"]) == 1.0  # max over gold
    assert token_f1("", ["Jaws"]) == 0.0
    assert token_f1("nothing in common", ["Jaws"]) == 0.0


def _source(title, text, kind="card"):
    return SimpleNamespace(title=title, year=None, kind=kind, text=text, score=1.0, stage="dense")


def test_retrieval_rank_movie_to_x_uses_the_entity():
    q = Question("who directed The Dark Knight?", ["Christopher Nolan"], "movie_to_director", "The Dark Knight")
    sources = [_source("Inception", "Inception (2010). Directed by Christopher Nolan."),
               _source("Dark Knight", "The Dark Knight (2008). Batman faces the Joker.", kind="plot")]
    assert retrieval_rank(sources, q) == 2  # a passage of the gold movie, even without the answer text
    assert retrieval_rank(sources[:1], q) is None  # the answer alone, in another movie's passage, is not evidence
    person = _source("Christopher Nolan", "Christopher Nolan directed The Dark Knight and Inception.", kind="person")
    assert retrieval_rank([sources[0], person], q) == 2  # answer and entity together


def test_retrieval_rank_x_to_movie_uses_the_answers_and_hits():
    q = Question("what films did Grégoire Colin star in?", ["Before the Rain", "Beau Travail"], "actor_to_movie",
                 "Grégoire Colin")
    hit = SimpleNamespace(passage=Passage(key="card:beau travail", kind="card", title="Beau travail",
                                          text="Beau Travail (1999)."), score=0.5, stage="hybrid")
    other = SimpleNamespace(passage=Passage(key="card:jaws", kind="card", title="Jaws", text="Jaws (1975)."),
                            score=0.9, stage="dense")
    assert retrieval_rank([other, hit], q) == 2
    assert retrieval_rank([], q) is None
    untyped = Question("q", ["Peter Benchley"])
    assert retrieval_rank([_source("Jaws", "Written by Peter Benchley.")], untyped) == 1  # contains a gold answer


def test_recall_and_mrr():
    ranks = [1, 3, None, 2]
    assert recall_at_k(ranks, 1) == 0.25 and recall_at_k(ranks, 3) == 0.75
    assert mrr(ranks) == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)


def test_paired_bootstrap():
    a, b = [1.0] * 30 + [0.0] * 10, [0.0] * 30 + [0.0] * 10
    result = paired_bootstrap(a, b, n=1000, seed=1)
    assert result["delta"] == pytest.approx(0.75) and result["n"] == 40 and result["resamples"] == 1000
    assert 0.55 < result["ci_low"] < 0.75 < result["ci_high"] < 0.9 and result["p_value"] < 0.01
    assert result == paired_bootstrap(a, b, n=1000, seed=1)
    same = paired_bootstrap([0.3, 0.6], [0.3, 0.6])
    assert same["delta"] == same["ci_low"] == same["ci_high"] == 0.0
    with pytest.raises(ValueError, match="equal lengths"):
        paired_bootstrap([1.0], [1.0, 0.0])


def test_person_and_tag_cards_are_not_movie_passages_by_title():
    q = Question("what year was Jaws released?", ["1975"], "movie_to_year", "Jaws")
    tag = _source("jaws", "Films tagged 'jaws': Jaws 2 (1978).", kind="tag")
    assert retrieval_rank([tag], q) is None
    assert retrieval_rank([tag, _source("Jaws", "Jaws (1975).", kind="plot")], q) == 2
