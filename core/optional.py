"""Optional packages (the faster runtimes and backends): imported only when chosen, and a missing one is a
one-line ModelUnavailable that says what to install and which flag falls back to torch."""
from __future__ import annotations

import importlib
from types import ModuleType

from core.errors import ModelUnavailable


def require(module: str, purpose: str, pip_spec: str, fallback: str) -> ModuleType:
    """Import `module`, or raise ModelUnavailable: "<purpose> needs the <module> package: pip install <pip_spec>
    (or <fallback>)"."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ModelUnavailable(f"{purpose} needs the {module} package: pip install {pip_spec} (or {fallback})") from exc
