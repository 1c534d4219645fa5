"""Catalog readers: any supported file (or hf:dataset id) → Movie records, with the format detected from the
columns or content (index.detect). Bad files raise CatalogError with one line naming the file and the problem;
partly bad rows are skipped and counted by reason."""
from __future__ import annotations

import hashlib
import io
import json
import re
import string
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core import models  # module attribute: tests replace models.hub_reachable
from core.config import Settings
from core.errors import CatalogError
from core.records import Movie, key_text, movie_id
from index.detect import decode, detect_text_format, read_bytes, sniff_delimiter
from index.formats import (
    FORMAT_NAMES,
    KB_RELATIONS,
    clean_text,
    column_key,
    detect_columns,
    format_by_name,
    frame_to_movies,
    merge_movies,
    parse_year,
    title_case_genres,
)

_KB_LIST_FIELDS = ("directors", "writers", "cast", "genres", "tags")


@dataclass
class CatalogRead:
    path: str
    format: str
    movies: list[Movie]
    skipped: dict[str, int]  # reason → rows skipped
    notes: dict[str, int] = field(default_factory=dict)  # reason → rows kept with a fix (e.g. missing year)
    sha256: str = ""  # of the file content, after gunzip ("" for hf: datasets)
    size: int = 0  # bytes

    def summary(self) -> dict:
        return {"path": self.path, "format": self.format, "movies": len(self.movies), "skipped": self.skipped,
                "notes": self.notes, "sha256": self.sha256, "size": self.size}


# ---------------------------------------------------------------- readers

