"""Fixtures of the real-Airflow suite: the tests' PostgreSQL and Redis (hack/airflow/services.sh).

hack/make-rules/airflow.sh starts the services before pytest and exports their settings
(`services.sh env`). Each pytest process (each xdist worker too) also holds them
(`services.sh start PID`, a no-op when they run) and releases them at the end: they stop when the
last holder is gone, so a pytest run by hand works alone, and concurrent sessions don't stop
each other's services.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import podenv  # noqa: E402

SERVICES_SH = podenv.REPO / "hack" / "airflow" / "services.sh"


@dataclass
class Services:
    pg_host: str
    pg_port: int
    pg_user: str
    pg_password: str
    redis_url: str

    def psql(self, sql: str, db: str = "postgres") -> str:
        """Run SQL as the cluster's superuser (trust on loopback; the tests' own cluster)."""
        p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-tA", "-h", self.pg_host, "-p",
                            str(self.pg_port), "-U", "postgres", "-d", db, "-c", sql],
                           capture_output=True, text=True, env={**os.environ, "PGPASSWORD": ""})
        if p.returncode != 0:
            raise RuntimeError(f"psql {sql!r}: {p.stderr}")
        return p.stdout.strip()

    def fresh_database(self, name: str) -> str:
        """Drop and create database name, owned by the airflow role; returns name."""
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.psql(f'CREATE DATABASE "{name}" OWNER {self.pg_user}')
        return name


def _env_from_services_sh() -> dict:
    out = subprocess.run([str(SERVICES_SH), "env"], capture_output=True, text=True, check=True).stdout
    p = subprocess.run(["bash", "-c", out + "\nenv -0"], capture_output=True, check=True)
    env = dict(x.split("=", 1) for x in p.stdout.decode().split("\0") if "=" in x)
    return {k: v for k, v in env.items() if k.startswith("AIRKUBE_")}


@pytest.fixture(scope="session")
def services():
    """The tests' PostgreSQL and Redis (started if down), held for this session."""
    # Held by this process (released below): services another session holds stay up for it.
    holder = str(os.getpid())
    subprocess.run([str(SERVICES_SH), "start", holder], check=True, capture_output=True)
    env = {**_env_from_services_sh(), **{k: v for k, v in os.environ.items() if k.startswith("AIRKUBE_PG_") or k.startswith("AIRKUBE_REDIS_")}}
    yield Services(env["AIRKUBE_PG_HOST"], int(env["AIRKUBE_PG_PORT"]), env["AIRKUBE_PG_USER"],
                   env["AIRKUBE_PG_PASSWORD"], env["AIRKUBE_REDIS_URL"])
    subprocess.run([str(SERVICES_SH), "release", holder], check=False, capture_output=True)
