"""Security: agencies, users, roles, desks, passwords, API tokens, sessions, login limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from redlane import security
from redlane.cli import app as cli
from redlane.security import audit
from redlane.security.accounts import Capability, Role
from redlane.security.passwords import hash_password, needs_rehash, verify_password
from redlane.store.database import Database
from redlane.store.schema import api_tokens, sessions, users

PASSWORD = "correct horse battery"
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def people(db: Database) -> Database:
    security.add_agency(db, "NL-DOUANE", "Douane Nederland", "customs", "NL")
    security.add_agency(db, "BE-POL", "Police fédérale", "police", "be")
    security.add_user(db, "anna", "NL-DOUANE", PASSWORD, ["targeter"], "Anna de Vries")
    security.add_user(db, "marc", "BE-POL", PASSWORD, ["intelligence officer"])
    return db


def test_passwords_are_argon2id_salted_and_verified() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$") and first != second
    assert verify_password(first, PASSWORD) and verify_password(second, PASSWORD)
    assert not verify_password(first, PASSWORD + "!")
    assert not verify_password("not a hash", PASSWORD)
    assert not needs_rehash(first)
    weak = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$" + "A" * 43
    assert needs_rehash(weak)


def test_passwords_are_checked(db: Database) -> None:
    security.add_agency(db, "NL-DOUANE", "Douane", "customs", "NL")
    with pytest.raises(security.PasswordError, match="at least 12"):
        security.add_user(db, "anna", "NL-DOUANE", "short", ["officer"])
    with pytest.raises(security.PasswordError, match="user name"):
        security.add_user(db, "annabel", "NL-DOUANE", "xx-annabel-xx-2026", ["officer"])


def test_only_the_hash_of_a_password_is_stored(people: Database) -> None:
    with people.engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalars().all()
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in stored)


def test_agencies_users_and_roles(people: Database) -> None:
    agencies = {a.code: a for a in security.list_agencies(people)}
    assert agencies["BE-POL"].country == "BE" and agencies["BE-POL"].kind == "police"
    anna = security.get_user(people, "anna")
    assert anna.agency == "NL-DOUANE" and anna.roles == {Role.TARGETER}
    assert anna.display_name == "Anna de Vries"
    assert [u.username for u in security.list_users(people, "BE-POL")] == ["marc"]
    assert security.get_user(people, "marc").roles == {Role.INTELLIGENCE_OFFICER}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda db: security.add_agency(db, "X-1", "X", "navy", "NL"), "agency kind 'navy'"),
        (lambda db: security.add_agency(db, "X-1", "X", "customs", "XX"), "country 'XX'"),
        (lambda db: security.add_agency(db, "NL-DOUANE", "X", "customs", "NL"), "exists"),
        (lambda db: security.add_user(db, "bob", "NO-SUCH", PASSWORD, ["officer"]), "NO-SUCH"),
        (lambda db: security.add_user(db, "bob", "NL-DOUANE", PASSWORD, ["chief"]), "role"),
        (lambda db: security.add_user(db, "bob", "NL-DOUANE", PASSWORD, []), "at least one"),
        (lambda db: security.add_user(db, "anna", "NL-DOUANE", PASSWORD, ["officer"]), "exists"),
        (lambda db: security.add_user(db, "Bad Name", "NL-DOUANE", PASSWORD, ["officer"]), "name"),
        (lambda db: security.add_desk(db, "NL-RTM-TC", "T", "NL-DOUANE", "NLXXX"), "UN/LOCODE"),
        (lambda db: security.get_user(db, "nobody"), "nobody"),
    ],
)
def test_wrong_account_data_is_refused_with_a_reason(
    people: Database, call: object, message: str
) -> None:
    with pytest.raises(security.AccountError, match=message):
        call(people)  # type: ignore[operator]


def test_roles_grant_capabilities(people: Database) -> None:
    anna = security.get_user(people, "anna")
    assert anna.can(Capability.READ_WORKLIST) and anna.can(Capability.MANAGE_PROFILES)
    assert not anna.can(Capability.MANAGE_ACCOUNTS)
    admin = security.set_roles(people, "anna", ["administrator"])
    # separation of duties: an administrator manages accounts, not operational data
    assert admin.can(Capability.MANAGE_ACCOUNTS) and not admin.can(Capability.READ_WORKLIST)
    with pytest.raises(security.Forbidden, match="read_worklist: that needs the role"):
        security.require(admin, Capability.READ_WORKLIST)
    disabled = security.set_active(people, "marc", False)
    assert not disabled.can(Capability.SEND_MESSAGES)


def test_desks_have_members_of_their_agency(people: Database) -> None:
    desk = security.add_desk(people, "NL-RTM-TC", "Targeting centre Rotterdam", "NL-DOUANE",
                             "NLRTM")  # fmt: skip
    assert desk.place == "NLRTM" and desk.members == ()
    security.add_user(people, "piet", "NL-DOUANE", PASSWORD, ["officer"])
    security.add_desk_member(people, "NL-RTM-TC", "anna")
    desk = security.add_desk_member(people, "nl-rtm-tc", "piet")
    assert desk.members == ("anna", "piet")
    assert security.add_desk_member(people, "NL-RTM-TC", "anna").members == ("anna", "piet")
    assert security.get_user(people, "anna").desks == {"NL-RTM-TC"}
    with pytest.raises(security.AccountError, match="another agency"):
        security.add_desk_member(people, "NL-RTM-TC", "marc")
    assert security.remove_desk_member(people, "NL-RTM-TC", "anna").members == ("piet",)


def test_token_lifecycle(people: Database) -> None:
    issued = security.issue_token(people, "anna", "worklist script", timedelta(days=30), now=T0)
    assert issued.token.startswith("rlt_") and len(issued.token) > 40
    with people.engine.connect() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash)).scalar_one()
    assert issued.token not in stored and len(stored) == 64
    user = security.authenticate_token(people, issued.token, now=T0 + timedelta(days=29))
    assert user.username == "anna"
    with pytest.raises(security.AuthenticationError, match="expired"):
        security.authenticate_token(people, issued.token, now=T0 + timedelta(days=30))
    with pytest.raises(security.AuthenticationError, match="unknown"):
        security.authenticate_token(people, issued.token + "x", now=T0)
    (info,) = security.list_tokens(people, "anna")
    assert info.status(T0) == "valid" and info.status(T0 + timedelta(days=31)) == "expired"

    security.revoke_token(people, issued.id, now=T0 + timedelta(days=1))
    with pytest.raises(security.AuthenticationError, match="revoked"):
        security.authenticate_token(people, issued.token, now=T0 + timedelta(days=2))
    assert security.list_tokens(people, "anna")[0].status() == "revoked"
    with pytest.raises(security.AccountError, match="does not exist"):
        security.revoke_token(people, 999)

    other = security.issue_token(people, "marc", now=T0)
    security.set_active(people, "marc", False)
    with pytest.raises(security.AuthenticationError, match="disabled"):
        security.authenticate_token(people, other.token, now=T0)
    with pytest.raises(security.AccountError, match="366 days"):
        security.issue_token(people, "anna", valid_for=timedelta(days=400))


def test_login_opens_a_session_and_logout_ends_it(people: Database) -> None:
    session = security.login(people, "Anna", PASSWORD, "10.0.0.1", now=T0)
    assert session.user.username == "anna" and session.expires_at == T0 + timedelta(hours=8)
    assert security.session_user(people, session.token, now=T0 + timedelta(hours=7)).id == (
        session.user.id
    )
    with people.engine.connect() as conn:
        assert session.token not in conn.execute(select(sessions.c.token_hash)).scalar_one()
    with pytest.raises(security.AuthenticationError, match="expired"):
        security.session_user(people, session.token, now=T0 + timedelta(hours=8))
    security.logout(people, session.token, now=T0 + timedelta(hours=1))
    with pytest.raises(security.AuthenticationError, match="log in again"):
        security.session_user(people, session.token, now=T0 + timedelta(hours=2))
    actions = [(e.action, e.username) for e in audit.entries(people)]
    assert actions == [("login", "anna"), ("logout", "anna")]


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(people: Database) -> None:
    for name, password in (("anna", "wrong password!"), ("nobody", PASSWORD), ("x" * 500, "y")):
        with pytest.raises(security.AuthenticationError) as refused:
            security.login(people, name, password, "10.0.0.1", now=T0)
        assert str(refused.value) == "wrong user name or password"
    security.set_active(people, "marc", False)
    with pytest.raises(security.AuthenticationError, match="wrong user name or password"):
        security.login(people, "marc", PASSWORD, "10.0.0.1", now=T0)
    refused_logins = audit.entries(people)
    assert [e.action for e in refused_logins] == ["login_refused"] * 4
    assert refused_logins[0].details == {"reason": "bad credentials", "source": "10.0.0.1"}


def test_an_account_is_locked_after_repeated_failures(people: Database) -> None:
    limits = security.LoginLimits(account_failures=3, source_failures=100,
                                  window=timedelta(minutes=15))  # fmt: skip
    for minute in range(3):
        with pytest.raises(security.AuthenticationError, match="wrong"):
            security.login(people, "anna", "guess number one", f"10.0.0.{minute}",
                           now=T0 + timedelta(minutes=minute), limits=limits)  # fmt: skip
    # now even the right password is refused, from any address, until the window has passed
    with pytest.raises(security.LoginLocked, match="account anna: locked until") as locked:
        security.login(people, "anna", PASSWORD, "10.9.9.9", now=T0 + timedelta(minutes=5),
                       limits=limits)  # fmt: skip
    assert locked.value.until == T0 + timedelta(minutes=15)
    assert "2026-11-30 09:15:00 UTC" in str(locked.value)
    # the other account is not affected
    security.login(people, "marc", PASSWORD, "10.0.0.1", now=T0 + timedelta(minutes=5),
                   limits=limits)  # fmt: skip
    # the oldest failure leaves the window at 09:15: two remain, below the limit of three
    session = security.login(people, "anna", PASSWORD, "10.0.0.1",
                             now=T0 + timedelta(minutes=15), limits=limits)  # fmt: skip
    assert session.user.username == "anna"
    # a success starts the count afresh
    with pytest.raises(security.AuthenticationError, match="wrong"):
        security.login(people, "anna", "another wrong guess", "10.0.0.1",
                       now=T0 + timedelta(minutes=16), limits=limits)  # fmt: skip
    security.login(people, "anna", PASSWORD, "10.0.0.1", now=T0 + timedelta(minutes=17),
                   limits=limits)  # fmt: skip


def test_an_address_is_locked_after_failures_across_accounts(people: Database) -> None:
    limits = security.LoginLimits(account_failures=100, source_failures=4)
    for n in range(4):
        with pytest.raises(security.AuthenticationError):
            security.login(people, f"user{n}", PASSWORD, "203.0.113.7",
                           now=T0 + timedelta(seconds=n), limits=limits)  # fmt: skip
    with pytest.raises(security.LoginLocked, match=r"address 203\.0\.113\.7"):
        security.login(people, "anna", PASSWORD, "203.0.113.7", now=T0 + timedelta(minutes=1),
                       limits=limits)  # fmt: skip
    # anna from her own address is fine
    security.login(people, "anna", PASSWORD, "10.0.0.1", now=T0 + timedelta(minutes=1),
                   limits=limits)  # fmt: skip
    refused = [e for e in audit.entries(people) if e.details.get("reason") == "source locked"]
    assert len(refused) == 1 and refused[0].username == "anna"


def test_cli_accounts(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> str:
        result = runner.invoke(cli, [*args, "--database", url], input=input)
        assert result.exit_code == 0, result.output
        return result.output

    run("agency", "add", "NL-DOUANE", "--name", "Douane", "--kind", "customs", "--country", "NL")
    assert "NL-DOUANE" in run("agency", "list")
    out = run("user", "add", "anna", "--agency", "NL-DOUANE", "--role", "targeter", "--role",
              "officer", input=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert "officer, targeter" in out
    run("user", "passwd", "anna", input="a new passphrase 1\na new passphrase 1\n")
    db = Database(url)
    security.login(db, "anna", "a new passphrase 1", "cli-test")
    token = run("user", "token", "anna", "--days", "7").strip().splitlines()[-1]
    assert security.authenticate_token(db, token).username == "anna"
    assert "valid" in run("user", "tokens", "anna")
    run("user", "revoke", "1")
    assert "revoked" in run("user", "tokens", "anna")
    run("desk", "add", "NL-RTM-TC", "--name", "Targeting centre", "--agency", "NL-DOUANE",
        "--place", "NLRTM")  # fmt: skip
    assert "anna" in run("desk", "member", "NL-RTM-TC", "anna")
    assert "anna" in run("user", "list")
    assert "Targeting centre" in run("desk", "list")

    bad = runner.invoke(cli, ["agency", "add", "X-1", "--name", "X", "--kind", "navy",
                              "--country", "NL", "--database", url])  # fmt: skip
    assert bad.exit_code == 2 and "navy" in bad.output
    short = runner.invoke(cli, ["user", "add", "bob", "--agency", "NL-DOUANE", "--role",
                                "officer", "--database", url], input="short\nshort\n")  # fmt: skip
    assert short.exit_code == 2 and "at least 12" in short.output
    db.dispose()


def test_a_hash_with_old_parameters_is_upgraded_at_login(people: Database) -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with people.engine.begin() as conn:
        conn.execute(update(users).where(users.c.username == "anna").values(password_hash=weak))
    security.login(people, "anna", PASSWORD, "10.0.0.1", now=T0)
    with people.engine.connect() as conn:
        stored = conn.execute(
            select(users.c.password_hash).where(users.c.username == "anna")
        ).scalar_one()
    assert stored != weak and not needs_rehash(stored) and verify_password(stored, PASSWORD)