def _csv_frame(text: str, path: str) -> tuple[pd.DataFrame, int]:
    """The CSV as strings, split by its sniffed delimiter (, ; tab |); also the number of malformed lines skipped."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            df = pd.read_csv(io.StringIO(text), sep=sniff_delimiter(text), dtype=str, keep_default_na=False,
                             on_bad_lines="warn", engine="c")
        except pd.errors.EmptyDataError as exc:
            raise CatalogError(f"{path}: empty file") from exc
        except (pd.errors.ParserError, ValueError) as exc:
            raise CatalogError(f"{path}: malformed CSV ({str(exc).strip().splitlines()[-1].strip()})") from exc
    bad_lines = sum(str(w.message).count("Skipping line") for w in caught)
    return df, bad_lines


def _cell(value, depth: int = 0):
    """A JSON value as a table cell: scalars kept, a list joined with "|" (the list separator formats split on),
    an object by its "name" or "title" (TMDB credits), anything nested deeper than two levels dropped."""
    if isinstance(value, list):
        items = [_cell(v, depth + 1) for v in value] if depth < 2 else []
        return "|".join(str(v) for v in items if v is not None and str(v).strip()) or None
    if isinstance(value, dict):
        named = next((value[k] for k in ("name", "title") if k in value), None)
        return None if depth >= 2 or isinstance(named, (list, dict)) else named
    return value


def _json_values(text: str, path: str):
    """The parsed JSON document, or the list of JSON Lines values; one-line CatalogError otherwise."""
    try:
        return json.loads(text)
    except RecursionError:
        raise CatalogError(f"{path}: invalid JSON (nested too deeply to be a movie catalog)") from None
    except json.JSONDecodeError as whole:
        lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        if len(lines) < 2 or not lines[0][1].lstrip().startswith("{"):
            raise CatalogError(f"{path}: invalid JSON ({whole.msg} at line {whole.lineno})") from None
    values = []
    for n, line in lines:  # JSON Lines: one object per line
        try:
            values.append(json.loads(line))
        except RecursionError:
            raise CatalogError(f"{path}: invalid JSON (line {n} nested too deeply)") from None
        except json.JSONDecodeError as exc:
            raise CatalogError(f"{path}: invalid JSON Lines ({exc.msg} at line {n})") from None
    return values


def _json_frame(text: str, path: str) -> pd.DataFrame:
    data = _json_values(text, path)
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        data = lists[0] if len(lists) == 1 else [data]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise CatalogError(f"{path}: JSON must be an array of movie objects")
    if not data:
        raise CatalogError(f"{path}: JSON array is empty, no movies")
    # object dtype: a title 1776 next to a null title must stay 1776, not become the float 1776.0
    return pd.DataFrame([{str(k): _cell(v) for k, v in r.items()} for r in data], dtype=object)


def _read_table(df: pd.DataFrame, fmt_name: str, path: str, source: str, settings: Settings,
                skipped: Counter) -> CatalogRead:
    if fmt_name in ("json", "hf"):
        fmt_name = detect_columns(df.columns) or "csv"
    try:
        fmt = format_by_name(fmt_name, df.columns)
    except KeyError:
        shown = ", ".join(repr(str(c)) for c in list(df.columns)[:8])
        raise CatalogError(f"{path}: no title-like column (expected one of title, name, movie, film, series_title); "
                           f"columns are {shown}") from None
    missing = [c for c in fmt.signature if c not in {column_key(x) for x in df.columns}]
    if missing:
        raise CatalogError(f"{path}: not in {fmt.name} format, missing columns {', '.join(missing)}")
    if df.empty:
        raise CatalogError(f"{path}: header only, no data rows")
    movies, skip, notes = frame_to_movies(df, fmt, source, settings.index.max_field_chars)
    skipped.update(skip)
    if not movies:
        raise CatalogError(f"{path}: no usable rows ({_reasons(skipped) or 'all rows empty'})")
    return CatalogRead(path=path, format=fmt.name, movies=movies, skipped=dict(skipped), notes=dict(notes))


def _reasons(counts: Counter | dict) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in counts.items())


def _lines(text: str, path: str, settings: Settings, skipped: Counter) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = line.split("|", 2)
        if len(parts) != 3 or not parts[0].strip():
            skipped["malformed line (expected a|relation|b)"] += 1
        elif len(line) > settings.index.max_field_chars:
            skipped[f"field longer than {settings.index.max_field_chars:,} characters"] += 1
        else:
            rows.append(parts)
    return rows


def _read_kb(text: str, path: str, source: str, settings: Settings) -> CatalogRead:
    """WikiMovies/MetaQA triples. Films sharing a title are one subject there: the first year is the
    movie's year, further years are kept as "Other release years"."""
    skipped: Counter = Counter()
    facts: dict[str, dict] = {}
    for title, rel, obj in _lines(text, path, settings, skipped):
        name = KB_RELATIONS.get(rel)
        if name is None:
            skipped["unknown relation"] += 1
            continue
        obj = clean_text(obj)
        if not obj:
            skipped["empty object"] += 1
            continue
        entry = facts.setdefault(clean_text(title), {})
        values = entry.setdefault(name, [])
        if obj not in values:
            values.append(obj)
    movies: dict[str, Movie] = {}
    notes: Counter = Counter()
    for title, f in facts.items():
        years = [y for y in (parse_year(v) for v in f.get("year", [])) if y]
        extra = {k: ", ".join(f[k]) for k in ("IMDb rating", "IMDb votes") if k in f}
        if len(years) > 1:
            extra["Other release years"] = ", ".join(str(y) for y in years[1:])
            notes["films sharing a title (one KB subject)"] += 1
        if not years:
            notes["missing or invalid year"] += 1
        movie = Movie(title=title, year=years[0] if years else None,
                      language=", ".join(f.get("language", [])) or None, source=source, extra=extra,
                      **{k: f.get(k, []) for k in _KB_LIST_FIELDS})
        movie.genres = title_case_genres(movie.genres)
        movies[movie.id] = merge_movies(movies[movie.id], movie) if movie.id in movies else movie
    if not movies:
        raise CatalogError(f"{path}: no usable lines ({_reasons(skipped) or 'empty'})")
    return CatalogRead(path=path, format="wikimovies_kb", movies=list(movies.values()), skipped=dict(skipped),
                       notes=dict(notes))


def _plot_file_title(title: str) -> str:
    """A KB title as the WikiMovies plot file writes it: key_text() without punctuation ("Schindler's List" →
    "schindlers list"). Accents stay: the file keeps them, and "Brüno" must not join "Bruno"."""
    return key_text(re.sub(r"[^\w\s]", "", title.lower()))


