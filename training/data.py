"""Training data: QA pairs rendered with the RAG pipeline's own prompts, plus plain-text LM chunks.

Example kinds (column `kind`):
  rag-retrieved  context retrieved from the index, as at inference; target = the gold answers found in it
                 (in context order), or the abstention answer when none is
  rag-gold       the gold passage plus distractors (retrieved passages without any answer), shuffled;
                 without an index every non-abstain example is of this kind (random distractors)
  rag-abstain    distractors only; target = rag.prompt.ABSTAIN_ANSWER
  plain          the question alone (closed book, rag.prompt.render_plain_prompt); target = all answers
  lm-plot        catalog plots as genre-conditioned plot continuation (training.lm_data): the plot prompt with the
                 genre and an opening, target = the next sentences; films split train / validation / test
The dataset keeps text (prompt, completion); `tokenize_examples` turns it into input_ids and labels with
the prompt masked (-100), so the loss is on answer tokens only.
"""
from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from core.config import Settings
from core.errors import DataError, ModelUnavailable
from core.models import load_embedder, resolve_generator
from core.records import Question
from evaluation.questions import select_questions
from index.catalog import Catalog
from index.passages import build_passages
from index.sources import combine, read_catalogs
from index.store import load_index
from rag.prompt import count_tokens, is_chat_model, render_rag_prompt
from training.examples import RagRenderer, render_plain
from training.kb_questions import kb_qa_pairs
from training.lm_data import SPLITS, plot_examples
from training.plan_examples import plan_examples, read_plan_questions
from training.qa_pairs import TestGuard, load_test_guard, read_hf_dataset, read_qa_file

STYLES = ("rag", "plain", "both")
META_FILE = "prepare_meta.json"
OPENINGS_FILE = "plot_openings.jsonl"  # held-out plot openings (validation = dev, test), one per film


@dataclass
class PrepareConfig:
    qa_files: list[str] = field(default_factory=list)  # CSV/JSONL/WikiMovies/MetaQA; repeatable (never test files)
    hf_datasets: list[str] = field(default_factory=list)  # HF dataset ids (need the hub), e.g. HiTruong/movie_QA
    catalogs: list[str] = field(default_factory=list)  # catalogs or the KB → metadata-derived QA pairs; repeatable
    lm_catalogs: list[str] = field(default_factory=list)  # catalogs whose plots become plot continuations; repeatable
    lm_test_share: float = 0.05  # LM catalogs: share of films held out as the test split (val_share = dev)
    lm_windows: int = 3  # LM catalogs: (opening, continuation) windows per plot paragraph at most
    plan_questions: list[str] = field(default_factory=list)  # `training plan-data` questions → fact-line examples
    max_plan_examples: int | None = 2000  # cap on fact-line examples, ops balanced (None = all)
    index_dir: str | None = None  # index for retrieved contexts; None → passages built from `catalogs`
    tokenizer: str | None = None  # model whose tokenizer and chat template render prompts; None → settings
    style: str = "rag"  # "rag" (RAG prompt with context), "plain" (question only) or "both"
    phrasings: int = 1  # metadata-derived questions per fact, each with a different phrasing
    max_answers: int = 10  # facts / reverse questions with more answers are skipped
    max_kb_pairs: int | None = None  # random cap on metadata-derived pairs (None = all)
    relations: tuple[str, ...] | None = None  # metadata relations to ask about, comma-separated (None = all)
    gold_share: float = 0.4  # RAG examples built from the gold passage plus distractors
    abstain_share: float = 0.1  # RAG examples without the gold passage, target = the abstention answer
    k: int | None = None  # passages per RAG prompt (None → settings.retrieval.k)
    prompt_examples: int | None = None  # demonstration turns in chat RAG prompts (None → settings.prompt)
    max_length: int = 256  # tokens per example (prompt + answer + eos); the RAG context is packed to fit
    val_share: float = 0.05  # share of questions (and plots) held out for validation loss / perplexity
    limit: int | None = None  # random cap on QA pairs from question files and HF datasets (quick runs)
    holdout_per_type: int | None = None  # hold out `rag eval --stratify --per-type N` sample of each question file
    holdout_seed: int = 42  # the eval's sampling seed (rag eval --seed)
    exclude_test_entities: bool = True  # drop metadata-derived pairs about a WikiMovies/MetaQA test topic entity
    shared_data: str | None = None  # folder holding the benchmark test files for the overlap guard
    seed: int = 42  # sampling, shuffling and the split


