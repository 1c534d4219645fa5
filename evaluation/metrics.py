"""Answer and retrieval metrics (SQuAD-style answer normalisation), aggregation, and the paired bootstrap.

Gold answers are a list: any one of them is a right answer (hits@1, any-hit), and EM / token F1 take
the max over each gold answer and the whole gold list joined (so a complete list answer scores 1).
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import numpy as np

from core.records import PassageKind, normalize

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_TRAILING_YEAR = re.compile(r"(?<=\S)\s*\(\d{4}\)\W*$")


def normalize_answer(text: str) -> str:
    """core.records.normalize plus SQuAD's answer rules: ASCII apostrophes dropped rather than spaced
    ("Schindler's" → "schindlers") and articles removed ("The Dark Knight" → "dark knight")."""
    return " ".join(_ARTICLES.sub(" ", normalize(str(text).replace("'", ""))).split())


def _norm_gold(gold: Iterable[str]) -> list[str]:
    return [g for g in (normalize_answer(x) for x in gold) if g]


def _contains(haystack_norm: str, needle_norm: str) -> bool:
    """Whole-word containment of normalised strings."""
    return bool(needle_norm) and f" {needle_norm} " in f" {haystack_norm} "


def hits_at_1(pred_items: list[str], gold: list[str], text: str | None = None) -> float:
    """1.0 when the first answer item equals a gold answer after normalisation.

    A trailing "(1955)" on the item is ignored ("The Big Combo (1955)" names the gold movie "The Big Combo").
    Gold titles may contain ", " (the answer separator), so when `text` is given an answer text that
    starts with a whole gold answer also counts ("Silent Night, Deadly Night" split into two items).
    """
    golds = _norm_gold(gold)
    first = normalize_answer(_TRAILING_YEAR.sub("", pred_items[0])) if pred_items else ""
    if first and first in golds:
        return 1.0
    if text is not None:
        norm = normalize_answer(text)
        return float(any(norm == g or norm.startswith(g + " ") and len(g) > len(first) for g in golds))
    return 0.0


def any_hit(text: str, gold: list[str]) -> float:
    """1.0 when some gold answer appears (as whole words) in the answer text."""
    norm = normalize_answer(text)
    return float(any(_contains(norm, g) for g in _norm_gold(gold)))


def _references(gold: list[str]) -> list[str]:
    refs = list(gold)
    if len(gold) > 1:
        refs.append(", ".join(gold))
    return refs


def exact_match(text: str, gold: list[str]) -> float:
    norm = normalize_answer(text)
    return float(any(norm == normalize_answer(r) for r in _references(gold)))


def _f1(pred: list[str], ref: list[str]) -> float:
    common = Counter(pred) & Counter(ref)
    same = sum(common.values())
    if not pred or not ref:
        return float(pred == ref)
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def token_f1(text: str, gold: list[str]) -> float:
    """SQuAD token F1, max over the gold answers (and the full gold list)."""
    pred = normalize_answer(text).split()
    return max((_f1(pred, normalize_answer(r).split()) for r in _references(gold)), default=0.0)


# ---------------------------------------------------------------- retrieval

def gold_movies(question) -> list[str]:
    """Movies the evidence is about: the question's entity for movie_to_* types, the answers for *_to_movie."""
    qtype = question.type or ""
    movies = []
    if qtype.startswith("movie_to_") and question.entity:
        movies.append(question.entity)
    if qtype.endswith("_to_movie"):
        movies.extend(question.answers)
    return movies


def _source_fields(source) -> tuple[str, str, str]:
    """(title, text, kind) of a pipeline Source or a retrieval Hit (which wraps a Passage)."""
    item = getattr(source, "passage", source)
    return getattr(item, "title", "") or "", getattr(item, "text", "") or "", getattr(item, "kind", "") or ""


def is_relevant(source, question) -> bool:
    """A passage of a gold movie, or a passage that contains a gold answer (and the question's entity, if known)."""
    title, text, kind = _source_fields(source)
    title_n = normalize_answer(title)
    is_movie = kind not in {PassageKind.PERSON, PassageKind.TAG}  # person and tag cards are titled by a name or a tag
    if is_movie and title_n and title_n in _norm_gold(gold_movies(question)):
        return True
    text_n = normalize_answer(f"{title}. {text}")
    if not any(_contains(text_n, g) for g in _norm_gold(question.answers)):
        return False
    return question.entity is None or _contains(text_n, normalize_answer(question.entity))


def retrieval_rank(sources_or_hits, question) -> int | None:
    """1-based rank of the first relevant source, or None when none of them is relevant."""
    for rank, source in enumerate(sources_or_hits or [], start=1):
        if is_relevant(source, question):
            return rank
    return None


def recall_at_k(ranks: list[int | None], k: int) -> float:
    return float(np.mean([r is not None and r <= k for r in ranks])) if ranks else float("nan")


def mrr(ranks: list[int | None]) -> float:
    return float(np.mean([1.0 / r if r else 0.0 for r in ranks])) if ranks else float("nan")


# ---------------------------------------------------------------- aggregation and significance

def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if len(values) else None


def mean_or_none(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def paired_bootstrap(a: list[float], b: list[float], n: int = 1000, seed: int = 42) -> dict:
    """Mean of a − b over paired questions, with a 95% percentile CI from resampling the questions.

    Args:
        a, b: one score per question, in the same question order.
        n: bootstrap resamples.
        seed: the resampling seed.

    Returns:
        {"delta", "ci_low", "ci_high", "p_value" (two-sided bootstrap sign test), "n" (questions), "resamples"};
        the four statistics are None when there are no questions.

    Raises:
        ValueError: a and b differ in length.
    """
    a_arr, b_arr = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a_arr.shape != b_arr.shape:
        raise ValueError(f"paired bootstrap needs equal lengths, got {len(a_arr)} and {len(b_arr)}")
    if len(a_arr) == 0:
        return {"delta": None, "ci_low": None, "ci_high": None, "p_value": None, "n": 0, "resamples": n}
    diff = a_arr - b_arr
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(n, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    p = min(1.0, 2 * min((means <= 0).mean(), (means >= 0).mean()))  # two-sided, bootstrap sign test
    return {"delta": float(diff.mean()), "ci_low": float(low), "ci_high": float(high), "p_value": float(p),
            "n": int(len(diff)), "resamples": n}
