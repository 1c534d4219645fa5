"""Every catalogue case, in table order."""
from tests.reliability import cases_files, cases_text

CASES = cases_text.CASES + cases_files.CASES
