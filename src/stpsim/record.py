"""The run record: one plan run, computed once, saved and read back everywhere.

A record holds the run's arrays (:class:`~stpsim.results.Results`: activity, capacity, every
organisation's books, the bridge and the incentive matrix), the analyses that read them (service
change, gap drivers, workforce, payback) and the run's identity (the plan and its hash, draws,
seed, data and code versions). The CLI, the REST API, the dashboard and the reports all print
from a record; none reruns what a record holds.

On disk a record is one zip file (``stpsim run PLAN --save FILE``; see ``docs/record.md``):

- ``manifest.json``: the format version, the identity, the run's JSON document (what
  ``stpsim run --json`` prints) and the record's tree with every array replaced by a reference;
- ``arrays/N.npy``: the arrays, in numpy's own format (dtype and shape kept exactly).

Loading rebuilds the same objects: the document and every array are bit-for-bit what was saved.
Only stpsim's own dataclasses and pydantic models are rebuilt; a file naming anything else is
refused, so a record from elsewhere cannot run code.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import io
import json
import math
import os
import struct
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel

from .version import __version__

if TYPE_CHECKING:
    import pandas as pd

    from .plan import Plan
    from .results import Results

FORMAT = "stpsim-run-record"
FORMAT_VERSION = 1


class RecordError(ValueError):
    """A file that is not a run record this stpsim can read; the message says why."""


def plan_hash(plan: Plan) -> str:
    """SHA-256 of the plan document in canonical JSON: two runs of the same plan share it."""
    doc = plan.model_dump(mode="json")
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def identity(plan: Plan) -> dict[str, Any]:
    """What makes a run reproducible: the plan's hash, draws, seed, data and code versions (the
    release and the hash of stpsim's source, which tells two builds of one release apart)."""
    from .cache import code_version, data_version

    return {
        "plan_hash": plan_hash(plan),
        "draws": plan.monte_carlo.draws,
        "seed": plan.monte_carlo.seed,
        "data_version": data_version(),
        "code_version": __version__,
        "code_hash": code_version(),
    }


