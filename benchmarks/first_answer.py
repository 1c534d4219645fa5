"""Time to the first answer and to the full catalog, on a clean clone with a cold cache, for each start-up design.

    flock /tmp/heavy.lock python -m benchmarks.first_answer --startup unpack --out runs/first_answer_unpack.json
    flock /tmp/heavy.lock python -m benchmarks.first_answer --startup background --out runs/first_answer_bg.json

A clean clone: the repository's files (`git ls-files -co --exclude-standard`: no indexes/, no runs/) copied to a
temporary folder, run with this virtual environment (what `make setup` leaves) and an empty MOVIE_RAG_CACHE (no
converted generator, no unpacked index). The clock starts when `python app.py --startup MODE` is launched. Reported:
seconds to serving, to the first answer, and to the full catalog being live (the /live_index API), RSS of the app
(psutil, sampled every 0.2 s; VmHWM) during start-up, during the background build, and serving the full catalog,
and the answers to a question only the full catalog can answer (asked during the build too).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import machine_info, write_json
from benchmarks.load_test import REPO_ROOT, RssSampler, free_port, run_client, wait_for
from benchmarks.memory import hwm_mb

SAMPLE_QUESTION = ("Who directed Jaws?", "Spielberg")  # in the sample and in the full catalog
CATALOG_QUESTION = ("Who directed Heathers?", "Lehmann")  # WikiMovies / TMDB only, not in the 155-film sample
FULL_FILMS = 20_000  # the live index counts as the full catalog from this many films on


def clean_clone(dest: Path) -> Path:
    """Copy the files git would clone (tracked, plus untracked ones not ignored) into `dest`."""
    names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO_ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for name in filter(None, names):
        src = REPO_ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def _ask(url: str, question: tuple[str, str], timeout_s: float) -> dict:
    results: list[dict] = []
    run_client(url, [question], time.monotonic() + timeout_s, timeout_s, results)
    return results[0] if results else {"ok": False, "error": "no result"}


def _live(url: str) -> dict:
    from gradio_client import Client  # deferred: heavy

    try:
        return Client(url, verbose=False).predict(api_name="/live_index")
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def run(startup: str, timeout_s: float, keep: bool) -> dict:
    work = Path(tempfile.mkdtemp(prefix="first-answer-"))
    clone, cache = clean_clone(work / "clone"), work / "cache"
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "MOVIE_RAG_CACHE": str(cache)}
    cmd = [sys.executable, "app.py", "--port", str(port), "--host", "127.0.0.1", "--no-progress", "--startup", startup]
    log = open(work / "app.log", "w")
    t0 = time.perf_counter()
    server = subprocess.Popen(cmd, cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT)
    sampler = RssSampler(server.pid, every_s=0.2)
    sampler.start()
    out: dict = {"startup": startup, "command": " ".join(cmd), "clone": str(clone), "cache": str(cache)}
    try:
        wait_for(url, server, timeout_s)
        out["serving_s"] = round(time.perf_counter() - t0, 1)
        first = _ask(url, SAMPLE_QUESTION, timeout_s)
        out["first_answer_s"] = round(time.perf_counter() - t0, 1)
        out["first_answer"] = {k: first.get(k) for k in ("ok", "correct", "latency_s", "error")}
        out["rss_peak_to_first_answer_mb"] = round(sampler.peak / 2**20)
        live = _live(url)
        if live.get("building"):
            during = _ask(url, CATALOG_QUESTION, timeout_s)  # answered from the sample meanwhile (not known there)
            out["answer_during_build"] = {k: during.get(k) for k in ("ok", "correct", "latency_s", "error")}
        while (live.get("films") or 0) < FULL_FILMS and time.perf_counter() - t0 < timeout_s:
            if server.poll() is not None:
                raise SystemExit(f"error: app.py exited with code {server.returncode}")
            time.sleep(5)
            live = _live(url)
        out["full_catalog_live_s"] = round(time.perf_counter() - t0, 1)
        out["live_index"] = live
        out["rss_peak_until_full_catalog_mb"] = round(sampler.peak / 2**20)
        full = _ask(url, CATALOG_QUESTION, timeout_s)
        out["catalog_answer"] = {k: full.get(k) for k in ("ok", "correct", "latency_s", "error")}
        time.sleep(1.0)
        out["rss_serving_full_catalog_mb"] = round(sampler.rss() / 2**20)
        out["vm_hwm_mb"] = hwm_mb(server.pid)
    except SystemExit as exc:
        out["error"] = str(exc)
    finally:
        sampler.stop.set()
        sampler.join()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        out["rss_peak_mb"] = round(sampler.peak / 2**20)
        out["app_log_tail"] = (work / "app.log").read_text(errors="replace").strip().splitlines()[-5:]
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.first_answer", description=__doc__.splitlines()[0])
    p.add_argument("--startup", choices=("unpack", "background"), required=True, help="the demo's start-up design")
    p.add_argument("--timeout", type=float, default=3600, help="limit for each wait in seconds (default 3600)")
    p.add_argument("--keep", action="store_true", help="keep the clone, cache and app log")
    p.add_argument("--out", help="JSON report path (default: print only)")
    args = p.parse_args(argv)
    report = {"machine": {**machine_info(), "cpu_model": cpu_model()}, **run(args.startup, args.timeout, args.keep)}
    if args.out:
        write_json(Path(args.out), report)
    print(json.dumps(report, indent=2))
    return 0 if "error" not in report else 1


if __name__ == "__main__":
    sys.exit(main())
