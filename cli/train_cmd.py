"""`train prepare|finetune|perplexity|install|plan-data|planner|capability-data`: training data, fine-tuning,
perplexity, installing a model, the planner's data and classifier, and the capability evaluation sets (training.data,
training.finetune, training.install, training.plan_data, training.plan_train, training.capability_data; torch loads
only when a command runs). The PrepareConfig, FinetuneConfig, PlanDataConfig, PlannerTrainConfig and
CapabilityDataConfig flags are generated from their fields, like the settings flags."""
from __future__ import annotations

import argparse
import json

from core.flags import add_config_flags, add_settings_flags, config_from_args, settings_from_args
from training.capability_data import CapabilityDataConfig, write_capability_data
from training.data import STYLES, PrepareConfig, prepare
from training.finetune import FinetuneConfig, evaluate_perplexity, finetune
from training.install import DTYPES, install_model
from training.open_examples import OpenDataConfig, OpenRenderer, write_open_data
from training.plan_data import PlanDataConfig, write_plan_data
from training.plan_train import PlannerTrainConfig, train_planner

DESCRIPTION = """Prepare training data, fine-tune a causal LM on it, measure perplexity, install the result.

  prepare --qa dev.txt --catalog kb.txt.gz --index indexes/wikimovies --out data/train
  finetune --base distilbert/distilgpt2 --data data/train --out models/x [--lora]
  perplexity --model models/x --data data/train
  install models/x          # becomes the default generator (ModelConfig.finetuned_generator)
  plan-data --out runs/planner_data             # planner questions, bench dev labels, eval sets
  planner --data runs/planner_data [--no-bench] # trains models/planner (ModelConfig.planner)
  capability-data --out runs/capability_data   # identify/describe/recommend/abstain evaluation sets
  open-data --out runs/broad --replay runs/factline-data   # describe/recommend/identify examples + a replay
"""
RUN_FIELDS = ("progress", "num_threads")
PREPARE_ALIASES = {"qa_files": "--qa", "hf_datasets": "--hf-dataset", "catalogs": "--catalog",
                   "lm_catalogs": "--lm-catalog", "plan_questions": "--plan-questions"}
FINETUNE_ALIASES = {"learning_rate": "--lr", "per_device_batch": "--batch"}


def add_commands(sub: argparse._SubParsersAction) -> None:
    prep = sub.add_parser("prepare", help="build training data (QA, metadata-derived, RAG-rendered, LM text)",
                          description="Build training data: QA pairs rendered with the RAG prompts, plus LM text.")
    prep.add_argument("--out", required=True, help="output folder (datasets save_to_disk, or JSONL with --jsonl)")
    prep.add_argument("--jsonl", action="store_true", help="write train.jsonl / validation.jsonl instead of arrow")
    group = prep.add_argument_group("training data (training.data.PrepareConfig)")
    add_config_flags(group, PrepareConfig, aliases=PREPARE_ALIASES, choices={"style": STYLES})
    group.add_argument("--keep-test-entities", dest="exclude_test_entities", action="store_false", default=None,
                       help="same as --no-exclude-test-entities (test questions themselves always stay out)")
    prep.set_defaults(run=run_prepare)
    fine = sub.add_parser("finetune", help="fine-tune a causal LM with the HF Trainer (full or --lora)",
                          description="Fine-tune a causal LM on `prepare` data with the HF Trainer (full or --lora).")
    fine.add_argument("--data", required=True, help="folder written by `prepare`")
    fine.add_argument("--out", required=True, help="output model folder")
    add_config_flags(fine.add_argument_group("fine-tuning (training.finetune.FinetuneConfig)"), FinetuneConfig,
                     aliases=FINETUNE_ALIASES)
    fine.set_defaults(run=run_finetune)
    ppl = sub.add_parser("perplexity", help="validation loss and perplexity of a model on prepared data")
    ppl.add_argument("--model", required=True, help="model folder (full model or adapter) or hub id")
    ppl.add_argument("--data", required=True, help="folder written by `prepare`")
    ppl.add_argument("--split", default="validation", help="dataset split (default: validation)")
    ppl.add_argument("--max-length", type=int, default=256, help="tokens per example (default: 256)")
    ppl.add_argument("--batch", type=int, default=8, help="examples per forward pass (default: 8)")
    ppl.set_defaults(run=run_perplexity)
    for p in (prep, fine, ppl):
        add_settings_flags(p, fields=RUN_FIELDS)
    inst = sub.add_parser("install", help="install a fine-tuned model folder as the default generator")
    inst.add_argument("run_dir", help="folder written by `finetune`")
    inst.add_argument("--dtype", choices=DTYPES, default="float16",
                      help="dtype of the stored weights (default: float16, half the size of float32)")
    inst.add_argument("--eval-report", help="an eval report.json to keep next to the model as eval_report.json")
    add_settings_flags(inst, fields=("finetuned_generator",), aliases={"finetuned_generator": "--to"})
    inst.set_defaults(run=run_install)
    _add_planner_commands(sub)


