"""Names the question writes longer than the catalog name it linked."""
from __future__ import annotations

import pytest

from core.records import normalize
from rag.names import widened_name


def _widened(question: str, linked: str) -> str | None:
    tokens, name = normalize(question).split(), normalize(linked).split()
    start = next(i for i in range(len(tokens)) if tokens[i:i + len(name)] == name)
    return widened_name(question, start, start + len(name))


@pytest.mark.parametrize("question, linked, named", [
    ("Who directed That Good Night?", "good night", "That Good Night"),
    ("Please tell me when Crocodile Hunter: Collision Course was released.", "hunter",
     "Crocodile Hunter: Collision Course"),
    ("Who was the director of Ah-ga-ssi?", "ah", "Ah-ga-ssi"),  # part of one hyphenated word
    ("Who directed Jaws 2?", "jaws", "Jaws 2"),  # a sequel number
    ("Who directed Jaws in 1975?", "jaws", None),
    ("Who directed Jaws (1975)?", "jaws", None),
    ("Who directed The Lord of the Rings?", "lord of the rings", None),
    ("What films did Tom Hanks and Meg Ryan star in?", "tom hanks", None),  # two names
    ("who starred in the Good Night", "good night", None),
    ("Who Directed The Good Night?", "the good night", None),  # title case says nothing
    ("Jaws was directed by whom?", "jaws", None),
    ("Who directed Inception & Interstellar?", "inception", None),  # "&" → "and": cannot be told
])
def test_the_name_as_the_question_writes_it(question, linked, named):
    assert _widened(question, linked) == named
