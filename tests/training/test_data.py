"""training.data / examples / qa_pairs / kb_questions: sources, metadata-derived QA, RAG-rendered examples, masking."""
from __future__ import annotations

import json

import pytest

from core.config import Settings
from core.errors import DataError
from tests.conftest import require_shared
from training.data import PrepareConfig, load_prepared, prepare, read_meta, tokenize_example
from training.examples import answers_in_context
from training.kb_questions import FORWARD_TEMPLATES, REVERSE_TEMPLATES, kb_qa_pairs
from training.qa_pairs import read_hf_dataset, read_qa_file


@pytest.fixture
def tiny_tokenizer(tiny_gpt2_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_gpt2_dir)
    tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _by(pairs, rel, entity):
    return [p for p in pairs if p.type == rel and p.entity == entity]


def test_kb_pairs_cover_relations_with_many_phrasings(movies):
    pairs = kb_qa_pairs(movies, "fixture", phrasings=3)
    types = {p.type for p in pairs}
    for rel in ("movie_to_director", "movie_to_writer", "movie_to_actors", "movie_to_year", "movie_to_genre",
                "director_to_movie", "writer_to_movie", "actor_to_movie"):
        assert rel in types
    director = _by(pairs, "movie_to_director", "Jaws")
    assert len({p.question for p in director}) == 3 and all(p.answers == ["Steven Spielberg"] for p in director)
    nolan = _by(pairs, "director_to_movie", "Christopher Nolan")
    assert nolan and set(nolan[0].answers) == {"Inception", "The Dark Knight"}
    year = _by(pairs, "movie_to_year", "Inception")[0]
    assert year.answers == ["2010"] and year.gold_keys == ["card:inception (2010)"]
    # remakes sharing a title are told apart by year in the question
    assert any("Scarface (1983)" in p.question for p in _by(pairs, "movie_to_director", "Scarface"))
    assert all(len(t) >= 3 for t in list(FORWARD_TEMPLATES.values()) + list(REVERSE_TEMPLATES.values()))


def test_kb_pairs_language_tags_rating_and_tag_to_movie(movies):
    movies[0].language, movies[0].tags, movies[0].rating = "English", ["dreams", "heist"], 8.8
    movies[4].tags = ["heist"]
    pairs = kb_qa_pairs(movies, "fixture", relations=("movie_to_language", "movie_to_tags", "movie_to_rating",
                                                       "tag_to_movie"))
    assert _by(pairs, "movie_to_language", "Inception")[0].answers == ["English"]
    assert _by(pairs, "movie_to_tags", "Inception")[0].answers == ["dreams", "heist"]
    assert _by(pairs, "movie_to_rating", "Inception")[0].answers == ["8.8"]
    assert set(_by(pairs, "tag_to_movie", "heist")[0].answers) == {"Inception", "The Dark Knight"}
    with pytest.raises(ValueError, match="unknown relations"):
        kb_qa_pairs(movies, "fixture", relations=("movie_to_budget",))


def test_question_files_csv_jsonl_and_test_refusal(tmp_path):
    csv_file = tmp_path / "qa.csv"
    csv_file.write_text("Question,Answer\nWho directed Jaws?,Steven Spielberg\n")
    jsonl = tmp_path / "qa.jsonl"
    jsonl.write_text(json.dumps({"question": "Who wrote Jaws?", "answers": ["Peter Benchley"]}) + "\n")
    assert read_qa_file(str(csv_file))[0].answers == ["Steven Spielberg"]
    assert read_qa_file(str(jsonl))[0].question == "Who wrote Jaws?"
    test_file = tmp_path / "wiki_entities_test.txt"
    test_file.write_text("1 who directed Jaws?\tSteven Spielberg\n")
    with pytest.raises(DataError, match="contains 'test'"):
        read_qa_file(str(test_file))


def test_hf_dataset_offline_is_one_line(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError) as err:
        read_hf_dataset("HiTruong/movie_QA", Settings())
    assert "cannot be reached" in str(err.value) and "\n" not in str(err.value)


def test_labels_mask_the_prompt(tiny_tokenizer):
    example = {"prompt": "Question: Who directed Jaws?\nAnswer:", "completion": " Steven Spielberg", "add_eos": True}
    row = tokenize_example(example, tiny_tokenizer)
    n_prompt = len(tiny_tokenizer(example["prompt"]).input_ids)
    n_answer = len(tiny_tokenizer(example["completion"], add_special_tokens=False).input_ids) + 1
    assert row["input_ids"][:n_prompt] == tiny_tokenizer(example["prompt"]).input_ids
    assert row["labels"][:n_prompt] == [-100] * n_prompt
    assert row["labels"][n_prompt:] == row["input_ids"][n_prompt:] and len(row["labels"]) == n_prompt + n_answer
    assert row["labels"][-1] == tiny_tokenizer.eos_token_id


