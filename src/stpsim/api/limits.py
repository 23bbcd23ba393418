"""What one client may ask of the server: a bounded body, and a bounded share of the runs being
computed. A request over a limit is refused at once (413, 429) with a line saying why, so the
server stays up for everyone else."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from ..service import ServiceError

MAX_BODY = 1 * 2**20  # bytes: a plan is a few kilobytes; a megabyte is far beyond any real one
RUNS_PER_USER = 2  # runs one user may have computing at once (in the request or the background)
RUNS_IN_ALL = 6  # runs computing or queued on this server at once


class TooBusy(ServiceError):
    status = 429


class RunSlots:
    """Counts the runs computing, per user and in all; ``take`` refuses one more than allowed."""

    def __init__(self, per_user: int = RUNS_PER_USER, total: int = RUNS_IN_ALL):
        self.per_user, self.total = per_user, total
        self._lock = threading.Lock()
        self._by_user: dict[int, int] = {}

    def acquire(self, user_id: int) -> None:
        with self._lock:
            if sum(self._by_user.values()) >= self.total:
                raise TooBusy(f"the server is computing {self.total} runs; try again in a minute")
            if self._by_user.get(user_id, 0) >= self.per_user:
                raise TooBusy(f"you have {self.per_user} runs computing; wait for one to finish")
            self._by_user[user_id] = self._by_user.get(user_id, 0) + 1

    def release(self, user_id: int) -> None:
        with self._lock:
            left = self._by_user.get(user_id, 0) - 1
            if left > 0:
                self._by_user[user_id] = left
            else:
                self._by_user.pop(user_id, None)

    @contextlib.contextmanager
    def take(self, user_id: int) -> Iterator[None]:
        self.acquire(user_id)
        try:
            yield
        finally:
            self.release(user_id)


class BodyLimit:
    """Pure ASGI: a request body over ``limit`` bytes is answered 413 before it is parsed (by its
    Content-Length, or by counting a body sent without one)."""

    def __init__(self, app, limit: int = MAX_BODY):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(send)
            return
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send) -> None:
        import json

        body = json.dumps(
            {"detail": [f"the request body is larger than {self.limit // 1024} KiB; a plan is far smaller"]}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
