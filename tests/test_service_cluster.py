"""Runs and roll-ups requested through the service go to the Dask cluster named by
STPSIM_SCHEDULER, with the same numbers as in-process (issue 10, beyond one machine)."""

import pytest
import yaml

from stpsim.service import Service
from stpsim.store.database import upgrade


def test_runs_and_rollups_on_a_cluster_give_the_same_numbers(tmp_path, monkeypatch):
    from distributed import LocalCluster

    url = f"sqlite:///{tmp_path}/s.db"
    upgrade(url)
    svc = Service(url)
    lead, nat = svc.add_user("lead", "lead", ["E54000036"]), svc.add_user("nat", "national")
    doc = yaml.safe_load(open("examples/cornwall.yaml"))
    pid = svc.create_plan(svc.authenticate(lead), doc)["id"]
    svc.submit(svc.authenticate(lead), pid, 1)
    here_run = svc.run(svc.authenticate(lead), pid, 1, draws=20, seed=3)
    here_rollup = svc.rollup_submissions(svc.authenticate(nat), draws=10, seed=2)
    # A second store, so the run is computed again rather than read back.
    url2 = f"sqlite:///{tmp_path}/s2.db"
    upgrade(url2)
    svc2 = Service(url2)
    lead2, nat2 = svc2.add_user("lead", "lead", ["E54000036"]), svc2.add_user("nat", "national")
    pid2 = svc2.create_plan(svc2.authenticate(lead2), doc)["id"]
    svc2.submit(svc2.authenticate(lead2), pid2, 1)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        monkeypatch.setenv("STPSIM_SCHEDULER", cluster.scheduler_address)
        there_run = svc2.run(svc2.authenticate(lead2), pid2, 1, draws=20, seed=3)
        there_rollup = svc2.rollup_submissions(svc2.authenticate(nat2), draws=10, seed=2)
        # Issue 24, item 4: the work really ran on the cluster's worker (another process): the
        # scheduler counted the tasks, and each took time there.
        prefixes = cluster.scheduler.task_prefixes
        ran = {name: sum(p.all_durations.values()) for name, p in prefixes.items()}
        assert ran.get("run_and_pack", 0) > 0, sorted(ran)
        rollup_tasks = [n for n in prefixes if n not in ("run_and_pack",)]
        assert rollup_tasks and sum(ran[n] for n in rollup_tasks) > 0, sorted(ran)
    assert there_run["stored"] is False
    for key in ("finance", "activity", "gap_bridge", "gap_drivers"):
        assert there_run[key] == here_run[key], key
    assert there_rollup["england"] == here_rollup["england"]
    assert there_rollup["footprints"] == here_rollup["footprints"]


@pytest.mark.parametrize("bad", ["notaurl", "tcp://127.0.0.1:1"])
def test_an_unusable_scheduler_is_a_clear_503_not_a_hang(monkeypatch, bad):
    from stpsim.service import Unavailable, on_cluster

    monkeypatch.setenv("STPSIM_SCHEDULER", bad)
    with pytest.raises(Unavailable) as e:
        on_cluster(sum, [1, 2])
    assert e.value.status == 503
    assert str(e.value).startswith(f"STPSIM_SCHEDULER {bad!r}: no Dask scheduler answers there (")
    assert str(e.value).endswith("); allowed: tcp://HOST:PORT of a running scheduler")
