"""Headline numbers: flatten section results into the JSON's top-level keys, check them against the issue's
targets, and print readable tables."""
from __future__ import annotations

from benchmarks.common import ratio

# key → (comparison, target, unit, label)
TARGETS = {
    "retrieval_hybrid_linked_p50_ms": ("<=", 10.0, "ms", "retrieval p50 (hybrid + title linking)"),
    "retrieval_hybrid_p50_ms": ("<=", 10.0, "ms", "retrieval p50 (hybrid)"),
    "answer_rag_p50_s": ("<=", 0.8, "s", "RAG answer p50"),
    "first_token_p50_s": ("<=", 0.4, "s", "first streamed token p50"),
    "build_ratio_vs_raw_encode": (">=", 2.0, "x", "index build vs raw torch encode throughput"),
    "speedup_vs_naive": (">=", 5.0, "x", "speedup vs naive pipeline (one question at a time)"),
    "add_reembedded_existing": ("==", 0, "", "existing passages re-embedded by add"),
    "first_token_ratio_vs_torch": ("<=", 0.5, "x", "first streamed token p50 / today's torch path"),
    "retrieval_hybrid_ratio_vs_torch": ("<=", 0.25, "x", "unlinked hybrid retrieval p50 / today's torch path"),
}


def headline(sections: dict) -> dict:
    """The top-level keys of the result JSON, from whichever sections ran (missing ones → None)."""
    out: dict = {}
    build = sections.get("build") or {}
    out["build_ratio_vs_raw_encode"] = build.get("build_ratio_vs_raw_encode")
    out["build_passages_per_s"] = build.get("build_passages_per_s")
    out["raw_encode_passages_per_s"] = build.get("raw_passages_per_s")
    out["build_peak_rss_mb"] = build.get("peak_rss_build_mb")
    add = sections.get("add") or {}
    out["add_films"] = add.get("films")
    out["add_seconds"] = add.get("seconds")
    out["add_reembedded_existing"] = add.get("reembedded_existing")
    retrieval = sections.get("retrieval") or {}
    for name in ("query_encode", "dense", "bm25", "hybrid", "hybrid_linked"):
        for q in ("p50", "p95"):
            out[f"retrieval_{name}_{q}_ms"] = (retrieval.get(name) or {}).get(q)
    answers = sections.get("answers") or {}
    out["answer_rag_p50_s"] = (answers.get("sequential") or {}).get("p50")
    out["answer_rag_p95_s"] = (answers.get("sequential") or {}).get("p95")
    out["first_token_p50_s"] = (answers.get("first_token") or {}).get("p50")
    out["first_token_p95_s"] = (answers.get("first_token") or {}).get("p95")
    out["batched_questions_per_s"] = answers.get("batched_questions_per_s")
    out["answer_rag_hits_at_1"] = answers.get("hits_at_1")
    naive = sections.get("naive") or {}
    out["naive_answer_p50_s"] = (naive.get("per_answer") or {}).get("p50")
    out["naive_hits_at_1"] = naive.get("hits_at_1")
    ours_total = naive.get("ours_paired_total_s") or answers.get("sequential_total_s")  # paired when measured so
    out["speedup_vs_naive"] = ratio(naive.get("total_s"), ours_total, 2)
    out["speedup_vs_naive_batched"] = ratio(naive.get("total_s"), answers.get("batched_total_s"), 2)
    memory = sections.get("memory") or {}
    out["app_peak_rss_mb"] = memory.get("peak_rss_mb")
    out["app_peak_rss_method"] = memory.get("method")
    out.update(_runtime_headline(sections, answers))
    return out


def _p50(section: dict, *path: str):
    for key in path:
        section = section.get(key) if isinstance(section, dict) else None
    return section.get("p50") if isinstance(section, dict) else None


