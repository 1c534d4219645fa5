"""`serve`: the Gradio web demo. app.py keeps the layout, its flags and `serve`; this command only routes to
them, so `movie-rag serve` and `python app.py` take the same flags."""
from __future__ import annotations

import argparse

import app


def add_commands(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="the web demo (Gradio; same flags as `python app.py`)",
                           description="Movie RAG web demo (Gradio): ask, compare, index uploads, plots.")
    app.add_arguments(serve)
    serve.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    return app.serve(app.settings_from(args))
