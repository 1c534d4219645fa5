"""The web demo: callbacks in rag.ui (fake and tiny real pipelines), index uploads that fail safely, the Gradio
wiring over loopback with gradio_client, and one browser test in headless Chromium on the real app."""
from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.config import REPO_ROOT, Settings
from rag.ui import Demo, check_text, highlight, render_sources, year_range

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


# ---------------------------------------------------------------- a fake pipeline (no models)

@dataclass
class FakeSource:
    title: str
    year: int | None
    kind: str
    text: str
    score: float
    stage: str
    span: tuple[int, int] | None


@dataclass
class FakeAnswer:
    question: str
    mode: str
    text: str
    items: list
    sources: list
    abstained: bool
    timings: dict
    generator: str = "fake"
    plan: dict | None = None


class FakeIndex:
    manifest = {"movies": 1, "passages": 1, "embedder": "minilm", "dim": 384, "sources": [{"path": "/x/sample.csv"}]}
    passages: list = []

    def __len__(self) -> int:
        return 1


class FakePipeline:
    def __init__(self) -> None:
        self.index, self.planner = FakeIndex(), None
        self.calls: list[dict] = []

    def ask_stream(self, question, mode="rag", k=None, years=None, genres=None, **gen):
        self.calls.append({"question": question, "mode": mode, "k": k, "years": years, "genres": genres, **gen})
        text = "Steven Spielberg" if mode == "rag" else "George Lucas"
        yield "Steven", None
        passage = "Jaws (1975). Directed by Steven Spielberg. <A shark>."
        start = passage.index("Steven")
        source = FakeSource("Jaws", 1975, "card", passage, 0.8, "title-link", (start, start + 16))
        sources = [source] if mode == "rag" else []
        timings = {"retrieve_s": 0.01, "generate_s": 0.2, "total_s": 0.21}
        yield text, FakeAnswer(question, mode, text, [text], sources, False, timings)

    def plot_stream(self, prompt, genre=None, **gen):
        self.calls.append({"prompt": prompt, "genre": genre, **gen})
        yield " The shark"
        yield " The shark returns."

    def swap_index(self, index, catalog=None) -> None:
        self.index, self.catalog = index, catalog


def test_check_text_gives_friendly_messages():
    assert "type a question" in check_text("  ", 10)
    assert "under 10" in check_text("x" * 11, 10)
    assert check_text("Who directed Jaws?", 100) is None


def test_highlight_escapes_and_marks():
    assert highlight("a <b> c", (4, 7)) == "a &lt;b<mark>&gt; c</mark>"
    assert highlight("a <b>", None) == "a &lt;b&gt;"
    assert highlight("abc", (2, 9)) == "abc"  # a span outside the text is ignored
    assert year_range(None, None) is None and year_range(0, 0) is None
    assert year_range(1990, None) == (1990, 9999)
    assert year_range(2000, 1990) == (1990, 2000)


def test_ask_streams_then_adds_collapsed_sources():
    pipe = FakePipeline()
    out = list(Demo(pipe, Settings()).ask("Who directed Jaws?", 3, 0.0, 0.9, 16, 1970, None, ["Thriller"]))
    assert out[0] == "Steven"
    answer, sources = out[-1]
    assert answer["content"] == "Steven Spielberg"
    assert sources["metadata"]["status"] == "done" and sources["metadata"]["title"] == "Sources (1)"
    assert "<mark>Steven Spielberg</mark>" in sources["content"] and "&lt;A shark&gt;" in sources["content"]
    assert "title-link" in sources["content"] and "0.800" in sources["content"]
    assert pipe.calls[0] == {"question": "Who directed Jaws?", "mode": "rag", "k": 3, "years": (1970, 9999),
                             "genres": ["Thriller"], "temperature": 0.0, "top_p": 0.9, "max_new_tokens": 16}


def test_empty_and_overlong_questions_never_reach_the_pipeline():
    pipe = FakePipeline()
    demo = Demo(pipe, Settings().with_overrides(max_question_chars=50))
    assert "type a question" in list(demo.ask(""))[0]
    assert "under 50" in list(demo.ask("why " * 30))[0]
    assert "type a question" in list(demo.compare(" "))[-1][0]
    assert "plot prompt" in list(demo.plot(""))[0]
    assert pipe.calls == []


def test_compare_shows_both_answers_with_latency():
    rag, plain = list(Demo(FakePipeline(), Settings()).compare("Who directed Jaws?"))[-1]
    assert rag.startswith("Steven Spielberg") and "Latency: 0.21 s" in rag and "Sources: Jaws" in rag
    assert plain.startswith("George Lucas") and "Latency" in plain


def test_plot_streams_text_so_far_with_genre():
    pipe = FakePipeline()
    assert list(Demo(pipe, Settings()).plot("A shark", "Horror", 0.8, 40))[-1] == " The shark returns."
    assert pipe.calls[0] == {"prompt": "A shark", "genre": "Horror", "temperature": 0.8, "max_new_tokens": 40}