# ---------------------------------------------------------------- collecting QA pairs

def collect_pairs(cfg: PrepareConfig, settings: Settings,
                  movies_by_catalog: dict[str, list]) -> tuple[list[Question], dict]:
    """All QA pairs from files, HF datasets and catalogs, without test questions (and their entities) and
    without the held-out evaluation sample of each question file."""

    rng = random.Random(cfg.seed)
    asked: list[Question] = []
    held: list[Question] = []
    for path in cfg.qa_files:
        pairs = read_qa_file(path)
        if cfg.holdout_per_type:
            sample = {id(p) for p in select_questions(pairs, stratify=True, per_type=cfg.holdout_per_type,
                                                       seed=cfg.holdout_seed)}
            held += [p for p in pairs if id(p) in sample]
            pairs = [p for p in pairs if id(p) not in sample]
        asked += pairs
    for dataset_id in cfg.hf_datasets:
        asked += read_hf_dataset(dataset_id, settings)
    derived: list[Question] = []
    for path, movies in movies_by_catalog.items():
        derived += kb_qa_pairs(movies, Path(path).name, cfg.phrasings, cfg.max_answers, cfg.relations, cfg.seed)
    report = {"qa_from_files": len(asked), "qa_derived": len(derived), "held_out": len(held), "dropped": {},
              "guard_files": []}
    guard = load_test_guard(cfg.shared_data)
    if held:  # the held-out sample is guarded like a test set: its questions and entities stay out
        guard = (guard or TestGuard(set(), [], [])).with_questions([p.question for p in held])
    if guard is not None:
        asked, dropped_asked = guard.filter(asked, cfg.exclude_test_entities)
        derived, dropped_derived = guard.filter(derived, cfg.exclude_test_entities)
        report["dropped"] = {k: dropped_asked[k] + dropped_derived[k] for k in dropped_asked}
        report["guard_files"] = guard.files
    if cfg.limit is not None and len(asked) > cfg.limit:
        asked = rng.sample(asked, cfg.limit)
    if cfg.max_kb_pairs is not None and len(derived) > cfg.max_kb_pairs:
        derived = rng.sample(derived, cfg.max_kb_pairs)
    return asked + derived, report


def _split_key(pair: Question) -> str:
    """Phrasings of one fact share a key, so they land in the same split."""
    return f"{pair.type}|{pair.entity}" if pair.entity and pair.type else pair.question.lower()


