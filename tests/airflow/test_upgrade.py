"""Airflow 2.11 to 3.x in place, against a real PostgreSQL: the migration Job's preflight and migration.

A 2.11.2 release migrates its database, and a DAG run stores XComs: a plain one, and the kinds of
value the 3.0 migration (0049, XCom bytea to JSON) cannot take as they are: NaN, U+0000, and bytes
that are no JSON at all. The same spec at 3.x then runs the migration Job's containers as they are
rendered, with their env and files, in the real Airflow of each version:
- the preflight refuses, naming every such row, and the schema stays at 2.11's revision;
- on 3.3.2, whose migration rewrites NaN and U+0000, database.migration.allowXComRewrites lets those
  through, but still refuses what no migration can convert; on 3.2.2, whose migration fails on NaN,
  the option does not let NaN through;
- once the rows are fixed, the preflight passes, `airflow db migrate` reaches 3.x, and the data the
  preflight let through was rewritten as it said;
- the 2.11 spec on the migrated database is refused by the preflight: a downgrade.
"""

from __future__ import annotations

import pytest

import podenv

SPEC = """\
apiVersion: airkube/v1alpha1
kind: AirflowRelease
metadata: {{name: upgrade, namespace: airflow}}
airflow: {{version: "{version}"}}
executor: LocalExecutor
database:
  type: postgres
  host: {host}
  port: {port}
  name: {db}
  user: {user}
  passwordSecret: {{name: airflow-db, key: password}}
  sslMode: disable
{migration}
storage:
  dags: {{image: {{}}}}
"""

# Stores XComs with the 2.11 ORM, as tasks did: a DAG run, then values through XCom.set (JSON).
SEED = r"""
import pendulum
from airflow.models import DAG, XCom
from airflow.operators.empty import EmptyOperator
from airflow.utils.session import create_session
from airflow.utils.state import DagRunState
from airflow.utils.types import DagRunType

dag = DAG("seeded", start_date=pendulum.datetime(2026, 1, 1), schedule=None)
EmptyOperator(task_id="t", dag=dag)
when = pendulum.datetime(2026, 1, 2)
dag.create_dagrun(run_id="run1", state=DagRunState.SUCCESS, execution_date=when, run_type=DagRunType.MANUAL,
                  data_interval=(when, when))
for key, value in {"plain": {"grid": [1.5, 2.5]}, "nan": {"anomaly": float("nan")}, "nul": "gr\x00ib",
                   "notjson": "placeholder"}.items():
    XCom.set(key=key, value=value, task_id="t", dag_id="seeded", run_id="run1")
print("seeded")
"""


class Release:
    """The migration Job of one spec: its one container (the preflight, then `airflow db migrate`), run as rendered."""

    def __init__(self, services, tmp_path, db, version, migration=""):
        self.services, self.version = services, version
        spec = SPEC.format(version=version, host=services.pg_host, port=services.pg_port, db=db,
                           user=services.pg_user, migration=migration)
        self.root = tmp_path / f"{version}{'-allow' if migration else ''}"
        self.objs = podenv.render(spec, out=self.root / "render")
        self.secrets, self.cms = podenv.test_inputs(self.objs, db_password=services.pg_password)
        job = [c for c in podenv.airflow_containers(self.objs, init=True) if c.component == "migrate"]
        assert [c.init for c in job] == [False], f"the migration Job has one container: {job}"
        self.migrate_c = job[0]
        self.scheduler_c = podenv.container(self.objs, "scheduler")

    def run(self, c, argv=None):
        root = self.root / c.name
        env = podenv.materialize(self.objs, c, self.secrets, root, configmaps=self.cms)
        return podenv.run(env, root, argv or c.container["args"], venv=podenv.venv_for(self.version), timeout=900)

    def job(self):
        """The Job's container as rendered: the preflight, and the migration when it passes."""
        return self.run(self.migrate_c)

    def migrate(self):
        p = self.job()
        assert p.returncode == 0, f"the migration Job on {self.version} failed:\n{p.stdout[-2000:]}\n{p.stderr[-4000:]}"
        return p


def revision(services, db):
    return services.psql("SELECT version_num FROM alembic_version", db=db)


def test_preflight_guards_the_3x_migration(services, tmp_path):
    db = services.fresh_database("airflow_upgrade_preflight")
    old = Release(services, tmp_path, db, "2.11.2")
    assert old.migrate_c.container["args"] == ["python", "/opt/airkube/python/airkube_preflight.py", "--migrate"]
    p = old.migrate()
    assert "a new database" in p.stdout, p.stdout + p.stderr
    p = old.run(old.scheduler_c, ["python", "-c", SEED])
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-4000:]
    # Bytes no JSON reader takes: what a custom serializer or a hand edit can leave behind.
    services.psql("UPDATE xcom SET value = '\\xfffe00'::bytea WHERE key = 'notjson'", db=db)
    at_211 = revision(services, db)

    new = Release(services, tmp_path, db, "3.3.2")
    p = new.job()
    assert p.returncode == 1, p.stdout + p.stderr
    for key, reason in {"nan": "NaN or Infinity", "nul": "U+0000", "notjson": "not UTF-8"}.items():
        line = next((x for x in p.stderr.splitlines() if f"key={key!r}" in x), "")
        assert "dag_id='seeded' run_id='run1' task_id='t' map_index=-1" in line and reason in line, p.stderr
    assert "key='plain'" not in p.stderr
    assert "3 XCom value(s) of 4" in p.stderr and "Nothing was changed" in p.stderr, p.stderr
    assert revision(services, db) == at_211, "the preflight changed the schema"

    # 3.3.2's migration rewrites NaN and U+0000: the option lets them through, not the bytes.
    allow = Release(services, tmp_path, db, "3.3.2", migration="  migration: {allowXComRewrites: true}")
    assert "--allow-xcom-rewrites" in allow.migrate_c.container["args"]
    p = allow.job()
    assert p.returncode == 1 and "key='notjson'" in p.stderr, p.stdout + p.stderr
    assert "key='nan'" not in p.stderr and "key='nul'" not in p.stderr, p.stderr

    # 3.2.2's migration fails on NaN: the option cannot let it through.
    p = Release(services, tmp_path, db, "3.2.2", migration="  migration: {allowXComRewrites: true}").job()
    assert p.returncode == 1 and "key='nan'" in p.stderr and "migration fails on it" in p.stderr, p.stdout + p.stderr

    services.psql("DELETE FROM xcom WHERE key = 'notjson'", db=db)
    p = allow.migrate()
    assert "3 XCom values checked" in p.stdout, p.stdout + p.stderr
    assert revision(services, db) != at_211
    # The migration rewrote what the preflight said it would, and kept the rest.
    values = dict(line.split("|", 1) for line in services.psql("SELECT key, value::text FROM xcom", db=db).splitlines())
    assert values == {"plain": '{"grid": [1.5, 2.5]}', "nan": '{"anomaly": null}', "nul": '"grib"'}, values

    # Back to 2.11 on the 3.3 database: refused before anything runs.
    p = old.job()
    assert p.returncode == 1 and "a newer Airflow migrated it" in p.stderr and "airflow db downgrade --to-version 2.11.2" in p.stderr, p.stdout + p.stderr