def _runtime_headline(sections: dict, answers: dict) -> dict:
    """Issue 17's figures: the default runtime against today's torch path (same run), the time breakdown, the
    memory bandwidth and the floor per token."""
    paths = sections.get("torch_path") or {}
    rt = sections.get("runtimes") or {}
    parts = sections.get("breakdown") or {}
    floor = rt.get("floor") or {}
    out = {"generator_runtime": answers.get("runtime"), "embedder_backend": answers.get("embedder_backend"),
           "answer_torch_p50_s": _p50(paths, "torch", "answer_s"),
           "answer_new_paired_p50_s": _p50(paths, "new", "answer_s"),
           "first_token_torch_p50_s": _p50(paths, "torch", "first_token_s"),
           "first_token_new_paired_p50_s": _p50(paths, "new", "first_token_s"),
           "retrieval_hybrid_unlinked_torch_p50_ms": _p50(paths, "torch", "hybrid_unlinked_ms"),
           "retrieval_hybrid_unlinked_new_p50_ms": _p50(paths, "new", "hybrid_unlinked_ms"),
           "answer_speedup_vs_torch": paths.get("answer_speedup_vs_torch"),
           "first_token_ratio_vs_torch": paths.get("first_token_ratio_vs_torch"),
           "retrieval_hybrid_ratio_vs_torch": paths.get("hybrid_unlinked_ratio_vs_torch"),
           "hits_at_1_torch_paired": (paths.get("torch") or {}).get("hits_at_1"),
           "hits_at_1_new_paired": (paths.get("new") or {}).get("hits_at_1"),
           "memory_read_gb_s": (rt.get("memory_bandwidth") or {}).get("read_gb_s"),
           "decode_floor_fp32_ms_per_token": floor.get("fp32_floor_ms_per_token"),
           "decode_floor_int8_ms_per_token": floor.get("int8_floor_ms_per_token")}
    for name in ("new", "torch"):
        out[f"decode_ms_per_token_{name}"] = _p50(parts, name, "decode_ms_per_token")
    return out


def _meets(value, op: str, target) -> bool:
    return value <= target if op == "<=" else value >= target if op == ">=" else value == target


def check_targets(head: dict) -> dict:
    out = {}
    for key, (op, target, unit, label) in TARGETS.items():
        value = head.get(key)
        ok = None if value is None else _meets(value, op, target)
        out[key] = {"label": label, "value": value, "target": f"{op} {target}{unit and ' ' + unit}", "met": ok}
    return out


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def table(rows: list[tuple], headers: tuple) -> str:
    cells = [tuple(_fmt(c) for c in r) for r in rows]
    widths = [max([len(str(h))] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths))
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def summary_text(result: dict) -> str:
    """Readable tables of a main run: targets, then everything else measured."""
    met = {True: "yes", False: "NO", None: "-"}
    targets = [(t["label"], t["value"], t["target"], met[t["met"]]) for t in result.get("targets", {}).values()]
    parts = ["Targets (issues 8 and 17)", table(targets, ("figure", "value", "target", "met"))]
    skip = {"command", "machine", "settings", "sections", "targets", "started_at", "finished_at", "index",
            "questions_source", "section_seconds", "failed_sections"}
    rest = [(k, v) for k, v in result.items() if k not in skip and not isinstance(v, (dict, list))]
    parts += ["", "All headline numbers", table(rest, ("key", "value"))]
    levers = (result.get("sections") or {}).get("levers") or {}
    rows = [(name, r.get("answer", {}).get("p50"), r.get("answer", {}).get("p95"), r.get("hits_at_1"),
             r.get("speedup_vs_baseline"), r.get("error") or r.get("what")) for name, r in levers.items()
            if isinstance(r, dict)]
    if rows:
        parts += ["", f"Levers ({levers.get('_questions')} questions each)",
                  table(rows, ("lever", "p50 s", "p95 s", "hits@1", "speedup", "what"))]
    threads = ((result.get("sections") or {}).get("retrieval") or {}).get("threads_ms") or {}
    if threads:
        other = threads.get("threads_other", 1)
        rows = [(part, threads[f"{part}_default"]["p50"], threads[f"{part}_threads_{other}"]["p50"])
                for part in ("encode", "faiss")]
        this_run = f"this run ({threads['torch_threads_default']} torch/{threads['faiss_threads_default']} faiss)"
        parts += ["", "Retrieval threads (p50 ms)", table(rows, ("", this_run, f"{other} thread(s)"))]
    onnx = (result.get("sections") or {}).get("onnx") or {}
    if onnx.get("query_encode_ms"):
        q = onnx["query_encode_ms"]
        parts += ["", "ONNX embedder lever", table([
            ("query encode p50 ms", q["torch"]["p50"], q["onnx"]["p50"]),
            ("passages/s", onnx["passages_per_s"]["torch"], onnx["passages_per_s"]["onnx"])], ("", "torch", "onnx"))]
    if onnx:
        parts.append(f"sentence-transformers backend='onnx': {onnx.get('st_backend_onnx')}")
    parts += _runtime_text(result.get("sections") or {})
    machine = result.get("machine") or {}
    parts += ["", f"machine: {machine.get('cpu_count')} cpus, torch threads {machine.get('torch_threads')}, "
              f"load {machine.get('load_avg_1_5_15')}; wall {result.get('wall_s')} s"]
    return "\n".join(parts)


