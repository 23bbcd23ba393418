"""A plan's finance section is checked all at once: every problem, each on one line with its
field path and what is allowed (issue 24, item 5: the mutation test of finance/validation.py
found problems no test looked at in full, and a valid contract list no test accepted).

Each test compares the whole list of problems, so a check that stopped early, reported a
problem twice, lost one or worded one differently would show."""

from __future__ import annotations

import pytest

from stpsim.axes import ALL_SETTINGS
from stpsim.contract_terms import FinanceOptions
from stpsim.finance.validation import acute_shares, check_options
from stpsim.footprint import find
from stpsim.organisations import organisations

CORNWALL = find("E54000036")  # one acute trust, acute:REF
GREATER_MANCHESTER = find("E54000007")  # seven acute trusts
GM_TRUSTS = "acute:RMC, acute:R0A, acute:RW6, acute:RM3, acute:RWJ, acute:RMP, acute:RRF"
EVERY_SETTING = ", ".join(ALL_SETTINGS)
NHS_SETTINGS = ", ".join(k for k in ALL_SETTINGS if k not in ("home_care_hours", "care_home_weeks"))
CORNWALL_ORGS = (
    "acute, acute:REF, commissioner, community, local_government, mental_health, nhs_england, "
    "out_of_area, primary_care, social_care, specialised"
)
COMMUNITY_SETTINGS = (
    "community_nursing_contacts, physiotherapy_contacts, community_consultant_sessions, hospital_at_home_days"
)


def problems(fps=(CORNWALL,), **finance) -> list[str]:
    return check_options(FinanceOptions(**finance), list(fps))


def listed(*contracts) -> list[dict]:
    return [dict(c) for c in contracts]


ACUTE_PBR = {"payee": "acute", "mechanism": "pbr"}
COMMUNITY_BLOCK = {"payee": "community", "mechanism": "block"}
GP_BLOCK = {"payee": "primary_care", "mechanism": "block"}


# ---- lists that pay every delivered setting once are accepted -------------------------------


@pytest.mark.parametrize(
    "contracts",
    [
        listed(ACUTE_PBR, COMMUNITY_BLOCK, GP_BLOCK),
        # One trust's settings split between two contracts.
        listed(
            {
                "payee": "acute",
                "mechanism": "blended",
                "settings": ["ae_attendances", "emergency_admissions"],
            },
            {
                "payee": "acute:REF",
                "mechanism": "pbr",
                "settings": [
                    s for s in ALL_SETTINGS[4:12] if s not in ("ae_attendances", "emergency_admissions")
                ]
                + ["geriatrician_hours"],
            },
            COMMUNITY_BLOCK,
            GP_BLOCK,
            {"payee": "mental_health", "mechanism": "block"},
        ),
        # A budget for acute and community care pays every provider of them.
        listed(
            {
                "payee": "community",
                "mechanism": "capitation",
                "settings": list(ALL_SETTINGS[2:12]) + list(ALL_SETTINGS[14:]),
            },
            GP_BLOCK,
        ),
        # A declining contract's money may go to the mental health provider.
        listed(
            {"payee": "acute", "mechanism": "declining", "recipient": "mental_health"},
            COMMUNITY_BLOCK,
            GP_BLOCK,
        ),
    ],
)
def test_a_complete_contract_list_has_no_problems(contracts):
    assert problems(contracts=contracts) == []


