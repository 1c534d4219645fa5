"""The bad-input catalogue (tests/reliability/cases*.py) through `python -m index add|build`: each case gives its
expected outcome, a one-line error with the index byte-identical or a clean import of a whole index; never a
traceback or a partial index. `python -m tests.reliability.run` prints the same runs as a table."""
from __future__ import annotations

from collections import Counter

import pytest

from tests.reliability.cases import CASES
from tests.reliability.catalogue import EXPECT_ERROR, EXPECT_IMPORT
from tests.reliability.harness import OPS, SKIPPED, run_case


def test_catalogue_is_broad():
    categories = Counter(c.category for c in CASES)
    assert len(CASES) >= 50 and len({c.name for c in CASES}) == len(CASES)
    assert set(categories) == {"encodings", "delimiters", "structure", "values", "json", "compressed", "binary",
                               "paths", "hostile text"}
    assert {c.expect for c in CASES} == {EXPECT_ERROR, EXPECT_IMPORT}


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case, op, baseline_index, tmp_path):
    outcome = run_case(case, op, tmp_path, baseline_index)
    if outcome.result == SKIPPED:
        pytest.skip(outcome.line)
    assert outcome.ok, f"{case.name} ({op}): {'; '.join(outcome.problems)} | {outcome.line}"