def test_pipeline_failures_become_one_line_messages():
    class Broken(FakePipeline):
        def ask_stream(self, *args, **kwargs):
            raise RuntimeError("model exploded\nTraceback ...")

        def plot_stream(self, *args, **kwargs):
            raise RuntimeError("no plot today")

    demo = Demo(Broken(), Settings())
    assert list(demo.ask("Who directed Jaws?")) == ["Sorry, that failed: model exploded"]
    assert list(demo.compare("Who directed Jaws?"))[-1][1] == "Sorry, that failed: model exploded"
    assert list(demo.plot("A shark"))[-1] == "Sorry, that failed: no plot today"


def test_render_sources_without_sources():
    assert "No passages" in render_sources([])


# ---------------------------------------------------------------- index uploads on a real (small) index

def _write_sample_csv(path: Path, movies) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["title", "year", "directors", "cast", "genres", "plot"])
        for m in movies:
            writer.writerow([m.title, m.year, "|".join(m.directors), "|".join(m.cast), "|".join(m.genres), m.plot])
    return path


@pytest.fixture
def small_index(tmp_path, movies, embedder):
    """An index of the fixture movies built in tmp (real MiniLM, a few dozen passages)."""
    from index.build import build_index
    from index.store import load_index

    settings = Settings().with_overrides(index_dir=str(tmp_path / "idx"), progress=False)
    build_index([str(_write_sample_csv(tmp_path / "five.csv", movies[:4]))], settings.index.index_dir, settings)
    return settings, load_index(settings.index.index_dir, settings)


@pytest.fixture
def tiny_pipeline(small_index, embedder, tiny_gpt2_dir):
    from core.models import load_generator
    from rag.pipeline import Pipeline

    settings, index = small_index
    settings = settings.with_overrides(generator=str(tiny_gpt2_dir))
    model, tokenizer, _ = load_generator(settings)
    return settings, Pipeline(index, embedder, model, tokenizer, settings)


def test_bad_upload_keeps_the_old_index_serving(tmp_path, tiny_pipeline):
    settings, pipe = tiny_pipeline
    demo = Demo(pipe, settings)
    live = pipe.index
    bad = tmp_path / "bad.csv"
    bad.write_text("foo,bar\n1,2\n")
    status, rows = demo.preview([str(bad)])
    assert "bad.csv" in status and "error:" in status and rows == []
    message = demo.update_index([str(bad)], extend=False)
    assert message.startswith("error: bad.csv: ") and "title" in message and "still serving" in message
    assert pipe.index is live and demo.live_dir == settings.index.index_dir
    assert not Path(demo.uploads_dir).exists()
    # the old index still answers, with its sources
    *_, (answer, sources) = demo.ask("Who directed Jaws?", max_new_tokens=4)
    assert "Jaws" in sources["content"]


def test_upload_rebuild_and_extend_swap_in_without_touching_the_start_index(tmp_path, small_index, movies):
    settings, index = small_index
    pipe = FakePipeline()
    pipe.index = index
    demo = Demo(pipe, settings)
    before = (Path(settings.index.index_dir) / "manifest.json").read_text()
    upload = _write_sample_csv(tmp_path / "dark_knight.csv", movies[4:])
    status, rows = demo.preview([str(upload)])
    assert "format `sample`, 1 movies" in status and rows[0][2] == "The Dark Knight"

    seen = []
    message = demo.update_index([str(upload)], extend=True, on_progress=lambda d, t: seen.append((d, t)))
    assert message.startswith("Done: extended to 5 movies (was 4)"), message
    assert pipe.index.manifest["movies"] == 5 and demo.live_dir == demo.uploads_dir
    assert seen and seen[-1][0] == seen[-1][1]
    assert "**films**: 5" in demo.manifest_markdown() and "dark_knight.csv" in demo.manifest_markdown()
    assert "Science Fiction" in demo.genre_choices()

    message = demo.update_index([str(upload)], extend=False)
    assert message.startswith("Done: built 1 movies"), message
    assert pipe.index.manifest["movies"] == 1
    assert (Path(settings.index.index_dir) / "manifest.json").read_text() == before  # start index untouched


# ---------------------------------------------------------------- Gradio wiring over loopback

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gradio_app_serves_the_callbacks_over_loopback():
    from gradio_client import Client

    import app

    ui = app.build_ui(Demo(FakePipeline(), Settings()))
    ui.queue(default_concurrency_limit=2, max_size=8)
    ui.launch(server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True, ssr_mode=False)
    try:
        client = Client(ui.local_url, verbose=False)
        reply = client.predict("Who directed Jaws?", 5, 0.0, 0.9, 24, None, None, [], api_name="/ask")
        assert reply[0]["content"] == "Steven Spielberg" and "<mark>" in reply[1]["content"]
        assert "type a question" in client.predict("", 5, 0.0, 0.9, 24, None, None, [], api_name="/ask")
        rag, plain = client.predict("Who directed Jaws?", api_name="/compare")
        assert "Spielberg" in rag and "Lucas" in plain
    finally:
        ui.close()