def scaling_text(result: dict) -> str:
    rows = [(r["passages"], r["build_s_flat_estimated"], r["build_s_hnsw_estimated"], r["faiss_hnsw_build_s"],
             r["dense_flat_ms"]["p50"], r["dense_hnsw_ms"]["p50"], r["bm25_ms"]["p50"],
             r["hybrid_linked_flat_ms"]["p50"], r["hybrid_linked_hnsw_ms"]["p50"], r[f"hnsw_recall_at_{result['k']}"])
            for r in result["rows"]]
    head = ("passages", "build s flat*", "build s hnsw*", "hnsw add s", "flat p50 ms", "hnsw p50 ms", "bm25 p50 ms",
            "hybrid flat ms", "hybrid hnsw ms", f"recall@{result['k']}")
    return (table(rows, head) + f"\n* embedding estimated at {result['embed_passages_per_s']} passages/s (measured); "
            f"query encode p50 {result['query_encode_ms']['p50']} ms is added to every dense/hybrid search in practice")


def _runtime_text(sections: dict) -> list[str]:
    """Tables of the torch-vs-runtime sections: paired paths, where the time goes, engines side by side."""
    parts: list[str] = []
    paths = sections.get("torch_path") or {}
    if paths.get("new"):
        rows = [(f"{paths[n].get('runtime')} + {paths[n].get('embedder_backend')} encoder", _p50(paths, n, "answer_s"),
                 _p50(paths, n, "first_token_s"), _p50(paths, n, "hybrid_unlinked_ms"), paths[n].get("hits_at_1"))
                for n in ("torch", "new")]
        parts += ["", f"Today's torch path vs the default ({paths.get('questions')} questions, paired)",
                  table(rows, ("path", "answer p50 s", "first token p50 s", "hybrid unlinked p50 ms", "hits@1"))]
    breakdown = sections.get("breakdown") or {}
    if breakdown.get("new"):
        stages = ("encode", "search", "plan", "prompt", "prefill", "decode", "post", "total")
        rows = [(breakdown[n].get("runtime"), *(_p50(breakdown, n, s) for s in stages),
                 _p50(breakdown, n, "decode_ms_per_token")) for n in ("torch", "new") if breakdown.get(n)]
        parts += ["", "Where the time goes (p50 ms per answer)", table(rows, ("runtime", *stages, "ms/token"))]
    runtimes = sections.get("runtimes") or {}
    if runtimes.get("engines"):
        rows = [(name, _p50(e, "prefill_ms"), _p50(e, "decode_ms_per_token"), e.get("decode_speedup_vs_torch"),
                 e.get("same_first_token_as_torch"), e.get("error")) for name, e in runtimes["engines"].items()]
        bw, floor = runtimes.get("memory_bandwidth") or {}, runtimes.get("floor") or {}
        parts += ["", f"Generator runtimes ({runtimes.get('prompts')} prompts)",
                  table(rows, ("engine", "prefill p50 ms", "decode ms/token", "decode speedup", "same 1st token",
                               "error")),
                  f"memory read {bw.get('read_gb_s')} GB/s (copy {bw.get('copy_gb_s')}): floor per token "
                  f"{floor.get('fp32_floor_ms_per_token')} ms fp32 ({floor.get('fp32_mb_per_token')} MB), "
                  f"{floor.get('int8_floor_ms_per_token')} ms int8 ({floor.get('int8_mb_per_token')} MB)"]
    return parts
