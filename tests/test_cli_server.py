"""The store's CLI: `db upgrade`, `users add` (the token printed once, only its hash kept) and
clear exit-2 errors for bad roles, footprints and database URLs."""

import hashlib

from sqlalchemy import create_engine, text

from stpsim.cli import main


def test_users_add_prints_a_token_once_and_stores_only_its_hash(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/s.db"
    assert main(["db", "upgrade", "--database", url]) == 0
    assert (
        main(
            [
                "users",
                "add",
                "alice",
                "--role",
                "lead",
                "--footprint",
                "Greater Manchester",
                "--database",
                url,
            ]
        )
        == 0
    )
    token = capsys.readouterr().out.strip().splitlines()[-1]
    with create_engine(url).connect() as conn:
        row = conn.execute(text("select token_hash, role from users where name = 'alice'")).one()
        fps = conn.execute(text("select footprint from user_footprints")).scalars().all()
    assert row == (hashlib.sha256(token.encode()).hexdigest(), "lead")
    assert fps == ["E54000007"]
    assert token not in (tmp_path / "s.db").read_bytes().decode("latin-1")


def test_bad_roles_footprints_and_urls_exit_2_with_one_line(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/s.db"
    cases = [
        (
            ["users", "add", "b", "--role", "wizard", "--database", url],
            "stpsim: error: role 'wizard' is not allowed; allowed: national, lead, analyst, viewer",
        ),
        (
            ["users", "add", "c", "--role", "lead", "--database", url],
            "stpsim: error: a lead needs at least one --footprint",
        ),
        (
            ["db", "upgrade", "--database", "mysql://x"],
            "stpsim: error: --database: database URL 'mysql://x' is not allowed; use sqlite:///PATH or "
            "postgresql+psycopg://USER:PASS@HOST/DB",
        ),
    ]
    for argv, line in cases:
        assert main(argv) == 2, argv
        assert capsys.readouterr().err.strip() == line
