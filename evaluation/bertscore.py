"""BERTScore offline: the bundled all-MiniLM-L6-v2 (layer 6) through the bert-score package, rescaled with
the project's own baseline (mean P/R/F of random sentence pairs from the sample catalog's passages).

    python -m rag bertscore-baseline [--catalog data/sample_movies.csv] [--bertscore-pairs 3000] [--out FILE]

bert-score loads `model_type` with AutoModel/AutoTokenizer.from_pretrained, so a local folder works as the
model type. Rescaling is (raw - b) / (1 - b) with b the baseline row of the chosen layer, exactly as
bert-score does with `baseline_path`. `--bertscore-model roberta-large` uses the standard setting
(layer 17, bert-score's own English baseline) and needs the hub.
"""
from __future__ import annotations

import json
import random
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.config import REPO_ROOT, Settings
from core.errors import ModelUnavailable
from core.models import MINILM_HUB_ID, bundled_embedder_dir, hub_reachable, resolve_embedder
from index.passages import build_passages
from index.sources import read_catalog

_MINILM_ALIASES = {"minilm", "all-MiniLM-L6-v2", MINILM_HUB_ID}


@dataclass(frozen=True)
class BertScoreSpec:
    name: str  # what reports show (and what goes into the hash string)
    path: str  # folder or hub id given to bert-score as model_type
    num_layers: int
    baseline: str | None  # baseline CSV (LAYER,P,R,F); None → no rescaled scores
    custom_baseline: bool  # True for the project's own baseline, False for bert-score's bundled one


def baseline_file(name: str, num_layers: int) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "_", Path(name).name.lower()).strip("_")
    slug = "minilm" if "minilm_l6" in slug else slug
    return REPO_ROOT / "data" / f"bertscore_baseline_{slug}_l{num_layers}.csv"


def _bundled_minilm() -> Path | None:
    bundled = bundled_embedder_dir()
    return bundled.resolve() if bundled else None


def resolve_bertscore(settings: Settings, model: str | None = None) -> BertScoreSpec:
    """Which model, layer and rescaling baseline BERTScore uses.

    Args:
        settings: the default model and layer (`settings.eval`), embedder resolution and hub timeout.
        model: "minilm" (or another MiniLM alias), a local model folder, or a model bert-score knows (e.g.
            roberta-large, which needs the hub); default `settings.eval.bertscore_model`.

    Returns:
        A BertScoreSpec. MiniLM → the bundled folder at `settings.eval.bertscore_layers` with the project's own
        baseline; a folder → its last layer with a project baseline named after it; a bert-score model → its
        standard layer and bert-score's English baseline (None when there is none).

    Raises:
        ModelUnavailable: bert-score does not know the model, or the hub cannot be reached for it.
    """
    model = model or settings.eval.bertscore_model
    if model in _MINILM_ALIASES or (Path(model).is_dir() and Path(model).resolve() == _bundled_minilm()):
        layers = settings.eval.bertscore_layers
        return BertScoreSpec(MINILM_HUB_ID, resolve_embedder("minilm", settings), layers,
                             str(baseline_file(MINILM_HUB_ID, layers)), True)
    if Path(model).is_dir():
        config = json.loads((Path(model) / "config.json").read_text()) if (Path(model) / "config.json").exists() else {}
        layers = int(config.get("num_hidden_layers") or settings.eval.bertscore_layers)
        return BertScoreSpec(str(Path(model).resolve()), str(Path(model).resolve()), layers,
                             str(baseline_file(model, layers)), True)
    from bert_score.utils import model2layers  # deferred: heavy

    if model not in model2layers:
        raise ModelUnavailable(f"unknown BERTScore model '{model}'; use minilm, a local folder, or e.g. roberta-large")
    if not hub_reachable(settings.models.hub_timeout_s):
        raise ModelUnavailable(f"BERTScore model '{model}' needs the Hugging Face hub, which cannot be reached; "
                               f"omit --bertscore-model to use the bundled MiniLM")
    import bert_score  # deferred: heavy

    standard = Path(bert_score.__file__).parent / "rescale_baseline" / "en" / f"{model}.tsv"
    return BertScoreSpec(model, model, model2layers[model], str(standard) if standard.exists() else None, False)


def bertscore_hash(spec: BertScoreSpec, rescaled: bool) -> str:
    from bert_score.utils import get_hash  # deferred: heavy

    return get_hash(spec.name, spec.num_layers, False, rescaled, rescaled and spec.custom_baseline, False)


def _load_baseline(path: str, num_layers: int):
    table = pd.read_csv(path)
    if list(table.columns[:4]) != ["LAYER", "P", "R", "F"] or len(table) <= num_layers:
        raise ModelUnavailable(f"BERTScore baseline {path} is not a LAYER,P,R,F table with layer {num_layers}")
    return table.iloc[num_layers][["P", "R", "F"]].to_numpy(dtype=float)


