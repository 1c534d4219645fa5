"""Catalog formats: how each known schema maps onto Movie fields, and the normalisers for messy values.

A format is a column signature (to detect it) plus a FieldMap (Movie field → source columns). Every
tabular source (CSV, JSON array, Hugging Face dataset) becomes a pandas DataFrame of strings first,
and `frame_to_movies` turns it into Movie records with per-reason skip counts.
"""
from __future__ import annotations

import html
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from core.records import Movie, normalize

# ---------------------------------------------------------------- normalisers

_CITATION = re.compile(r"\[(?:\d+|[a-z]|citation needed|note \d+)\]", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_SHORT_YEAR = re.compile(r"^\d{1,2}[-/ ][A-Za-z]{3}[-/ ](\d{2})$")  # 12-Jun-98
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_NULLS = frozenset({"", "nan", "none", "null", "n/a", "na", "-", "--", "unknown", "?", "nat", "not available"})
_MAX_YEAR = date.today().year + 2
_MAX_RUNTIME_MIN = 100_000  # minutes; the longest films run for days, not months
_MAX_VOTES = 10**12  # more votes than people is a broken cell
# C0/C1 control characters (whitespace kept: it is collapsed below) and the bidi embeddings, overrides and isolates
# that can make text display in another order than it is stored
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")  # terminal escapes
_CHAT_TOKEN = re.compile(r"<\|[\w.-]{1,40}\|>")  # chat-template tokens (<|im_start|>, <|endoftext|>) are no movie text
_INVISIBLE = dict.fromkeys([*range(0x00, 0x09), *range(0x0E, 0x20), *range(0x7F, 0xA0),
                            *range(0x202A, 0x202F), *range(0x2066, 0x206A)])

LANGUAGES = {  # ISO 639-1 codes used by TMDB → names (others are kept as given)
    "en": "English", "fr": "French", "es": "Spanish", "de": "German", "it": "Italian", "ja": "Japanese",
    "ko": "Korean", "zh": "Chinese", "cn": "Cantonese", "hi": "Hindi", "ru": "Russian", "pt": "Portuguese",
    "sv": "Swedish", "da": "Danish", "no": "Norwegian", "nl": "Dutch", "fi": "Finnish", "pl": "Polish",
    "tr": "Turkish", "th": "Thai", "id": "Indonesian", "ar": "Arabic", "he": "Hebrew", "fa": "Persian",
    "el": "Greek", "hu": "Hungarian", "cs": "Czech", "ta": "Tamil", "te": "Telugu", "ml": "Malayalam",
    "tl": "Tagalog", "uk": "Ukrainian", "ro": "Romanian", "is": "Icelandic", "sr": "Serbian", "ms": "Malay",
}


def clean_text(value) -> str:
    """One-line text: HTML entities decoded, `[n]` citation marks removed, terminal escapes, chat-template tokens,
    control and bidi-override characters dropped, whitespace collapsed."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value)
    if "&" in text:
        text = html.unescape(text)
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "<|" in text:
        text = _CHAT_TOKEN.sub(" ", text)
    text = text.translate(_INVISIBLE)
    if "[" in text:
        text = _CITATION.sub("", text)
    return _SPACE.sub(" ", text).strip()


def is_null(text: str) -> bool:
    return text.strip().lower() in _NULLS


def split_list(value, sep: str | None = None) -> list[str]:
    """Split a list cell ("a, b", "a|b", multi-line) into unique cleaned items; drops "unknown" and blanks."""
    raw = "" if value is None else str(value)
    if raw.strip() == "" or (isinstance(value, float) and math.isnan(value)):
        return []
    if sep is None:
        sep = "|" if "|" in raw else r"\n|,|;"
    parts = re.split(sep, raw) if len(sep) > 1 else raw.split(sep)
    seen: dict[str, str] = {}
    for part in parts:
        item = clean_text(part)
        if item and not is_null(item) and item.lower() not in seen:
            seen[item.lower()] = item
    return list(seen.values())


def title_case_genres(genres: list[str]) -> list[str]:
    """"science fiction" → "Science Fiction", "sci-fi" → "Sci-Fi"; already-cased values are kept."""
    out = []
    for g in genres:
        if not any(c.isupper() for c in g):
            g = re.sub(r"(^|[\s-])([a-z])", lambda m: m.group(1) + m.group(2).upper(), g)
        if g not in out:
            out.append(g)
    return out


def parse_year(value) -> int | None:
    """Year from 1994, "1994", "2021-12-15", "Jun 12 1998", "12-Jun-98"; None when absent.
    Two-digit-year mistakes that land in the future (vega's "Dec 31 2046") are moved back a century."""
    text = clean_text(value)
    if is_null(text) or text.startswith("-"):  # "-1975" is no release year
        return None
    match = _YEAR.search(text)
    if match:
        year = int(match.group(1))
    else:
        short = _SHORT_YEAR.match(text)
        if not short:
            return None
        year = 1900 + int(short.group(1))
    if year > _MAX_YEAR:
        year -= 100
    return year if 1870 <= year <= _MAX_YEAR else None


def parse_number(value) -> float | None:
    """"28,341,469" → 28341469.0, "142 min" → 142.0, "$1.5" → 1.5, "8.1/10" → 8.1; None when absent."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value) if abs(value) < 1e300 else math.inf
        return number if math.isfinite(number) else None
    text = clean_text(value).replace(",", "").replace("$", "")
    if is_null(text):
        return None
    hours = re.match(r"^(\d+)\s*h(?:ours?|rs?)?\s*(?:(\d+)\s*m)?", text, re.IGNORECASE)
    if hours:
        return float(int(hours.group(1)) * 60 + int(hours.group(2) or 0))
    match = _NUMBER.search(text)
    number = float(match.group()) if match else None
    return number if number is not None and math.isfinite(number) else None


def parse_int(value, low: int | None = None, high: int | None = None) -> int | None:
    """A whole number, or None when absent or outside [low, high] (a negative runtime, a 10^30 vote count)."""
    number = parse_number(value)
    if number is None or (low is not None and number < low) or (high is not None and number > high):
        return None
    return int(round(number))


def parse_rating(value) -> float | None:
    """A 0-10 rating; 0 means "not rated" in TMDB dumps and is dropped."""
    number = parse_number(value)
    return round(number, 2) if number is not None and 0 < number <= 10 else None


def language_name(value) -> str | None:
    text = clean_text(value)
    if is_null(text):
        return None
    return LANGUAGES.get(text.lower(), text)


def money(value, unit: str = "") -> str | None:
    """"28,341,469" → "$28,341,469"; with unit "million": 333.13 → "$333.13 million"."""
    number = parse_number(value)
    if number is None or number <= 0:
        return None
    if unit:
        return f"${number:g} {unit}"
    return f"${int(number):,}"


# ---------------------------------------------------------------- formats

@dataclass(frozen=True)
class Format:
    name: str
    signature: tuple[str, ...]  # columns (as column_key() writes them) that identify it
    fields: dict[str, tuple[str, ...]]  # Movie field → columns, first non-empty wins ("cast" joins all)
    list_sep: str | None = None  # list separator; None → "|" if present, else comma/semicolon/newline
    extras: dict[str, tuple[str, str]] = field(default_factory=dict)  # card label → (column, kind)


def column_key(name) -> str:
    """A column name as formats list it: normalize()d, then without spaces ("Series_Title" → "seriestitle")."""
    return normalize(str(name)).replace(" ", "")


# Generic synonyms: used by the "sample" and fallback "csv" formats and to find a title-like column.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "title": ("title", "seriestitle", "movietitle", "movie", "film", "name", "originaltitle", "primarytitle"),
    "year": ("year", "releaseyear", "releasedyear", "startyear", "releasedate", "date", "released"),
    "directors": ("directors", "director", "directedby"),
    "writers": ("writers", "writer", "writtenby", "screenplay"),
    "cast": ("cast", "actors", "stars", "starring", "starredactors"),
    "genres": ("genres", "genre", "majorgenre"),
    "language": ("language", "originallanguage", "inlanguage"),
    "tags": ("tags", "keywords", "hastags"),
    "rating": ("rating", "imdbrating", "voteaverage", "score"),
    "votes": ("votes", "votecount", "numvotes", "noofvotes", "imdbvotes"),
    "runtime_min": ("runtimemin", "runtime", "runtimeminutes", "runningtimemin", "duration"),
    "plot": ("plot", "premise", "overview", "description", "summary", "synopsis", "storyline"),
}
TITLE_COLUMNS = frozenset(SYNONYMS["title"])

FORMATS: list[Format] = [
    Format("tmdb", ("releasedate", "title", "overview", "voteaverage", "originallanguage", "genre"),
           {"title": ("title",), "year": ("releasedate",), "genres": ("genre",), "language": ("originallanguage",),
            "rating": ("voteaverage",), "votes": ("votecount",), "plot": ("overview",)}),
    Format("wiki_plots", ("releaseyear", "title", "originethnicity", "director", "cast", "plot"),
           {"title": ("title",), "year": ("releaseyear",), "directors": ("director",), "cast": ("cast",),
            "genres": ("genre",), "plot": ("plot",)},
           extras={"Origin": ("originethnicity", "text")}),
    Format("imdb_1000", ("rank", "title", "genre", "description", "director", "actors", "year"),
           {"title": ("title",), "year": ("year",), "directors": ("director",), "cast": ("actors",),
            "genres": ("genre",), "rating": ("rating",), "votes": ("votes",), "runtime_min": ("runtimeminutes",),
            "plot": ("description",)},
           extras={"Gross": ("revenuemillions", "millions"), "Metascore": ("metascore", "int")}),
    Format("imdb_top1000", ("seriestitle", "releasedyear", "director", "star1"),
           {"title": ("seriestitle",), "year": ("releasedyear",), "directors": ("director",),
            "cast": ("star1", "star2", "star3", "star4"), "genres": ("genre",), "rating": ("imdbrating",),
            "votes": ("noofvotes",), "runtime_min": ("runtime",), "plot": ("overview",)},
           extras={"Certificate": ("certificate", "text"), "Metascore": ("metascore", "int"),
                   "Gross": ("gross", "money")}),
    Format("vega", ("title", "releasedate", "majorgenre", "mpaarating"),
           {"title": ("title",), "year": ("releasedate",), "directors": ("director",), "genres": ("majorgenre",),
            "rating": ("imdbrating",), "votes": ("imdbvotes",), "runtime_min": ("runningtimemin",)},
           list_sep="|",
           extras={"MPAA rating": ("mpaarating", "text"), "US gross": ("usgross", "money"),
                   "Worldwide gross": ("worldwidegross", "money"), "Budget": ("productionbudget", "money"),
                   "Distributor": ("distributor", "text"), "Source": ("source", "text"),
                   "Creative type": ("creativetype", "text"), "Rotten Tomatoes": ("rottentomatoesrating", "percent")}),
    Format("sample", ("title", "year", "directors", "cast"),
           {k: v for k, v in SYNONYMS.items()}, list_sep="|"),
]
FORMAT_NAMES = ("tmdb", "wiki_plots", "imdb_1000", "imdb_top1000", "vega", "wikimovies_kb", "wikimovies_plots",
                "sample", "hf", "csv")
# WikiMovies/MetaQA KB relation → Movie field (or card label); the KB file is `title|relation|value` lines
KB_RELATIONS = {
    "directed_by": "directors", "written_by": "writers", "starred_actors": "cast", "has_genre": "genres",
    "has_tags": "tags", "in_language": "language", "release_year": "year",
    "has_imdb_rating": "IMDb rating", "has_imdb_votes": "IMDb votes",
}


def detect_columns(columns) -> str | None:
    """Name of the first known format whose signature columns are all present, else None."""
    present = {column_key(c) for c in columns}
    for fmt in FORMATS:
        if set(fmt.signature) <= present:
            return fmt.name
    return None


def generic_format(columns) -> Format | None:
    """A Format mapping columns by synonyms; None when no title-like column exists."""
    present = [column_key(c) for c in columns]
    mapping = {name: tuple(c for c in syns if c in present)[:1] for name, syns in SYNONYMS.items()}
    if not mapping["title"]:
        return None
    return Format("csv", (), {k: v for k, v in mapping.items() if v})


def format_by_name(name: str, columns) -> Format:
    if name == "csv":
        fmt = generic_format(columns)
        if fmt is None:
            raise KeyError("no title-like column")
        return fmt
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    raise KeyError(name)


def _extra_value(value, kind: str) -> str | None:
    if kind == "money":
        return money(value)
    if kind == "millions":
        return money(value, "million")
    if kind == "int":
        number = parse_int(value)
        return str(number) if number is not None else None
    if kind == "percent":
        number = parse_int(value)
        return f"{number}%" if number is not None else None
    text = clean_text(value)
    return None if is_null(text) else text


def _drop_bad_rows(df: pd.DataFrame, fmt: Format, max_field_chars: int, skipped: Counter) -> pd.DataFrame:
    """The columns `fmt` reads, renamed to column_key() (a 20,000-column file costs no more than its few useful
    columns); exact duplicate rows and rows with an oversized field dropped (counted)."""
    used = {c for columns in fmt.fields.values() for c in columns} | {column for column, _ in fmt.extras.values()}
    first: dict[str, int] = {}  # column key → position of its first column (a repeated name keeps the first)
    for position, name in enumerate(df.columns):
        key = column_key(name)
        if key in used and key not in first:
            first[key] = position
    df = df.iloc[:, list(first.values())].set_axis(list(first), axis=1)
    dup = df.astype(str).duplicated()
    if dup.any():
        skipped["duplicate row"] += int(dup.sum())
        df = df[~dup]
    lengths = df.astype(str).apply(lambda col: col.str.len()).max(axis=1) if len(df.columns) else pd.Series(dtype=int)
    too_long = lengths > max_field_chars
    if too_long.any():
        skipped[f"field longer than {max_field_chars:,} characters"] += int(too_long.sum())
        df = df[~too_long]
    return df


def _first(row: dict, columns: list[str], allow_null_words: bool = False):
    """The first non-blank value of `columns` in the row; null words ("unknown", "n/a") are skipped unless allowed."""
    for col in columns:
        value = row[col]
        if value is None or (isinstance(value, float) and math.isnan(value)) or not str(value).strip():
            continue
        if allow_null_words or not is_null(str(value)):
            return value
    return None


def _row_to_movie(row: dict, fmt: Format, getters: dict[str, list[str]], extras: dict[str, tuple[str, str]],
                  source: str, notes: Counter) -> Movie | None:
    """One row as a Movie (None without a title); `getters` maps each Movie field to the row's columns."""
    first = lambda name, allow_null_words=False: _first(row, getters.get(name, ()), allow_null_words)
    title = clean_text(first("title", allow_null_words=True))  # "Unknown" (2011) is a film
    if not title:
        return None
    year = parse_year(first("year"))
    if year is None:
        notes["missing or invalid year"] += 1
    cast: list[str] = []
    for col in getters.get("cast", ()):
        cast += [c for c in split_list(row[col], fmt.list_sep) if c.lower() not in {x.lower() for x in cast}]
    return Movie(
        title=title,
        year=year,
        directors=split_list(first("directors"), fmt.list_sep),
        writers=split_list(first("writers"), fmt.list_sep),
        cast=cast,
        genres=title_case_genres(split_list(first("genres"), fmt.list_sep)),
        language=language_name(first("language")),
        tags=split_list(first("tags"), fmt.list_sep),
        rating=parse_rating(first("rating")),
        votes=parse_int(first("votes"), 0, _MAX_VOTES),
        runtime_min=parse_int(first("runtime_min"), 1, _MAX_RUNTIME_MIN),
        plot=clean_text(first("plot")),
        source=source,
        extra={label: v for label, (col, kind) in extras.items() if (v := _extra_value(row[col], kind))},
    )


def frame_to_movies(df: pd.DataFrame, fmt: Format, source: str,
                    max_field_chars: int) -> tuple[list[Movie], Counter, Counter]:
    """Rows → Movies. Returns (movies, skipped reason → count, notes reason → count).
    Exact duplicate rows and rows with an oversized field or no title are skipped; rows with the same
    title and year are merged into one movie."""
    skipped: Counter = Counter()
    notes: Counter = Counter()
    df = _drop_bad_rows(df, fmt, max_field_chars, skipped)
    cols = set(df.columns)
    getters = {name: [c for c in columns if c in cols] for name, columns in fmt.fields.items()}
    extras = {label: spec for label, spec in fmt.extras.items() if spec[0] in cols}
    by_id: dict[str, Movie] = {}
    for row in df.to_dict("records"):
        movie = _row_to_movie(row, fmt, getters, extras, source, notes)
        if movie is None:
            skipped["missing title"] += 1
        elif movie.id in by_id:
            notes["same title and year merged"] += 1
            by_id[movie.id] = merge_movies(by_id[movie.id], movie)
        else:
            by_id[movie.id] = movie
    return list(by_id.values()), skipped, notes


def _union(a: list[str], b: list[str]) -> list[str]:
    seen = {x.lower() for x in a}
    return a + [x for x in b if x.lower() not in seen and not seen.add(x.lower())]


def merge_movies(old: Movie, new: Movie) -> Movie:
    """One record from two of the same film: lists are united, missing scalars filled from `new`,
    distinct plots kept as separate paragraphs, sources joined with ", "."""
    plot = old.plot
    if new.plot and new.plot not in plot:
        plot = f"{plot}\n\n{new.plot}" if plot else new.plot
    sources = _union([s for s in old.source.split(", ") if s], [s for s in new.source.split(", ") if s])
    return Movie(
        title=old.title, year=old.year if old.year is not None else new.year,
        directors=_union(old.directors, new.directors), writers=_union(old.writers, new.writers),
        cast=_union(old.cast, new.cast), genres=_union(old.genres, new.genres),
        language=old.language or new.language, tags=_union(old.tags, new.tags),
        rating=old.rating if old.rating is not None else new.rating,
        votes=old.votes if old.votes is not None else new.votes,
        runtime_min=old.runtime_min if old.runtime_min is not None else new.runtime_min,
        plot=plot, source=", ".join(sources), id=old.id, extra={**new.extra, **old.extra},
    )
