"""Catalog files → text → format name: safe reading (regular files only, a size cap that also stops gzip bombs),
encoding detection (BOMs, UTF-16 without BOM, UTF-8, cp1252/latin-1, line by line when mixed), refusal of binary
data (named by its magic number where known), the CSV delimiter (, ; tab |) and the format from the header or
content. Bad files raise CatalogError with one line naming the file and the problem."""
from __future__ import annotations

import codecs
import csv
import errno
import io
import json
import os
import re
import stat
import zlib

from core.errors import CatalogError
from index.formats import KB_RELATIONS, detect_columns, generic_format

MAX_CATALOG_BYTES = 1 << 30  # a catalog (after gunzip) larger than this is refused before it fills memory
DELIMITERS = (",", ";", "\t", "|")  # CSV delimiters sniffed, in order of preference on a tie
_SNIFF_CHARS = 65536  # text looked at to find the delimiter and to spot binary data
_GUNZIP_CHUNK = 1 << 22  # bytes inflated per step, so the limits are checked as decompression goes
_BOMB_RATIO = 500  # text compresses 3-20-fold (identical rows ~300), a bomb of one byte repeated ~1000-fold
_BOMB_CHECK_BYTES = 64 << 20  # the ratio is judged once this much is inflated (small files may compress well)

# byte-order marks → codec; UTF-32 comes first because its little-endian BOM starts with UTF-16's
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# magic numbers of files people pass by mistake → what to say (zip: see _zip_kind)
_MAGIC = ((b"BZh", "is bzip2-compressed; decompress it (or gzip it) first"),
          (b"\xfd7zXZ\x00", "is xz-compressed; decompress it (or gzip it) first"),
          (b"(\xb5/\xfd", "is zstd-compressed; decompress it (or gzip it) first"),
          (b"7z\xbc\xaf\x27\x1c", "is a 7-Zip archive; extract the CSV or JSON inside"),
          (b"Rar!", "is a RAR archive; extract the CSV or JSON inside"),
          (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "is an Excel 97-2003 (.xls) or other OLE2 file; export it as CSV"),
          (b"SQLite format 3\x00", "is an SQLite database; export the table as CSV"),
          (b"PAR1", "is a Parquet file; export it as CSV or JSON"),
          (b"%PDF", "is a PDF document, not a CSV/JSON/text catalog"),
          (b"\x89PNG", "is a PNG image, not a CSV/JSON/text catalog"),
          (b"\xff\xd8\xff", "is a JPEG image, not a CSV/JSON/text catalog"),
          (b"\x7fELF", "is an executable (ELF), not a CSV/JSON/text catalog"))


def _stat(path: str) -> os.stat_result:
    try:
        return os.stat(path)
    except OSError as exc:
        why = {errno.ENOENT: "no such file", errno.ELOOP: "symlink loop (too many levels of symbolic links)",
               errno.ENOTDIR: "no such file (a parent in the path is not a folder)",
               errno.EACCES: "permission denied"}.get(exc.errno, f"cannot read ({exc.strerror or exc})")
        raise CatalogError(f"{path}: {why}") from exc


def _zip_kind(raw: bytes) -> str:
    if b"[Content_Types].xml" in raw[:65536] or b"xl/" in raw[:65536]:
        return "is an Excel workbook (.xlsx); export the sheet as CSV"
    return "is a zip archive; unzip it and pass the CSV or JSON inside"


