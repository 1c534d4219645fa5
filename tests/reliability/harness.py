"""Runs a catalogue case through the real `python -m index add|build` entry point, in-process.

Each run gets its own copy of a small baseline index, hashes every file before and after, calls
`cli.main.index_main` (parser, dispatch and core.flags.run_command as the shell runs them) with the embedder
replaced by the tests' fast hash embedder, and records what happened: the exit code, the stderr line, the
exception behind it, and whether the index is byte-identical (an error) or loads and verifies whole (an import).
"""
from __future__ import annotations

import contextlib
import io
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from cli import main as cli_main
from core import models
from core.config import Settings
from core.errors import MovieRagError
from index.build import build_index
from index.store import load_movies
from index.verify import verify_index
from tests.index.conftest import FakeEmbedder, snapshot
from tests.reliability.catalogue import EXPECT_ERROR, EXPECT_IMPORT, Case, film, films_csv

OPS = ("add", "build")
TRACEBACK = "traceback"
SKIPPED = "skipped"


@dataclass
class Outcome:
    case: Case
    op: str
    result: str  # EXPECT_ERROR, EXPECT_IMPORT, TRACEBACK or SKIPPED
    line: str = ""  # the error line (stderr) or the command's summary line (stdout)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)  # how the run broke the case's expectation

    @property
    def ok(self) -> bool:
        return not self.problems


def build_baseline(folder: Path) -> Path:
    """A small index (three films) every run starts from."""
    source = folder / "baseline.csv"
    source.write_bytes(films_csv(film("Jaws"), film("Alien", year="1979"), film("Heat", year="1995")))
    out = folder / "baseline-index"
    build_index([str(source)], str(out), Settings().with_overrides(progress=False), embedder=FakeEmbedder())
    return out


@contextlib.contextmanager
def _captured_command(caught: list[BaseException]) -> Iterator[None]:
    """core.flags.run_command as the CLI calls it, remembering the exception behind an error line."""
    real = cli_main.run_command

    def run_command(command, interrupted="interrupted"):
        def remembering():
            try:
                return command()
            except BaseException as exc:
                caught.append(exc)
                raise
        return real(remembering, interrupted)

    with mock.patch.object(cli_main, "run_command", run_command), \
            mock.patch.object(models, "load_embedder", lambda *a, **k: FakeEmbedder()):
        yield


def _leftovers(index: Path) -> list[str]:
    return [p.name for p in index.parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name]


def run_case(case: Case, op: str, workdir: Path, baseline: Path) -> Outcome:
    """Run `op` ("add" or "build") with the case's input against a fresh copy of `baseline`."""
    reason = case.skip()
    if reason:
        return Outcome(case, op, SKIPPED, reason)
    folder = workdir / f"{case.name}-{op}"
    inputs = folder / "input"
    inputs.mkdir(parents=True)
    source = str(case.make(inputs))
    index = folder / "indexes" / "index"
    shutil.copytree(baseline, index)
    before = snapshot(index)
    argv = (["add", str(index), source] if op == "add" else ["build", source, "--out", str(index)]) + ["--no-progress"]
    caught: list[BaseException] = []
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    try:
        with _captured_command(caught), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli_main.index_main(argv)
    except Exception as exc:  # escaped run_command: the shell would print a traceback
        return Outcome(case, op, TRACEBACK, f"{type(exc).__name__}: {exc}"[:300], time.perf_counter() - start,
                       [f"traceback ({type(exc).__name__})"])
    seconds = time.perf_counter() - start
    if code == 0:
        outcome = Outcome(case, op, EXPECT_IMPORT, out.getvalue().strip(), seconds)
        _check_import(outcome, index)
    else:
        outcome = Outcome(case, op, EXPECT_ERROR, err.getvalue().rstrip("\n"), seconds)
        _check_error(outcome, code, caught, source, index, before)
    if outcome.result != case.expect:
        outcome.problems.insert(0, f"expected {case.expect}, got {outcome.result}")
    return outcome


def _check_error(outcome: Outcome, code: int, caught: list[BaseException], source: str, index: Path,
                 before: dict) -> None:
    problems, line = outcome.problems, outcome.line
    if code != 2:
        problems.append(f"exit code {code}, expected 2")
    if not line.startswith("error: ") or "\n" in line:
        problems.append("stderr is not one `error: ...` line")
    if caught and not isinstance(caught[0], MovieRagError):
        problems.append(f"unclear error: a raw {type(caught[0]).__name__}, not a MovieRagError")
    elif caught and "\n" in str(caught[0]):
        problems.append("the error message spans several lines")
    name = Path(source).name
    if name.isprintable() and name not in line:
        problems.append("the error line does not name the file")
    if outcome.case.says and outcome.case.says not in line:
        problems.append(f"the error line does not say {outcome.case.says!r}")
    if snapshot(index) != before:
        problems.append("the index changed (not byte-identical)")


def _check_import(outcome: Outcome, index: Path) -> None:
    problems = outcome.problems
    try:
        verify_index(index)
    except MovieRagError as exc:
        problems.append(f"partial index: {exc}")
        return
    if _leftovers(index):
        problems.append(f"temp folders left: {_leftovers(index)}")
    case = outcome.case
    if not case.title:
        return
    found = [m for m in load_movies(index) if m.title == case.title]
    if not found:
        problems.append(f"film {case.title!r} not in the index")
        return
    for name, value in case.fields.items():
        if getattr(found[0], name) != value:
            problems.append(f"{case.title!r}: {name} is {getattr(found[0], name)!r}, expected {value!r}")
