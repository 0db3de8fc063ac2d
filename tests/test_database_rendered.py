"""The dev stack's PostgreSQL, for real: initialised from the rendered ConfigMap and env the way the
official image's entrypoint does it (tests/postgres_server.py), then checked over TCP with passwords,
the path every app takes from its own pod.

Open WebUI's own migrations and its pgvector store run in `make e2e` (tests/e2e/), which starts
the real Open WebUI on this database.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import litellm_proxy_extras
from rendered import postgres_init
from tests.postgres_server import Postgres, run_postgres

APPS = ("langfuse", "litellm", "openwebui", "agentserver")
# LiteLLM's Prisma migrations ship as plain SQL in litellm-proxy-extras; the proxy applies them with
# `prisma migrate deploy`, whose engines are downloaded at run time (impossible here): psql applies
# the same files, in the same (directory name) order
LITELLM_MIGRATIONS = Path(litellm_proxy_extras.__file__).parent / "migrations"


@pytest.fixture(scope="module")
def rendered_init(dev):
    return postgres_init(dev)


@pytest.fixture(scope="module")
def postgres(rendered_init):
    files, env = rendered_init
    with run_postgres(files, env) as server:
        yield server


def password(rendered_init, app: str) -> str:
    return rendered_init[1][f"{app.upper()}_DB_PASSWORD"]


def test_the_pod_initialises_from_an_executable_script(rendered_init):
    files, env = rendered_init
    assert files and all(name.endswith((".sh", ".sql")) for name in files)
    # an .sh without the executable bit is sourced by the entrypoint's bash, with its `set -e` off
    assert all(mode & 0o111 for name, (_, mode) in files.items() if name.endswith(".sh"))
    assert {f"{app.upper()}_DB_PASSWORD" for app in APPS} <= env.keys()


def test_each_app_owns_its_database(postgres, rendered_init):
    for app in APPS:
        result = postgres.psql(app, password(rendered_init, app), app, "-c",
                               "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")
        assert (result.returncode, result.stdout.strip()) == (0, app), result.stderr


@pytest.mark.parametrize("app,other", [("litellm", "openwebui"), ("openwebui", "langfuse"),
                                       ("agentserver", "litellm"), ("langfuse", "agentserver")])
def test_no_app_can_open_another_apps_database(postgres, rendered_init, app, other):
    result = postgres.psql(app, password(rendered_init, app), other, "-c", "SELECT 1")
    assert result.returncode != 0
    assert "permission denied for database" in result.stderr, result.stderr


def test_a_wrong_password_is_refused(postgres, rendered_init):
    for role, database in (("litellm", "litellm"), (postgres.superuser, "postgres")):
        result = postgres.psql(role, "not-the-password", database, "-c", "SELECT 1")
        assert result.returncode != 0
        assert f'password authentication failed for user "{role}"' in result.stderr, result.stderr


def test_open_webuis_database_has_pgvector(postgres, rendered_init):
    result = postgres.psql("openwebui", password(rendered_init, "openwebui"), "openwebui", "-c",
                           "SELECT '[1,2,3]'::vector <-> '[1,2,4]'::vector")
    assert (result.returncode, result.stdout.strip()) == (0, "1"), result.stderr


def test_litellms_bundled_migrations_apply_as_its_own_role(postgres, rendered_init):
    migrations = sorted(LITELLM_MIGRATIONS.glob("*/migration.sql"))
    assert len(migrations) > 100, f"expected LiteLLM's migrations under {LITELLM_MIGRATIONS}"
    pw = password(rendered_init, "litellm")
    for migration in migrations:
        result = postgres.psql("litellm", pw, "litellm", "-q", "-f", str(migration))
        assert result.returncode == 0, f"{migration.parent.name}: {result.stderr}"
    result = postgres.psql("litellm", pw, "litellm", "-c",
                           "SELECT count(*), count(*) FILTER (WHERE tableowner <> 'litellm') FROM pg_tables "
                           "WHERE schemaname = 'public'")
    tables, foreign = map(int, result.stdout.strip().split("|"))
    assert tables > 30 and foreign == 0, result.stdout
    # the tables the proxy's key auth and spend logging read
    for table in ("LiteLLM_VerificationToken", "LiteLLM_SpendLogs", "LiteLLM_UserTable"):
        assert postgres.psql("litellm", pw, "litellm", "-c", f'SELECT count(*) FROM "{table}"').returncode == 0
