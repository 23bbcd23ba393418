"""Write the hostile-input corpus (tests/corpus): plan files and API bodies, each with what its refusal
must name. Run: .venv/bin/python scripts/make_fuzz_corpus.py (the corpus is committed; rerun only to
change it)."""

import json
from pathlib import Path

import yaml

root = Path("tests/corpus")
ok = {
    "name": "fuzz",
    "footprints": ["E54000036"],
    "end_year": "2017/18",
    "monte_carlo": {"draws": 10, "seed": 1},
}


def plan(**changes):
    d = json.loads(json.dumps(ok))
    for k, v in changes.items():
        d[k] = v
    return d


cases = {
    # name: (file text or doc, what the error must name)
    "alias_bomb.yaml": ('a: &a ["x", "x"]\nb: &b [*a, *a]\nc: [*b, *b]\nname: x\n', "YAML aliases"),
    "empty.yaml": ("", "the plan must be a mapping"),
    "a_list.yaml": ("- 1\n- 2\n", "the plan must be a mapping"),
    "no_name.yaml": ({"footprints": ["E54000036"]}, "name"),
    "unknown_footprint.yaml": (plan(footprints=["E54999999"]), "footprints"),
    "draws_zero.yaml": (plan(monte_carlo={"draws": 0}), "monte_carlo.draws"),
    "draws_negative.yaml": (plan(monte_carlo={"draws": -5}), "monte_carlo.draws"),
    "draws_huge.yaml": (plan(monte_carlo={"draws": 10**9}), "monte_carlo.draws"),
    "draws_word.yaml": (plan(monte_carlo={"draws": "many"}), "monte_carlo.draws"),
    "draws_true.yaml": (plan(monte_carlo={"draws": True}), "monte_carlo.draws"),
    "seed_negative.yaml": (plan(monte_carlo={"seed": -1}), "monte_carlo.seed"),
    "end_year_2050.yaml": (plan(end_year="2050/51"), "end_year"),
    "coverage_two.yaml": (
        plan(interventions=[{"name": "hospital_at_home", "coverage": 2}]),
        "interventions.0.coverage",
    ),
    "unknown_care_model.yaml": (plan(interventions=[{"name": "miracle_cure"}]), "interventions.0"),
    "efficiency_backwards.yaml": (
        plan(finance={"provider_efficiency": {"low": 5, "high": 3}}),
        "finance.provider_efficiency",
    ),
    "growth_overflow.yaml": (plan(growth={"gp_consultations": {"low": 1e308, "high": 1e308}}), "growth"),
    "growth_nan.yaml": (
        "name: x\nfootprints: [E54000036]\ngrowth:\n  gp_consultations: {low: .nan, high: 1}\n",
        "growth",
    ),
    "duplicate_key.yaml": ("name: a\nname: b\nfootprints: [E54000036]\n", "given twice"),
    "deep_nesting.yaml": ("name: x\nfootprints: [E54000036]\nz: " + "[" * 20000 + "]" * 20000 + "\n", "nest"),
    "binary.yaml": (b"\xff\xfe\x00\x01garbage\x00", "not a text file"),
    "close_ten_thousand_beds.yaml": (
        plan(
            footprints=["E54000007"],
            service_changes={"beds": [{"trust": "RMC", "year": "2017/18", "change": -10000}]},
        ),
        "service_changes.beds.0.change",
    ),
    "overlapping_footprints.yaml": (
        plan(footprints=["E54000007", {"name": "Bolton area", "local_authorities": ["Bolton"]}]),
        "must not overlap",
    ),
    "population_enormous.yaml": (
        plan(data={"population": {"rows": [{"sex": "male", "age": "0", "population": 1e15}]}}),
        "implausibly large",
    ),
    "unknown_table.yaml": (plan(data={"weather": {"rows": [{"x": 1}]}}), "data.weather"),
    "control_character_name.yaml": (plan(name="evil\x07name"), "name"),
    "unknown_contract_preset.yaml": (plan(finance={"contracts": "free_money"}), "finance.contracts"),
    "unknown_field.yaml": (plan(colour="red"), "colour"),
    "trailing_garbage.json": ('{"name": "x", "footprints": ["E54000036"]} trailing', "not valid JSON"),
}
manifest = {}
for name, (body, expect) in cases.items():
    path = root / "plans" / name
    if isinstance(body, bytes):
        path.write_bytes(body)
    elif isinstance(body, str):
        path.write_text(body, encoding="utf-8")
    elif name.endswith(".json"):
        path.write_text(json.dumps(body), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(body, allow_unicode=False), encoding="utf-8")
    manifest[name] = expect