def _read_plots(text: str, path: str, source: str, settings: Settings) -> CatalogRead:
    skipped: Counter = Counter()
    plots: dict[str, list[str]] = {}
    for title, rel, plot in _lines(text, path, settings, skipped):
        if len(plot) > 1 and plot[0] == plot[-1] == '"':  # CSV-style quoting left in some lines
            plot = plot[1:-1].replace('""', '"')
        plot = clean_text(plot)
        if rel != "has_plot" or not plot:
            skipped["not a has_plot line" if rel != "has_plot" else "empty plot"] += 1
            continue
        plots.setdefault(clean_text(title), []).append(plot)
    if not plots:
        raise CatalogError(f"{path}: no usable lines ({_reasons(skipped) or 'empty'})")
    movies = [Movie(title=string.capwords(t), plot="\n\n".join(p), source=source) for t, p in plots.items()]
    return CatalogRead(path=path, format="wikimovies_plots", movies=movies, skipped=dict(skipped))


def _read_hf(dataset_id: str, path: str, settings: Settings) -> CatalogRead:
    if not models.hub_reachable(settings.models.hub_timeout_s):
        raise CatalogError(f"{path}: the Hugging Face hub cannot be reached; "
                           f"download the dataset as CSV and pass the file")
    try:
        import datasets  # deferred: heavy, and only for hf: sources

        df = datasets.load_dataset(dataset_id, split="train").to_pandas()
    except Exception as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CatalogError(f"{path}: cannot load dataset ({detail})") from exc
    return _read_table(df, "hf", path, path, settings, Counter())


def read_catalog(path: str, settings: Settings, format: str | None = None) -> CatalogRead:
    """Read one catalog file (or `hf:<dataset id>`) into Movie records.

    Args:
        path: a CSV/JSON/JSON-lines/WikiMovies text file (gzipped or not), or `hf:<dataset id>`.
        settings: `settings.index.max_field_chars` caps a field (longer rows are skipped);
            `settings.models.hub_timeout_s` bounds the hub check of `hf:` sources.
        format: one of FORMAT_NAMES; None detects it from the columns or content.

    Returns:
        A CatalogRead: the movies, rows skipped and kept-with-a-fix by reason, the file's sha256 and size.

    Raises:
        CatalogError: the file is missing, unreadable, of an unknown format, or holds no usable rows (one line).
    """
    path = str(path)
    try:
        return _read_catalog(path, settings, format)
    except CatalogError as exc:
        if str(exc).isprintable():
            raise
        raise CatalogError(printable(str(exc))) from exc  # a file name with a newline or escape stays one line


def printable(text: str) -> str:
    """`text` with non-printable characters (newlines, escapes, bidi controls) written as Python escapes."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _read_catalog(path: str, settings: Settings, format: str | None) -> CatalogRead:
    if format is not None and format not in FORMAT_NAMES:
        raise CatalogError(f"{path}: unknown format '{format}' (choose from {', '.join(FORMAT_NAMES)})")
    if path.startswith("hf:") or format == "hf":
        read = _read_hf(path.removeprefix("hf:"), path, settings)
        read.format = "hf"
        return read
    raw = read_bytes(path)
    text = decode(raw, path)
    fmt = format or detect_text_format(text, path)
    source = Path(path).name
    if fmt == "wikimovies_kb":
        read = _read_kb(text, path, source, settings)
    elif fmt == "wikimovies_plots":
        read = _read_plots(text, path, source, settings)
    elif fmt in ("vega", "json"):
        read = _read_table(_json_frame(text, path), fmt, path, source, settings, Counter())
    else:
        df, bad_lines = _csv_frame(text, path)
        skipped = Counter({"malformed CSV line (wrong field count)": bad_lines} if bad_lines else {})
        read = _read_table(df, fmt, path, source, settings, skipped)
    read.sha256 = hashlib.sha256(raw).hexdigest()
    read.size = len(raw)
    return read


def attach_plots(movies: list[Movie], plots: CatalogRead) -> None:
    """Move the plot file's plots onto the (KB) movies with the same title; unmatched plots stay as movies."""
    by_key: dict[str, Movie] = {}
    for movie in movies:
        by_key.setdefault(_plot_file_title(movie.title), movie)
    unmatched = []
    for p in plots.movies:
        movie = by_key.get(_plot_file_title(p.title))
        if movie is None:
            unmatched.append(p)
            continue
        if p.plot not in movie.plot:
            movie.plot = f"{movie.plot}\n\n{p.plot}" if movie.plot else p.plot
        if p.source not in movie.source.split(", "):
            movie.source = f"{movie.source}, {p.source}" if movie.source else p.source
    plots.notes["plots attached to KB movies"] = len(plots.movies) - len(unmatched)
    if unmatched:
        plots.notes["plots without a KB movie (kept as plot-only movies)"] = len(unmatched)
    plots.movies = unmatched


