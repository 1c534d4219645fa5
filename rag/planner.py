"""The learned planner: a question → a typed rag.plan.Plan (design (b) of issue 13).

1. Link the topic entities with the retriever's linker; tag genres, languages, years, decades and numbers
   (rag.plan_tags) and replace each with a placeholder: "who directed the films starring Tom Hanks?" →
   "who directed the films starring [PERSON]".
2. Classify the masked question into a label, the plan without its entities ("lookup < actor > director"):
   multinomial logistic regression over the normalised MiniLM embedding, so one encode and one matrix product.
   Confidence = the top probability; below the threshold tuned on dev the caller falls back to hybrid RAG.
3. Fill the label's slots: topics of the kind its first hop starts from, the value a check expects, constraints
   and n from the tagger. A plan whose slots cannot be filled gets confidence 0 (it cannot run).

Weights live in a folder (settings.models.planner): planner.safetensors (coef, intercept; no pickle) and
labels.json (labels, tuned threshold, embedder). training/plan_train.py writes them.
"""
from __future__ import annotations

import json
import zlib
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from core.config import Settings
from core.errors import ModelUnavailable
from core.records import Stage
from rag.plan import PATH_OPS, PEOPLE, Entity, EntityKind, Hop, Op, Plan, Rel, parse_plan
from rag.plan_tags import Span, Tagged, Vocabulary, tag

WEIGHTS, LABELS = "planner.safetensors", "labels.json"
DEFAULT_N = 5  # "the best horror films" without a number: the top five
_FIRST_KIND = {Rel.DIRECTOR: "person", Rel.WRITER: "person", Rel.ACTOR: "person", Rel.TAG: "tag",
               Rel.GENRE: "genre", Rel.LANGUAGE: "language", Rel.YEAR: "year"}
_ROLE_WORDS = {Rel.DIRECTOR: "director of:", Rel.WRITER: "writer of:", Rel.ACTOR: "actor in:"}


