"""Who may come in, kept in the store: sign-in attempts counted before the password is checked,
browser sessions that end at sign-out, at their absolute expiry or when their user changes, and
API tokens that expire and can be revoked. The store is shared by every server process, so a
limit or a revocation holds across them all."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, update

from ..store import models as m
from .errors import Invalid, NotAuthenticated, NotFound, TooManyAttempts

SESSION_HOURS = 8  # a session's absolute lifetime: nothing a user does extends it
TOKEN_DAYS = 90  # an API token's lifetime
WINDOW = timedelta(minutes=15)
USER_FAILURES = 5  # failed sign-ins for one user name in the window before it is locked
# From one address (a shared NHS proxy has many users behind it): generous, so typos lock a
# user, not an office, but a scan of many names from one place is still stopped.
ADDRESS_FAILURES = 50


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def as_utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)  # SQLite returns naive UTC


class AccessMixin:
    """The access half of ``Service`` (it provides ``Session``, ``_audit`` and ``_actor_of``)."""

    # ---- sign-in -------------------------------------------------------------------------------

    def sign_in(self, name: str, password: str, address: str):
        """The user, if ``password`` is theirs and neither they nor ``address`` are locked out.
        The attempt is stored (as a failure) before anything is checked, and committed, so that
        parallel attempts each see the others: however many arrive at once, at most the limit
        get as far as the password."""
        key = name.strip().casefold()[:200]
        address = (address or "unknown")[:64]
        with self.Session.begin() as s:
            attempt = m.SignInAttempt(user_name=key, address=address)
            s.add(attempt)
            s.flush()
            attempt_id, started = attempt.id, attempt.at
        with self.Session() as s:
            # Failures in the window, counting as failures too the attempts that succeeded only
            # after this one began: a right guess among parallel wrong ones must not lower the
            # count the others are judged by.
            failures = select(func.count(), func.min(m.SignInAttempt.at)).where(
                m.SignInAttempt.at > m.now() - WINDOW,
                or_(m.SignInAttempt.succeeded.is_(False), m.SignInAttempt.succeeded_at >= started),
            )
            mine = s.execute(failures.where(m.SignInAttempt.user_name == key)).one()
            here = s.execute(failures.where(m.SignInAttempt.address == address)).one()
        for (count, oldest), limit in ((mine, USER_FAILURES), (here, ADDRESS_FAILURES)):
            if count > limit:
                wait = max(1, int((as_utc(oldest) + WINDOW - m.now()).total_seconds() + 0.999))
                with self.Session.begin() as s:
                    self._audit(s, key, "sign_in_refused", f"address:{address}", f"{count} failures")
                raise TooManyAttempts(f"too many failed sign-ins; try again in {wait} s", wait)
        try:
            actor = self.check_password(name.strip(), password)
        except NotAuthenticated:
            with self.Session.begin() as s:
                self._audit(s, key, "sign_in_failed", f"address:{address}")
            raise
        with self.Session.begin() as s:
            # Only this attempt becomes a success (earlier failures still count for their window).
            s.execute(
                update(m.SignInAttempt)
                .where(m.SignInAttempt.id == attempt_id)
                .values(succeeded=True, succeeded_at=m.now())
            )
            self._audit(s, actor.name, "sign_in", f"address:{address}")
        return actor

    # ---- browser sessions ----------------------------------------------------------------------

    def start_session(self, actor) -> str:
        """A new session for ``actor``; returns the secret the cookie carries (only its hash is
        stored)."""
        secret = secrets.token_urlsafe(32)
        with self.Session.begin() as s:
            s.add(
                m.WebSession(
                    id=_hash(secret),
                    user_id=actor.id,
                    expires_at=m.now() + timedelta(hours=SESSION_HOURS),
                )
            )
        return secret

    def session_actor(self, secret: str | None):
        """The signed-in user of a session, read afresh (role and footprints as they are now),
        or None if the session has ended, expired or its user is gone."""
        if not secret or not isinstance(secret, str):
            return None
        with self.Session() as s:
            row = s.get(m.WebSession, _hash(secret))
            if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= m.now():
                return None
            user = s.get(m.User, row.user_id)
            if user is None or user.removed_at is not None:
                return None
            return self._actor_of(user)

    def end_session(self, secret: str | None) -> None:
        if not secret or not isinstance(secret, str):
            return
        with self.Session.begin() as s:
            row = s.get(m.WebSession, _hash(secret))
            if row is not None and row.revoked_at is None:
                row.revoked_at = m.now()
                user = s.get(m.User, row.user_id)
                self._audit(s, user.name if user else "?", "sign_out", f"user:{row.user_id}")

    @staticmethod
    def _revoke_sessions(s, user_id: int) -> int:
        result = s.execute(
            update(m.WebSession)
            .where(m.WebSession.user_id == user_id, m.WebSession.revoked_at.is_(None))
            .values(revoked_at=m.now())
        )
        return result.rowcount or 0

    # ---- managing users ------------------------------------------------------------------------

    def _user(self, s, name: str) -> m.User:
        user = s.scalar(select(m.User).where(m.User.name == name))
        if user is None or user.removed_at is not None:
            raise NotFound(f"user {name!r} not found")
        return user

    def set_role(self, name: str, role: str, footprints: list[str] | None = None) -> None:
        """Change a user's role (and footprints); their sessions end, so the old rights die with
        them."""
        codes = self._footprint_codes(role, footprints)
        with self.Session.begin() as s:
            user = self._user(s, name)
            before = f"{user.role} {','.join(sorted(user.footprint_codes))}"
            user.role = role
            user.footprints = [m.UserFootprint(footprint=c) for c in codes]
            ended = self._revoke_sessions(s, user.id)
            self._audit(
                s,
                name,
                "set_role",
                f"user:{user.id}",
                f"{before} -> {role} {','.join(codes)}; {ended} sessions ended",
            )

    def remove_user(self, name: str) -> None:
        """Remove a user: their token and sessions stop working at once; their name stays in the
        history (plans, versions and the audit log)."""
        with self.Session.begin() as s:
            user = self._user(s, name)
            user.removed_at = m.now()
            user.token_hash = _hash(secrets.token_urlsafe(32))  # a token nobody holds
            ended = self._revoke_sessions(s, user.id)
            self._audit(s, name, "remove_user", f"user:{user.id}", f"{ended} sessions ended")

    def new_token(self, name: str, days: int = TOKEN_DAYS) -> str:
        """A new API token for ``name`` (the old one stops working), valid ``days`` days."""
        if not 1 <= days <= 366:
            raise Invalid(f"days: {days} is not allowed; a token lasts 1 to 366 days")
        token = secrets.token_urlsafe(32)
        with self.Session.begin() as s:
            user = self._user(s, name)
            user.token_hash = _hash(token)
            user.token_expires_at = m.now() + timedelta(days=days)
            self._audit(s, name, "new_token", f"user:{user.id}", f"expires in {days} days")
        return token

    def revoke_token(self, name: str) -> None:
        """Stop ``name``'s API token working (a new one: ``new_token``)."""
        with self.Session.begin() as s:
            user = self._user(s, name)
            user.token_hash = _hash(secrets.token_urlsafe(32))
            user.token_expires_at = m.now()
            self._audit(s, name, "revoke_token", f"user:{user.id}")
