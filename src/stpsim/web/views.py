"""What the dashboard's pages need beyond the Service's own methods, so the web routes stay thin:
the plan editor (its form turned into a plan document, and the preview as a slider moves), a
version's results, two versions compared, and the submissions as the version page and the
national reviewers see them.

Rights are the Service's: every function reads through ``Service.get_version`` (and so its
reading rules) and stores only through ``Service.add_version``, ``submit`` and ``decide``. The one
rule added here is the editor's: only those who may edit a footprint's plans (its leads and
analysts) may open its editor or ask for its preview, as only they could save what they edit.

The charts and tables are drawn from the service's documents by ``web.charts``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ..axes import BASE_YEAR, parse_year, year_label
from ..service import catalogue
from ..service.errors import Conflict, Forbidden, Invalid, NotFound
from .charts import (
    KIND_NAMES,
    Chart,
    Table,
    admissions_chart,
    beds_chart,
    bridge_chart,
    compare_fan_chart,
    compare_orgs_chart,
    count,
    drivers_chart,
    gap,
    incentives_chart,
    interval,
    investment_table,
    key_numbers,
    last_year,
    millions,
    millions_range,
    model_title,
    money,
    organisation_table,
    orgs_chart,
    public_gap_chart,
    services_chart,
    signed,
    track_record_chart,
    workforce_table,
)

PREVIEW_DRAWS = 1000  # a preview's draws at most: about 70 ms for a footprint
# Story sections (story.tell) and the charts that belong in each, as in the report.
SECTION_CHARTS = {
    "pressure": ("services",),
    "patients": ("beds",),
    "money": ("bridge", "drivers", "orgs"),
    "incentives": ("incentives",),
}


# ---- the plan editor -------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    """One of the service's lines and the form field it is about (None: the plan as a whole)."""

    field: str | None
    message: str

    @property
    def anchor(self) -> str:
        return field_id(self.field) if self.field else "editor-form"


def field_id(name: str) -> str:
    """The HTML id of a form field (``coverage.hospital_at_home`` -> ``coverage-hospital_at_home``)."""
    return name.replace(".", "-")


@dataclass(frozen=True)
class ModelControl:
    name: str
    title: str
    description: str
    delivered_by: str
    on: bool
    coverage: str  # percent, as the slider shows it
    full: str  # the first year of full roll-out (a year label), or "" for "as in the plan"
    plan_full: str | None  # the plan's own first full year; None when its ramp never reaches full
    in_plan: bool
    evidence: str = ""  # its evidence grade, in words
    saving: str = ""  # its saving alone in the saved version's run, or why there is none


@dataclass(frozen=True)
class BedRow:
    """One bed change as the editor's form shows it (all text, as typed)."""

    trust: str  # ODS code
    year: str  # year label
    change: str  # beds opened (+) or closed (-); "" in the blank row


@dataclass(frozen=True)
class Preview:
    draws: int
    plan_draws: int
    numbers: Table
    charts: tuple[Chart, ...]
    changes: Table | None = None  # what the edit changes against the saved version, in words

    def to_dict(self) -> dict:
        return {
            "draws": self.draws,
            "numbers": self.numbers.to_dict(),
            "charts": {c.key: c.to_dict() for c in self.charts},
            "changes": (self.changes or _changes_table((), 0)).to_dict(),
        }


def _changes_table(rows: tuple, version: int) -> Table:
    return Table(
        f"Changed from version {version}: {len(rows)} choice{'' if len(rows) == 1 else 's'}"
        if rows
        else "Nothing changed yet",
        ("What", "Saved", "Now"),
        tuple(rows),
    )


@dataclass(frozen=True)
class Editor:
    version: dict  # Service.get_version's document
    models: tuple[ModelControl, ...]
    custom: tuple[str, ...]  # the plan's own care models, kept as they are
    years: tuple[str, ...]  # the choices for the first year of full roll-out
    contracts: str  # a preset, or "" for the plan's own list of contracts
    custom_contracts: bool
    presets: tuple[tuple[str, str], ...]
    efficiency_low: str
    efficiency_high: str
    efficiency_default: tuple[float, float]
    preview: Preview
    errors: tuple[FieldError, ...] = ()
    beds: tuple[BedRow, ...] = ()  # the plan's bed changes, then one blank row to add one
    trusts: tuple[tuple[str, str], ...] = ()  # the footprint's acute trusts: (ODS code, name)
    proposal: tuple[str, ...] = ()  # "Find a plan": what the optimiser proposed, in words
    contract_terms: str = ""  # the contracts' own terms, "name value; ..." (contract_terms_text)

    def errors_for(self, name: str) -> list[str]:
        return [e.message for e in self.errors if e.field == name]


def _may_edit(actor, footprint: str) -> bool:
    from ..service import Service

    return Service.may_edit(actor, footprint)


def _editable(service, actor, plan_id: int, number: int) -> dict:
    """The version, if ``actor`` may read it and edit its footprint's plans."""
    version = service.get_version(actor, plan_id, number)
    if not _may_edit(actor, version["footprint"]):
        raise Forbidden(f"{actor.name} ({actor.role}) may not edit plans of {version['footprint']}")
    return version


def _default_efficiency() -> tuple[float, float]:
    from ..service.catalogue import assumptions

    a = assumptions.get("provider_efficiency_achieved")
    return float(a.low), float(a.high)


def _number_text(x: float) -> str:
    return f"{x:g}"


def _full_year(ramp: Mapping | None, last_year: int) -> int | None:
    """The first year the care model reaches full coverage (ramps are held from each year given;
    no ramp is the default, a third a year from 2016/17)."""
    from ..service.catalogue import default_ramp

    if ramp is None:
        points = default_ramp(last_year)
    else:
        points = {int(parse_year(str(k))): float(v) for k, v in ramp.items()}
    level = 0.0
    for y in range(BASE_YEAR, last_year + 1):
        level = points.get(y, level)
        if level >= 1.0:
            return y
    return None


def _linear_ramp(full: int) -> dict[str, float] | None:
    """Coverage rising evenly from 2016/17 to full in ``full`` (``plan.ramp_to``)."""
    return catalogue.ramp_to(full)


def _document_plan(document: dict):
    from ..service.catalogue import validate_plan as validate

    return validate(document, source="stored plan")


def _controls(
    document: dict, fields: Mapping[str, str] | None, savings: Mapping[str, dict] | None = None
) -> tuple[list[ModelControl], list[str]]:
    from ..service.catalogue import evidence_grade, library

    savings = savings or {}
    last = year_label(_document_plan(document).last_year)

    plan = _document_plan(document)
    adopted = {a.name: a for a in plan.interventions}
    out = []
    for name, spec in library().items():
        a = adopted.get(name)
        plan_full = _full_year(a.ramp if a else None, plan.last_year)
        plan_full_label = year_label(plan_full) if plan_full is not None else None
        if fields is None:
            on = a is not None
            coverage = _number_text(round((a.coverage if a else 0.5) * 100, 2))
            full = plan_full_label or ""
        else:
            on = fields.get(f"on.{name}") == "yes"
            coverage = fields.get(f"coverage.{name}", "")
            full = fields.get(f"full.{name}", plan_full_label or "")
        out.append(
            ModelControl(
                name=name,
                title=spec.title,
                description=spec.description,
                delivered_by=KIND_NAMES.get(spec.delivered_by, spec.delivered_by),
                on=on,
                coverage=coverage,
                full=full,
                plan_full=plan_full_label,
                in_plan=a is not None,
                evidence=EVIDENCE_WORDS.get(evidence_grade(spec)[0], "no grade given"),
                saving=_saving_words(savings.get(name), last),
            )
        )
    custom = [c.title for c in plan.custom_interventions if c.name in adopted]
    return out, custom


def _saving_words(s: Mapping[str, float] | None, last: str) -> str:
    """A care model's saving alone, as its line in the editor says it."""
    if s is None:
        return "Not in the saved version: switch it on to see what it does in the charts."
    if s["mean"] >= 0:
        return f"On its own it saves {interval(s)} a year by {last} (the saved version's run)."
    flipped = {"mean": -s["mean"], "p10": -s["p90"], "p90": -s["p10"]}
    return f"On its own it costs {interval(flipped)} a year more by {last} (the saved version's run)."


