"""Load test of the web demo on loopback: N concurrent gradio_client clients × M questions each.

    nice -n 10 python -m benchmarks.load_test [--clients 20] [--questions 5] [--index DIR] [--out FILE]

Starts `python app.py` on 127.0.0.1 at a free port, waits for it, runs the clients, and reports errors,
p50/p95/max latency, throughput and the server's peak RSS (sampled with psutil, children included).
Bounded: every request has a timeout and the whole run a deadline; the server is stopped at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil

REPO_ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [  # (question, a substring of the right answer) on data/sample_movies.csv
    ("Who directed Jaws?", "Spielberg"),
    ("Who directed The Godfather?", "Coppola"),
    ("What year was Inception released?", "2010"),
    ("Who starred in Casablanca?", "Bogart"),
    ("Who directed Alien?", "Scott"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"error: app.py exited with code {proc.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"error: app.py did not answer on {url} within {timeout_s:.0f} s")


class RssSampler(threading.Thread):
    """Peak resident memory of a process tree, sampled every `every_s` seconds."""

    def __init__(self, pid: int, every_s: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.proc, self.every_s, self.peak, self.stop = psutil.Process(pid), every_s, 0, threading.Event()

    def rss(self) -> int:
        try:
            procs = [self.proc, *self.proc.children(recursive=True)]
            return sum(p.memory_info().rss for p in procs if p.is_running())
        except psutil.Error:
            return 0

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, self.rss())
            self.stop.wait(self.every_s)


def run_client(url: str, questions: list[tuple[str, str]], deadline: float, request_timeout_s: float,
               results: list[dict]) -> None:
    from gradio_client import Client  # deferred: heavy (httpx, huggingface_hub), only once clients start

    try:
        client = Client(url, verbose=False)
    except Exception as exc:
        results.extend({"ok": False, "error": f"connect: {exc}", "latency_s": None} for _ in questions)
        return
    for question, expected in questions:
        if time.monotonic() > deadline:
            results.append({"ok": False, "error": "run deadline passed", "latency_s": None})
            continue
        start = time.perf_counter()
        try:
            job = client.submit(question, 5, 0.0, 0.9, 24, None, None, [], api_name="/ask")
            reply = job.result(timeout=min(request_timeout_s, max(1.0, deadline - time.monotonic())))
            answer = reply[0]["content"] if isinstance(reply, list) else str(reply)
            sourced = isinstance(reply, list) and len(reply) == 2 and "Sources" in reply[1]["metadata"]["title"]
            results.append({"ok": bool(answer) and sourced, "error": None if sourced else f"no sources: {reply!r:.200}",
                            "latency_s": time.perf_counter() - start, "correct": expected.lower() in answer.lower()})
        except Exception as exc:
            results.append({"ok": False, "error": f"{type(exc).__name__}: {exc}",
                            "latency_s": time.perf_counter() - start})


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    p.add_argument("--questions", type=int, default=5, help="questions per client (default 5)")
    p.add_argument("--index", help="index folder passed to app.py (default: its sample index)")
    p.add_argument("--deadline", type=float, default=1200, help="whole-run limit in seconds (default 1200)")
    p.add_argument("--request-timeout", type=float, default=600, help="per-request limit in seconds")
    p.add_argument("--out", default=str(REPO_ROOT / "runs" / "load_test.json"), help="JSON report path")
    return p.parse_args(argv)


def _start_server(port: int, index: str | None) -> subprocess.Popen:
    cmd = [sys.executable, str(REPO_ROOT / "app.py"), "--port", str(port), "--host", "127.0.0.1", "--no-progress"]
    if index:
        cmd += ["--index", index]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    return subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _run_clients(url: str, args: argparse.Namespace) -> tuple[list[dict], float]:
    """(one result per finished request, wall seconds): every client asks its questions in turn."""
    per_client = [QUESTIONS[(c + i) % len(QUESTIONS)] for c in range(args.clients) for i in range(args.questions)]
    results: list[dict] = []
    deadline = time.monotonic() + args.deadline
    start = time.perf_counter()
    threads = [threading.Thread(target=run_client, daemon=True, args=(
        url, per_client[c * args.questions:(c + 1) * args.questions], deadline, args.request_timeout, results))
        for c in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()) + 30)
    return results, time.perf_counter() - start


def _report(args: argparse.Namespace, results: list[dict], wall_s: float, server: dict) -> dict:
    latencies = sorted(r["latency_s"] for r in results if r["ok"])
    errors = [r["error"] for r in results if not r["ok"]]
    expected = args.clients * args.questions
    return {
        "clients": args.clients, "questions_per_client": args.questions, "requests": expected,
        "completed": len(results), "errors": len(errors) + (expected - len(results)),
        "error_examples": errors[:5], "correct": sum(1 for r in results if r.get("correct")),
        "latency_p50_s": round(percentile(latencies, 50), 2) if latencies else None,
        "latency_p95_s": round(percentile(latencies, 95), 2) if latencies else None,
        "latency_max_s": round(latencies[-1], 2) if latencies else None,
        "wall_s": round(wall_s, 1), "throughput_qps": round(len(latencies) / wall_s, 2) if wall_s else None,
        **server, "cpu_count": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if not (1 <= args.clients <= 100 and 1 <= args.questions <= 50):
        print("error: --clients must be 1..100 and --questions 1..50", file=sys.stderr)
        return 2

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    server = _start_server(port, args.index)
    try:
        t0 = time.perf_counter()
        wait_for(url, server, timeout_s=300)
        startup_s = time.perf_counter() - t0
        sampler = RssSampler(server.pid)
        idle_rss = sampler.rss()
        sampler.start()
        results, wall_s = _run_clients(url, args)
        sampler.stop.set()
        sampler.join()
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    report = _report(args, results, wall_s, {
        "server_startup_s": round(startup_s, 1),
        "server_rss_idle_mb": round(idle_rss / 2**20), "server_rss_peak_mb": round(sampler.peak / 2**20)})
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0 if report["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