api = {
    "plans_empty_object.json": ("POST", "/api/plans", {}, 422, "name"),
    "plans_a_list.json": ("POST", "/api/plans", [1, 2], 422, ""),
    "plans_a_string.json": ("POST", "/api/plans", "plan", 422, ""),
    "plans_name_number.json": ("POST", "/api/plans", {"name": 1, "footprints": ["E54000007"]}, 422, "name"),
    "plans_unknown_field.json": (
        "POST",
        "/api/plans",
        dict(ok, footprints=["E54000007"], colour="red"),
        422,
        "colour",
    ),
    "plans_long_description.json": (
        "POST",
        "/api/plans",
        dict(ok, footprints=["E54000007"], description="x" * 6000),
        422,
        "description",
    ),
    "plans_draws_true.json": (
        "POST",
        "/api/plans",
        dict(ok, footprints=["E54000007"], monte_carlo={"draws": True}),
        422,
        "monte_carlo.draws",
    ),
    "plans_other_footprint.json": ("POST", "/api/plans", dict(ok, footprints=["E54000036"]), 403, "may not"),
    "plans_footprint_garbage.json": (
        "POST",
        "/api/plans",
        dict(ok, footprints=["X" * 1000]),
        422,
        "footprints",
    ),
    "runs_plan_id_text.json": ("POST", "/api/runs", {"plan_id": "1", "version": 1}, 422, "plan_id"),
    "runs_plan_id_zero.json": ("POST", "/api/runs", {"plan_id": 0, "version": 1}, 422, "plan_id"),
    "runs_plan_id_huge.json": ("POST", "/api/runs", {"plan_id": 2**40, "version": 1}, 422, "plan_id"),
    "runs_draws_true.json": ("POST", "/api/runs", {"plan_id": 1, "version": 1, "draws": True}, 422, "draws"),
    "runs_draws_float.json": ("POST", "/api/runs", {"plan_id": 1, "version": 1, "draws": 1e9}, 422, "draws"),
    "runs_seed_negative.json": ("POST", "/api/runs", {"plan_id": 1, "version": 1, "seed": -1}, 422, "seed"),
    "runs_missing_plan.json": ("POST", "/api/runs", {"plan_id": 999999, "version": 1}, 404, "plan 999999"),
    "attest_unknown_test.json": (
        "POST",
        "/api/plans/1/versions/1/attestations",
        {"test": "vibes"},
        422,
        "test",
    ),
    "attest_long_note.json": (
        "POST",
        "/api/plans/1/versions/1/attestations",
        {"test": "engagement", "note": "n" * 3000},
        422,
        "note",
    ),
    "audit_after_huge.json": ("GET", "/api/audit?after=99999999999999", None, 422, "after"),
    "no_such_route.json": ("GET", "/api/nothing-here", None, 404, "Not Found"),
}
for name, (method, path, body, status, expect) in api.items():
    (root / "api" / name).write_text(
        json.dumps(
            {"method": method, "path": path, "body": body, "status": status, "names": expect}, indent=1
        )
        + "\n",
        encoding="utf-8",
    )
(root / "plans.yaml").write_text(
    "# Each hostile plan file and a piece of text its refusal must contain (exit 2, one line per problem).\n"
    + yaml.safe_dump(manifest, sort_keys=True),
    encoding="utf-8",
)
print(len(cases), "plans,", len(api), "API bodies")
