"""Results of a plan run: named-axis arrays plus summaries, tidy tables and exports.

Arrays are (draw, year, footprint, measure). Summaries sum over the plan's footprints per draw
first, then take percentiles, so intervals of totals are right (not sums of percentiles).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .axes import ALL_SETTINGS, year_label
from .plan import Plan
from .summaries import STATS, summarise

if TYPE_CHECKING:
    import pandas as pd


_OVERWRITE: ContextVar[bool] = ContextVar("stpsim_overwrite", default=True)


@contextmanager
def overwriting(allowed: bool) -> Iterator[None]:
    """Inside the block ``atomic_files`` replaces an existing file only if ``allowed``; if not,
    each file is created exclusively (a file that appeared meanwhile is never overwritten)."""
    token = _OVERWRITE.set(allowed)
    try:
        yield
    finally:
        _OVERWRITE.reset(token)


class NotARegularFile(ValueError):
    """A target that exists and is a device, a pipe or a folder: never replaced."""


@contextmanager
def atomic_files(paths: Sequence[str | Path]) -> Iterator[list[Path]]:
    """Temporary paths beside ``paths`` to write into. When the block succeeds each is moved onto
    its target (a rename or link within a folder is atomic), so nobody ever sees a half-written
    file; when it fails every temporary is removed and the targets are left as they were. A
    target that is not a regular file is refused; under ``overwriting(False)`` an existing target
    is refused too (FileExistsError), even one that appeared while the files were written."""
    targets = [Path(p) for p in paths]
    # The target's suffix stays last: writers such as pandas choose a format from it.
    tmps = [t.with_name(f".{t.stem}.{secrets.token_hex(4)}.tmp{t.suffix}") for t in targets]
    placed: list[Path] = []
    try:
        yield tmps
        for target in targets:
            if (target.exists() or target.is_symlink()) and not target.is_file():
                raise NotARegularFile(f"{target}: is not a regular file; give a file name")
        for tmp, target in zip(tmps, targets, strict=True):
            if _OVERWRITE.get():
                os.replace(tmp, target)
            else:
                os.link(tmp, target)  # fails if the target exists, atomically
                tmp.unlink()
            placed.append(target)
    except BaseException:
        for tmp in tmps:
            tmp.unlink(missing_ok=True)
        if not _OVERWRITE.get():  # ours, created in this call: take them away again
            for target in placed:
                target.unlink(missing_ok=True)
        raise


def _population(plan: Plan) -> np.ndarray:
    from .baseline import projection_of

    proj = projection_of(plan.places)
    t0 = plan.first_year - int(proj.years[0])
    return proj.population[t0 : t0 + plan.last_year - plan.first_year + 1].sum(axis=-1)


def _summaries(arrays: list[np.ndarray]) -> list[dict[str, np.ndarray]]:
    """``summarise`` of each array over its first axis (the draws), in one numpy call for all
    arrays of one shape: a run's document summarises hundreds of (draw, year) arrays."""
    out: list[dict[str, np.ndarray] | None] = [None] * len(arrays)
    by_shape: dict[tuple, list[int]] = {}
    for i, a in enumerate(arrays):
        by_shape.setdefault(a.shape, []).append(i)
    for idx in by_shape.values():
        s = summarise(np.stack([arrays[i] for i in idx], axis=1))  # (draw, n, ...) -> (n, ...)
        for n, i in enumerate(idx):
            out[i] = {k: v[n] for k, v in s.items()}
    return out  # type: ignore[return-value]


def _stats(x: np.ndarray) -> list[float]:
    s = summarise(x)
    return [float(s[k]) for k in STATS]