def is_validation(key: str, val_share: float) -> bool:
    return int(hashlib.md5(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < val_share


# ---------------------------------------------------------------- tokenizing (loss on answers only)

def tokenize_example(example: dict, tokenizer) -> dict:
    """input_ids = prompt + completion (+ eos); labels = -100 on the prompt, token ids on the completion.

    The prompt is tokenized exactly as rag.generate.Generator does (special tokens only for base models)."""
    add_special = not is_chat_model(tokenizer)
    prompt_ids = tokenizer(example["prompt"], add_special_tokens=add_special).input_ids if example["prompt"] else []
    answer_ids = tokenizer(example["completion"], add_special_tokens=False).input_ids
    if example.get("add_eos", True):
        answer_ids = answer_ids + [tokenizer.eos_token_id]
    input_ids = prompt_ids + answer_ids
    labels = [-100] * len(prompt_ids) + answer_ids
    labels[0] = -100  # never a prediction target; masking it keeps the Trainer's token count (-100 count) exact
    return {"input_ids": input_ids, "attention_mask": [1] * len(input_ids), "labels": labels,
            "length": len(input_ids)}


def tokenize_examples(dataset, tokenizer, max_length: int, progress: bool = False):
    """Tokenize a text dataset; examples longer than max_length are dropped (never cut mid-answer)."""
    from datasets.utils.logging import disable_progress_bar, enable_progress_bar  # deferred: heavy

    if not progress:
        disable_progress_bar()
    try:
        tokenized = dataset.map(lambda ex: tokenize_example(ex, tokenizer), remove_columns=dataset.column_names)
        return tokenized.filter(lambda ex: ex["length"] <= max_length)
    finally:
        if not progress:
            enable_progress_bar()


# ---------------------------------------------------------------- prepare (the CLI's library function)

def load_tokenizer(name: str | None, settings: Settings):
    """The tokenizer (and chat template) of the model that will be trained, resolved like the generator."""
    from transformers import AutoTokenizer  # deferred: heavy

    spec = resolve_generator(settings.with_overrides(generator=name))
    try:
        tokenizer = AutoTokenizer.from_pretrained(spec.adapter or spec.path)
    except Exception as exc:
        raise ModelUnavailable(f"cannot load tokenizer of '{spec.name}': {str(exc).splitlines()[0]}") from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token  # seed recipe: pad = eos
    return tokenizer, spec


def prepare(cfg: PrepareConfig, out_dir: str, settings: Settings, jsonl: bool = False,
            tokenizer=None) -> dict:
    """Build train/validation examples and save them for `training.finetune`.

    Args:
        cfg: the sources (question files, HF datasets, catalogs, LM catalogs), style, shares and limits.
        out_dir: where the data (datasets save_to_disk, or train/validation.jsonl) and prepare_meta.json go.
        settings: prompt and retrieval settings the prompts are rendered with, model resolution, progress.
        jsonl: write train/validation.jsonl instead of an Arrow dataset folder.
        tokenizer: the tokenizer (and chat template) to render with; default that of `cfg.tokenizer`.

    Returns:
        The report (also written to prepare_meta.json): example counts per split, kind and source, pairs
        dropped by the test guard, the config and the prompt settings to answer with.

    Raises:
        DataError: an unknown style, no sources, a max length too short for the prompt, RAG examples for
            question files without an index, or no example at all.
        ModelUnavailable: the tokenizer cannot be loaded.
    """
    _check_sources(cfg)
    started = time.perf_counter()
    spec_name = cfg.tokenizer or "custom tokenizer"
    if tokenizer is None:
        tokenizer, spec = load_tokenizer(cfg.tokenizer, settings)
        spec_name = spec.name
    settings = settings.with_overrides(prompt_examples=cfg.prompt_examples)
    _check_template_fits(cfg, settings, tokenizer)
    movies_by_catalog = {r.path: r.movies for r in read_catalogs(cfg.catalogs, settings=settings)}
    pairs, report = collect_pairs(cfg, settings, movies_by_catalog)

    examples: list[tuple[str, dict]] = []  # (split, example)
    splits = ["validation" if is_validation(_split_key(p), cfg.val_share) else "train" for p in pairs]
    if cfg.style in ("plain", "both"):
        examples += [(s, render_plain(p, tokenizer, settings)) for p, s in zip(pairs, splits)]
    skipped_rag = 0
    if cfg.style in ("rag", "both") and pairs:
        renderer = _make_renderer(cfg, settings, tokenizer, movies_by_catalog)
        rag, skipped_rag = _rag_examples(renderer, pairs, splits, settings.run.progress)
        examples += rag
    openings: list[dict] = []
    if cfg.lm_catalogs:
        plots, openings = _lm_split_examples(cfg, settings, tokenizer)
        examples += plots
    if cfg.plan_questions:
        planned, report["plan_skipped"] = _plan_split_examples(cfg, settings, tokenizer, movies_by_catalog)
        examples += planned
    if not examples:
        raise DataError("no training examples could be made from the given sources")
    random.Random(cfg.seed).shuffle(examples)
    data = _dataset_dict(examples)
    _save(data, out_dir, jsonl)
    if openings:
        Path(out_dir, OPENINGS_FILE).write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in openings))

    report.update({
        "out_dir": str(out_dir), "format": "jsonl" if jsonl else "arrow", "tokenizer": spec_name,
        "chat_template": is_chat_model(tokenizer), "train": len(data.get("train", [])),
        "validation": len(data.get("validation", [])), "test": len(data.get("test", [])),
        "plot_openings": dict(Counter(o["split"] for o in openings)),
        "kinds": dict(Counter(ex["kind"] for _, ex in examples)), "skipped_rag": skipped_rag,
        "sources": dict(Counter(ex["source"] for _, ex in examples)),
        "seconds": round(time.perf_counter() - started, 1),
        "config": asdict(cfg), "prompt_settings": prompt_settings(cfg, settings),
    })
    Path(out_dir, META_FILE).write_text(json.dumps(report, indent=2, default=str))
    return report


