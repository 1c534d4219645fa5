"""The fields movie catalogs lack: the words that ask for one, and titles that only contain them."""
from __future__ import annotations

import pytest

from rag.fields import asked_unheld_field

HELD = {"title", "year", "director", "cast", "genre", "rating"}


@pytest.mark.parametrize("question, field", [
    ("who did the music for Creep (2014)", "composer credits"),
    ("Who wrote the music of Alien?", "composer credits"),
    ("What was the budget of Jaws?", "budgets"),
    ("Who directed Jaws?", None),
    ("Which music films came out in 1999?", None),  # a genre, not a composer
])
def test_a_question_asking_for_a_field_the_catalog_lacks(question, field):
    assert asked_unheld_field(question, ["Creep", "Alien", "Jaws"], HELD) == field


def test_a_title_naming_a_field_asks_nothing_about_it():
    assert asked_unheld_field("Who directed The Producers?", ["The Producers"], HELD) is None
    assert asked_unheld_field("What was the budget of Jaws?", [], HELD | {"production budget"}) is None
