"""The baseline index every catalogue run copies (built once, with the tests' fast hash embedder)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.harness import build_baseline


@pytest.fixture(scope="session")
def baseline_index(tmp_path_factory) -> Path:
    return build_baseline(tmp_path_factory.mktemp("reliability"))
