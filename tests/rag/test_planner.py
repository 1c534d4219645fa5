"""The planner: constraint tagging and masking (rag.plan_tags), and question → plan (rag.planner) with a tiny
planner trained here on questions generated from the hand-written films, asked in phrasings it never saw."""
from __future__ import annotations

import json
import random
from collections import Counter
from types import SimpleNamespace

import pytest

from core.config import Settings
from core.errors import ModelUnavailable
from core.records import Stage
from rag.plan import Op, parse_plan
from rag.plan_tags import Vocabulary, tag
from rag.planner import Planner, build_plan, load_planner
from rag.retrieve import Retriever
from tests.rag.conftest import _movies

VOCAB = Vocabulary.from_counts(Counter({"Horror": 10, "Science Fiction": 5, "Comedy": 3, "Crime": 4}),
                               Counter({"French": 4, "English": 9}))
LABELS = ("lookup > director", "lookup > writer", "lookup > actor", "lookup > year", "lookup < director",
          "lookup < actor", "lookup > director < director", "lookup < actor > director", "count < director",
          "argmin all > year", "top all > rating", "argmax > year", "argmin > year", "check > director", "describe",
          "recommend", "identify", "off_topic")


def constraints(question: str):
    t = tag(question, [], VOCAB)
    return t.constraints, t.n, t.masked


@pytest.mark.parametrize("question, expected", [
    ("the five best horror films of the 1980s", {"year_from": 1980, "year_to": 1989, "genre": "Horror", "n": 5}),
    ("French films between 1990 and 1995", {"year_from": 1990, "year_to": 1995, "language": "French"}),
    ("films longer than 2 hours rated above 7.5", {"min_runtime": 121, "min_rating": 7.5}),
    ("comedies under 90 minutes", {"max_runtime": 89, "genre": "Comedy"}),
    ("crime movies that run 100 minutes or less", {"max_runtime": 100, "genre": "Crime"}),
    ("top 10 sci-fi movies since 2010", {"year_from": 2010, "genre": "Science Fiction", "n": 10}),
    ("films released before 1980", {"year_to": 1979}),
    ("movies from after the 80s", {"year_from": 1990}),
    ("films from 2000 or later", {"year_from": 2000}),
    ("horror in the late 70s", {"year_from": 1976, "year_to": 1979, "genre": "Horror"}),
    ("what came out in the nineties", {"year_from": 1990, "year_to": 1999}),
    ("the seven lengthiest films of the '60s", {"year_from": 1960, "year_to": 1969, "n": 7}),
])
def test_constraints_from_general_patterns(question, expected):
    c, n, _ = constraints(question)
    got = {k: v for k, v in vars(c).items() if v is not None} | ({"n": n} if n else {})
    assert got == expected


def test_masking_replaces_values_with_placeholders():
    _, _, masked = constraints("the five best horror films of the 1980s rated above 7.5")
    assert masked == "the [NUM] best [GENRE] films of [DECADE] rated above [NUM]"
    _, _, masked = constraints("Who directed Oppenheimer?")
    assert masked == "who directed [NAME]"


def test_template_words_never_link_in_lower_case():
    link = SimpleNamespace(start=1, end=2, stage=Stage.TITLE_LINK, rows=[0])
    assert tag("who made titanic", [link], VOCAB, frozenset({"who", "made"})).masked == "who made titanic"
    assert tag("who directed Made", [SimpleNamespace(start=2, end=3, stage=Stage.TITLE_LINK, rows=[0])], VOCAB,
               frozenset({"who", "made"})).masked == "who directed [FILM]"


@pytest.fixture(scope="module")
def retriever(mem_index, embedder):
    return Retriever(mem_index, embedder, Settings().with_overrides(progress=False))


def test_links_names_and_years(retriever):
    vocab = Vocabulary.from_passages(retriever.index.passages)
    t = tag("Who directed Scarface (1983)?", retriever.link("Who directed Scarface (1983)?"), vocab)
    assert t.masked == "who directed [FILM] [YEAR]" and t.spans[0].year == 1983 and not t.constraints
    t = tag("Who directed Jaws 2?", retriever.link("Who directed Jaws 2?"), vocab)
    assert t.masked == "who directed [NAME]" and t.spans[0].value == "Jaws 2"  # a sequel the catalog lacks
    t = tag("Which Crime films came out after 1980?", retriever.link("Which Crime films came out after 1980?"), vocab)
    assert (t.constraints.genre, t.constraints.year_from) == ("Crime", 1981)


def test_titles_the_catalog_lacks_stay_whole(retriever):
    vocab = Vocabulary.from_passages(retriever.index.passages)
    ask = "Who wrote Inception of the Jaws?"  # two catalog titles inside one it lacks
    t = tag(ask, retriever.link(ask), vocab)
    assert t.masked == "who wrote [NAME]" and t.spans[0].value == "Inception of the Jaws"
    ask = "Which is older, Jaws or Inception?"
    assert tag(ask, retriever.link(ask), vocab).masked == "which is older [FILM] or [FILM]"
    t = tag("who directed the silent harbor", [], vocab, frozenset({"who", "directed", "the"}))
    plan = build_plan("lookup > director", t, retriever.index.passages, 0.9)
    assert str(plan) == 'lookup film:"the silent harbor" > director'  # lower case, unlinked: the leftover words


