"""Training examples for the open operations, in the evidence format the pipeline gives them (rag.evidence):
describe (card + plot opening → two or three sentences), recommend (one line per film with its reason → the
list), identify (the best plot chunks → the film they describe).

The questions are the train split of `training capability-data` (each names its gold film; the held-out phrasing
group is never in it). Each question's gold plan runs on an index — the shipped catalog's, so that identify's plot
search does not find the very text a question was written from — and its evidence becomes the prompt exactly as
at inference. Targets: describe and recommend, the answer written from the data; identify, the gold film's label
when the search showed it (the generator learns to pick the film the description fits, which need not be the
search's first), else the example is left out.

`training open-data` writes a prepared folder (as `prepare` does): these examples, plus a replay of earlier
prepared data (fact lines, retrieved passages) so the generator keeps what it learned.
"""
from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from core.config import Settings
from core.errors import DataError
from core.records import normalize
from rag.describe import Describer
from rag.evidence import fact_hits
from rag.films import FilmPassages
from rag.identify import Identifier
from rag.plan import Constraints, Entity, EntityKind, Op, Plan
from rag.prompt import build_rag_prompt
from rag.recommend import Recommender
from training.examples import completion_for, make_example

KIND = "rag-open"
CAPABILITIES = ("describe", "recommend", "identify")


@dataclass
class OpenDataConfig:
    questions: str = "runs/capability_data"  # folder of `training capability-data` (its *_train/_dev.jsonl are read)
    index_dir: str | None = None  # index the plans run on; None → the default catalog index (settings)
    per_capability: int = 400  # training examples per capability at most
    replay: list[str] = field(default_factory=list)  # earlier `prepare` folders whose train examples are mixed in
    replay_n: int = 1200  # replayed examples in all (spread evenly over the replay folders)
    val_per_capability: int = 20  # validation examples per capability (from the dev split)
    seed: int = 42  # sampling seed


def read_capability_rows(folder: str, capability: str, split: str) -> list[dict]:
    path = Path(folder, f"{capability}_{split}.jsonl")
    if not path.exists():
        raise DataError(f"no {capability} {split} questions in '{folder}' (run `training capability-data` first)")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


class OpenRenderer:
    """Runs each question's gold plan on an index and renders the pipeline's prompt and target."""

    def __init__(self, index, catalog, embedder, tokenizer, settings: Settings) -> None:
        films = FilmPassages(index)
        self.describer, self.recommender = Describer(catalog, films), Recommender(catalog, films)
        self.identifier = Identifier(index, embedder, films, settings)
        self.tokenizer, self.settings = tokenizer, settings

    @classmethod
    def from_settings(cls, settings: Settings, index_dir: str | None) -> OpenRenderer:
        """Over the index, catalog, embedder and prompt format (the generator's trained prompt settings) that the
        pipeline loads."""
        from rag.pipeline import load_pipeline  # deferred: loads models

        pipeline = load_pipeline(settings, index_dir)
        if pipeline.catalog is None:
            raise DataError("open examples need the index's catalog store (load the planner: --planner)")
        return cls(pipeline.index, pipeline.catalog, pipeline.embedder, pipeline.tokenizer, pipeline.settings)

    def __call__(self, capability: str, rows: list[dict], skipped: Counter) -> list[dict]:
        runs = (self.identifier([r["question"] for r in rows]) if capability == "identify"
                else [self._run(capability, r) for r in rows])
        out = []
        for row, run in zip(rows, runs):
            target = self._target(capability, row, run)
            if target is None:
                skipped[f"{capability}: no usable evidence"] += 1
                continue
            passages = [hit.passage for hit in fact_hits(run)]
            prompt, _ = build_rag_prompt(self.tokenizer, row["question"], passages, self.settings)
            example = make_example(prompt, completion_for(prompt, target), KIND, source=row.get("source", ""))
            out.append({**example, "question": row["question"], "answers": list(run.answers)})
        return out

    def _run(self, capability: str, row: dict):
        film = row.get("gold") or row.get("topic")
        topic = Entity(EntityKind.FILM, film["title"], film.get("year"))
        if capability == "describe":
            return self.describer(Plan(Op.DESCRIBE, [topic]))
        constraints = Constraints(**{k: v for k, v in (row.get("constraints") or {}).items()
                                     if k in Constraints.__dataclass_fields__})
        return self.recommender(Plan(Op.RECOMMEND, [topic], constraints=constraints), row["question"])

    @staticmethod
    def _target(capability: str, row: dict, run) -> str | None:
        if run.missing or not run.facts:
            return None
        if capability != "identify":
            return run.answer
        gold = row["gold"]
        shown = {(normalize(f.title), f.year): f for f in run.facts}
        fact = shown.get((normalize(gold["title"]), gold.get("year")))
        return None if fact is None else (f"{fact.title} ({fact.year})" if fact.year else fact.title)


