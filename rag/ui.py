"""The logic behind the Gradio demo (app.py), kept free of gradio so it is unit-tested without a browser:
question checks, source rendering with the answer highlighted, streaming callbacks over a Pipeline, and
index uploads that build into a separate folder and swap in only when the new index has loaded."""
from __future__ import annotations

import html
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from core.config import Settings
from core.errors import CatalogError, IndexLoadError
from core.fileio import replace_dir, staging_dir
from index.catalog import Catalog
from index.detect import detect_format
from index.sources import read_catalog
from rag.conversation import Conversation, TurnCache, exchanges, is_reset

log = logging.getLogger(__name__)
PREVIEW_ROWS = 8  # parsed movies shown per upload preview
PREVIEW_COLUMNS = ["file", "format", "title", "year", "directors", "genres", "plot"]
RESET_REPLY = "Memory cleared: the next question starts a new conversation."


# ---------------------------------------------------------------- small pure helpers

def check_text(text: str | None, max_chars: int, what: str = "question") -> str | None:
    """A friendly message when the text is empty or too long, else None."""
    text = (text or "").strip()
    if not text:
        return f"Please type a {what} first, for example *Who directed Jaws?*"
    if len(text) > max_chars:
        return f"That {what} is {len(text)} characters long; please keep it under {max_chars}."
    return None


def shown(text: str) -> str:
    """Text for a markdown or chat message: `&`, `<` and `>` escaped, so HTML in a title, a question or an error
    line is shown as typed and never rendered as markup (Gradio's sanitizer would still render a harmless tag)."""
    return html.escape(text, quote=False)


def map_user_text(message, fn: Callable[[str], str]):
    """A chat message (Gradio's message dict) with `fn` applied to its text when the user wrote it; other messages,
    and files or components in a user's message, unchanged. app.py's chatbot escapes the user's text with `shown`
    on the way to the page and unescapes it on the way back, so a typed question is shown as typed."""
    if not isinstance(message, dict) or message.get("role") != "user":
        return message

    def one(content):
        if isinstance(content, str):
            return fn(content)
        if isinstance(content, dict) and content.get("type") == "text":
            return {**content, "text": fn(content.get("text") or "")}
        return content

    content = message.get("content")
    return {**message, "content": [one(c) for c in content] if isinstance(content, list) else one(content)}


def file_name(path: str, max_chars: int = 80) -> str:
    """An upload's file name for the page: the base name only, control characters dropped, shortened (put it in
    markdown through `shown`)."""
    name = "".join(ch for ch in os.path.basename(str(path)) if ch.isprintable()) or "(unnamed file)"
    return name if len(name) <= max_chars else name[: max_chars - 1] + "…"


def check_uploads(paths: list[str], max_files: int, max_mb: float) -> str | None:
    """A one-line `error: …` when there are too many uploads, or one is not a readable file or is over the size
    limit (Gradio checks sizes on upload too; this also guards direct callers), else None."""
    if len(paths) > max_files:
        return f"error: {len(paths)} files uploaded; at most {max_files} per update"
    for path in paths:
        try:
            size = os.stat(path).st_size if os.path.isfile(path) else None
        except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
            return f"error: {shown(file_name(path))}: cannot read it ({type(exc).__name__})"
        if size is None:
            return f"error: {shown(file_name(path))}: not a file"
        if size > max_mb * 2**20:
            return f"error: {shown(file_name(path))} is {size / 2**20:.1f} MB; the limit is {max_mb} MB per file"
    return None


def year_range(year_from: float | None, year_to: float | None) -> tuple[int, int] | None:
    """(lo, hi) from two optional number fields (empty or 0 = open); one open end becomes a wide bound;
    None = no filter."""
    if not year_from and not year_to:
        return None
    lo = int(year_from) if year_from else 0
    hi = int(year_to) if year_to else 9999
    return (min(lo, hi), max(lo, hi))


def highlight(text: str, span: tuple[int, int] | None) -> str:
    """HTML-escaped passage with text[span] wrapped in <mark>."""
    if not span or not (0 <= span[0] < span[1] <= len(text)):
        return html.escape(text)
    lo, hi = span
    return f"{html.escape(text[:lo])}<mark>{html.escape(text[lo:hi])}</mark>{html.escape(text[hi:])}"


_ROUTES = {"identify": "searched the plot passages", "describe": "read the film's card and plot",
           "recommend": "ranked films that share people, topics or plot"}  # how an open operation ran