class Planner:
    """Masked-question classifier plus slot filling.

    Args:
        labels: the label of each row of `coef`.
        coef: (labels, dim) logistic-regression weights over normalised embeddings.
        intercept: (labels,) biases.
        embedder: the SentenceTransformer the weights were trained on (the bundled MiniLM).
        threshold: plans with a lower confidence should fall back to hybrid RAG (`accepts`).
    """

    def __init__(self, labels: list[str], coef: np.ndarray, intercept: np.ndarray, embedder,
                 threshold: float = 0.5, common: frozenset[str] = frozenset(), bow: np.ndarray | None = None,
                 bow_weight: float = 1.0) -> None:
        self.labels, self.embedder, self.threshold = list(labels), embedder, float(threshold)
        self.common = frozenset(common)  # question-template words (rag.plan_tags.tag)
        self.coef = np.ascontiguousarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.bow = None if bow is None else np.ascontiguousarray(bow, dtype=np.float32)  # (labels, hashed n-grams)
        self.bow_weight = float(bow_weight)
        self._vocab: dict[int, Vocabulary] = {}

    # ------------------------------------------------------------ persistence

    @classmethod
    def from_folder(cls, folder: str | Path, embedder, threshold: float | None = None) -> Planner:
        from safetensors.numpy import load_file  # deferred: only when a planner is loaded

        folder = Path(folder)
        if not (folder / WEIGHTS).is_file() or not (folder / LABELS).is_file():
            raise ModelUnavailable(f"{folder}: no planner here ({WEIGHTS} + {LABELS}); train one with "
                                   f"`python -m training planner`")
        meta = json.loads((folder / LABELS).read_text(encoding="utf-8"))
        weights = load_file(str(folder / WEIGHTS))
        return cls(meta["labels"], weights["coef"], weights["intercept"], embedder,
                   meta.get("threshold", 0.5) if threshold is None else threshold,
                   frozenset(meta.get("common_words", ())), weights.get("bow"), meta.get("bow_weight", 1.0))

    def save(self, folder: str | Path, meta: dict | None = None) -> None:
        from safetensors.numpy import save_file  # deferred: only when training

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {"coef": self.coef, "intercept": self.intercept}
        if self.bow is not None:
            tensors["bow"] = self.bow.astype(np.float16)  # half the size; logits change < 1e-3
        save_file(tensors, str(folder / WEIGHTS))
        info = {"labels": self.labels, "threshold": self.threshold, "bow_weight": self.bow_weight, **(meta or {}),
                "common_words": sorted(self.common)}
        (folder / LABELS).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")

    # ------------------------------------------------------------ planning

    def vocabulary(self, retriever) -> Vocabulary:
        """The genres and languages of the retriever's index (computed once per index)."""
        key = id(retriever.index)
        if key not in self._vocab:
            self._vocab[key] = Vocabulary.from_passages(retriever.index.passages)
        return self._vocab[key]

    def tag_batch(self, questions: list[str], retriever) -> list[Tagged]:
        vocab = self.vocabulary(retriever)
        tags = retriever.tables.get(Stage.TAG_LINK, {})
        return [tag(q, retriever.link(q), vocab, self.common, tags) for q in questions]

    def probabilities(self, masked: list[str]) -> np.ndarray:
        """(questions, labels) softmax probabilities of the masked questions."""
        if not masked:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        x = self.embedder.encode(masked, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False,
                                 batch_size=min(len(masked), 256))
        logits = self.logits(np.asarray(x, dtype=np.float32), masked)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def feasible(self, probs: np.ndarray, tagged: list[Tagged]) -> np.ndarray:
        """Probabilities reweighted by whether each label's slots can be filled from the question (a person-start
        label needs a person or a name, a comparison two films, a superlative over all films no named entity),
        renormalised: the schema, not the phrasing, rules out plans that cannot run."""
        if not hasattr(self, "_needs") or len(self._needs) != len(self.labels):
            self._needs = [_need(label) for label in self.labels]
        out = probs.copy()
        for i, t in enumerate(tagged):
            kinds = _kinds(t)
            out[i] *= [1.0 if _fits(n, kinds) else INFEASIBLE for n in self._needs]
            out[i] /= out[i].sum()
        return out

    def logits(self, x: np.ndarray, masked: list[str]) -> np.ndarray:
        """Embeddings (and, with n-gram weights, the masked texts) → label scores."""
        out = x @ self.coef.T + self.intercept
        if self.bow is not None:
            for i, text in enumerate(masked):
                idx = bow_indices(text, self.bow.shape[1])
                if idx:
                    out[i] += self.bow[:, idx].sum(axis=1) * (self.bow_weight / np.sqrt(len(idx)))
        return out

    def plan_batch(self, questions: list[str], retriever) -> list[Plan]:
        """Plans for the questions, one encode for all of them.

        Args:
            questions: the questions as asked.
            retriever: a rag.retrieve.Retriever over the index the plans will run on (its linker and vocabulary).

        Returns:
            One Plan per question; `plan.confidence` is the label's probability, 0 when its slots cannot be filled.
        """
        tagged = self.tag_batch(questions, retriever)
        probs = self.feasible(self.probabilities([t.masked for t in tagged]), tagged)
        passages = retriever.index.passages
        return [build_plan(self.labels[int(p.argmax())], t, passages, float(p.max())) for t, p in zip(tagged, probs)]

    def plan(self, question: str, retriever) -> Plan:
        return self.plan_batch([question], retriever)[0]

    def accepts(self, plan: Plan) -> bool:
        """Confident enough to run exactly (else the hybrid RAG path answers)."""
        return plan.confidence >= self.threshold


def bow_indices(text: str, dim: int) -> list[int]:
    """Hashed unigrams and bigrams of a masked question (crc32, stable across runs)."""
    words = text.split()
    grams = words + [f"{a} {b}" for a, b in zip(words, words[1:])]
    return sorted({zlib.crc32(g.encode()) % dim for g in grams})


