"""Checks of a plan's finance section: every problem at once, each with its field path."""

from __future__ import annotations

from ..axes import ALL_SETTINGS
from ..contract_terms import FinanceOptions, all_settings_of
from ..geography import Footprint
from ..organisations import Organisation, delivery_shares, organisations, resolve

IDX = {k: i for i, k in enumerate(ALL_SETTINGS)}
SOCIAL_CARE_SETTINGS = ("home_care_hours", "care_home_weeks")


def acute_shares(options: FinanceOptions, orgs: list[Organisation] | None = None) -> dict[str, float] | None:
    """The plan's acute shares as org ids, keeping only this footprint's trusts (a plan covering
    several footprints lists the trusts of all of them)."""
    if not options.acute_shares:
        return None
    out = {(k if k.startswith("acute:") else f"acute:{k}"): v for k, v in options.acute_shares.items()}
    if orgs is not None:
        mine = {o.id for o in orgs if o.kind == "acute"}
        out = {k: v for k, v in out.items() if k in mine}
    return out or None


BED_DAYS_OF = {"emergency_bed_days": "emergency_admissions", "elective_bed_days": "elective_admissions"}
PROVIDER_KINDS = ("acute", "community", "primary_care")


def check_options(options: FinanceOptions, fps: list[Footprint]) -> list[str]:
    """Problems with a plan's finance section, one line each with its field path, for every
    footprint the plan covers. Empty when the contracts pay every delivered setting once."""
    problems: list[str] = []
    if options.acute_shares:
        all_trusts = {
            o.id.removeprefix("acute:") for fp in fps for o in organisations(fp) if o.kind == "acute"
        }
        for key, v in options.acute_shares.items():
            if key.removeprefix("acute:") not in all_trusts:
                problems.append(
                    f"finance.acute_shares.{key}: not an acute trust of "
                    f"{', '.join(f.code for f in fps)}; allowed: "
                    f"{', '.join(sorted(all_trusts))}"
                )
            if not 0.0 <= v <= 1.0:
                problems.append(f"finance.acute_shares.{key}: share {v} outside [0, 1]")
    for setting, split in options.delivery.items():
        if setting not in ALL_SETTINGS:
            problems.append(
                f"finance.delivery.{setting}: unknown setting; allowed: {', '.join(ALL_SETTINGS)}"
            )
            continue
        for target, v in split.items():
            if not 0.0 <= v <= 1.0:
                problems.append(f"finance.delivery.{setting}.{target}: share {v} outside [0, 1]")
        if abs(sum(split.values()) - 1.0) > 1e-6:
            problems.append(f"finance.delivery.{setting}: shares sum to {sum(split.values()):.4g}, not 1")
        adm = BED_DAYS_OF.get(setting)
        if adm and adm in options.delivery and options.delivery[adm] != split:
            problems.append(
                f"finance.delivery.{setting}: bed days follow their admissions; give "
                f"finance.delivery.{adm} only"
            )
    for target, v in options.mff.items():
        if not 0.8 <= v <= 1.5:
            problems.append(f"finance.mff.{target}: {v} outside the allowed 0.8 to 1.5")
    for fp in fps:
        orgs = organisations(fp)
        where = f" (in {fp.code})" if len(fps) > 1 else ""

        def one(
            path: str, target: str, kinds: tuple[str, ...], orgs=orgs, where=where, problems=problems
        ) -> None:
            """``target`` must name exactly one organisation of one of ``kinds``."""
            try:
                hits = resolve(target, orgs)
            except ValueError as e:
                problems.append(f"{path}: {e}{where}")
                return
            allowed = [o.id for o in orgs if o.kind in kinds]
            if len(hits) != 1 or hits[0].kind not in kinds:
                problems.append(
                    f"{path}: {target!r} must name one organisation; allowed: {', '.join(allowed)}{where}"
                )

        if options.acute_shares:
            mine = acute_shares(options, orgs) or {}
            if mine and abs(sum(mine.values()) - 1.0) > 1e-6:
                problems.append(
                    f"finance.acute_shares: {fp.code}'s trusts' shares sum to {sum(mine.values()):.4g}, not 1"
                )
        for setting, split in options.delivery.items():
            if setting not in ALL_SETTINGS:
                continue
            kinds = ("social_care",) if setting in SOCIAL_CARE_SETTINGS else PROVIDER_KINDS
            for target in split:
                try:
                    hits = resolve(target, orgs)
                except ValueError as e:
                    problems.append(f"finance.delivery.{setting}.{target}: {e}{where}")
                    continue
                if any(h.kind not in kinds for h in hits):
                    problems.append(
                        f"finance.delivery.{setting}.{target}: {setting} can be delivered only by "
                        f"{' or '.join(kinds)}{where}"
                    )
        for target in options.mff:
            try:
                resolve(target, orgs)
            except ValueError as e:
                problems.append(f"finance.mff.{target}: {e}{where}")
        if options.contracts == "capitation":
            one("finance.capitation_lead", options.capitation_lead, PROVIDER_KINDS)
        if options.contracts == "declining":
            one(
                "finance.declining_recipient", options.declining_recipient, (*PROVIDER_KINDS, "mental_health")
            )
        if isinstance(options.contracts, list):
            problems += _check_contract_list(options, orgs, one, where)
    return list(dict.fromkeys(problems))


