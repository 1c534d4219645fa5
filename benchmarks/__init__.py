"""Speed and memory benchmarks: `python -m benchmarks --index DIR --out FILE.json` (see benchmarks/__main__.py)."""