def test_a_delivery_override_moves_whose_contract_must_pay():
    # General practice's consultations moved to the community provider: its block must pay them,
    # and general practice then delivers nothing.
    delivery = {"gp_consultations": {"community": 1.0}, "practice_nurse_consultations": {"community": 1.0}}
    assert problems(delivery=delivery, contracts=listed(ACUTE_PBR, COMMUNITY_BLOCK, GP_BLOCK)) == []
    got = problems(
        delivery=delivery,
        contracts=listed(
            ACUTE_PBR,
            {"payee": "community", "mechanism": "block", "settings": ["community_nursing_contacts"]},
            {"payee": "primary_care", "mechanism": "block", "settings": ["gp_consultations"]},
        ),
    )
    assert got == [
        "finance.contracts.2.settings: primary_care does not deliver gp_consultations; it delivers "
        "nothing modelled",
        "finance.contracts: gp_consultations delivered by community is unpaid; add it to a contract",
        "finance.contracts: practice_nurse_consultations delivered by community is unpaid; add it to a "
        "contract",
        "finance.contracts: physiotherapy_contacts delivered by community is unpaid; add it to a contract",
        "finance.contracts: community_consultant_sessions delivered by community is unpaid; add it to a "
        "contract",
        "finance.contracts: hospital_at_home_days delivered by community is unpaid; add it to a contract",
    ]


def test_a_trust_given_no_share_of_acute_care_delivers_none_of_it():
    shares = {"RMC": 1.0} | {t.removeprefix("acute:"): 0.0 for t in GM_TRUSTS.split(", ")[1:]}
    contracts = listed(
        ACUTE_PBR,
        {"payee": "acute:R0A", "mechanism": "block", "settings": ["day_cases"]},
        COMMUNITY_BLOCK,
        GP_BLOCK,
    )
    assert problems([GREATER_MANCHESTER], acute_shares=shares, contracts=contracts) == [
        "finance.contracts.1.settings: acute:R0A does not deliver day_cases; it delivers nothing modelled"
    ]


# ---- every problem of a contract list, in order ---------------------------------------------


def test_every_problem_of_a_contract_list_is_reported():
    got = problems(
        contracts=listed(
            {"payee": "social_care", "mechanism": "block"},
            {"payee": "acute", "mechanism": "declining", "recipient": "nhs_england"},
            {"payee": "community", "mechanism": "block", "settings": ["day_cases", "x_ray"]},
            GP_BLOCK,
        )
    )
    assert got == [
        "finance.contracts.1.recipient: 'nhs_england' must name one organisation; allowed: acute:REF, "
        "community, mental_health, primary_care",
        "finance.contracts.0.payee: social_care is not an NHS provider; allowed kinds: acute, community, "
        "mental_health, primary_care",
        "finance.contracts.2.settings: community does not deliver day_cases; it delivers "
        f"{COMMUNITY_SETTINGS}",
        f"finance.contracts.2.settings: unknown setting 'x_ray'; allowed: {EVERY_SETTING}",
        "finance.contracts: community_nursing_contacts delivered by community is unpaid; add it to a "
        "contract",
        "finance.contracts: physiotherapy_contacts delivered by community is unpaid; add it to a contract",
        "finance.contracts: community_consultant_sessions delivered by community is unpaid; add it to a "
        "contract",
        "finance.contracts: hospital_at_home_days delivered by community is unpaid; add it to a contract",
    ]


def test_an_unknown_payee_does_not_stop_the_other_contracts_being_checked():
    got = problems(contracts=listed({"payee": "acute:XYZ", "mechanism": "pbr"}, ACUTE_PBR, COMMUNITY_BLOCK))
    assert got == [
        f"finance.contracts.0.payee: unknown organisation 'acute:XYZ'; allowed: {CORNWALL_ORGS}",
        "finance.contracts: gp_consultations delivered by primary_care is unpaid; add it to a contract",
        "finance.contracts: practice_nurse_consultations delivered by primary_care is unpaid; add it to a "
        "contract",
    ]


def test_a_capitation_budget_must_be_held_by_one_provider_and_cover_nhs_care():
    got = problems(
        contracts=listed(
            {
                "payee": "mental_health",
                "mechanism": "capitation",
                "settings": ["home_care_hours", "day_cases", "x_ray"],
            },
            ACUTE_PBR,
            COMMUNITY_BLOCK,
            GP_BLOCK,
        )
    )
    assert got == [
        "finance.contracts.0.payee: 'mental_health' must name one organisation; allowed: acute:REF, "
        "community, primary_care",
        f"finance.contracts.0.settings: 'home_care_hours' cannot be capitated; allowed: NHS settings "
        f"({NHS_SETTINGS})",
        f"finance.contracts.0.settings: 'x_ray' cannot be capitated; allowed: NHS settings ({NHS_SETTINGS})",
        "finance.contracts: day_cases delivered by acute:REF is paid twice (contracts 0, 1)",
    ]


