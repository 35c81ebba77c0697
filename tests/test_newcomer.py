"""A new user's path: after `make run`, the commands the README prints work as printed in that checkout, and the
development .env it writes neither replaces a user's own nor outweighs the environment."""

import subprocess
from pathlib import Path

from tests.checkout import ROOT, clean_environment, fresh_checkout, manage

DEVELOPMENT_ENV = "DEBUG=true\nSECURE_SSL_REDIRECT=false\nSECURE_COOKIES=false\n"


def readme_commands(section: str) -> list[str]:
    """The lines of the first shell block in a README section."""
    body = (ROOT / "README.md").read_text().split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    block = body.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def shell(checkout: Path, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-c", command], cwd=checkout, env=clean_environment(), capture_output=True, text=True, timeout=120
    )


def test_make_run_writes_the_development_settings_to_env(tmp_path: Path) -> None:
    run_rule = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("run:"))
    assert "dev-env" in run_rule.split()
    checkout = fresh_checkout(tmp_path)
    made = shell(checkout, "make dev-env")
    assert made.returncode == 0, made.stderr
    written = (checkout / ".env").read_text()
    assert written.startswith("# ") and written.endswith(DEVELOPMENT_ENV)


def test_readme_commands_work_as_printed_after_make_run(tmp_path: Path) -> None:
    checkout = fresh_checkout(tmp_path)
    # What `make run` does before it serves, the development settings coming from the .env it writes.
    for command in ("make dev-env", ".venv/bin/python manage.py init_master_key", ".venv/bin/python manage.py migrate"):
        result = shell(checkout, command)
        assert result.returncode == 0, f"{command}\n{result.stderr}"

    commands = readme_commands("Tenants, users and roles")
    assert any("create_tenant" in c for c in commands) and any("create_user" in c for c in commands)
    for command in commands:
        result = shell(checkout, command)
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        assert result.stdout.startswith("Created "), result.stdout


def test_an_existing_env_is_left_as_it_is(tmp_path: Path) -> None:
    checkout = fresh_checkout(tmp_path)
    own = "# mine\nDATABASE_URL=postgres://portal@db.internal/portal\n"
    (checkout / ".env").write_text(own)
    made = shell(checkout, "make dev-env")
    assert made.returncode == 0, made.stderr
    assert (checkout / ".env").read_text() == own
    assert "Kept the existing .env" in made.stdout


def test_debug_off_in_the_environment_outweighs_the_development_env(tmp_path: Path) -> None:
    checkout = fresh_checkout(tmp_path)
    (checkout / ".env").write_text(DEVELOPMENT_ENV)
    result = manage(checkout, "check", env={"DEBUG": "false"})
    assert result.returncode == 1
    assert "SECRET_KEY must be set" in result.stderr
