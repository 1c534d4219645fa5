"""The bad-input catalogue: what a case is, and the small helpers its generators share.

Each case writes its input into a fresh folder (no fixture files in the repository) and says what `python -m index
add|build` must do with it: EXPECT_ERROR (one `error: ...` line, exit 2, the index byte-identical) or EXPECT_IMPORT
(exit 0, the index whole; `title` must then be one of its films, with `fields` as given).
"""
from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

EXPECT_ERROR = "error"
EXPECT_IMPORT = "import"


@dataclass(frozen=True)
class Case:
    name: str
    category: str
    make: Callable[[Path], Path]  # writes the input into the given folder; returns the SOURCE path to pass
    expect: str  # EXPECT_ERROR or EXPECT_IMPORT
    says: str = ""  # EXPECT_ERROR: a phrase the error line must hold
    title: str = ""  # EXPECT_IMPORT: a film the index must then hold
    fields: dict = field(default_factory=dict)  # EXPECT_IMPORT: that film's Movie fields, e.g. {"year": None}
    skip: Callable[[], str | None] = lambda: None  # a reason this case cannot run here (e.g. running as root)
    note: str = ""  # what the case shows, for the table

    def __post_init__(self):
        if self.expect not in (EXPECT_ERROR, EXPECT_IMPORT):
            raise ValueError(f"{self.name}: expect must be {EXPECT_ERROR!r} or {EXPECT_IMPORT!r}")


def as_root() -> str | None:
    return "running as root: permission bits do not stop reads" if os.geteuid() == 0 else None


def data(name: str, content: bytes | Callable[[], bytes]) -> Callable[[Path], Path]:
    """A maker writing `content` (or what a function returns, built only when the case runs) to `name`."""
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content() if callable(content) else content)
        return path
    return make


def table(rows: list[list], delimiter: str = ",") -> str:
    """CSV text (quoted as needed) of a header row and data rows."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue()


HEADER = ["title", "year", "directors", "cast", "genres", "runtime", "rating", "plot"]


def film(title: str, year="1975", runtime="124", rating="8.1", plot="A shark terrorises a beach town.",
         directors="Steven Spielberg", cast="Roy Scheider|Robert Shaw", genres="Thriller") -> list:
    return [title, year, directors, cast, genres, runtime, rating, plot]


def films_csv(*rows: list, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    return table([HEADER, *rows], delimiter).encode(encoding)


def one_value(column: str, value, title: str) -> bytes:
    """A two-film CSV whose film `title` has `value` in `column` (the other film is clean)."""
    row = dict(zip(HEADER, film(title)))
    row[column] = value
    return films_csv(film("Control Film"), [row[c] for c in HEADER])