def initial_fields(document: dict) -> dict[str, str]:
    """The editor's fields as its form first shows ``document`` (what a browser would send back
    if nothing were touched): ``edited_document(document, initial_fields(document))`` is the
    document itself."""
    models, _ = _controls(document, None)
    plan = _document_plan(document)
    out = {}
    for m in models:
        if m.on:
            out[f"on.{m.name}"] = "yes"
        out[f"coverage.{m.name}"] = m.coverage
        out[f"full.{m.name}"] = m.full
    out["contracts"] = plan.finance.contracts if isinstance(plan.finance.contracts, str) else ""
    out["contract_terms"] = contract_terms_text(document.get("finance") or {})
    iv = plan.finance.provider_efficiency
    low, high = (iv.low, iv.high) if iv is not None else _default_efficiency()
    out["efficiency.low"], out["efficiency.high"] = _number_text(low), _number_text(high)
    for i, row in enumerate(_bed_rows(document, None)):
        out |= {f"beds.{i}.trust": row.trust, f"beds.{i}.year": row.year, f"beds.{i}.change": row.change}
    return out


def _bed_rows(document: dict, fields: Mapping[str, str] | None) -> tuple[BedRow, ...]:
    """The plan's bed changes as rows of the form (or as sent back in ``fields``), then one blank
    row to add a change."""
    plan = _document_plan(document)
    saved = (document.get("service_changes") or {}).get("beds") or []
    n = len(saved) + 1
    if fields is not None:
        n = max(n, 1 + max((int(k.split(".")[1]) for k in fields if _bed_field(k)), default=-1))
    first_trust = plan.places[0].acute_trusts[0].code if plan.places[0].acute_trusts else ""
    rows = []
    for i in range(n):
        old = saved[i] if i < len(saved) else {}
        default = (
            str(old.get("trust", first_trust)),
            year_label(parse_year(str(old["year"]))) if "year" in old else year_label(plan.last_year),
            str(old.get("change", "")),
        )
        if fields is None:
            rows.append(BedRow(*default))
        else:
            got = [
                fields.get(f"beds.{i}.{k}", d)
                for k, d in zip(("trust", "year", "change"), default, strict=True)
            ]
            rows.append(BedRow(*got))
    return tuple(rows)


def _bed_field(name: str) -> bool:
    parts = name.split(".")
    return (
        len(parts) == 3
        and parts[0] == "beds"
        and parts[1].isdigit()
        and parts[2] in ("trust", "year", "change")
    )


def _apply_beds(doc: dict, fields: Mapping[str, str], problems: list[str]) -> None:
    """The form's bed rows into ``doc["service_changes"]["beds"]``: a row with a change is kept
    (what else the plan said of it stays), a row left blank or at 0 is dropped. Without any bed
    field (a form from before beds were editable) the plan's changes stay as they are."""
    if not any(_bed_field(k) for k in fields):
        return
    saved = (doc.get("service_changes") or {}).get("beds") or []
    n = 1 + max(int(k.split(".")[1]) for k in fields if _bed_field(k))
    beds = []
    for i in range(n):
        text = (fields.get(f"beds.{i}.change") or "").strip().replace("\u2212", "-")
        if not text:
            continue
        try:
            change = int(text)
        except ValueError:
            problems.append(f"service_changes.beds.{i}.change: {text[:20]!r} is not a whole number of beds")
            continue
        if change == 0:
            continue
        row = dict(saved[i]) if i < len(saved) else {}
        row |= {
            "trust": (fields.get(f"beds.{i}.trust") or "").strip(),
            "year": fields.get(f"beds.{i}.year", ""),
            "change": change,
        }
        beds.append(row)
    if beds or saved:
        doc.setdefault("service_changes", {})["beds"] = beds


def editor(
    service,
    actor,
    plan_id: int,
    number: int,
    fields: Mapping[str, str] | None = None,
    errors: tuple[FieldError, ...] = (),
) -> Editor:
    """The editor of a version: its care models, contracts and provider efficiency as the form
    shows them (``fields``: as the user sent them, to show again with ``errors``) and the
    preview of the version as it is."""
    version = _editable(service, actor, plan_id, number)
    document = version["document"]
    plan = _document_plan(document)
    savings = service.run_record(actor, plan_id, number).care_model_savings()
    models, custom = _controls(document, fields, savings)
    shown = initial_fields(document) if fields is None else fields
    return Editor(
        version=version,
        models=tuple(models),
        custom=tuple(custom),
        years=tuple(year_label(y) for y in range(BASE_YEAR, plan.last_year + 1)),
        contracts=shown.get("contracts", ""),
        contract_terms=shown.get("contract_terms", ""),
        custom_contracts=not isinstance(plan.finance.contracts, str),
        presets=tuple((p, catalogue.contracts_title(p)) for p in catalogue.CONTRACT_PRESETS),
        efficiency_low=shown.get("efficiency.low", ""),
        efficiency_high=shown.get("efficiency.high", ""),
        efficiency_default=_default_efficiency(),
        preview=replace(_preview_of(plan), changes=_changes_table((), number)),
        errors=errors,
        beds=_bed_rows(document, fields),
        trusts=tuple((t.code, t.name) for t in plan.places[0].acute_trusts),
    )


def _number(text: str | None, path: str, what: str, problems: list[str]) -> float | None:
    try:
        x = float(str(text).strip().replace("%", ""))
    except ValueError:
        problems.append(f"{path}: {str(text)[:40]!r} is not a number; give {what}")
        return None
    if not math.isfinite(x):
        problems.append(f"{path}: {str(text)[:40]!r} is not a number; give {what}")
        return None
    return x


def edited_document(document: dict, fields: Mapping[str, str]) -> dict:
    """The plan ``document`` with the editor's ``fields`` applied: each library care model on or
    off (``on.NAME`` = "yes"), its coverage in percent (``coverage.NAME``) and its first year of
    full roll-out (``full.NAME``), the contract preset (``contracts``) and provider efficiency,
    % a year (``efficiency.low``, ``efficiency.high``). Everything else is kept as it was, and so
    is any value the form shows unchanged (a plan's own ramp, coverage 0.333, no efficiency
    given). Values the form cannot read raise Invalid with a line each, named by the plan's
    field path; the rest is for ``validate`` (as ``Service.add_version`` does) to judge."""
    doc, problems = _apply(document, fields)
    if problems:
        raise Invalid(problems[0], problems)
    return doc


def _apply(document: dict, fields: Mapping[str, str]) -> tuple[dict, list[str]]:
    """``edited_document``'s work: the document with every readable field applied, and a line
    for each field it could not read (that field's value left as it was)."""
    from ..service.catalogue import library

    plan = _document_plan(document)
    doc = copy.deepcopy(document)
    lib = library()
    problems: list[str] = []
    old = {a["name"]: a for a in doc.get("interventions") or []}
    names = [a["name"] for a in doc.get("interventions") or []]
    names += [n for n in lib if n not in old]
    items: list[dict] = []
    for name in names:
        if name not in lib:  # the plan's own care model: kept
            items.append(old[name])
            continue
        if fields.get(f"on.{name}") != "yes":
            continue
        i = len(items)
        before = old.get(name)
        item = copy.deepcopy(before) if before else {"name": name}
        text = fields.get(f"coverage.{name}")
        if text is not None:
            pct = _number(text, f"interventions.{i}.coverage", "a percentage from 0 to 100", problems)
            if pct is not None and not 0 <= pct <= 100:
                problems.append(
                    f"interventions.{i}.coverage: {_number_text(pct)}% is not a percentage from 0 to 100"
                )
                pct = None
            was = before.get("coverage", 1.0) if before else None
            # The slider moves in whole percent: a plan's 33.3% comes back as 33, unchanged.
            if pct is not None and not (was is not None and abs(was * 100 - pct) < 0.5):
                item["coverage"] = pct / 100
        elif before is None:
            item["coverage"] = 0.5
        full_text = (fields.get(f"full.{name}") or "").strip()
        if full_text:
            try:
                full = parse_year(full_text)
            except ValueError as e:
                problems.append(f"interventions.{i}.ramp: {e}")
            else:
                if not BASE_YEAR <= full <= plan.last_year:
                    problems.append(
                        f"interventions.{i}.ramp: {year_label(full)} is outside the plan's years; choose "
                        f"a year from {year_label(BASE_YEAR)} to {year_label(plan.last_year)}"
                    )
                elif before is None or full != _full_year(before.get("ramp"), plan.last_year):
                    ramp = _linear_ramp(full)
                    if ramp is not None or "ramp" in item:  # None: the default ramp
                        item["ramp"] = ramp
        items.append(item)
    doc["interventions"] = items
    finance = doc.setdefault("finance", {})
    preset = (fields.get("contracts") or "").strip()
    if preset:
        finance["contracts"] = preset
    low_text, high_text = fields.get("efficiency.low"), fields.get("efficiency.high")
    if low_text is not None or high_text is not None:
        what = "% a year, for example 2"
        low = _number(low_text, "finance.provider_efficiency.low", what, problems)
        high = _number(high_text, "finance.provider_efficiency.high", what, problems)
        iv = plan.finance.provider_efficiency
        shown = (iv.low, iv.high) if iv is not None else _default_efficiency()
        if low is not None and high is not None and (low, high) != shown:
            finance["provider_efficiency"] = {"low": low, "high": high}
    text = fields.get("contract_terms")
    if text is not None and text.strip() != contract_terms_text(finance):
        _apply_contract_terms(finance, text, problems)
    _apply_beds(doc, fields, problems)
    return doc, problems


