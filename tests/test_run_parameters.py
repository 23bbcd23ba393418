"""Parameters declared once in one registry and drawn once per run: the registry is what the
tornado iterates, what the record keeps and what every stage reads."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stpsim
from stpsim import engine, parameters, plan, random_streams
from stpsim.capacity import OCCUPANCY
from stpsim.finance import finance_parameters
from stpsim.parameters import Interval, Parameter, Registry
from stpsim.record import RunRecord
from stpsim.run_parameters import DISCOUNT_RATE, declare


def gm(draws: int = 30, seed: int = 5) -> plan.Plan:
    p = plan.load("examples/greater_manchester.yaml")
    return p.model_copy(update={"monte_carlo": plan.MonteCarlo(draws=draws, seed=seed)})


def test_every_parameter_has_an_id_title_unit_source_and_a_valid_range():
    reg = declare(gm())
    assert len(reg) == len({p.id for p in reg}) > 50
    for p in reg:
        assert p.title and p.unit and p.source in ("assumptions.yaml", "the plan", "interventions.yaml"), p
        if p.interval is not None:
            assert p.interval.low <= p.value <= p.interval.high, p
    kinds = Counter(p.id.split("/")[0] for p in reg)
    assert set(kinds) == {"growth", "effect", "substitution", "cost", "capacity", "assumption"}


def test_a_plan_override_is_the_parameters_range():
    p = gm()
    reg = declare(p)
    assert reg["growth/emergency_admissions"].interval == p.growth["emergency_admissions"]
    assert reg["growth/emergency_admissions"].source == "the plan"
    assert reg["growth/gp_consultations"].source == "assumptions.yaml"


def test_declaring_one_id_twice_differently_is_refused():
    a = Parameter("assumption/x", "X", "%", 1.0, Interval.of(0, 2))
    with pytest.raises(ValueError, match="parameter assumption/x declared twice, differently"):
        Registry([a, Parameter("assumption/x", "X", "%", 1.5, Interval.of(1, 2))])
    assert len(Registry([a, a])) == 1


def test_a_run_draws_each_parameter_once(monkeypatch):
    seen: Counter = Counter()
    real = parameters.standard_normals

    def counted(seed, stream, key, draws, width=1):
        if stream == parameters.PARAM_STREAM:
            seen[key] += 1
        return real(seed, stream, key, draws, width)

    monkeypatch.setattr(parameters, "standard_normals", counted)
    p = gm(draws=20)
    engine.run(p)  # the plan, do-nothing, and one pass per care model for the incentive matrix
    uncertain = {(parameters.name_key(x.id),) for x in declare(p) if x.interval is not None}
    assert set(seen) == uncertain
    assert set(seen.values()) == {1}


def test_the_record_keeps_the_draws_every_stage_read():
    record = stpsim.run(gm(draws=25))
    drawn = record.results.parameters
    reg = declare(record.plan)
    assert drawn.ids == tuple(x.id for x in reg) and drawn.values.shape == (25, len(reg))
    again = reg.draw(record.plan.monte_carlo.seed, range(25))
    assert np.array_equal(again.values, drawn.values)
    # one bed-occupancy parameter: the finance stage's wards and the capacity step read the same
    assert np.array_equal(finance_parameters(drawn).occupancy, drawn[OCCUPANCY])
    beds_days = record.results.activity[
        ..., [record.results.settings.index(s) for s in ("emergency_bed_days", "elective_bed_days")]
    ].sum(axis=-1)
    np.testing.assert_allclose(
        record.results.capacity["beds"], beds_days / 365.0 / drawn[OCCUPANCY][:, None, None]
    )
    # the discount rate is a parameter of the run, and payback used it
    assert drawn[DISCOUNT_RATE][0] == pytest.approx(0.035)
    assert {m["discount_rate"] for m in record.document["investment"]} == {drawn[DISCOUNT_RATE][0]}
    back = RunRecord.from_bytes(record.to_bytes())
    assert back.results.parameters.ids == drawn.ids
    assert np.array_equal(back.results.parameters.values, drawn.values)


def test_the_tornado_iterates_the_registry():
    record = stpsim.run(gm(draws=10))
    in_tornado = {r["parameter"] for r in record.document["gap_drivers"]}
    declared = {x.id for x in declare(record.plan) if x.uncertain and x.reaches_gap}
    assert in_tornado == declared
    assert OCCUPANCY in in_tornado and DISCOUNT_RATE not in in_tornado


def test_the_parameters_command_lists_the_registry(capsys):
    import json

    from stpsim.cli import main

    assert main(["parameters", "examples/greater_manchester.yaml", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["parameters"]
    assert [r["id"] for r in rows] == [p.id for p in declare(plan.load("examples/greater_manchester.yaml"))]
    occupancy = next(r for r in rows if r["id"] == OCCUPANCY)
    assert occupancy["interval"] == {"low": 0.8, "high": 0.9} and occupancy["in_tornado"] is True
    assert main(["parameters", "examples/missing.yaml"]) == 2


# ---- the random streams: numpy's own numbers, worked out for many blocks at once --------------


@settings(max_examples=200, deadline=None)
@given(
    seed=st.one_of(st.integers(0, 2**32 + 10), st.integers(2**62, 2**64 - 1)),
    stream=st.sampled_from([1, 2]),
    key=st.lists(st.one_of(st.integers(0, 3), st.integers(0, 2**64 - 1)), max_size=3).map(tuple),
    block=st.integers(0, 80),
    width=st.sampled_from([1, 2, 85]),
)
def test_a_block_is_numpys_seed_sequence_to_the_bit(seed, stream, key, block, width):
    # Block b of a stream is, by definition, numpy's generator on SeedSequence(seed, spawn_key=
    # (stream, *key, b)); stpsim works out those generators' states itself, many at once.
    ss = np.random.SeedSequence(seed, spawn_key=(stream, *key, block))
    want = np.random.default_rng(ss).standard_normal((random_streams.BLOCK, width))
    random_streams._BLOCKS.clear()
    assert np.array_equal(random_streams.blocks(seed, stream, [(key, block)], width)[0], want)
    assert random_streams._pcg64_states(seed, [(stream, *key, block)])[0] == (
        np.random.PCG64(ss).state["state"]["state"],
        np.random.PCG64(ss).state["state"]["inc"],
    )


def test_prefetched_draws_are_the_draws_one_by_one():
    p = plan.load("examples/greater_manchester.yaml")
    reg = declare(p)
    random_streams._BLOCKS.clear()
    together = reg.draw(2016, range(300, 700))  # every parameter's blocks in one pass
    random_streams._BLOCKS.clear()
    alone = np.stack(
        [
            np.full(400, q.value)
            if q.interval is None
            else parameters.draw(q.interval, 2016, q.id, range(300, 700), q.lower, q.upper)
            for q in reg
        ],
        axis=1,
    )
    assert np.array_equal(together.values, alone)


def test_threads_that_make_room_for_blocks_never_lose_one_another_s(monkeypatch):
    """The kept blocks are bounded in bytes; a thread that fills the bound clears them. Several
    threads asking at once (the server runs plans and a roll-up together) each still get their
    own numbers, never an error, however small the bound."""
    import sys
    import threading

    draws = range(0, 3 * random_streams.BLOCK)
    want = {k: parameters.standard_normals(7, 1, (k,), draws).copy() for k in range(8)}
    monkeypatch.setattr(random_streams, "_BLOCKS_KEPT", 2 * random_streams.BLOCK * 8)  # two blocks
    random_streams._BLOCKS.clear()
    wrong: list = []

    def ask(offset: int) -> None:
        try:
            for n in range(150):
                k = (n + offset) % 8
                got = parameters.standard_normals(7, 1, (k,), draws)
                if not np.array_equal(got, want[k]):
                    wrong.append(k)
        except Exception as e:  # a block taken away between being made and being read
            wrong.append(repr(e))

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns as often as Python allows: the race shows
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(switch)
    random_streams._BLOCKS.clear()
    assert wrong == []
