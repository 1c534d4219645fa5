"""Catalogue cases by file kind: JSON, compressed, binary and misnamed files, and odd paths."""
from __future__ import annotations

import gzip
import io
import json
import os
import sqlite3
import zipfile
from pathlib import Path

from tests.reliability.catalogue import EXPECT_ERROR, EXPECT_IMPORT, Case, as_root, data, film, films_csv

E, OK = EXPECT_ERROR, EXPECT_IMPORT  # short names keep each case on a line or two
JAWS = {"title": "Json Film", "year": 1975, "director": "Steven Spielberg", "genre": "Thriller"}


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


JSON = [
    Case("json_array", "json", data("m.json", _json([JAWS])), OK, title="Json Film", fields={"year": 1975}),
    Case("json_not_an_array", "json", data("m.json", b'"just a string"'), E, says="array of movie objects"),
    Case("json_object_without_movies", "json", data("m.json", b'{"count": 3, "ok": true}'), E,
         says="no title-like column"),
    Case("json_object_with_movies_list", "json", data("m.json", _json({"count": 1, "movies": [JAWS]})), OK,
         title="Json Film"),
    Case("json_truncated", "json", data("m.json", _json([JAWS, JAWS])[:-9]), E, says="invalid JSON"),
    Case("json_deeply_nested_arrays", "json", data("m.json", b"[" * 100_000 + b"]" * 100_000), E,
         says="nested too deeply", note="was a RecursionError traceback (44 lines)"),
    Case("json_deeply_nested_objects", "json", data("m.json", b'{"a":' * 50_000 + b"1" + b"}" * 50_000), E,
         says="nested too deeply", note="was a RecursionError traceback"),
    Case("json_deep_value_in_good_record", "json",
         data("m.json", _json([{"title": "Deep", "year": 1999, "cast": json.loads("[" * 500 + "]" * 500)}])), OK,
         title="Deep", fields={"cast": []}),
    Case("json_wrong_types", "json",
         data("m.json", _json([{"title": 1776, "year": [1972], "director": {"name": "Peter H. Hunt"},
                                "genre": ["Musical", "History"], "rating": "seven", "runtime": True},
                               {"title": None, "year": 2000}])), OK,
         title="1776", fields={"year": 1972, "directors": ["Peter H. Hunt"], "genres": ["Musical", "History"],
                               "rating": None}),
    Case("json_array_of_numbers", "json", data("m.json", b"[1, 2, 3]"), E, says="array of movie objects"),
    Case("json_empty_array", "json", data("m.json", b"[]"), E, says="empty"),
    Case("json_lines", "json", data("m.jsonl", b"\n".join(_json(r) for r in (JAWS, {**JAWS, "title": "Alien"}))), OK,
         title="Alien"),
    Case("json_lines_bad_line", "json", data("m.jsonl", _json(JAWS) + b"\n" + _json(JAWS) + b"\n{oops\n"), E,
         says="invalid JSON Lines"),
    Case("json_nan_infinity_huge", "json",
         data("m.json", b'[{"title": "Odd Numbers", "year": NaN, "rating": Infinity, "runtime": 1e400, '
                        b'"votes": 123456789012345678901234567890}]'), OK,
         title="Odd Numbers", fields={"year": None, "rating": None, "runtime_min": None, "votes": None},
         note="was an OverflowError traceback"),
]

# ---------------------------------------------------------------- compressed


def _bomb() -> bytes:
    """About 1.1 GiB of zeros in 1.1 MB: 1,100 gzip members of 1 MiB each (the limit is 1 GiB)."""
    return gzip.compress(b"\0" * (1 << 20), compresslevel=9) * 1100


def _sparse(folder: Path) -> Path:
    path = folder / "huge.csv"
    with open(path, "wb") as fh:
        fh.write(b"title,year\n")
        fh.truncate(1100 << 20)
    return path


COMPRESSED = [
    Case("gzip_csv", "compressed", data("m.csv.gz", gzip.compress(films_csv(film("Zipped")))), OK, title="Zipped"),
    Case("gzip_twice", "compressed", data("m.csv.gz.gz", gzip.compress(gzip.compress(films_csv(film("Twice"))))), OK,
         title="Twice", note="used to be refused as binary"),
    Case("gzip_corrupt", "compressed", data("m.csv.gz", b"\x1f\x8b\x08\x00" + os.urandom(2000)), E,
         says="corrupt gzip"),
    Case("gzip_truncated", "compressed", data("m.csv.gz", gzip.compress(films_csv(film("Jaws")) * 50)[:-40]), E,
         says="corrupt gzip"),
    Case("gzip_trailing_garbage", "compressed", data("m.csv.gz", gzip.compress(films_csv(film("Jaws"))) + b"junk"),
         E, says="trailing garbage"),
    Case("gzip_bomb", "compressed", data("bomb.csv.gz", _bomb), E, says="gzip bomb",
         note="1.1 MB inflating to 1.1 GiB: stopped after ~68 MB; it used to be inflated whole in memory"),
    Case("over_size_limit_sparse", "compressed", _sparse, E, says="catalog size limit",
         note="a 1.1 GiB (sparse) file, refused by its size before reading (it used to be read whole)"),
    Case("gzip_of_binary", "compressed", data("m.csv.gz", lambda: gzip.compress(os.urandom(5000))), E,
         says="binary data"),
    Case("bzip2", "compressed", data("m.csv.bz2", b"BZh91AY&SY" + os.urandom(200)), E, says="bzip2"),
]