@dataclass(frozen=True)
class Results:
    plan: Plan
    codes: tuple[str, ...]
    names: tuple[str, ...]
    years: tuple[int, ...]
    settings: tuple[str, ...]
    activity: np.ndarray  # (draw, year, footprint, setting) plan, with noise
    do_nothing: np.ndarray  # same shape, do-nothing
    expected: np.ndarray  # plan before noise
    do_nothing_expected: np.ndarray
    capacity: dict[str, np.ndarray]  # measure -> (draw, year, footprint)
    do_nothing_capacity: dict[str, np.ndarray]
    interventions: tuple[str, ...]
    targeted_people: np.ndarray  # (year, footprint, intervention)
    finance: object = None  # finance.PlanFinance
    population: np.ndarray | None = None  # (year, footprint, sex, age) residents
    parameters: object = None  # parameters.ParameterDraws: every declared parameter, as drawn

    @classmethod
    def from_arrays(
        cls, plan: Plan, arrays, cap: dict, dn_cap: dict, finance=None, parameters=None
    ) -> Results:
        codes = tuple(plan.codes)
        return cls(
            plan=plan,
            codes=codes,
            names=tuple(f.name for f in plan.places),
            years=tuple(range(plan.first_year, plan.last_year + 1)),
            settings=ALL_SETTINGS,
            activity=arrays.activity,
            do_nothing=arrays.do_nothing,
            expected=arrays.expected,
            do_nothing_expected=arrays.do_nothing_expected,
            capacity=cap,
            do_nothing_capacity=dn_cap,
            interventions=tuple(a.name for a in plan.interventions),
            targeted_people=arrays.targeted_people,
            finance=finance,
            population=_population(plan),
            parameters=parameters,
        )

    @property
    def draws(self) -> int:
        return self.activity.shape[0]

    @property
    def year_labels(self) -> list[str]:
        return [year_label(y) for y in self.years]

    def setting(self, name: str, scenario: str = "plan") -> np.ndarray:
        """(draw, year) totals over the plan's footprints for one setting."""
        arr = {"plan": self.activity, "do_nothing": self.do_nothing}[scenario]
        return arr[..., self.settings.index(name)].sum(axis=2)

    def _measures(self) -> dict[str, dict[str, np.ndarray]]:
        """scenario -> measure -> (draw, year) summed over footprints."""
        out: dict[str, dict[str, np.ndarray]] = {}
        for scen, act, cap in (
            ("plan", self.activity, self.capacity),
            ("do_nothing", self.do_nothing, self.do_nothing_capacity),
        ):
            m = {k: act[..., i].sum(axis=2) for i, k in enumerate(self.settings)}
            m |= {f"capacity:{k}": v.sum(axis=2) for k, v in cap.items()}
            out[scen] = m
        out["difference"] = {k: out["plan"][k] - out["do_nothing"][k] for k in out["plan"]}
        return out

    def summary(self) -> pd.DataFrame:
        """One row per scenario x measure x year: mean, p10, p50, p90 over draws."""
        import pandas as pd

        rows = []
        for scen, measures in self._measures().items():
            for name, arr in measures.items():
                s = summarise(arr)
                for t, label in enumerate(self.year_labels):
                    rows.append(
                        {
                            "scenario": scen,
                            "measure": name,
                            "year": label,
                            **{k: float(s[k][t]) for k in STATS},
                        }
                    )
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """Tidy long table: draw, year, footprint, scenario, measure, value."""
        import pandas as pd

        frames = []
        d, t, f = np.meshgrid(np.arange(self.draws), self.year_labels, self.codes, indexing="ij")
        base = {"draw": d.ravel(), "year": t.ravel(), "footprint": f.ravel()}
        for scen, act, cap in (
            ("plan", self.activity, self.capacity),
            ("do_nothing", self.do_nothing, self.do_nothing_capacity),
        ):
            for i, k in enumerate(self.settings):
                frames.append(
                    pd.DataFrame(base | {"scenario": scen, "measure": k, "value": act[..., i].ravel()})
                )
            for k, v in cap.items():
                frames.append(
                    pd.DataFrame(base | {"scenario": scen, "measure": f"capacity:{k}", "value": v.ravel()})
                )
        return pd.concat(frames, ignore_index=True)

    def calibration_words(self) -> dict:
        """How a calibrated run's draws were chosen, for every output to say so."""
        c = self.plan.monte_carlo.calibration
        years = " and ".join(c.years)
        return {
            "years": list(c.years),
            "effective_draws": round(c.effective_draws, 1),
            "text": (
                f"Calibrated to what happened in {years}: the draws are England's, reweighted by how well "
                f"each projected those years from 2016/17 (about {c.effective_draws:,.0f} effective draws of "
                f"{self.draws:,}; see stpsim backtest)"
            ),
        }

    def to_dict(self) -> dict:
        """The documented JSON document of a run."""
        m = self._measures()

        def block(scen: str, prefix: str = "") -> dict:
            names = [n for n in m[scen] if n.startswith("capacity:") == bool(prefix)]
            summaries = _summaries([m[scen][n] for n in names])
            return {n.removeprefix(prefix): self._years(s) for n, s in zip(names, summaries, strict=True)}

        return {
            "plan": self.plan.name,
            "footprints": list(self.codes),
            "draws": self.draws,
            "seed": self.plan.monte_carlo.seed,
            "years": self.year_labels,
            "activity": block("plan"),
            "do_nothing": {"activity": block("do_nothing"), "capacity": block("do_nothing", "capacity:")},
            "difference": {"activity": block("difference"), "capacity": block("difference", "capacity:")},
            "capacity": block("plan", "capacity:"),
            "interventions": list(self.interventions),
            **({"local_data": used} if (used := self.local_data()) else {}),
            **({"calibration": self.calibration_words()} if self.plan.monte_carlo.calibration else {}),
        } | (self.finance_dict() if self.finance is not None else {})

    def local_data(self) -> list[dict]:
        """The team's own tables used in place of national defaults: footprint, table, file
        (or inline), sha256 and rows."""
        return [
            {"footprint": fp.code} | t
            for fp in self.plan.places
            if fp.local is not None
            for t in fp.local.to_list()
        ]

    def _by_year(self, x: np.ndarray) -> dict:
        """(draw, year) -> {YEAR: SUMMARY} in pounds."""
        return self._years(summarise(x))

    def _years(self, s: dict[str, np.ndarray]) -> dict:
        """A summary by year -> {YEAR: SUMMARY}, rounded to the penny."""
        cols = {k: s[k].tolist() for k in STATS}
        return {label: {k: round(cols[k][t], 2) for k in STATS} for t, label in enumerate(self.year_labels)}

    def finance_dict(self) -> dict:
        """The finance and incentives parts of the JSON document."""
        fin = self.finance
        multi = len(self.codes) > 1
        orgs = []
        for books in fin.footprints:
            inside = [o for o, org in enumerate(books.orgs) if org.kind != "external"]
            income, costs, surplus = (
                _summaries([a[o] for o in inside]) for a in (books.income, books.expenditure, books.surplus)
            )
            for n, o in enumerate(inside):
                org = books.orgs[o]
                orgs.append(
                    {
                        "id": f"{books.code}:{org.id}" if multi else org.id,
                        "name": org.name,
                        "kind": org.kind,
                        "footprint": books.code,
                        "members": list(org.members),  # the CCGs, the councils (else none)
                        "income": self._years(income[n]),
                        "costs": self._years(costs[n]),
                        "surplus": self._years(surplus[n]),
                    }
                )
        gains = _summaries(list(fin.incentives.values()))  # every cell's draws in one call
        incentives = [
            {
                "intervention": name,
                "org": f"{code}:{org}" if multi else org,
                "gain": {k: round(float(s[k]), 2) for k in STATS},
            }
            for (name, code, org), s in zip(fin.incentives, gains, strict=True)
        ]
        from .finance import BRIDGE_TITLES, SCOPE

        bridge = {k: {"title": BRIDGE_TITLES[k]} | self._by_year(v) for k, v in fin.bridge("plan").items()}
        return {
            "gap_bridge": bridge,
            "finance": {
                "scope": SCOPE,
                "provider_efficiency": self._by_year(fin.efficiency_saving()),
                "care_models_net_saving": self._by_year(-fin.bridge("plan")["care_models"]),
                "contracts": self.plan.finance.contracts
                if isinstance(self.plan.finance.contracts, str)
                else "custom",
                "orgs": orgs,
                "system": {
                    "surplus": self._by_year(fin.system_surplus("plan")),
                    "gap": self._by_year(fin.gap("plan")),
                },
                "do_nothing": {
                    "system": {
                        "surplus": self._by_year(fin.system_surplus("do_nothing")),
                        "gap": self._by_year(fin.gap("do_nothing")),
                    }
                },
            },
            "incentives": incentives,
        }

    def to_excel(self, path: str | Path) -> Path:
        """A workbook: summary, per-footprint summary, plan, assumptions and sources."""
        import pandas as pd
        import yaml

        from . import assumptions
        from .reference import sources

        path = Path(path)
        with atomic_files([path]) as (tmp,), pd.ExcelWriter(tmp, engine="openpyxl") as xl:
            self.summary().to_excel(xl, sheet_name="summary", index=False)
            self.per_footprint().to_excel(xl, sheet_name="footprints", index=False)
            pd.DataFrame(
                {"plan": yaml.safe_dump(self.plan.model_dump(mode="json"), sort_keys=False).splitlines()}
            ).to_excel(xl, sheet_name="plan", index=False)
            pd.DataFrame(
                [a.model_dump(mode="json") | {"value": str(a.value)} for a in assumptions.load().values()]
            ).to_excel(xl, sheet_name="assumptions", index=False)
            src = sources()
            pd.DataFrame([{"table": k, **v} for k, v in src.items()]).to_excel(
                xl, sheet_name="sources", index=False
            )
        return path

    def per_footprint(self) -> pd.DataFrame:
        """One row per footprint x scenario x setting x year: mean, p10, p50, p90 over draws."""
        import pandas as pd

        rows = []
        for f, code in enumerate(self.codes):
            for scen, act in (("plan", self.activity), ("do_nothing", self.do_nothing)):
                s = summarise(act[:, :, f, :])
                for t, label in enumerate(self.year_labels):
                    for i, k in enumerate(self.settings):
                        rows.append(
                            {
                                "footprint": code,
                                "scenario": scen,
                                "measure": k,
                                "year": label,
                                **{st: float(s[st][t, i]) for st in STATS},
                            }
                        )
        return pd.DataFrame(rows)

    def to_parquet(self, directory: str | Path) -> Path:
        """Write results.parquet (tidy, every draw) and summary.parquet into ``directory``."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        with atomic_files([d / "results.parquet", d / "summary.parquet"]) as (full, summary):
            self.to_frame().to_parquet(full, index=False)
            self.summary().to_parquet(summary, index=False)
        return d
