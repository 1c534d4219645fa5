"""Load test of the web demo on loopback: N concurrent gradio_client clients × M questions each on its /ask API.

    nice -n 10 python -m benchmarks.load_test [--clients 50] [--questions 10] [--index DIR] [--out FILE]
    python -m benchmarks.load_test --clients 10 --questions 10 --index DIR --rebuild-with films.csv --rebuild-at 20
    python -m benchmarks.load_test --clients 20 --questions 5 --path torch   # today's path, for the ratio

Starts `python app.py` on 127.0.0.1 at a free port (default: the shipped catalog index), waits for it, runs the
clients, and reports errors, p50/p95/max latency, throughput and the server's resident memory: VmRSS (from
/proc/<pid>/status) when the `--rss-mark`-th request finished and after the last, and its growth between the two
(the target is ≤ 10%). `--rebuild-with` uploads a catalog to the /rebuild API once `--rebuild-at` requests have
finished, while the clients keep asking: the report counts the answers that arrived during the rebuild and checks
that every answer's sources come from one index, the old or the new (the upload's titles must not be in the old).
Bounded: every request has a timeout and the whole run a deadline; the server is stopped at the end.
"""
from __future__ import annotations

import argparse
import csv
import html
import json
import os
import re
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
QUESTIONS = [  # (question, a substring of the right answer): in the shipped catalog and in data/sample_movies.csv
    ("Who directed Jaws?", "Spielberg"),
    ("Who directed The Godfather?", "Coppola"),
    ("What year was Inception released?", "2010"),
    ("Who starred in Casablanca?", "Bogart"),
    ("Who directed Alien?", "Scott"),
    ("Who directed Pulp Fiction?", "Tarantino"),
    ("What year was Jurassic Park released?", "1993"),
    ("Who directed Goodfellas?", "Scorsese"),
    ("Who starred in Forrest Gump?", "Hanks"),
    ("What genre is The Shining?", "Horror"),
]
PATHS = {"default": [],  # app.py's flags per serving path (--path)
         "torch": ["--generator-runtime", "torch", "--embedder-backend", "torch", "--micro-batch-ms", "0"]}
ASK_ARGS = (5, 0.0, 0.9, 24, None, None, [])  # the Ask tab's other inputs: k, sampling, max new tokens, years, genres
_SOURCE_HEAD = re.compile(r"<b>\d+\. (.*?)(?: \((?:\d{4})\))?</b>")


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