def open_examples(renderer: OpenRenderer, cfg: OpenDataConfig, split: str, limit: int, progress: bool = True
                  ) -> tuple[list[dict], Counter]:
    """Up to `limit` examples per capability from the `split` questions, in batches of 64."""
    rng, skipped, examples = random.Random(cfg.seed), Counter(), []
    for capability in CAPABILITIES:
        rows = read_capability_rows(cfg.questions, capability, split)
        rows = [r for r in rows if not r.get("held_out")]  # the held-out phrasing group never trains
        rng.shuffle(rows)
        made: list[dict] = []
        with tqdm(total=limit, desc=f"{capability} examples ({split})", disable=not progress) as bar:
            for start in range(0, len(rows), 64):
                if len(made) >= limit:
                    break
                batch = renderer(capability, rows[start:start + 64], skipped)
                made += batch[:limit - len(made)]
                bar.update(min(len(batch), limit - bar.n))
        examples += made
    return examples, skipped


def replay_examples(folders: list[str], n: int, seed: int) -> list[dict]:
    """`n` train examples drawn evenly from earlier prepared folders (without their plot-continuation text)."""
    from training.data import load_prepared  # deferred: datasets is heavy

    if not folders or n <= 0:
        return []
    rng, out = random.Random(seed), []
    for folder in folders:
        rows = [r for r in load_prepared(folder)["train"] if r["kind"] != "lm-plot"]
        out += rng.sample(rows, min(len(rows), n // len(folders)))
    return out


def write_open_data(cfg: OpenDataConfig, out_dir: str, renderer: OpenRenderer, progress: bool = True) -> dict:
    """Write the broad-mix training folder (arrow, as `prepare` writes) and its prepare_meta.json."""
    from datasets import Dataset, DatasetDict  # deferred: heavy

    from training.data import META_FILE, _features

    train, skipped = open_examples(renderer, cfg, "train", cfg.per_capability, progress)
    val, _ = open_examples(renderer, cfg, "dev", cfg.val_per_capability, progress)
    train += replay_examples(cfg.replay, cfg.replay_n, cfg.seed)
    random.Random(cfg.seed).shuffle(train)
    columns = list(_features())
    rows = lambda examples: {c: [e[c] for e in examples] for c in columns}
    data = DatasetDict({"train": Dataset.from_dict(rows(train), features=_features()),
                        "validation": Dataset.from_dict(rows(val), features=_features())})
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    data.save_to_disk(out_dir)
    p = renderer.settings.prompt
    rendered_with = {"k": renderer.settings.retrieval.k, "prompt_examples": p.prompt_examples,
                     "max_prompt_tokens": p.max_prompt_tokens, "max_passage_tokens": p.max_passage_tokens,
                     "max_question_tokens": p.max_question_tokens}  # finetune copies it beside the model
    meta = {"config": asdict(cfg), "out_dir": out_dir, "train": len(train), "validation": len(val),
            "kinds": dict(Counter(e["kind"] for e in train)), "skipped": dict(skipped),
            "prompt_settings": rendered_with}
    Path(out_dir, META_FILE).write_text(json.dumps(meta, indent=1))
    return meta
