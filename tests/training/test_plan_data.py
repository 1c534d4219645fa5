"""Planner training data: templates and their dev/test group split, generated questions with entity spans and gold
plans, gold answers of the evaluation set, weak labels of 2-hop questions, and the held-out catalog guard."""
from __future__ import annotations

import random
from collections import defaultdict

import pytest

from core.errors import DataError
from core.records import Movie, Question
from rag.plan import Op, parse_plan
from training.plan_bench import TYPE_LABELS, candidate_paths, weak_label
from training.plan_data import PlanDataConfig, catalog_paths
from training.plan_evalset import EVAL_TYPES, NOT_IN_CATALOG, eval_questions, gold_answers
from training.plan_generate import Pools, generate, make_question
from training.plan_kb import MemoryCatalog
from training.plan_render import Slot, choose, render
from training.plan_templates import all_templates, split_groups, template_words


@pytest.fixture(scope="module")
def templates():
    return all_templates()


@pytest.fixture
def films(movies) -> list[Movie]:
    """The hand-written movies with runtimes, ratings and votes (the fixture has none)."""
    for m, (runtime, rating, votes) in zip(movies, [(148, 8.8, 2_400_000), (124, 8.1, 600_000), (93, 7.7, 30_000),
                                                    (170, 8.3, 900_000), (152, 9.0, 2_800_000)]):
        m.runtime_min, m.rating, m.votes = runtime, rating, votes
    movies[1].tags = ["shark"]
    return movies


def test_every_operation_has_labels_with_dev_and_test_groups(templates):
    split = split_groups(templates)
    assert split == split_groups(all_templates())  # seeded: the same split every time
    by_label = defaultdict(set)
    for t in templates:
        by_label[t.label].add(split[t.group])
    assert {parse_plan(label).op for label in by_label} == set(Op)
    assert all(s == {"dev", "test"} for s in by_label.values()), [k for k, s in by_label.items() if len(s) < 2]
    for label in ("lookup > director < director", "lookup < actor > director", "count < director",
                  "argmin all > runtime", "top all > rating", "argmax > runtime", "check > director",
                  "lookup > director < director > actor", "off_topic", "identify", "describe", "recommend"):
        assert label in by_label
    assert sum(1 for s in split.values() if s == "test") >= 0.15 * len(split)


def test_phrasing_choices_and_spans_survive_noise():
    rng = random.Random(3)
    assert choose("who (directed|made) the (film |)x", rng) in {"who directed the film x", "who directed the x",
                                                                   "who made the film x", "who made the x"}
    for _ in range(50):
        out = render("who directed the movie {film} in {year}", {"film": Slot("The Dark Knight", "film"),
                                                                 "year": Slot("2008", "year")}, rng)
        a, b = out.spans["film"]
        assert out.question[a:b].lower() == "the dark knight"
        assert out.question[slice(*out.spans["year"])] == "2008"


def test_generated_questions_carry_label_plan_and_entity_spans(films, templates):
    pools = Pools(films)
    split = split_groups(templates)
    rng = random.Random(0)
    for t in [t for t in templates if split[t.group] == "dev"][::40]:
        item = make_question(t, pools, rng, "dev")
        plan = parse_plan(item["plan"])
        assert item["label"] == t.label and plan.op == parse_plan(t.label).op
        assert [h for h in plan.path] == parse_plan(t.label).path
        for e in item["entities"]:
            assert item["question"][e["start"]:e["end"]] == e["text"]
        if plan.op == Op.CHECK:
            assert plan.expect is not None


def test_generate_keeps_test_phrasings_out_of_dev(films):
    questions, split = generate(Pools(films), per_label=2, test_per_label=1)
    assert {q["split"] for q in questions} == {"dev", "test"}
    assert all(split[q["group"]] == q["split"] for q in questions)
    dev_groups = {q["group"] for q in questions if q["split"] == "dev"}
    assert not dev_groups & {q["group"] for q in questions if q["split"] == "test"}


def test_gold_answers_follow_the_plan_semantics(films):
    catalog = MemoryCatalog(films)
    assert set(gold_answers(parse_plan('lookup person:"Christopher Nolan" < director'), catalog)) == {
        "Inception", "The Dark Knight"}
    assert gold_answers(parse_plan('lookup film:"Inception" > director < director'), catalog) == ["The Dark Knight"]
    assert gold_answers(parse_plan('count person:"Christopher Nolan" < director'), catalog) == ["2"]
    assert gold_answers(parse_plan("argmin all > runtime"), catalog) == ["Scarface"]
    assert gold_answers(parse_plan('argmax film:"Jaws", film:"Inception" > runtime'), catalog) == ["Inception"]
    assert gold_answers(parse_plan("top all > rating | n=2"), catalog) == ["The Dark Knight", "Inception"]
    assert gold_answers(parse_plan('lookup | genre="Crime" year=1980..1989'), catalog) == ["Scarface"]
    assert gold_answers(parse_plan('check film:"Jaws" > director = person:"Steven Spielberg"'), catalog) == ["yes"]
    assert gold_answers(parse_plan('check film:"Jaws" > director = person:"Ridley Scott"'), catalog) == ["no"]
    assert gold_answers(parse_plan('lookup film:"Alien" > director'), catalog) is None  # not in the catalog
    assert gold_answers(parse_plan('lookup film:"Scarface" (1983) > director'), catalog) == ["Brian De Palma"]


def test_eval_questions_have_every_type_with_gold_answers(films, templates):
    split = split_groups(templates)
    rows = eval_questions(Pools(films), templates, split, "test", per_type=2)
    by_type = defaultdict(list)
    for row in rows:
        by_type[row["type"]].append(row)
        assert row["answers"] and split[row["group"]] == "test"
    assert {"lookup", "count", "superlative", "compare", "check", "not_in_catalog"} <= set(by_type)
    assert set(by_type) <= set(EVAL_TYPES)
    assert all(r["answers"] == [NOT_IN_CATALOG] for r in by_type["not_in_catalog"])


def test_weak_label_finds_the_two_hop_path(films):
    catalog = MemoryCatalog(films)
    question = Question("who directed the films starring Heath Ledger", ["Christopher Nolan"], entity="Heath Ledger")
    path = weak_label(question, catalog, candidate_paths())
    assert " ".join(str(h) for h in path) == "< actor > director"
    unanswerable = Question("who directed the films starring Heath Ledger", ["Nobody"], entity="Heath Ledger")
    assert weak_label(unanswerable, catalog, candidate_paths()) is None


def test_type_labels_and_template_words():
    assert TYPE_LABELS["movie_to_director"] == "lookup > director"
    assert TYPE_LABELS["tag_to_movie"] == "lookup < tag"
    words = template_words()
    assert {"directed", "starring", "longest", "how", "many"} <= words
    assert "capital" not in words  # off-topic templates do not make words weak


def test_the_held_out_catalog_is_refused(tmp_path):
    with pytest.raises(DataError, match="held out"):
        catalog_paths(PlanDataConfig(catalogs=["catalogs/imdb_top_1000.csv"], shared_data=str(tmp_path)))