def _check_sources(cfg: PrepareConfig) -> None:
    if cfg.style not in STYLES:
        raise DataError(f"unknown style '{cfg.style}' (use one of {', '.join(STYLES)})")
    if not (cfg.qa_files or cfg.hf_datasets or cfg.catalogs or cfg.lm_catalogs or cfg.plan_questions):
        raise DataError("nothing to prepare: give question files, a dataset id, catalogs, LM catalogs or planner "
                        "questions")
    if cfg.plan_questions and not (cfg.index_dir or cfg.catalogs):
        raise DataError("fact-line examples run their plans on a catalog: pass --index or --catalog")


def _rag_examples(renderer: RagRenderer, pairs: list[Question], splits: list[str], progress: bool,
                  chunk_size: int = 256) -> tuple[list[tuple[str, dict]], int]:
    """(split, example) for each pair the renderer can ground, and how many it skipped; retrieval runs in chunks."""
    examples, skipped = [], 0
    bar = tqdm(total=len(pairs), desc="rendering RAG examples", disable=not progress)
    for start in range(0, len(pairs), chunk_size):
        chunk = pairs[start:start + chunk_size]
        for pair, split, retrieved in zip(chunk, splits[start:start + chunk_size], renderer.candidates(chunk)):
            example = renderer.render(pair, retrieved)
            if example is None:
                skipped += 1
            else:
                examples.append((split, example))
        bar.update(len(chunk))
    bar.close()
    return examples, skipped


def _lm_split_examples(cfg: PrepareConfig, settings: Settings, tokenizer) -> tuple[list[tuple[str, dict]], list]:
    """(split, example) of plot continuation from the LM catalogs, films split train / validation / test, and the
    held-out openings."""
    movies = combine(read_catalogs(cfg.lm_catalogs, settings=settings))
    source = "+".join(Path(p).name for p in cfg.lm_catalogs)
    return plot_examples(movies, tokenizer, settings, cfg.max_length, source, cfg.val_share, cfg.lm_test_share,
                         cfg.lm_windows, cfg.seed)


def _plan_split_examples(cfg: PrepareConfig, settings: Settings, tokenizer,
                         movies_by_catalog: dict) -> tuple[list[tuple[str, dict]], dict]:
    """(split, example) in the planner's fact-line format; the questions of one template group share a split."""
    if cfg.index_dir:
        catalog = Catalog.open(cfg.index_dir)
    else:
        catalog = Catalog.from_movies(m for ms in movies_by_catalog.values() for m in ms)
    guard = load_test_guard(cfg.shared_data) if cfg.exclude_test_entities else None
    rows = read_plan_questions(cfg.plan_questions)
    examples, skipped = plan_examples(rows, catalog, tokenizer, settings, cfg.max_plan_examples, cfg.seed, guard,
                                      settings.run.progress)
    return [("validation" if is_validation(ex["group"], cfg.val_share) else "train", ex) for ex in examples], \
        dict(skipped)


