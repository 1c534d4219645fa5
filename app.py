"""Gradio demo: ask with sources, compare RAG vs plain, rebuild the index from uploads, continue plots.

    python app.py [--index DIR] [--generator NAME_OR_DIR] [--host 127.0.0.1] [--port 7860] [--no-progress]
    movie-rag serve [the same flags]

With no flags it serves the shipped catalog (data/: the sample, WikiMovies KB + plots, TMDB) on
http://127.0.0.1:7860, unpacked on first run from the prebuilt int8 pack into the cache (`--startup background`:
the sample at once, the full catalog built in the background and swapped in; rag.background). Models load once
at start-up; callbacks live in rag.ui so they are tested without a browser.
"""
from __future__ import annotations

import argparse
import html
import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no telemetry calls

from core.config import Settings, Startup
from core.flags import add_settings_flags, run_command, settings_from_args
from core.models import resolve_generator
from rag.ui import PREVIEW_COLUMNS, Demo, map_user_text, shown

EXAMPLES = {  # one question per capability, answered from the shipped catalog (data/)
    "Fact": "Who directed Inception?",
    "Plot": "What's the film where a thief plants an idea in someone's dreams?",
    "Count": "How many films did Stanley Kubrick direct?",
    "Comparison": "Which is longer, Titanic or Avatar?",
    "Two hops": "What genres are the films directed by Christopher Nolan?",
    "Describe": "Tell me about Parasite",
    "Recommend": "Films like Alien",
}
FOLLOW_UP = {"Follow-up 1/2": "Who directed Blade Runner?", "Follow-up 2/2": "and who wrote it?"}  # asked in turn

CSS = """
.source { margin: 0 0 .8em 0; }
.source mark { background: #ffe066; padding: 0 .15em; border-radius: .2em; }
"""


def build_ui(demo: Demo, job=None):
    """The Blocks layout, one helper per tab; every callback is a method of `demo`. `job`: the background build
    of the catalog index (rag.background.BuildJob), whose progress shows at the top of the page."""
    import gradio as gr  # deferred: heavy, and `--help` must not wait for it

    genres = demo.genre_choices()
    with gr.Blocks(title="Movie RAG", analytics_enabled=False) as ui:
        gr.Markdown("## Movie RAG — questions about movies, answered from a searchable catalog")
        build_status = gr.Markdown(job.status_markdown() if job else "", elem_id="build-status")
        with gr.Tabs():
            with gr.Tab("Ask"):
                genre_filter = _ask_tab(demo, genres)
            with gr.Tab("Compare"):
                _compare_tab(demo)
            with gr.Tab("Index"):
                files, rebuild_btn, extend_btn, status, manifest = _index_tab(demo)
            with gr.Tab("Plot"):
                plot_genre = _plot_tab(demo, genres)
        # wired after every tab exists: an index update refreshes the genre choices of the Ask and Plot tabs
        _index_events(demo, files, rebuild_btn, extend_btn, [status, manifest, genre_filter, plot_genre])
        _live_index_events(demo, job, [build_status, manifest, genre_filter, plot_genre])
    return ui


def _escaped_chatbot(**kwargs):
    """A gr.Chatbot that shows the user's questions as typed: their HTML is text, never markup (rag.ui escapes the
    answers; the sources message is the app's own escaped HTML). Escaped on the way out, unescaped on the way back,
    so the chat function sees each question as typed."""
    import gradio as gr  # deferred: heavy

    class EscapedChatbot(gr.Chatbot):
        is_template = True  # rendered by the frontend's own Chatbot

        def _postprocess(self, message):
            return super()._postprocess(map_user_text(message, shown))

        def preprocess(self, payload):
            return [map_user_text(m, html.unescape) for m in super().preprocess(payload)]

    return EscapedChatbot(**kwargs)


def _ask_tab(demo: Demo, genres: list[str]):
    """A streaming chat with the generation settings and filters folded away; returns the genre filter."""
    import gradio as gr  # deferred: heavy

    s = demo.settings
    k = gr.Slider(1, 10, value=s.retrieval.k, step=1, label="Passages in the prompt (k)", render=False)
    temperature = gr.Slider(0.0, 1.5, value=s.decoding.temperature, step=0.05,
                            label="Temperature (0 = greedy)", render=False)
    top_p = gr.Slider(0.1, 1.0, value=s.decoding.top_p, step=0.05, label="top_p", render=False)
    max_new = gr.Slider(4, 128, value=s.decoding.max_new_tokens, step=1, label="Max new tokens", render=False)
    year_from = gr.Number(label="From year (blank = any)", precision=0, render=False)
    year_to = gr.Number(label="To year (blank = any)", precision=0, render=False)
    genre_filter = gr.Dropdown(genres, multiselect=True, label="Genres", render=False)
    question_box = gr.Textbox(placeholder="Ask about a movie, e.g. Who directed Jaws? Follow-ups work; /reset starts "
                                          "over.", show_label=False, elem_id="question", submit_btn=True,
                              stop_btn=True, render=False)

    def chat(message, history, *options):  # the history is the conversation's memory (rag.conversation)
        yield from demo.ask(message, *options, history=history)

    gr.ChatInterface(
        chat,
        chatbot=_escaped_chatbot(label="Answers", height=460, elem_id="answers"),
        textbox=question_box,
        additional_inputs=[k, temperature, top_p, max_new, year_from, year_to, genre_filter],
        additional_inputs_accordion=gr.Accordion("Settings and filters", open=False, render=False),
        examples=[[q] for q in EXAMPLES.values()],
        example_labels=[f"{what}: {q}" for what, q in EXAMPLES.items()],
        api_name="ask",
        fill_height=False,
    )
    shown = {**EXAMPLES, **FOLLOW_UP}
    gr.Examples(list(shown.values()), inputs=question_box, example_labels=[f"{what}: {q}" for what, q in shown.items()],
                label="Example questions (click, then press Enter; ask the follow-up pair in turn)")
    return genre_filter


