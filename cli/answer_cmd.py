"""`ask`, `chat` and `plot`: answer questions and continue plots over a loaded pipeline (rag.pipeline)."""
from __future__ import annotations

import argparse
import json
import sys

from core.config import Settings
from core.flags import add_settings_flags, settings_from_args

EXIT_WORDS = {"exit", "quit", ":q", "/exit", "/quit"}
ANSWER_SECTIONS = ("retrieval", "prompt", "decoding", "answer")  # every knob of the answer flow is a flag
ANSWER_FIELDS = ("index_dir", "generator", "planner", "seed", "progress")
MODE_HELP = "rag (default): answer from retrieved passages; plain: the model alone (the baseline)"


def add_answer_settings(parser: argparse.ArgumentParser, sections: tuple[str, ...] = ()) -> None:
    """The settings flags of everything that answers questions (ask, chat, eval)."""
    add_settings_flags(parser, sections=ANSWER_SECTIONS + sections, fields=ANSWER_FIELDS)


def add_commands(sub: argparse._SubParsersAction) -> None:
    ask = sub.add_parser("ask", help="answer one question", description="Answer one question with its sources.")
    ask.add_argument("question")
    ask.add_argument("--mode", choices=("rag", "plain"), default="rag", help=MODE_HELP)
    ask.add_argument("--json", action="store_true", help="print the answer object as JSON")
    ask.add_argument("--explain", action="store_true", help="also print the question's plan and how it ran")
    add_answer_settings(ask)
    ask.set_defaults(run=run_ask)
    chat = sub.add_parser("chat", help="interactive chat with follow-ups",
                          description="Ask questions in a loop. Follow-ups ('and who wrote it?', 'what else did he "
                                      "make?', 'any older ones?') are resolved against the earlier turns; '/reset' "
                                      "forgets them; 'exit' or Ctrl-D quits.")
    chat.add_argument("--mode", choices=("rag", "plain"), default="rag", help=MODE_HELP)
    chat.add_argument("--json", action="store_true", help="print each answer object as one JSON line (with "
                                                          "resolved_question when a follow-up was rewritten)")
    add_answer_settings(chat)
    chat.set_defaults(run=run_chat)
    plot = sub.add_parser("plot", help="continue a movie plot", description="Continue a movie plot from an opening.")
    plot.add_argument("prompt")
    plot.add_argument("--genre", help="condition the plot on a genre, e.g. Horror")
    add_settings_flags(plot, sections=("plot",), fields=("generator", "plot_generator", "seed", "progress"),
                       aliases={"plot_max_new_tokens": "--max-new-tokens", "plot_temperature": "--temperature",
                                "plot_top_p": "--top-p", "plot_repetition_penalty": "--repetition-penalty",
                                "plot_no_repeat_ngram_size": "--no-repeat-ngram-size"})
    plot.set_defaults(run=run_plot)


def load_pipeline(settings: Settings, index_dir: str | None, need_index: bool = True):
    """rag.pipeline.load_pipeline; a seam the CLI tests replace with a tiny in-memory pipeline."""
    from rag.pipeline import load_pipeline as load  # deferred: heavy (torch), `--help` should not wait for it

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


def explain(answer) -> str:
    """The plan of an answer and how it ran, as printed by `ask --explain`."""
    plan = answer.plan
    if plan is None:
        return "plan: none (no planner loaded); answered by hybrid retrieval"
    route = "exact, on the catalog store" if plan["executed"] else "hybrid retrieval (fallback)"
    if plan.get("missing"):
        route = "what the catalog lacks"
    lines = [f"plan: {plan['text']}", f"confidence: {plan['confidence']:.3f}; answered by {route}; "
                                      f"answer written by the {answer.written_by}"]
    lines += [f"  {step}" for step in plan.get("steps") or []]
    if plan.get("missing"):
        lines.append(f"  missing: {plan['missing']}")
    return "\n".join(lines)


def chat_loop(pipeline, mode: str = "rag", stdout=None, as_json: bool = False) -> int:
    """Read questions until 'exit' or EOF; follow-ups are resolved against the earlier turns (rag.conversation),
    '/reset' forgets them. Ctrl-C drops the current answer, a bad question prints an error."""
    from rag.conversation import Conversation, is_reset  # deferred with the rest of rag (heavy imports)

    out = stdout or sys.stdout
    conversation = Conversation(pipeline)
    print("Movie chat: ask about films; follow-ups remember the earlier turns ('/reset' forgets them). "
          "Type 'exit' or press Ctrl-D to quit.", file=out)
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
        if is_reset(question):
            conversation.reset()
            print("(memory cleared: the next question starts a new conversation)", file=out)
            continue
        resolution = conversation.resolve(question)
        if resolution.rewritten and not as_json:
            print(f"     (understood as: {resolution.text})", file=out)
        if not as_json:
            print("bot> ", end="", flush=True, file=out)
        shown, answer = "", None
        try:
            for text, final in conversation.ask_stream(resolution, mode=mode):  # final: the Answer, on the last item
                if not as_json:  # a streamed text the final answer replaces (a retried abstention) starts afresh
                    if text.startswith(shown):
                        print(text[len(shown):], end="", flush=True, file=out)
                    elif not shown.startswith(text):  # (a final answer may only trim the streamed one's tail)
                        print(f"\n     {text}", end="", flush=True, file=out)
                shown, answer = text, final
        except KeyboardInterrupt:
            print(" (interrupted)", file=out)
            continue
        except ValueError as exc:  # e.g. a question over the length limit: say so and keep chatting
            print(f"error: {exc}", file=out)
            continue
        if as_json:
            if answer is not None:
                print(json.dumps(answer.to_dict(), ensure_ascii=False), file=out)
            continue
        print(file=out)
        if answer is not None and answer.sources and not answer.abstained:
            names = list(dict.fromkeys(f"{s.title}" + (f" ({s.year})" if s.year else "")
                                       for s in answer.sources if s.used))[:3]
            print(f"     sources: {'; '.join(names)}", file=out)


def run_ask(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    pipeline = load_pipeline(settings, args.index_dir, need_index=args.mode == "rag")
    answer = pipeline.ask(args.question, mode=args.mode, k=args.k)
    print_answer(answer, args.json)
    if args.explain and not args.json:  # the JSON answer carries the plan already
        print("\n" + explain(answer))
    return 0


def run_chat(args: argparse.Namespace) -> int:
    pipeline = load_pipeline(settings_from_args(args), args.index_dir, need_index=args.mode == "rag")
    return chat_loop(pipeline, args.mode, as_json=args.json)


def run_plot(args: argparse.Namespace) -> int:
    pipeline = load_pipeline(settings_from_args(args), None, need_index=False)
    # explicit too: the pipeline may have been loaded with other settings (a fine-tuned model's prompt format)
    print(pipeline.plot(args.prompt, genre=args.genre, seed=args.seed, max_new_tokens=args.plot_max_new_tokens,
                        temperature=args.plot_temperature, repetition_penalty=args.plot_repetition_penalty))
    return 0
