"""Question/answer pairs for training: readers for question files and HF datasets, and the test-set guard.

Question files are read by `evaluation.questions.read_questions` (WikiMovies, MetaQA, JSONL, CSV); this module
only adds what training needs: refusing test files, HF dataset ids, and dropping anything that overlaps
the WikiMovies / MetaQA test questions.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from core import models  # module attribute: tests replace models.hub_reachable
from core.config import REPO_ROOT, Settings
from core.errors import DataError
from core.records import Question
from evaluation.metrics import normalize_answer
from evaluation.questions import read_questions

# The benchmark test files (relative to the shared data folder) that training must never see.
TEST_QUESTION_FILES = (
    "wikimovies/questions/wiki_entities_test.txt",
    "wikimovies/questions/full_test.txt",
    "metaqa/1-hop/qa_test.txt",
    "metaqa/2-hop/qa_test.txt",
    "metaqa/3-hop/qa_test.txt",
)
# Test files whose topic entities are also kept out of metadata-derived pairs (the eval sets).
TEST_ENTITY_FILES = ("wikimovies/questions/wiki_entities_test.txt", "metaqa/1-hop/qa_test.txt")
DEFAULT_SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
_MAX_ENTITY_WORDS = 12  # longest entity name (in words) matched against test questions


def refuse_test_file(path: str) -> None:
    """Training reads dev/train data only: any file whose name contains "test" is refused."""
    if "test" in Path(path).name.lower():
        raise DataError(f"refusing to train on '{path}': its name contains 'test' (use dev or train questions)")


def read_qa_file(path: str, format: str | None = None) -> list[Question]:
    """QA pairs from a CSV (Question/Answer), JSONL, WikiMovies or MetaQA file via evaluation.questions."""
    refuse_test_file(path)
    if not Path(path).exists():
        raise DataError(f"question file '{path}' does not exist")
    questions = [q for q in read_questions(path, format=format) if q.question and q.answers]
    for q in questions:
        q.source = Path(path).name
    return questions


def _pick_column(columns: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {c.lower(): c for c in columns}
    return next((lowered[n] for n in names if n in lowered), None)


def read_hf_dataset(dataset_id: str, settings: Settings, split: str = "train") -> list[Question]:
    """QA pairs from a Hugging Face dataset id (e.g. HiTruong/movie_QA); only when the hub is reachable."""
    if not models.hub_reachable(settings.models.hub_timeout_s):
        raise DataError(f"dataset '{dataset_id}' needs the Hugging Face hub, which cannot be reached; "
                        f"export it to CSV/JSONL and pass it with --qa")
    from datasets import load_dataset  # deferred: heavy

    try:
        data = load_dataset(dataset_id, split=split)
    except Exception as exc:
        raise DataError(f"cannot load dataset '{dataset_id}': {str(exc).splitlines()[0]}") from exc
    q_col = _pick_column(data.column_names, ("question", "questions", "query", "input", "prompt"))
    a_col = _pick_column(data.column_names, ("answer", "answers", "output", "response"))
    if not q_col or not a_col:
        raise DataError(f"dataset '{dataset_id}' has no question/answer columns (columns: {data.column_names})")
    pairs = []
    for row in data:
        answer = row[a_col]
        answers = [str(a) for a in answer] if isinstance(answer, list) else [str(answer)]
        if row[q_col] and any(a.strip() for a in answers):
            pairs.append(Question(question=str(row[q_col]).strip(), answers=[a.strip() for a in answers if a.strip()],
                                source=f"hf:{dataset_id}"))
    return pairs


# ---------------------------------------------------------------- test-set guard

class TestGuard:
    """Knows the test questions (exact, normalised) and the texts whose word n-grams are test topic entities."""

    __test__ = False  # not a pytest class

    def __init__(self, questions: set[str], entity_texts: list[str], files: list[str]) -> None:
        self.questions = questions
        self.entity_texts = entity_texts
        self.files = files

    def with_questions(self, questions: list[str], name: str = "held-out questions") -> TestGuard:
        """A new guard that also keeps out these questions and their topic entities (e.g. an eval sample)."""
        normalised = [normalize_answer(q) for q in questions]
        return TestGuard(self.questions | set(normalised), self.entity_texts + normalised, self.files + [name])

    def is_test_question(self, question: str) -> bool:
        return normalize_answer(question) in self.questions

    def test_entities(self, entities: set[str]) -> set[str]:
        """The subset of (normalised) entity names that occur as whole words in a test question."""
        found: set[str] = set()
        for text in self.entity_texts:
            words = text.split()
            for i in range(len(words)):
                for j in range(i + 1, min(len(words), i + _MAX_ENTITY_WORDS) + 1):
                    gram = " ".join(words[i:j])
                    if gram in entities:
                        found.add(gram)
        return found

    def filter(self, pairs: list[Question], exclude_entities: bool) -> tuple[list[Question], dict[str, int]]:
        """Drop pairs asking a test question; with exclude_entities, also derived pairs about a test entity."""
        derived = {normalize_answer(p.entity) for p in pairs if p.entity and p.source.startswith("kb:")}
        blocked = self.test_entities(derived) if exclude_entities else set()
        kept, dropped = [], {"test_question": 0, "test_entity": 0}
        for pair in pairs:
            if self.is_test_question(pair.question):
                dropped["test_question"] += 1
            elif pair.source.startswith("kb:") and pair.entity and normalize_answer(pair.entity) in blocked:
                dropped["test_entity"] += 1
            else:
                kept.append(pair)
        return kept, dropped


def load_test_guard(shared_dir: str | Path | None = None) -> TestGuard | None:
    """The guard built from the benchmark test files, or None when the shared data folder is absent."""
    return _load_test_guard(str(Path(shared_dir) if shared_dir else DEFAULT_SHARED_DATA))


@lru_cache(maxsize=2)
def _load_test_guard(shared_dir: str) -> TestGuard | None:
    root = Path(shared_dir)
    files = [root / f for f in TEST_QUESTION_FILES if (root / f).exists()]
    if not files:
        return None
    questions: set[str] = set()
    entity_texts: list[str] = []
    for rel, path in ((f, root / f) for f in TEST_QUESTION_FILES):
        if not path.exists():
            continue
        normalised = [normalize_answer(q.question) for q in read_questions(str(path))]
        questions.update(normalised)
        if rel in TEST_ENTITY_FILES:
            entity_texts.extend(normalised)
    return TestGuard(questions, entity_texts, [str(f) for f in files])