def _check_contract_list(options: FinanceOptions, orgs: list[Organisation], one, where: str) -> list[str]:
    problems: list[str] = []
    try:
        shares = delivery_shares(orgs, acute_shares(options, orgs), options.delivery)
    except ValueError:
        return problems  # already reported against finance.delivery
    paid_by: dict[tuple[str, str], list[int]] = {}
    mental_health: list[int] = []
    for n, spec in enumerate(options.contracts):  # type: ignore[arg-type]
        path = f"finance.contracts.{n}"
        try:
            payees = resolve(spec.payee, orgs)
        except ValueError as e:
            problems.append(f"{path}.payee: {e}{where}")
            continue
        if getattr(spec, "recipient", None) is not None:
            one(f"{path}.recipient", spec.recipient, (*PROVIDER_KINDS, "mental_health"))
        own = spec.check(path)
        problems += own
        if spec.holds_budget:
            one(f"{path}.payee", spec.payee, PROVIDER_KINDS)
            if own:
                continue
            for s in spec.settings:
                if s not in ALL_SETTINGS or s in SOCIAL_CARE_SETTINGS:
                    problems.append(
                        f"{path}.settings: {s!r} cannot be capitated; allowed: NHS settings "
                        f"({', '.join(k for k in ALL_SETTINGS if k not in SOCIAL_CARE_SETTINGS)})"
                    )
                    continue
                for i, o in enumerate(orgs):  # the budget pays every provider of the setting
                    if shares[i, IDX[s]] > 0:
                        paid_by.setdefault((o.id, s), []).append(n)
            continue
        for payee in payees:
            if payee.kind == "mental_health":
                mental_health.append(n)
                continue
            if payee.kind not in PROVIDER_KINDS:
                problems.append(
                    f"{path}.payee: {payee.id} is not an NHS provider; allowed kinds: acute, community, "
                    "mental_health, primary_care"
                )
                continue
            delivered = all_settings_of(payee, shares, orgs)
            for s in spec.settings if spec.settings is not None else delivered:
                if s not in ALL_SETTINGS:
                    problems.append(
                        f"{path}.settings: unknown setting {s!r}; allowed: {', '.join(ALL_SETTINGS)}"
                    )
                elif s not in delivered:
                    problems.append(
                        f"{path}.settings: {payee.id} does not deliver {s}; it delivers "
                        f"{', '.join(delivered) or 'nothing modelled'}"
                    )
                else:
                    paid_by.setdefault((payee.id, s), []).append(n)
    for (oid, s), which in paid_by.items():
        if len(which) > 1:
            problems.append(
                f"finance.contracts: {s} delivered by {oid} is paid twice "
                f"(contracts {', '.join(map(str, which))}){where}"
            )
    if len(mental_health) > 1:
        problems.append(
            f"finance.contracts: the mental health provider is paid twice "
            f"(contracts {', '.join(map(str, mental_health))}){where}"
        )
    for i, o in enumerate(orgs):
        if o.kind not in PROVIDER_KINDS:
            continue
        for j, s in enumerate(ALL_SETTINGS):
            if shares[i, j] > 0 and (o.id, s) not in paid_by:
                problems.append(
                    f"finance.contracts: {s} delivered by {o.id} is unpaid; add it to a contract{where}"
                )
    return problems
