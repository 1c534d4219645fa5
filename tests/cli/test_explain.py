"""`ask --explain`: the plan, the route it took and who wrote the answer."""
from __future__ import annotations

from types import SimpleNamespace

from cli.answer_cmd import explain


def _answer(plan, written_by="generator"):
    return SimpleNamespace(plan=plan, written_by=written_by)


def test_explain_names_the_route():
    exact = {"text": 'lookup film:"Alien" (1979) > director', "confidence": 0.999, "executed": True,
             "steps": ['film:"Alien" (1979) → alien (1979)'], "missing": None}
    lines = explain(_answer(exact)).splitlines()
    assert lines[0] == 'plan: lookup film:"Alien" (1979) > director'
    assert "answered by exact, on the catalog store; answer written by the generator" in lines[1]
    missing = {**exact, "missing": "Top Gun: Maverick is not in the catalog."}
    assert "answered by what the catalog lacks" in explain(_answer(missing, "template"))
    assert "hybrid retrieval (fallback)" in explain(_answer({**exact, "executed": False, "steps": []}))
    assert explain(_answer(None)).startswith("plan: none")
