"""Evaluation questions: readers for WikiMovies, MetaQA, JSONL and CSV files, and stratified sampling.

Formats:
  wikimovies  `1 who directed Jaws?<TAB>Steven Spielberg, Carl Gottlieb` (answers split on ", ")
  metaqa      `what films did [Michelle Trachtenberg] star in<TAB>Inspector Gadget|Black Christmas`
              (type from the sibling `qa_<split>_qtype.txt`, same line order, when it exists)
  jsonl       `{"question": ..., "answers": [...] or "...", "type": ..., "entity": ...}` per line
  csv         columns Question and Answer (optional Type, Entity), as in the seed data-science chatbot
WikiMovies types come from the sibling `categories/wiki-entities_qa_<type>_<split>.txt` files when
they exist, else from the question templates below, which also give the entity named in the question.
"""
from __future__ import annotations

import csv
import json
import math
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import QuestionsError
from core.records import Question

FORMATS = ("wikimovies", "metaqa", "jsonl", "csv")
DEFAULT_PER_TYPE = 100  # --stratify without --per-type: questions per type


@dataclass
class QuestionSet:
    path: str
    format: str
    questions: list[Question]
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count of malformed lines


# ---------------------------------------------------------------- WikiMovies templates

_F = r"(?:(?:the )?(?:film|movie) )?"  # optional "the film " / "movie " before a title
_WIKIMOVIES_TEMPLATES: dict[str, list[str]] = {
    "movie_to_year": [
        rf"what year was {_F}(?P<e>.+) released", rf"when was {_F}(?P<e>.+) released",
        rf"what was the release (?:date|year) of {_F}(?P<e>.+)", r"(?:the movie )?(?P<e>.+), when was it released",
    ],
    "movie_to_director": [
        r"(?:who is|who's|who was) the director (?:of|for|that directed) (?P<e>.+)", r"which person directed (?P<e>.+)",
        rf"who directed {_F}(?P<e>.+)", r"who is listed as director for (?P<e>.+)",
        r"the director of (?P<e>.+) was(?: who)?", r"the film (?P<e>.+) was directed by who",
        r"who was (?P<e>.+) directed by",
    ],
    "movie_to_writer": [
        rf"who wrote (?:the screenplay for )?{_F}(?P<e>.+)", r"(?P<e>.+) is a film written by this person",
        rf"(?:who is|who was|who's) the (?:author|writer|creator of the film script) (?:of|for) {_F}(?P<e>.+)",
        r"who was (?P<e>.+) written by", r"which screenwriter wrote the script for (?P<e>.+)",
        r"who in the world wrote (?P<e>.+)", r"the film (?P<e>.+) was written by who",
        rf"which person wrote {_F}(?P<e>.+)",
    ],
    "movie_to_actors": [
        rf"who (?:starred|stars|acted) in {_F}(?P<e>.+)", r"the (?:film|movie) (?P<e>.+) starred (?:which actors|who)",
        r"who are the actors in (?P<e>.+)",
    ],
    "movie_to_genre": [
        rf"what (?:is|was) the genre (?:of|for) {_F}(?P<e>.+)", r"what genre does (?P<e>.+) fall under",
        r"what (?:kind|sort|type) of (?:movie|film) is (?P<e>.+)", r"what genre of (?:movie|film) is (?P<e>.+)",
        r"what genre is (?P<e>.+) in", r"what film genre is (?P<e>.+)",
    ],
    "movie_to_language": [
        rf"what language is {_F}(?P<e>.+) in", rf"what is the (?:main|primary) language in {_F}(?P<e>.+)",
        rf"what is the language spoken in {_F}(?P<e>.+)",
    ],
    "movie_to_tags": [
        r"can you describe movie (?P<e>.+) in a few words", r"(?:which|what) words describe (?:movie |film )?(?P<e>.+)",
        r"(?:what|which) topics is (?:movie )?(?P<e>.+) about",
        r"can you give a few words describing what (?P<e>.+) is about",
        r"can you give a few words describing (?P<e>.+)", r"describe (?:the movie )?(?P<e>.+) in a few words",
        r"what terms are applicable to (?P<e>.+)", r"what are some words that\s+describe movie (?P<e>.+)",
        r"describe (?P<e>.+)",
    ],
    "movie_to_imdbvotes": [
        r"how (?:popular|famous)(?: of a (?:movie|film))? (?:is|was) (?P<e>.+)",
        r"what was the popularity rating of (?P<e>.+)",
    ],
    "movie_to_imdbrating": [
        r"(?:what did (?:people|audiences) think of|what do people think of|how would people rate|what rating would "
        r"people give|what is popular opinion about|what (?:is|was) the rating of) (?P<e>.+)",
        r"is (?P<e>.+) considered good", r"(?P<e>.+), is it any good",
    ],
    "actor_to_movie": [
        r"what (?:films|movies) did (?P<e>.+) (?:star|act) in",
        r"what (?:films )?does (?P<e>.+) (?:appear|star|act) in",
        r"what movies was (?P<e>.+) an actor in", r"(?P<e>.+) appears in which movies",
    ],
    "director_to_movie": [
        r"(?:which|what) (?:films|movies) did (?P<e>.+) direct", r"what did (?P<e>.+) direct",
        r"(?P<e>.+) was the director (?:on|of) which (?:movies|films)", r"(?P<e>.+) directed which (?:movies|films)",
        r"what was (?P<e>.+) the director of", r"(?:can you name|what is) a film directed by (?P<e>.+)",
        r"which movie was (?P<e>.+) the director for",
    ],
    "writer_to_movie": [
        r"(?:which|what) (?:movies?|films?) did (?P<e>.+) write(?: the story for)?",
        r"what is a (?:film|movie) written by (?P<e>.+)",
        r"(?:which|what) (?:movies|films) was (?P<e>.+) (?:the|a) writer (?:of|on)",
    ],
    "tag_to_movie": [
        r"(?:which|what) (?:movies|films) can be described (?:by|with) (?P<e>.+)",
        r"(?:which|what) (?:movies|films) are about (?P<e>.+)",
    ],
}
_TEMPLATES = [(qtype, re.compile(rf"^{p}$", re.IGNORECASE)) for qtype, ps in _WIKIMOVIES_TEMPLATES.items() for p in ps]


