"""The demo's start-up choice (unpack the pack, or the sample now and the catalog in the background) and the
background build job: its progress line, its swap into the served pipeline, and its errors."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from core.config import Settings, Startup
from index.build import build_index
from index.pack import pack_index
from index.store import load_index
from rag.background import BuildJob, background_sources, sample_settings
from rag.ui import Demo
from tests.index.conftest import FakeEmbedder, write_sample_csv


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    monkeypatch.setattr("core.models.load_embedder", lambda *a, **k: FakeEmbedder())


@pytest.fixture
def settings(tmp_path, movies) -> Settings:
    """A tiny pack of the five fixture films (data/films.csv); the sample is the first two."""
    data = tmp_path / "data"
    data.mkdir()
    films = write_sample_csv(movies, data / "films.csv")
    base = Settings().with_overrides(progress=False, index_dir=str(tmp_path / "cache" / "catalog"), pack="",
                                     sample_catalog=str(write_sample_csv(movies[:2], data / "sample.csv")),
                                     sample_index_dir=str(tmp_path / "indexes" / "sample"))
    build_index([str(films)], str(tmp_path / "built"), base, embedder=FakeEmbedder())
    pack_index(str(tmp_path / "built"), str(data / "pack"), base)
    return base.with_overrides(pack=str(data / "pack"))


def test_unpack_startup_serves_the_catalog_index(settings):
    assert background_sources(settings) is None  # ensure_index unpacks the pack before serving


def test_background_startup_builds_the_packs_catalogs(settings, tmp_path):
    background = settings.with_overrides(startup=Startup.BACKGROUND.value)
    assert background_sources(background) == [str((tmp_path / "data" / "films.csv").resolve())]
    serving = sample_settings(background)
    assert serving.index.index_dir == settings.index.sample_index_dir and serving.index.pack == ""


def test_a_pack_of_another_embedder_is_built_in_the_background(settings, tmp_path):
    other = tmp_path / "other-embedder"
    other.mkdir()
    (other / "config.json").write_text('{"hidden_size": 384}')
    assert background_sources(settings.with_overrides(embedder=str(other))) == \
        [str((tmp_path / "data" / "films.csv").resolve())]


def test_no_pack_or_a_current_index_needs_no_background_build(settings, movies):
    assert background_sources(settings.with_overrides(pack="", startup="background")) is None
    build_index([settings.index.sample_catalog], settings.index.index_dir, settings, embedder=FakeEmbedder())
    assert background_sources(settings.with_overrides(startup="background")) is None  # current: served as it is


class FakePipeline:
    def __init__(self, index) -> None:
        self.index, self.planner, self.generator_name = index, None, "fake"

    def swap_index(self, new_index, catalog=None) -> None:
        self.index = new_index


def test_background_job_builds_and_swaps_the_catalog_in(settings, movies):
    background = settings.with_overrides(startup="background")
    serving = sample_settings(background)
    build_index([serving.index.sample_catalog], serving.index.index_dir, serving, embedder=FakeEmbedder())
    pipeline = FakePipeline(load_index(serving.index.index_dir, serving))
    demo = Demo(pipeline, serving)
    catalogs = background_sources(background)
    job = BuildJob(lambda progress: demo.update_index(catalogs, False, progress, target=settings.index.index_dir))
    assert job.status_markdown() == "" and not job.running
    job.start().join(60)
    assert not job.running and "finished" in job.status_markdown() and "now serving" in job.message
    assert pipeline.index.manifest["movies"] == len(movies) and demo.live_dir == settings.index.index_dir
    assert "**films**: 5" in demo.manifest_markdown()
    assert Path(settings.index.index_dir, "manifest.json").is_file()


def test_job_progress_line_while_running():
    step, release = threading.Event(), threading.Event()

    def run(progress):
        progress(0, 0)
        step.set()
        release.wait(10)
        return "Done: built 5 movies"

    job = BuildJob(run).start()
    step.wait(10)
    assert "reading the catalogs" in job.status_markdown() and "sample catalog" in job.status_markdown()
    job._progress(2048, 8192)
    line = job.status_markdown()
    assert "2,048 / 8,192 passages embedded (25%)" in line and "left" in line
    job._progress(8192, 8192)
    assert "indexing and writing" in job.status_markdown()
    release.set()
    job.join(10)
    assert job.status_markdown().endswith("Done: built 5 movies")


def test_job_reports_an_unexpected_failure_in_one_line():
    def run(progress):
        raise RuntimeError("disk full\nsecond line")

    job = BuildJob(run).start()
    job.join(10)
    assert job.message == "error: disk full" and not job.running


def test_page_shows_the_build_and_the_live_index_api(settings):
    import socket

    from gradio_client import Client

    import app

    serving = sample_settings(settings)
    build_index([serving.index.sample_catalog], serving.index.index_dir, serving, embedder=FakeEmbedder())
    demo = Demo(FakePipeline(load_index(serving.index.index_dir, serving)), serving)
    release = threading.Event()
    job = BuildJob(lambda progress: (progress(0, 0), release.wait(30), "Done")[-1]).start()
    ui = app.build_ui(demo, job)
    ui.queue()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ui.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False)
    try:
        live = Client(ui.local_url, verbose=False).predict(api_name="/live_index")
        assert live == {"films": 2, "passages": demo.pipeline.index.manifest["passages"], "building": True,
                        "folder": serving.index.index_dir}
    finally:
        release.set()
        job.join(10)
        ui.close()
