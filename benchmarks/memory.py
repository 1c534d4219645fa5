"""Peak resident memory of the web demo: `app.py` as a subprocess on a free loopback port, one question asked
with gradio_client, psutil RSS of the process tree sampled from launch to answer. When the app cannot
serve, a fallback subprocess loads Pipeline.from_settings and answers one question instead.

Reuses benchmarks/load_test.py (free_port, wait_for, RssSampler, run_client).

    python -m benchmarks.memory [--index DIR]     # the fallback probe itself (prints JSON)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks.load_test import REPO_ROOT, RssSampler, free_port, run_client, wait_for
from core.config import Settings
from core.flags import add_settings_flags, settings_from_args

QUESTION = ("Who directed Jaws?", "Spielberg")  # answerable from the embedded sample catalog


def hwm_mb(pid: int) -> float | None:
    """Lifetime peak RSS (VmHWM) of a process and its children, summed (Linux only; None elsewhere)."""
    total, found = 0, False
    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return None
    for p in procs:
        try:
            for line in Path(f"/proc/{p.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) * 1024
                    found = True
        except OSError:
            pass
    return round(total / 2**20, 1) if found else None


def _env() -> dict:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def app_peak_rss(index_dir: str | None = None, timeout_s: float = 300) -> dict:
    """Launch app.py (default index unless index_dir), ask one question, report RSS (MiB, children included)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    cmd = [sys.executable, str(REPO_ROOT / "app.py"), "--port", str(port), "--host", "127.0.0.1", "--no-progress"]
    if index_dir:
        cmd += ["--index", index_dir]
    log = tempfile.TemporaryFile()
    start = time.perf_counter()
    server = subprocess.Popen(cmd, cwd=REPO_ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=log)
    sampler = RssSampler(server.pid, every_s=0.1)
    sampler.start()
    try:
        try:
            wait_for(url, server, timeout_s)
        except SystemExit as exc:  # load_test reports failures as SystemExit("error: ...")
            log.seek(0)
            tail = log.read().decode(errors="replace").strip().splitlines()[-3:]
            return {"method": "app", "ok": False, "error": str(exc), "stderr_tail": tail}
        ready_s = time.perf_counter() - start
        ready_rss = sampler.rss() / 2**20
        results: list[dict] = []
        run_client(url, [QUESTION], time.monotonic() + timeout_s, timeout_s, results)
        time.sleep(0.3)  # one more sample after the answer
        after_rss = sampler.rss() / 2**20
        peak_hwm = hwm_mb(server.pid)
    finally:
        sampler.stop.set()
        sampler.join()
        _stop(server)
        log.close()
    result = results[0] if results else {"ok": False, "error": "no result"}
    peak = sampler.peak / 2**20
    return {"method": "app", "ok": bool(result.get("ok")), "error": result.get("error"),
            "answer_correct": result.get("correct"), "answer_latency_s": round(result.get("latency_s") or 0, 3),
            "startup_s": round(ready_s, 1), "rss_ready_mb": round(ready_rss, 1),
            "rss_after_answer_mb": round(after_rss, 1), "rss_peak_sampled_mb": round(peak, 1),
            "vm_hwm_mb": peak_hwm, "peak_rss_mb": round(max(peak, peak_hwm or 0), 1),
            "index": index_dir or "default (settings.index.index_dir)"}


def pipeline_peak_rss(index_dir: str | None = None, timeout_s: float = 300) -> dict:
    """Fallback: a subprocess that loads Pipeline.from_settings and answers one question."""
    cmd = [sys.executable, "-m", "benchmarks.memory"] + (["--index", index_dir] if index_dir else [])
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = RssSampler(proc.pid, every_s=0.1)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _stop(proc)
        out, err = b"", b"timed out"
    sampler.stop.set()
    sampler.join()
    try:
        probe = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"method": "pipeline", "ok": False, "error": err.decode(errors="replace").strip()[-300:]}
    peak = max(sampler.peak / 2**20, probe.get("vm_hwm_mb") or 0)
    return {"method": "pipeline", **probe, "rss_peak_sampled_mb": round(sampler.peak / 2**20, 1),
            "peak_rss_mb": round(peak, 1)}


def app_or_pipeline_peak_rss(index_dir: str | None = None, timeout_s: float = 300) -> dict:
    app = app_peak_rss(index_dir, timeout_s)
    if app.get("ok"):
        return app
    fallback = pipeline_peak_rss(index_dir, timeout_s)
    fallback["app_attempt"] = app
    return fallback


def _probe(argv: list[str]) -> None:
    from rag.pipeline import Pipeline  # deferred: heavy (torch); the probe runs in its own process

    p = argparse.ArgumentParser(prog="python -m benchmarks.memory",
                                description="load Pipeline.from_settings, answer one question, print JSON")
    add_settings_flags(p, fields=("index_dir",))
    args = p.parse_args(argv)
    settings = settings_from_args(args, Settings().with_overrides(progress=False))
    if args.index_dir:
        settings = settings.with_overrides(index_dir=os.path.abspath(args.index_dir))
    start = time.perf_counter()
    pipeline = Pipeline.from_settings(settings)
    load_s = time.perf_counter() - start
    answer = pipeline.ask(QUESTION[0])
    print(json.dumps({"ok": True, "load_s": round(load_s, 2), "answer": answer.text,
                      "answer_correct": QUESTION[1].lower() in answer.text.lower(), "vm_hwm_mb": hwm_mb(os.getpid())}))


if __name__ == "__main__":
    _probe(sys.argv[1:])