# A preset's own terms are finance fields of their own (catalogue.preset_term_defaults); every
# other term is a mechanism's (finance.contract_terms). The editor shows both in one line.


def contract_terms_text(finance: dict) -> str:
    """A plan's contract terms as the editor shows them: "name value" pairs joined by "; ", the
    preset's own terms that differ from their defaults first, then the mechanisms'
    (``finance.contract_terms``)."""
    defaults = catalogue.preset_term_defaults()
    pairs = [(k, finance[k]) for k, v in defaults.items() if k in finance and finance[k] != v]
    pairs += list((finance.get("contract_terms") or {}).items())
    return "; ".join(f"{k} {_number_text(v) if isinstance(v, (int, float)) else v}" for k, v in pairs)


def _apply_contract_terms(finance: dict, text: str, problems: list[str]) -> None:
    """Set the plan's contract terms to those in ``text`` ("name value" pairs separated by ";"
    or ","); a term left out goes back to its default. Unreadable pairs are problems naming
    ``finance.contract_terms``; whether a term is allowed is for the plan's checks."""
    defaults = catalogue.preset_term_defaults()
    preset, mechanism = {}, {}
    for pair in filter(None, (p.strip() for p in text.replace(",", ";").split(";"))):
        name, _, value = pair.replace("=", " ").replace(":", " ").partition(" ")
        name, value = name.strip(), value.strip()
        if not value:
            problems.append(
                f"finance.contract_terms: {pair[:40]!r} has no value; write a term and its value, "
                "for example savings_rate 0.2"
            )
        elif isinstance(defaults.get(name), str):
            preset[name] = value
        else:
            number = _number(value, f"finance.contract_terms.{name}", "a number, for example 0.2", problems)
            if number is not None:
                (preset if name in defaults else mechanism)[name] = number
    for k in defaults:
        finance.pop(k, None)
    finance.update(preset)
    if mechanism:
        finance["contract_terms"] = mechanism
    else:
        finance.pop("contract_terms", None)


def field_errors(lines: list[str], document: dict) -> tuple[FieldError, ...]:
    """Each of the service's lines with the editor's field it names (by the plan's field path:
    ``interventions.3.coverage`` is the coverage slider of the fourth care model in
    ``document``)."""
    from ..service.catalogue import library

    titles = {k: v.title for k, v in library().items()}
    names = [a.get("name") if isinstance(a, dict) else None for a in document.get("interventions") or []]
    out = []
    for line in lines:
        path = line.split(":", 1)[0].strip()
        parts = path.split(".")
        name, label = None, None
        if parts[0] == "interventions" and len(parts) > 1 and parts[1].isdigit():
            i = int(parts[1])
            model = names[i] if i < len(names) else None
            if model:
                what = parts[2] if len(parts) > 2 else ""
                name = {"coverage": "coverage", "ramp": "full"}.get(what, "on") + f".{model}"
                title = titles.get(model, str(model))
                label = {"coverage": f"{title}: coverage", "ramp": f"{title}: full roll-out"}.get(what, title)
        elif path.startswith("finance.provider_efficiency"):
            name = "efficiency.high" if path.endswith(".high") else "efficiency.low"
            label = "Provider efficiency"
        elif path.startswith("finance.contract_terms") or (
            parts[0] == "finance" and len(parts) > 1 and parts[1] in catalogue.preset_term_defaults()
        ):
            name, label = "contract_terms", "Contract terms"
        elif path.startswith("finance.contracts"):
            name, label = "contracts", "Contracts"
        elif parts[:2] == ["service_changes", "beds"] and len(parts) > 2 and parts[2].isdigit():
            what = parts[3] if len(parts) > 3 and parts[3] in ("trust", "year") else "change"
            name, label = f"beds.{parts[2]}.{what}", f"Beds, row {int(parts[2]) + 1}"
        out.append(FieldError(name, in_words(line, label)))
    return tuple(out)


# The plan's validation speaks in the document's terms (fractions, field paths); the editor's
# page speaks in its own (percentages, the labels beside its fields).
_REWORDS = (
    (
        r"^Input should be less than or equal to 1; got (\S+)$",
        lambda m: f"must be 100% or less; you gave {_pct(m[1])}",
    ),
    (
        r"^Input should be greater than or equal to 0; got (\S+)$",
        lambda m: f"must be 0% or more; you gave {_pct(m[1])}",
    ),
    (
        r"^low \((\S+)\) must not exceed high \((\S+)\)$",
        lambda m: (
            f"the low end ({_number_text(float(m[1]))}%) is above the high end "
            f"({_number_text(float(m[2]))}%); give the lower figure first"
        ),
    ),
)


def _pct(text: str) -> str:
    try:
        return f"{_number_text(float(text) * 100)}%"
    except ValueError:
        return text


def attestation_words(lines: list[str]) -> list[str]:
    """The service's lines about an attestation as the version page says them."""
    out = []
    for line in lines:
        if line.startswith("test:"):
            out.append("Choose the test you are recording as met")
        elif line.startswith("note:"):
            out.append(in_words(line, "What shows it"))
        else:
            out.append(in_words(line, None))
    return out


def in_words(line: str, label: str | None) -> str:
    """One of the service's lines as the editor's page says it: the field's label in place of
    its path, and the plan's fractions as the percentages the page shows."""
    import re

    path, sep, rest = line.partition(": ")
    if not sep:
        return line[:1].upper() + line[1:]
    rest = rest.strip()
    for pattern, say in _REWORDS:
        m = re.match(pattern, rest)
        if m and (label or "").endswith(("coverage", "efficiency")):
            rest = say(m)
            break
    if label == "Contracts" and (m := re.match(r"^Input should be .*; got (.+)$", rest)):
        rest = f"{m[1]} is not one of the ways of paying offered; choose one from the list"
    if label is None:
        label = path.replace("_", " ").replace(".", ": ")
        label = label[:1].upper() + label[1:]
    return f"{label}: {rest}"


def _checked(document: dict):
    """The plan of ``document``, as the service checks it (its 422 lines when not valid)."""
    from ..service.catalogue import PlanError
    from ..service.catalogue import validate_plan as validate

    try:
        return validate(document, source="plan")
    except PlanError as e:
        raise Invalid("the plan is not valid", e.lines) from None


def _preview_of(plan) -> Preview:
    from ..service.preview import preview as run_preview

    draws = min(plan.monte_carlo.draws, PREVIEW_DRAWS)
    quick = plan.model_copy(update={"monte_carlo": plan.monte_carlo.model_copy(update={"draws": draws})})
    doc = run_preview(quick).model_dump(mode="json", exclude_none=True)
    return Preview(
        draws=draws,
        plan_draws=plan.monte_carlo.draws,
        numbers=key_numbers(doc),
        charts=(admissions_chart(doc), beds_chart(doc), bridge_chart(doc), orgs_chart(doc)),
    )


class EditError(Invalid):
    """The editor's fields cannot make a valid plan: the service's lines, each with its field."""

    def __init__(self, lines: list[str], errors: tuple[FieldError, ...]):
        super().__init__(lines[0], lines)
        self.errors = errors


def _edited(document: dict, fields: Mapping[str, str]):
    """The edited document and its plan, checked as the service checks it; EditError with every
    problem (the fields the form could not read and the plan checker's lines), each with its
    field."""
    doc, problems = _apply(document, fields)
    plan = None
    try:
        plan = _checked(doc)
    except Invalid as e:
        problems += e.lines
    if problems:
        raise EditError(problems, field_errors(problems, doc))
    return doc, plan


def preview(service, actor, plan_id: int, number: int, fields: Mapping[str, str]) -> Preview:
    """The version with the editor's ``fields`` applied, previewed (at most 1,000 draws, no
    incentive matrix): for those who may edit its footprint's plans. Raises EditError."""
    version = _editable(service, actor, plan_id, number)
    doc, plan = _edited(version["document"], fields)
    rows = plan_changes(version["document"], doc, version["footprint"])
    return replace(_preview_of(plan), changes=_changes_table(rows, number))


