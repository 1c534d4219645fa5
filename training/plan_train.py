"""Train the planner (`python -m training planner`): mask the linked entities and tagged values of every labelled
question exactly as rag.planner does at answer time, embed the masked questions with the bundled MiniLM, fit a
multinomial logistic regression (plus hashed n-grams of the masked text), tune the confidence threshold, score dev,
the held-out test template groups, the evaluation sets and the WikiMovies/MetaQA dev questions, and save
models/planner (no pickle) with a model card.

Splits: a share of the dev template groups is held out as validation to tune the threshold on unseen phrasings
(the shipped planner is then refitted on all dev groups); test-group questions are never trained on. With `bench`
off, WikiMovies/MetaQA dev questions are left out of training and scored as the generalisation check; with it on,
1 - val_share of them train and the rest are scored (and `generalisation` also fits a planner without them).
"""
from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from core.config import Settings
from core.errors import DataError
from core.models import load_embedder
from core.records import Stage, normalize
from index.passages import build_passages
from rag.plan import Op, Plan, parse_plan
from rag.plan_tags import Tagged, Vocabulary, tag
from rag.planner import Planner, bow_indices, build_plan
from rag.retrieve import Retriever
from training.plan_data import SHARED, TRAINING_CATALOGS, PlanDataConfig, load_movies, read_jsonl
from training.plan_report import model_card, summarize
from training.plan_templates import template_words

_PLAN_OPS = {"lookup", "count", "argmax", "argmin", "top", "check"}


@dataclass
class PlannerTrainConfig:
    bench: bool = True  # train on WikiMovies/MetaQA dev questions too (off: the generalisation check)
    val_share: float = 0.15  # dev template groups held out to tune the threshold (then refitted with them)
    c: float = 20.0  # inverse L2 regularisation of the logistic regression
    max_iter: int = 400  # lbfgs iterations
    fallback_accuracy: float = 0.5  # accuracy assumed for the hybrid RAG fallback when tuning the threshold
    bow_dim: int = 8192  # hashed unigram+bigram features of the masked question beside the embedding (0: off)
    bow_weight: float = 1.0  # scale of the n-gram features (each question's n-gram vector has this norm)
    generalisation: bool = True  # with bench: also fit without the WikiMovies/MetaQA dev questions and score them
    catalogs: list[str] = field(default_factory=lambda: list(TRAINING_CATALOGS))  # the linker's catalogs (masking)
    shared_data: str = str(SHARED)  # where catalog names are looked up
    seed: int = 42  # train/validation cut and solver seed


class _LinkIndex:
    """What Retriever.link reads of an index: its passages (no vectors, no BM25 needed to mask questions)."""

    def __init__(self, passages) -> None:
        self.passages = passages


def link_retriever(config: PlannerTrainConfig, settings: Settings) -> Retriever:
    """A Retriever over the training catalogs' cards, person and tag passages, for linking only."""
    movies = load_movies(PlanDataConfig(catalogs=config.catalogs, shared_data=config.shared_data), settings)
    passages = build_passages([replace(m, plot="") for m in movies], settings)
    return Retriever(_LinkIndex(passages), None, settings)


def tag_rows(rows: list[dict], retriever: Retriever, common: frozenset[str]) -> list[Tagged]:
    vocab = Vocabulary.from_passages(retriever.index.passages)
    tags = retriever.tables.get(Stage.TAG_LINK, {})
    return [tag(r["question"], retriever.link(r["question"]), vocab, common, tags) for r in rows]


def embed(texts: list[str], embedder, cache_file: Path | None) -> np.ndarray:
    """Normalised embeddings of the texts; unique texts only, remembered in `cache_file` (npz, no pickle)."""
    known: dict[str, np.ndarray] = {}
    if cache_file is not None and cache_file.is_file():
        with np.load(cache_file, allow_pickle=False) as z:
            known = dict(zip(z["texts"].tolist(), z["vectors"]))
    todo = sorted({t for t in texts if t not in known})
    if todo:
        vectors = embedder.encode(todo, normalize_embeddings=True, convert_to_numpy=True, batch_size=256,
                                  show_progress_bar=False)
        known.update(zip(todo, np.asarray(vectors, dtype=np.float32)))
        if cache_file is not None:
            np.savez(cache_file, texts=np.array(list(known)), vectors=np.stack(list(known.values())))
    return np.stack([known[t] for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)


def bow_matrix(masked: list[str], dim: int, weight: float):
    """Sparse (questions, dim) hashed n-grams, each row scaled to norm `weight` (as Planner.logits reads them)."""
    from scipy import sparse  # deferred: training only

    rows, cols, vals = [], [], []
    for i, text in enumerate(masked):
        idx = bow_indices(text, dim)
        rows += [i] * len(idx)
        cols += idx
        vals += [weight / np.sqrt(len(idx))] * len(idx)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(masked), dim), dtype=np.float32)