def test_cli_reports_a_bad_generator_in_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "app.py", "--generator", str(tmp_path / "missing"), "--index",
                           str(tmp_path / "idx"), "--no-progress"], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: ") and "Traceback" not in proc.stderr


# ---------------------------------------------------------------- the real page in headless Chromium

def chromium_options(user_data_dir: str):
    from selenium import webdriver

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={user_data_dir}", "--window-size=1280,1000"):
        opts.add_argument(arg)
    return opts


def _wait_for_server(url: str, proc: subprocess.Popen, log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"app.py exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"app.py did not answer on {url} within {timeout_s:.0f} s")


@pytest.mark.integration
def test_browser_asks_who_directed_jaws_then_a_follow_up(tmp_path):
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("Chromium is absent: apt-get install chromium chromium-driver to run the browser test")
    pytest.importorskip("selenium", reason="selenium is not installed (pip install -r requirements.txt)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    # exactly the README's `python app.py` (default sample index, built on first run), on a free port
    log = tmp_path / "app.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--no-progress"], cwd=REPO_ROOT,
                                env=env, stdout=fh, stderr=subprocess.STDOUT)
    driver = None
    try:
        _wait_for_server(url, proc, log, timeout_s=180)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER),
                                  options=chromium_options(tempfile.mkdtemp(dir=tmp_path, prefix="chromium-")))
        driver.get(url)
        box = WebDriverWait(driver, 30).until(lambda d: d.find_element(By.CSS_SELECTOR, "#question textarea"))
        box.send_keys("Who directed Jaws?", Keys.ENTER)
        answers = WebDriverWait(driver, 90).until(
            lambda d: d.find_element(By.ID, "answers") if "Sources (" in d.find_element(By.ID, "answers").text
            else None)
        answer = answers.find_element(By.CSS_SELECTOR, "[data-testid=bot]").text
        answers.find_element(By.CSS_SELECTOR, ".thought-group .title").click()  # open the sources panel
        WebDriverWait(driver, 10).until(
            lambda d: any(e.text for e in d.find_elements(By.CSS_SELECTOR, "#answers .source")))
        time.sleep(0.5)  # let the panel finish opening before the screenshot
        driver.save_screenshot(str(tmp_path / "ask.png"))
        if os.environ.get("APP_SCREENSHOT_DIR"):
            shutil.copy(tmp_path / "ask.png", Path(os.environ["APP_SCREENSHOT_DIR"]) / "ask.png")
        sources = " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, "#answers .source"))
        assert "Jaws" in sources and "Steven Spielberg" in sources, sources  # the right card is shown
        marks = [m.text for m in driver.find_elements(By.CSS_SELECTOR, "#answers mark") if m.text]

        # a follow-up: "it" is Jaws, resolved from the chat's history; the sources panel's title says so
        before = driver.find_element(By.ID, "answers").text
        box = WebDriverWait(driver, 30).until(
            lambda d: d.find_element(By.CSS_SELECTOR, "#question textarea")
            if d.find_element(By.CSS_SELECTOR, "#question textarea").is_enabled() else None)
        box.send_keys("and who wrote it?", Keys.ENTER)
        WebDriverWait(driver, 90).until(lambda d: d.find_element(By.ID, "answers").text.count("Sources (") == 2)
        after = driver.find_element(By.ID, "answers").text
        driver.save_screenshot(str(tmp_path / "follow_up.png"))
        if os.environ.get("APP_SCREENSHOT_DIR"):
            shutil.copy(tmp_path / "follow_up.png", Path(os.environ["APP_SCREENSHOT_DIR"]) / "follow_up.png")
        assert "understood as: Who wrote Jaws?" in after, after
        assert "Benchley" in after and "Benchley" not in before, after  # Jaws's writer, from the sample catalog

        # Index tab: a bad CSV shows its one-line error and the live index keeps serving
        driver.find_element(By.XPATH, "//button[@role='tab'][normalize-space()='Index']").click()
        bad = tmp_path / "bad.csv"
        bad.write_text("foo,bar\n1,2\n")
        driver.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(bad))
        WebDriverWait(driver, 30).until(lambda d: "bad.csv" in d.find_element(By.TAG_NAME, "body").text
                                        and "error:" in d.find_element(By.TAG_NAME, "body").text)
        driver.find_element(By.ID, "rebuild-btn").click()
        WebDriverWait(driver, 30).until(lambda d: "still serving" in d.find_element(By.ID, "index-status").text)
        assert "sample_movies.csv" in driver.find_element(By.ID, "manifest").text
        driver.save_screenshot(str(tmp_path / "index.png"))
        if os.environ.get("APP_SCREENSHOT_DIR"):
            shutil.copy(tmp_path / "index.png", Path(os.environ["APP_SCREENSHOT_DIR"]) / "index.png")

        assert "Spielberg" in answer, f"answer was {answer!r}"
        assert any("Spielberg" in m for m in marks), marks  # the answer is highlighted in its passage
    finally:
        if driver is not None:
            driver.quit()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