class BertScore:
    """Loads the scorer once; `score` gives raw and (when a baseline exists) rescaled P/R/F per candidate.

    Args:
        spec: the model, layer and baseline, from `resolve_bertscore`.
        progress: show bert-score's and transformers' progress bars.
        all_layers: a scorer that returns every layer, for `compute_baseline` (which calls `.scorer` directly).

    Attributes:
        baseline: the baseline row (P, R, F) of the spec's layer, or None when the spec has no baseline file.
        hash, hash_rescaled: bert-score's reproducibility strings (hash_rescaled None without a baseline).

    Raises:
        ModelUnavailable: the model cannot be loaded, or the baseline file is not a LAYER,P,R,F table.
    """

    def __init__(self, spec: BertScoreSpec, progress: bool = True, all_layers: bool = False) -> None:
        from bert_score import BERTScorer  # deferred: heavy
        from transformers.utils import logging as hf_logging  # deferred: heavy

        self.spec, self.progress = spec, progress
        if not progress:
            hf_logging.disable_progress_bar()
        try:
            self.scorer = BERTScorer(model_type=spec.path, num_layers=spec.num_layers, lang="en",
                                     all_layers=all_layers, device="cpu")
        except Exception as exc:
            raise ModelUnavailable(f"cannot load BERTScore model '{spec.name}': {str(exc).splitlines()[0]}") from exc
        baseline_exists = spec.baseline is not None and Path(spec.baseline).exists()
        self.baseline = _load_baseline(spec.baseline, spec.num_layers) if baseline_exists else None
        self.hash = bertscore_hash(spec, rescaled=False)
        self.hash_rescaled = bertscore_hash(spec, rescaled=True) if self.baseline is not None else None

    def score(self, candidates: list[str], references: list[list[str]], batch_size: int = 64) -> dict[str, list]:
        """P, R, F (raw) and P_rescaled, R_rescaled, F_rescaled (or None) per candidate; max over its references."""
        refs = [[r.strip() for r in group if r and r.strip()] for group in references]
        # transformers 5 tokenizers lack build_inputs_with_special_tokens, which bert-score uses for empty
        # strings; like bert-score, an empty candidate (or one without references) scores 0.
        keep = [i for i, (c, r) in enumerate(zip(candidates, refs)) if c and c.strip() and r]
        P, R, F = (np.zeros(len(candidates)) for _ in range(3))
        if keep:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scores = self.scorer.score([candidates[i].strip() for i in keep], [refs[i] for i in keep],
                                           verbose=self.progress, batch_size=batch_size)
            for full, part in zip((P, R, F), scores):
                full[keep] = part.numpy()
        out = {"P": P.tolist(), "R": R.tolist(), "F": F.tolist()}
        for key, raw, b in zip(("P", "R", "F"), (P, R, F), self.baseline if self.baseline is not None else [None] * 3):
            out[f"{key}_rescaled"] = None if b is None else ((raw - b) / (1 - b)).tolist()
        return out


# ---------------------------------------------------------------- rescaling baseline

def corpus_sentences(texts: list[str], min_words: int = 3, max_words: int = 40) -> list[str]:
    """Sentence-like pieces of the passage texts, deduplicated, in a stable order."""
    seen: dict[str, None] = {}
    for text in texts:
        for piece in re.split(r"(?<=[.!?])\s+|\n+", text):
            piece = " ".join(piece.split())
            if min_words <= len(piece.split()) <= max_words:
                seen.setdefault(piece, None)
    return list(seen)


def compute_baseline(sentences: list[str], spec: BertScoreSpec, n_pairs: int = 3000, seed: int = 42,
                     progress: bool = True):
    """Mean raw P/R/F of `n_pairs` random pairs of different sentences, for every layer 0..num_layers."""
    if len(sentences) < 2:
        raise ValueError("need at least two corpus sentences to compute a BERTScore baseline")
    rng = random.Random(seed)
    pairs = [tuple(rng.sample(range(len(sentences)), 2)) for _ in range(n_pairs)]
    scorer = BertScore(spec, progress=progress, all_layers=True).scorer
    P, R, F = scorer.score([sentences[i] for i, _ in pairs], [sentences[j] for _, j in pairs], verbose=progress)
    table = pd.DataFrame({"LAYER": range(P.shape[0]), "P": P.mean(1).numpy(), "R": R.mean(1).numpy(),
                          "F": F.mean(1).numpy()})
    return table.iloc[: spec.num_layers + 1]


def build_baseline(settings: Settings, catalog: str | None = None, model: str | None = None,
                   out: str | None = None, n_pairs: int | None = None) -> Path:
    """Recompute the rescaling baseline from the project's sample catalog passages and save it as CSV."""
    spec = resolve_bertscore(settings, model)
    movies = read_catalog(catalog or settings.index.sample_catalog, settings).movies
    sentences = corpus_sentences([p.text for p in build_passages(movies, settings)])
    table = compute_baseline(sentences, spec, n_pairs or settings.eval.bertscore_pairs, settings.run.seed,
                             settings.run.progress)
    path = Path(out or spec.baseline or baseline_file(spec.name, spec.num_layers))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    table.to_csv(tmp, index=False, float_format="%.6f")
    tmp.replace(path)
    return path
