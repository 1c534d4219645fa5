"""Question readers (hand-made files, including malformed lines), format detection and stratified sampling."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from core.errors import QuestionsError
from core.records import Question
from evaluation.questions import detect_format, load_questions, match_template, read_questions, stratified_sample
from tests.conftest import require_shared


def _write(path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_wikimovies_lines_multi_answer_and_malformed(tmp_path):
    path = _write(tmp_path / "qs.txt", "1 who directed Jaws?\tSteven Spielberg\n"
                                       "1 what films did Grégoire Colin star in?\tBefore the Rain, Beau Travail\n"
                                       "no tab on this line\n"
                                       "1 what year was Up released?\t\n"
                                       "\n")
    qset = load_questions(path)
    assert qset.format == "wikimovies"
    assert [q.question for q in qset.questions] == ["who directed Jaws?", "what films did Grégoire Colin star in?"]
    assert qset.questions[1].answers == ["Before the Rain", "Beau Travail"]
    assert sum(qset.skipped.values()) == 2
    # no categories folder here: types and entities come from the templates
    assert (qset.questions[0].type, qset.questions[0].entity) == ("movie_to_director", "Jaws")
    assert (qset.questions[1].type, qset.questions[1].entity) == ("actor_to_movie", "Grégoire Colin")


def test_wikimovies_types_from_sibling_categories(tmp_path):
    qfile = _write(tmp_path / "questions" / "wiki_entities_test.txt",
                   "1 describe Jaws\tshark\n1 what is a mystery question?\tX\n")
    _write(tmp_path / "categories" / "wiki-entities_qa_movie_to_tags_test.txt", "1 describe Jaws\tshark\n")
    _write(tmp_path / "categories" / "wiki-entities_qa_odd_type_test.txt", "1 what is a mystery question?\tX\n")
    questions = read_questions(qfile, "wikimovies")
    assert [(q.type, q.entity) for q in questions] == [("movie_to_tags", "Jaws"), ("odd_type", None)]


def test_metaqa_entity_brackets_and_qtype_alignment(tmp_path):
    path = _write(tmp_path / "qa_test.txt",
                  "what films did [Michelle Trachtenberg] star in\tInspector Gadget|Black Christmas\n"
                  "a line without an entity\tX\n"
                  "who directed [The Dark Knight]\tChristopher Nolan\n")
    _write(tmp_path / "qa_test_qtype.txt", "actor_to_movie\nmovie_to_director\nmovie_to_director\n")
    qset = load_questions(path)
    assert qset.format == "metaqa" and qset.skipped == {"no [entity]": 1}
    first, second = qset.questions
    assert first.question == "what films did Michelle Trachtenberg star in"
    assert first.answers == ["Inspector Gadget", "Black Christmas"]
    assert (first.type, first.entity) == ("actor_to_movie", "Michelle Trachtenberg")
    assert (second.type, second.entity) == ("movie_to_director", "The Dark Knight")  # qtype kept aligned by line


def test_metaqa_without_qtype_file(tmp_path):
    path = _write(tmp_path / "qa_dev.txt", "who wrote [Jaws]\tPeter Benchley\n")
    assert read_questions(path) == [Question("who wrote Jaws", ["Peter Benchley"], None, "Jaws")]


def test_jsonl_and_csv(tmp_path):
    jsonl = _write(tmp_path / "q.jsonl", json.dumps({"question": "Who directed Jaws?", "answers": ["Steven Spielberg"],
                                                     "type": "movie_to_director"}) + "\n{broken json\n"
                   + json.dumps({"question": "Year of Up?", "answers": "2009"}) + "\n"
                   + json.dumps({"question": "x"}) + "\n")
    qset = load_questions(jsonl)
    assert [q.answers for q in qset.questions] == [["Steven Spielberg"], ["2009"]]
    assert qset.questions[0].type == "movie_to_director" and sum(qset.skipped.values()) == 2
    csv_file = _write(tmp_path / "q.csv", 'Question,Answer\nWhat is a p-value?,"A probability, under H0"\n,empty\n')
    qset = load_questions(csv_file)
    assert qset.questions == [Question("What is a p-value?", ["A probability, under H0"])]
    assert qset.skipped == {"empty question or answer": 1}


def test_bad_files_raise_one_line_errors(tmp_path):
    with pytest.raises(QuestionsError, match="not found"):
        load_questions(tmp_path / "missing.txt")
    junk = _write(tmp_path / "junk.txt", "no tabs here\nnor here\n")
    with pytest.raises(QuestionsError, match="cannot tell the format"):
        load_questions(junk)
    with pytest.raises(QuestionsError, match=r"no question could be read as wikimovies \(2 no question<TAB>answers\)"):
        load_questions(junk, "wikimovies")
    with pytest.raises(QuestionsError, match="Question and Answer columns"):
        load_questions(_write(tmp_path / "bad.csv", "q,a\n1,2\n"))
    with pytest.raises(QuestionsError, match="unknown questions format"):
        load_questions(junk, "xml")
    with pytest.raises(QuestionsError) as err:
        load_questions(_write(tmp_path / "empty.txt", ""))
    assert "\n" not in str(err.value)


def test_detect_format(tmp_path):
    assert detect_format(_write(tmp_path / "a.txt", "1 who directed Jaws?\tSteven Spielberg\n")) == "wikimovies"
    assert detect_format(_write(tmp_path / "b.txt", "who directed [Jaws]\tSteven Spielberg\n")) == "metaqa"
    assert detect_format(_write(tmp_path / "c.txt", '{"question": "q", "answers": ["a"]}\n')) == "jsonl"
    assert detect_format(tmp_path / "d.csv") == "csv"


@pytest.mark.parametrize("text, expected", [
    ("the movie The Man Who Laughs, when was it released?", ("movie_to_year", "The Man Who Laughs")),
    ("who directed the film Scarface?", ("movie_to_director", "Scarface")),
    ("Innocent Blood, is it any good?", ("movie_to_imdbrating", "Innocent Blood")),
    ("how popular of a movie was 15 Minutes?", ("movie_to_imdbvotes", "15 Minutes")),
    ("which films can be described by jules verne?", ("tag_to_movie", "jules verne")),
    ("what are some words that  describe movie Saw?", ("movie_to_tags", "Saw")),
    ("tell me a joke", (None, None)),
])
def test_match_template(text, expected):
    assert match_template(text) == expected


def test_stratified_sample_is_even_and_seeded():
    questions = ([Question(f"q{i}", ["a"], "big") for i in range(50)]
                 + [Question(f"s{i}", ["a"], "small") for i in range(3)])
    questions.append(Question("untyped", ["a"]))
    sample = stratified_sample(questions, per_type=10, seed=7)
    assert Counter(q.type for q in sample) == {"big": 10, "small": 3, None: 1}
    assert sample == stratified_sample(questions, per_type=10, seed=7)
    assert sample != stratified_sample(questions, per_type=10, seed=8)
    assert [questions.index(q) for q in sample] == sorted(questions.index(q) for q in sample)  # file order


def test_real_wikimovies_and_metaqa_files():
    wm = load_questions(require_shared("wikimovies", "questions", "wiki_entities_test.txt"))
    types = Counter(q.type for q in wm.questions)  # the 48 imdb rating/votes questions are not in this file
    assert len(wm.questions) == 9952 and not wm.skipped and len(types) == 11 and types["tag_to_movie"] == 412
    assert all(q.entity for q in wm.questions[:500])
    meta = load_questions(require_shared("metaqa", "2-hop", "qa_test.txt"))
    assert meta.format == "metaqa" and meta.questions[0].type == "actor_to_movie_to_director"
    assert "[" not in meta.questions[0].question and meta.questions[0].entity == "John Krasinski"
