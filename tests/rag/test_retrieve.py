from __future__ import annotations

import pytest

from core.config import Settings
from rag.retrieve import Retriever, normalize


@pytest.fixture(scope="module")
def retriever(mem_index, embedder):
    return Retriever(mem_index, embedder, Settings().with_overrides(progress=False))


def keys(retrieval, n=None):
    return [h.passage.key for h in retrieval.hits[:n]]


def test_normalize_folds_case_accents_and_punctuation():
    assert normalize("  Les Misérables!  ") == "les miserables"
    assert normalize("Fast & Furious") == "fast and furious"


def test_title_link_exact_and_case_insensitive(retriever):
    r = retriever.search("who directed INCEPTION?")
    assert r.linked
    assert r.hits[0].passage.key == "card:inception (2010)"
    assert r.hits[0].stage == "title-link" and r.hits[0].score == 1.0


@pytest.mark.parametrize("question, first, other", [
    ("Who directed Scarface 1983?", "card:scarface (1983)", "card:scarface (1932)"),
    ("Who directed the 1932 Scarface?", "card:scarface (1932)", "card:scarface (1983)"),
])
def test_remakes_are_disambiguated_by_year(retriever, question, first, other):
    r = retriever.search(question)
    assert r.hits[0].passage.key == first and r.hits[0].stage == "title-link"
    assert all(h.stage != "title-link" for h in r.hits if h.passage.key == other)


def test_remakes_without_year_link_every_version(retriever):
    r = retriever.search("Who directed Scarface?")
    linked = {h.passage.key for h in r.hits if h.stage == "title-link"}
    assert linked == {"card:scarface (1932)", "card:scarface (1983)"}


def test_fuzzy_title_link_survives_a_typo(retriever):
    r = retriever.search("Who directed Incepton?")
    assert r.hits[0].passage.key == "card:inception (2010)"
    assert r.hits[0].stage == "title-link" and 0.9 <= r.hits[0].score < 1.0


def test_person_link(retriever):
    r = retriever.search("Which films did christopher nolan direct?")
    assert r.hits[0].passage.key == "person:christopher nolan:0" and r.hits[0].stage == "person-link"


def test_tag_link_only_in_topical_questions(retriever):
    r = retriever.search("what films are about shark?")
    assert r.hits[0].passage.key == "tag:shark:0" and r.hits[0].stage == "tag-link"
    assert not retriever.search("a shark hunts swimmers").linked


def test_one_letter_title_needs_the_exact_name(retriever):
    assert retriever.search("Who directed M?").hits[0].passage.key == "card:m (1931)"
    r = retriever.search("I'm looking for a film, m")
    assert not any(h.stage == "title-link" for h in r.hits)


def test_unrelated_question_has_weak_dense_score_and_no_link(retriever):
    r = retriever.search("How do I bake sourdough bread at home?")
    assert not r.linked
    assert r.best_dense < Settings().answer.abstain_threshold


def test_rrf_order_and_stages(retriever, mem_index):
    """Fusion follows sum 1/(rrf_k + rank): found by both beats found by one; ties keep dense order."""
    rows = {p.key: i for i, p in enumerate(mem_index.passages)}
    a, b, c, d = (rows[k] for k in ("card:jaws (1975)", "plot:jaws (1975):0", "card:inception (2010)",
                                    "plot:inception (2010):0"))
    dense = [(a, 0.9), (b, 0.8), (c, 0.7)]
    sparse = [c, d, a]
    r = retriever._combine("zzz qqq", dense, sparse, k=4, years=None, genres=None)
    rrf = lambda *ranks: sum(1 / (60 + x) for x in ranks)
    expected = sorted({a: rrf(1, 3), b: rrf(2), c: rrf(3, 1), d: rrf(2)}.items(), key=lambda kv: -kv[1])
    assert [rows_key for rows_key in keys(r)] == [mem_index.passages[i].key for i, _ in expected]
    stages = {h.passage.key: h.stage for h in r.hits}
    assert stages["card:jaws (1975)"] == "hybrid" and stages["plot:jaws (1975):0"] == "dense"
    assert stages["plot:inception (2010):0"] == "bm25"
    assert r.hits[0].score == pytest.approx(expected[0][1])


def test_year_and_genre_filters(retriever):
    r = retriever.search("crime films", years=(1970, 1990))
    assert r.hits and all(h.passage.year and 1970 <= h.passage.year <= 1990 for h in r.hits)
    r = retriever.search("films", genres=["crime"])
    assert r.hits and all("crime" in [g.lower() for g in h.passage.genres] for h in r.hits)


def test_k_and_batch_match_single(retriever):
    questions = ["Who directed Jaws?", "Who wrote Inception?"]
    batch = retriever.search_batch(questions, k=3)
    assert [keys(r) for r in batch] == [keys(retriever.search(q, k=3)) for q in questions]
    assert all(len(r.hits) == 3 for r in batch)


def test_lazy_dense_skips_dense_search_only_when_a_name_links(mem_index, embedder):
    import math

    lazy = Retriever(mem_index, embedder, Settings().with_overrides(lazy_dense=True))
    r = lazy.search("Who directed Jaws?")
    assert math.isnan(r.best_dense) and r.linked
    assert {h.stage for h in r.hits} <= {"title-link", "bm25"}
    assert not math.isnan(lazy.search("a shark hunts swimmers").best_dense)
    full = Retriever(mem_index, embedder, Settings().with_overrides(lazy_dense=False)).search("Who directed Jaws?")
    assert full.best_dense > 0.3 and full.hits[0].passage.key == r.hits[0].passage.key


def test_second_hop_pins_the_cards_a_linked_card_names(mem_index, embedder):
    one = Retriever(mem_index, embedder, Settings().with_overrides(progress=False))
    two = Retriever(mem_index, embedder, Settings().with_overrides(progress=False, hops=2, hop_cards=3))
    question = "who directed the films starring Al Pacino?"
    assert "hop-link" not in {h.stage for h in one.search(question, k=5).hits}
    hits = two.search(question, k=5).hits
    assert (hits[0].passage.kind, hits[0].passage.title) == ("person", "Al Pacino")
    assert (hits[1].stage, hits[1].passage.kind, hits[1].passage.title, hits[1].passage.year) == \
        ("hop-link", "card", "Scarface", 1983)  # the remake his card names, not the 1932 film
    # film → people: Inception's card names Christopher Nolan first, then its cast
    hops = [h for h in two.search("which films share a director with Inception?", k=5).hits if h.stage == "hop-link"]
    assert [h.passage.title for h in hops][:1] == ["Christopher Nolan"] and len(hops) <= 3
    assert all(h.passage.kind == "person" for h in hops)
    # no link, no hop: the fused hits are returned as they are
    unlinked = "a story about dreams inside dreams"
    assert [h.passage.key for h in two.search(unlinked).hits] == [h.passage.key for h in one.search(unlinked).hits]
