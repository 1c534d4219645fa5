"""The web demo: callbacks in rag.ui (fake and tiny real pipelines), index uploads that fail safely, the Gradio
wiring over loopback with gradio_client, and one browser test in headless Chromium on the real app."""
from __future__ import annotations

import csv
import html
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


# ---------------------------------------------------------------- hostile text, upload limits, swaps under load

EVIL = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=1</script>"


def _hostile_catalog(path: Path) -> Path:
    """Jaws and two films whose fields are HTML, in the embedded sample's CSV format."""
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["title", "year", "directors", "cast", "genres", "plot"])
        writer.writerow(["Jaws", 1975, "Steven Spielberg", "Roy Scheider", "Thriller", "A shark terrorises a town."])
        writer.writerow([EVIL, 1999, "Evil Person", "<b>Bold</b> Actor", "Horror", f"{SCRIPT} A cursed image."])
        writer.writerow([SCRIPT, 2001, "Script Kiddie", "Ann Other", "Comedy", "A prank: <iframe src=x></iframe>."])
    return path


def test_html_in_answers_titles_questions_and_errors_is_shown_as_text():
    from rag.ui import map_user_text, shown

    class Hostile(FakePipeline):
        def ask_stream(self, question, mode="rag", **kwargs):
            source = FakeSource(EVIL, 1999, "card", f"{EVIL} (1999). {SCRIPT}", 0.8, "title-link", None)
            yield f"{EVIL} by", None
            yield EVIL, FakeAnswer(question, mode, EVIL, [EVIL], [source], False, {"total_s": 0.1})

    *partial, (answer, sources) = Demo(Hostile(), Settings()).ask(f"Who directed {EVIL}?")
    assert partial == ["&lt;img src=x onerror=\"window.__xss=1\"&gt; by"] and answer["content"] == shown(EVIL)
    assert "<img" not in sources["content"] and "<script" not in sources["content"]
    rag, _ = list(Demo(Hostile(), Settings()).compare(EVIL))[-1]
    assert "<img" not in rag and rag.count("&lt;img") == 2  # the answer and its source title
    typed = {"role": "user", "content": [{"type": "text", "text": f"a & b &lt; {EVIL}"}]}
    assert map_user_text(map_user_text(typed, shown), html.unescape) == typed  # the chat round trip is exact
    assert map_user_text({"role": "assistant", "content": EVIL}, shown)["content"] == EVIL  # the app's own HTML

    class Failing(FakePipeline):
        def ask_stream(self, *args, **kwargs):
            raise RuntimeError(f"no film {EVIL}")

    assert list(Demo(Failing(), Settings()).ask("Who?")) == [f"Sorry, that failed: no film {shown(EVIL)}"]


