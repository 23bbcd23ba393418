"""Every number in the model's code is a parameter with a source or a logged assumption, or says
why it is not one (issue 24, item 6).

The scanner reads the model's core and its money code (ast): every numeric literal there is
either trivial (0, 1, 2, -1, a half, 100, 1,000, a million, a billion, 365 days), or listed below
with the reason it is not a parameter (an age band's edge named by the published table it
matches, a year of a publication, a tolerance, a validation bound, an array axis, a cache size).
A new number that is a parameter must go to ``assumptions.yaml`` (value, range, why) or a
sourced table, not into the code: this test fails, naming the file, line and value, until it does.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from stpsim import assumptions
from stpsim.payment import mechanisms
from stpsim.payment.rules import rule_book

SRC = Path(__file__).resolve().parents[1] / "src" / "stpsim"
# The model: its core steps and the money. Shells, presenters, the store and the service hold no
# model numbers (they are scanned by review, not here).
SCOPE = (
    "finance",
    "payment",
    "contracts.py",
    "contract_terms.py",
    "costs.py",
    "capacity.py",
    "activity.py",
    "population.py",
    "demography.py",
    "frailty.py",
    "interventions.py",
    "adoption.py",
    "organisations.py",
    "run_parameters.py",
    "parameters.py",
    "engine.py",
)
TRIVIAL = {0, 1, 2, -1, 0.5, 100, 1000, 1e6, 1e9, 365}

AGE_EDGE = "an age band's edge, as the published table it is matched to bands ages"
YEAR = "a year named by the publication the code reads (not a model input)"
TOLERANCE = "a numerical tolerance"
BOUND = "a validation bound on what a user may give (the error names it)"
AXIS = "an array position or slice (axis, field or band index)"
CACHE = "a cache or block size (memory, not the model)"

NOT_PARAMETERS: dict[tuple[str, float], str] = {
    ("activity.py", 0.005): TOLERANCE + ": GP plus nurse rates against the all-staff rate",
    ("activity.py", 5): AGE_EDGE + " (under 5s: births' share of the 0-4 band)",
    ("activity.py", 15): AGE_EDGE + " (adults from 15 in the GP sex-ratio fact)",
    ("activity.py", 18): AGE_EDGE,
    ("activity.py", 64): AGE_EDGE,
    ("activity.py", 65): AGE_EDGE,
    ("activity.py", 84): AGE_EDGE,
    ("activity.py", 85): AGE_EDGE,
    ("contract_terms.py", 5): BOUND + " (provider efficiency, % a year, -5 to 10)",
    ("contract_terms.py", 10): BOUND + " (provider efficiency, % a year, -5 to 10)",
    ("demography.py", 14): AGE_EDGE + " (ONS weekly deaths bands)",
    ("demography.py", 15): AGE_EDGE + " (ONS weekly deaths bands)",
    ("demography.py", 44): AGE_EDGE + " (ONS weekly deaths bands)",
    ("demography.py", 45): AGE_EDGE + " (ONS weekly deaths bands; Gompertz fit from 45)",
    ("demography.py", 64): AGE_EDGE + " (ONS deaths bands; SAMueL broad bands)",
    ("demography.py", 65): AGE_EDGE + " (ONS deaths bands; SAMueL broad bands)",
    ("demography.py", 74): AGE_EDGE + " (ONS weekly deaths bands)",
    ("demography.py", 75): AGE_EDGE + " (ONS weekly deaths bands)",
    ("demography.py", 79): AGE_EDGE + " (SAMueL broad bands 65-79)",
    ("demography.py", 80): AGE_EDGE + " (SAMueL broad bands 80+)",
    ("demography.py", 84): AGE_EDGE + " (ONS weekly deaths bands)",
    ("demography.py", 85): AGE_EDGE + " (ONS weekly deaths bands)",
    ("demography.py", 55268067): "ONS mid-2016 England population, checked against the shipped table "
    "(tests/test_reference_data.py)",
    ("engine.py", 0.8): "memory headroom: a run may take 80% of the memory free (not the model)",
    ("engine.py", 6): "the memory limit, 6 GiB (not the model)",
    ("engine.py", 30): "2**30 bytes in a GiB",
    ("engine.py", 1024): CACHE + " (draws per block of work)",
    ("engine.py", 1400): "bytes per care model per draw-year, measured (memory, not the model)",
    ("engine.py", 2048): "bytes per draw-year, measured (memory, not the model)",
    ("finance/allocations.py", 3): AXIS,
    ("finance/allocations.py", 18): AGE_EDGE + " (adults, working age: the allocation formula's groups)",
    ("finance/allocations.py", 64): AGE_EDGE + " (working age 18-64)",
    ("finance/allocations.py", 1024): CACHE,
    ("finance/allocations.py", 2018): YEAR + " (distances from target published for 2018/19)",
    ("finance/allocations.py", 2020): YEAR + " (allocations published to 2020/21)",
    ("finance/books.py", 0.025): "the 2016/17 CQUIN rate, checked against payment_rules.csv below",
    ("finance/books.py", 3): AXIS,
    ("finance/books.py", 4): AXIS,
    ("finance/books.py", 5): "five years: the GP Forward View's path from 2015/16 to 2020/21",
    ("finance/books.py", 256): CACHE,
    ("finance/books.py", 2015): YEAR + " (the GP Forward View's 2015/16 baseline)",
    ("finance/books.py", 2020): YEAR + " (the GP Forward View's 2020/21 end)",
    ("finance/councils.py", 2016): YEAR + " (the improved Better Care Fund's years)",
    ("finance/councils.py", 2019): YEAR + " (the improved Better Care Fund's last addition)",
    ("finance/councils.py", 2020): YEAR + " (the improved Better Care Fund's years)",
    ("finance/params.py", 0.01): "percent to a share",
    ("finance/params.py", 5.0): BOUND + " (provider efficiency truncated at -5% a year)",
    ("finance/params.py", 10.0): BOUND + " (provider efficiency truncated at 10% a year)",
    ("finance/validation.py", 1e-06): TOLERANCE + ": shares that must add to one",
    ("finance/validation.py", 0.8): BOUND
    + " (market forces factor 0.8 to 1.5; England's ranged 1.00 to 1.32)",
    ("finance/validation.py", 1.5): BOUND + " (market forces factor 0.8 to 1.5)",
    ("frailty.py", 40.0): "the root finder's bracket (ages, years)",
    ("frailty.py", 50): AGE_EDGE + " (Walsh et al. 50-64)",
    ("frailty.py", 64): AGE_EDGE + " (Walsh et al.; eFI 50-64)",
    ("frailty.py", 65): AGE_EDGE + " (Walsh et al.; eFI 65+)",
    ("frailty.py", 74): AGE_EDGE + " (Walsh et al. 65-74)",
    ("frailty.py", 75): AGE_EDGE + " (Walsh et al. 75-84)",
    ("frailty.py", 80): "the root finder's iterations",
    ("frailty.py", 84): AGE_EDGE + " (Walsh et al. 75-84)",
    ("frailty.py", 85): AGE_EDGE + " (Walsh et al. 85+)",
    ("frailty.py", 130.0): "the root finder's bracket (ages, years)",
    ("interventions.py", 1e-09): TOLERANCE + ": evidence components that add to the effect",
    ("interventions.py", 0.95): BOUND + " (an effect avoids at most 95%: interval_distribution's truncation)",
    ("interventions.py", 3): "digits a number is rounded to in words",
    ("interventions.py", 5): BOUND + " (an effect at least -5: activity at most six-fold)",
    ("interventions.py", 40): "characters of a bad value quoted in an error",
    ("interventions.py", 50): BOUND + " (build-up years, a mean length of stay, at most 50)",
    ("organisations.py", 256): CACHE,
    ("payment/mechanisms.py", 0.1): BOUND + " (a contract's own CQUIN rate at most 10%)",
    ("payment/mechanisms.py", 2019): YEAR + " (blended payment's year: its default rate is that year's)",
    ("payment/mechanisms.py", 2022): YEAR
    + " (aligned payment's first year: its default rates are that year's)",
    ("payment/rules.py", 64): CACHE,
    ("population.py", 1e-09): TOLERANCE + ": iterative proportional fitting",
    ("population.py", 3): AXIS,
    ("population.py", 4): AXIS,
    ("population.py", 15): AGE_EDGE + " (women 15-44: the ONS fertility ages)",
    ("population.py", 45): AGE_EDGE + " (women 15-44: the ONS fertility ages)",
    ("run_parameters.py", 1e-06): BOUND + " (a conversion factor stays above nought)",
    ("run_parameters.py", 0.01): "percent to a share",
    ("run_parameters.py", 0.95): BOUND
    + " (an effect avoids at most 95%: interval_distribution's truncation)",
    ("run_parameters.py", 99.0): BOUND + " (growth cannot fall below -99% a year)",
}


def _literals() -> dict[tuple[str, float], list[int]]:
    found: dict[tuple[str, float], list[int]] = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts[0] not in SCOPE and str(rel) not in SCOPE:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Constant)
                and type(node.value) in (int, float)
                and node.value not in TRIVIAL
            ):
                found.setdefault((rel.as_posix(), node.value), []).append(node.lineno)
    return found


def test_every_number_in_the_model_is_sourced_assumed_or_says_why_it_is_not_a_parameter():
    unexplained = [
        f"src/stpsim/{f}:{lines[0]}: {v!r}"
        for (f, v), lines in sorted(_literals().items())
        if (f, v) not in NOT_PARAMETERS
    ]
    assert not unexplained, (
        "numbers in the model's code with no source: move each to assumptions.yaml (value, range, why) "
        "or a sourced table, or say in tests/test_literals.py why it is not a parameter:\n"
        + "\n".join(unexplained)
    )


def test_the_list_of_exceptions_holds_no_stale_entry():
    """An exception for a number the code no longer has is removed, so the list stays true."""
    stale = sorted(set(NOT_PARAMETERS) - set(_literals()))
    assert not stale, f"no longer in the code: {stale}"


def test_the_scanner_finds_a_new_parameter(tmp_path, monkeypatch):
    """A contract rate typed into the money code is caught (the test can fail)."""
    fake = tmp_path / "stpsim"
    (fake / "payment").mkdir(parents=True)
    (fake / "payment" / "extra.py").write_text("def pay(x):\n    return x * 0.37\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", fake)
    assert _literals() == {("payment/extra.py", 0.37): [2]}


@pytest.mark.parametrize(
    "mechanism, term, assumption",
    [
        ("RiskShare", "msr", "risk_share_minimum_rate"),
        ("RiskShare", "mlr", "risk_share_minimum_rate"),
        ("RiskShare", "savings_rate", "risk_share_sharing_rate"),
        ("RiskShare", "loss_rate", "risk_share_sharing_rate"),
        ("RiskShare", "savings_cap", "risk_share_savings_cap"),
        ("RiskShare", "loss_cap", "risk_share_loss_cap"),
        ("CostAndVolume", "band", "cost_and_volume_band"),
        ("Corridor", "share", "gain_loss_share"),
        ("Corridor", "corridor", "gain_loss_corridor_width"),
        ("Declining", "rate", "declining_contract_rate"),
    ],
)
def test_a_contract_terms_default_is_its_logged_assumption(mechanism, term, assumption):
    contract = getattr(mechanisms, mechanism)(payee="acute:X")
    logged = assumptions.get(assumption)
    assert getattr(contract, term) == logged.value
    assert logged.low <= logged.value <= logged.high and logged.why


def test_the_national_rates_are_the_rule_books():
    assert mechanisms.Blended(payee="acute:X").variable_rate == rule_book(2019).blended_variable_rate == 0.2
    api = mechanisms.AlignedPayment(payee="acute:X")
    assert (api.up_rate, api.down_rate) == (
        rule_book(2022).aligned_up_rate,
        rule_book(2022).aligned_down_rate,
    )
    from stpsim.finance.books import CQUIN_RATE

    assert CQUIN_RATE == rule_book(2016).cquin_rate  # the one literal rate left, checked here