def find_plan(service, actor, plan_id: int, number: int) -> Editor:
    """ "Find a plan": the optimiser's proposal for the version (its ``optimise`` section, or the
    defaults) filled into the editor and previewed, for the lead to accept, change or leave;
    nothing is saved. When no mix meets the limits the editor says which to relax."""
    _editable(service, actor, plan_id, number)
    try:
        doc = service.optimise(actor, plan_id, number)
    except Invalid as e:
        return replace(editor(service, actor, plan_id, number), proposal=tuple(e.lines))
    if not doc["feasible"]:
        best = doc["relaxations"][0]["relax"] if doc["relaxations"] else []
        words = ("No mix of the options meets every limit; nothing was changed.",) + tuple(
            f"Relax {r['constraint']} by {millions(r['by_gbp'])}." for r in best
        )
        return replace(editor(service, actor, plan_id, number), proposal=words)
    fields = initial_fields(doc["plan_document"])
    shown = editor(service, actor, plan_id, number, fields)
    return replace(
        shown, preview=preview(service, actor, plan_id, number, fields), proposal=_proposal_words(doc)
    )


def _proposal_words(doc: dict) -> tuple[str, ...]:
    c = doc["choice"]
    models = ", ".join(f"{model_title(m['name'])} at {m['coverage']:.0%}" for m in c["care_models"]) or "none"
    e = c["efficiency"]
    g = doc["verified"]["gap"]
    words = [
        f"stpsim proposes: {models}; provider efficiency {e['low']:g}% to {e['high']:g}% a year; "
        f"contracts: {c['contracts']}.",
        f"Its gap in {doc['year']}: {millions(g['mean'])} ({millions_range(g)}, 80% interval), "
        "from a full run.",
    ]
    if doc["binding"]:
        words.append(f"What limits it: {', '.join(doc['binding'])}.")
    words.append(
        "The form below holds the proposal. Change anything you wish; nothing is saved until you save."
    )
    return tuple(words)


def save(service, actor, plan_id: int, number: int, fields: Mapping[str, str]) -> dict:
    """Save the version with the editor's ``fields`` applied as the plan's next version
    (``Service.add_version``: never overwrites); nothing is saved when the fields change nothing
    (the version comes back marked ``unchanged``). Raises EditError with the service's lines."""
    version = _editable(service, actor, plan_id, number)
    doc, _ = _edited(version["document"], fields)
    try:
        return service.add_version(actor, plan_id, doc, unless_same_as=number)
    except Invalid as e:
        raise EditError(e.lines, field_errors(e.lines, doc)) from None


# ---- a version's results ---------------------------------------------------------------------


@dataclass(frozen=True)
class StorySection:
    key: str
    title: str
    paragraphs: tuple[str, ...]
    charts: tuple[Chart, ...]


@dataclass(frozen=True)
class Results:
    version: dict
    run_id: str
    stored: bool
    draws: int
    seed: int
    title: str  # the story's
    numbers: Table
    sections: tuple[StorySection, ...]
    charts: tuple[Chart, ...]  # every chart, in the order of the sections
    four_tests: tuple[tuple[str, str, str], ...] = ()  # (test, status, who and when or the grades)
    finance_tables: tuple[Table, ...] = ()  # organisations, investment and payback, workforce
    calibration: str = ""  # how a calibrated run's draws were chosen (empty: not calibrated)


def story(service, actor, plan_id: int, number: int, audience: str = "board"):
    """The story of a version for ``audience``, told from its stored run record."""
    from ..service.catalogue import tell

    return tell(service.run_record(actor, plan_id, number), audience)


def public_story(service, version: dict):
    """The public story of a published version (``Service.get_version``'s document), told from
    its stored run record (the plan's own draws and seed, as its report is)."""
    return story(service, _public_reader(), version["id"], version["version"], "public")


# ---- the public page -------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicPlan:
    """A published plan as the public page shows it: the area by name, its story and its one
    chart, read from the version's stored run record."""

    code: str
    area: str
    plan_id: int
    name: str
    story: object  # story.Story
    chart: Chart


@dataclass(frozen=True)
class PublicPage:
    query: str
    found: tuple[tuple[str, str, str], ...]  # (code, area, what matched) when several match
    chosen: str | None  # the area found, by code
    message: tuple[str, ...]  # what the search found, in words
    plans: tuple[PublicPlan, ...]  # the chosen area's published plan, or every one


def find_area(text: str) -> list[tuple[str, str, str]]:
    """Areas matching what a resident typed: an area's own name, or one of its councils or
    CCGs (a place name is usually its council's). (code, area name, what matched)."""
    from ..service.catalogue import all_footprints

    t = " ".join(text.lower().split())
    if not t:
        return []
    out = []
    for fp in sorted(all_footprints(), key=lambda f: f.name):
        if t == fp.code.lower() or t in fp.name.lower():
            out.append((fp.code, fp.name, fp.name))
            continue
        hit = next((o.name for o in (*fp.local_authorities, *fp.ccgs) if t in o.name.lower()), None)
        if hit:
            out.append((fp.code, fp.name, hit))
    return out


def public_page(service, area: str = "") -> PublicPage:
    """The public page: every published plan, or (``area``: a council, place or area name) the
    area it finds, with its plan if one is published."""
    from ..service.catalogue import find_footprint

    reader = _public_reader()
    plans = []
    for p in service.list_plans(reader):
        version = service.get_version(reader, p["id"], p["latest_version"])
        doc = service.run(reader, p["id"], p["latest_version"])
        plans.append(
            PublicPlan(
                p["footprint"],
                find_footprint(p["footprint"]).name,
                p["id"],
                version["name"],
                public_story(service, version),
                public_gap_chart(doc, f"gap-{p['footprint']}"),
            )
        )
    area = (area or "").strip()[:100]
    if not area:
        return PublicPage("", (), None, (), tuple(plans))
    found = find_area(area)
    if not found:
        return PublicPage(area, (), None, tuple(unknown_area_words(area, among="")[:2]), ())
    if len(found) > 1:
        choose = (f"{len(found)} areas match '{area}'. Choose yours:",)
        return PublicPage(area, tuple(found), None, choose, ())
    code, name, matched = found[0]
    mine = tuple(p for p in plans if p.code == code)
    message = (f"Your area is {name}." if matched == name else f"{matched} is part of {name}.",)
    if not mine:
        message += (f"No plan for {name} has been published yet.",)
    return PublicPage(area, (), code, message, mine)


def results(service, actor, plan_id: int, number: int) -> Results:
    """A version's results: ``Service.run`` (stored by the run's identity, with the incentive
    matrix and the gap drivers), its charts and tables, and the board's story."""
    from ..service.catalogue import tell

    version = service.get_version(actor, plan_id, number)
    doc = service.run(actor, plan_id, number)  # the document, with the store's run id
    record = service.run_record(actor, plan_id, number)  # the same run, whole
    told = tell(record, "board")
    charts = {
        c.key: c
        for c in (
            services_chart(doc),
            beds_chart(doc),
            bridge_chart(doc),
            drivers_chart(doc, record.analyses["gap_centre"]),
            orgs_chart(doc),
            incentives_chart(doc),
        )
        if c is not None
    }
    placed: list[str] = []
    sections = []
    for s in told.sections:
        mine = tuple(charts[k] for k in SECTION_CHARTS.get(s.key, ()) if k in charts and k not in placed)
        placed += [c.key for c in mine]
        sections.append(StorySection(s.key, s.title, tuple(s.paragraphs), mine))
    rest = tuple(c for k, c in charts.items() if k not in placed)
    if rest:
        sections.append(StorySection("more", "More charts", (), rest))
    return Results(
        version=version,
        run_id=doc.get("run_id", ""),
        stored=bool(doc.get("stored")),
        draws=doc["draws"],
        seed=doc["seed"],
        title=told.title,
        numbers=key_numbers(doc),
        sections=tuple(sections),
        charts=tuple(c for s in sections for c in s.charts),
        four_tests=_four_tests((doc.get("service_change") or {}).get("four_tests", {})),
        finance_tables=tuple(
            t for t in (organisation_table(doc), investment_table(doc), workforce_table(doc)) if t is not None
        ),
        calibration=(doc.get("calibration") or {}).get("text", ""),
    )


# A care model's evidence grade as readers see it ("null" is the library's word, not theirs).
EVIDENCE_WORDS = {
    "strong": "strong evidence",
    "moderate": "moderate evidence",
    "weak": "weak evidence",
    "null": "no evidence of effect",
}


def _four_tests(tests: dict) -> tuple[tuple[str, str, str], ...]:
    """The four tests as checklist rows: the test, its status, and who attested when (or each
    care model's evidence grade)."""
    rows = []
    for key, t in tests.items():
        if key == "clinical_evidence":
            detail = "; ".join(
                f"{g['title']}: {EVIDENCE_WORDS.get(g['grade'], g['grade'])}"
                for g in t.get("care_models", ())
            )
        elif t.get("attested_by"):
            detail = f"{t['attested_by']}, {t['attested_at']}" + (f": {t['note']}" if t.get("note") else "")
        else:
            detail = "the footprint's lead records this on the version"
        rows.append((t["title"], t["status"], detail))
    return tuple(rows)