def vm_rss_bytes(pid: int) -> int | None:
    """The process's resident set (VmRSS in /proc/<pid>/status), or None where there is no such file."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


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


def source_titles(sources_html: str) -> list[str]:
    """The film titles of a sources message (rag.ui.render_sources: `<b>1. Title (year)</b>` heads)."""
    return [html.unescape(t) for t in _SOURCE_HEAD.findall(sources_html or "")]


def run_client(url: str, questions: list[tuple[str, str]], deadline: float, request_timeout_s: float,
               results: list[dict], on_result=None) -> None:
    """Ask `questions` in turn through one gradio_client Client, appending one result dict per question;
    `on_result(result)` is called after each (the load run's bookkeeping)."""
    from gradio_client import Client  # deferred: heavy (httpx, huggingface_hub), only once clients start

    def done(result: dict) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    try:
        client = Client(url, verbose=False)
    except Exception as exc:
        for _ in questions:
            done({"ok": False, "error": f"connect: {exc}", "latency_s": None})
        return
    for question, expected in questions:
        if time.monotonic() > deadline:
            done({"ok": False, "error": "run deadline passed", "latency_s": None})
            continue
        start = time.perf_counter()
        try:
            job = client.submit(question, *ASK_ARGS, api_name="/ask")
            reply = job.result(timeout=min(request_timeout_s, max(1.0, deadline - time.monotonic())))
            answer = reply[0]["content"] if isinstance(reply, list) else str(reply)
            sourced = isinstance(reply, list) and len(reply) == 2 and "Sources" in reply[1]["metadata"]["title"]
            done({"ok": bool(answer) and sourced, "error": None if sourced else f"no sources: {reply!r:.200}",
                  "latency_s": time.perf_counter() - start, "end": time.monotonic(),
                  "correct": expected.lower() in answer.lower(),
                  "titles": source_titles(reply[1]["content"]) if sourced else []})
        except Exception as exc:
            done({"ok": False, "error": f"{type(exc).__name__}: {exc}", "latency_s": time.perf_counter() - start})


def percentile(values: list[float], q: int) -> float | None:
    if not values:
        return None
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


class Rebuild(threading.Thread):
    """One /rebuild call with `catalog` (an upload of the Index tab), timed, on its own client."""

    def __init__(self, url: str, catalog: str, timeout_s: float) -> None:
        super().__init__(daemon=True)
        self.url, self.catalog, self.timeout_s = url, catalog, timeout_s
        self.start_t = self.end_t = None
        self.message = None

    def run(self) -> None:
        from gradio_client import Client, handle_file  # deferred: heavy

        self.start_t = time.monotonic()
        try:
            job = Client(self.url, verbose=False).submit([handle_file(self.catalog)], api_name="/rebuild")
            self.message = str(job.result(timeout=self.timeout_s)[0])
        except Exception as exc:
            self.message = f"error: {type(exc).__name__}: {exc}"
        self.end_t = time.monotonic()


def catalog_titles(path: str) -> set[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["title"] for row in csv.DictReader(fh) if row.get("title")}


def rebuild_report(rebuild: Rebuild, results: list[dict]) -> dict:
    """Answers that finished while the rebuild ran, and how many answers mixed the old and the new index."""
    new = catalog_titles(rebuild.catalog)
    end = rebuild.end_t or time.monotonic()
    during = [r for r in results if r["ok"] and rebuild.start_t is not None and rebuild.start_t <= r["end"] <= end]
    after = [r for r in results if r["ok"] and r["end"] > end]
    mixed = [r["titles"] for r in results if r["ok"] and {t in new for t in r["titles"]} == {True, False}]
    return {"message": rebuild.message, "seconds": round(end - rebuild.start_t, 1) if rebuild.start_t else None,
            "answers_during": len(during), "answers_after": len(after),
            "answers_after_from_new_index": sum(1 for r in after if r["titles"] and set(r["titles"]) <= new),
            "answers_mixing_indexes": len(mixed), "mixed_examples": mixed[:3]}


def run_load(url: str, clients: int, questions: int, *, server_pid: int | None = None, deadline_s: float = 3600,
             request_timeout_s: float = 1200, rss_mark: int = 50, rebuild_with: str | None = None,
             rebuild_at: int = 20) -> dict:
    """`clients` concurrent clients ask `questions` questions each (QUESTIONS in turn, offset per client) on the
    demo at `url`. Returns the report: errors, latencies, throughput, and the VmRSS of `server_pid` (when given)
    at request `rss_mark` and after the last; with `rebuild_with`, a rebuild from that catalog starts once
    `rebuild_at` requests have finished (see the module docstring)."""
    plan = [[QUESTIONS[(c + i) % len(QUESTIONS)] for i in range(questions)] for c in range(clients)]
    results: list[dict] = []
    lock, rss_at, finished, rebuild = threading.Lock(), {}, [0], None
    if rebuild_with:
        rebuild = Rebuild(url, rebuild_with, request_timeout_s)

    def on_result(_result: dict) -> None:
        with lock:
            finished[0] += 1
            n = finished[0]
            if server_pid and n % rss_mark == 0:
                rss_at[n] = vm_rss_bytes(server_pid)
            if rebuild is not None and n == rebuild_at:
                rebuild.start()

    deadline = time.monotonic() + deadline_s
    start = time.perf_counter()
    threads = [threading.Thread(target=run_client, daemon=True,
                                args=(url, plan[c], deadline, request_timeout_s, results, on_result))
               for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()) + 30)
    wall_s = time.perf_counter() - start
    if rebuild is not None and rebuild.is_alive():
        rebuild.join(timeout=max(0.0, deadline - time.monotonic()) + 30)
    last_rss = vm_rss_bytes(server_pid) if server_pid else None
    report = summary(clients, questions, results, wall_s)
    report.update(rss_report(rss_at, rss_mark, last_rss))
    if rebuild is not None:
        report["rebuild"] = rebuild_report(rebuild, results)
    return report