def load_planner(settings: Settings, embedder) -> Planner:
    """The planner of settings.models.planner; settings.answer.plan_threshold overrides its tuned threshold."""
    return Planner.from_folder(settings.models.planner, embedder, settings.answer.plan_threshold)


# ---------------------------------------------------------------- which labels a question can fill

INFEASIBLE = 0.02  # weight of a label whose slots the question cannot fill


@dataclass(frozen=True)
class _Need:
    kind: str | None  # the topic kind the label starts from
    count: int = 1  # topics of that kind it needs (2 for a comparison of named films)
    expect: str | None = None  # a check's value kind
    empty: bool = False  # starts from every film: names no film, person or tag


def _need(label: str) -> _Need:
    plan = parse_plan(label)
    kind = topic_kind(label)
    if kind is None:
        return _Need(None, 0, None, plan.op in PATH_OPS)
    if plan.op in (Op.DESCRIBE, Op.RECOMMEND):
        return _Need(None, 0)
    expect = None
    if plan.op == Op.CHECK:
        rel = plan.path[-1].rel
        expect = "person" if rel in PEOPLE else str(rel)
    return _Need(kind, 2 if plan.op in (Op.ARGMAX, Op.ARGMIN) and kind == "film" else 1, expect)


def _kinds(tagged: Tagged) -> Counter:
    kinds: Counter = Counter()
    for sp in tagged.spans:
        kinds.update({sp.kind, *(k for k, _ in sp.alts)})
    if tagged.years:
        kinds["year"] += len(tagged.years)
    if tagged.residual:
        kinds["name"] += 1
    return kinds


def _fits(need: _Need, kinds: Counter) -> bool:
    if need.empty:
        return not (kinds["film"] or kinds["person"] or kinds["tag"])
    if need.kind is None:
        return True
    named = kinds["name"] if need.kind in ("film", "person") else 0
    have = kinds[need.kind] + named
    if need.expect is not None:
        extra = kinds[need.expect] + (kinds["name"] if need.expect == "person" else 0)
        return have >= 1 and extra >= (2 if need.expect == need.kind else 1)
    return have >= need.count


# ---------------------------------------------------------------- label + tagged question → plan

def topic_kind(label: str) -> str | None:
    """The entity kind a label starts from: "film", "person", "tag", "genre", "language", "year", or None."""
    plan = parse_plan(label)
    if " all " in f" {label} " or (not plan.path and plan.op in (Op.LOOKUP, Op.COUNT, Op.IDENTIFY, Op.OFF_TOPIC)):
        return None
    if not plan.path or not plan.path[0].back:
        return "film"
    return _FIRST_KIND.get(plan.path[0].rel)


def build_plan(label: str, tagged: Tagged, passages, confidence: float) -> Plan:
    """Fill a label's slots from the tagged question (see the module docstring)."""
    plan = replace(parse_plan(label), confidence=confidence)
    c = replace(tagged.constraints)
    kind = topic_kind(label)
    spans = _topic_spans(tagged, kind) if kind else []
    if kind in ("genre", "language", "year"):
        plan.topics = [Entity(EntityKind(kind), str(v)) for v in _values(tagged, kind)[:1]]
        if kind == "year":
            _clear_years(c)
        else:
            setattr(c, kind, None)
    else:
        if plan.op == Op.CHECK:
            spans = spans[:1]
        plan.topics = [_entity(sp, k, passages) for sp, k in spans]
        if kind == "person" and plan.topics and plan.path[0].rel in PEOPLE:
            plan.path[0] = _repair_role(plan.path[0], spans[0][0], passages)
    if plan.op == Op.CHECK:
        plan.expect = _expect(plan, tagged, spans, passages, c)
        if plan.expect is None:
            plan.confidence = 0.0
    if plan.op == Op.TOP:
        plan.n = tagged.n or DEFAULT_N
    plan.constraints = c
    comparing = plan.op in (Op.ARGMAX, Op.ARGMIN) and kind == "film"
    if (kind in ("film", "person", "tag", "genre", "language", "year") and not plan.topics
            and plan.op not in (Op.DESCRIBE, Op.RECOMMEND)) or (comparing and len(plan.topics) < 2):
        plan.confidence = 0.0  # the slots the label needs are not in the question: it cannot run
    return plan


