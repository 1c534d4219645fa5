"""index.detect: the delimiter sniffer, the size limit and gzip-bomb stop, encodings without a BOM or mixed, and
reads that fail (permission denied cannot be staged with chmod when the tests run as root, so open() is replaced)."""
from __future__ import annotations

import builtins
import errno
import gzip
import os

import pytest

from core.errors import CatalogError
from index.detect import decode, read_bytes, sniff_delimiter


@pytest.mark.parametrize("text, delimiter", [
    ("title,year\nJaws,1975\n", ","),
    ("title;year\nJaws;1975\n", ";"),
    ("title\tyear\nJaws\t1975\n", "\t"),
    ("title|year|directors\nJaws|1975|Steven Spielberg\n", "|"),
    ('title;plot\nJaws;"A shark, a town, a summer"\n', ";"),  # commas inside fields do not fool it
    ("title,directors\nJaws,Steven Spielberg|Someone Else\n", ","),  # nor "|"-separated lists in a CSV
    ("title\nJaws\n", ","),  # one column: nothing to split
    ("colour;size\nred;3\n", ";"),  # no title column: the consistent split still wins
])
def test_sniff_delimiter(text, delimiter):
    assert sniff_delimiter(text) == delimiter


def test_size_limit_plain_and_gzip(tmp_path):
    plain = tmp_path / "big.csv"
    plain.write_bytes(b"title\n" + b"Film\n" * 1000)
    with pytest.raises(CatalogError, match="more than the catalog size limit"):
        read_bytes(str(plain), limit=1000)
    packed = tmp_path / "big.csv.gz"
    packed.write_bytes(gzip.compress(os.urandom(3000).hex().encode()))  # 2-fold: no bomb, only too big
    with pytest.raises(CatalogError, match="decompresses to more than 5,000 bytes"):
        read_bytes(str(packed), limit=5000)
    assert read_bytes(str(packed)) == gzip.decompress(packed.read_bytes())


def test_gzip_bomb_stops_early(tmp_path):
    bomb = tmp_path / "bomb.gz"
    bomb.write_bytes(gzip.compress(b"\0" * (1 << 20)) * 200)  # 200 MiB of zeros in 200 KB
    with pytest.raises(CatalogError, match=r"more than 500-fold \(a gzip bomb") as err:
        read_bytes(str(bomb))
    stopped_at = int(str(err.value).rsplit("stopped at ", 1)[1].split()[0].replace(",", ""))
    assert stopped_at < 80 << 20


def test_permission_denied(tmp_path, monkeypatch):
    path = tmp_path / "m.csv"
    path.write_bytes(b"title\nJaws\n")
    real_open = builtins.open

    def denied(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(file))
        return real_open(file, *args, **kwargs)
    monkeypatch.setattr(builtins, "open", denied)
    with pytest.raises(CatalogError, match=f"{path}: cannot read \\(Permission denied\\)"):
        read_bytes(str(path))


def test_decode_without_bom_and_mixed():
    assert decode("title\nAmélie\n".encode("utf-16-le"), "x") == "title\nAmélie\n"
    assert decode("title\nAmélie\n".encode("utf-16-be"), "x") == "title\nAmélie\n"
    mixed = "title\nAmélie\n".encode() + "Le Dîner de cons\n".encode("cp1252")
    assert decode(mixed, "x") == "title\nAmélie\nLe Dîner de cons\n"
    assert decode(b"title\nJaws \x1b[1mbold\x1b[0m\n", "x")  # a few escapes are text, not binary
    with pytest.raises(CatalogError, match="binary data"):
        decode(bytes(range(1, 32)) * 10, "x")
