"""Speed and memory measurements, JSON out: `python -m benchmarks --index DIR --out FILE.json`. A shell at the
top of the layers, like cli/: it times the library's own functions against a naive peer pipeline."""
