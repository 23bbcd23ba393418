"""Issue 20, item 7: a corpus of hostile inputs, replayed on every CI run. Each plan file must end
in exit 2 with one-line refusals that name what is wrong; each API body in a 4xx whose body is
``{"detail": [lines]}`` naming the field; all within a time and memory bound. Never a traceback,
a 500 or a hang. The corpus is in tests/corpus (made by scripts/make_fuzz_corpus.py)."""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from stpsim.api.app import create_app
from stpsim.cli import main
from stpsim.service import Service

from .conftest_store import GM, bearer, gm_plan, sqlite_url

CORPUS = Path(__file__).parent / "corpus"
PLANS = yaml.safe_load((CORPUS / "plans.yaml").read_text(encoding="utf-8"))
API = sorted((CORPUS / "api").glob("*.json"))
SECONDS = 20
MEGABYTES = 500


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_the_corpus_is_all_there():
    assert sorted(p.name for p in (CORPUS / "plans").iterdir()) == sorted(PLANS)
    assert len(PLANS) >= 25 and len(API) >= 20


@pytest.mark.parametrize("name", sorted(PLANS))
def test_each_hostile_plan_is_refused_in_one_line_naming_what_is_wrong(name, capsys):
    path = CORPUS / "plans" / name
    before, start = _rss_mb(), time.perf_counter()
    code = main(["run", str(path)])
    took, grew = time.perf_counter() - start, _rss_mb() - before
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert lines and all(ln.startswith("stpsim: error: ") for ln in lines), err
    assert "Traceback" not in err
    assert any(PLANS[name] in ln for ln in lines), (PLANS[name], lines)
    assert took < SECONDS and grew < MEGABYTES, (took, grew)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    svc = Service(sqlite_url(tmp_path_factory.mktemp("fuzz")))
    lead = svc.add_user("gm_lead", "lead", [GM])
    national = svc.add_user("nat", "national")
    plan_id = svc.create_plan(svc.authenticate(lead), gm_plan("fuzzed"))["id"]
    assert plan_id == 1
    return TestClient(create_app(svc), raise_server_exceptions=False), {"lead": lead, "national": national}


@pytest.mark.parametrize("case", API, ids=lambda p: p.stem)
def test_each_hostile_api_body_is_a_4xx_naming_the_field(case, api):
    client, tokens = api
    c = json.loads(case.read_text(encoding="utf-8"))
    token = tokens["national" if c["path"].startswith("/api/audit") else "lead"]
    start = time.perf_counter()
    if c["method"] == "GET":
        r = client.get(c["path"], headers=bearer(token))
    else:
        r = client.request(c["method"], c["path"], json=c["body"], headers=bearer(token))
    assert time.perf_counter() - start < SECONDS
    assert r.status_code == c["status"], r.text
    body = r.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], list) and body["detail"], body
    assert any(c["names"] in line for line in body["detail"]), (c["names"], body)
