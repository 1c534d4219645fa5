import csv

import pytest

from cli.main import rag_main as main
from core.config import Settings
from core.errors import CompareError
from evaluation.compare import compare_runs

COLUMNS = ["id", "type", "question", "entity", "gold", "rag_answer", "rag_hits@1", "rag_any_hit", "rag_em", "rag_f1",
           "rag_bertscore_f1", "rag_bertscore_f1_rescaled"]


def write_run(folder, rows):
    """rows: (type, question, gold, hits@1, bertscore_f1)."""
    folder.mkdir()
    with open(folder / "per_question.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for i, (qtype, question, gold, hit, bs) in enumerate(rows):
            writer.writerow([i, qtype, question, "", gold, "x", hit, hit, hit, hit, bs, ""])
    return folder


def test_compare_pairs_by_question_and_reports_b_minus_a(tmp_path):
    a = write_run(tmp_path / "a", [("director", "who directed X?", "Ann", 0.0, 0.5),
                                   ("director", "who directed Y?", "Bo", 1.0, 0.9),
                                   ("year", "when was X released?", "1999", 0.0, 0.4),
                                   ("year", "only in a", "2000", 1.0, 1.0)])
    b = write_run(tmp_path / "b", [("year", "when was X released?", "1999", 1.0, 0.8),  # another order
                                   ("director", "who directed Y?", "Bo", 1.0, 0.9),
                                   ("director", "who directed X?", "Ann", 1.0, 0.7)])
    result = compare_runs(a, b, settings=Settings())
    overall = result["overall"]
    assert overall["n"] == 3 and result["only_a"] == 1 and result["only_b"] == 0
    assert overall["hits@1"]["a"] == pytest.approx(1 / 3) and overall["hits@1"]["b"] == 1.0
    assert overall["hits@1"]["delta"] == pytest.approx(2 / 3)
    assert overall["bertscore_f1"]["delta"] == pytest.approx((0.2 + 0.0 + 0.4) / 3)
    assert "bertscore_f1_rescaled" not in overall  # empty cells are skipped, not zeros
    assert result["by_type"]["year"]["hits@1"]["delta"] == 1.0
    assert result["by_type"]["director"]["n"] == 2


def test_compare_errors_are_one_line(tmp_path, capsys):
    a = write_run(tmp_path / "a", [("t", "q1", "g", 1.0, 0.5)])
    b = write_run(tmp_path / "b", [("t", "q2", "g", 1.0, 0.5)])
    with pytest.raises(CompareError, match="share no questions"):
        compare_runs(a, b, settings=Settings())
    with pytest.raises(CompareError, match="no 'plain' answers"):
        compare_runs(a, b, mode="plain", settings=Settings())
    assert main(["compare", str(a), str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "per_question.csv not found" in err and "\n" not in err


def test_compare_cli_writes_json(tmp_path, capsys):
    a = write_run(tmp_path / "a", [("t", "q1", "g", 0.0, 0.5), ("t", "q2", "g", 1.0, 0.5)])
    b = write_run(tmp_path / "b", [("t", "q1", "g", 1.0, 0.6), ("t", "q2", "g", 1.0, 0.5)])
    out = tmp_path / "cmp.json"
    assert main(["compare", str(a), str(b), "--out", str(out)]) == 0
    assert "| overall | 2 | hits@1 | 0.500 | 1.000 | +0.500" in capsys.readouterr().out
    assert out.is_file()