@dataclass(frozen=True)
class RunRecord:
    """One run: its arrays (``results``), the analyses that read them and its identity.

    ``document`` is the run's JSON document (the RunResponse model that ``run --json`` prints and
    the API publishes); ``analyses`` holds what the analyses found that the document does not
    print (the all-central gap the tornado swings about)."""

    results: Results
    document: dict[str, Any]
    identity: dict[str, Any]
    analyses: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        # A record reads as its Results (``record.activity``, ``record.finance``...), so the
        # report and the story take either; what the analyses found is in ``document``.
        if name.startswith("__") or name == "results":
            raise AttributeError(name)
        return getattr(self.results, name)

    @property
    def plan(self) -> Plan:
        return self.results.plan

    @property
    def draws(self) -> int:
        return self.results.draws

    def care_model_savings(self) -> dict[str, dict[str, float]]:
        """Each adopted care model's saving to the whole system in the plan's last year when
        adopted alone (the incentive matrix's gains of every organisation, summed draw by draw),
        as mean, p10, p50 and p90 in pounds. Empty when the run has no incentive matrix."""
        from .results import STATS, _stats

        fin = self.results.finance
        totals: dict[str, np.ndarray] = {}
        for (name, _code, _org), gain in (fin.incentives if fin is not None else {}).items():
            totals[name] = totals.get(name, 0.0) + gain
        return {k: dict(zip(STATS, _stats(v), strict=True)) for k, v in totals.items()}

    def summary(self) -> pd.DataFrame:
        """One row per scenario x measure x year: mean, p10, p50, p90 over draws."""
        return self.results.summary()

    def to_frame(self) -> pd.DataFrame:
        """Tidy long table: draw, year, footprint, scenario, measure, value."""
        return self.results.to_frame()

    def to_dict(self) -> dict[str, Any]:
        """The run's JSON document (a copy)."""
        return json.loads(json.dumps(self.document))

    def save(self, path: str | Path) -> Path:
        """Write the record to ``path`` (a temporary file renamed into place)."""
        from .results import atomic_files

        path = Path(path)
        with atomic_files([path]) as (tmp,):
            tmp.write_bytes(self.to_bytes())
        return path

    def to_bytes(self) -> bytes:
        arrays: list[np.ndarray] = []
        tree = _encode({"results": self.results, "analyses": self.analyses}, arrays)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "identity": self.identity,
            "document": self.document,
            "tree": tree,
            "arrays": len(arrays),
        }
        buf = io.BytesIO()
        # Stored, not deflated: the arrays are floats that barely compress, and a record is read
        # far more often than it is written.
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            z.writestr("manifest.json", json.dumps(manifest, separators=(",", ":"), allow_nan=False))
            for n, a in enumerate(arrays):
                member = io.BytesIO()
                np.save(member, a, allow_pickle=False)
                z.writestr(f"arrays/{n}.npy", member.getvalue())
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes | bytearray, source: str = "record") -> RunRecord:
        """Read a record from its bytes (as the store keeps them). The arrays are views of one
        writable copy of ``data``."""
        return cls._read(io.BytesIO(data), np.frombuffer(data, dtype=np.uint8).copy(), source)

    @classmethod
    def load(cls, path: str | Path) -> RunRecord:
        """Read a record written by :meth:`save`. Raises RecordError naming the file."""
        try:
            with Path(path).open("rb") as f:
                # One read into memory numpy does not zero first; the arrays are views of it.
                data = np.empty(os.fstat(f.fileno()).st_size, dtype=np.uint8)
                f.readinto(memoryview(data))
                f.seek(0)
                return cls._read(f, data, str(path))
        except OSError as e:
            raise RecordError(f"{path}: cannot read ({e.strerror or e})") from None

    @classmethod
    def _read(cls, file, data, source: str) -> RunRecord:
        """The record in ``file`` (a zip), whose bytes are ``data``."""
        try:
            with zipfile.ZipFile(file) as z:
                manifest = json.loads(z.read("manifest.json"))
                if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                    raise RecordError(f"{source}: not an stpsim run record (see 'stpsim run --save')")
                if manifest.get("format_version") != FORMAT_VERSION:
                    raise RecordError(
                        f"{source}: record format version {manifest.get('format_version')!r}; "
                        f"this stpsim reads version {FORMAT_VERSION}: run the plan again"
                    )
                view = memoryview(data).cast("B")
                arrays = [_array(z, view, f"arrays/{n}.npy") for n in range(int(manifest["arrays"]))]
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
            if isinstance(e, RecordError):
                raise
            raise RecordError(f"{source}: not a readable stpsim run record ({type(e).__name__})") from None
        tree = _decode(manifest["tree"], arrays)
        return cls(
            results=tree["results"],
            document=manifest["document"],
            identity=manifest["identity"],
            analyses=tree["analyses"],
        )


def _array(z: zipfile.ZipFile, view: memoryview, name: str) -> np.ndarray:
    """The array of member ``name``. A stored member (how ``save`` writes them) is read in place:
    a view of the file's bytes (``view``) past the member's headers, with the dtype and shape its
    .npy header gives, so loading copies nothing (writable when the bytes are, as ``load`` reads
    them). Anything else is read by numpy."""
    info = z.getinfo(name)
    if info.compress_type != zipfile.ZIP_STORED:
        return np.load(io.BytesIO(z.read(name)), allow_pickle=False)
    local = view[info.header_offset : info.header_offset + 30].tobytes()
    if local[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"{name}: no local header")
    name_len, extra_len = struct.unpack("<HH", local[26:30])
    start = info.header_offset + 30 + name_len + extra_len
    member = view[start : start + info.file_size]
    head = member[:12].tobytes()
    if head[:6] != b"\x93NUMPY" or head[6:8] not in (b"\x01\x00", b"\x02\x00"):
        return np.load(io.BytesIO(member.tobytes()), allow_pickle=False)
    size, at = (
        (struct.unpack("<H", head[8:10])[0], 10) if head[6] == 1 else (struct.unpack("<I", head[8:12])[0], 12)
    )
    shape, fortran, dtype = _npy_header(head[6:8], member[: at + size].tobytes())
    count = math.prod(shape)  # not np.prod: a numpy call per array cost a load 2 ms
    if at + size + count * dtype.itemsize != info.file_size:
        raise ValueError(f"{name}: the array's size does not match its header")
    flat = np.frombuffer(member, dtype=dtype, count=count, offset=at + size)
    return flat.reshape(shape, order="F" if fortran else "C")