def test_prepare_renders_with_the_rag_prompt(prepared_dir, tiny_gpt2_dir):
    from rag.prompt import ABSTAIN_ANSWER

    data = load_prepared(str(prepared_dir))
    meta = read_meta(str(prepared_dir))
    assert len(data["train"]) and len(data["validation"])
    assert {"rag-gold", "rag-abstain"} <= set(meta["kinds"])  # plot continuation: tests/training/test_lm_data.py
    for ex in data["train"]:
        if ex["kind"] == "lm-plot":
            continue
        assert ex["prompt"].startswith("Context:\n[1] ")
        assert ex["prompt"].endswith(f"Question: {ex['question']}\nAnswer:")
        context = ex["prompt"].replace(ex["question"], " ")
        if ex["kind"] == "rag-abstain":
            assert ex["completion"] == " " + ABSTAIN_ANSWER and not answers_in_context(ex["answers"], context)
        else:  # the gold answers are in the context, in context order
            assert ex["completion"].strip() == ", ".join(answers_in_context(ex["answers"], context))


def test_prepare_with_index_uses_retrieval(tmp_path, catalog_csv, tiny_gpt2_dir, embedder):
    from index.build import build_index

    settings = Settings().with_overrides(progress=False)
    build_index([str(catalog_csv)], str(tmp_path / "index"), settings)
    qa = tmp_path / "qa.jsonl"
    qa.write_text("".join(json.dumps({"question": q, "answers": [a]}) + "\n" for q, a in [
        ("who directed Jaws?", "Steven Spielberg"), ("who starred in Inception?", "Leonardo DiCaprio"),
        ("what year did Scarface come out?", "1983"), ("who wrote The Dark Knight?", "Jonathan Nolan")]))
    cfg = PrepareConfig(qa_files=[str(qa)], index_dir=str(tmp_path / "index"), tokenizer=str(tiny_gpt2_dir),
                        gold_share=0.0, abstain_share=0.0, val_share=0.0, shared_data=str(tmp_path))
    report = prepare(cfg, str(tmp_path / "out"), settings, jsonl=True)
    assert report["kinds"] == {"rag-retrieved": 4} and report["format"] == "jsonl"
    rows = load_prepared(str(tmp_path / "out"))["train"]
    jaws = next(r for r in rows if "Jaws" in r["question"])
    assert "Steven Spielberg" in jaws["prompt"] and jaws["completion"] == " Steven Spielberg"
    with pytest.raises(DataError, match="--index"):
        prepare(PrepareConfig(qa_files=[str(qa)], tokenizer=str(tiny_gpt2_dir)), str(tmp_path / "x"), settings)


def test_prepare_refuses_a_prompt_that_cannot_fit(tmp_path, catalog_csv, tiny_gpt2_dir):
    cfg = PrepareConfig(catalogs=[str(catalog_csv)], tokenizer=str(tiny_gpt2_dir), max_length=20)
    with pytest.raises(DataError, match="no room for context"):
        prepare(cfg, str(tmp_path / "out"), Settings().with_overrides(progress=False))


def test_no_overlap_with_test_questions(tmp_path, tiny_gpt2_dir):
    """Training data from WikiMovies dev + the KB never asks a WikiMovies or MetaQA test question,
    nor a question of the held-out dev evaluation sample."""
    from evaluation.metrics import normalize_answer
    from evaluation.questions import read_questions, select_questions

    dev = require_shared("wikimovies", "questions", "wiki_entities_dev.txt")
    kb = require_shared("wikimovies", "kb.txt.gz")
    cfg = PrepareConfig(qa_files=[str(dev)], catalogs=[str(kb)], style="plain", max_kb_pairs=3000,
                        tokenizer=str(tiny_gpt2_dir), val_share=0.0, holdout_per_type=20)
    report = prepare(cfg, str(tmp_path / "out"), Settings().with_overrides(progress=False))
    assert report["dropped"]["test_question"] >= 1  # dev shares a few questions with test: they are dropped
    questions = {normalize_answer(q) for q in load_prepared(str(tmp_path / "out"))["train"]["question"]}
    assert len(questions) > 5000
    # the dev evaluation sample (`rag eval --stratify --per-type 20`) is held out too
    held = select_questions(read_questions(str(dev)), stratify=True, per_type=20, seed=42)
    assert report["held_out"] == len(held) > 200
    assert not questions & {normalize_answer(q.question) for q in held}
    test_files = [require_shared("wikimovies", "questions", "wiki_entities_test.txt")] + [
        require_shared("metaqa", f"{hop}-hop", "qa_test.txt") for hop in (1, 2, 3)]
    for path in test_files:
        test = {normalize_answer(q.question) for q in read_questions(str(path))}
        assert not questions & test, path
