"""evaluation.capabilities: reading and sampling the sets, running a (fake) pipeline, summaries by group and kind,
B − A against a baseline, the table, and the `eval-capabilities` command's errors."""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from core.config import Settings
from core.errors import QuestionsError
from core.records import Movie, Passage
from evaluation.capabilities import compare_rows, markdown, read_capability, run_capability, sample, summarize
from index.catalog import Catalog
from rag.answer import Answer

SETTINGS = Settings().with_overrides(progress=False, bootstrap_resamples=200)
FILMS = [Movie("Alien", 1979, directors=["Ridley Scott"], genres=["Horror"]),
         Movie("Aliens", 1986, directors=["James Cameron"], genres=["Horror", "Action"]),
         Movie("Moon", 2009, directors=["Duncan Jones"], genres=["Drama"])]


def _abstain(i: int, kind: str, group: str) -> dict:
    return {"id": f"abstain-test-{i:05d}", "capability": "abstain", "split": "test", "group": group,
            "held_out": group == "aside", "kind": kind, "question": f"question {i}", "answers": [],
            "expect_abstain": kind != "control"}


def _write(folder, capability: str, records: list[dict]) -> None:
    folder.mkdir(exist_ok=True)
    with open(folder / f"{capability}_test.jsonl", "w") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in records)


class FakePipeline:
    """ask_batch answers from a dict (question → Answer); an index of plot passages for the neighbours."""

    def __init__(self, answers: dict[str, Answer]) -> None:
        self.answers, self.generator_name, self.catalog = answers, "fake", Catalog.from_movies(FILMS)
        passages = [Passage(f"plot:{m.id}:0", "plot", m.title, "t", m.year, m.id) for m in FILMS]
        self.index = SimpleNamespace(passages=passages, vectors=np.eye(3, dtype=np.float32), manifest={"movies": 3})

    def ask_batch(self, questions, mode="rag", progress=None):
        assert mode == "rag"
        return [self.answers[q] for q in questions]


def test_read_capability_errors(tmp_path):
    with pytest.raises(QuestionsError, match="not found"):
        read_capability(tmp_path, "identify")
    with pytest.raises(QuestionsError, match="unknown capability"):
        read_capability(tmp_path, "summarise")
    _write(tmp_path, "describe", [_abstain(0, "control", "direct")])
    with pytest.raises(QuestionsError, match="holds abstain questions"):
        read_capability(tmp_path, "describe")


def test_sample_is_seeded_and_spread_over_strata():
    records = [_abstain(i, kind, group) for i, (kind, group) in
               enumerate((k, g) for k in ("absent_film", "control") for g in ("direct", "casual", "aside")
                         for _ in range(10))]
    chosen = sample(records, 12, seed=3)
    assert len(chosen) == 12 and chosen == sample(records, 12, seed=3) and chosen != sample(records, 12, seed=4)
    assert {(r["kind"], r["group"]) for r in chosen} == {(r["kind"], r["group"]) for r in records}
    assert [r["id"] for r in chosen] == sorted(r["id"] for r in chosen)  # file order kept
    assert sample(records, None) == records


def test_abstain_run_reports_kinds_and_false_abstention(tmp_path):
    records = [_abstain(0, "absent_film", "direct"), _abstain(1, "absent_film", "aside"),
               _abstain(2, "off_topic", "direct"), _abstain(3, "control", "direct"), _abstain(4, "control", "aside")]
    answers = {"question 0": Answer("question 0", "rag", "X is not in the catalog.", abstained=True),
               "question 1": Answer("question 1", "rag", "Tony Scott", ["Tony Scott"]),
               "question 2": Answer("question 2", "rag", "Paris", ["Paris"]),
               "question 3": Answer("question 3", "rag", "Ridley Scott", ["Ridley Scott"]),
               "question 4": Answer("question 4", "rag", "The movie catalog does not cover this question.",
                                    abstained=True)}
    report = run_capability(FakePipeline(answers), records, "abstain", SETTINGS)
    assert report["overall"]["correct_abstention"]["mean"] == pytest.approx(1 / 3)
    assert report["overall"]["false_abstention"]["mean"] == 0.5 and report["overall"]["false_abstention"]["n"] == 2
    assert report["by_kind"]["absent_film"]["declined"] == 0.5 and report["by_kind"]["control"]["declined"] == 0.5
    assert report["held_out_vs_seen"]["held-out"]["n"] == 2 and report["held_out_vs_seen"]["seen"]["correct"] == 2 / 3
    assert len(report["per_question"]) == 5 and report["meta"]["generator"] == "fake"
    table = markdown(report)
    assert "| held-out | 2 |" in table and "| control | 2 |" in table and "false_abstention" in table


