"""`eval` (RAG against plain answers on a questions file), `compare` (two eval runs, question by question),
`eval-chat` (follow-up dialogues) and `eval-capabilities` (the identify/describe/recommend/abstain sets)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cli.answer_cmd import add_answer_settings
from core.flags import add_settings_flags, settings_from_args
from evaluation.compare import compare_runs, markdown
from evaluation.evaluate import MODES, markdown_summary, parse_modes, run_evaluation
from evaluation.questions import FORMATS, load_questions, select_questions


def add_commands(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser("eval", help="evaluate RAG vs plain on a questions file",
                        description="Evaluate RAG against plain answers: accuracy, BERTScore, retrieval, abstention, "
                                    "latency and paired-bootstrap deltas, written to --out.")
    add_eval_arguments(ev)
    ev.set_defaults(run=run_eval)
    cmp = sub.add_parser("compare", help="compare two eval runs question by question (e.g. two generators)",
                         description="B minus A on the questions two `eval` runs share, with paired bootstrap CIs.")
    cmp.add_argument("run_a", help="eval --out folder of the reference run (A)")
    cmp.add_argument("run_b", help="eval --out folder of the other run (B)")
    cmp.add_argument("--mode", choices=MODES, default="rag", help="which answers to compare (default: rag)")
    cmp.add_argument("--out", help="also write the comparison as JSON to this file")
    add_settings_flags(cmp, fields=("bootstrap_resamples", "seed"))
    cmp.set_defaults(run=run_compare)
    chat = sub.add_parser("eval-chat", help="evaluate follow-up questions on generated 2-3 turn dialogues",
                          description="Generate dialogues with follow-ups and topic changes from the training "
                                      "catalogs (gold answers computed from them), answer them through the chat's "
                                      "memory and report hits@1 per turn kind, written to --out.")
    chat.add_argument("--dialogues", type=int, default=150, help="dialogues to generate (default: 150)")
    chat.add_argument("--dialogues-file", help="score these dialogues (dialogues.jsonl of an earlier --out) instead")
    chat.add_argument("--catalogs", nargs="+", help="catalogs to generate from (default: the training catalogs in "
                                                    "../shared/data; imdb_top_1000.csv is held out)")
    chat.add_argument("--answerer", choices=("pipeline", "plan"), default="pipeline",
                      help="pipeline (default): the full answer flow; plan: the planner and exact execution only "
                           "(no generator: measures the rewriting and the plans in seconds)")
    chat.add_argument("--out", required=True, help="folder for report.json, report.md, per_turn.csv, dialogues.jsonl")
    add_answer_settings(chat)
    chat.set_defaults(run=run_eval_chat)
    caps = sub.add_parser("eval-capabilities", help="score identify, describe, recommend or abstain answers",
                          description="Answer one capability set of `python -m training capability-data` with the "
                                      "pipeline and score it (evaluation.capabilities): a table on stdout, the full "
                                      "report with per-question rows as JSON with --out.")
    caps.add_argument("--questions", required=True, help="folder written by `training capability-data` (or a file)")
    caps.add_argument("--capability", required=True, choices=("identify", "describe", "recommend", "abstain"))
    caps.add_argument("--split", default="test", choices=("train", "dev", "test"), help="which split (default: test)")
    caps.add_argument("--n", type=int, help="a seeded sample of N questions, spread over groups and kinds")
    caps.add_argument("--neighbours", type=int, default=50,
                      help="plot neighbours per topic film counted as related (recommend; default: 50)")
    caps.add_argument("--baseline", help="an earlier --out report of the same set: adds B − A with paired CIs")
    caps.add_argument("--out", help="write the report (with per-question rows) as JSON to this file")
    add_answer_settings(caps, sections=("eval",))
    caps.set_defaults(run=run_eval_capabilities)
    base = sub.add_parser("bertscore-baseline", help="recompute the BERTScore rescaling baseline",
                          description="Recompute the BERTScore rescaling baseline from random sentence pairs of a "
                                      "catalog's passages and write it as CSV.")
    base.add_argument("--catalog", help="catalog file (default: the sample catalog)")
    base.add_argument("--out", help="CSV to write (default: data/bertscore_baseline_<model>_l<layers>.csv)")
    add_settings_flags(base, fields=("bertscore_model", "bertscore_pairs", "seed", "progress"))
    base.set_defaults(run=run_bertscore_baseline)


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--questions", required=True, help="questions file (WikiMovies, MetaQA, JSONL or CSV)")
    parser.add_argument("--format", choices=FORMATS, help="questions format (default: detected)")
    parser.add_argument("--limit", type=int, help="evaluate a seeded random sample of N questions")
    parser.add_argument("--stratify", action="store_true", help="sample evenly across question types (--per-type)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated modes: rag, plain (default: both)")
    parser.add_argument("--out", required=True, help="folder for report.json, report.md, per_question.csv, eval.png")
    add_answer_settings(parser, sections=("eval",))


def run_eval(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    modes = parse_modes(args.modes)
    qset = load_questions(args.questions, args.format)
    per_type = args.per_type or (None if args.limit else settings.eval.per_type)  # --limit alone: plain sample
    questions = select_questions(qset.questions, args.limit, args.stratify, per_type, settings.run.seed)
    skipped = f", skipped {sum(qset.skipped.values())} malformed lines" if qset.skipped else ""
    print(f"questions: {len(questions)} of {len(qset.questions)} from {qset.path} ({qset.format}{skipped})",
          file=sys.stderr)
    from rag.pipeline import load_pipeline  # deferred: heavy (torch)

    pipeline = load_pipeline(settings, args.index_dir)
    meta = {"questions_file": qset.path, "format": qset.format, "questions_read": len(qset.questions),
            "skipped_lines": qset.skipped, "stratify": args.stratify,
            "per_type": per_type if args.stratify else None, "limit": args.limit}
    report = run_evaluation(pipeline, questions, modes, args.out, settings, meta=meta)
    print(markdown_summary(report))
    print(f"\nwrote {Path(args.out) / 'report.md'} (and report.json, per_question.csv, answers.jsonl, eval.png)")
    return 0


def run_eval_chat(args: argparse.Namespace) -> int:
    from evaluation.chat_eval import PlanAnswerer, markdown, run_dialogues  # deferred: rag (faiss, torch)
    from evaluation.dialogues import DialogueMaker, read_dialogues, read_movies

    settings = settings_from_args(args)
    if args.dialogues_file:
        dialogues, source = read_dialogues(args.dialogues_file), args.dialogues_file
    else:
        dialogues = DialogueMaker(read_movies(args.catalogs, settings), settings.run.seed)(args.dialogues)
        source = "generated"
    print(f"dialogues: {len(dialogues)} ({source}), {sum(len(d.turns) for d in dialogues)} turns", file=sys.stderr)
    if args.answerer == "plan":
        answerer = PlanAnswerer.load(settings, args.index_dir or settings.index.index_dir)
    else:
        from rag.pipeline import load_pipeline  # deferred: heavy (torch)

        answerer = load_pipeline(settings, args.index_dir)
    meta = {"answerer": args.answerer, "generator": getattr(answerer, "generator_name", None),
            "index": args.index_dir or settings.index.index_dir, "seed": settings.run.seed,
            "dialogues_file": args.dialogues_file, "catalogs": args.catalogs or "training catalogs"}
    report = run_dialogues(answerer, dialogues, args.out, meta)
    print(markdown(report))
    print(f"\nwrote {Path(args.out) / 'report.md'} (and report.json, per_turn.csv, dialogues.jsonl)")
    return 0


def run_eval_capabilities(args: argparse.Namespace) -> int:
    from evaluation.capabilities import compare_rows, markdown, read_capability, run_capability, sample

    settings = settings_from_args(args)
    records = read_capability(args.questions, args.capability, args.split)
    chosen = sample(records, args.n, settings.run.seed)
    baseline = json.loads(Path(args.baseline).read_text()) if args.baseline else None  # a bad file fails first
    print(f"questions: {len(chosen)} of {len(records)} {args.capability} ({args.split})", file=sys.stderr)
    from rag.pipeline import load_pipeline  # deferred: heavy (torch)

    pipeline = load_pipeline(settings, args.index_dir)
    meta = {"questions": str(args.questions), "split": args.split, "sampled": args.n, "of": len(records),
            "index": args.index_dir or settings.index.index_dir}
    report = run_capability(pipeline, chosen, args.capability, settings, args.neighbours,
                            settings.eval.bertscore_model, meta)
    if baseline is not None:
        report["vs_baseline"] = {"baseline": args.baseline} | compare_rows(baseline["per_question"],
                                                                           report["per_question"], args.capability,
                                                                           settings)
    print(markdown(report))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
        print(f"\nwrote {args.out}")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    result = compare_runs(args.run_a, args.run_b, settings=settings_from_args(args), mode=args.mode)
    print(markdown(result))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False))
        print(f"\nwrote {args.out}")
    return 0


def run_bertscore_baseline(args: argparse.Namespace) -> int:
    from evaluation.bertscore import build_baseline  # deferred: heavy (bert_score, torch)

    path = build_baseline(settings_from_args(args), catalog=args.catalog, out=args.out)
    print(f"wrote {path}")
    print(Path(path).read_text().strip())
    return 0
