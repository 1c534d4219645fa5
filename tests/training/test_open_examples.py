"""Open-operation training examples: the gold plan's evidence rendered as the pipeline's prompt, the target the
answer written from the data (or, for identify, the gold film when the search showed it)."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from core.config import Settings
from index.catalog import Catalog
from tests.rag.conftest import _movies
from training.open_examples import KIND, OpenDataConfig, OpenRenderer, open_examples


@pytest.fixture(scope="module")
def renderer(mem_index, embedder, tiny_model):
    _, tokenizer = tiny_model
    return OpenRenderer(mem_index, Catalog.from_movies(_movies()), embedder, tokenizer, Settings())


def test_describe_and_recommend_targets_are_the_written_answers(renderer):
    skipped = Counter()
    [describe] = renderer("describe", [{"question": "Tell me about Jaws", "gold": {"title": "Jaws", "year": 1975}}],
                          skipped)
    assert describe["kind"] == KIND and describe["completion"].strip().startswith("Jaws (1975) is a thriller film")
    assert "Directed by Steven Spielberg" in describe["prompt"] and describe["answers"] == ["Jaws (1975)"]
    [recommend] = renderer("recommend", [{"question": "films like Inception", "topic": {"title": "Inception",
                                                                                     "year": 2010}}], skipped)
    assert recommend["completion"].strip().startswith("Films like Inception (2010):\n- The Dark Knight (2008)")
    assert not skipped


def test_identify_targets_the_gold_film_only_when_it_was_shown(renderer):
    skipped = Counter()
    rows = [{"question": "which film has a shark hunted by a police chief?", "gold": {"title": "Jaws", "year": 1975}},
            {"question": "which film has a shark hunted by a police chief?", "gold": {"title": "Vertigo",
                                                                                     "year": 1958}}]
    examples = renderer("identify", rows, skipped)
    assert [e["completion"].strip() for e in examples] == ["Jaws (1975)"]
    assert skipped == Counter({"identify: no usable evidence": 1})


def test_the_held_out_phrasing_group_never_trains(renderer, tmp_path):
    rows = {"describe": [{"question": "Tell me about Jaws", "gold": {"title": "Jaws", "year": 1975}},
                         {"question": "Jaws: the lowdown", "gold": {"title": "Jaws", "year": 1975}, "held_out": True}],
            "recommend": [], "identify": []}
    for capability, items in rows.items():
        (tmp_path / f"{capability}_train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in items))
    examples, _ = open_examples(renderer, OpenDataConfig(questions=str(tmp_path)), "train", 10, progress=False)
    assert [e["question"] for e in examples] == ["Tell me about Jaws"]