# ---- two versions compared -------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    a: dict  # Service.get_version's documents
    b: dict
    table: Table
    paragraphs: tuple[str, ...]  # the report's "two options compared"
    charts: tuple[Chart, ...]
    changes: Table | None = None  # what differs between the two plan documents


# ---- what changed between two plan documents --------------------------------------------------

CHANGE_LABELS = {
    "end_year": "Last year",
    "start_year": "First year reported",
    "footprints": "Footprints",
    "monte_carlo.draws": "Simulations",
    "monte_carlo.seed": "Random seed",
    "finance.contracts": "Contracts",
    "finance.provider_efficiency": "Provider efficiency (cost improvement a year)",
    "finance.close_surplus_wards": "Close wards no longer needed",
    "finance.commissioner_funds_care_models": "Commissioners fund the care models",
}
UNCHANGED = object()


def _flat(doc: dict, prefix: str = "") -> dict[str, object]:
    """A document's leaves by dotted path; an interval ({low, high}) or a list is one leaf."""
    out: dict[str, object] = {}
    for k, v in doc.items():
        path = f"{prefix}{k}"
        if v == {}:  # an empty section says nothing: the same as none
            continue
        if isinstance(v, dict) and set(v) != {"low", "high"}:
            out |= _flat(v, path + ".")
        else:
            out[path] = v
    return out


def _words(path: str, v: object) -> str:
    if v is UNCHANGED or v is None:
        return "not set (the default)"
    if path == "finance.contracts":
        return catalogue.contracts_title(v if isinstance(v, str) else [])
    if isinstance(v, dict) and set(v) == {"low", "high"}:
        unit = "%" if path == "finance.provider_efficiency" or path.startswith("growth.") else ""
        return f"{_number_text(v['low'])}{unit} to {_number_text(v['high'])}{unit}"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list):
        return (
            ", ".join(str(x) for x in v) if all(not isinstance(x, dict) for x in v) else f"{len(v)} entries"
        )
    return str(v)


def _label(path: str) -> str:
    if path in CHANGE_LABELS:
        return CHANGE_LABELS[path]
    if path.startswith("growth."):
        what = path.removeprefix("growth.").replace("_", " ")
        return f"Growth in {what} beyond demography, a year (80% interval)"
    parts = [p.replace("_", " ") for p in path.split(".")]
    return (": ".join(parts)).capitalize()


def _care_model_words(entry: dict | None) -> str:
    if entry is None:
        return "not adopted"
    text = f"{entry.get('coverage', 0):.0%} coverage"
    ramp = entry.get("ramp")
    if ramp:  # each year's share of the coverage reached
        steps = [
            f"{'all' if x >= 1 else f'{x:.0%} of it'} by {year_label(parse_year(str(y)))}"
            for y, x in ramp.items()
        ]
        text += ": " + ", ".join(steps)
    return text


def _keyed(items: list[dict], key) -> dict:
    return {key(x): x for x in items}


def _year_of(x: dict) -> str:
    return year_label(parse_year(str(x["year"])))


def _differences(a: list[dict], b: list[dict], key, label, words) -> list[tuple[str, str, str]]:
    """(label, words of a's, words of b's) for each item, matched by ``key``, that differs."""
    ka, kb = _keyed(a, key), _keyed(b, key)
    return [
        (label(k), words(ka.get(k)), words(kb.get(k)))
        for k in sorted(set(ka) | set(kb))
        if ka.get(k) != kb.get(k)
    ]


def _service_change_rows(a: dict, b: dict, trust_names: dict[str, str]) -> list[tuple[str, str, str]]:
    """The differences in the plans' service changes: beds by trust and year, services, capacity."""

    def beds(x: dict | None) -> str:
        if x is None:
            return "no change"
        n = x["change"]
        text = f"{'closes' if n < 0 else 'opens'} {abs(n):,} beds"
        if x.get("length_of_stay_reduction_days"):
            text += f", counting on {_number_text(x['length_of_stay_reduction_days'])} days shorter stays"
        return text

    def service(x: dict | None) -> str:
        return (
            "not proposed"
            if x is None
            else f"{catalogue.SERVICE_KINDS.get(x['kind'], x['kind'])} in {_year_of(x)}"
        )

    def capacity(x: dict | None) -> str:
        if x is None:
            return "none added"
        if x.get("wte"):
            return f"{_number_text(x['wte'])} whole-time equivalents"
        return f"{_number_text(x['sessions_per_week'])} sessions a week"

    def part(name: str) -> tuple[list[dict], list[dict]]:
        return (a.get(name) or []), (b.get(name) or [])

    return [
        *_differences(
            *part("beds"),
            lambda x: (x["trust"], _year_of(x)),
            lambda k: f"Beds at {trust_names.get(k[0], k[0])} from {k[1]}",
            beds,
        ),
        *_differences(*part("services"), lambda x: x["name"], lambda k: f"Service change: {k}", service),
        *_differences(
            *part("capacity"),
            lambda x: (x["measure"], _year_of(x)),
            lambda k: f"{k[0].replace('_', ' ').capitalize()} added from {k[1]}",
            capacity,
        ),
    ]


def plan_changes(a: dict, b: dict, footprint: str) -> tuple[tuple[str, str, str], ...]:
    """What differs between two plan documents, in words: (what, option A, option B) for each
    care model adopted, dropped or changed, each contract, efficiency and other choice, and each
    service change (beds by trust and year, services, capacity). Names, not codes or paths."""
    from ..service.catalogue import find_footprint, library

    titles = {k: v.title for k, v in library().items()}
    rows = []
    ia = _keyed(a.get("interventions", []), lambda x: x["name"])
    ib = _keyed(b.get("interventions", []), lambda x: x["name"])
    for name in sorted(set(ia) | set(ib), key=lambda n: titles.get(n, n)):
        if ia.get(name) != ib.get(name):
            rows.append(
                (
                    f"Care model: {titles.get(name, name)}",
                    _care_model_words(ia.get(name)),
                    _care_model_words(ib.get(name)),
                )
            )
    skip = ("name", "description", "interventions", "service_changes", "custom_interventions")
    fa = _flat({k: v for k, v in a.items() if k not in skip})
    fb = _flat({k: v for k, v in b.items() if k not in skip})
    for path in sorted(set(fa) | set(fb), key=lambda p: (p not in CHANGE_LABELS, p)):
        va, vb = fa.get(path, UNCHANGED), fb.get(path, UNCHANGED)
        if va != vb:
            rows.append((_label(path), _words(path, va), _words(path, vb)))
    if a.get("custom_interventions") != b.get("custom_interventions"):
        rows.append(("The plan's own care models", "as written in option A", "changed in option B"))
    trusts = {o.code: o.name for o in find_footprint(footprint).acute_trusts}
    rows += _service_change_rows(a.get("service_changes") or {}, b.get("service_changes") or {}, trusts)
    return tuple(rows)


def _contracts(name: str) -> str:
    """A run document's ``finance.contracts`` (a preset, or "custom") as readers see it."""
    return catalogue.contracts_title(name if name in catalogue.CONTRACT_PRESETS else [])


def parse_ref(text: str, what: str) -> tuple[int, int]:
    """``PLAN:VERSION`` (``12:3``) as two numbers; Invalid naming ``what`` otherwise."""
    plan, sep, number = (text or "").partition(":")
    if not (
        sep and plan.isdigit() and number.isdigit() and 0 < int(plan) < 2**31 and 0 < int(number) < 2**31
    ):
        raise Invalid(
            f"{what}: {text[:40]!r} is not a plan and version; write PLAN:VERSION, for example 12:3"
        )
    return int(plan), int(number)