def render_plan(plan: dict | None) -> str:
    """The question's plan and how it ran, as an HTML block above the sources (escaped like every text)."""
    if not plan:
        return ""
    route = _ROUTES.get(plan.get("op"), "ran exactly on the catalog") if plan.get("executed") \
        else "answered by retrieval (planner unsure)"
    steps = "".join(f"<li>{html.escape(step)}</li>" for step in plan.get("steps") or [])
    return (f'<div class="source"><div><b>Plan</b> <code>{html.escape(plan["text"])}</code> &middot; '
            f'confidence {plan["confidence"]:.2f} &middot; {route}</div>' + (f"<ul>{steps}</ul>" if steps else "")
            + "</div>")


def render_resolved(resolved: str | None) -> str:
    """The follow-up as the chat understood it (rewritten from earlier turns), as an HTML line; "" when not."""
    if not resolved:
        return ""
    return f'<div class="source resolved">Understood as: <b>{html.escape(resolved)}</b></div>'


def render_sources(sources: list, plan: dict | None = None, resolved: str | None = None) -> str:
    """The resolved follow-up and the plan (if any), then the sources as HTML blocks (raw HTML, so passage text is
    never read as markdown)."""
    understood = render_resolved(resolved)
    if not sources:
        return understood + (render_plan(plan) or "No passages were used (plain mode or nothing retrieved).")
    blocks = ([understood] if understood else []) + ([render_plan(plan)] if plan else [])
    for i, s in enumerate(sources, 1):
        year = f" ({s.year})" if s.year else ""
        head = (f"<b>{i}. {html.escape(s.title)}{year}</b> &middot; {html.escape(s.kind)} &middot; "
                f"found by <i>{html.escape(s.stage)}</i> &middot; score {s.score:.3f}"
                + ("" if getattr(s, "used", True) else " &middot; not in the prompt (over budget)"))
        blocks.append(f'<div class="source"><div>{head}</div><div>{highlight(s.text, s.span)}</div></div>')
    return "\n".join(blocks)


def format_timings(timings: dict) -> str:
    total = timings.get("total_s", 0.0)
    parts = [f"{k[:-2]} {timings[k]:.2f} s" for k in ("retrieve_s", "generate_s") if timings.get(k)]
    return f"{total:.2f} s" + (f" ({', '.join(parts)})" if parts else "")


def gen_overrides(temperature: float | None, top_p: float | None, max_new_tokens: float | None) -> dict:
    """Generation overrides from the sliders; unset sliders keep the Settings defaults."""
    out = {"temperature": temperature, "top_p": top_p,
           "max_new_tokens": int(max_new_tokens) if max_new_tokens else None}
    return {k: v for k, v in out.items() if v is not None}


def films_line(manifest: dict) -> str:
    """"22,477 (26,400 catalog records; the same film from several sources is one record)"."""
    films = manifest.get("movies")
    if not isinstance(films, int):
        return "?"
    records = sum(s.get("movies") or 0 for s in manifest.get("sources") or [] if isinstance(s, dict))
    merged = f" ({records:,} catalog records; the same film from several sources is one record)" \
        if records > films else ""
    return f"{films:,}{merged}"


def sources_line(manifest: dict) -> str:
    """Each source file with its films ("tmdb_9000plus.csv.gz (9,819 films)"; a plot file: the films it adds to)."""
    parts = []
    for s in manifest.get("sources") or []:
        if not isinstance(s, dict):
            parts.append(os.path.basename(str(s)))
            continue
        name = os.path.basename(str(s.get("path") or s.get("name") or "?"))
        attached = (s.get("notes") or {}).get("plots attached to KB movies")
        count = f"plots of {attached:,} films" if attached and not s.get("movies") else f"{s.get('movies', 0):,} films"
        parts.append(f"{name} ({count})")
    return ", ".join(parts) or "?"


def built_line(manifest: dict) -> str:
    """When the live index was made and how long it took (unpacked from the shipped pack, or built)."""
    when = str(manifest.get("built_at", "?")).replace("T", " ").replace("+00:00", " UTC")
    took = f" in {manifest['build_seconds']:,.0f} s" if manifest.get("build_seconds") is not None else ""
    unpacked = manifest.get("unpacked_from")
    if unpacked:
        return (f"{when}{took}, unpacked from the shipped pack (int8 vectors, {unpacked.get('embedded', 0)} passages "
                f"embedded anew); packed index built {unpacked.get('packed_index_built_at', '?')}")
    return f"{when}{took}"


