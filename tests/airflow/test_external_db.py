"""The rendered database settings against a real PostgreSQL (hack/airflow/services.sh).

A spec pointing at the tests' Postgres (127.0.0.1, its port, role airflow whose password holds
`@ : / % # ? &`) is rendered; then, each with the env and files of the container that runs it in
the cluster: the migration Job (its preflight, then `airflow db migrate`, in one process), the wait-for-migrations init container's
exact args (`airflow db check-migrations ...`), and `airflow db check` in the scheduler. For
`passwordSecret` the Secret holds the raw password (db_uri.py URL-encodes it); for
`connectionSecret` it holds a properly URL-encoded URI.
"""

from __future__ import annotations

import urllib.parse

import pytest

import podenv

SPEC = """\
apiVersion: airkube/v1alpha1
kind: AirflowRelease
metadata: {{name: dbtest, namespace: airflow}}
airflow: {{version: "{version}"}}
executor: LocalExecutor
database:
{database}
storage:
  dags: {{image: {{}}}}
"""


def _spec(version, form, services, db):
    if form == "passwordSecret":
        database = (f"  type: postgres\n  host: {services.pg_host}\n  port: {services.pg_port}\n"
                    f"  name: {db}\n  user: {services.pg_user}\n  passwordSecret: {{name: airflow-db, key: password}}\n"
                    f"  sslMode: disable")
    else:
        database = "  type: postgres\n  connectionSecret: {name: airflow-db-uri, key: uri}"
    return SPEC.format(version=version, database=database)


@pytest.mark.parametrize("version", ["3.3.2", "2.11.2"])
@pytest.mark.parametrize("form", ["passwordSecret", "connectionSecret"])
def test_migrate_and_check(version, form, services, tmp_path):
    db = services.fresh_database(f"airflow_{version.replace('.', '_')}_{form.lower()}")
    objs = podenv.render(_spec(version, form, services, db), out=tmp_path / "render")
    uri = (f"postgresql+psycopg2://{urllib.parse.quote(services.pg_user, safe='')}:"
           f"{urllib.parse.quote(services.pg_password, safe='')}@{services.pg_host}:{services.pg_port}/{db}")
    secrets, cms = podenv.test_inputs(objs, db_password=services.pg_password, db_uri=uri)
    if form == "passwordSecret":
        assert secrets[("airflow-db", "password")] == services.pg_password
    else:
        assert secrets[("airflow-db-uri", "uri")] == uri
    venv = podenv.venv_for(version)
    containers = podenv.airflow_containers(objs, init=True)

    def run_in(component, argv=None, init=False):
        c = next(x for x in containers if x.component == component and x.init == init)
        root = tmp_path / f"{component}{'-init' if init else ''}"
        env = podenv.materialize(objs, c, secrets, root, configmaps=cms)
        argv = argv or c.container["args"]
        p = podenv.run(env, root, argv, venv=venv, timeout=900)
        assert p.returncode == 0, f"{c} {argv} failed (rc {p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-4000:]}"
        return p

    migrate = [x for x in containers if x.component == "migrate"]
    assert [(x.init, x.container["args"]) for x in migrate] == [(False, ["python", "/opt/airkube/python/airkube_preflight.py", "--migrate"])], migrate
    p = run_in("migrate")  # the preflight first (a new database has nothing to check), then `airflow db migrate`
    assert "a new database" in p.stdout, p.stdout + p.stderr
    p = run_in("scheduler", init=True)  # wait-for-migrations: returns once the schema is current
    assert "check-migrations" in " ".join(next(x for x in containers if x.component == "scheduler" and x.init).container["args"])
    p = run_in("scheduler", ["airflow", "db", "check"])
    assert "Connection successful" in p.stdout + p.stderr, p.stdout + p.stderr
    # The schema is really there, in the database the spec names, owned by the airflow role.
    n = services.psql("SELECT count(*) FROM information_schema.tables WHERE table_name IN ('dag', 'task_instance', 'alembic_version')", db=db)
    assert n == "3", n