def compare(service, actor, a: tuple[int, int], b: tuple[int, int]) -> Comparison:
    """Two versions (or two plans, as options) of one footprint side by side: the report's
    compare table and its words, and charts of both, each from ``Service.run`` (stored)."""
    va = service.get_version(actor, *a)
    vb = service.get_version(actor, *b)
    if va["footprint"] != vb["footprint"]:
        raise Invalid(
            f"the two versions cover different footprints ({va['footprint']} and {vb['footprint']}); "
            "compare versions or options of the same footprint"
        )
    da, db = service.run(actor, *a), service.run(actor, *b)
    shared = [y for y in da["years"] if y in db["years"]]
    if not shared:
        raise Invalid("the two versions share no year; compare versions with overlapping years")
    la, lb = last_year(da), last_year(db)

    def row(label: str, get, fmt=money) -> tuple[str, str, str]:
        return (label, interval(get(da, la), fmt), interval(get(db, lb), fmt))

    table = Table(
        "The two options in their last year: average (80% interval)",
        ("Measure", f"Option A: version {va['version']}", f"Option B: version {vb['version']}"),
        (
            ("Last year", la, lb),
            row("Emergency admissions a year", lambda d, y: d["activity"]["emergency_admissions"][y], count),
            row("Hospital beds needed", lambda d, y: d["capacity"]["beds"][y], count),
            row("Shortfall if nothing changes", lambda d, y: gap(d["finance"]["do_nothing"]["system"], y)),
            row("Shortfall with the option", lambda d, y: gap(d["finance"]["system"], y)),
            row("Care models' net saving", lambda d, y: d["finance"]["care_models_net_saving"][y]),
            row("Provider efficiency saving", lambda d, y: d["finance"]["provider_efficiency"][y]),
            ("Care models adopted", str(len(da["interventions"])), str(len(db["interventions"]))),
            (
                "Contracts",
                _contracts(da["finance"]["contracts"]),
                _contracts(db["finance"]["contracts"]),
            ),
            ("Simulations", count(da["draws"]), count(db["draws"])),
        ),
    )
    from ..service.catalogue import compare_story

    told = compare_story(service.run_record(actor, *a), service.run_record(actor, *b))
    paragraphs = tuple(p for s in told.sections if s.key == "comparison" for p in s.paragraphs)

    def fan_rows(what: str, key: str, fmt=count) -> tuple:
        return tuple(
            (
                y,
                interval(da[what][key][y], fmt),
                interval(db[what][key][y], fmt),
                interval(da["do_nothing"][what][key][y], fmt),
            )
            for y in shared
        )

    heads = ("Year", "Option A", "Option B", "If nothing changes")
    charts = (
        Chart(
            "compare-admissions",
            "Fan chart of emergency admissions a year: doing nothing dashed orange (as in option A's run), "
            "option A solid blue, option B dotted green, each with its 80% interval shaded.",
            compare_fan_chart(
                da,
                db,
                "activity",
                "emergency_admissions",
                "Emergency admissions a year: option A (solid), option B (dotted), doing nothing (dashed)",
                "",
                "Emergency admissions a year",
            ),
            Table(
                "Emergency admissions a year: average (80% interval)",
                heads,
                fan_rows("activity", "emergency_admissions"),
            ),
            460,
        ),
        Chart(
            "compare-beds",
            "Fan chart of the hospital beds needed: doing nothing dashed orange, option A solid blue, "
            "option B dotted green, with 80% intervals shaded.",
            compare_fan_chart(
                da,
                db,
                "capacity",
                "beds",
                "Hospital beds needed: option A (solid), option B (dotted), doing nothing (dashed)",
                " beds",
                "Beds needed (85% occupancy)",
            ),
            Table("Hospital beds needed: average (80% interval)", heads, fan_rows("capacity", "beds")),
            460,
        ),
        bridge_chart(da, "compare-bridge-a", "Option A. "),
        bridge_chart(db, "compare-bridge-b", "Option B. "),
        compare_orgs_chart(da, db),
    )
    diff = plan_changes(va["document"], vb["document"], va["footprint"])
    changes = Table(
        "What changed in the plan: each choice that differs between the two",
        ("What", f"Option A: version {va['version']}", f"Option B: version {vb['version']}"),
        diff,
    )
    return Comparison(va, vb, table, paragraphs, charts, changes if diff else None)


def choices(service, actor) -> list[tuple[str, str]]:
    """Every version ``actor`` may read, as (``PLAN:VERSION``, a label) for the compare form."""
    from ..service.catalogue import find_footprint as find

    out = []
    for p in service.list_plans(actor):
        plan = service.get_plan(actor, p["id"])
        place = find(plan["footprint"]).name
        for v in plan["versions"]:
            out.append((f"{plan['id']}:{v['version']}", f"{v['name']}, version {v['version']} ({place})"))
    return out


def unknown_area_words(text: str, among: str = " among the 44 footprints") -> list[str]:
    """What the page says for an area it does not know: the nearest names, never codes or
    commands (``among``: how the page names the set it looked in)."""
    import difflib

    from ..service.catalogue import all_footprints

    names = sorted(f.name for f in all_footprints())
    # A name that contains what was typed comes first ("Cornwal"), then names spelt alike.
    near = [n for n in names if text.lower() in n.lower()]
    near += [n for n in difflib.get_close_matches(text, names, n=3, cutoff=0.3) if n not in near]
    near = near[:3]
    out = [f"There is no area called '{text[:60]}'{among}."]
    if near:
        out.append(
            "Did you mean " + (", ".join(near[:-1]) + " or " + near[-1] if len(near) > 1 else near[0]) + "?"
        )
    out.append("The England page lists every area, by name and on a map.")
    return out


# ---- the plans list --------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionRow:
    version: int
    name: str
    saved_at: str
    author: str
    state: str  # draft, submitted, returned, accepted, withdrawn (its latest submission's)
    status: str  # the state in words
    live: str  # "published", "submitted" (the footprint's current submission) or ""


@dataclass(frozen=True)
class PlanRow:
    id: int
    name: str
    footprint: str
    versions: tuple[VersionRow, ...]  # newest first


def _version_state(subs: list[dict]) -> tuple[str, str, str]:
    """(state, words, live) of a version from its submissions, oldest first."""
    if not subs:
        return "draft", "draft, not sent", ""
    last = subs[-1]
    current = last["superseded_by"] is None
    words = {
        "submitted": "sent, waiting for a decision"
        if current
        else "sent, then replaced by a later submission",
        "returned": "returned by NHS England",
        "accepted": "accepted and published",
        "withdrawn": "accepted, then withdrawn",
    }[last["state"]]
    live = (
        "published"
        if last["state"] == "accepted"
        else ("submitted" if current and last["state"] == "submitted" else "")
    )
    return last["state"], words, live


def plan_list(service, actor) -> tuple[PlanRow, ...]:
    """Every plan ``actor`` may read with each version's date, author and status: draft, sent,
    returned, published or withdrawn, and which one is live (published, or the footprint's
    current submission)."""
    out = []
    subs = service.list_submissions(actor)
    for p in service.list_plans(actor):
        plan = service.get_plan(actor, p["id"])
        rows = []
        for v in reversed(plan["versions"]):
            mine = [x for x in subs if x["plan_id"] == plan["id"] and x["version"] == v["version"]]
            state, words, live = _version_state(mine)
            rows.append(
                VersionRow(v["version"], v["name"], v["created_at"], v.get("author", ""), state, words, live)
            )
        out.append(PlanRow(plan["id"], plan["name"], plan["footprint"], tuple(rows)))
    return tuple(out)


# ---- submissions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionRow:
    id: int
    version: int
    state: str
    submitted_at: str
    current: bool  # the footprint's current submission (not superseded)
    comments: tuple[dict, ...]
    plan_id: int | None = None

    @property
    def ref(self) -> str:
        """``PLAN:VERSION``, as the compare page reads it."""
        return f"{self.plan_id}:{self.version}"


@dataclass(frozen=True)
class VersionStatus:
    may_edit: bool
    may_submit: bool
    submissions: tuple[SubmissionRow, ...]  # this plan's, newest first
    returned: SubmissionRow | None  # this version's current submission, when it was returned
    current: SubmissionRow | None  # this version's current submission, if any
    may_attest: bool = False  # a lead of the footprint may attest the four tests
    attestations: tuple[dict, ...] = ()  # this version's current attestations
    attestable: tuple[tuple[str, str], ...] = ()  # (test, title) a lead may attest


def _row(sub: dict) -> SubmissionRow:
    return SubmissionRow(
        sub["id"],
        sub["version"],
        sub["state"],
        sub["submitted_at"],
        sub["superseded_by"] is None,
        tuple(sub.get("comments") or ()),
        sub["plan_id"],
    )


def version_status(service, actor, version: dict) -> VersionStatus:
    """What the version page shows about submitting: whether ``actor`` may edit the plan or
    submit this version (a lead of its footprint; not when it is already the footprint's
    current submission, which the service would refuse), and the plan's submissions with the
    reviewers' comments."""
    subs = [
        _row(s)
        for s in service.list_submissions(actor, version["footprint"])
        if s["plan_id"] == version["id"]
    ]
    mine = [s for s in subs if s.version == version["version"] and s.current]
    current = mine[-1] if mine else None
    from ..service.catalogue import ATTESTED, FOUR_TESTS

    attested = [a for a in service.attestations(actor, version["id"], version["version"]) if a["current"]]
    return VersionStatus(
        may_edit=_may_edit(actor, version["footprint"]),
        may_submit=actor.role == "lead" and version["footprint"] in actor.footprints and current is None,
        submissions=tuple(reversed(subs)),
        returned=current if current is not None and current.state == "returned" else None,
        current=current,
        may_attest=actor.role == "lead" and version["footprint"] in actor.footprints,
        attestations=tuple(attested),
        attestable=tuple((t, FOUR_TESTS[t]) for t in ATTESTED),
    )