def _dataset_dict(examples: list[tuple[str, dict]]):
    """A DatasetDict of the (split, example) pairs; an empty split is left out (datasets cannot reload one)."""
    from datasets import Dataset, DatasetDict  # deferred: heavy

    features = _features()
    return DatasetDict({
        split: Dataset.from_dict({name: [ex[name] for s, ex in examples if s == split] for name in features},
                                 features=features)
        for split in SPLITS if any(s == split for s, _ in examples)
    })


def prompt_settings(cfg: PrepareConfig, settings: Settings) -> dict:
    """The core.config.Settings fields the prompts were rendered with (use the same ones at inference)."""
    return {"k": cfg.k or settings.retrieval.k, "prompt_examples": settings.prompt.prompt_examples,
            "max_prompt_tokens": min(settings.prompt.max_prompt_tokens, cfg.max_length),
            "max_passage_tokens": settings.prompt.max_passage_tokens,
            "max_question_tokens": settings.prompt.max_question_tokens}


def _check_template_fits(cfg: PrepareConfig, settings: Settings, tokenizer) -> None:
    if cfg.style == "plain" or not (cfg.qa_files or cfg.hf_datasets or cfg.catalogs or cfg.plan_questions):
        return
    bare = count_tokens(tokenizer, render_rag_prompt(tokenizer, "who directed Jaws?", [], settings))
    if bare + 32 > cfg.max_length:
        raise DataError(f"max length {cfg.max_length} leaves no room for context: the RAG prompt without passages "
                        f"is {bare} tokens (lower --prompt-examples, now {settings.prompt.prompt_examples}, "
                        "or raise --max-length)")


def _make_renderer(cfg: PrepareConfig, settings: Settings, tokenizer, movies_by_catalog: dict) -> RagRenderer:
    if cfg.index_dir:
        return RagRenderer(tokenizer, settings, cfg.max_length, cfg.gold_share, cfg.abstain_share, cfg.k, cfg.seed,
                           index=load_index(cfg.index_dir, settings), embedder=load_embedder(settings=settings))
    if cfg.qa_files or cfg.hf_datasets:
        raise DataError("RAG examples for question files need retrieved contexts: pass --index (or --style plain)")
    movies = [m for ms in movies_by_catalog.values() for m in ms]
    return RagRenderer(tokenizer, settings, cfg.max_length, cfg.gold_share, cfg.abstain_share, cfg.k, cfg.seed,
                       pool=build_passages(movies, settings))


def _features():
    from datasets import Features, Sequence, Value  # deferred: heavy

    return Features({
        "prompt": Value("string"), "completion": Value("string"), "add_eos": Value("bool"), "kind": Value("string"),
        "source": Value("string"), "question": Value("string"), "answers": Sequence(Value("string")),
    })


def _save(data, out_dir: str, jsonl: bool) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if jsonl:
        for split, ds in data.items():
            ds.to_json(str(out / f"{split}.jsonl"), lines=True, force_ascii=False)
    else:
        data.save_to_disk(str(out))


def load_prepared(data_dir: str):
    """The DatasetDict written by `prepare` (save_to_disk folder or train/validation.jsonl)."""
    from datasets import DatasetDict, load_dataset, load_from_disk  # deferred: heavy

    folder = Path(data_dir)
    if (folder / "dataset_dict.json").exists():
        return load_from_disk(str(folder))
    files = {s: str(folder / f"{s}.jsonl") for s in SPLITS if (folder / f"{s}.jsonl").exists()}
    if "train" not in files:
        raise DataError(f"'{data_dir}' holds no prepared data (expected a saved dataset or train.jsonl)")
    return DatasetDict({s: load_dataset("json", data_files=f, split="train") for s, f in files.items()})


def read_meta(data_dir: str) -> dict:
    path = Path(data_dir, META_FILE)
    return json.loads(path.read_text()) if path.exists() else {}