def match_template(question: str) -> tuple[str | None, str | None]:
    """(type, entity) of a WikiMovies-style question from its template, or (None, None)."""
    text = question.strip().rstrip("?").strip()
    for qtype, pattern in _TEMPLATES:
        m = pattern.match(text)
        if m:
            return qtype, m.group("e").strip()
    return None, None


# ---------------------------------------------------------------- readers

def _split_of(path: Path) -> str | None:
    m = re.search(r"_(train|dev|test)(?:_qtype)?\.txt$", path.name)
    return m.group(1) if m else None


def _wikimovies_categories(path: Path) -> dict[str, str]:
    """Question text -> type from the sibling categories folder (or from the file name of a category file)."""
    m = re.match(r"wiki-entities_qa_(.+)_(?:train|dev|test)\.txt$", path.name)
    if m:
        return defaultdict(lambda: m.group(1))
    split = _split_of(path)
    folder = path.resolve().parent.parent / "categories"
    lookup: dict[str, str] = {}
    if split is None or not folder.is_dir():
        return lookup
    for file in sorted(folder.glob(f"wiki-entities_qa_*_{split}.txt")):
        qtype = file.name[len("wiki-entities_qa_"):-len(f"_{split}.txt")]
        with open(file, encoding="utf-8") as fh:
            for line in fh:
                text = line.split("\t", 1)[0].strip()
                lookup.setdefault(re.sub(r"^\d+\s+", "", text), qtype)
    return lookup


def _read_wikimovies(path: Path, skipped: Counter) -> list[Question]:
    types = _wikimovies_categories(path)
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            text, tab, answer = line.rstrip("\n").partition("\t")
            text = re.sub(r"^\d+\s+", "", text.strip())
            answers = [a.strip() for a in answer.split(", ") if a.strip()]
            if not tab or not text or not answers:
                skipped["no question<TAB>answers" if not tab else "empty question or answer"] += 1
                continue
            pattern_type, entity = match_template(text)
            qtype = types.get(text) or pattern_type
            out.append(Question(text, answers, qtype, entity if pattern_type == qtype else None))
    return out


def _read_metaqa(path: Path, skipped: Counter) -> list[Question]:
    qtype_file = path.with_name(path.stem + "_qtype.txt")
    qtypes = qtype_file.read_text(encoding="utf-8").splitlines() if qtype_file.exists() else []
    out = []
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if not line.strip():
                continue
            text, tab, answer = line.rstrip("\n").partition("\t")
            m = re.search(r"\[([^\]]+)\]", text)
            answers = [a.strip() for a in answer.split("|") if a.strip()]
            if not tab or not answers or m is None:
                skipped["no question<TAB>answers" if not tab else "no answers" if not answers else "no [entity]"] += 1
                continue
            qtype = qtypes[i].strip() or None if i < len(qtypes) else None
            question = " ".join(text.replace("[", "").replace("]", "").split())
            out.append(Question(question, answers, qtype, m.group(1).strip()))
    return out


def _as_answers(value) -> list[str]:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)] if value is not None else []


def _read_jsonl(path: Path, skipped: Counter) -> list[Question]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                skipped["invalid JSON"] += 1
                continue
            if not isinstance(row, dict):
                skipped["not a JSON object"] += 1
                continue
            question = str(row.get("question") or "").strip()
            answers = _as_answers(row.get("answers", row.get("answer")))
            if not question or not answers:
                skipped["missing question or answers"] += 1
                continue
            out.append(Question(question, answers, row.get("type") or None, row.get("entity") or None))
    return out


