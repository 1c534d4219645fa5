"""Follow-up dialogues: generated with gold answers from a catalog (evaluation.dialogues), answered through the
chat's memory and scored per turn kind (evaluation.chat_eval), on tiny hand-written catalogs."""
from __future__ import annotations

import json

import pytest

from core.config import Settings
from core.errors import InputError
from core.records import Movie
from evaluation.chat_eval import PlanAnswerer, run_dialogues
from evaluation.dialogues import Dialogue, DialogueMaker, DialogueTurn, read_dialogues, read_movies, write_dialogues
from index.catalog import Catalog
from rag.evidence import Evidence
from rag.retrieve import Retriever
from tests.rag.conftest import _movies, hand_passages, make_index
from tests.rag.test_conversation import PLANS
from tests.rag.test_evidence import FakePlanner


def _catalog() -> list[Movie]:
    """Ten films by one director and one lead actress over 1980-2015, each with its own writer and co-star."""
    names = ["Harbour Lights", "Northern Crossing", "Glass Orchard", "Winter Ferry", "Copper Valley",
             "Silent Lantern", "Paper Comet", "Salt Meridian", "Velvet Quarry", "Amber Signal"]
    return [Movie(title=title, year=1980 + 4 * i, directors=["Ada Brennan"], writers=[f"Writer {chr(65 + i)}"],
                  cast=["Mira Okafor", f"Costar {chr(65 + i)}"], genres=["Drama" if i % 2 else "Comedy"],
                  plot=f"Story {i}.") for i, title in enumerate(names)]


def test_dialogues_carry_gold_answers_from_the_catalog():
    movies = _catalog()
    by_title = {m.title: m for m in movies}
    dialogues = DialogueMaker(movies, seed=1)(40)
    assert len(dialogues) == 40 and len({d.id for d in dialogues}) == 40
    assert {"facts", "director-else", "writer-else", "actor-else", "years", "swap", "topic-change",
            "fields"} >= {d.kind for d in dialogues} and len({d.kind for d in dialogues}) >= 6
    for d in dialogues:
        assert 2 <= len(d.turns) <= 3 and d.turns[0].role == "first" and all(t.answers for t in d.turns)
        first = by_title.get(d.turns[0].topic)
        if d.kind == "director-else":
            assert d.turns[1].answers == sorted(m.title for m in movies if m.title != first.title)
        if d.kind == "years":
            split = int(d.turns[0].question.rstrip("?").split()[-1])
            older = sorted(m.title for m in movies if m.year < split)
            assert older in (d.turns[0].answers, d.turns[1].answers)
        if d.kind == "topic-change":
            new = by_title[d.turns[1].topic]
            assert d.turns[1].role == "topic-change" and new.title != first.title and new.title in d.turns[1].question
        if d.kind == "facts":
            assert d.turns[1].answers == first.writers and d.turns[2].answers == [str(first.year)]


def test_the_held_out_catalog_is_refused(tmp_path):
    with pytest.raises(InputError, match="held out"):
        read_movies([str(tmp_path / "imdb_top_1000.csv")], Settings())


def test_dialogues_round_trip_as_json_lines(tmp_path):
    dialogues = DialogueMaker(_catalog(), seed=2)(5)
    write_dialogues(dialogues, tmp_path / "d.jsonl")
    assert read_dialogues(tmp_path / "d.jsonl") == dialogues
    assert json.loads((tmp_path / "d.jsonl").read_text().splitlines()[0])["turns"][0]["role"] == "first"


@pytest.fixture(scope="module")
def plan_answerer(embedder) -> PlanAnswerer:
    """The planner and exact execution alone over the tiny films (the planner: a table of plans)."""
    retriever = Retriever(make_index(hand_passages(_movies()), embedder), embedder, Settings())
    return PlanAnswerer(Evidence(retriever, Settings(), FakePlanner(PLANS), Catalog.from_movies(_movies())))


def test_dialogues_are_answered_through_the_memory_and_scored(plan_answerer, tmp_path):
    dialogues = [
        Dialogue("a", "facts", [DialogueTurn("Who directed Inception?", ["Christopher Nolan"], "first", "Inception"),
                                DialogueTurn("and who wrote it?", ["Christopher Nolan"], "follow-up", "Inception"),
                                DialogueTurn("and the year?", ["2010"], "follow-up", "Inception")]),
        Dialogue("b", "topic-change", [DialogueTurn("Who directed Inception?", ["Christopher Nolan"], "first",
                                                    "Inception"),
                                       DialogueTurn("Who wrote Jaws?", ["Peter Benchley"], "topic-change", "Jaws"),
                                       DialogueTurn("who directed it?", ["Steven Spielberg"], "follow-up", "Jaws")]),
        Dialogue("c", "director-else", [DialogueTurn("Who directed Inception?", ["Christopher Nolan"], "first",
                                                     "Inception"),
                                        DialogueTurn("What else did he direct?", ["The Dark Knight"], "follow-up",
                                                     "Christopher Nolan")]),
        Dialogue("d", "years", [DialogueTurn("Which films did Christopher Nolan direct since 2009?", ["Inception"],
                                             "first", "Christopher Nolan"),
                                DialogueTurn("any older ones?", ["The Dark Knight"], "follow-up",
                                             "Christopher Nolan")]),
    ]
    report = run_dialogues(plan_answerer, dialogues, str(tmp_path / "run"))
    assert report["by_role"]["follow-up"] == {"turns": 5, "hits@1": 1.0, "any_hit": 1.0, "about_topic": None,
                                              "rewritten": 1.0}
    assert report["by_role"]["topic-change"]["hits@1"] == 1.0
    assert report["by_role"]["topic-change"]["rewritten"] == 0
    assert report["targets"]["topic change answered about the new film"]["met"] is True
    rows = (tmp_path / "run" / "per_turn.csv").read_text().splitlines()
    assert len(rows) == 1 + 10 and any("and the year?,What year was Inception released?,2010" in r for r in rows)
    assert read_dialogues(tmp_path / "run" / "dialogues.jsonl") == dialogues


def test_a_topic_inherited_by_mistake_is_caught(plan_answerer):
    """A wrong gold (as if the chat kept the old film) scores 0: the scoring can fail."""
    dialogue = Dialogue("x", "topic-change", [
        DialogueTurn("Who directed Inception?", ["Christopher Nolan"], "first", "Inception"),
        DialogueTurn("Who wrote Jaws?", ["Christopher Nolan"], "topic-change", "Inception")])
    report = run_dialogues(plan_answerer, [dialogue])
    assert report["by_role"]["topic-change"]["hits@1"] == 0.0
    assert report["targets"]["topic change answered about the new film"]["value"] == 0.0
