"""A demonstration store for `stpsim serve --demo` and the browser tests: one user per role with
random passwords, the example plans saved by their footprints' leads, and one of them submitted
and accepted so the public page has a plan to show. Everything goes through the service, as a
team's own use would."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..reference import EXAMPLES_DIR
from .plans import Actor, Service

GM, CORNWALL, NWL = "E54000007", "E54000036", "E54000027"
EXAMPLES = EXAMPLES_DIR

# name -> (role, footprints)
USERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "nia": ("national", ()),
    "gm_lead": ("lead", (GM,)),
    "gm_analyst": ("analyst", (GM,)),
    "cw_lead": ("lead", (CORNWALL,)),
    "nwl_lead": ("lead", (NWL,)),
    "vic": ("viewer", ()),
}
# example file -> the lead who saves it
PLANS = {
    "greater_manchester.yaml": "gm_lead",
    "cornwall.yaml": "cw_lead",
    "north_west_london.yaml": "nwl_lead",
}
PUBLISHED = "greater_manchester.yaml"


@dataclass(frozen=True)
class Login:
    name: str
    role: str
    footprints: tuple[str, ...]
    password: str


@dataclass(frozen=True)
class Demo:
    logins: dict[str, Login]
    plans: dict[str, int]  # example file -> plan id
    accepted: int  # the accepted submission's id
    service: Service
    publisher: Actor  # the published plan's lead

    def run_published(self) -> dict:
        """The published plan's run, worked out and stored as its lead would ask for it: the
        England page's plan view and the public page read it. ``serve --demo`` does this in
        the background while the server starts."""
        return self.service.run(self.publisher, self.plans[PUBLISHED], 1)


def populate(service: Service, examples: Path = EXAMPLES) -> Demo:
    """Fill an empty store with the demonstration's users and plans."""
    missing = [name for name in PLANS if not (examples / name).is_file()]
    if missing:
        raise FileNotFoundError(f"the demonstration needs {', '.join(missing)} in {examples}")
    logins, actors = {}, {}
    for name, (role, footprints) in USERS.items():
        token = service.add_user(name, role, list(footprints))
        password = secrets.token_urlsafe(12)  # 16 characters; the service asks for at least 12
        service.set_password(name, password)
        logins[name] = Login(name, role, footprints, password)
        # Each user acts by their API token: checking the passwords again would spend a tenth
        # of a second of argon2 each at every start of the demonstration.
        actors[name] = service.authenticate(token)
    plans = {}
    for file, lead in PLANS.items():
        document = yaml.safe_load((examples / file).read_text(encoding="utf-8"))
        plans[file] = service.create_plan(actors[lead], document)["id"]
    submission = service.submit(actors[PLANS[PUBLISHED]], plans[PUBLISHED], 1)
    service.decide(actors["nia"], submission["id"], True, "Accepted for the demonstration.")
    return Demo(logins, plans, submission["id"], service, actors[PLANS[PUBLISHED]])
