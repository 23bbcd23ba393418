"""The CLI's commands for the shared store and the web service: `stpsim serve`,
`stpsim users add` and `stpsim db upgrade`. Thin: each calls the store or the service."""

from __future__ import annotations

import logging
import threading
from typing import Annotated

import typer

log = logging.getLogger("stpsim.serve")

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Store URL: sqlite:///PATH (default sqlite:///stpsim.db) or "
        "postgresql+psycopg://USER:PASS@HOST/DB; or set STPSIM_DATABASE_URL.",
    ),
]

UserNameArg = Annotated[str, typer.Argument(help="User name.")]
DaysOpt = Annotated[
    int, typer.Option("--days", min=1, max=366, help="Days the API token is valid (1 to 366).")
]

db_app = typer.Typer(help="The shared store's database.", no_args_is_help=True)
users_app = typer.Typer(help="Users of the shared store and their roles.", no_args_is_help=True)


def _url(database: str | None) -> str:
    from .cli_output import UserError
    from .service.catalogue import DatabaseError, database_url

    try:
        return database_url(database)
    except DatabaseError as e:
        raise UserError(f"--database: {e}") from None


def _upgraded(database: str | None) -> str:
    from .cli_output import UserError
    from .service.catalogue import upgrade_store as upgrade

    url = _url(database)
    try:
        upgrade(url)
    except Exception as e:  # a database that cannot be reached is the user's to fix
        raise UserError(
            f"--database {url.split('@')[-1]}: cannot open the store ({type(e).__name__})"
        ) from None
    return url


@db_app.command("upgrade")
def db_upgrade(database: DatabaseOpt = None) -> None:
    """Create the store, or bring its schema up to date (Alembic migrations)."""
    from .cli_output import out

    url = _upgraded(database)
    out.print(f"The store at {url.split('@')[-1]} is up to date.")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name (unique).")],
    role: Annotated[str, typer.Option("--role", help="national, lead, analyst or viewer.")],
    footprint: Annotated[
        list[str] | None,
        typer.Option("--footprint", help="Footprint the user works for (code or name); repeat for several."),
    ] = None,
    days: DaysOpt = 90,
    database: DatabaseOpt = None,
) -> None:
    """Add a user and print their API token once (only its hash is kept)."""
    from .cli_output import out

    token = _on_store(database, "add_user", name, role, footprint or [], days)
    out.print(f"Added {name} ({role}). API token, shown once, valid {days} days; keep it secret:")
    print(token)


def _on_store(database: str | None, method: str, *args):
    """Call a ``Service`` method on the (upgraded) store; a refusal is a one-line error."""
    from .cli_output import UserError
    from .service import Service, ServiceError

    url = _upgraded(database)
    try:
        return getattr(Service(url), method)(*args)
    except ServiceError as e:
        raise UserError(str(e)) from None


@users_app.command("role")
def users_role(
    name: UserNameArg,
    role: Annotated[str, typer.Argument(help="The new role: national, lead, analyst or viewer.")],
    footprint: Annotated[
        list[str] | None,
        typer.Option("--footprint", help="Footprint the user works for (code or name); repeat for several."),
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Change a user's role and footprints. Their signed-in sessions end at once."""
    from .cli_output import out

    _on_store(database, "set_role", name, role, footprint or [])
    out.print(f"{name} is now {role}; their sessions have ended.")


@users_app.command("remove")
def users_remove(
    name: UserNameArg,
    database: DatabaseOpt = None,
) -> None:
    """Remove a user: their token and sessions stop working; their name stays in the history."""
    from .cli_output import out

    _on_store(database, "remove_user", name)
    out.print(f"{name} is removed; their token and sessions no longer work.")


@users_app.command("token")
def users_token(
    name: UserNameArg,
    days: DaysOpt = 90,
    database: DatabaseOpt = None,
) -> None:
    """Give a user a new API token (printed once); the old one stops working."""
    from .cli_output import out

    token = _on_store(database, "new_token", name, days)
    out.print(f"A new API token for {name}, shown once, valid {days} days; keep it secret:")
    print(token)


@users_app.command("revoke-token")
def users_revoke_token(
    name: UserNameArg,
    database: DatabaseOpt = None,
) -> None:
    """Stop a user's API token working (a new one: stpsim users token NAME)."""
    from .cli_output import out

    _on_store(database, "revoke_token", name)
    out.print(f"The API token of {name} no longer works.")


@users_app.command("password")
def users_password(
    name: UserNameArg,
    database: DatabaseOpt = None,
) -> None:
    """Set a user's password for the dashboard (asked twice, never echoed; kept as an argon2
    hash). Reads one line from standard input when it is not a terminal."""
    import sys

    from .cli_output import UserError, out
    from .service import Service, ServiceError

    url = _upgraded(database)
    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        Service(url).set_password(name, password)
    except ServiceError as e:
        raise UserError(str(e)) from None
    out.print(f"The password of {name} is set.")


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    database: DatabaseOpt = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Serve a temporary demonstration store on 127.0.0.1: one user per role with "
            "random passwords (printed), the example plans, one of them published.",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=32,
            help="Server processes: more answer more users at once (each uses a core; they share "
            "the store and one session key).",
        ),
    ] = 1,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-proxy",
            help="Address of a reverse proxy whose X-Forwarded-For and X-Forwarded-Proto to believe; "
            "repeat for several. Without it those headers are ignored, so no client can choose the "
            "address its sign-in attempts are counted against.",
        ),
    ] = None,
) -> None:
    """Run the REST API (OpenAPI at /docs and /openapi.json) and the web pages over the shared store."""
    if demo:
        _serve_demo(host, port, database, workers)
        return
    url = _upgraded(database)
    if workers == 1:  # several processes each build their own app and figures
        _warm_pages()
    proxies = ",".join(trusted_proxy or [])
    _run(url, host, port, workers, proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None)


