"""The service layer: the one place that stores, authorises, runs, reports and rolls up plans.

The REST API (and any other shell) calls these methods and nothing else; authorisation is
enforced here, not in routes. Every method takes the acting user (an ``Actor``) and raises a
``ServiceError`` whose ``status`` the API turns into an HTTP status: 401 unknown token, 403 role
or footprint not allowed, 404 not found, 409 a change that would alter what was submitted or that
lost a race, 422 a bad document (every problem, each naming its field).

Roles:
- ``national``: reads everything, comments, accepts or returns submissions;
- ``lead``: for its footprints, creates and edits plans and submits them;
- ``analyst``: for its footprints, creates and edits plans, cannot submit;
- ``viewer``: reads published plans only (versions whose submission was accepted).

A lead also attests, on a stored version of its footprint's plan, the three of the four tests of
service change that the model cannot check (engagement, patient choice, support from clinical
commissioners); every run of that version shows the latest attestation of each in its checklist.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ..cache import data_version  # the same hash keys the derived-table cache
from ..store import models as m
from ..store.database import database_url, sessions
from ..version import __version__
from .access import TOKEN_DAYS, AccessMixin, as_utc
from .errors import Conflict, Forbidden, Invalid, NotAuthenticated, NotFound, Unavailable


@dataclass(frozen=True)
class Actor:
    id: int
    name: str
    role: str
    footprints: frozenset[str]


# An anonymous visitor (the public page, the England map): reads published versions only.
PUBLIC = Actor(0, "(public)", "viewer", frozenset())


def iso(dt) -> str:
    """An ISO 8601 time in UTC (SQLite hands times back without their zone)."""
    from datetime import UTC

    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).isoformat()


def _check_footprint_filter(footprint: str | None) -> None:
    """A footprint filter is an ONS code (E54000007): anything else cannot match and is said so."""
    import re

    if footprint is not None and not re.fullmatch(r"E\d{8}", footprint):
        raise Invalid(
            f"footprint: {footprint[:40]!r} is not a footprint code; allowed: E54000005 to E54000048"
        )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def canonical(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)


def run_identity(plan_doc: dict, draws: int, seed: int) -> str:
    """A run's identity: the canonical plan, draws, seed, data version and code version."""
    key = {"plan": plan_doc, "draws": draws, "seed": seed, "data": data_version(), "code": __version__}
    return hashlib.sha256(canonical(key).encode()).hexdigest()


WRITE_RETRIES = 20


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(secrets.token_urlsafe(16))


def run_document(plan, attestations: list[dict] | tuple = ()) -> dict:
    """A plan's results as the JSON document of `stpsim run --json` (the RunResponse model);
    ``attestations`` are the four tests attested on the stored version run (oldest first)."""
    from .compute import run_plan

    return run_plan(plan, attestations).document


def run_and_pack(plan, attestations: list[dict] | tuple = ()) -> tuple[dict, bytes]:
    """A plan's run document and its whole record as bytes (what the store keeps): one run,
    sent whole from a cluster's worker."""
    from .compute import run_plan

    record = run_plan(plan, attestations)
    return record.document, record.to_bytes()


def with_attestations(result: dict, plan, attestations: list[dict] | tuple) -> dict:
    """``result`` (a run's document) with the attested tests of its four-tests checklist as they
    stand now. A stored run is found by the plan's content, which versions (and plans) may share,
    while attestations belong to one version and are added after the run: they are applied on
    every answer, not taken from the stored numbers."""
    sc = result.get("service_change")
    if not isinstance(sc, dict) or not isinstance(sc.get("four_tests"), dict):
        return result
    from ..analysis.service_change import ATTESTED, four_tests

    latest = four_tests(plan, attestations)
    tests = dict(sc["four_tests"]) | {k: latest[k] for k in ATTESTED}
    return result | {"service_change": sc | {"four_tests": tests}}


def on_cluster(fn, *args):
    """``fn(*args)`` here, or on the Dask cluster at ``STPSIM_SCHEDULER`` when it is set: every
    server process then sends its runs to the same workers, with the same numbers."""
    scheduler = os.environ.get("STPSIM_SCHEDULER")
    if not scheduler:
        return fn(*args)
    from distributed import Client

    try:
        client = Client(scheduler, timeout=10)
    except (OSError, ValueError, TypeError) as e:
        raise Unavailable(
            f"STPSIM_SCHEDULER {scheduler!r}: no Dask scheduler answers there ({type(e).__name__}); "
            "allowed: tcp://HOST:PORT of a running scheduler"
        ) from None
    with client:
        return client.submit(fn, *args, pure=False).result()


MAX_DRAWS = 20_000  # the most draws one run on the server may ask for (memory and time)