def _read_csv(path: Path, skipped: Counter) -> list[Question]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        columns = {c.strip().lower(): c for c in reader.fieldnames or [] if c}
        q_col = columns.get("question")
        a_col = columns.get("answer") or columns.get("answers")
        if not q_col or not a_col:
            raise QuestionsError(f"{path}: CSV needs Question and Answer columns, found {list(columns) or 'none'}")
        t_col, e_col = columns.get("type"), columns.get("entity")
        out = []
        for row in reader:
            question, answer = (row.get(q_col) or "").strip(), (row.get(a_col) or "").strip()
            if not question or not answer:
                skipped["empty question or answer"] += 1
                continue
            out.append(Question(question, [answer], (row.get(t_col) or "").strip() or None if t_col else None,
                                (row.get(e_col) or "").strip() or None if e_col else None))
    return out


_READERS = {"wikimovies": _read_wikimovies, "metaqa": _read_metaqa, "jsonl": _read_jsonl, "csv": _read_csv}


def detect_format(path: str | Path) -> str:
    """Guess the format from the extension, then from the first non-empty lines."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".json", ".ndjson"}:
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = [line for line in (fh.readline() for _ in range(20)) if line.strip()]
    if not lines:
        raise QuestionsError(f"{path}: file is empty")
    if lines[0].lstrip().startswith("{"):
        return "jsonl"
    tabbed = [line for line in lines if "\t" in line]
    if tabbed and sum(bool(re.search(r"\[[^\]]+\]", line.split("\t")[0])) for line in tabbed) > len(tabbed) / 2:
        return "metaqa"
    if tabbed:
        return "wikimovies"
    raise QuestionsError(f"{path}: cannot tell the format; pass --format ({'|'.join(FORMATS)})")


def load_questions(path: str | Path, format: str | None = None) -> QuestionSet:
    """Read a questions file; malformed lines are skipped and counted.

    Args:
        path: a WikiMovies, MetaQA, JSONL or CSV questions file (see the module docstring).
        format: one of FORMATS; default guessed from the extension, then from the first lines.

    Returns:
        A QuestionSet: the path, the format, the questions in file order, and skipped-line counts by reason.

    Raises:
        QuestionsError: the file is missing, empty, not UTF-8, of an unknown format, or has no readable question.
    """
    path = Path(path)
    if not path.is_file():
        raise QuestionsError(f"{path}: questions file not found")
    format = format or detect_format(path)
    if format not in _READERS:
        raise QuestionsError(f"{path}: unknown questions format '{format}' (use one of {', '.join(FORMATS)})")
    skipped: Counter = Counter()
    try:
        questions = _READERS[format](path, skipped)
    except UnicodeDecodeError as exc:
        raise QuestionsError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if not questions:
        reasons = ", ".join(f"{n} {r}" for r, n in skipped.items()) or "no lines"
        raise QuestionsError(f"{path}: no question could be read as {format} ({reasons})")
    return QuestionSet(str(path), format, questions, dict(skipped))


def read_questions(path: str | Path, format: str | None = None) -> list[Question]:
    """The questions of `load_questions(path, format)` (same Args and Raises), without the file facts.

    Returns:
        The questions in file order.
    """
    return load_questions(path, format).questions


def stratified_sample(questions: list[Question], per_type: int, seed: int = 42) -> list[Question]:
    """Up to `per_type` questions of each type (all of a smaller type), chosen with a fixed seed, in file order."""
    by_type: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(questions):
        by_type[q.type or "unknown"].append(i)
    rng = random.Random(seed)
    chosen: set[int] = set()
    for qtype in sorted(by_type):
        ids = by_type[qtype]
        chosen.update(ids if len(ids) <= per_type else rng.sample(ids, per_type))
    return [questions[i] for i in sorted(chosen)]


def select_questions(questions: list[Question], limit: int | None = None, stratify: bool = False,
                     per_type: int | None = None, seed: int = 42) -> list[Question]:
    """The evaluation sample: `--stratify` and `--limit` of `rag eval`.

    Args:
        questions: the questions of a file, in file order.
        limit: at most this many, a seeded random sample (after stratifying); None or 0 → no limit.
        stratify: take up to `per_type` questions of each type first.
        per_type: questions per type when stratifying; default ceil(limit / types) with a limit, else
            DEFAULT_PER_TYPE.
        seed: the sampling seed.

    Returns:
        The chosen questions, in file order.
    """
    if stratify:
        if per_type is None and limit:
            per_type = math.ceil(limit / len({q.type or "unknown" for q in questions}))
        questions = stratified_sample(questions, per_type or DEFAULT_PER_TYPE, seed)
    if limit and limit < len(questions):
        keep = sorted(random.Random(seed).sample(range(len(questions)), limit))
        questions = [questions[i] for i in keep]
    return questions