def _compare_tab(demo: Demo) -> None:
    """RAG and plain answers to one question, side by side."""
    import gradio as gr  # deferred: heavy

    gr.Markdown("The same question answered with retrieved passages (RAG) and by the model alone "
                "(plain), greedy decoding, with each one's latency.")
    question = gr.Textbox(label="Question", placeholder="Who directed Jaws?", elem_id="compare-question")
    compare_btn = gr.Button("Compare", variant="primary", elem_id="compare-btn")
    gr.Examples(list(EXAMPLES.values()), inputs=question)
    with gr.Row(equal_height=True):
        with gr.Column():
            gr.Markdown("### RAG")
            rag_out = gr.Markdown(elem_id="rag-answer")
        with gr.Column():
            gr.Markdown("### Plain (no retrieval)")
            plain_out = gr.Markdown(elem_id="plain-answer")
    gr.on([compare_btn.click, question.submit], demo.compare, question, [rag_out, plain_out], api_name="compare")


def _index_tab(demo: Demo) -> tuple:
    """Uploads with a preview, the rebuild/extend buttons and the live manifest.
    Returns (files, rebuild button, extend button, status, manifest) for `_index_events`."""
    import gradio as gr  # deferred: heavy

    gr.Markdown(f"Upload movie catalogs (CSV or JSON, at most {demo.settings.demo.max_upload_mb} MB each). "
                "**Rebuild** makes a new index from the uploads alone; **Add** extends a copy of the "
                "live index. The live index keeps serving until the new one has loaded.")
    files = gr.File(file_count="multiple", file_types=[".csv", ".json", ".jsonl", ".txt", ".tsv"],
                    label="Catalog files")
    detected = gr.Markdown()
    preview = gr.Dataframe(headers=PREVIEW_COLUMNS, interactive=False, wrap=True, label="First rows")
    with gr.Row():
        rebuild_btn = gr.Button("Rebuild index from uploads", variant="primary", elem_id="rebuild-btn")
        extend_btn = gr.Button("Add uploads to the live index", elem_id="extend-btn")
    status = gr.Markdown("No index job yet.", elem_id="index-status", min_height=60)
    gr.Markdown("### Live index")
    manifest = gr.Markdown(demo.manifest_markdown(), elem_id="manifest")
    files.change(demo.preview, files, [detected, preview], api_name="preview")
    return files, rebuild_btn, extend_btn, status, manifest


def _live_index_events(demo: Demo, job, outputs: list) -> None:
    """While `job` runs, refresh its progress and the live manifest every 2 s (and the genres once it swaps in);
    the /live_index API says what is live (the start-up benchmark polls it)."""
    import gradio as gr  # deferred: heavy

    def live_index() -> dict:
        m = getattr(demo.pipeline.index, "manifest", {}) or {}
        return {"films": m.get("movies"), "passages": m.get("passages"), "building": bool(job and job.running),
                "folder": demo.live_dir}

    gr.api(live_index, api_name="live_index", queue=False)
    if job is None:
        return
    timer = gr.Timer(2.0, active=job.running)

    def refresh():
        if job.running:
            return job.status_markdown(), demo.manifest_markdown(), gr.skip(), gr.skip(), gr.Timer(active=True)
        choices = demo.genre_choices()  # the catalog swapped in: its genres, once
        return (job.status_markdown(), demo.manifest_markdown(), gr.Dropdown(choices=choices),
                gr.Dropdown(choices=choices), gr.Timer(active=False))

    timer.tick(refresh, None, [*outputs, timer], queue=False, api_visibility="private")