def test_a_capitation_contract_without_settings_is_one_problem_and_the_rest_are_checked():
    got = problems(
        contracts=listed(
            {"payee": "acute", "mechanism": "pbr", "settings": ["x_ray"]},
            {"payee": "community", "mechanism": "capitation"},
            ACUTE_PBR,
            COMMUNITY_BLOCK,
            GP_BLOCK,
        )
    )
    assert got == [
        f"finance.contracts.0.settings: unknown setting 'x_ray'; allowed: {EVERY_SETTING}",
        "finance.contracts.1.settings: a capitation contract must list the settings its budget covers",
    ]


def test_the_mental_health_provider_paid_twice_names_both_contracts():
    mh = {"payee": "mental_health", "mechanism": "block"}
    got = problems(contracts=listed(ACUTE_PBR, mh, COMMUNITY_BLOCK, GP_BLOCK, mh))
    assert got == ["finance.contracts: the mental health provider is paid twice (contracts 1, 4)"]


def test_problems_in_a_plan_of_two_footprints_say_which_footprint():
    got = problems(
        (CORNWALL, GREATER_MANCHESTER),
        contracts=listed({"payee": "acute", "mechanism": "pbr", "settings": ["day_cases"]}, ACUTE_PBR),
    )
    assert (
        "finance.contracts: day_cases delivered by acute:REF is paid twice (contracts 0, 1) (in E54000036)"
        in got
    )
    assert (
        "finance.contracts: gp_consultations delivered by primary_care is unpaid; add it to a contract "
        "(in E54000007)" in got
    )
    assert all(p.endswith(("(in E54000036)", "(in E54000007)")) for p in got)


# ---- the rest of the finance section --------------------------------------------------------


def test_acute_shares_name_this_footprints_trusts_within_0_and_1_summing_to_1():
    assert problems(acute_shares={"XYZ": 0.5, "REF": 1.2}) == [
        "finance.acute_shares.XYZ: not an acute trust of E54000036; allowed: REF",
        "finance.acute_shares.REF: share 1.2 outside [0, 1]",
        "finance.acute_shares: E54000036's trusts' shares sum to 1.2, not 1",
    ]
    assert problems(acute_shares={"acute:REF": 1.0}) == []
    assert problems(acute_shares={"REF": 0.0}) == [
        "finance.acute_shares: E54000036's trusts' shares sum to 0, not 1"
    ]
    # A plan of two footprints lists the trusts of both; each footprint's own must sum to 1.
    assert problems((CORNWALL, GREATER_MANCHESTER), acute_shares={"REF": 1.0, "RMC": 0.5}) == [
        "finance.acute_shares: E54000007's trusts' shares sum to 0.5, not 1"
    ]


def test_acute_shares_keep_only_the_footprints_own_trusts_as_org_ids():
    options = FinanceOptions(acute_shares={"REF": 0.4, "acute:RMC": 0.6})
    assert acute_shares(options) == {"acute:REF": 0.4, "acute:RMC": 0.6}
    assert acute_shares(options, organisations(CORNWALL)) == {"acute:REF": 0.4}
    assert acute_shares(FinanceOptions(acute_shares={"RMC": 0.6}), organisations(CORNWALL)) is None
    assert acute_shares(FinanceOptions()) is None