def one_line(exc: BaseException, paths: list[str] = ()) -> str:
    """The first line of an error, with upload paths (long temp folders) shortened to file names."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    for path in sorted(paths, key=len, reverse=True):
        text = text.replace(str(path), os.path.basename(str(path)))
    return text


# ---------------------------------------------------------------- the demo's state and callbacks

class Demo:
    """Holds the one Pipeline the app serves; every Gradio callback is a method here."""

    def __init__(self, pipeline, settings: Settings, uploads_dir: str | None = None) -> None:
        self.pipeline = pipeline
        self.settings = settings
        self.live_dir = settings.index.index_dir  # the folder the served index was loaded from
        # uploads never touch the index they started from (e.g. the sample index): they build here
        self.uploads_dir = uploads_dir or settings.index.index_dir.rstrip("/\\") + "-uploads"
        self._index_lock = threading.Lock()
        self.turns = TurnCache()  # the answered turns, so a chat history replays exactly (rag.conversation)

    # ---- Ask tab
    def ask(self, question: str, k: float | None = None, temperature: float | None = None,
            top_p: float | None = None, max_new_tokens: float | None = None, year_from: float | None = None,
            year_to: float | None = None, genres: list[str] | None = None,
            history: list | None = None) -> Iterator[str | list[dict]]:
        """Streams the answer text; the last item is [answer message, collapsed sources message]. `history` is the
        chat so far (Gradio's message dicts): follow-ups resolve against it, from its last '/reset' on."""
        if is_reset(question):
            yield RESET_REPLY
            return
        problem = check_text(question, self.settings.demo.max_question_chars)
        if problem:
            yield problem
            return
        answer = None
        try:
            conversation = Conversation(self.pipeline, cache=self.turns)
            # stateless: the history is the memory (clear button = reset); answers come back as `shown` made them
            conversation.replay([(q, html.unescape(a)) for q, a in exchanges(history)])
            for text, answer in conversation.ask_stream(
                    question.strip(), mode="rag", k=int(k) if k else None, years=year_range(year_from, year_to),
                    genres=list(genres) if genres else None, **gen_overrides(temperature, top_p, max_new_tokens)):
                if answer is None:
                    yield shown(text) or "…"
        except Exception as exc:
            log.exception("ask failed")
            yield f"Sorry, that failed: {shown(one_line(exc))}"
            return
        if answer is None:
            return
        resolved = getattr(answer, "resolved_question", None)
        title = (f"Sources ({len(answer.sources)})" + (" · abstained" if answer.abstained else "")
                 + (f" · understood as: {shown(resolved)}" if resolved else ""))
        yield [
            {"role": "assistant", "content": shown(answer.text) or "(empty answer)"},
            {"role": "assistant", "content": render_sources(answer.sources, answer.plan, resolved),
             "metadata": {"title": title, "status": "done", "duration": round(answer.timings.get("total_s", 0.0), 2)}},
        ]

    # ---- Compare tab
    def compare(self, question: str, k: float | None = None, temperature: float | None = None,
                top_p: float | None = None, max_new_tokens: float | None = None) -> Iterator[tuple[str, str]]:
        """Yields (rag markdown, plain markdown): RAG streams first, then plain; each ends with its latency."""
        problem = check_text(question, self.settings.demo.max_question_chars)
        if problem:
            yield problem, problem
            return
        overrides = gen_overrides(temperature, top_p, max_new_tokens)
        done = {"rag": "", "plain": ""}
        for mode in ("rag", "plain"):
            try:
                for text, answer in self.pipeline.ask_stream(question.strip(), mode=mode,
                                                             k=int(k) if k else None, **overrides):
                    if answer is None:
                        done[mode] = shown(text)
                    else:
                        titles = shown(", ".join(dict.fromkeys(s.title for s in answer.sources)))
                        used = f"\n\nSources: {titles}" if mode == "rag" and titles else ""
                        done[mode] = f"{shown(answer.text)}\n\n*Latency: {format_timings(answer.timings)}*{used}"
                    yield done["rag"], done["plain"]
            except Exception as exc:
                log.exception("compare (%s) failed", mode)
                done[mode] = f"Sorry, that failed: {shown(one_line(exc))}"
                yield done["rag"], done["plain"]

    # ---- Plot tab
    def plot(self, prompt: str, genre: str | None = None, temperature: float | None = None,
             max_new_tokens: float | None = None) -> Iterator[str]:
        problem = check_text(prompt, self.settings.demo.max_question_chars * 4, what="plot prompt")
        if problem:
            yield problem
            return
        overrides = gen_overrides(temperature, None, max_new_tokens)
        try:
            yield from self.pipeline.plot_stream(prompt.strip(), genre=genre or None, **overrides)
        except Exception as exc:
            log.exception("plot failed")
            yield f"Sorry, that failed: {one_line(exc)}"

    # ---- Index tab
    def manifest_markdown(self) -> str:
        """What is live: films, passages, sources with their films, when and how long it took to build, the models."""
        m = getattr(self.pipeline.index, "manifest", {}) or {}
        rows = [("films", films_line(m)), ("passages", f"{m.get('passages', len(self.pipeline.index)):,}"),
                ("sources", sources_line(m)), ("built", built_line(m)),
                ("embedder", f"{m.get('embedder', '?')} (dim {m.get('dim', '?')})"),
                ("generator", getattr(self.pipeline, "generator_name", "?")), ("live index folder", self.live_dir)]
        return "\n".join(f"- **{k}**: {html.escape(str(v))}" for k, v in rows)

    def genre_choices(self) -> list[str]:
        return sorted({g for p in self.pipeline.index.passages for g in (p.genres or [])})

    def preview(self, paths: list[str] | None) -> tuple[str, list[list]]:
        """(status markdown, first parsed rows) for uploaded files; a bad file gives its one-line error."""
        if not paths:
            return "Upload one or more catalog files (CSV or JSON) to see their format and first rows.", []
        refused = check_uploads(list(paths), self.settings.demo.max_upload_files, self.settings.demo.max_upload_mb)
        if refused:
            return refused, []
        lines, rows = [], []
        for path in paths:
            name = file_name(path)
            try:
                fmt = detect_format(path)
                read = read_catalog(path, self.settings, fmt)
            except Exception as exc:
                lines.append(f"- **{shown(name)}**: error: {shown(one_line(exc, [path]))}")
                continue
            skipped = ", ".join(f"{n} {why}" for why, n in read.skipped.items() if n)
            lines.append(f"- **{shown(name)}**: format `{fmt}`, {len(read.movies)} movies"
                         + (f" (skipped: {skipped})" if skipped else ""))
            for m in read.movies[:PREVIEW_ROWS]:
                plot = m.plot[:100] + ("…" if len(m.plot) > 100 else "")
                rows.append([name, fmt, m.title, m.year, ", ".join(m.directors), ", ".join(m.genres), plot])
        return "\n".join(lines), rows

    def update_index(self, paths: list[str] | None, extend: bool,
                     on_progress: Callable[[int, int], None] | None = None, target: str | None = None) -> str:
        """Rebuild (or extend) an index from uploads in `target` (default self.uploads_dir) and swap it in once
        loaded. Any failure leaves the live index serving and returns a one-line error."""
        from index.build import add_to_index, build_index  # deferred: heavy (faiss), only when indexing
        from index.store import load_index  # deferred: heavy (faiss)

        if not paths:
            return "error: upload at least one catalog file first"
        refused = check_uploads(list(paths), self.settings.demo.max_upload_files, self.settings.demo.max_upload_mb)
        if refused:
            return f"{refused} (the previous index is still serving)"
        if not self._index_lock.acquire(blocking=False):
            return "error: another index update is running; try again when it has finished"
        try:
            target = target or self.uploads_dir
            if extend:
                if Path(self.live_dir).resolve() != Path(target).resolve():
                    _copy_dir(self.live_dir, target)  # extend a copy; the original index stays intact
                report = add_to_index(target, list(paths), self.settings, on_progress=on_progress)
                done = (f"extended to {report.get('movies', '?')} movies (was {report.get('movies_before', '?')}); "
                        f"{report.get('new', 0)} new and {report.get('updated', 0)} changed passages, "
                        f"{report.get('embedded', 0)} embedded")
            else:
                report = build_index(list(paths), target, self.settings, on_progress=on_progress)
                done = f"built {report.get('movies', 0)} movies, {report.get('passages', 0)} passages"
            new_index = load_index(target, self.settings)
            # the catalog store serves the planner's exact plans: opened only when a planner is loaded
            self.pipeline.swap_index(new_index, Catalog.open(target) if self.pipeline.planner else None)
            self.live_dir = target
            self.turns.clear()  # remembered turns name the old index's films
            return f"Done: {done} in {report.get('seconds', 0):.1f} s; the new index is now serving."
        except Exception as exc:
            if not isinstance(exc, (CatalogError, IndexLoadError, OSError, ValueError)):
                log.exception("index update failed")
            return f"error: {shown(one_line(exc, list(paths)))} (the previous index is still serving)"
        finally:
            self._index_lock.release()


def _copy_dir(src: str, dst: str) -> None:
    """Replace dst with a copy of src, never leaving a half-copied dst behind."""
    with staging_dir(dst) as tmp:
        shutil.copytree(src, tmp, dirs_exist_ok=True)
        replace_dir(tmp, dst)