def _plot_tab(demo: Demo, genres: list[str]):
    """Plot continuation from an opening; returns the genre dropdown."""
    import gradio as gr  # deferred: heavy

    s = demo.settings
    gr.Markdown("Continue a movie plot from its opening, optionally in a genre.")
    plot_prompt = gr.Textbox(label="Plot opening", lines=3,
                             placeholder="A retired detective receives a letter from a man who died ten years ago.")
    with gr.Row():
        plot_genre = gr.Dropdown(genres, value=None, label="Genre (optional)", allow_custom_value=True)
        plot_temp = gr.Slider(0.0, 1.5, value=s.plot.plot_temperature, step=0.05, label="Temperature")
        plot_len = gr.Slider(16, 400, value=s.plot.plot_max_new_tokens, step=8, label="Max new tokens")
    plot_btn = gr.Button("Continue the plot", variant="primary", elem_id="plot-btn")
    plot_out = gr.Textbox(label="Continuation", lines=10, elem_id="plot-out")
    plot_btn.click(demo.plot, [plot_prompt, plot_genre, plot_temp, plot_len], plot_out, api_name="plot")
    return plot_genre


def _index_events(demo: Demo, files, rebuild_btn, extend_btn, outputs: list) -> None:
    """Rebuild/extend callbacks with a progress bar; `outputs`: status, manifest, then the genre dropdowns."""
    import gradio as gr  # deferred: heavy

    tracker = gr.Progress()  # a marker: gradio passes a fresh tracker to a parameter whose default is one

    def update_index(paths, extend, progress):
        def on_progress(done: int, total: int) -> None:
            progress((done, max(total, 1)), desc="Embedding passages", unit="passages")

        progress(0.0, desc="Reading the catalogs and embedding passages")
        message = demo.update_index(paths, extend, on_progress=on_progress)
        choices = demo.genre_choices()
        return message, demo.manifest_markdown(), gr.Dropdown(choices=choices), gr.Dropdown(choices=choices)

    def rebuild(paths, progress=tracker):
        return update_index(paths, False, progress)

    def extend(paths, progress=tracker):
        return update_index(paths, True, progress)

    rebuild_btn.click(rebuild, files, outputs, concurrency_limit=1, api_name="rebuild", show_progress_on=outputs[0])
    extend_btn.click(extend, files, outputs, concurrency_limit=1, api_name="extend", show_progress_on=outputs[0])


SERVE_SECTIONS = ("demo",)
SERVE_FIELDS = ("index_dir", "generator", "generator_runtime", "embedder_backend", "progress")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo's flags, generated from the settings (also used by `movie-rag serve`)."""
    add_settings_flags(parser, sections=SERVE_SECTIONS, fields=SERVE_FIELDS, choices={"startup": tuple(Startup)})


def settings_from(args: argparse.Namespace) -> Settings:
    settings = settings_from_args(args)
    if args.index_dir:  # absolute, whatever the working directory later
        settings = settings.with_overrides(index_dir=os.path.abspath(args.index_dir))
    return settings


def serving_settings(settings: Settings) -> Settings:
    """The app's settings: its micro-batch window (demo.micro_batch_ms) becomes the generator's batch window."""
    return settings.with_overrides(batch_window_ms=settings.demo.micro_batch_ms)


def queue_concurrency(pipeline, settings: Settings) -> int:
    """Events at once: enough for concurrent questions to meet in the micro-batcher, or the cores' worth when every
    answer decodes alone (the torch path; a window of 0)."""
    batching = getattr(pipeline.generator, "batcher", None) is not None
    return settings.demo.batched_concurrency if batching else settings.demo.queue_concurrency


def serve(settings: Settings) -> int:
    """Load the models and the index once, then serve the demo until interrupted."""
    from rag.background import BuildJob, background_sources, release_memory, sample_settings  # deferred: faiss
    from rag.pipeline import Pipeline  # deferred: heavy (torch)

    settings = serving_settings(settings)
    resolve_generator(settings)  # fail fast on a bad --generator, before any index work
    catalogs = background_sources(settings)  # None: serve the catalog index (unpacked from the pack if needed)
    serving = sample_settings(settings) if catalogs else settings
    pipeline = Pipeline.from_settings(serving)  # models and index load once, here
    release_memory()  # a first start's generator conversion and index unpack leave ~320 MB of freed heap behind
    demo, job = Demo(pipeline, serving), None
    if catalogs:  # the sample serves now; the catalog builds with the same embedder, then swaps in
        job = BuildJob(lambda progress: demo.update_index(catalogs, False, progress, target=settings.index.index_dir))
        job.start()
    ui = build_ui(demo, job)
    ui.queue(default_concurrency_limit=queue_concurrency(pipeline, settings), max_size=settings.demo.queue_max_size)
    ui.launch(server_name=settings.demo.host, server_port=settings.demo.port,
              max_file_size=f"{settings.demo.max_upload_mb}mb", css=CSS, ssr_mode=False, show_error=True)
    return 0


def main(argv: list[str] | None = None, prog: str = "python app.py") -> int:
    parser = argparse.ArgumentParser(prog=prog, description="Movie RAG web demo (Gradio).")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_command(lambda: serve(settings_from(args)))


if __name__ == "__main__":
    sys.exit(main())
