"""training.plan_examples: fact-line examples rendered as the pipeline prompts them, targets per operation."""
from __future__ import annotations

import json

import pytest

from core.config import Settings
from core.errors import DataError
from index.catalog import Catalog
from training.plan_examples import plan_examples, read_plan_questions
from training.qa_pairs import TestGuard

ROWS = [
    {"question": "who directed jaws", "plan": 'lookup film:"Jaws" > director', "group": "g.lookup"},
    {"question": "how many nolan films", "plan": 'count person:"Christopher Nolan" < director', "group": "g.count"},
    {"question": "which is older, scarface 1932 or inception",
     "plan": 'argmin film:"Scarface" (1932), film:"Inception" > year', "group": "g.compare"},
    {"question": "is jaws a horror film", "plan": 'check film:"Jaws" > genre = genre:"Horror"', "group": "g.check"},
    {"question": "who directed top gun maverick", "plan": 'lookup film:"Top Gun: Maverick" > director',
     "group": "g.missing"},
    {"question": "tell me about jaws", "plan": 'describe film:"Jaws"', "group": "g.describe"},
]


@pytest.fixture
def tokenizer(tiny_gpt2_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_gpt2_dir)


def test_targets_follow_the_operation(movies, tokenizer):
    examples, skipped = plan_examples(ROWS, Catalog.from_movies(movies), tokenizer, Settings(), None, 0)
    by_question = {ex["question"]: ex for ex in examples}
    assert by_question["who directed jaws"]["completion"].strip() == "Steven Spielberg"
    assert by_question["how many nolan films"]["completion"].strip() == \
        "The catalog has 2 films directed by Christopher Nolan."
    assert by_question["which is older, scarface 1932 or inception"]["completion"].strip().startswith(
        "Scarface (1932) is older than Inception (2010)")
    assert by_question["is jaws a horror film"]["completion"].strip() == "No. Jaws (1975). Genre: Thriller."
    assert "Jaws (1975). Directed by Steven Spielberg." in by_question["who directed jaws"]["prompt"]
    assert all(ex["kind"] == "rag-plan" for ex in examples)
    # what the catalog lacks is said by the pipeline itself; describe is answered from passages
    assert skipped == {"catalog cannot answer": 1, "not exact (describe)": 1}


def test_test_entities_are_left_out_and_ops_are_balanced(movies, tokenizer):
    guard = TestGuard(set(), ["who directed jaws"], ["test file"])
    examples, skipped = plan_examples(ROWS, Catalog.from_movies(movies), tokenizer, Settings(), None, 0, guard)
    assert skipped["test entity"] == 2 and not any("jaws" in ex["question"] for ex in examples)
    few, _ = plan_examples(ROWS[:4] * 5, Catalog.from_movies(movies), tokenizer, Settings(), 4, 0)
    assert len(few) == 4 and len({ex["question"] for ex in few}) == 4  # one per exact operation


def test_bad_question_files_fail_with_one_line(tmp_path):
    bad = tmp_path / "q.jsonl"
    bad.write_text(json.dumps({"question": "who?"}) + "\n")
    with pytest.raises(DataError, match="need 'question' and 'plan'"):
        read_plan_questions([str(bad)])
    with pytest.raises(DataError, match="cannot read planner questions"):
        read_plan_questions([str(tmp_path / "missing.jsonl")])