def test_upload_limits_and_hostile_names_give_one_line_and_keep_serving(tmp_path):
    pipe = FakePipeline()
    live = pipe.index
    settings = Settings().with_overrides(index_dir=str(tmp_path / "idx"), max_upload_files=2, max_upload_mb=1)
    demo = Demo(pipe, settings)
    good = _hostile_catalog(tmp_path / "films.csv")
    big = tmp_path / "big.csv"
    big.write_bytes(good.read_bytes() * (2**20 // len(good.read_bytes()) + 1))
    html_name = tmp_path / f"{EVIL}.csv"
    shutil.copy(good, html_name)
    cases = {  # paths → what the one line says
        (str(good),) * 3: "3 files uploaded; at most 2 per update",
        (str(big),): "big.csv is 1.0 MB; the limit is 1 MB per file",
        ("../../../../../../etc/passwd.csv",): "passwd.csv: not a file",
        (str(tmp_path / "a\x00b.csv"),): "ab.csv: not a file",  # NUL: dropped from the shown name
        (str(tmp_path / ("x" * 300 + ".csv")),): "x" * 79 + "…: not a file",  # too long for the file system
        (str(tmp_path),): ": not a file",
    }
    for paths, says in cases.items():
        status, rows = demo.preview(list(paths))
        message = demo.update_index(list(paths), extend=False)
        assert status.startswith("error: ") and says in status and rows == [] and "\n" not in status, status
        assert message == f"{status} (the previous index is still serving)"
    assert pipe.index is live and not Path(demo.uploads_dir).exists()
    status, rows = demo.preview([str(html_name)])  # HTML in the name and in the fields: text in the page
    assert status.startswith("- **&lt;img src=x") and "<img" not in status, status
    assert [r[2] for r in rows] == ["Jaws", EVIL, SCRIPT] and rows[0][0] == html_name.name  # table cells are text


def test_hostile_uploads_over_http_stay_in_the_upload_folder(tmp_path):
    import httpx
    from gradio.utils import get_upload_folder

    import app

    ui = app.build_ui(Demo(FakePipeline(), Settings().with_overrides(max_upload_files=2)))
    ui.queue()
    ui.launch(server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True, ssr_mode=False,
              max_file_size="1mb")
    base = ui.local_url.rstrip("/")

    def call(api: str, paths: list[str]) -> str:
        files = [{"path": p, "meta": {"_type": "gradio.FileData"}} for p in paths]
        event = httpx.post(f"{base}/gradio_api/call/{api}", json={"data": [files]}, timeout=30).json()["event_id"]
        return httpx.get(f"{base}/gradio_api/call/{api}/{event}", timeout=60).text

    try:
        stored = []
        for name in ("../../etc/passwd.csv", f"{EVIL}.csv", "a\x00b.csv", "x" * 300 + ".csv"):
            reply = httpx.post(f"{base}/gradio_api/upload", files={"files": (name, b"title,year\nJaws,1975\n")})
            path = Path(reply.json()[0])
            assert reply.status_code == 200 and path.resolve().is_relative_to(Path(get_upload_folder()).resolve())
            assert not set('/<>"\x00') & set(path.name) and len(path.name.encode()) <= 200, path
            stored.append(str(path))
        assert Path(stored[0]).name == "passwd.csv" and "event: complete" in call("preview", stored[:1])
        too_big = httpx.post(f"{base}/gradio_api/upload", files={"files": ("big.csv", b"x" * (2**20 + 1))})
        assert too_big.status_code == 413
        assert "event: error" in call("preview", ["/etc/passwd"])  # a server path that was never uploaded
        assert "event: error" in call("preview", [stored[0].rsplit(".", 1)[0] + ".exe"])  # not a catalog type
        assert "3 files uploaded; at most 2" in call("preview", stored[:3])
    finally:
        ui.close()


def _ask_while(demo: Demo, update) -> tuple[dict, list]:
    """Runs `update()` (an index update of `demo`) on a thread while asking questions in a loop, until it is done and
    three more questions were asked. Returns ({message, start, end}, [(asked at, finished at, titles, answer)])."""
    import threading

    from benchmarks.load_test import source_titles

    job: dict = {}

    def run() -> None:
        job["start"] = time.monotonic()
        job["message"] = update()
        job["end"] = time.monotonic()

    worker, answers = threading.Thread(target=run), []
    worker.start()
    while worker.is_alive() or len([a for a in answers if a[0] > job["end"]]) < 3:
        for question in ("Who directed Jaws?", "Which film is about a thief who plants an idea in a dream?"):
            asked = time.monotonic()
            *_, (answer, sources) = demo.ask(question, max_new_tokens=3)
            answers.append((asked, time.monotonic(), source_titles(sources["content"]), answer["content"]))
    during = [a for a in answers if job["start"] <= a[1] <= job["end"]]
    assert during, "no answer arrived while the index was updating"
    assert not any(text.startswith("Sorry") for *_, text in answers) and all(titles for _, _, titles, _ in answers)
    return job, answers


def test_questions_keep_coming_while_an_upload_rebuilds_and_the_swap_is_atomic(tmp_path, tiny_pipeline):
    from benchmarks.build import synthetic_movies_csv

    settings, pipe = tiny_pipeline
    demo = Demo(pipe, settings)
    old = {p.title for p in pipe.index.passages}  # films, people and tags
    upload = synthetic_movies_csv(tmp_path / "new_films.csv", 80, seed=5)
    job, answers = _ask_while(demo, lambda: demo.update_index([str(upload)], extend=False))
    assert job["message"].startswith("Done: built 80 movies"), job["message"]
    new = {p.title for p in pipe.index.passages}
    only_old, only_new = old - new, new - old
    assert only_old and only_new
    assert not [t for *_, t, _ in answers if set(t) & only_old and set(t) & only_new]  # never both indexes at once
    assert not [t for at, _, t, _ in answers if at > job["end"] and set(t) & only_old]  # asked once swapped


def test_questions_keep_coming_while_uploads_extend_the_live_index_in_place(tmp_path, tiny_pipeline):
    """The second extension runs on the uploads folder the live index was loaded from (memory-mapped vectors)."""
    from benchmarks.build import synthetic_movies_csv

    settings, pipe = tiny_pipeline
    demo = Demo(pipe, settings)
    for n, seed in ((40, 5), (40, 6)):
        upload = synthetic_movies_csv(tmp_path / f"films_{seed}.csv", n, seed=seed)
        before = pipe.index.manifest["movies"]
        job, _ = _ask_while(demo, lambda path=upload: demo.update_index([str(path)], extend=True))
        assert job["message"].startswith(f"Done: extended to {before + n} movies"), job["message"]
        assert demo.live_dir == demo.uploads_dir and pipe.index.manifest["movies"] == before + n


@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="Chromium is absent: apt-get install chromium "
                                                            "chromium-driver to run the browser tests")
def test_browser_shows_html_in_catalog_fields_and_questions_as_text(tmp_path, tiny_gpt2_dir):
    """A catalog with HTML titles, served by `python app.py --index DIR` (a tiny generator: the page is under test,
    not the answers): questions, answers, sources, the Compare tab and an upload's preview show the HTML as text,
    and no script runs."""
    pytest.importorskip("selenium", reason="selenium is not installed (pip install -r requirements.txt)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    catalog, index = _hostile_catalog(tmp_path / "tiny.csv"), tmp_path / "tiny_index"
    subprocess.run([sys.executable, "-m", "index", "build", str(catalog), "--out", str(index), "--no-progress"],
                   cwd=REPO_ROOT, env=env, check=True, capture_output=True, timeout=300)
    port, log = _free_port(), tmp_path / "app.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "app.py", "--index", str(index), "--generator", str(tiny_gpt2_dir),
                                 "--port", str(port), "--no-progress"], cwd=REPO_ROOT, env=env, stdout=fh,
                                stderr=subprocess.STDOUT)
    driver = None

    def nothing_ran(d) -> None:
        assert d.execute_script("return window.__xss") is None
        assert d.execute_script("return [...document.querySelectorAll('img, iframe')].filter(e => "
                                "(e.getAttribute('src') || '') === 'x').length") == 0
        assert d.execute_script("return [...document.querySelectorAll('script')].filter(e => "
                                "e.textContent.includes('__xss')).length") == 0

    try:
        _wait_for_server(f"http://127.0.0.1:{port}/", proc, log, timeout_s=180)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER),
                                  options=chromium_options(tempfile.mkdtemp(dir=tmp_path, prefix="chromium-")))
        driver.get(f"http://127.0.0.1:{port}/")
        for turn, question in enumerate([f"Who directed {EVIL}?", f"Tell me about {SCRIPT}"], start=1):
            box = WebDriverWait(driver, 60).until(
                lambda d: d.find_element(By.CSS_SELECTOR, "#question textarea")
                if d.find_element(By.CSS_SELECTOR, "#question textarea").is_enabled() else None)
            box.send_keys(question, Keys.ENTER)
            WebDriverWait(driver, 90).until(
                lambda d, n=turn: d.find_element(By.ID, "answers").text.count("Sources (") == n)
        for title in driver.find_elements(By.CSS_SELECTOR, "#answers .thought-group .title"):
            title.click()  # open the sources panels
        WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "answers").text.count(EVIL) >= 2)
        shown_text = driver.find_element(By.ID, "answers").text  # the questions and the sources' titles, as text
        assert f"Who directed {EVIL}?" in shown_text and f"Tell me about {SCRIPT}" in shown_text, shown_text
        assert f"{SCRIPT} (2001)" in shown_text and "<iframe src=x></iframe>" in shown_text, shown_text
        nothing_ran(driver)

        driver.find_element(By.XPATH, "//button[@role='tab'][normalize-space()='Compare']").click()
        driver.find_element(By.CSS_SELECTOR, "#compare-question textarea").send_keys(f"Who directed {EVIL}?")
        driver.find_element(By.ID, "compare-btn").click()
        WebDriverWait(driver, 90).until(lambda d: "Sources:" in d.find_element(By.ID, "rag-answer").text)
        assert EVIL in driver.find_element(By.ID, "rag-answer").text
        nothing_ran(driver)

        driver.find_element(By.XPATH, "//button[@role='tab'][normalize-space()='Index']").click()
        upload = shutil.copy(catalog, tmp_path / f"{EVIL}.csv")
        driver.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(upload))
        WebDriverWait(driver, 60).until(lambda d: "3 movies" in d.find_element(By.TAG_NAME, "body").text)
        time.sleep(0.5)
        body = driver.find_element(By.TAG_NAME, "body").text
        assert EVIL in body and SCRIPT in body  # the file name, and the preview's cells as text
        nothing_ran(driver)
        driver.save_screenshot(str(tmp_path / "xss.png"))
    finally:
        if driver is not None:
            driver.quit()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_the_app_micro_batches_concurrent_questions_only_on_a_batching_generator():
    import app

    settings = app.serving_settings(Settings())
    assert settings.decoding.batch_window_ms == settings.demo.micro_batch_ms > 0
    off = app.serving_settings(Settings().with_overrides(micro_batch_ms=0))
    assert off.decoding.batch_window_ms == 0

    @dataclass
    class Holder:
        generator: object

    batching = Holder(generator=type("Batched", (), {"batcher": object()})())
    alone = Holder(generator=object())
    assert app.queue_concurrency(batching, settings) == settings.demo.batched_concurrency > 2
    assert app.queue_concurrency(alone, settings) == settings.demo.queue_concurrency == 2