def fit(x: np.ndarray, masked: list[str], labels: list[str], config: PlannerTrainConfig):
    """Multinomial logistic regression → (classes, embedding weights, intercepts, n-gram weights or None)."""
    from scipy import sparse  # deferred: training only
    from sklearn.linear_model import LogisticRegression  # deferred: training only

    classes = sorted(set(labels))
    y = np.array([classes.index(label) for label in labels])
    features = x
    if config.bow_dim:
        features = sparse.hstack([sparse.csr_matrix(x), bow_matrix(masked, config.bow_dim, config.bow_weight)]).tocsr()
    model = LogisticRegression(C=config.c, max_iter=config.max_iter, random_state=config.seed)
    model.fit(features, y)
    coef = model.coef_.astype(np.float32)
    bow = coef[:, x.shape[1]:] if config.bow_dim else None
    return classes, coef[:, :x.shape[1]], model.intercept_.astype(np.float32), bow


def tune_threshold(confidence: np.ndarray, correct: np.ndarray, fallback_accuracy: float) -> float:
    """The threshold maximising answers right: accepted plans count when correct, rejected ones count as the
    fallback's accuracy."""
    grid = np.round(np.arange(0.0, 1.0, 0.01), 2)
    utility = [(correct & (confidence >= t)).sum() + fallback_accuracy * (confidence < t).sum() for t in grid]
    return float(grid[int(np.argmax(utility))])


def plan_matches(predicted: Plan, gold: Plan) -> bool:
    """Same operation, path, topics (names normalised; years when both give one), expected value, and for the
    exactly executed operations the same constraints and n."""
    if predicted.op != gold.op or predicted.path != gold.path or len(predicted.topics) != len(gold.topics):
        return False
    for p, g in zip(predicted.topics + [predicted.expect], gold.topics + [gold.expect]):
        if (p is None) != (g is None):
            return False
        if p is not None and (p.kind != g.kind or normalize(p.name) != normalize(g.name)
                              or (p.year and g.year and p.year != g.year)):
            return False
    if str(gold.op) in _PLAN_OPS or (gold.op == Op.RECOMMEND and not gold.topics):
        return asdict(predicted.constraints) == asdict(gold.constraints) and predicted.n == gold.n
    return True


def split_rows(config: PlannerTrainConfig, data: Path) -> tuple[dict[str, list[dict]], int]:
    """train / val / test / bench_eval / eval_* rows, and how many train rows the threshold-tuning fit uses.

    Validation is whole held-out dev template groups (val_share of each family's, at least one where a family has
    three or more), so the threshold is tuned on phrasings the tuning fit never saw; the validation rows end the
    train list, and the shipped planner is refitted on all of it.
    """
    rng = random.Random(config.seed)
    dev, test = read_jsonl(data / "questions_dev.jsonl"), read_jsonl(data / "questions_test.jsonl")
    bench = read_jsonl(data / "bench_dev.jsonl") if (data / "bench_dev.jsonl").is_file() else []
    out: dict[str, list[dict]] = {"train": [], "val": [], "test": test, "bench_eval": []}
    for split in ("dev", "test"):  # the evaluation sets: scored by question type, never trained on
        if (data / f"eval_{split}.jsonl").is_file():
            out[f"eval_{split}"] = read_jsonl(data / f"eval_{split}.jsonl")
    families: dict[str, list[str]] = {}
    for group in sorted({r["group"] for r in dev}):
        families.setdefault(group.rsplit(".", 1)[0], []).append(group)
    val_groups = set()
    for groups in families.values():
        if len(groups) >= 3:
            val_groups.update(rng.sample(groups, max(1, round(config.val_share * len(groups)))))
    out["val"] = [r for r in dev if r["group"] in val_groups]
    out["train"] = [r for r in dev if r["group"] not in val_groups]
    for row in bench:
        if config.bench and rng.random() >= config.val_share:
            out["train"].append(row)
        else:
            out["bench_eval"].append(row)
    n_fit = len(out["train"])
    out["train"] += out["val"]
    return out, n_fit


