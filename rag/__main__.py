"""`python -m rag ask|chat|plot|eval`: thin shells over rag.pipeline (and evaluation.evaluate for eval)."""
from __future__ import annotations

import argparse
import json
import sys

from core.config import Settings

EXIT_WORDS = {"exit", "quit", ":q", "/exit", "/quit"}


def _common(p: argparse.ArgumentParser, index: bool = True) -> None:
    if index:
        p.add_argument("--index", help="index folder (default: settings.index.index_dir, built from the sample catalog)")
        p.add_argument("--k", type=int, help="passages in the prompt (default: 5)")
        p.add_argument("--abstain-threshold", type=float, help="abstain below this dense score when nothing links")
        p.add_argument("--hops", type=int, choices=(1, 2), help="2: also pin the cards a linked card names (two-hop)")
    p.add_argument("--generator", help="hub id or local folder of a causal LM (default: fine-tuned, else SmolLM2)")
    p.add_argument("--max-new-tokens", type=int, help="tokens to generate at most")
    p.add_argument("--temperature", type=float, help="0 = greedy (default); > 0 samples")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rag", description="Movie question answering over a local index.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{ask,chat,plot,eval,compare}")
    ask = sub.add_parser("ask", help="answer one question", description="Answer one question with its sources.")
    ask.add_argument("question")
    ask.add_argument("--mode", choices=("rag", "plain"), default="rag", help="rag (default) or plain (no context)")
    ask.add_argument("--json", action="store_true", help="print the answer object as JSON")
    _common(ask)
    chat = sub.add_parser("chat", help="interactive chat", description="Ask questions in a loop; 'exit' or Ctrl-D quits.")
    chat.add_argument("--mode", choices=("rag", "plain"), default="rag")
    _common(chat)
    plot = sub.add_parser("plot", help="continue a movie plot", description="Continue a movie plot from an opening.")
    plot.add_argument("prompt")
    plot.add_argument("--genre", help="condition the plot on a genre, e.g. Horror")
    plot.add_argument("--seed", type=int, help="sampling seed")
    _common(plot, index=False)
    ev = sub.add_parser("eval", help="evaluate RAG vs plain (see `python -m rag eval --help`)",
                        description="Evaluate RAG against plain answers.")
    cmp = sub.add_parser("compare", help="compare two eval runs question by question (e.g. two generators)",
                         description="B minus A on the questions two `eval` runs share, with paired bootstrap CIs.")
    cmp.add_argument("run_a", help="eval --out folder of the reference run (A)")
    cmp.add_argument("run_b", help="eval --out folder of the other run (B)")
    cmp.add_argument("--mode", choices=("rag", "plain"), default="rag", help="which answers to compare (default rag)")
    cmp.add_argument("--out", help="also write the comparison as JSON to this file")
    if argv[:1] == ["eval"]:  # imported only when used, so the other commands never pay for it
        from evaluation.evaluate import add_eval_arguments

        add_eval_arguments(ev)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    get = lambda name: getattr(args, name, None)  # noqa: E731
    return Settings().with_overrides(
        index_dir=get("index"), k=get("k"), generator=get("generator"), max_new_tokens=get("max_new_tokens"),
        temperature=get("temperature"), abstain_threshold=get("abstain_threshold"), hops=get("hops"),
        progress=False if get("no_progress") else None)


def load_pipeline(settings: Settings, index_dir: str | None, need_index: bool = True):
    """rag.pipeline.load_pipeline, imported late: it loads torch, which `--help` should not wait for."""
    from rag.pipeline import load_pipeline as load

    return load(settings, index_dir, need_index)


def print_answer(answer, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    print(answer.text)
    used = [s for s in answer.sources if s.used]
    if used:
        print("\nSources:")
        for i, s in enumerate(used, start=1):
            year = f" ({s.year})" if s.year and s.kind != "person" else ""
            print(f"  [{i}] {s.title}{year} · {s.kind} · {s.stage} · {s.score:.3f}")
    print(f"\n({answer.timings.get('total_s', 0):.2f} s, {answer.generator})", file=sys.stderr)


def chat_loop(pipeline, mode: str = "rag", stdout=None) -> int:
    out = stdout or sys.stdout
    print("Movie chat: ask about films. Type 'exit' or press Ctrl-D to quit.", file=out)
    while True:
        try:
            line = input("you> ")
        except EOFError:
            print(file=out)
            return 0
        except KeyboardInterrupt:
            print("\n(type 'exit' or press Ctrl-D to quit)", file=out)
            continue
        question = line.strip()
        if not question:
            continue
        if question.lower() in EXIT_WORDS:
            return 0
        print("bot> ", end="", flush=True, file=out)
        shown, answer = "", None
        try:
            for text, answer in pipeline.ask_stream(question, mode=mode):
                print(text[len(shown):], end="", flush=True, file=out)
                shown = text
        except KeyboardInterrupt:
            print(" (interrupted)", file=out)
            continue
        except ValueError as exc:
            print(f"error: {exc}", file=out)
            continue
        print(file=out)
        if answer is not None and answer.sources and not answer.abstained:
            names = [f"{s.title}" + (f" ({s.year})" if s.year else "") for s in answer.sources if s.used][:3]
            print(f"     sources: {'; '.join(names)}", file=out)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "eval":
        from evaluation.evaluate import main_eval

        return int(main_eval(args, settings) or 0)
    if args.command == "compare":
        from evaluation.compare import main_compare

        return main_compare(args.run_a, args.run_b, args.mode, args.out, settings)
    if args.command == "plot":
        pipeline = load_pipeline(settings, None, need_index=False)
        print(pipeline.plot(args.prompt, genre=args.genre, seed=args.seed, max_new_tokens=args.max_new_tokens,
                            temperature=args.temperature))
        return 0
    pipeline = load_pipeline(settings, args.index, need_index=args.mode == "rag")
    if args.command == "ask":
        print_answer(pipeline.ask(args.question, mode=args.mode, k=args.k), args.json)
        return 0
    return chat_loop(pipeline, args.mode)


def main(argv: list[str] | None = None) -> int:
    from core.errors import CatalogError, IndexLoadError
    from core.errors import ModelUnavailable

    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser(argv).parse_args(argv)
    except ImportError as exc:
        print(f"error: the evaluation module is not available ({exc})", file=sys.stderr)
        return 1
    try:
        return run(args, settings_from_args(args))
    except (CatalogError, IndexLoadError, ModelUnavailable, ValueError, OSError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
