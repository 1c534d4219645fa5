"""Catalog files → text → format name: gunzip, encoding detection (BOMs, UTF-8, cp1252), refusal of binary
data, and format detection from the header or content. Bad files raise CatalogError with one line naming the
file and the problem."""
from __future__ import annotations

import codecs
import csv
import gzip
import re
import zlib
from pathlib import Path

from core.errors import CatalogError
from index.formats import KB_RELATIONS, detect_columns, generic_format

# byte-order marks → codec; UTF-32 comes first because its little-endian BOM starts with UTF-16's
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def read_bytes(path: str) -> bytes:
    """Raw (gunzipped) bytes of a catalog file; CatalogError for missing paths, folders and empty files."""
    p = Path(path)
    if not p.exists():
        raise CatalogError(f"{path}: no such file")
    if p.is_dir():
        raise CatalogError(f"{path}: is a directory, expected a catalog file")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise CatalogError(f"{path}: corrupt gzip data ({exc})") from exc
    elif raw[:4] == b"PK\x03\x04":
        raise CatalogError(f"{path}: is a zip archive; unzip it and pass the CSV or JSON inside")
    if not raw.strip():
        raise CatalogError(f"{path}: empty file")
    return raw


def decode(raw: bytes, path: str) -> str:
    """UTF-8 (with or without BOM), UTF-16/32 with BOM, else cp1252/latin-1; CatalogError for binary data."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise CatalogError(f"{path}: invalid {encoding} text at byte {exc.start}") from exc
            break
    else:
        if b"\x00" in raw[:65536]:
            raise CatalogError(f"{path}: binary data (NUL bytes), not a CSV/JSON/text catalog")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
    sample = text[:65536]
    control = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r") or 0x7F <= ord(ch) <= 0x9F)
    if control > max(2, len(sample) // 100):
        raise CatalogError(f"{path}: binary data ({control} control characters), not a CSV/JSON/text catalog")
    if not text.strip():
        raise CatalogError(f"{path}: empty file")
    return text


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def _pipe_format(line: str) -> str | None:
    parts = line.split("|", 2)
    if len(parts) == 3:
        if parts[1] == "has_plot":
            return "wikimovies_plots"
        if parts[1] in KB_RELATIONS:
            return "wikimovies_kb"
    return None


def _csv_header(text: str) -> list[str]:
    try:
        return next(csv.reader([_first_line(text)]))
    except (csv.Error, StopIteration):
        return []


def detect_text_format(text: str, path: str) -> str:
    """One of FORMAT_NAMES from decoded text: JSON (vega by its columns), WikiMovies pipe lines, or a CSV header."""
    head = text.lstrip()[:1]
    if head in "[{":
        return "vega" if re.search(r'"Major[ _]Genre"', text[:20000]) else "json"
    line = _first_line(text)
    pipe = _pipe_format(line)
    if pipe:
        return pipe
    header = _csv_header(text)
    found = detect_columns(header)
    if found:
        return found
    if generic_format(header) is not None:
        return "csv"
    shown = ", ".join(repr(h) for h in header[:8])
    for delim, name in ((";", "';'"), ("\t", "tab"), ("|", "'|'")):
        if len(header) <= 1 and delim in line:
            raise CatalogError(f"{path}: no title-like column in header {shown} — the file seems to use {name} "
                               f"as delimiter; save it as comma-separated CSV")
    raise CatalogError(f"{path}: no title-like column (expected one of title, name, movie, film, series_title); "
                       f"header is {shown or 'empty'}")


def detect_format(path: str) -> str:
    """One of FORMAT_NAMES, from the file's columns or content (hf:… ids → "hf")."""
    if str(path).startswith("hf:"):
        return "hf"
    return detect_text_format(decode(read_bytes(path), path), path)