@dataclass(frozen=True)
class Standing:
    """What a reviewer decides with, read from the submitted version's stored run record, in
    the plan's last year. Gaps are shortfalls (positive), £."""

    year: str
    plan_gap: dict  # mean, p10, p50, p90
    do_nothing_gap: dict
    per_head: float  # the plan's gap (mean) per resident that year
    change: float | None  # the plan's gap less the previous submission's (None: the first one)
    weak_share: float | None  # share of care models' savings resting on weak or no evidence
    risk: str  # high, medium or low (``RISK_RULE``)
    risk_why: str


RISK_RULE = (
    "High: the plan still leaves a gap in at least 9 runs in 10 (its 80% interval is wholly above "
    "nought), or over half of its care models' savings rest on weak or no evidence. Medium: a gap "
    "is possible (the interval reaches above nought), or over a quarter of the savings rest on weak "
    "or no evidence. Low: neither."
)
RISKS = ("high", "medium", "low")
BOARD_SORTS = {
    "status": "Status (waiting first)",
    "name": "Footprint name",
    "gap": "Gap with the plan (largest first)",
    "per_head": "Gap per head (largest first)",
    "change": "Change since the last submission (worst first)",
    "risk": "Risk (highest first)",
}
STATUS_ORDER = ("submitted", "returned", "accepted", "withdrawn", "missing")


def weak_evidence_share(doc: dict) -> float | None:
    """The share of the care models' savings (each adopted alone: the organisations' gain in the
    last year, mean, summed) that rests on weak or no evidence of effect; None when the care
    models save nothing."""
    tests = (doc.get("service_change") or {}).get("four_tests", {})
    grades = {g["care_model"]: g["grade"] for g in tests.get("clinical_evidence", {}).get("care_models", [])}
    saving: dict[str, float] = {}
    for row in doc.get("incentives") or []:
        saving[row["intervention"]] = saving.get(row["intervention"], 0.0) + row["gain"]["mean"]
    total = sum(max(v, 0.0) for v in saving.values())
    if total <= 0:
        return None
    weak = sum(max(v, 0.0) for k, v in saving.items() if grades.get(k) in ("weak", "null"))
    return weak / total


def risk_of(plan_gap: dict, weak: float | None) -> tuple[str, str]:
    """The reviewer's risk level and its reason (``RISK_RULE``)."""
    weak = weak or 0.0
    words = f"{weak:.0%} of savings on weak or no evidence"
    if plan_gap["p10"] > 0:
        return "high", f"a gap is left in at least 9 runs in 10; {words}"
    if weak > 0.5:
        return "high", words
    if plan_gap["p90"] > 0:
        return "medium", f"a gap is possible; {words}"
    if weak > 0.25:
        return "medium", words
    return "low", f"no gap in at least 9 runs in 10; {words}"


def _population(code: str, year: str) -> float:
    from ..service.catalogue import find_footprint, projection_of

    proj = projection_of([find_footprint(code)])
    return float(proj.population[parse_year(year) - BASE_YEAR].sum())


def standing(service, actor, sub: dict, previous: dict | None) -> Standing:
    """A submission's standing from its version's stored run (and the previous submission's)."""
    doc = service.run(actor, sub["plan_id"], sub["version"])
    last = last_year(doc)
    fin = doc["finance"]
    plan_gap, dn_gap = gap(fin["system"], last), gap(fin["do_nothing"]["system"], last)
    change = None
    if previous is not None:
        before = service.run(actor, previous["plan_id"], previous["version"])
        change = plan_gap["mean"] - gap(before["finance"]["system"], last_year(before))["mean"]
    weak = weak_evidence_share(doc)
    risk, why = risk_of(plan_gap, weak)
    per_head = plan_gap["mean"] / _population(sub["footprint"], last)
    return Standing(last, plan_gap, dn_gap, per_head, change, weak, risk, why)


@dataclass(frozen=True)
class BoardRow:
    code: str
    name: str
    region: str
    state: str  # missing, submitted, returned, accepted or withdrawn
    submission: SubmissionRow | None
    plan_id: int | None
    plan_name: str | None
    flags: tuple[str, ...] = ()  # service change: consultation flags and bed closures
    standing: Standing | None = None
    previous: SubmissionRow | None = None  # the submission this one superseded

    @property
    def previous_ref(self) -> str:
        return self.previous.ref if self.previous else ""


def service_flags(document: dict) -> tuple[str, ...]:
    """What a reviewer should see first about a plan's service changes: proposals likely to need
    formal consultation, and the beds it closes (no run needed)."""
    from ..service.catalogue import consultation

    plan = _document_plan(document)
    sc = plan.service_changes
    if sc is None:
        return ()
    out = []
    flagged = consultation(plan)
    if flagged:
        n = len(flagged)
        out.append(f"{n} likely substantial variation{'s' if n != 1 else ''}: formal consultation")
    closed = sum(-b.change for b in sc.beds if b.change < 0)
    if closed:
        out.append(f"closes {closed:,} beds: beds test applies")
    return tuple(out)


@dataclass(frozen=True)
class Board:
    rows: tuple[BoardRow, ...]  # the rows shown, filtered and sorted
    counts: dict[str, int] = field(default_factory=dict)  # over all 44 footprints
    regions: tuple[str, ...] = ()
    chosen: dict[str, str] = field(default_factory=dict)  # the filters and sort in force
    total: int = 0


def _board_row(service, actor, fp, sub: dict | None, previous: dict | None) -> BoardRow:
    if sub is None:
        return BoardRow(fp.code, fp.name, fp.region, "missing", None, None, None)
    version = service.get_version(actor, sub["plan_id"], sub["version"])
    return BoardRow(
        fp.code,
        fp.name,
        fp.region,
        sub["state"],
        _row(sub),
        sub["plan_id"],
        version["name"],
        service_flags(version["document"]),
        standing(service, actor, sub, previous),
        _row(previous) if previous else None,
    )


def _sort_key(sort: str):
    def key(r: BoardRow):
        st = r.standing
        blank = (1, 0.0)  # footprints without a run go last
        if sort == "gap":
            return (0, -st.plan_gap["mean"]) if st else blank, r.name
        if sort == "per_head":
            return (0, -st.per_head) if st else blank, r.name
        if sort == "change":
            return (0, -st.change) if st and st.change is not None else blank, r.name
        if sort == "risk":
            return (RISKS.index(st.risk) if st else len(RISKS)), r.name
        if sort == "status":
            return STATUS_ORDER.index(r.state), r.name
        return r.name

    return key


def board(service, actor, status: str = "", region: str = "", risk: str = "", sort: str = "status") -> Board:
    """Every footprint's current submission with what a reviewer decides with (``Standing``),
    for national reviewers (who accept, return and withdraw); filtered by ``status``,
    ``region`` and ``risk`` (empty: all) and sorted by ``sort`` (``BOARD_SORTS``)."""
    from ..service.catalogue import all_footprints

    if actor.role != "national":
        raise Forbidden(f"{actor.name} ({actor.role}) may not review submissions")
    fps = sorted(all_footprints(), key=lambda f: f.name)
    regions = tuple(sorted({f.region for f in fps}))
    problems = []
    for what, value, allowed in (
        ("status", status, STATUS_ORDER),
        ("region", region, regions),
        ("risk", risk, RISKS),
        ("sort", sort, tuple(BOARD_SORTS)),
    ):
        if value and value not in allowed:
            problems.append(f"{what}: {value!r} is not one of the choices ({', '.join(allowed)})")
    if problems:
        raise Invalid(problems[0], problems)
    subs = service.list_submissions(actor)
    by_id = {s["id"]: s for s in subs}
    current = {s["footprint"]: s for s in subs if s["superseded_by"] is None}
    # The submission each current one superseded: the footprint's latest before it.
    previous = {s["superseded_by"]: s for s in subs if s["superseded_by"] in by_id}
    rows = []
    for fp in fps:
        sub = current.get(fp.code)
        rows.append(_board_row(service, actor, fp, sub, previous.get(sub["id"]) if sub else None))
    counts = {s: sum(r.state == s for r in rows) for s in STATUS_ORDER}
    shown = [
        r
        for r in rows
        if (not status or r.state == status)
        and (not region or r.region == region)
        and (not risk or (r.standing is not None and r.standing.risk == risk))
    ]
    shown.sort(key=_sort_key(sort or "status"))
    chosen = {"status": status, "region": region, "risk": risk, "sort": sort or "status"}
    return Board(tuple(shown), counts, regions, chosen, len(rows))


