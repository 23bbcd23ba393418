"""The CLI's commands for the shared store and the web service: `stpsim serve`,
`stpsim users add` and `stpsim db upgrade`. Thin: each calls the store or the service."""

from __future__ import annotations

from typing import Annotated

import typer

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Store URL: sqlite:///PATH (default sqlite:///stpsim.db) or "
        "postgresql+psycopg://USER:PASS@HOST/DB; or set STPSIM_DATABASE_URL.",
    ),
]

db_app = typer.Typer(help="The shared store's database.", no_args_is_help=True)
users_app = typer.Typer(help="Users of the shared store and their roles.", no_args_is_help=True)


def _url(database: str | None) -> str:
    from .cli import UserError
    from .store.database import DatabaseError, database_url

    try:
        return database_url(database)
    except DatabaseError as e:
        raise UserError(f"--database: {e}") from None


def _upgraded(database: str | None) -> str:
    from .cli import UserError
    from .store.database import upgrade

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
    from .cli import out

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
    database: DatabaseOpt = None,
) -> None:
    """Add a user and print their API token once (only its hash is kept)."""
    from .cli import UserError, out
    from .service import Service, ServiceError

    url = _upgraded(database)
    try:
        token = Service(url).add_user(name, role, footprint or [])
    except ServiceError as e:
        raise UserError(str(e)) from None
    out.print(f"Added {name} ({role}). API token, shown once; keep it secret:")
    print(token)


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    database: DatabaseOpt = None,
) -> None:
    """Run the REST API (OpenAPI at /docs and /openapi.json) over the shared store."""
    import uvicorn

    from .api import create_app

    url = _upgraded(database)
    uvicorn.run(create_app(url=url), host=host, port=port, log_level="info", access_log=True)