@functools.lru_cache(maxsize=1024)
def _npy_header(version: bytes, header: bytes) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Shape, Fortran order and dtype of a .npy header, read by numpy (once per distinct header:
    a record's few hundred arrays share a few dozen)."""
    f = io.BytesIO(header)
    np.lib.format.read_magic(f)
    read = (
        np.lib.format.read_array_header_1_0 if version == b"\x01\x00" else np.lib.format.read_array_header_2_0
    )
    shape, fortran, dtype = read(f)
    if dtype.hasobject:
        raise ValueError("an array of objects")
    return shape, fortran, dtype


# ---- the tree: dataclasses, pydantic models, containers and arrays, as JSON ---------------------

_CLASS, _MODEL, _ARRAY, _TUPLE, _ITEMS = "$dataclass", "$model", "$array", "$tuple", "$items"


def _class_name(obj: object) -> str:
    t = type(obj)
    return f"{t.__module__}:{t.__qualname__}"


def _encode(x: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(x, np.ndarray):
        arrays.append(np.ascontiguousarray(x))
        return {_ARRAY: len(arrays) - 1}
    if isinstance(x, np.generic):
        return _encode(x.item(), arrays)
    if isinstance(x, BaseModel):
        return {_MODEL: _class_name(x), "data": x.model_dump(mode="json")}
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        fields = {f.name: _encode(getattr(x, f.name), arrays) for f in dataclasses.fields(x) if f.init}
        return {_CLASS: _class_name(x), "fields": fields}
    if isinstance(x, tuple):
        return {_TUPLE: [_encode(v, arrays) for v in x]}
    if isinstance(x, list):
        return [_encode(v, arrays) for v in x]
    if isinstance(x, Mapping):
        if all(isinstance(k, str) and not k.startswith("$") for k in x):
            return {k: _encode(v, arrays) for k, v in x.items()}
        return {_ITEMS: [[_encode(k, arrays), _encode(v, arrays)] for k, v in x.items()]}
    if x is None or isinstance(x, bool | int | float | str):
        return x
    raise TypeError(f"a run record cannot hold a {type(x).__name__}")


def _stpsim_class(name: str) -> type:
    """The stpsim class ``module:QualName`` names; anything outside stpsim is refused."""
    module, _, qual = name.partition(":")
    if module != "stpsim" and not module.startswith("stpsim."):
        raise RecordError(f"a run record may only name stpsim's own types, not {name!r}")
    obj: Any = importlib.import_module(module)
    for part in qual.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, type) or not (dataclasses.is_dataclass(obj) or issubclass(obj, BaseModel)):
        raise RecordError(f"{name!r} is not a record type")
    return obj


def _decode(x: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(x, list):
        return [_decode(v, arrays) for v in x]
    if not isinstance(x, dict):
        return x
    if _ARRAY in x:
        return arrays[x[_ARRAY]]
    if _TUPLE in x:
        return tuple(_decode(v, arrays) for v in x[_TUPLE])
    if _ITEMS in x:
        return {_hashable(_decode(k, arrays)): _decode(v, arrays) for k, v in x[_ITEMS]}
    if _MODEL in x:
        return _stpsim_class(x[_MODEL]).model_validate(x["data"])
    if _CLASS in x:
        cls = _stpsim_class(x[_CLASS])
        return cls(**{k: _decode(v, arrays) for k, v in x["fields"].items()})
    return {k: _decode(v, arrays) for k, v in x.items()}


def _hashable(k: Any) -> Any:
    return tuple(_hashable(v) for v in k) if isinstance(k, list | tuple) else k