class Service(AccessMixin):
    """The service over one store (``url``: SQLite file or PostgreSQL)."""

    def __init__(self, url: str | None = None):
        self.url = database_url(url)
        self.Session = sessions(self.url)

    # ---- users -------------------------------------------------------------------------------

    def add_user(
        self, name: str, role: str, footprints: list[str] | None = None, days: int = TOKEN_DAYS
    ) -> str:
        """Create a user and return their API token (shown once; only its hash is kept), valid
        ``days`` days."""
        from datetime import timedelta

        codes = self._footprint_codes(role, footprints)
        if not 1 <= days <= 366:
            raise Invalid(f"days: {days} is not allowed; a token lasts 1 to 366 days")
        token = secrets.token_urlsafe(32)
        with self.Session.begin() as s:
            if s.scalar(select(m.User).where(m.User.name == name)):
                raise Conflict(f"user {name!r} exists already")
            user = m.User(
                name=name,
                role=role,
                token_hash=token_hash(token),
                token_expires_at=m.now() + timedelta(days=days),
            )
            user.footprints = [m.UserFootprint(footprint=c) for c in codes]
            s.add(user)
            s.flush()
            self._audit(s, name, "add_user", f"user:{user.id}", f"role={role} footprints={','.join(codes)}")
        return token

    @staticmethod
    def _footprint_codes(role: str, footprints: list[str] | None) -> list[str]:
        """The role checked and the footprints found (a lead or analyst needs at least one)."""
        from ..footprint import UnknownFootprint, find

        if role not in m.ROLES:
            raise Invalid(f"role {role!r} is not allowed; allowed: {', '.join(m.ROLES)}")
        codes = []
        for f in footprints or []:
            try:
                codes.append(find(f).code)
            except UnknownFootprint as e:
                raise Invalid(f"footprint {f!r}: {e}") from None
        if role in ("lead", "analyst") and not codes:
            raise Invalid(f"a {role} needs at least one --footprint")
        return sorted(set(codes))

    @staticmethod
    def _actor_of(user: m.User) -> Actor:
        return Actor(user.id, user.name, user.role, frozenset(user.footprint_codes))

    def set_password(self, name: str, password: str) -> None:
        """Set a user's password for the web pages, kept only as an argon2 hash. Every session
        the user has ends."""
        from argon2 import PasswordHasher

        if len(password) < 12:
            raise Invalid("password: use at least 12 characters")
        with self.Session.begin() as s:
            user = self._user(s, name)
            user.password_hash = PasswordHasher().hash(password)
            ended = self._revoke_sessions(s, user.id)
            self._audit(s, name, "set_password", f"user:{user.id}", f"{ended} sessions ended")

    def check_password(self, name: str, password: str) -> Actor:
        """The user, if ``password`` is theirs (argon2 verification); else NotAuthenticated. A
        removed user is refused as an unknown one is."""
        from argon2 import PasswordHasher
        from argon2.exceptions import VerificationError

        with self.Session() as s:
            user = s.scalar(select(m.User).where(m.User.name == name))
            if user is not None and user.removed_at is not None:
                user = None
            try:
                # An unknown user is checked against a dummy hash too, so the time taken does
                # not tell whether a user name exists.
                stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
                PasswordHasher().verify(stored, password)
                if user is None or not user.password_hash:
                    raise VerificationError
            except VerificationError:
                raise NotAuthenticated("the user name or password is not right") from None
            return self._actor_of(user)

    def authenticate(self, token: str | None) -> Actor:
        if not token:
            raise NotAuthenticated("a bearer token is required (Authorization: Bearer TOKEN)")
        with self.Session() as s:
            user = s.scalar(select(m.User).where(m.User.token_hash == token_hash(token)))
            if user is None or user.removed_at is not None:
                raise NotAuthenticated("the token is not valid")
            if user.token_expires_at is not None and as_utc(user.token_expires_at) <= m.now():
                raise NotAuthenticated("the token has expired; ask for a new one (stpsim users token NAME)")
            return self._actor_of(user)

    # ---- permissions -------------------------------------------------------------------------

    @staticmethod
    def may_edit(actor: Actor, footprint: str) -> bool:
        """Whether ``actor`` may create and edit plans of ``footprint`` (its leads and analysts)."""
        return actor.role in ("lead", "analyst") and footprint in actor.footprints

    @staticmethod
    def _may_read_all_of(actor: Actor, footprint: str) -> bool:
        return actor.role == "national" or (
            actor.role in ("lead", "analyst") and footprint in actor.footprints
        )

    def _published_versions(self, s: Session, plan_id: int) -> set[int]:
        rows = s.scalars(
            select(m.Submission.version).where(
                m.Submission.plan_id == plan_id, m.Submission.state == "accepted"
            )
        )
        return set(rows)

    def _plan(self, s: Session, actor: Actor, plan_id: int) -> m.Plan:
        plan = s.get(m.Plan, plan_id)
        if plan is None:
            raise NotFound(f"plan {plan_id} not found")
        if not self._may_read_all_of(actor, plan.footprint) and not (
            actor.role == "viewer" and self._published_versions(s, plan_id)
        ):
            # As if it did not exist: a 403 would tell a stranger which footprint it is for.
            raise NotFound(f"plan {plan_id} not found")
        return plan

    # ---- plans and versions ------------------------------------------------------------------

    @staticmethod
    def _validated(doc: Any) -> tuple[dict, str]:
        """The plan document checked (every problem, each with its field path) and its footprint."""
        from ..plan import PlanError, validate

        try:
            plan = validate(doc, source="plan")
        except PlanError as e:
            raise Invalid("the plan is not valid", e.lines) from None
        except RecursionError:
            raise Invalid("the plan is nested too deeply") from None
        if len(plan.name) > 200:
            raise Invalid(f"name: at most 200 characters in the store; got {len(plan.name)}")
        if len(plan.footprints) != 1:
            raise Invalid(
                f"footprints: a stored plan belongs to one footprint; got {len(plan.footprints)} "
                f"({', '.join(plan.codes)})"
            )
        from ..geography import owner

        # A preset STP is its own; an ICB or a drawn footprint belongs to the 2017 footprint that
        # holds most of its people, whose lead may keep and submit it.
        return plan.model_dump(mode="json", exclude_defaults=False), owner(plan.places[0])

    def create_plan(self, actor: Actor, doc: Any) -> dict:
        # Rights first: someone who may not create plans learns nothing from the document.
        if actor.role not in ("lead", "analyst"):
            raise Forbidden(f"{actor.name} ({actor.role}) may not create plans")
        clean, footprint = self._validated(doc)
        if not self.may_edit(actor, footprint):
            raise Forbidden(f"{actor.name} ({actor.role}) may not create plans for {footprint}")
        with self.Session.begin() as s:
            plan = m.Plan(footprint=footprint, name=clean["name"], created_by=actor.id)
            s.add(plan)
            s.flush()
            version = self._new_version(s, plan, clean, actor)
            self._audit(s, actor.name, "create_plan", f"plan:{plan.id}", f"footprint={footprint}")
            return self._version_doc(s, plan, version)

    def add_version(self, actor: Actor, plan_id: int, doc: Any, unless_same_as: int | None = None) -> dict:
        """Save ``doc`` as the plan's next version. Never overwrites: concurrent saves get
        distinct, gapless numbers (the plan row is locked; a lost race is retried).
        ``unless_same_as``: the version the document was edited from; when the document is the
        same as it, nothing is saved and that version comes back marked ``unchanged``."""
        with self.Session() as s:  # rights and existence before the document
            plan = s.get(m.Plan, plan_id)
            if plan is None:
                raise NotFound(f"plan {plan_id} not found")
            if not self.may_edit(actor, plan.footprint):
                raise Forbidden(f"{actor.name} ({actor.role}) may not edit plans of {plan.footprint}")
        clean, footprint = self._validated(doc)
        if unless_same_as is not None:
            with self.Session() as s:
                plan = s.get(m.Plan, plan_id)
                base = s.scalar(
                    select(m.PlanVersion).where(
                        m.PlanVersion.plan_id == plan_id, m.PlanVersion.number == unless_same_as
                    )
                )
                if (
                    base is not None
                    and base.content_hash == hashlib.sha256(canonical(clean).encode()).hexdigest()
                ):
                    return self._version_doc(s, plan, base) | {"unchanged": True}
        for attempt in range(WRITE_RETRIES):
            try:
                with self.Session.begin() as s:
                    plan = s.get(m.Plan, plan_id, with_for_update=True)
                    if plan is None:
                        raise NotFound(f"plan {plan_id} not found")
                    if not self.may_edit(actor, plan.footprint):
                        raise Forbidden(f"{actor.name} ({actor.role}) may not edit plans of {plan.footprint}")
                    if footprint != plan.footprint:
                        raise Invalid(
                            f"footprints: plan {plan_id} belongs to {plan.footprint}; "
                            f"this version names {footprint}"
                        )
                    version = self._new_version(s, plan, clean, actor)
                    self._audit(s, actor.name, "add_version", f"plan:{plan.id}:v{version.number}")
                    return self._version_doc(s, plan, version)
            except (IntegrityError, OperationalError):
                if attempt == WRITE_RETRIES - 1:
                    raise Conflict(f"plan {plan_id}: another save won the race; try again") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _new_version(self, s: Session, plan: m.Plan, doc: dict, actor: Actor) -> m.PlanVersion:
        last = s.scalar(select(func.max(m.PlanVersion.number)).where(m.PlanVersion.plan_id == plan.id)) or 0
        plan.name = doc["name"]
        version = m.PlanVersion(
            plan_id=plan.id,
            number=last + 1,
            document=doc,
            content_hash=hashlib.sha256(canonical(doc).encode()).hexdigest(),
            created_by=actor.id,
        )
        s.add(version)
        s.flush()
        return version

    @staticmethod
    def _version_doc(s: Session, plan: m.Plan, v: m.PlanVersion, with_document: bool = False) -> dict:
        author = s.scalar(select(m.User.name).where(m.User.id == v.created_by))  # the name alone
        out = {
            "id": plan.id,
            "footprint": plan.footprint,
            "name": v.document.get("name", plan.name),  # the version's own name
            "version": v.number,
            "content_hash": v.content_hash,
            "created_at": iso(v.created_at),
            "author": author or "",
        }
        return out | ({"document": v.document} if with_document else {})

    def list_plans(self, actor: Actor, footprint: str | None = None) -> list[dict]:
        _check_footprint_filter(footprint)
        with self.Session() as s:
            q = select(m.Plan).order_by(m.Plan.id)
            if footprint:
                q = q.where(m.Plan.footprint == footprint)
            out = []
            for plan in s.scalars(q):
                if self._may_read_all_of(actor, plan.footprint):
                    versions = s.scalar(
                        select(func.max(m.PlanVersion.number)).where(m.PlanVersion.plan_id == plan.id)
                    )
                elif actor.role == "viewer" and (pub := self._published_versions(s, plan.id)):
                    versions = max(pub)
                else:
                    continue
                out.append(
                    {
                        "id": plan.id,
                        "footprint": plan.footprint,
                        "name": self._name_at(s, plan, versions if actor.role == "viewer" else None),
                        "latest_version": versions,
                    }
                )
            return out

    def get_plan(self, actor: Actor, plan_id: int) -> dict:
        with self.Session() as s:
            plan = self._plan(s, actor, plan_id)
            versions = s.scalars(
                select(m.PlanVersion).where(m.PlanVersion.plan_id == plan_id).order_by(m.PlanVersion.number)
            ).all()
            name = plan.name
            if actor.role == "viewer":  # nothing unpublished, not even a later version's name
                pub = self._published_versions(s, plan_id)
                versions = [v for v in versions if v.number in pub]
                name = self._name_at(s, plan, max(pub))
            return {
                "id": plan.id,
                "footprint": plan.footprint,
                "name": name,
                "versions": [self._version_doc(s, plan, v) for v in versions],
            }

    @staticmethod
    def _name_at(s: Session, plan: m.Plan, number: int | None) -> str:
        """The plan's name as of version ``number`` (its latest name when None)."""
        if number is None:
            return plan.name
        doc = s.scalar(
            select(m.PlanVersion.document).where(
                m.PlanVersion.plan_id == plan.id, m.PlanVersion.number == number
            )
        )
        return (doc or {}).get("name", plan.name)

    def _readable_version(
        self, s: Session, actor: Actor, plan_id: int, number: int
    ) -> tuple[m.Plan, m.PlanVersion]:
        """A version ``actor`` may read (a viewer: published versions only), with its plan."""
        plan = self._plan(s, actor, plan_id)
        v = s.scalar(
            select(m.PlanVersion).where(m.PlanVersion.plan_id == plan_id, m.PlanVersion.number == number)
        )
        if v is None or (actor.role == "viewer" and number not in self._published_versions(s, plan_id)):
            raise NotFound(f"plan {plan_id} has no version {number}")
        return plan, v

    def get_version(self, actor: Actor, plan_id: int, number: int) -> dict:
        with self.Session() as s:
            plan, v = self._readable_version(s, actor, plan_id, number)
            return self._version_doc(s, plan, v, with_document=True)

    # ---- attestations: the four tests of service change ---------------------------------------

    NOTE_MAX = 2000

    @staticmethod
    def _attestation_problems(test: Any, note: Any) -> list[str]:
        from ..service_change import ATTESTED

        problems = []
        if not isinstance(test, str) or test not in ATTESTED:
            shown = test[:40] if isinstance(test, str) else test
            problems.append(f"test: {shown!r} is not allowed; allowed: {', '.join(ATTESTED)}")
        if not isinstance(note, str):
            problems.append(f"note: must be text; got {type(note).__name__}")
        elif len(note) > Service.NOTE_MAX:
            problems.append(f"note: at most {Service.NOTE_MAX} characters; got {len(note)}")
        elif any(ord(ch) < 32 and ch not in "\n\t\r" for ch in note):
            problems.append("note: control characters are not allowed")
        return problems

    @staticmethod
    def _attestation_rows(s: Session, version_id: int) -> list[tuple[m.Attestation, str]]:
        """A version's attestations with who made each, oldest first."""
        q = (
            select(m.Attestation, m.User.name)
            .join(m.User, m.User.id == m.Attestation.attested_by)
            .where(m.Attestation.version_id == version_id)
            .order_by(m.Attestation.id)
        )
        return [(a, name) for a, name in s.execute(q)]

    @staticmethod
    def _attestation_doc(plan: m.Plan, v: m.PlanVersion, a: m.Attestation, by: str, current: bool) -> dict:
        from ..service_change import FOUR_TESTS

        return {
            "id": a.id,
            "plan_id": plan.id,
            "version": v.number,
            "test": a.test,
            "title": FOUR_TESTS.get(a.test, a.test),
            "attested_by": by,
            "attested_at": iso(a.attested_at),
            "note": a.note,
            "current": current,  # False once a later attestation of the same test supersedes it
        }

    def attest(self, actor: Actor, plan_id: int, number: int, test: Any, note: Any = "") -> dict:
        """Record that version ``number`` of the plan meets one of the attested tests (engagement,
        patient_choice, commissioner_support). Only a lead of the plan's footprint may; a later
        attestation of the same test supersedes this one, which stays in the history."""
        with self.Session.begin() as s:  # rights and existence before the request's fields
            plan = s.get(m.Plan, plan_id)
            if plan is None:
                raise NotFound(f"plan {plan_id} not found")
            if not (actor.role == "lead" and plan.footprint in actor.footprints):
                raise Forbidden(f"{actor.name} ({actor.role}) may not attest plans of {plan.footprint}")
            v = s.scalar(
                select(m.PlanVersion).where(m.PlanVersion.plan_id == plan_id, m.PlanVersion.number == number)
            )
            if v is None:
                raise NotFound(f"plan {plan_id} has no version {number}")
            problems = self._attestation_problems(test, note)
            if problems:
                raise Invalid(problems[0], problems)
            a = m.Attestation(version_id=v.id, test=test, attested_by=actor.id, note=note.strip())
            s.add(a)
            s.flush()
            self._audit(s, actor.name, "attest", f"plan:{plan_id}:v{number}", f"test={test}")
            return self._attestation_doc(plan, v, a, actor.name, current=True)

    def attestations(self, actor: Actor, plan_id: int, number: int) -> list[dict]:
        """A version's attestations, oldest first, each marked current or superseded; readable by
        whoever may read the version."""
        with self.Session() as s:
            plan, v = self._readable_version(s, actor, plan_id, number)
            rows = self._attestation_rows(s, v.id)
            latest = {a.test: a.id for a, _ in rows}
            return [self._attestation_doc(plan, v, a, by, latest[a.test] == a.id) for a, by in rows]

    def _four_test_attestations(self, plan_id: int, number: int) -> list[dict]:
        """A version's attestations as ``service_change.four_tests`` takes them (oldest first).
        The caller has checked that the actor may read the version."""
        with self.Session() as s:
            vid = s.scalar(
                select(m.PlanVersion.id).where(
                    m.PlanVersion.plan_id == plan_id, m.PlanVersion.number == number
                )
            )
            if vid is None:
                return []
            return [
                {"test": a.test, "attested_by": by, "attested_at": iso(a.attested_at), "note": a.note}
                for a, by in self._attestation_rows(s, vid)
            ]

    # ---- submissions -------------------------------------------------------------------------

    def submit(self, actor: Actor, plan_id: int, number: int) -> dict:
        """Send a version to the centre. The submission never changes; it supersedes the
        footprint's earlier submissions."""
        with self.Session.begin() as s:
            plan = s.get(m.Plan, plan_id)
            if plan is None:
                raise NotFound(f"plan {plan_id} not found")
            if not (actor.role == "lead" and plan.footprint in actor.footprints):
                raise Forbidden(f"{actor.name} ({actor.role}) may not submit plans of {plan.footprint}")
            self._lock_footprint(s, plan.footprint)
            v = s.scalar(
                select(m.PlanVersion).where(m.PlanVersion.plan_id == plan_id, m.PlanVersion.number == number)
            )
            if v is None:
                raise NotFound(f"plan {plan_id} has no version {number}")
            current = s.scalars(
                select(m.Submission).where(
                    m.Submission.footprint == plan.footprint, m.Submission.superseded_by.is_(None)
                )
            ).all()
            if any(c.plan_id == plan_id and c.version == number for c in current):
                raise Conflict(f"plan {plan_id} version {number} is already the footprint's submission")
            sub = m.Submission(
                plan_id=plan_id, version=number, footprint=plan.footprint, submitted_by=actor.id
            )
            s.add(sub)
            s.flush()
            for c in current:
                c.superseded_by = sub.id
            self._audit(s, actor.name, "submit", f"submission:{sub.id}", f"plan:{plan_id}:v{number}")
            return self._submission_doc(sub)

    @staticmethod
    def _lock_footprint(s, footprint: str) -> None:
        """Serialise a footprint's submissions: lock every plan row of the footprint, in id order
        (so two submitters never deadlock), before its current submissions are read. A second
        submitter waits for the first to commit and then reads the first's submission, so it
        supersedes it: one current submission per footprint. (SQLite's writers are serialised by
        BEGIN IMMEDIATE already; FOR UPDATE is not emitted there.)"""
        s.scalars(
            select(m.Plan.id).where(m.Plan.footprint == footprint).order_by(m.Plan.id).with_for_update()
        ).all()

    @staticmethod
    def _submission_doc(sub: m.Submission, comments: list[m.Comment] | None = None) -> dict:
        out = {
            "id": sub.id,
            "plan_id": sub.plan_id,
            "version": sub.version,
            "footprint": sub.footprint,
            "state": sub.state,
            "submitted_at": iso(sub.submitted_at),
            "superseded_by": sub.superseded_by,
        }
        if comments is not None:
            out["comments"] = [{"text": c.text, "created_at": iso(c.created_at)} for c in comments]
        return out

    def list_submissions(self, actor: Actor, footprint: str | None = None) -> list[dict]:
        _check_footprint_filter(footprint)
        with self.Session() as s:
            q = select(m.Submission).order_by(m.Submission.id)
            if footprint:
                q = q.where(m.Submission.footprint == footprint)
            out = []
            for sub in s.scalars(q):
                visible = self._may_read_all_of(actor, sub.footprint) or (
                    actor.role == "viewer" and sub.state == "accepted"
                )
                if visible:
                    comments = s.scalars(select(m.Comment).where(m.Comment.submission_id == sub.id)).all()
                    out.append(self._submission_doc(sub, list(comments)))
            return out

    def decide(self, actor: Actor, submission_id: int, accept: bool, comment: str | None = None) -> dict:
        """A national reviewer accepts or returns (with a comment) the current submission."""
        if actor.role != "national":
            raise Forbidden(f"{actor.name} ({actor.role}) may not accept or return submissions")
        if comment and any(ord(ch) < 32 and ch not in "\n\t\r" for ch in comment):
            raise Invalid("comment: control characters are not allowed")
        if not accept and not (comment and comment.strip()):
            raise Invalid("comment: returning a submission needs a comment saying why")
        with self.Session.begin() as s:
            sub = s.get(m.Submission, submission_id, with_for_update=True)
            if sub is None:
                raise NotFound(f"submission {submission_id} not found")
            if sub.state != "submitted" or sub.superseded_by is not None:
                raise Conflict(
                    f"submission {submission_id} is {sub.state}"
                    + (" and superseded" if sub.superseded_by else "")
                    + "; only a current, undecided submission can be accepted or returned"
                )
            sub.state = "accepted" if accept else "returned"
            sub.published = accept
            sub.decided_by = actor.id
            sub.decided_at = m.now()
            if comment and comment.strip():
                s.add(m.Comment(submission_id=sub.id, author=actor.id, text=comment.strip()))
            self._audit(s, actor.name, sub.state, f"submission:{sub.id}", comment or "")
            s.flush()
            comments = s.scalars(select(m.Comment).where(m.Comment.submission_id == sub.id)).all()
            return self._submission_doc(sub, list(comments))

    def withdraw(self, actor: Actor, submission_id: int, reason: Any) -> dict:
        """A national reviewer withdraws an accepted submission, saying why: it is no longer
        published, and the footprint's earlier standing submission (if any) stands again. The
        reason is kept as the submission's comment and in the audit log."""
        if actor.role != "national":
            raise Forbidden(f"{actor.name} ({actor.role}) may not withdraw accepted plans")
        if not isinstance(reason, str) or not reason.strip():
            raise Invalid("reason: withdrawing an accepted plan needs a reason")
        if any(ord(ch) < 32 and ch not in "\n\t\r" for ch in reason):
            raise Invalid("reason: control characters are not allowed")
        with self.Session.begin() as s:
            sub = s.get(m.Submission, submission_id, with_for_update=True)
            if sub is None:
                raise NotFound(f"submission {submission_id} not found")
            if sub.state != "accepted":
                raise Conflict(
                    f"submission {submission_id} is {sub.state}; only an accepted submission can be withdrawn"
                )
            sub.state, sub.published = "withdrawn", False
            sub.decided_by, sub.decided_at = actor.id, m.now()
            s.add(m.Comment(submission_id=sub.id, author=actor.id, text=f"Withdrawn: {reason.strip()}"))
            self._audit(s, actor.name, "withdrawn", f"submission:{sub.id}", reason.strip())
            s.flush()
            comments = s.scalars(select(m.Comment).where(m.Comment.submission_id == sub.id)).all()
            return self._submission_doc(sub, list(comments))

    # ---- runs, reports and the roll-up -------------------------------------------------------

    def _plan_for_run(self, actor: Actor, plan_id: int, number: int, draws: int | None, seed: int | None):
        from ..plan import validate

        doc = self.get_version(actor, plan_id, number)["document"]
        from .compute import with_overrides

        return with_overrides(validate(doc, source=f"plan {plan_id} v{number}"), draws, seed)

    def run(
        self, actor: Actor, plan_id: int, number: int, draws: int | None = None, seed: int | None = None
    ) -> dict:
        """A version's results (the document `stpsim run --json` prints), stored under the run's
        identity: asking again for the same identity returns the stored result."""
        plan, rid, attested = self._run_request(actor, plan_id, number, draws, seed)
        with self.Session() as s:
            stored = s.get(m.Run, rid)
            if stored is not None and stored.result is not None:
                return {"run_id": rid, "stored": True} | with_attestations(stored.result, plan, attested)
        result, _ = self._compute_run(actor, rid, plan_id, number, plan, attested)
        return {"run_id": rid, "stored": False} | result

    def run_record(
        self, actor: Actor, plan_id: int, number: int, draws: int | None = None, seed: int | None = None
    ):
        """A version's whole run record (``stpsim.record.RunRecord``): read from the store, or
        run once and stored. Pages and reports draw from it; none reruns the plan."""
        from ..record import RecordError, RunRecord

        plan, rid, attested = self._run_request(actor, plan_id, number, draws, seed)
        with self.Session() as s:
            row = s.get(m.RunRecordRow, rid)
            data = row.data if row is not None else None
        record = None
        if data is not None:
            try:
                record = RunRecord.from_bytes(data, f"run {rid[:12]}")
            except RecordError:
                record = None  # written by another format version: run again
        if record is None:
            _, data = self._compute_run(actor, rid, plan_id, number, plan, attested)
            record = RunRecord.from_bytes(data, f"run {rid[:12]}")
        return replace(record, document=with_attestations(record.document, plan, attested))

    def _run_request(self, actor: Actor, plan_id: int, number: int, draws: int | None, seed: int | None):
        """The plan a run of a version runs, its identity and the version's attestations; the
        reader's rights, what their role may run and the run's size are checked here."""
        from ..engine import RunTooLarge, check_size

        plan = self._plan_for_run(actor, plan_id, number, draws, seed)  # 404 for what you may not see
        self._may_run(actor, draws, seed)
        try:
            check_size(plan)
        except RunTooLarge as e:
            raise Invalid(f"draws: {e}") from None
        rid = run_identity(plan.model_dump(mode="json"), plan.monte_carlo.draws, plan.monte_carlo.seed)
        return plan, rid, self._four_test_attestations(plan_id, number)

    def _compute_run(
        self, actor: Actor, rid: str, plan_id: int, number: int, plan, attested
    ) -> tuple[dict, bytes]:
        result, data = on_cluster(run_and_pack, plan, attested)
        self._store_run(actor, rid, plan_id, number, result, data)
        return result, data

    @staticmethod
    def _may_run(actor: Actor, draws: int | None, seed: int | None) -> None:
        """Viewers (and the public) read a version's own run, computed once and stored; they may
        not ask for other draws or seeds. Everyone else may ask for up to ``MAX_DRAWS``."""
        if actor.role == "viewer" and (draws is not None or seed is not None):
            raise Forbidden(
                f"{actor.name} (viewer) may not choose a run's draws or seed; "
                "a viewer reads the version's own run"
            )
        if draws is not None and draws > MAX_DRAWS:
            raise Invalid(f"draws: {draws} is more than the {MAX_DRAWS:,} a run on the server may have")

    OPTIMISE_DRAWS = 2000  # the most draws an optimisation on the server may use

    def _plan_to_optimise(self, actor: Actor, plan_id: int, number: int, draws: int | None, seed: int | None):
        if actor.role == "viewer":
            raise Forbidden(f"{actor.name} (viewer) may not run the optimiser")
        plan = self._plan_for_run(actor, plan_id, number, draws, seed)  # 404 for what you may not see
        if plan.monte_carlo.draws > self.OPTIMISE_DRAWS:
            raise Invalid(
                f"draws: {plan.monte_carlo.draws:,} is more than the {self.OPTIMISE_DRAWS:,} an optimisation "
                "on the server may use; give draws, or run 'stpsim optimise' on your own machine"
            )
        return plan

    def optimise(
        self, actor: Actor, plan_id: int, number: int, draws: int | None = None, seed: int | None = None
    ) -> dict:
        """The optimiser's proposal for a stored version (what `stpsim optimise --json` prints).
        Those who may write plans may ask (leads and analysts of its footprint, national
        reviewers); viewers read runs, they do not search for plans."""
        from .optimiser import optimise

        return optimise(self._plan_to_optimise(actor, plan_id, number, draws, seed))

    def optimise_draws(self, actor: Actor, plan_id: int, number: int, draws: int | None) -> int:
        """The draws an optimisation of a version would use, after its checks (rights, size)."""
        return self._plan_to_optimise(actor, plan_id, number, draws, None).monte_carlo.draws

    def optimise_identity(
        self, actor: Actor, plan_id: int, number: int, draws: int | None, seed: int | None
    ) -> str:
        """An optimisation's identity, apart from the run of the same plan's."""
        plan = self._plan_to_optimise(actor, plan_id, number, draws, seed)
        key = {
            "optimise": run_identity(
                plan.model_dump(mode="json"), plan.monte_carlo.draws, plan.monte_carlo.seed
            )
        }
        return hashlib.sha256(canonical(key).encode()).hexdigest()

    def start_optimise(
        self, actor: Actor, plan_id: int, number: int, draws: int | None, seed: int | None
    ) -> str:
        """Record a long optimisation as running (polled at /api/runs/ID) and return its id."""
        rid = self.optimise_identity(actor, plan_id, number, draws, seed)
        try:
            with self.Session.begin() as s:
                row = s.get(m.Run, rid)
                if row is None:
                    s.add(m.Run(id=rid, plan_id=plan_id, version=number, status="running", result=None))
                elif row.result is None and row.status != "running":  # failed before: try again
                    row.status = "running"
        except IntegrityError:
            pass
        return rid

    def finish_optimise(
        self, actor: Actor, plan_id: int, number: int, draws: int | None, seed: int | None
    ) -> None:
        """Compute a started optimisation (in the background) and keep its answer under its id;
        a failure is recorded, never left running."""
        rid = self.optimise_identity(actor, plan_id, number, draws, seed)
        try:
            doc = self.optimise(actor, plan_id, number, draws, seed) | {"kind": "optimise"}
        except Exception as e:
            with self.Session.begin() as s:
                row = s.get(m.Run, rid)
                if row is not None and row.result is None:
                    row.status = f"failed: {type(e).__name__}"
            return
        with self.Session.begin() as s:
            row = s.get(m.Run, rid)
            if row is None:
                s.add(m.Run(id=rid, plan_id=plan_id, version=number, status="done", result=doc))
            else:
                row.result, row.status = doc, "done"
            self._audit(s, actor.name, "optimise", f"run:{rid[:12]}", f"plan:{plan_id}:v{number}")

    def run_draws(self, actor: Actor, plan_id: int, number: int, draws: int | None) -> int:
        """The draws a run of a version would have (the request's, else the plan's own), after
        the same checks as the run itself: the API answers 202 for a large run whichever set
        them."""
        plan = self._plan_for_run(actor, plan_id, number, draws, None)
        self._may_run(actor, draws, None)
        return plan.monte_carlo.draws

    def fail_stuck_runs(self, older_than_minutes: int = 60) -> int:
        """Mark runs still "running" after ``older_than_minutes`` (their server stopped) as failed,
        so nobody polls them for ever; returns how many. Called when a server starts."""
        from datetime import timedelta

        cutoff = m.now() - timedelta(minutes=older_than_minutes)
        with self.Session.begin() as s:
            stuck = s.scalars(
                # (result holds JSON null while running, so the status alone says it)
                select(m.Run).where(m.Run.status == "running", m.Run.created_at < cutoff)
            ).all()
            for row in stuck:
                row.status = "failed: stopped"
                self._audit(
                    s, "(server)", "run_failed", f"run:{row.id[:12]}", "still running when a server started"
                )
            return len(stuck)

    def run_identity_of(
        self, actor: Actor, plan_id: int, number: int, draws: int | None, seed: int | None
    ) -> str:
        plan = self._plan_for_run(actor, plan_id, number, draws, seed)
        return run_identity(plan.model_dump(mode="json"), plan.monte_carlo.draws, plan.monte_carlo.seed)

    def finish_run(
        self, actor: Actor, plan_id: int, number: int, draws: int | None, seed: int | None
    ) -> None:
        """Compute a started run (in the background); a failure is recorded, never left running."""
        try:
            self.run(actor, plan_id, number, draws, seed)
        except Exception as e:
            rid = self.run_identity_of(actor, plan_id, number, draws, seed)
            with self.Session.begin() as s:
                row = s.get(m.Run, rid)
                if row is not None and row.result is None:
                    row.status = f"failed: {type(e).__name__}"

    def start_run(self, actor: Actor, plan_id: int, number: int, draws: int | None, seed: int | None) -> str:
        """Record a long run as running (visible to every server process) and return its id."""
        rid = self.run_identity_of(actor, plan_id, number, draws, seed)
        try:
            with self.Session.begin() as s:
                if s.get(m.Run, rid) is None:
                    s.add(m.Run(id=rid, plan_id=plan_id, version=number, status="running", result=None))
        except IntegrityError:
            pass
        return rid

    def _store_run(
        self, actor: Actor, rid: str, plan_id: int, number: int, result: dict, data: bytes
    ) -> None:
        try:
            with self.Session.begin() as s:
                row = s.get(m.Run, rid)
                if row is None:
                    s.add(m.Run(id=rid, plan_id=plan_id, version=number, result=result))
                elif row.result is None:
                    row.result, row.status = result, "done"
                s.flush()
                record = s.get(m.RunRecordRow, rid)
                if record is None:
                    s.add(m.RunRecordRow(run_id=rid, data=data))
                else:  # a record of an older format is replaced by the one just computed
                    record.data = data
                self._audit(s, actor.name, "run", f"run:{rid[:12]}", f"plan:{plan_id}:v{number}")
        except IntegrityError:
            pass  # another process stored the same identity first: same numbers

    def get_run(self, actor: Actor, rid: str) -> dict:
        import re

        if not re.fullmatch(r"[0-9a-f]{64}", rid):
            raise Invalid(f"run id: {rid[:70]!r} is not a run id (64 hexadecimal characters)")
        with self.Session() as s:
            row = s.get(m.Run, rid)
            if row is None:
                raise NotFound(f"run {rid} not found")
            if row.plan_id is not None:  # the same reading rights as the version it ran
                plan = self._plan(s, actor, row.plan_id)
                if actor.role == "viewer" and row.version not in self._published_versions(s, plan.id):
                    raise NotFound(f"run {rid} not found")
            if row.result is None:
                return {"run_id": rid, "status": row.status}
            result = row.result
        if result.get("kind") == "optimise":  # an optimiser's answer, not a run: no checklist
            return {"run_id": rid, "status": "done", "stored": True} | result
        if row.plan_id is not None and row.version is not None:  # the version's checklist as it stands
            plan = self._plan_for_run(actor, row.plan_id, row.version, None, None)
            result = with_attestations(result, plan, self._four_test_attestations(row.plan_id, row.version))
        return {"run_id": rid, "status": "done", "stored": True} | result

    def report(
        self, actor: Actor, plan_id: int, number: int, audience: str, fmt: str, part: str = "main"
    ) -> bytes:
        """A version's report (the same as `stpsim report`), as the file's bytes, drawn from the
        version's stored run record. The public version's technical appendix is
        ``part="appendix"``; the main page links to it."""
        import tempfile
        from pathlib import Path

        from ..report.html import appendix_name
        from .compute import report

        record = self.run_record(actor, plan_id, number)
        with tempfile.TemporaryDirectory() as d:
            path = report(
                [record],
                Path(d) / f"report.{fmt}",
                audience,
                fmt,
                appendix_href="report?audience=public&part=appendix",
            )
            if part == "appendix" and fmt == "html" and audience == "public":
                path = path.with_name(appendix_name(path))
            return path.read_bytes()

    def rollup_submissions(self, actor: Actor, draws: int = 200, seed: int = 1) -> dict:
        """England from each footprint's latest submission that was not returned or withdrawn,
        do-nothing elsewhere: the document `stpsim rollup --json` prints."""
        from ..plan import validate
        from ..rollup import rollup

        if actor.role != "national":
            raise Forbidden(f"{actor.name} ({actor.role}) may not roll up every footprint's submissions")
        plans = {}
        with self.Session() as s:
            # Each footprint's latest submission that stands: returning or withdrawing one leaves
            # the footprint's earlier, standing one in place.
            latest: dict[str, m.Submission] = {}
            for sub in s.scalars(
                select(m.Submission).where(m.Submission.state.not_in(m.STOOD_DOWN)).order_by(m.Submission.id)
            ):
                latest[sub.footprint] = sub
            for sub in latest.values():
                v = s.scalar(
                    select(m.PlanVersion).where(
                        m.PlanVersion.plan_id == sub.plan_id, m.PlanVersion.number == sub.version
                    )
                )
                plans[sub.footprint] = (f"submission:{sub.id}", validate(v.document))
        scheduler = os.environ.get("STPSIM_SCHEDULER")
        executor = "dask" if scheduler else "serial"
        return rollup(plans, draws, seed, executor=executor, scheduler=scheduler).to_dict()

    # ---- audit -------------------------------------------------------------------------------

    @staticmethod
    def _audit(s: Session, user: str, action: str, target: str, detail: str = "") -> None:
        s.add(m.Audit(user=user, action=action, target=target, detail=detail))

    def audit_log(self, actor: Actor, after: int = 0, limit: int = 500) -> list[dict]:
        """The audit log from the entry after ``after`` (0: the start), oldest first, at most
        ``limit`` entries (1 to 1,000); each entry's ``id`` is the next page's ``after``."""
        if actor.role != "national":
            raise Forbidden(f"{actor.name} ({actor.role}) may not read the audit log")
        if not 1 <= limit <= 1000:
            raise Invalid(f"limit: {limit} is not allowed; give 1 to 1000")
        if after < 0:
            raise Invalid(f"after: {after} is not allowed; give 0 or an entry's id")
        with self.Session() as s:
            rows = s.scalars(
                select(m.Audit).where(m.Audit.id > after).order_by(m.Audit.id).limit(limit)
            ).all()
            return [
                {
                    "id": r.id,
                    "at": iso(r.at),
                    "user": r.user,
                    "action": r.action,
                    "target": r.target,
                    "detail": r.detail,
                }
                for r in rows
            ]
