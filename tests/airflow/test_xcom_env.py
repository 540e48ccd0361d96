"""Issue 10: XComs in object storage, connections and variables from Secrets, and a secrets backend,
in real Airflow 3.3.2.

A LocalExecutor release is rendered with `xcom.objectStorage` on a `file://` path on a data volume
the default task group mounts (the scheduler, where LocalExecutor tasks run), a connection and a
variable from test Secrets, `airflow.secretsBackend` (LocalFilesystemBackend, its kwargs only in a
test Secret, naming files on a read-only data volume), and the local PostgreSQL. The migration Job, scheduler, dag-processor
and api-server run with their rendered args, env and files plus only the OVERRIDES below. A DAG pushes
an XCom above the threshold and pulls it back, reads the connection and the variable, and reads a connection and a variable that
only the secrets backend's files hold: every task succeeds, the `xcom` row holds a reference to the object, not the data, and the object is on the
volume. The api-server, which needs neither, has no connection or variable in its env.
"""
import json
import time
from pathlib import Path

import pytest

import airflow_ui
import podenv
from kube_fixture import Processes, free_port, http_ok, probe_url, rows, wait_for, wait_for_dag

DAG = Path(__file__).parent / "dags_xcom" / "xcom_env.py"
DAG_ID = "airkube_xcom_env"
CONNECTION = "ftp://wx:gr%21b%3Ap%40ss@grib.example.com:21"

OVERRIDES = {
    "scheduler": {
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": "<free port>",
        # The LocalExecutor's log server, on 8793 of the pod's own IP.
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": "<free port>",
        # The tasks reach the api-server at 127.0.0.1, not the Service's cluster DNS name.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": "http://127.0.0.1:<api port>/execution/",
    },
    "api-server": {"AIRFLOW__API__PORT": "<free port>"},
}

SPEC = podenv.spec_template("xc", airflow="""\
airflow:
  version: "3.3.2"
  image: apache/airflow:3.3.2
  connections:
    - {{id: grib_archive, secret: {{name: weather-connections, key: grib_archive}}}}
  variables:
    - {{key: forecast_region, secret: {{name: weather-variables, key: forecast_region}}}}
  secretsBackend:
    class: airflow.secrets.local_filesystem.LocalFilesystemBackend
    kwargsSecret: {{name: secrets-backend, key: kwargs}}
""", body="""\
storage:
  volumes:
    - {{name: xcom, existingClaim: xcom-store, mountPath: /mnt/xcom}}
    - {{name: vault, existingClaim: vault-files, mountPath: /mnt/vault, readOnly: true}}
xcom:
  objectStorage: {{path: "file:///mnt/xcom/objects", threshold: 1024}}
taskGroups:
  - name: default
    volumes: [xcom, vault]
""")
# What only the secrets backend knows: LocalFilesystemBackend's files on the vault volume.
BACKEND_KWARGS = '{"connections_file_path": "/mnt/vault/connections.json", "variables_file_path": "/mnt/vault/variables.json"}'
BACKEND_FILES = {"connections.json": '{"radar_archive": "sftp://radar:r4d%40r@radar.example.com:22"}',
                 "variables.json": '{"forecast_model": "icon-eu"}'}


@pytest.mark.xdist_group("airkube-xcom")
def test_xcom_object_storage_and_env_from_secrets(services, tmp_path):
    t0 = time.monotonic()
    database = services.fresh_database("airkube_xcom_env")
    objects = podenv.render(SPEC.format(database=database, pg_host=services.pg_host, pg_port=services.pg_port,
                                        pg_user=services.pg_user), out=tmp_path / "render")
    venv = podenv.venv_for("3.3.2")
    secrets, _ = podenv.test_inputs(objects, db_password=services.pg_password)
    secrets[("weather-connections", "grib_archive")] = CONNECTION
    secrets[("weather-variables", "forecast_region")] = "europe"
    secrets[("secrets-backend", "kwargs")] = BACKEND_KWARGS
    for o in objects:
        assert CONNECTION not in json.dumps(o) or o["kind"] == "Secret", "%s holds the connection" % o["kind"]

    api = podenv.container(objects, "api-server")
    names = {e["name"] for e in api.container["env"]}
    assert not names & {"AIRFLOW_CONN_GRIB_ARCHIVE", "AIRFLOW_VAR_FORECAST_REGION"}, "the api-server reads connections"

    airflow_ui.migrate(objects, secrets, tmp_path / "migrate", venv)
    procs = Processes(tmp_path / "logs")
    ports = {"api": free_port(), "health": free_port(), "logs": free_port()}
    sched_root = tmp_path / "scheduler"
    vault = sched_root / "mnt" / "vault"  # the read-only volume the backend's files are on
    vault.mkdir(parents=True)
    for name, text in BACKEND_FILES.items():
        (vault / name).write_text(text)
    try:
        api_env = podenv.materialize(objects, api, secrets, tmp_path / "api-server")
        api_env["AIRFLOW__API__PORT"] = str(ports["api"])
        procs.start("api-server", api_env, tmp_path / "api-server", api.container["args"], venv)
        airflow_ui.start(objects, "dag-processor", secrets, tmp_path / "dag-processor", venv, procs, dags=[DAG])
        airflow_ui.start(objects, "scheduler", secrets, sched_root, venv, procs, dags=[DAG], env_overrides={
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(ports["health"]),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(ports["logs"]),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": "http://127.0.0.1:%d/execution/" % ports["api"],
        })
        print("overrides (host instead of pod):\n" + json.dumps(OVERRIDES, indent=1))
        wait_for("the api-server's rendered startupProbe", lambda: http_ok(probe_url(api, "startupProbe", ports["api"])),
                 240, procs=procs)

        wait_for_dag(services, database, DAG_ID, procs)

        sched = podenv.container(objects, "scheduler")
        env = podenv.materialize(objects, sched, secrets, sched_root)
        for args in (("dags", "unpause", DAG_ID), ("dags", "trigger", DAG_ID)):
            p = podenv.run(env, sched_root, ["airflow", *args], venv=venv, timeout=300)
            assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
        t = time.monotonic()

        def done():
            r = rows(services, database, "SELECT state FROM dag_run WHERE dag_id = '%s'" % DAG_ID)
            return r and r[0][0] in ("success", "failed") and r[0][0]
        state = wait_for("the DAG run to finish", done, 600, procs=procs)
        print("DAG run %s in %.1fs" % (state, time.monotonic() - t))
        tis = rows(services, database, "SELECT task_id, state FROM task_instance WHERE dag_id = '%s' ORDER BY task_id" % DAG_ID)
        xcom = rows(services, database, "SELECT task_id, value::text FROM xcom WHERE dag_id = '%s' AND key = 'return_value'" % DAG_ID)
    finally:
        procs.stop_all()
        for p in procs.procs:
            print("---- %s (last lines)\n%s" % (p.name, p.tail(1500)))
    assert state == "success" and all(s == "success" for _, s in tis), tis
    assert [t for t, _ in tis] == ["backend", "env", "pull", "push"], tis
    # The row holds where the object is, not the 5000 characters.
    (task, value), = xcom
    assert task == "push" and len(value) < 500 and "/mnt/xcom/objects" in value, value
    objects_dir = sched_root / "mnt" / "xcom" / "objects"
    stored = [p for p in objects_dir.rglob("*") if p.is_file()]
    assert stored and all(p.stat().st_size >= 5000 for p in stored), stored
    print("xcom row %s -> %s (%d bytes); %.1fs in all" % (value, stored[0], stored[0].stat().st_size, time.monotonic() - t0))