def _run(url: str, host: str, port: int, workers: int, **options) -> None:
    """Serve the app over the store at ``url`` in one process, or in ``workers`` processes that
    each build it from the store's URL and share one session key (so a cookie one makes, the
    others read)."""
    import os
    import secrets

    import uvicorn

    from .api import create_app

    options = {"log_level": "info", "access_log": True} | options
    if workers == 1:
        uvicorn.run(create_app(url=url), host=host, port=port, **options)
        return
    os.environ["STPSIM_SERVE_URL"] = url
    os.environ.setdefault("STPSIM_SECRET_KEY", secrets.token_urlsafe(48))
    uvicorn.run(
        "stpsim.api.app:app_from_environment", factory=True, workers=workers, host=host, port=port, **options
    )


def _warm_pages() -> threading.Thread:
    """Work out what the pages need that no store changes (``web.figures.warm``: England's
    do-nothing roll-up, the plotly.js bundle) in the background while the server starts, so its
    first visitor does not wait for them; a request that comes sooner waits for the same work
    rather than start its own."""

    def warm() -> None:
        from .web import figures

        figures.warm()

    return _in_background("the pages' figures", warm)


def _in_background(what: str, work) -> threading.Thread:
    """``work()`` in a thread of its own, while the server starts. A failure is logged and left
    for the request that needs the work to report, as it would without it."""

    def run() -> None:
        try:
            work()
        except Exception:
            log.warning("could not work out %s in advance", what, exc_info=True)

    thread = threading.Thread(target=run, name="stpsim-warm", daemon=True)
    thread.start()
    return thread


def _serve_demo(host: str, port: int, database: str | None, workers: int = 1) -> None:
    """A store in a temporary folder, filled by ``web.demo``, deleted when the server stops."""
    import tempfile
    from pathlib import Path

    from .cli_output import UserError, out
    from .service import Service
    from .service.demo import populate

    if database:
        raise UserError("--demo makes its own temporary store; leave out --database")
    if host not in ("127.0.0.1", "localhost"):
        # Its passwords are printed on the terminal: the demonstration is for this machine only.
        raise UserError(f"--host {host}: --demo serves on 127.0.0.1 only; leave out --host")
    with tempfile.TemporaryDirectory(prefix="stpsim-demo-") as folder:
        url = _upgraded(f"sqlite:///{Path(folder) / 'demo.db'}")
        try:
            made = populate(Service(url))
        except FileNotFoundError as e:  # an installed copy without the repository's examples/
            raise UserError(f"--demo: {e}") from None
        out.print(f"A demonstration store in {folder} (deleted when the server stops). Sign in as:")
        width = max(len(n) for n in made.logins)
        for login in made.logins.values():
            where = f" of {', '.join(login.footprints)}" if login.footprints else ""
            print(f"  {login.name:<{width}}  password {login.password}   ({login.role}{where})")
        out.print(f"Open http://127.0.0.1:{port}/ ; stop with Ctrl+C.")
        # Begun once the store is filled, so the server answers as soon as it can; the work is
        # done by the time a visitor has signed in. The run is stored once for every process.
        if workers == 1:
            _warm_pages()
        _in_background("the published plan's run", made.run_published)
        _run(url, "127.0.0.1", port, workers, proxy_headers=False)
