from __future__ import annotations

import builtins
import json
import subprocess
import sys

import pytest

from cli import answer_cmd
from cli.main import rag_main
from core.config import REPO_ROOT


@pytest.fixture
def patched(monkeypatch, tiny_pipeline):
    """The CLI over the tiny in-memory pipeline (no model or index loading)."""
    calls = []

    def fake_load(settings, index_dir, need_index=True):
        calls.append((index_dir, need_index, settings))
        return tiny_pipeline

    monkeypatch.setattr(answer_cmd, "load_pipeline", fake_load)
    return calls


def feed(monkeypatch, lines):
    """input() returns each line in turn; an exception instance is raised instead; then EOF."""
    queue = list(lines)

    def fake_input(prompt=""):
        if not queue:
            raise EOFError
        item = queue.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    monkeypatch.setattr(builtins, "input", fake_input)
    return queue


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "rag", "--help"], cwd=REPO_ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0
    for command in ("ask", "chat", "plot", "eval"):
        assert command in out.stdout


def test_missing_index_is_a_one_line_error(tmp_path):
    out = subprocess.run([sys.executable, "-m", "rag", "ask", "Who directed Jaws?", "--index", str(tmp_path / "nope")],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert out.stderr.startswith("error: ") and "Traceback" not in out.stderr


def test_ask_json(patched, capsys):
    assert rag_main(["ask", "Who directed Jaws?", "--index", "somewhere", "--k", "3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["question"] == "Who directed Jaws?" and data["mode"] == "rag"
    assert len(data["sources"]) == 3 and data["sources"][0]["title"] == "Jaws"
    assert {"retrieve_s", "prompt_s", "generate_s", "total_s"} <= set(data["timings"])
    assert patched[0][0] == "somewhere" and patched[0][2].retrieval.k == 3


def test_ask_plain_needs_no_index(patched, capsys):
    assert rag_main(["ask", "Who directed Jaws?", "--mode", "plain", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sources"] == []
    assert patched[0][1] is False


def test_ask_empty_question_is_a_clear_error(patched, capsys):
    assert rag_main(["ask", "  ", "--index", "x"]) == 2
    assert capsys.readouterr().err.startswith("error: the question is empty")


def test_chat_survives_empty_lines_and_ctrl_c_and_quits_on_exit(patched, monkeypatch, capsys):
    rest = feed(monkeypatch, ["", "   ", KeyboardInterrupt(), "Who directed Jaws?", "exit", "never read"])
    assert rag_main(["chat", "--index", "x"]) == 0
    out = capsys.readouterr().out
    assert out.count("bot> ") == 1 and "sources: Jaws (1975)" in out
    assert rest == ["never read"]


def test_chat_quits_on_eof(patched, monkeypatch):
    feed(monkeypatch, ["Who directed Jaws?"])
    assert rag_main(["chat", "--index", "x"]) == 0


def test_chat_ctrl_c_during_an_answer_returns_to_the_prompt(patched, monkeypatch, capsys, tiny_pipeline):
    def interrupted(*args, **kwargs):
        yield "partial", None
        raise KeyboardInterrupt

    monkeypatch.setattr(tiny_pipeline, "ask_stream", interrupted)
    feed(monkeypatch, ["Who directed Jaws?", "exit"])
    assert rag_main(["chat", "--index", "x"]) == 0
    assert "(interrupted)" in capsys.readouterr().out


def test_plot(patched, capsys):
    assert rag_main(["plot", "A lonely robot", "--genre", "Comedy", "--max-new-tokens", "5", "--seed", "1"]) == 0
    assert capsys.readouterr().out.startswith("A lonely robot")
    assert patched[0][1] is False