def _gunzip(raw: bytes, path: str, limit: int) -> bytes:
    """Every gzip member of `raw`, inflated step by step so that a bomb stops early: at `limit` bytes, or as soon as
    the output passes _BOMB_CHECK_BYTES at more than _BOMB_RATIO times the input read so far."""
    out: list[bytes] = []
    total, data = 0, raw
    while data[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            while not inflater.eof:
                chunk = inflater.decompress(data, _GUNZIP_CHUNK)
                data = inflater.unconsumed_tail
                total += len(chunk)
                if total > limit:
                    raise CatalogError(f"{path}: decompresses to more than {limit:,} bytes (the catalog size limit); "
                                       f"split the catalog")
                consumed = len(raw) - len(data) - len(inflater.unused_data)  # the rest is the members still to go
                if total > _BOMB_CHECK_BYTES and total > _BOMB_RATIO * consumed:
                    raise CatalogError(f"{path}: decompresses more than {_BOMB_RATIO}-fold (a gzip bomb, not a "
                                       f"catalog); stopped at {total:,} bytes")
                if not chunk and not data:
                    raise CatalogError(f"{path}: corrupt gzip data (truncated)")
                out.append(chunk)
        except zlib.error as exc:
            raise CatalogError(f"{path}: corrupt gzip data ({exc})") from exc
        data = inflater.unused_data
    if data.strip(b"\x00"):
        raise CatalogError(f"{path}: corrupt gzip data (trailing garbage after the compressed stream)")
    return b"".join(out)


def read_bytes(path: str, limit: int | None = None) -> bytes:
    """Raw (gunzipped) bytes of a catalog file, at most `limit` (default MAX_CATALOG_BYTES) bytes; CatalogError
    for missing paths, folders, pipes and devices, archives and other known binary formats, and empty files."""
    limit = MAX_CATALOG_BYTES if limit is None else limit
    info = _stat(path)
    if stat.S_ISDIR(info.st_mode):
        raise CatalogError(f"{path}: is a directory, expected a catalog file")
    if not stat.S_ISREG(info.st_mode):
        raise CatalogError(f"{path}: not a regular file (a pipe, socket or device), expected a catalog file")
    if info.st_size > limit:
        raise CatalogError(f"{path}: {info.st_size:,} bytes, more than the catalog size limit ({limit:,}); "
                           f"split the catalog")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if len(raw) > limit:
        raise CatalogError(f"{path}: more than the catalog size limit ({limit:,} bytes); split the catalog")
    for _ in range(3):  # a gzipped .gz, at most a few levels deep
        if raw[:2] != b"\x1f\x8b":
            break
        raw = _gunzip(raw, path, limit)
    if raw[:4] == b"PK\x03\x04":
        raise CatalogError(f"{path}: {_zip_kind(raw)}")
    for magic, what in _MAGIC:
        if raw.startswith(magic):
            raise CatalogError(f"{path}: {what}")
    if not raw.strip():
        raise CatalogError(f"{path}: empty file")
    return raw


def _utf16_without_bom(raw: bytes) -> str | None:
    """"utf-16-le"/"utf-16-be" when the NUL bytes of the start fall on every other byte (ASCII-heavy UTF-16)."""
    head = raw[:4096 - 4096 % 2]
    if len(head) < 4:
        return None
    even, odd = head[0::2].count(0) / (len(head) // 2), head[1::2].count(0) / (len(head) // 2)
    if odd > 0.6 and even < 0.05:
        return "utf-16-le"
    if even > 0.6 and odd < 0.05:
        return "utf-16-be"
    return None


def _legacy(line: bytes) -> str:
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined
        return line.decode("latin-1")


def _decode_lines(raw: bytes) -> str:
    """UTF-8 where a line is valid UTF-8, else cp1252 (latin-1): files pasted together from different sources."""
    out = []
    for line in raw.splitlines(keepends=True):
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(_legacy(line))
    return "".join(out)


def decode(raw: bytes, path: str) -> str:
    """UTF-8 (with or without BOM), UTF-16/32 with BOM, UTF-16 without BOM, else cp1252/latin-1 line by line;
    CatalogError for binary data."""
    encoding = next((codec for bom, codec in _BOMS if raw.startswith(bom)), None) or _utf16_without_bom(raw)
    if encoding is not None:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise CatalogError(f"{path}: invalid {encoding} text at byte {exc.start}") from exc
    elif b"\x00" in raw[:_SNIFF_CHARS]:
        raise CatalogError(f"{path}: binary data (NUL bytes), not a CSV/JSON/text catalog")
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = _decode_lines(raw)
    sample = text[:_SNIFF_CHARS]
    control = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r") or 0x7F <= ord(ch) <= 0x9F)
    if control > max(16, len(sample) // 100):  # a few stray bells or escapes are text (cleaned later), not binary
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


def _rows(sample: str, delimiter: str, limit: int = 50) -> list[list[str]]:
    """The first non-blank rows of `sample` split by `delimiter` (the last, maybe cut-off, row dropped)."""
    rows = []
    try:
        for row in csv.reader(io.StringIO(sample), delimiter=delimiter):
            if any(cell.strip() for cell in row):
                rows.append(row)
            if len(rows) > limit:
                break
    except csv.Error:
        pass
    return rows[:-1] if len(rows) > 2 else rows


def _titled(header: list[str]) -> bool:
    return bool(detect_columns(header)) or generic_format(header) is not None


def sniff_delimiter(text: str) -> str:
    """The CSV delimiter among DELIMITERS: the one whose header holds a title-like column and splits the first rows
    into as many fields as the header; csv.Sniffer's guess breaks ties, then DELIMITERS order. "," when none splits."""
    sample = text[:_SNIFF_CHARS]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = ","
    scores = {}
    for order, delimiter in enumerate(DELIMITERS):
        rows = _rows(sample, delimiter)
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistent = sum(len(r) == width for r in rows) / len(rows)
        scores[delimiter] = (_titled(rows[0]), round(consistent, 1), delimiter == sniffed, -order)
    return max(scores, key=scores.get) if scores else ","


def csv_header(text: str, delimiter: str | None = None) -> list[str]:
    """The first row's cells, split by `delimiter` (default: sniffed)."""
    rows = _rows(_first_line(text), delimiter or sniff_delimiter(text), limit=1)
    return rows[0] if rows else []


def _json_scalar(text: str) -> bool:
    try:
        return isinstance(json.loads(text), str)
    except ValueError:
        return False


def detect_text_format(text: str, path: str) -> str:
    """One of FORMAT_NAMES from decoded text: JSON (vega by its columns), WikiMovies pipe lines, or a CSV header
    (comma, semicolon, tab or pipe separated)."""
    head = text.lstrip()[:1]
    if head in "[{":
        return "vega" if re.search(r'"Major[ _]Genre"', text[:20000]) else "json"
    if head == '"' and len(text) < _SNIFF_CHARS and _json_scalar(text):
        raise CatalogError(f"{path}: JSON must be an array of movie objects, not a single string")
    pipe = _pipe_format(_first_line(text))
    if pipe:
        return pipe
    header = csv_header(text)
    found = detect_columns(header)
    if found:
        return found
    if generic_format(header) is not None:
        return "csv"
    shown = ", ".join(repr(h[:40]) for h in header[:8])
    raise CatalogError(f"{path}: no title-like column (expected one of title, name, movie, film, series_title); "
                       f"header is {shown or 'empty'}")


def detect_format(path: str) -> str:
    """One of FORMAT_NAMES, from the file's columns or content (hf:… ids → "hf")."""
    if str(path).startswith("hf:"):
        return "hf"
    return detect_text_format(decode(read_bytes(path), path), path)