def train_planner(config: PlannerTrainConfig, data_dir: str | Path, out_dir: str | Path, settings: Settings) -> dict:
    """Train, tune, score and save the planner.

    Args:
        config: bench on/off, validation share, regularisation, threshold tuning, linker catalogs, seed.
        data_dir: the folder `plan-data` wrote (questions_dev/test.jsonl, bench_dev.jsonl).
        out_dir: where the planner is saved (planner.safetensors, labels.json, README.md).
        settings: the embedder (`settings.models.embedder`), linker settings and catalog reading limits.

    Returns:
        The report: sizes, the tuned threshold, accuracy per op on val/test/bench, planner latency.
    """
    data, started = Path(data_dir), time.time()
    if not (data / "questions_dev.jsonl").is_file():
        raise DataError(f"{data}: no questions_dev.jsonl; run `python -m training plan-data --out {data}` first")
    rows, n_fit = split_rows(config, data)
    retriever = link_retriever(config, settings)
    embedder = load_embedder(settings)
    common = template_words()
    tagged = {name: tag_rows(part, retriever, common) for name, part in rows.items() if name != "val"}
    texts = [t.masked for tags in tagged.values() for t in tags]
    x, vectors, at = embed(texts, embedder, data / "embeddings.npz"), {}, 0  # one encode (and cache write) for all
    for name, tags in tagged.items():
        vectors[name], at = x[at:at + len(tags)], at + len(tags)
    tagged["val"], vectors["val"] = tagged["train"][n_fit:], vectors["train"][n_fit:]
    tuner = _fit_planner(config, range(n_fit), rows, tagged, vectors, embedder, common)
    scored = {"val": _score(tuner, rows["val"], tagged["val"], vectors["val"], retriever)}
    planner = _fit_planner(config, range(len(rows["train"])), rows, tagged, vectors, embedder, common)
    planner.threshold = tune_threshold(scored["val"]["confidence"], scored["val"]["label_ok"], config.fallback_accuracy)
    scored |= {name: _score(planner, rows[name], tagged[name], vectors[name], retriever)
               for name in rows if name not in ("train", "val")}
    report = {"config": asdict(config), "data": str(data), "sizes": {k: len(v) for k, v in rows.items()},
              "labels": len(planner.labels), "threshold": planner.threshold,
              "latency_ms": _latency(planner, [r["question"] for r in rows["test"][:200]], retriever)}
    for name, s in scored.items():
        report[name] = summarize(s, rows[name], planner.threshold)
    if config.bench and config.generalisation:
        report["without_bench"] = _without_bench(config, rows, tagged, vectors, embedder, common, retriever)
    report["seconds"] = round(time.time() - started, 1)
    planner.save(out_dir, {"embedder": settings.models.embedder, "trained": {k: report[k] for k in
                                                                             ("sizes", "threshold", "labels")}})
    (Path(out_dir) / "README.md").write_text(model_card(report), encoding="utf-8")
    return report


def _fit_planner(config: PlannerTrainConfig, keep, rows: dict, tagged: dict, vectors: dict, embedder,
                 common: frozenset[str]) -> Planner:
    """A planner fitted on the training rows at the indices `keep`."""
    keep = list(keep)
    labels, coef, intercept, bow = fit(vectors["train"][keep], [tagged["train"][i].masked for i in keep],
                                       [rows["train"][i]["label"] for i in keep], config)
    return Planner(labels, coef, intercept, embedder, common=common, bow=bow, bow_weight=config.bow_weight)


def _without_bench(config: PlannerTrainConfig, rows: dict, tagged: dict, vectors: dict, embedder, common,
                   retriever) -> dict:
    """The generalisation check: fitted on generated questions only, scored on every WikiMovies/MetaQA dev question
    (those the main planner trained on, and its held-out share)."""
    generated = [i for i, r in enumerate(rows["train"]) if r["source"] == "template"]
    planner = _fit_planner(config, generated, rows, tagged, vectors, embedder, common)
    bench = [i for i, r in enumerate(rows["train"]) if r["source"] != "template"]
    b_rows = [rows["train"][i] for i in bench] + rows["bench_eval"]
    b_tags = [tagged["train"][i] for i in bench] + tagged["bench_eval"]
    b_x = np.concatenate([vectors["train"][bench], vectors["bench_eval"]])
    val = _score(planner, rows["val"], tagged["val"], vectors["val"], retriever)
    planner.threshold = tune_threshold(val["confidence"], val["label_ok"], config.fallback_accuracy)
    out = {"train": len(generated), "threshold": planner.threshold}
    for name, (r, t, x) in {"bench": (b_rows, b_tags, b_x), "test": (rows["test"], tagged["test"], vectors["test"]),
                            "eval_test": (rows.get("eval_test", []), tagged.get("eval_test", []),
                                          vectors.get("eval_test"))}.items():
        if r:
            out[name] = summarize(_score(planner, r, t, x, retriever), r, planner.threshold)
    return out


def _score(planner: Planner, rows: list[dict], tagged: list[Tagged], x: np.ndarray, retriever) -> dict:
    if not rows:
        return {"confidence": np.zeros(0), "label_ok": np.zeros(0, bool), "plan_ok": np.zeros(0, bool), "pred": []}
    logits = planner.logits(x, [t.masked for t in tagged])
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs = planner.feasible(probs / probs.sum(axis=1, keepdims=True), tagged)
    pred = [planner.labels[i] for i in probs.argmax(axis=1)]
    plans = [build_plan(label, t, retriever.index.passages, float(p.max())) for label, t, p in zip(pred, tagged, probs)]
    label_ok = np.array([p == r["label"] for p, r in zip(pred, rows)])
    plan_ok = np.array([plan_matches(p, parse_plan(r["plan"])) for p, r in zip(plans, rows)])
    return {"confidence": np.array([p.confidence for p in plans]), "label_ok": label_ok, "plan_ok": plan_ok,
            "pred": pred}


def _latency(planner: Planner, questions: list[str], retriever) -> dict:
    """Per-question planning time (link + tag + one MiniLM encode + the matrix product), one question at a time."""
    times = []
    for q in questions:
        t0 = time.perf_counter()
        planner.plan(q, retriever)
        times.append((time.perf_counter() - t0) * 1000)
    return {"p50": round(float(np.percentile(times, 50)), 2), "p90": round(float(np.percentile(times, 90)), 2),
            "n": len(times)} if times else {}
