import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from portal.accounts.models import Role, Tenant, User
from portal.audit.models import AuditEntry
from portal.cli import tenant_by_slug

STRONG = "a long enough passphrase 7"


@pytest.mark.django_db
def test_create_tenant_and_users_for_every_role(monkeypatch, capsys) -> None:
    call_command("create_tenant", "acme", name="Acme Contact Center")
    call_command("create_tenant", "globex", name="Globex")
    monkeypatch.setenv("PORTAL_USER_PASSWORD", STRONG)
    call_command("create_user", "alice", role="tenant-admin", tenant=["acme"], interactive=False)
    call_command("create_user", "pat", role="professional", tenant=["acme", "globex"], interactive=False)
    call_command("create_user", "sam", role="support", interactive=False)

    alice = User.objects.get(username="alice")
    assert alice.role == Role.TENANT_ADMIN and alice.check_password(STRONG)
    assert [t.slug for t in alice.tenants.all()] == ["acme"]
    assert {t.slug for t in User.objects.get(username="pat").tenants.all()} == {"acme", "globex"}
    assert not User.objects.get(username="sam").tenants.exists()
    assert "Created tenant administrator 'alice'." in capsys.readouterr().out
    assert AuditEntry.objects.filter(action="user-created").count() == 4  # pat is recorded in both tenants


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"role": "tenant-admin", "tenant": []}, "needs exactly one --tenant"),
        ({"role": "tenant-admin", "tenant": ["acme", "acme2"]}, "needs exactly one --tenant"),
        ({"role": "professional", "tenant": []}, "needs at least one --tenant"),
        ({"role": "support", "tenant": ["acme"]}, "do not give --tenant"),
        ({"role": "professional", "tenant": ["nope"]}, "Unknown tenant: nope."),
    ],
)
def test_create_user_refuses_bad_arguments(monkeypatch, kwargs, message) -> None:
    Tenant.objects.create(slug="acme", name="Acme")
    monkeypatch.setenv("PORTAL_USER_PASSWORD", STRONG)
    with pytest.raises(CommandError, match=message):
        call_command("create_user", "x", interactive=False, **kwargs)
    assert not User.objects.exists()


@pytest.mark.django_db
def test_create_user_needs_a_password_from_the_environment(monkeypatch) -> None:
    Tenant.objects.create(slug="acme", name="Acme")
    monkeypatch.delenv("PORTAL_USER_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="Set PORTAL_USER_PASSWORD"):
        call_command("create_user", "alice", role="tenant-admin", tenant=["acme"], interactive=False)
    monkeypatch.setenv("PORTAL_USER_PASSWORD", "short")
    with pytest.raises(CommandError, match="too short"):
        call_command("create_user", "alice", role="tenant-admin", tenant=["acme"], interactive=False)
    assert not User.objects.exists()


@pytest.mark.django_db
def test_create_tenant_refuses_duplicates_and_bad_slugs() -> None:
    call_command("create_tenant", "acme", name="Acme")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_tenant", "acme", name="Again")
    with pytest.raises(CommandError, match="lowercase letters"):
        call_command("create_tenant", "Bad_Slug", name="Bad")
    assert Tenant.objects.count() == 1


@pytest.mark.django_db
def test_create_demo_prints_the_password_once(capsys) -> None:
    call_command("create_demo")
    first = capsys.readouterr().out
    password = first.split("password: ")[1].split()[0]
    assert User.objects.get(username="demo-admin").check_password(password)
    call_command("create_demo")
    second = capsys.readouterr().out
    assert password not in second and "printed earlier" in second
    assert Tenant.objects.filter(slug="demo").count() == 1


@pytest.mark.parametrize("stdin", [subprocess.DEVNULL, b"typed\ntyped\n"], ids=["no-input", "piped-password"])
def test_create_user_without_a_terminal_says_so_in_one_line(stdin) -> None:
    """A script that forgot --noinput gets one line telling it what to do, not a traceback from the prompt."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    env.pop("PORTAL_USER_PASSWORD", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "create_user", "alice", "--role", "support"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        input=stdin if isinstance(stdin, bytes) else None,
        stdin=None if isinstance(stdin, bytes) else stdin,
        capture_output=True,
        start_new_session=True,  # no controlling terminal either, as under cron
        check=False,
    )
    errors = result.stderr.decode().strip().splitlines()
    assert result.returncode == 1
    assert errors == [
        "CommandError: No terminal to type the password at: run with --noinput and set PORTAL_USER_PASSWORD to the "
        "password."
    ]
    assert result.stdout == b""


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["a\udcff", "acmé", "acme\x00"])
def test_a_tenant_named_by_undecodable_or_foreign_text_is_one_line(slug: str) -> None:
    with pytest.raises(CommandError, match="^No tenant with the identifier '") as refused:
        tenant_by_slug(slug)
    assert "\n" not in str(refused.value)