DECISIONS = {
    # action: (state it needs, heading, what happens, the text box's label and hint, the button)
    "accept": (
        "submitted",
        "Accept the plan from {name}?",
        "Accepting publishes this version: the public page, England's map and the national roll-up "
        "will show it. It can be withdrawn later, with a reason.",
        None,
        None,
        "Accept and publish",
    ),
    "return": (
        "submitted",
        "Return the plan to {name}?",
        "Returning sends the plan back to the footprint's lead with your comment. The footprint's "
        "earlier standing submission, if any, stays in place.",
        "Your comment for the footprint",
        "Say what must change before the plan can be accepted. The footprint's lead reads it.",
        "Return with this comment",
    ),
    "withdraw": (
        "accepted",
        "Withdraw the published plan from {name}?",
        "Withdrawing takes the plan off the public page, England's map and the national roll-up. "
        "The reason is kept with the submission and in the audit log.",
        "Why the plan is withdrawn",
        "The footprint's lead and the audit log keep this reason.",
        "Withdraw the plan",
    ),
}


@dataclass(frozen=True)
class Decision:
    """A decision's confirmation page: the submission's row and the words for ``action``."""

    action: str
    row: BoardRow
    heading: str
    consequence: str
    text_label: str | None
    text_hint: str | None
    button: str


def decision(service, actor, sid: int, action: str) -> Decision:
    """The confirmation page for ``action`` (accept, return, withdraw) on submission ``sid``,
    with what a reviewer decides with; Conflict when the submission is not in the state the
    action needs."""
    from ..service.catalogue import find_footprint

    if actor.role != "national":
        raise Forbidden(f"{actor.name} ({actor.role}) may not review submissions")
    subs = service.list_submissions(actor)
    sub = next((s for s in subs if s["id"] == sid), None)
    if sub is None:
        raise NotFound(f"submission {sid} not found")
    needs, heading, consequence, label, hint, button = DECISIONS[action]
    if sub["state"] != needs or (needs == "submitted" and sub["superseded_by"] is not None):
        raise Conflict(
            f"submission {sid} is {sub['state']}"
            + (" and superseded" if sub["superseded_by"] else "")
            + f"; only {'a current, undecided' if needs == 'submitted' else 'an accepted'} submission can be"
            + f" {'withdrawn' if action == 'withdraw' else action + 'ed'}"
        )
    previous = next((s for s in subs if s["superseded_by"] == sid), None)
    row = _board_row(service, actor, find_footprint(sub["footprint"]), sub, previous)
    name = row.name
    return Decision(action, row, heading.format(name=name), consequence, label, hint, button)


__all__ = [
    "Board",
    "Chart",
    "Comparison",
    "EditError",
    "Editor",
    "FieldError",
    "Preview",
    "Results",
    "Table",
    "board",
    "choices",
    "compare",
    "edited_document",
    "initial_fields",
    "editor",
    "field_errors",
    "field_id",
    "parse_ref",
    "preview",
    "results",
    "save",
    "story",
    "version_status",
]


# ---- England with the plans ------------------------------------------------------------------

ENGLAND_DRAWS, ENGLAND_SEED = 200, 1  # as the England page's do-nothing roll-up (web.figures)


def _public_reader():
    from ..service import PUBLIC

    return PUBLIC


def _plan_view_reader(actor):
    """Who reads England's plan view: national users themselves, everyone else as the public."""
    return actor if actor is not None and actor.role == "national" else _public_reader()


def england_plan_versions(service, actor) -> dict[str, dict]:
    """Each footprint's plan for England's plan view, as ``Service.get_version`` documents by
    footprint code: the latest submission that stands, not returned or withdrawn (as ``rollup_submissions``
    chooses them) for national users; for everyone else (anonymous visitors too: ``actor`` None)
    the latest accepted, published one."""
    reader = _plan_view_reader(actor)
    national = reader is actor
    latest: dict[str, dict] = {}
    for sub in service.list_submissions(reader):  # oldest first: the last one kept is the latest
        if sub["state"] in catalogue.STOOD_DOWN or (not national and sub["state"] != "accepted"):
            continue
        latest[sub["footprint"]] = sub
    return {code: service.get_version(reader, sub["plan_id"], sub["version"]) for code, sub in latest.items()}


def england_plans(service, actor) -> dict:
    """{footprint code: Plan} for England's plan view (``england_plan_versions``), validated."""
    from ..service.catalogue import validate_plan as validate

    return {
        code: validate(v["document"], source=f"plan {v['id']} version {v['version']}")
        for code, v in england_plan_versions(service, actor).items()
    }


@dataclass(frozen=True)
class FootprintPlan:
    """A footprint's plan in England's plan view, as its results page shows it."""

    plan_id: int
    version: int
    name: str
    draws: int
    seed: int
    numbers: Table  # the results page's key numbers, from the same stored run


def footprint_plan(service, actor, code: str) -> FootprintPlan | None:
    """The footprint's plan in England's plan view (``england_plan_versions``: published, or
    the current submission for national users), with the key numbers of its stored run."""
    v = england_plan_versions(service, actor).get(code)
    if v is None:
        return None
    reader = _plan_view_reader(actor)
    doc = service.run(reader, v["id"], v["version"])
    return FootprintPlan(v["id"], v["version"], v["name"], doc["draws"], doc["seed"], key_numbers(doc))


def england_with_plans(service, actor, year: str) -> dict[str, float]:
    """{footprint code: its plan's gap in ``year`` (or the plan's last year if it stops
    earlier), £, mean} for England's plan view, each read from the plan version's stored run
    record: the figure its results page, report and API show, at the plan's own draws and seed."""
    reader = _plan_view_reader(actor)
    out = {}
    for code, v in england_plan_versions(service, actor).items():
        gap = service.run(reader, v["id"], v["version"])["finance"]["system"]["gap"]
        out[code] = gap[year if year in gap else list(gap)[-1]]["mean"]
    return out


# ---- the track record -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackRecordPage:
    draws: int
    words: tuple[str, ...]  # the report's own words (report.track.paragraphs)
    summary: Table  # each measure: inside, average error, bias, CRPS; before and after calibration
    charts: tuple[Chart, ...]  # one fan per measure with what happened as points
    moved: Table  # the parameters history moved: before and after
    hold_out: Table  # 2019/20 scored after calibrating on the years before
    measures: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]  # title, definition, sources by year


def _median_range(x: Mapping[str, float]) -> str:
    return f"{x['p50']:.2f} ({x['p10']:.2f} to {x['p90']:.2f})"


def track_record_page(doc: dict) -> TrackRecordPage:
    """The dashboard's track-record page from the track record's document (``stpsim backtest
    --calibrate``): nothing scored again here."""
    cal, held = doc["calibration"], doc["hold_out"]
    summary = Table(
        "Measure by measure: how often the 80% interval held what happened, the average error of the "
        "central projection and its bias (above nought: projected too much), before and after calibration",
        (
            "Measure",
            "Inside the 80% interval",
            "Average error",
            "Bias",
            "Calibrated: inside",
            "Calibrated: bias",
        ),
        tuple(
            (
                s["title"],
                f"{s['inside']} of {s['years']}",
                f"{s['mape']:.1f}%",
                f"{signed(s['bias_pct'])}%",
                f"{cal['summary'][m]['inside']} of {s['years']}",
                f"{signed(cal['summary'][m]['bias_pct'])}%",
            )
            for m, s in doc["summary"].items()
        ),
    )
    moved = Table(
        f"What calibrating on {' and '.join(cal['years'])} moved: each parameter's median and 80% range",
        ("Parameter", "Before", "After", "Unit"),
        tuple(
            (m["title"], _median_range(m["prior"]), _median_range(m["posterior"]), m["unit"])
            for m in cal["moved"]
        ),
    )
    hold_out = Table(
        f"Calibrated on {' and '.join(held['calibrated_on'])}, then {held['year']} scored: the central "
        "projection's error before and after",
        ("Measure", "Error before", "Error after"),
        tuple(
            (b["title"], f"{signed(b['bias_pct'])}%", f"{signed(held['after'][m]['bias_pct'])}%")
            for m, b in held["before"].items()
        ),
    )
    return TrackRecordPage(
        draws=doc["draws"],
        words=tuple(catalogue.track_record_words(doc)),
        summary=summary,
        charts=tuple(track_record_chart(doc, m) for m in doc["fans"]),
        moved=moved,
        hold_out=hold_out,
        measures=tuple(
            (m["title"], m["definition"], tuple(m["sources"].items()))
            for m in doc["measures"].values()
            if m["compare"] != "input"
        ),
    )