def summary(clients: int, questions: int, results: list[dict], wall_s: float) -> dict:
    latencies = sorted(r["latency_s"] for r in results if r["ok"])
    errors = [r["error"] for r in results if not r["ok"]]
    expected = clients * questions

    def rounded(x):
        return round(x, 2) if x is not None else None

    return {"clients": clients, "questions_per_client": questions, "requests": expected, "completed": len(results),
            "errors": len(errors) + (expected - len(results)), "error_examples": errors[:5],
            "correct": sum(1 for r in results if r.get("correct")),
            "latency_p50_s": rounded(percentile(latencies, 50)), "latency_p95_s": rounded(percentile(latencies, 95)),
            "latency_max_s": rounded(latencies[-1] if latencies else None), "wall_s": round(wall_s, 1),
            "throughput_qps": round(len(latencies) / wall_s, 2) if wall_s else None, "cpu_count": os.cpu_count()}


def rss_report(rss_at: dict[int, int | None], mark: int, last: int | None) -> dict:
    """VmRSS at the mark-th request and after the last (MB), its growth, and every mark-th request's VmRSS."""
    at_mark = rss_at.get(mark)
    growth = (last - at_mark) / at_mark if at_mark and last else None
    return {"rss_mark_request": mark, "server_rss_at_mark_mb": round(at_mark / 2**20) if at_mark else None,
            "server_rss_last_mb": round(last / 2**20) if last else None,
            "server_rss_growth": round(growth, 4) if growth is not None else None,
            "server_rss_by_request_mb": {n: round(v / 2**20) for n, v in sorted(rss_at.items()) if v}}


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    p.add_argument("--questions", type=int, default=10, help="questions per client (default 10)")
    p.add_argument("--index", help="index folder passed to app.py (default: its default, the shipped catalog)")
    p.add_argument("--generator", help="generator passed to app.py (default: its default, the shipped one)")
    p.add_argument("--path", choices=tuple(PATHS), default="default",
                   help="default: the app as shipped (CTranslate2, ONNX encoder, micro-batching); torch: today's path "
                        "(eager torch generator and encoder, each answer alone, 2 at a time)")
    p.add_argument("--deadline", type=float, default=3600, help="whole-run limit in seconds (default 3600)")
    p.add_argument("--request-timeout", type=float, default=1200, help="per-request limit in seconds")
    p.add_argument("--rss-mark", type=int, default=50, help="RSS growth is measured from this request on (50)")
    p.add_argument("--rebuild-with", help="a catalog CSV uploaded to /rebuild while the clients ask")
    p.add_argument("--rebuild-at", type=int, default=20, help="finished requests before the rebuild starts")
    p.add_argument("--out", default=str(REPO_ROOT / "runs" / "load_test.json"), help="JSON report path")
    return p.parse_args(argv)


def _start_server(port: int, index: str | None, generator: str | None = None,
                  path: str = "default") -> subprocess.Popen:
    cmd = [sys.executable, str(REPO_ROOT / "app.py"), "--port", str(port), "--host", "127.0.0.1", "--no-progress",
           *PATHS[path]]
    for flag, value in (("--index", index), ("--generator", generator)):
        if value:
            cmd += [flag, value]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    return subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if not (1 <= args.clients <= 100 and 1 <= args.questions <= 50 and args.rss_mark >= 1):
        print("error: --clients must be 1..100, --questions 1..50 and --rss-mark at least 1", file=sys.stderr)
        return 2
    if args.rebuild_with and not Path(args.rebuild_with).is_file():
        print(f"error: --rebuild-with: no such file: {args.rebuild_with}", file=sys.stderr)
        return 2

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    server = _start_server(port, args.index, args.generator, args.path)
    try:
        t0 = time.perf_counter()
        wait_for(url, server, timeout_s=600)
        startup_s = time.perf_counter() - t0
        idle_rss = vm_rss_bytes(server.pid)
        sampler = RssSampler(server.pid)
        sampler.start()
        report = run_load(url, args.clients, args.questions, server_pid=server.pid, deadline_s=args.deadline,
                          request_timeout_s=args.request_timeout, rss_mark=args.rss_mark,
                          rebuild_with=args.rebuild_with, rebuild_at=args.rebuild_at)
        sampler.stop.set()
        sampler.join()
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    report.update({"index": args.index or "default (the shipped catalog)", "generator": args.generator or "default",
                   "path": args.path, "app_flags": PATHS[args.path],
                   "server_startup_s": round(startup_s, 1),
                   "server_rss_idle_mb": round(idle_rss / 2**20) if idle_rss else None,
                   "server_rss_peak_mb": round(sampler.peak / 2**20)})
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    ok = report["errors"] == 0 and (report["server_rss_growth"] is None or report["server_rss_growth"] <= 0.10)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