@pytest.fixture(scope="module")
def tiny_planner(retriever, embedder):
    """A planner trained on generated questions of the dev template groups only, with the real MiniLM."""
    from training.plan_generate import Pools, make_question
    from training.plan_templates import all_templates, split_groups
    from training.plan_train import PlannerTrainConfig, fit

    templates = all_templates()
    split = split_groups(templates)
    pools, rng = Pools(_movies()), random.Random(0)
    rows = []
    for label in LABELS:
        dev = [t for t in templates if t.label == label and split[t.group] == "dev"]
        rows += [make_question(rng.choice(dev), pools, rng, "dev") for _ in range(30)]
    common = frozenset(w for t in templates for w in t.text.lower().split() if w.isalpha())
    vocab = Vocabulary.from_passages(retriever.index.passages)
    masked = [tag(r["question"], retriever.link(r["question"]), vocab, common).masked for r in rows]
    x = embedder.encode(masked, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    labels, coef, intercept, bow = fit(x, masked, [r["label"] for r in rows], PlannerTrainConfig(bow_dim=4096))
    return Planner(labels, coef, intercept, embedder, threshold=0.3, common=common, bow=bow)


@pytest.mark.parametrize("question, plan", [  # phrasings written here, not by the templates
    ("Jaws: who was its director?", 'lookup film:"Jaws" (1975) > director'),
    ("In which year did The Dark Knight hit cinemas?", 'lookup film:"The Dark Knight" (2008) > year'),
    ("Name every film that Christopher Nolan has directed", 'lookup person:"Christopher Nolan" < director'),
    ("Other films from whoever directed Inception?", 'lookup film:"Inception" (2010) > director < director'),
    ("How many pictures has Christopher Nolan directed so far?", 'count person:"Christopher Nolan" < director'),
    ("Out of Jaws and Inception, which one came out first?",
     'argmin film:"Jaws" (1975), film:"Inception" (2010) > year'),
    ("Was Jaws directed by Steven Spielberg or not?",
     'check film:"Jaws" (1975) > director = person:"Steven Spielberg"'),
    ("Who made the films Heath Ledger acted in?", 'lookup person:"Heath Ledger" < actor > director'),
])
def test_unseen_phrasings_become_the_right_plan(tiny_planner, retriever, question, plan):
    got = tiny_planner.plan(question, retriever)
    assert str(got) == plan
    assert 0.0 < got.confidence <= 1.0


def test_plans_for_a_batch_and_their_slots(tiny_planner, retriever):
    plans = tiny_planner.plan_batch(["Which is the oldest film?", "What is the capital of Peru?",
                                     "Who directed Scarface (1983)?", "Who directed Jaws 2?"], retriever)
    assert str(plans[0]) == "argmin all > year"
    assert plans[1].op == Op.OFF_TOPIC and not plans[1].exact
    assert str(plans[2]) == 'lookup film:"Scarface" (1983) > director'
    assert str(plans[3]) == 'lookup film:"Jaws 2" > director'  # the executor says it is not in the catalog


def test_a_plan_whose_slots_are_missing_cannot_run(tiny_planner, retriever):
    t = tag("who directed the films starring him?", [], Vocabulary.from_passages(retriever.index.passages))
    plan = build_plan("lookup < actor > director", t, retriever.index.passages, 0.9)
    assert plan.confidence == 0.0 and not tiny_planner.accepts(plan)
    top = build_plan("top all > rating", tag("the best films", [], VOCAB), retriever.index.passages, 0.9)
    assert top.n == 5 and tiny_planner.accepts(top)
    check = build_plan("check > year", tag("was Jaws (1975) from 1975?", [], VOCAB), [], 0.9)
    assert check.expect is not None and check.expect.name == "1975" and not check.constraints


def test_save_and_load_without_pickle(tiny_planner, retriever, embedder, tmp_path):
    tiny_planner.save(tmp_path, {"note": "test"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.json", "planner.safetensors"]
    meta = json.loads((tmp_path / "labels.json").read_text())
    assert meta["labels"] == tiny_planner.labels and meta["threshold"] == 0.3 and meta["note"] == "test"
    loaded = load_planner(Settings().with_overrides(planner=str(tmp_path), plan_threshold=0.6), embedder)
    assert loaded.threshold == 0.6 and loaded.common == tiny_planner.common
    question = "Who wrote The Dark Knight?"
    assert str(loaded.plan(question, retriever)) == str(tiny_planner.plan(question, retriever))
    assert parse_plan(str(loaded.plan(question, retriever))).op == Op.LOOKUP
    with pytest.raises(ModelUnavailable, match="no planner"):
        Planner.from_folder(tmp_path / "missing", embedder)
