"""WikiMovies and MetaQA dev questions as labelled planner questions (dev files only; test files never).

WikiMovies dev and MetaQA 1-hop dev carry their types, which map to 1-hop labels. MetaQA 2-hop dev has none: it is
labelled by weak supervision. The bracketed topic entity is looked up in the KB, every 2-hop path that can start from
it is executed, and the path whose answers match the gold set best (F1 ≥ 0.9, the topic itself left out as MetaQA
does) is kept. Ties (a person who wrote and directed the same films) go to the path whose relations the question
words name; questions still tied or below 0.9 are dropped.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from core.config import Settings
from core.records import Question, normalize
from evaluation.questions import load_questions
from index.sources import combine, read_catalogs
from rag.plan import Entity, EntityKind, Hop, Rel, parse_plan
from training.plan_kb import MemoryCatalog, answer_names, hop_kinds_ok

TYPE_LABELS = {
    "movie_to_director": "lookup > director", "movie_to_writer": "lookup > writer", "movie_to_actors": "lookup > actor",
    "movie_to_actor": "lookup > actor", "movie_to_genre": "lookup > genre", "movie_to_tags": "lookup > tag",
    "movie_to_language": "lookup > language", "movie_to_year": "lookup > year",
    "movie_to_imdbrating": "lookup > rating", "movie_to_imdbvotes": "lookup > votes",
    "director_to_movie": "lookup < director", "writer_to_movie": "lookup < writer", "actor_to_movie": "lookup < actor",
    "tag_to_movie": "lookup < tag",
}
BENCH_FILES = {"wikimovies_dev": "wikimovies/questions/wiki_entities_dev.txt", "metaqa1_dev": "metaqa/1-hop/qa_dev.txt",
               "metaqa2_dev": "metaqa/2-hop/qa_dev.txt"}
_CUES = {Rel.DIRECTOR: ("direct",), Rel.WRITER: ("writ", "wrote", "screenwriter", "penned", "script"),
         Rel.ACTOR: ("act", "star", "cast", "appear"), Rel.GENRE: ("genre", "type", "kind"),
         Rel.YEAR: ("year", "release", "when", "date"), Rel.LANGUAGE: ("language",),
         Rel.TAG: ("describ", "about", "tag", "word", "topic")}


def _item(q: Question, label: str, source: str) -> dict:
    plan = parse_plan(label)
    kind = EntityKind.FILM if plan.path and not plan.path[0].back else (
        EntityKind.TAG if plan.path and plan.path[0].rel == Rel.TAG else EntityKind.PERSON)
    entities = []
    if q.entity:
        plan.topics = [Entity(kind, q.entity)]
        start = q.question.lower().find(q.entity.lower())
        if start >= 0:
            entities.append({"slot": "topic", "kind": str(kind), "text": q.entity, "start": start,
                             "end": start + len(q.entity)})
    return {"question": q.question, "label": label, "plan": str(plan), "op": str(plan.op), "group": f"bench.{source}",
            "split": "dev", "source": source, "entities": entities, "constraints": {}, "n": None, "expect": None,
            "answers": q.answers}


def typed_questions(path: Path, source: str) -> list[dict]:
    """WikiMovies or MetaQA 1-hop dev questions whose type maps to a label."""
    return [_item(q, TYPE_LABELS[q.type], source) for q in load_questions(path).questions if q.type in TYPE_LABELS]


def candidate_paths() -> list[list[Hop]]:
    """Every 2-hop path of the KB's relations that alternates films and values."""
    out = []
    for r1 in Rel:
        for r2 in Rel:
            for path in ([Hop(r1), Hop(r2, True)], [Hop(r1, True), Hop(r2)]):
                if hop_kinds_ok(path):
                    out.append(path)
    return out


def f1(predicted: list[str], gold: list[str]) -> float:
    p, g = {normalize(x) for x in predicted}, {normalize(x) for x in gold}
    hit = len(p & g)
    return 0.0 if not hit else 2 * hit / (len(p) + len(g))


def _cue_score(question: str, path: list[Hop]) -> int:
    words = question.lower()
    return sum(any(c in words for c in _CUES.get(h.rel, ())) for h in path)


def weak_label(q: Question, catalog: MemoryCatalog, paths: list[list[Hop]], min_f1: float = 0.9) -> list[Hop] | None:
    """The 2-hop path from the bracketed entity whose answers match the gold answers (see the module docstring)."""
    key = normalize(q.entity or "")
    scored = []
    for path in paths:
        if path[0].back:
            if key not in catalog.back[path[0].rel]:
                continue
            start = [q.entity]
        else:
            start = catalog.by_title.get(key, [])
            if not start:
                continue
        items = catalog.run_path(start, path, limit=5000)
        names = [n for n in answer_names(catalog, items, path) if normalize(n) != key]
        score = f1(names, q.answers)
        if score >= min_f1:
            scored.append((score, _cue_score(q.question, path), path))
    if not scored:
        return None
    scored.sort(key=lambda s: (-s[0], -s[1]))
    if len(scored) > 1 and scored[1][:2] == scored[0][:2]:
        return None
    return scored[0][2]


def two_hop_questions(path: Path, catalog: MemoryCatalog, source: str = "metaqa2_dev") -> tuple[list[dict], dict]:
    questions = load_questions(path, "metaqa").questions
    paths = candidate_paths()
    out, stats = [], Counter()
    for q in questions:
        best = weak_label(q, catalog, paths)
        if best is None:
            stats["dropped"] += 1
            continue
        label = "lookup " + " ".join(str(h) for h in best)
        stats[label] += 1
        out.append(_item(q, label, source))
    return out, dict(stats)


def bench_questions(shared_data: str | Path, settings: Settings) -> tuple[list[dict], dict]:
    """All WikiMovies/MetaQA dev questions with labels, duplicates (same normalised text) once."""
    shared = Path(shared_data)
    kb = combine(read_catalogs([str(shared / "wikimovies" / "kb.txt.gz")], settings))
    catalog = MemoryCatalog(kb)
    items = typed_questions(shared / BENCH_FILES["wikimovies_dev"], "wikimovies_dev")
    items += typed_questions(shared / BENCH_FILES["metaqa1_dev"], "metaqa1_dev")
    two, stats = two_hop_questions(shared / BENCH_FILES["metaqa2_dev"], catalog)
    seen, out = set(), []
    for item in items + two:
        key = normalize(item["question"])
        if key not in seen:
            seen.add(key)
            out.append(item)
    report = {"by_source": dict(Counter(i["source"] for i in out)), "metaqa2_weak_labels": stats}
    return out, report