def read_catalogs(paths: list[str], settings: Settings, format: str | None = None,
                  known: list[Movie] | None = None) -> list[CatalogRead]:
    """Read every source; a WikiMovies plot file is merged into the KB file given with it (or, without one,
    into the `known` movies of an existing index).

    Args:
        paths: catalog files or `hf:` ids, as for `read_catalog`.
        settings: as for `read_catalog`.
        format: one format for every path; None detects each.
        known: movies of an existing index that a plot file without its KB file attaches to (changed in place).

    Returns:
        One CatalogRead per path, in order (a merged plot file keeps only the plots no movie took).

    Raises:
        CatalogError: any path cannot be read; nothing is returned then.
    """
    reads = [read_catalog(p, settings, format) for p in paths]
    kb_movies = [m for r in reads if r.format == "wikimovies_kb" for m in r.movies] or (known or [])
    for r in reads:
        if r.format == "wikimovies_plots" and kb_movies:
            attach_plots(kb_movies, r)
    return reads


SAME_FILM = "same film as an earlier source's record (merged)"  # CatalogRead.notes keys set by combine()
NEAR_FILM = "same film as an earlier source's record, year one apart or missing (merged)"


def combine(reads: list[CatalogRead]) -> list[Movie]:
    """All movies of several reads, one record per film, listing every source it came from.

    Records with the same id (title + year) merge. Then a record joins the record of another source with the same
    title whose year is one apart (festival vs release dates) or missing (a KB film without a year), when each is
    the other's only such match; remakes, decades apart, stay apart. The later read's notes count both merges.
    """
    movies: dict[str, Movie] = {}
    for read in reads:
        for m in read.movies:
            if m.id in movies:
                if not _sources(m) & _sources(movies[m.id]):  # not a repeat inside one source
                    read.notes[SAME_FILM] = read.notes.get(SAME_FILM, 0) + 1
                movies[m.id] = merge_movies(movies[m.id], m)
            else:
                movies[m.id] = m
    return _join_near_duplicates(list(movies.values()), reads)


def _sources(movie: Movie) -> set[str]:
    return {s for s in movie.source.split(", ") if s}


def _near(a: Movie, b: Movie) -> bool:
    """Same title (checked by the caller), no source in common, and years one apart or one of them unknown."""
    if _sources(a) & _sources(b):
        return False
    if a.year is None or b.year is None:
        return (a.year is None) != (b.year is None)
    return abs(a.year - b.year) == 1


def _join_near_duplicates(movies: list[Movie], reads: list[CatalogRead]) -> list[Movie]:
    """Merge each mutually unique near pair (see combine); the earlier record keeps its title, year and place."""
    by_title: dict[str, list[int]] = {}
    for i, m in enumerate(movies):
        by_title.setdefault(key_text(m.title), []).append(i)
    matches = {i: [j for j in group if j != i and _near(movies[i], movies[j])]
               for group in by_title.values() if len(group) > 1 for i in group}
    read_of = {name: r for r in reads for name in (r.path, Path(r.path).name)}
    out: dict[int, Movie] = dict(enumerate(movies))
    for i, found in matches.items():
        j = found[0] if len(found) == 1 else None
        if j is None or j < i or matches.get(j) != [i]:
            continue
        first, second = movies[i], movies[j]
        merged = merge_movies(first, second)
        merged.id = movie_id(merged.title, merged.year)  # a yearless record takes the other's year
        out[i] = merged
        del out[j]
        read = read_of.get(second.source.split(", ")[0])
        if read is not None:
            read.notes[NEAR_FILM] = read.notes.get(NEAR_FILM, 0) + 1
    return list(out.values())