# ---------------------------------------------------------------- binary and misnamed


def _zip(inner: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, content in inner.items():
            z.writestr(name, content)
    return out.getvalue()


def _sqlite(folder: Path) -> Path:
    path = folder / "movies.csv"
    with sqlite3.connect(path) as db:
        db.execute("create table movies (title text, year int)")
        db.execute("insert into movies values ('Jaws', 1975)")
    return path


def _parquet(folder: Path) -> Path:
    import pandas as pd

    path = folder / "movies.csv"
    pd.DataFrame({"title": ["Jaws"], "year": [1975]}).to_parquet(path)
    return path


BINARY = [
    Case("random_bytes", "binary", data("m.csv", lambda: os.urandom(8192)), E, says="binary data"),
    Case("zip_as_csv", "binary", data("m.csv", _zip({"movies.csv": films_csv(film("Jaws"))})), E, says="zip archive"),
    Case("xlsx_as_csv", "binary",
         data("m.csv", _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})), E,
         says="Excel workbook"),
    Case("xls_as_csv", "binary", data("m.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)), E, says=".xls"),
    Case("pdf_as_csv", "binary", data("m.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"), E, says="PDF"),
    Case("png_as_csv", "binary", data("m.csv", b"\x89PNG\r\n\x1a\n" + bytes(100)), E, says="PNG"),
    Case("elf_as_csv", "binary", data("m.csv", b"\x7fELF\x02\x01\x01" + bytes(200)), E, says="executable"),
    Case("sqlite_as_csv", "binary", _sqlite, E, says="SQLite"),
    Case("parquet_as_csv", "binary", _parquet, E, says="Parquet"),
]

# ---------------------------------------------------------------- paths


def _missing(folder: Path) -> Path:
    return folder / "missing.csv"


def _unreadable(folder: Path) -> Path:
    path = data("m.csv", films_csv(film("Jaws")))(folder)
    path.chmod(0)
    return path


def _symlink_loop(folder: Path) -> Path:
    (folder / "a.csv").symlink_to(folder / "b.csv")
    (folder / "b.csv").symlink_to(folder / "a.csv")
    return folder / "a.csv"


def _dangling(folder: Path) -> Path:
    (folder / "m.csv").symlink_to(folder / "gone.csv")
    return folder / "m.csv"


def _fifo(folder: Path) -> Path:
    os.mkfifo(folder / "m.csv")
    return folder / "m.csv"


def _device(folder: Path) -> Path:
    (folder / "m.csv").symlink_to("/dev/zero")
    return folder / "m.csv"


def _through_a_file(folder: Path) -> Path:
    return data("m.csv", b"title\nJaws\n")(folder) / "inner.csv"


def _hostile_name(folder: Path) -> Path:
    return folder / "evil\n\x1b[2Jname.csv"


def _good_hostile_name(folder: Path) -> Path:
    return data("good\nname \u202e.csv", films_csv(film("Named Oddly")))(folder)


PATHS = [
    Case("missing_file", "paths", _missing, E, says="no such file"),
    Case("directory", "paths", lambda folder: folder, E, says="is a directory"),
    Case("unreadable_chmod_000", "paths", _unreadable, E, says="permission denied", skip=as_root),
    Case("symlink_loop", "paths", _symlink_loop, E, says="symlink loop"),
    Case("dangling_symlink", "paths", _dangling, E, says="no such file"),
    Case("named_pipe", "paths", _fifo, E, says="not a regular file", note="reading it used to block forever"),
    Case("device_dev_zero", "paths", _device, E, says="not a regular file",
         note="it used to be read (without end)"),
    Case("path_through_a_file", "paths", _through_a_file, E, says="not a folder"),
    Case("missing_name_with_newline_and_escape", "paths", _hostile_name, E, says="no such file",
         note="the error line shows the name escaped, still one line"),
    Case("good_file_with_newline_in_name", "paths", _good_hostile_name, OK, title="Named Oddly"),
]

CASES = JSON + COMPRESSED + BINARY + PATHS