def _add_planner_commands(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("plan-data", help="labelled planner questions and evaluation sets with gold answers",
                          description="Generate labelled planner questions from the training catalogs (dev/test "
                                      "template groups), label WikiMovies/MetaQA dev questions, and write evaluation "
                                      "sets with gold answers computed from the catalog.")
    data.add_argument("--out", required=True, help="output folder (JSONL files and report.json)")
    add_config_flags(data.add_argument_group("planner data (training.plan_data.PlanDataConfig)"), PlanDataConfig,
                     aliases={"catalogs": "--catalog"})
    add_settings_flags(data, fields=RUN_FIELDS)
    data.set_defaults(run=run_plan_data)
    plan = sub.add_parser("planner", help="train the question → plan classifier (rag.planner)",
                          description="Mask, embed (bundled MiniLM) and classify the planner questions; tune the "
                                      "confidence threshold on dev; save weights, labels and a model card.")
    plan.add_argument("--data", required=True, help="folder written by `plan-data`")
    add_config_flags(plan.add_argument_group("planner training (training.plan_train.PlannerTrainConfig)"),
                     PlannerTrainConfig, aliases={"catalogs": "--catalog", "c": "--C"})
    add_settings_flags(plan, fields=RUN_FIELDS + ("planner", "embedder"), aliases={"planner": "--out"})
    plan.set_defaults(run=run_planner)
    caps = sub.add_parser("capability-data", help="identify/describe/recommend/abstain evaluation sets",
                          description="Generate the capability evaluation sets against the default catalog index: "
                                      "train/dev/test by film, one phrasing group per capability held out of train "
                                      "and dev (training.capability_data).")
    caps.add_argument("--out", required=True, help="output folder ({capability}_{split}.jsonl and report.json)")
    add_config_flags(caps.add_argument_group("capability data (training.capability_data.CapabilityDataConfig)"),
                     CapabilityDataConfig, aliases={"description_catalogs": "--description-catalog",
                                                    "absent_catalogs": "--absent-catalog"})
    add_settings_flags(caps, fields=("index_dir",))
    caps.set_defaults(run=run_capability_data)
    open_data = sub.add_parser("open-data", help="describe/recommend/identify training examples, plus a replay",
                               description="Training examples of the open operations in the pipeline's evidence "
                                           "format, from `capability-data` train questions, mixed with a replay of "
                                           "earlier prepared data (training.open_examples).")
    open_data.add_argument("--out", required=True, help="output folder (as `prepare` writes it)")
    add_config_flags(open_data.add_argument_group("open examples (training.open_examples.OpenDataConfig)"),
                     OpenDataConfig, aliases={"index_dir": "--index"})
    add_settings_flags(open_data, fields=RUN_FIELDS)
    open_data.set_defaults(run=run_open_data)


def _report(report: dict) -> int:
    print(json.dumps(report, indent=2, default=str))  # stdout holds only the JSON report
    return 0


def run_prepare(args: argparse.Namespace) -> int:
    report = prepare(config_from_args(args, PrepareConfig), args.out, settings_from_args(args), jsonl=args.jsonl)
    report.pop("config", None)
    return _report(report)


def run_finetune(args: argparse.Namespace) -> int:
    report = finetune(config_from_args(args, FinetuneConfig), args.data, args.out, settings_from_args(args))
    return _report({k: v for k, v in report.items() if k not in ("config", "evaluations")})


def run_perplexity(args: argparse.Namespace) -> int:
    return _report(evaluate_perplexity(args.model, args.data, settings_from_args(args), split=args.split,
                                       max_length=args.max_length, batch_size=args.batch))


def run_install(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    return _report(install_model(args.run_dir, settings.models.finetuned_generator, args.dtype, args.eval_report))


def run_plan_data(args: argparse.Namespace) -> int:
    report = write_plan_data(config_from_args(args, PlanDataConfig), args.out, settings_from_args(args))
    report.pop("test_groups", None)
    return _report(report)


def run_planner(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    report = train_planner(config_from_args(args, PlannerTrainConfig), args.data, settings.models.planner, settings)
    return _report({k: v for k, v in report.items() if k not in ("config",)})


def run_open_data(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    cfg = config_from_args(args, OpenDataConfig)
    renderer = OpenRenderer.from_settings(settings, cfg.index_dir)
    report = write_open_data(cfg, args.out, renderer, progress=settings.run.progress)
    report.pop("config", None)
    return _report(report)


def run_capability_data(args: argparse.Namespace) -> int:
    report = write_capability_data(config_from_args(args, CapabilityDataConfig), args.out, settings_from_args(args))
    report.pop("config", None)
    return _report(report)
