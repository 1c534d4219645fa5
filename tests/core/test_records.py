"""Record names: passage kinds and retrieval stages as str enums, the passage key format, the normalisers."""
from __future__ import annotations

import json

import pytest

from core.records import Movie, Passage, PassageKind, Stage, key_text, movie_id, normalize, passage_key


def test_normalize():
    assert normalize("  Les Misérables!  ") == "les miserables"
    assert normalize("Fast & Furious") == "fast and furious"
    assert normalize("Spider-Man: Homecoming") == "spider man homecoming"
    assert normalize("snake_case\tand\nnewlines") == "snake case and newlines"
    assert normalize("") == ""


def test_key_text_keeps_what_ids_keep():
    assert key_text("  The   Dark Knight ") == "the dark knight"
    assert key_text("Amélie") != key_text("Amelie") and key_text("Spider-Man") == "spider-man"
    assert movie_id("Inception", 2010) == "inception (2010)" and movie_id("Heat", None) == "heat"
    assert Movie("Jaws", 1975).id == "jaws (1975)"


def test_passage_key_format():
    assert passage_key(PassageKind.CARD, "jaws (1975)") == "card:jaws (1975)"
    assert passage_key(PassageKind.PLOT, "jaws (1975)", 0) == "plot:jaws (1975):0"
    assert passage_key("person", "Christopher  Nolan", 1) == "person:christopher nolan:1"
    assert passage_key(PassageKind.TAG, "Heist") == "tag:heist"
    with pytest.raises(ValueError):
        passage_key("actor", "x")


def test_passage_kind_and_ref():
    card = Passage(key="card:jaws (1975)", kind="card", title="Jaws", text="Jaws (1975).", movie_id="jaws (1975)")
    person = Passage(key="person:roy scheider:2", kind=PassageKind.PERSON, title="Roy Scheider", text="…")
    assert card.kind is PassageKind.CARD and card.kind == "card" and card.ref == "card:jaws (1975)"
    assert person.ref == "person:roy scheider"
    assert json.loads(json.dumps(card.to_dict()))["kind"] == "card"  # stored and serialised as the plain string


def test_stages():
    pinned = [Stage.TITLE_LINK, Stage.PERSON_LINK, Stage.TAG_LINK, Stage.HOP_LINK, Stage.PLAN]  # plan facts pin too
    assert [s for s in Stage if s.is_link] == pinned
    assert Stage.HYBRID == "hybrid" and f"{Stage.TITLE_LINK}" == "title-link" and Stage("bm25") is Stage.BM25
