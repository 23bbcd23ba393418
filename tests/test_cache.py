"""The disk cache of derived tables: a second process reads them back without pandas and gives
identical numbers; a damaged entry is rebuilt; STPSIM_CACHE=0 writes nothing (issue 10,
start-up)."""

import json
import os
import subprocess
import sys
import time

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

SCRIPT = """
import io, contextlib, json, sys
from stpsim import cli
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    code = cli.main(["run", "examples/greater_manchester.yaml", "--draws", "30", "--json"])
print(json.dumps({"code": code, "pandas": "pandas" in sys.modules, "doc": json.loads(buf.getvalue())}))
"""


def _run(env: dict) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=os.environ | env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_second_process_reads_the_cache_without_pandas_and_gets_the_same_numbers(tmp_path):
    env = {"STPSIM_CACHE_DIR": str(tmp_path), "STPSIM_CACHE": "1"}
    first = _run(env)
    entries = list(tmp_path.rglob("*.p5"))
    assert first["code"] == 0 and first["pandas"] is True
    assert any(p.name == "stpsim.demography.births_by_sex.p5" for p in entries)
    second = _run(env)
    assert second["pandas"] is False, "derived tables came from the cache, so pandas never loaded"
    assert second["doc"] == first["doc"]
    # A damaged entry is rebuilt, with the same numbers.
    proj = next(p for p in entries if p.name == "stpsim.demography.births_by_sex.p5")
    proj.write_bytes(b"not a pickle")
    third = _run(env)
    assert third["doc"] == first["doc"]
    assert proj.read_bytes() != b"not a pickle"


def test_the_cache_can_be_turned_off(tmp_path):
    result = _run({"STPSIM_CACHE_DIR": str(tmp_path), "STPSIM_CACHE": "0"})
    assert result["code"] == 0
    assert list(tmp_path.rglob("*")) == []


def test_a_digest_is_remembered_by_the_files_stats_and_rehashed_when_one_changes(tmp_path, monkeypatch):
    # The cache key and a record's data and code hashes are content hashes; a new process finds
    # them by the files' names, sizes and modification times instead of hashing every file.
    from stpsim import reference

    monkeypatch.setenv("STPSIM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("STPSIM_CACHE", raising=False)
    folder = tmp_path / "tables"
    folder.mkdir()
    for name, body in (("a.csv", "x,y\n1,2\n"), ("b.csv", "z\n3\n")):
        (folder / name).write_text(body)
    paths = sorted(folder.glob("*.csv"))
    first = reference.known_digest(paths, folder)
    assert first == reference.digest(paths, folder)
    hashed = []
    real = reference.digest
    monkeypatch.setattr(reference, "digest", lambda p, r: hashed.append(1) or real(p, r))
    assert reference.known_digest(paths, folder) == first and not hashed  # remembered: nothing read
    time.sleep(0.01)
    (folder / "b.csv").write_text("z\n4\n")  # same size, new bytes and modification time
    again = reference.known_digest(paths, folder)
    assert hashed and again == real(paths, folder) != first
    memo = next((tmp_path / "cache" / "digests").iterdir())
    for m in (tmp_path / "cache" / "digests").iterdir():
        m.write_text("not a hash")  # a damaged memo is hashed again, never believed
    assert reference.known_digest(paths, folder) == again
    assert memo.exists()
    monkeypatch.setenv("STPSIM_CACHE", "0")  # caches off: always the bytes
    hashed.clear()
    assert reference.known_digest(paths, folder) == again and hashed


@settings(max_examples=60, deadline=None)
@given(
    arrays=st.lists(
        hnp.arrays(
            st.sampled_from([np.float64, np.int64, np.uint8, np.dtype("<U9"), np.bool_]),
            hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6),
        ),
        max_size=4,
    ),
    transpose=st.booleans(),
)
def test_a_cache_entry_reads_back_what_was_written(tmp_path_factory, arrays, transpose):
    # Entries keep their arrays' bytes out of the pickle and read them back as views of the
    # mapped file: the same dtypes, shapes and values, in any memory order, and read-only.
    from stpsim.cache import read_entry, write_entry

    value = {"arrays": [a.T if transpose else a for a in arrays], "other": ("a", 1, 2.5, None)}
    path = tmp_path_factory.mktemp("entry") / "e.p5"
    write_entry(path, value)
    back = read_entry(path)
    assert back["other"] == value["other"]
    for a, b in zip(value["arrays"], back["arrays"], strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        assert not b.flags.writeable or b.size == 0


def test_a_damaged_cache_entry_is_refused(tmp_path):
    from stpsim.cache import read_entry, write_entry

    path = tmp_path / "e.p5"
    write_entry(path, {"x": np.arange(1000.0)})
    whole = path.read_bytes()
    for broken in (whole[:-10], whole[:40], b"", b"STPSIM5\n" + whole[8:20]):
        path.write_bytes(broken)
        with pytest.raises(ValueError):
            read_entry(path)