def test_every_problem_with_who_delivers_what_is_reported():
    got = problems(
        delivery={
            "x_ray": {"acute": 1.0},
            "hospital_at_home_days": {"acute": 0.5, "community": 0.6},
            "gp_consultations": {"social_care": 1.0},
            "home_care_hours": {"community": 1.0},
            "day_cases": {"nobody": 1.0},
            "outpatient_first": {"acute": 1.5, "community": -0.5},
        }
    )
    assert got == [
        f"finance.delivery.x_ray: unknown setting; allowed: {EVERY_SETTING}",
        "finance.delivery.hospital_at_home_days: shares sum to 1.1, not 1",
        "finance.delivery.outpatient_first.acute: share 1.5 outside [0, 1]",
        "finance.delivery.outpatient_first.community: share -0.5 outside [0, 1]",
        "finance.delivery.gp_consultations.social_care: gp_consultations can be delivered only by acute or "
        "community or primary_care",
        "finance.delivery.home_care_hours.community: home_care_hours can be delivered only by social_care",
        f"finance.delivery.day_cases.nobody: unknown organisation 'nobody'; allowed: {CORNWALL_ORGS}",
    ]


def test_shares_of_exactly_0_and_1_are_allowed():
    assert problems(delivery={"day_cases": {"acute": 0.0, "community": 1.0}}) == []


def test_bed_days_follow_their_admissions():
    split = {"acute": 0.5, "community": 0.5}
    assert problems(delivery={"emergency_admissions": split, "emergency_bed_days": split}) == []
    assert problems(delivery={"emergency_admissions": split, "emergency_bed_days": {"acute": 1.0}}) == [
        "finance.delivery.emergency_bed_days: bed days follow their admissions; give "
        "finance.delivery.emergency_admissions only"
    ]


def test_market_forces_factors_lie_between_0_8_and_1_5_and_name_an_organisation():
    got = problems(
        mff={"acute": 1.6, "community": 0.8, "primary_care": 1.5, "mental_health": 0.79, "xyz": 1.0}
    )
    assert got == [
        "finance.mff.acute: 1.6 outside the allowed 0.8 to 1.5",
        "finance.mff.mental_health: 0.79 outside the allowed 0.8 to 1.5",
        f"finance.mff.xyz: unknown organisation 'xyz'; allowed: {CORNWALL_ORGS}",
    ]


def test_the_budget_holder_and_the_recipient_must_be_one_provider_in_every_footprint():
    assert problems(contracts="capitation", capitation_lead="acute") == []
    assert problems((CORNWALL, GREATER_MANCHESTER), contracts="capitation", capitation_lead="acute") == [
        f"finance.capitation_lead: 'acute' must name one organisation; allowed: {GM_TRUSTS}, community, "
        "primary_care (in E54000007)"
    ]
    assert problems(contracts="declining", declining_recipient="mental_health") == []
    assert problems(
        (CORNWALL, GREATER_MANCHESTER), contracts="declining", declining_recipient="social_care"
    ) == [
        "finance.declining_recipient: 'social_care' must name one organisation; allowed: acute:REF, "
        "community, mental_health, primary_care (in E54000036)",
        f"finance.declining_recipient: 'social_care' must name one organisation; allowed: {GM_TRUSTS}, "
        "community, mental_health, primary_care (in E54000007)",
    ]
    assert problems(contracts="capitation", capitation_lead="nobody") == [
        f"finance.capitation_lead: unknown organisation 'nobody'; allowed: {CORNWALL_ORGS}"
    ]


def test_a_problem_found_in_two_footprints_is_reported_once():
    got = problems((CORNWALL, GREATER_MANCHESTER), mff={"acute": 2.0})
    assert got == ["finance.mff.acute: 2.0 outside the allowed 0.8 to 1.5"]


def test_shares_for_one_footprints_trusts_leave_the_others_to_their_published_sizes():
    assert problems((CORNWALL, GREATER_MANCHESTER), acute_shares={"REF": 1.0}) == []


def test_problems_before_a_contract_list_are_kept_with_the_lists_own():
    got = problems(mff={"acute": 2.0}, contracts=listed(ACUTE_PBR, COMMUNITY_BLOCK))
    assert got == [
        "finance.mff.acute: 2.0 outside the allowed 0.8 to 1.5",
        "finance.contracts: gp_consultations delivered by primary_care is unpaid; add it to a contract",
        "finance.contracts: practice_nurse_consultations delivered by primary_care is unpaid; add it to a "
        "contract",
    ]