def _of_kind(spans: list[Span], kind: str) -> list[tuple[Span, str]]:
    """The spans read first as `kind`, else those with it as an alternative reading, else (films and people)
    the unlinked names."""
    for found in ([sp for sp in spans if sp.kind == kind], [sp for sp in spans if any(k == kind for k, _ in sp.alts)],
                  [sp for sp in spans if sp.kind == "name"] if kind in ("film", "person") else []):
        if found:
            return [(sp, kind) for sp in found]
    return []


def _topic_spans(tagged: Tagged, kind: str) -> list[tuple[Span, str]]:
    """_of_kind, else (films) the residual words as an unlinked title: "who directed the silent harbor"."""
    found = _of_kind(tagged.spans, kind)
    if not found and kind == "film" and tagged.residual:
        found = [(Span(-1, -1, "name", tagged.residual), kind)]
    return found


def _values(tagged: Tagged, kind: str) -> list:
    if kind == "year":
        return tagged.years
    return [sp.value if sp.kind == kind else next(v for k, v in sp.alts if k == kind)
            for sp, _ in _of_kind(tagged.spans, kind)]


def _clear_years(c) -> None:
    c.year_from = c.year_to = None


def _entity(span: Span, kind: str, passages) -> Entity:
    if span.kind == "name":
        return Entity(EntityKind(kind), str(span.value), span.year)
    rows = span.value if span.kind == kind else next(v for k, v in span.alts if k == kind)
    p = passages[rows[0]]
    if kind != "film":
        return Entity(EntityKind(kind), p.title)
    year = span.year or (p.year if len(rows) == 1 else None)
    return Entity(EntityKind.FILM, p.title, year)


def _expect(plan: Plan, tagged: Tagged, topic_spans, passages, c) -> Entity | None:
    """The value a yes/no check asks about; it leaves the constraints."""
    rel = plan.path[-1].rel
    used = {id(sp) for sp, _ in topic_spans}
    if rel in PEOPLE or rel == Rel.TAG:
        kind = "person" if rel in PEOPLE else "tag"
        found = [(sp, k) for sp, k in _of_kind(tagged.spans, kind) if id(sp) not in used]
        return _entity(*found[0], passages) if found else None
    if rel == Rel.YEAR and tagged.years:
        _clear_years(c)
        if plan.topics and plan.topics[0].year == tagged.years[0] and len(tagged.years) == 1:
            plan.topics[0] = replace(plan.topics[0], year=None)  # "is Alien from 1979?": the year is the question
        return Entity(EntityKind.YEAR, str(tagged.years[-1]))
    if rel in (Rel.GENRE, Rel.LANGUAGE):
        values = _values(tagged, str(rel))
        if values:
            setattr(c, str(rel), None)
            return Entity(EntityKind(str(rel)), values[0])
    return None


def _repair_role(hop: Hop, span: Span, passages) -> Hop:
    """"Tom Hanks's films" read as a director's: a person credited in one role only is taken in that role."""
    if span.kind == "name":
        return hop
    rows = span.value if span.kind == "person" else next(v for k, v in span.alts if k == "person")
    text = " ".join(passages[r].text for r in rows)
    if _ROLE_WORDS[hop.rel] in text:
        return hop
    roles = [rel for rel, words in _ROLE_WORDS.items() if words in text]
    return Hop(roles[0], hop.back) if len(roles) == 1 else hop
