"""Executors: where the per-footprint work of a roll-up runs.

Work is split into tasks of (footprint, chunk of draws). Every random number is keyed by seed,
parameter name or footprint, and block of draws, never by task or worker, so every executor,
chunk size and number of workers gives bit-identical numbers.

- ``serial``: in this process (tests, small runs).
- ``local`` (default): a pool of local processes, one per core.
- ``dask``: a Dask distributed cluster at ``--scheduler ADDRESS`` (or ``STPSIM_SCHEDULER``).

A task that fails because its worker died is retried (twice); if it still fails the run stops
with a message naming the footprint and draws, never with a footprint silently missing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

RETRIES = 2


class ExecutorError(RuntimeError):
    """The work could not be completed; the message says which task and why."""


class SchedulerUnreachable(ExecutorError, ValueError):
    """The Dask scheduler address is malformed or nothing answers there: the user's address is
    wrong, not the work."""

    def __init__(self, address: str, reason: str):
        self.address = address
        self.reason = reason
        super().__init__(f"cannot reach the Dask scheduler at {address}: {reason}")


# How long to wait for the scheduler to answer before giving up; the tests shorten it.
CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True)
class Task:
    key: tuple[str, int, int]  # (footprint code, first draw, end draw)
    args: tuple[Any, ...]


FAULT_ENV = "STPSIM_FAULT_KILL_ONCE"


def guarded(fn: Callable, code: str, *args: Any) -> Any:
    """Run one task. Fault injection for the tests: if ``STPSIM_FAULT_KILL_ONCE`` is
    ``CODE:MARKER_FILE`` and this task is for CODE, the worker process dies the first time
    (creating MARKER_FILE), as a crashed machine would."""
    fault = os.environ.get(FAULT_ENV)
    if fault:
        target, _, marker = fault.partition(":")
        if target == code and marker and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)
    return fn(code, *args)


def _warm() -> None:
    """Worker start-up: load the reference data and project the population once per process."""
    from .baseline import projection

    projection()


def run_tasks(
    fn: Callable,
    tasks: list[Task],
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    on_done: Callable[[Task], None] | None = None,
) -> dict:
    """Run ``fn(*task.args)`` for every task and return {task.key: result}."""
    if executor == "serial":
        out = {}
        for t in tasks:  # one task at a time, in order
            try:
                out[t.key] = fn(*t.args)
            except Exception as e:  # the same report as a failed worker, whatever the executor
                raise ExecutorError(_failed(t, e)) from e
            if on_done:
                on_done(t)
        return out
    if executor == "local":
        return _run_local(fn, tasks, workers or os.cpu_count() or 1, on_done)
    if executor == "dask":
        return _run_dask(fn, tasks, scheduler, on_done)
    raise ValueError(f"unknown executor {executor!r}; allowed: serial, local, dask")


def _run_local(fn, tasks: list[Task], workers: int, on_done) -> dict:
    out: dict = {}
    pending = list(tasks)
    failures: dict[tuple, int] = {}
    while pending:
        with ProcessPoolExecutor(max_workers=min(workers, len(pending)), initializer=_warm) as pool:
            futures = {pool.submit(fn, *t.args): t for t in pending}
            broken = []
            for fut in as_completed(futures):
                t = futures[fut]
                try:
                    out[t.key] = fut.result()
                    if on_done:
                        on_done(t)
                except BrokenProcessPool:
                    broken.append(t)
                except Exception as e:
                    raise ExecutorError(_failed(t, e)) from e
        pending = [t for t in pending if t.key not in out]
        for t in pending:
            failures[t.key] = failures.get(t.key, 0) + 1
            if failures[t.key] > RETRIES:
                raise ExecutorError(
                    f"footprint {t.key[0]}, draws {t.key[1]}-{t.key[2] - 1}: its worker process died "
                    f"{failures[t.key]} times; the run was stopped with no result"
                )
    return out


def _run_dask(fn, tasks: list[Task], scheduler: str | None, on_done) -> dict:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError as e:  # pragma: no cover - distributed is a dependency
        raise ExecutorError("the dask executor needs the 'distributed' package") from e
    address = scheduler or os.environ.get("STPSIM_SCHEDULER")
    if not address:
        raise ExecutorError("the dask executor needs --scheduler ADDRESS or STPSIM_SCHEDULER")
    client = _connect(Client, address)
    try:
        futures = {client.submit(fn, *t.args, retries=RETRIES, pure=False): t for t in tasks}
        out = {}
        for fut in dask_completed(list(futures)):
            t = futures[fut]
            try:
                out[t.key] = fut.result()
            except Exception as e:
                raise ExecutorError(_failed(t, e, f" on the cluster after {RETRIES + 1} tries")) from e
            if on_done:
                on_done(t)
        return out
    finally:
        client.close()


def _connect(client_class, address: str):
    """A Dask client, or SchedulerUnreachable within the connect timeout. Distributed's own
    timeout covers opening the connection, not a service that accepts it and then never speaks
    Dask (a web server, say), so the whole handshake runs under a deadline of its own."""
    import threading

    box: dict = {}

    def connect() -> None:
        try:
            box["client"] = client_class(address, timeout=f"{CONNECT_TIMEOUT_S}s")
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            box["error"] = e

    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    worker.join(CONNECT_TIMEOUT_S + 5)
    if worker.is_alive():
        raise SchedulerUnreachable(address, f"no Dask handshake within {CONNECT_TIMEOUT_S + 5} s")
    error = box.get("error")
    if isinstance(error, (OSError, ValueError)):  # ValueError: distributed cannot parse the address
        raise SchedulerUnreachable(address, str(error)) from error
    if error is not None:
        raise error
    return box["client"]


def _failed(t: Task, e: BaseException, where: str = "") -> str:
    """One line naming the task and the cause (a worker's error may span lines)."""
    cause = " ".join(str(e).split()) or type(e).__name__
    return f"footprint {t.key[0]}, draws {t.key[1]}-{t.key[2] - 1} failed{where}: {cause}"


def chunks(draws: int, size: int | None) -> Iterable[tuple[int, int]]:
    size = draws if not size else size
    for a in range(0, draws, size):
        yield a, min(a + size, draws)
