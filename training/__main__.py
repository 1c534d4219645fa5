"""`python -m training prepare|finetune|perplexity|install` — thin shells over training.data, .finetune and .install.

  python -m training prepare --qa dev.txt --catalog kb.txt.gz --index indexes/wikimovies --out data/train
  python -m training finetune --base distilbert/distilgpt2 --data data/train --out models/x [--lora]
  python -m training perplexity --model models/x --data data/train
  python -m training install models/x          # becomes the default generator (ModelConfig.finetuned_generator)
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields

from core.config import Settings
from training.data import STYLES, PrepareConfig
from training.finetune import DEFAULT_BASE, FinetuneConfig


def _defaults(cls) -> dict:
    return {f.name: f.default for f in fields(cls) if not callable(f.default)}


def add_prepare_arguments(p: argparse.ArgumentParser) -> None:
    d = _defaults(PrepareConfig)
    p.add_argument("--out", required=True, help="output folder (datasets save_to_disk, or JSONL with --jsonl)")
    p.add_argument("--jsonl", action="store_true", help="write train.jsonl / validation.jsonl instead of arrow")
    p.add_argument("--qa", action="append", default=[], metavar="FILE",
                   help="question file: CSV (Question, Answer), JSONL, WikiMovies or MetaQA dev; repeatable")
    p.add_argument("--hf-dataset", action="append", default=[], metavar="ID", help="HF dataset id (needs the hub)")
    p.add_argument("--catalog", action="append", default=[], metavar="FILE",
                   help="catalog or KB for metadata-derived QA pairs; repeatable")
    p.add_argument("--lm-catalog", action="append", default=[], metavar="FILE",
                   help="catalog whose plots become plain-text LM chunks; repeatable")
    p.add_argument("--index", dest="index_dir", help="index folder for retrieved contexts (RAG examples)")
    p.add_argument("--tokenizer", help="model whose tokenizer/chat template renders prompts (default: the generator)")
    p.add_argument("--style", choices=STYLES, default=d["style"], help="prompt style (default %(default)s)")
    p.add_argument("--phrasings", type=int, default=d["phrasings"], help="phrasings per metadata fact")
    p.add_argument("--max-answers", type=int, default=d["max_answers"], help="skip facts with more answers")
    p.add_argument("--max-kb-pairs", type=int, help="random cap on metadata-derived pairs")
    p.add_argument("--relations", help="comma-separated metadata relations (default: all)")
    p.add_argument("--gold-share", type=float, default=d["gold_share"], help="gold passage + distractors share")
    p.add_argument("--abstain-share", type=float, default=d["abstain_share"], help="gold-absent (abstain) share")
    p.add_argument("--k", type=int, help="passages per RAG prompt (default: settings.retrieval.k)")
    p.add_argument("--prompt-examples", type=int,
                   help="demonstration turns in chat RAG prompts (default: settings.prompt.prompt_examples)")
    p.add_argument("--max-length", type=int, default=d["max_length"], help="tokens per example")
    p.add_argument("--val-share", type=float, default=d["val_share"], help="validation share of questions")
    p.add_argument("--limit", type=int, help="random cap on QA pairs from files / datasets")
    p.add_argument("--holdout-per-type", type=int,
                   help="hold out the `rag eval --stratify --per-type N` sample of each question file (dev eval)")
    p.add_argument("--holdout-seed", type=int, default=d["holdout_seed"], help="that eval's --seed")
    p.add_argument("--keep-test-entities", action="store_true",
                   help="keep metadata pairs about entities named in the test questions (test questions stay out)")
    p.add_argument("--shared-data", help="folder with the WikiMovies/MetaQA test files for the overlap guard")
    p.add_argument("--seed", type=int, default=d["seed"])


def add_finetune_arguments(p: argparse.ArgumentParser) -> None:
    d = _defaults(FinetuneConfig)
    p.add_argument("--base", default=DEFAULT_BASE, help="base model: folder, hub id or 'smollm2' (default %(default)s)")
    p.add_argument("--data", required=True, help="folder written by `prepare`")
    p.add_argument("--out", required=True, help="output model folder")
    p.add_argument("--lora", action="store_true", help="train a LoRA adapter (peft, r=16, all linear layers)")
    p.add_argument("--lora-r", type=int, default=d["lora_r"])
    p.add_argument("--merge-lora", action="store_true", help="save the merged model instead of the adapter")
    p.add_argument("--lr", type=float, default=d["learning_rate"], help="learning rate (default %(default)s)")
    p.add_argument("--epochs", type=float, default=d["epochs"])
    p.add_argument("--batch", type=int, default=d["per_device_batch"], help="per-device batch")
    p.add_argument("--grad-accum", type=int, default=d["grad_accum"], help="gradient accumulation steps")
    p.add_argument("--max-length", type=int, default=d["max_length"])
    p.add_argument("--warmup-steps", type=int, default=d["warmup_steps"])
    p.add_argument("--max-steps", type=int, default=d["max_steps"], help="cap on optimizer steps")
    p.add_argument("--max-minutes", type=float, help="stop and checkpoint after this many minutes")
    p.add_argument("--eval-steps", type=int, help="evaluate every N steps (default: every epoch)")
    p.add_argument("--max-eval-examples", type=int, default=d["max_eval_examples"],
                   help="validation examples per evaluation (default %(default)s; 0 = all)")
    p.add_argument("--logging-steps", type=int, default=d["logging_steps"])
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in OUT/checkpoints")
    p.add_argument("--keep-checkpoints", action="store_true")
    p.add_argument("--seed", type=int, default=d["seed"])


def _settings(args) -> Settings:
    return Settings().with_overrides(progress=False if args.no_progress else None, num_threads=args.threads)


def run_prepare(args) -> dict:
    from training.data import prepare

    cfg = PrepareConfig(
        qa_files=args.qa, hf_datasets=args.hf_dataset, catalogs=args.catalog, lm_catalogs=args.lm_catalog,
        index_dir=args.index_dir, tokenizer=args.tokenizer, style=args.style, phrasings=args.phrasings,
        max_answers=args.max_answers, max_kb_pairs=args.max_kb_pairs,
        relations=tuple(r.strip() for r in args.relations.split(",")) if args.relations else None,
        gold_share=args.gold_share, abstain_share=args.abstain_share, k=args.k,
        prompt_examples=args.prompt_examples, max_length=args.max_length,
        val_share=args.val_share, limit=args.limit, holdout_per_type=args.holdout_per_type,
        holdout_seed=args.holdout_seed, exclude_test_entities=not args.keep_test_entities,
        shared_data=args.shared_data, seed=args.seed,
    )
    report = prepare(cfg, args.out, _settings(args), jsonl=args.jsonl)
    report.pop("config", None)
    return report


def run_finetune(args) -> dict:
    from training.finetune import finetune

    cfg = FinetuneConfig(
        base=args.base, lora=args.lora, lora_r=args.lora_r, merge_lora=args.merge_lora, learning_rate=args.lr,
        epochs=args.epochs, per_device_batch=args.batch, grad_accum=args.grad_accum, max_length=args.max_length,
        warmup_steps=args.warmup_steps, max_steps=args.max_steps, max_minutes=args.max_minutes,
        eval_steps=args.eval_steps, max_eval_examples=args.max_eval_examples or None,
        logging_steps=args.logging_steps, resume=args.resume,
        keep_checkpoints=args.keep_checkpoints, seed=args.seed,
    )
    report = finetune(cfg, args.data, args.out, _settings(args))
    return {k: v for k, v in report.items() if k not in ("config", "evaluations")}


def run_perplexity(args) -> dict:
    from training.finetune import evaluate_perplexity

    return evaluate_perplexity(args.model, args.data, _settings(args), split=args.split,
                               max_length=args.max_length, batch_size=args.batch)


def run_install(args) -> dict:
    from training.install import install_model

    return install_model(args.run_dir, args.to or Settings().models.finetuned_generator, args.dtype, args.eval_report)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="build training data (QA, metadata-derived, RAG-rendered, LM text)")
    add_prepare_arguments(prep)
    fine = sub.add_parser("finetune", help="fine-tune a causal LM with the HF Trainer (full or --lora)")
    add_finetune_arguments(fine)
    ppl = sub.add_parser("perplexity", help="validation loss and perplexity of a model on prepared data")
    ppl.add_argument("--model", required=True, help="model folder (full model or adapter) or hub id")
    ppl.add_argument("--data", required=True, help="folder written by `prepare`")
    ppl.add_argument("--split", default="validation")
    ppl.add_argument("--max-length", type=int, default=256)
    ppl.add_argument("--batch", type=int, default=8)
    inst = sub.add_parser("install", help="install a fine-tuned model folder as the default generator")
    inst.add_argument("run_dir", help="folder written by `finetune`")
    inst.add_argument("--to", help="target folder (default: ModelConfig.finetuned_generator, models/smollm2-movieqa-lora)")
    inst.add_argument("--dtype", choices=("float32", "float16", "bfloat16"), default="float16",
                      help="dtype of the stored weights (default float16: half the size of float32)")
    inst.add_argument("--eval-report", help="an eval report.json to keep next to the model as eval_report.json")
    for p in (prep, fine, ppl):
        p.add_argument("--no-progress", action="store_true", help="no progress bars")
        p.add_argument("--threads", type=int, help="torch threads (default: all cores)")
    return parser


def main(argv: list[str] | None = None) -> int:
    from core.errors import CatalogError, IndexLoadError
    from core.errors import ModelUnavailable
    from core.errors import QuestionsError
    from core.errors import DataError

    args = build_parser().parse_args(argv)
    from core.errors import InstallError

    run = {"prepare": run_prepare, "finetune": run_finetune, "perplexity": run_perplexity,
           "install": run_install}[args.command]
    try:
        report = run(args)
    except (DataError, CatalogError, IndexLoadError, ModelUnavailable, QuestionsError, InstallError,
            FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