def test_identify_and_recommend_runs():
    gold = {"title": "Alien", "year": 1979, "id": "alien (1979)"}
    ident = [{"id": "identify-test-00000", "capability": "identify", "group": "where", "held_out": False,
              "form": "full", "question": "q0", "gold": gold, "accept": [gold]},
             {"id": "identify-test-00001", "capability": "identify", "group": "placing", "held_out": True,
              "form": "lower", "question": "q1", "gold": gold, "accept": [gold]}]
    answers = {"q0": Answer("q0", "rag", "Alien", ["Alien"]), "q1": Answer("q1", "rag", "Moon", ["Moon"])}
    report = run_capability(FakePipeline(answers), ident, "identify", SETTINGS)
    assert report["overall"]["first_title_right"]["mean"] == 0.5
    assert report["by_group"]["placing"]["first_title_right"] == 0.0 and set(report["by_kind"]) == {"full", "lower"}
    rec = [{"id": f"recommend-test-{i:05d}", "capability": "recommend", "group": "like", "held_out": False,
            "kind": "none", "question": f"r{i}", "topic": {"title": t, "year": y, "id": f"{t.lower()} ({y})"},
            "constraints": {"year_from": None, "year_to": None, "genre": None}}
           for i, (t, y) in enumerate([("Alien", 1979), ("Moon", 2009)])]
    answers = {"r0": Answer("r0", "rag", "Aliens, Moon", ["Aliens", "Moon"]),
               "r1": Answer("r1", "rag", "Aliens, Moon", ["Aliens", "Moon"])}
    report = run_capability(FakePipeline(answers), rec, "recommend", SETTINGS, neighbours=1)
    rows = report["per_question"]
    assert rows[0]["valid_share"] == 1.0 and rows[1]["valid_share"] == 0.5  # Moon is r1's own topic
    assert rows[0]["shares_genre"] == 0.5 and report["overall"]["distinct_lists"]["mean"] == 1.0


def test_compare_rows_pairs_by_question():
    a = [{"id": "x", "question": "q", "correct": 0.0, "declined": 0.0},
         {"id": "y", "question": "r", "correct": 1.0, "declined": 1.0}]
    b = [{"id": "x", "question": "q", "correct": 1.0, "declined": 1.0},
         {"id": "z", "question": "s", "correct": 1.0, "declined": 1.0}]
    out = compare_rows(a, b, "abstain", SETTINGS)
    assert out["n"] == 1 and out["correct"]["delta"] == 1.0
    with pytest.raises(QuestionsError):
        compare_rows(a, [{"id": "w", "question": "t", "correct": 1.0}], "abstain", SETTINGS)


def test_summarize_ignores_missing_values():
    rows = [{"group": "g", "held_out": False, "kind": None, "bertscore_f1": 0.5, "support_share": None},
            {"group": "g", "held_out": False, "kind": None, "bertscore_f1": 0.7, "support_share": 1.0}]
    report = summarize("describe", rows, SETTINGS)
    assert report["overall"]["support_share"] == {"mean": 1.0, "ci_low": 1.0, "ci_high": 1.0, "n": 1}
    assert report["overall"]["bertscore_f1"]["mean"] == pytest.approx(0.6) and report["by_kind"] == {}


def test_command_errors_are_one_line(tmp_path, capsys):
    from cli.main import rag_main

    code = rag_main(["eval-capabilities", "--questions", str(tmp_path), "--capability", "identify"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "identify_test.jsonl" in err
