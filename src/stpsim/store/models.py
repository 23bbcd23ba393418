"""The shared store's tables (SQLAlchemy 2): users and their footprints, plans and their
immutable versions, submissions and comments, attestations of the four tests of service change,
stored runs and an append-only audit log.

Nothing here is ever updated in place except a submission's state (submitted -> accepted or
returned) and its ``superseded_by``; versions, comments, attestations and audit rows are only
ever added.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("national", "lead", "analyst", "viewer")
SUBMISSION_STATES = ("submitted", "accepted", "returned", "withdrawn")
# A submission in these states no longer stands: the footprint's earlier one stands instead.
STOOD_DOWN = ("returned", "withdrawn")


def now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the API token
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)  # argon2
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    # The API token stops working then (None: a token from before expiry was kept).
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # A removed user keeps their name in the history but can no longer sign in or use a token.
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    footprints: Mapped[list[UserFootprint]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def footprint_codes(self) -> set[str]:
        return {f.footprint for f in self.footprints}


class UserFootprint(Base):
    __tablename__ = "user_footprints"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    footprint: Mapped[str] = mapped_column(String(9), primary_key=True)
    user: Mapped[User] = relationship(back_populates="footprints")


class Plan(Base):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    footprint: Mapped[str] = mapped_column(String(9), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class PlanVersion(Base):
    """A saved plan document. Never changed: a new save is a new version."""

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_plan_version_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class Submission(Base):
    """A version sent to the centre. Its version never changes; a later submission of the same
    footprint supersedes it."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    footprint: Mapped[str] = mapped_column(String(9), index=True)
    state: Mapped[str] = mapped_column(String(20), default="submitted")
    submitted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    superseded_by: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), nullable=True)
    published: Mapped[bool] = mapped_column(Boolean, default=False)


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    author: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class Attestation(Base):
    """A lead's statement that a version meets one of the four tests of service change that the
    model cannot check (engagement, patient choice, support from clinical commissioners). Only
    ever added: the latest for a test is the one shown; earlier ones stay as history."""

    __tablename__ = "attestations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"), index=True)
    test: Mapped[str] = mapped_column(String(30))
    attested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    attested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    note: Mapped[str] = mapped_column(String(2000), default="")


class Run(Base):
    """A stored result, found again by its identity: the hash of the canonical plan, draws,
    seed, the shipped data's version and the code's version."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), nullable=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="done")
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class RunRecordRow(Base):
    """A stored run's whole record (``stpsim.record``: arrays, analyses, identity) as the bytes
    `run --save` writes. Apart from ``runs`` so that listing or reading a run's document never
    loads megabytes of arrays."""

    __tablename__ = "run_records"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class WebSession(Base):
    """A signed-in browser: the cookie carries a random secret, the store its hash. A session
    ends at sign-out, at its absolute expiry, or when its user's password, role or footprints
    change or the user is removed (``revoked_at``)."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie's secret
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SignInAttempt(Base):
    """One attempt to sign in, counted before the password is checked (a failure until it
    succeeds), so parallel guesses cannot outrun the limit and every server process shares it."""

    __tablename__ = "sign_in_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_name: Mapped[str] = mapped_column(String(200), index=True)  # as typed, case-folded
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    succeeded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Audit(Base):
    """Who did what, when. Rows are only ever added."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    user: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
