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


def test_users_password_sets_an_argon2_hash_and_refuses_short_ones(tmp_path, capsys, monkeypatch):
    import io

    from stpsim.service import Service

    url = f"sqlite:///{tmp_path}/s.db"
    assert main(["users", "add", "nia", "--role", "national", "--database", url]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery staple\n"))
    assert main(["users", "password", "nia", "--database", url]) == 0
    assert Service(url).check_password("nia", "correct horse battery staple").role == "national"
    with create_engine(url).connect() as conn:
        stored = conn.execute(text("select password_hash from users where name = 'nia'")).scalar_one()
    assert stored.startswith("$argon2") and "correct horse" not in stored
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "password", "nia", "--database", url]) == 2
    assert capsys.readouterr().err.strip() == "stpsim: error: password: use at least 12 characters"
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery staple\n"))
    assert main(["users", "password", "nobody", "--database", url]) == 2
    assert capsys.readouterr().err.strip() == "stpsim: error: user 'nobody' not found"


def test_text_that_looks_like_rich_markup_prints_as_typed(tmp_path, capsys):
    """Issue 20, item 5: a user name or plan name containing "[/bold]" is text. `users add`
    creates the user and prints its token (before: created, then crashed before the token);
    `run` prints the plan's name as typed."""
    from pathlib import Path

    import yaml

    url = f"sqlite:///{tmp_path}/s.db"
    assert main(["users", "add", "[/bold]x", "--role", "viewer", "--database", url]) == 0
    printed = capsys.readouterr().out
    assert "Added [/bold]x (viewer)." in printed
    token = printed.strip().splitlines()[-1]
    assert len(token) >= 32 and " " not in token
    doc = yaml.safe_load(
        (Path(__file__).parent.parent / "examples" / "cornwall.yaml").read_text(encoding="utf-8")
    )
    doc["name"] = "[/x] [bold]Cornwall"
    plan_file = tmp_path / "p.yaml"
    plan_file.write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert main(["run", str(plan_file), "--draws", "20"]) == 0
    assert "[/x] [bold]" in capsys.readouterr().out
