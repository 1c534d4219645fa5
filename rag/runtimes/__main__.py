"""Prepare the serving runtimes offline: `python -m rag.runtimes` (run by `make setup`).

Converts the default generator (the shipped adapter merged into the bundled SmolLM2) and the plot generator (the
plot adapter's view, when shipped) for the runtime settings.decoding.generator_runtime picks, and exports the
embedder for settings.models.embedder_backend, into settings.models.cache_dir, so the demo's first answer does not
wait for them. All are cached by content: a second run only checks the fingerprints.
"""
from __future__ import annotations

import argparse
import sys
import time

from core.config import Settings
from core.flags import add_settings_flags, run_command, settings_from_args
from core.models import load_embedder, load_generator, load_plot_generator


def prepare(settings: Settings) -> int:
    from rag.generate import Generator  # deferred: heavy

    start = time.perf_counter()
    model, tokenizer, spec = load_generator(settings)
    generator = Generator(model, tokenizer, settings)
    where = getattr(generator, "model_dir", None)
    print(f"generator: {spec.name} on {generator.runtime}" + (f" ({where})" if where else ""))
    plot = load_plot_generator(settings, model, tokenizer, spec)
    if plot is not None:  # the plot adapter's view converts on its own (merged) weights
        plot_generator = Generator(plot[0], plot[1], settings)
        print(f"plot generator: {plot[2].name} on {plot_generator.runtime}")
    embedder = load_embedder(settings)
    print(f"embedder: {settings.models.embedder} on {getattr(embedder, 'backend', 'torch')}")
    print(f"ready in {time.perf_counter() - start:.1f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag.runtimes", description=__doc__.splitlines()[0])
    add_settings_flags(parser, fields=("generator", "generator_runtime", "ct2_compute_type", "embedder_backend",
                                       "cache_dir", "progress"))
    args = parser.parse_args(argv)
    return run_command(lambda: prepare(settings_from_args(args, Settings().with_overrides(progress=False))))


if __name__ == "__main__":
    sys.exit(main())
