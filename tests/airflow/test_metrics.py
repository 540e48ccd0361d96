"""Issue 8 item 3: Airflow's metrics reach Prometheus with their DAG, task, pool and executor as labels.

The StatsD exporter is statsd_exporter built from its Go module at the pinned version, run as the
rendered exporter container (statsd_exporter.py: its args, its mapping from the rendered ConfigMap
at the mounted path; only its listen addresses move, see statsd_exporter.OVERRIDES).

- Every metric of Airflow 3.3.2's own registry that carries variables in its name, sent as Airflow
  sends it (the name with the variables, and the same metric under its name without them), comes
  out as one Prometheus metric with each variable as a label; the variable-free twin is dropped.
- A LocalExecutor release of 3.3.2 and 2.11.2 with metrics on is rendered with the local PostgreSQL,
  migrated, and its scheduler (and on 3.x its dag-processor and api-server) run with their rendered
  args, env and files plus only the OVERRIDES below. A DAG with a task and a task in a task group
  runs; the exporter then serves the scheduler's heartbeat, each task's duration and finish labelled
  with the DAG id and task id, the DAG run's duration, the executor's and the pool's slots, no metric
  whose name holds a DAG or task id, and no metric whose series disagree on their label names.
"""
import json
import shutil
import time
from pathlib import Path

import pytest
import yaml

import podenv
import statsd_exporter
from kube_fixture import Processes, free_port, http_ok, probe_ok, probe_url, rows, wait_for, wait_for_dag

DAG_DIR = Path(__file__).parent / "dags_b"
DAG_ID = "airkube_metrics"

# What must differ because every process shares the host's network instead of having a pod's.
# Values in <> are filled in per run and printed.
OVERRIDES = {
    # Every Airflow process: the exporter listens on loopback, not behind the <name>-statsd Service.
    "*": {"AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1", "AIRFLOW__METRICS__STATSD_PORT": "<the exporter's UDP port>"},
    "scheduler": {
        # 3.x: the scheduler's health server (a 2.x scheduler has none: its probes run `airflow jobs check`).
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": "<free port>",
        # The LocalExecutor's log server, on 8793 of the pod's own IP.
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": "<free port>",
        # 3.x: the tasks reach the api-server at 127.0.0.1, not the Service's cluster DNS name.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": "http://127.0.0.1:<api port>/execution/",
    },
    "api-server": {"AIRFLOW__API__PORT": "<free port>"},
}

SPEC = podenv.spec_template("mx", body="""\
storage:
  dags:
    nfs: {{server: nas.example.com, path: /airflow/dags}}
  logs:
    nfs: {{server: nas.example.com, path: /airflow/logs}}
metrics:
  statsd: {{}}
""")

# The label each of Airflow's name variables becomes (None: not a label, see the mapping).
LABELS = {
    "dag_id": "dag_id", "task_id": "task_id", "state": "state", "queue": "queue", "pool_name": "pool",
    "executor_class_name": "executor", "operator_name": "operator", "task_type": "operator",
    "file_name": "dag_file", "dag_file": "dag_file", "bundle_name": "bundle", "hostname": "hostname",
    "return_code": "return_code", "event_type": "event_type", "transport_type": "transport_type",
    "job_id": None,
}
STATSD_TYPE = {"counter": "c", "gauge": "g", "timer": "ms"}


def _registry(venv):
    found = sorted(Path(venv).glob("lib/python3*/site-packages/airflow/_shared/observability/metrics/metrics_template.yaml"))
    assert found, "no metrics registry in %s" % venv
    return yaml.safe_load(found[0].read_text())["metrics"]


@pytest.mark.xdist_group("airkube-metrics")
def test_mapping_labels_every_registry_metric(tmp_path):
    """Airflow 3.3.2's registry, sent to the rendered exporter: every variable becomes a label."""
    objects = podenv.render(SPEC.format(version="3.3.2", database="unused", pg_host="pg.example.com", pg_port=5432,
                                        pg_user="airflow"), out=tmp_path / "render")
    metrics = _registry(podenv.venv_for("3.3.2"))
    sends, expect, twins = [], [], []
    for i, m in enumerate(metrics):
        variables = m.get("name_variables") or []
        legacy = m.get("legacy_name", "-")
        # Edge workers are the edge provider's EdgeExecutor, which airkube does not deploy. Job names
        # ({job_name}_start) are only templates: Airflow sends job_start, job_end ...
        if not variables or m["name"].startswith("edge_") or "{job_name}" in m["name"]:
            continue
        template = legacy if legacy != "-" else m["name"]
        if "{" not in template:
            continue  # tags only (kubernetes_executor.pod_creation_status): nothing in the name
        values = {v: "%s%d" % (v.replace("_", ""), i) for v in variables}
        sends.append("airflow.%s:1|%s" % (template.format(**values), STATSD_TYPE[m["type"]]))
        expect.append((m["name"], {LABELS[v]: val for v, val in values.items() if LABELS[v]}, set(values.values())))
        if legacy != "-":
            # The same metric under its own name, whose tags plain StatsD does not carry.
            twins.append("airflow.%s:1|%s" % (m["name"], STATSD_TYPE[m["type"]]))
    assert len(expect) > 30, "only %d templated metrics in the registry" % len(expect)

    procs = Processes(tmp_path / "logs")
    try:
        exporter = statsd_exporter.start(objects, procs, tmp_path / "exporter")
        statsd_exporter.send(exporter.statsd_port, sends + twins)
        total = len(sends) + len(twins)

        def all_handled():
            s = statsd_exporter.scrape(exporter.url)
            return statsd_exporter.events_handled(s) >= total and s
        samples = wait_for("the exporter to handle %d lines" % total, all_handled, 30, interval=0.2, procs=procs)
    finally:
        procs.stop_all()
        for p in procs.procs:
            print("---- %s (last lines)\n%s" % (p.name, p.tail(1500)))

    problems = []
    actions = {s.labels.get("action"): s.value for s in samples if s.name == "statsd_exporter_events_actions_total"}
    if actions.get("map") != len(sends) or actions.get("drop") != len(twins):
        problems.append("mapped %s of %d and dropped %s of %d" % (actions.get("map"), len(sends), actions.get("drop"), len(twins)))
    for name, labels, values in expect:
        matching = [s for s in samples if all(s.labels.get(k) == v for k, v in labels.items())]
        if not matching:
            problems.append("%s: no series labelled %s" % (name, labels))
        for s in matching:
            if any(v in s.name for v in values):
                problems.append("%s: %s has a variable in its name" % (name, s.name))
    for line in sends:
        name = line.split(":")[0]
        print("  %-80s -> %s" % (line, sorted({s.family for s in samples if s.name.startswith("airflow_")
                                                and any(v and v in name for v in s.labels.values())})))
    assert not problems, "\n".join(problems)
    print("%d templated registry metrics mapped with their labels, %d twins dropped" % (len(sends), len(twins)))


@pytest.mark.xdist_group("airkube-metrics")
@pytest.mark.parametrize("version", ["3.3.2", "2.11.2"])
def test_metrics_from_real_airflow(version, services, tmp_path):
    t0 = time.monotonic()
    major = int(version[0])
    database = services.fresh_database("airkube_metrics_" + version.replace(".", ""))
    objects = podenv.render(SPEC.format(version=version, database=database, pg_host=services.pg_host,
                                        pg_port=services.pg_port, pg_user=services.pg_user), out=tmp_path / "render")
    venv = podenv.venv_for(version)
    secrets, _ = podenv.test_inputs(objects, db_password=services.pg_password)
    t = time.monotonic()
    statsd_exporter.binary()
    print("statsd_exporter binary: %.1fs" % (time.monotonic() - t))

    procs = Processes(tmp_path / "logs")
    try:
        exporter = statsd_exporter.start(objects, procs, tmp_path / "exporter")
        ports = {"api": free_port(), "scheduler": free_port(), "logs": free_port()}
        overrides = {"*": {"AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
                           "AIRFLOW__METRICS__STATSD_PORT": str(exporter.statsd_port)},
                     "scheduler": {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(ports["logs"])},
                     "api-server": {"AIRFLOW__API__PORT": str(ports["api"])}}
        if major == 3:
            overrides["scheduler"]["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT"] = str(ports["scheduler"])
            overrides["scheduler"]["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = "http://127.0.0.1:%d/execution/" % ports["api"]
        print("overrides (host instead of pod):\n" + json.dumps(overrides, indent=1))

        migrate = podenv.container(objects, "migrate")
        mroot = tmp_path / "migrate"
        menv = {**podenv.materialize(objects, migrate, secrets, mroot), **overrides["*"]}
        t = time.monotonic()
        p = podenv.run(menv, mroot, migrate.container["args"], venv=venv, timeout=600)
        assert p.returncode == 0, "%s failed:\n%s%s" % (migrate.container["args"], p.stdout[-3000:], p.stderr[-3000:])
        print("db migrate: %.1fs" % (time.monotonic() - t))

        started = {}
        for comp in ["scheduler"] + (["api-server", "dag-processor"] if major == 3 else []):
            c = podenv.container(objects, comp)
            root = tmp_path / comp
            env = podenv.materialize(objects, c, secrets, root)
            cfg = podenv.airflow_cfg(root)
            assert cfg["metrics"]["statsd_host"] == "mx-statsd.mx", "airflow.cfg does not send to the exporter's Service"
            env.update(overrides["*"])
            env.update(overrides.get(comp, {}))
            shutil.copy(DAG_DIR / "metrics.py", root / cfg["core"]["dags_folder"].lstrip("/"))  # the NAS
            started[comp] = (c, env, root)
            procs.start(comp, env, root, c.container["args"], venv)
        sched_c, sched_env, sched_root = started["scheduler"]
        wait_for("the scheduler's rendered startupProbe", lambda: probe_ok(sched_c, "startupProbe", ports["scheduler"],
                 env=sched_env, root=sched_root, venv=venv), 180, procs=procs)
        if major == 3:
            api_c = started["api-server"][0]
            wait_for("the api-server's rendered startupProbe",
                     lambda: http_ok(probe_url(api_c, "startupProbe", ports["api"])), 240, procs=procs)

        wait_for_dag(services, database, DAG_ID, procs)
        t_ready = time.monotonic()
        print("components ready %.1fs after the start" % (t_ready - t0))

        for args in (("dags", "unpause", DAG_ID), ("dags", "trigger", DAG_ID)):
            p = podenv.run(sched_env, sched_root, ["airflow", *args], venv=venv, timeout=300)
            assert p.returncode == 0, "airflow %s failed:\n%s%s" % (" ".join(args), p.stdout[-2000:], p.stderr[-3000:])

        def run_done():
            runs = rows(services, database, "SELECT state FROM dag_run WHERE dag_id = '%s'" % DAG_ID)
            return runs and runs[0][0] in ("success", "failed") and runs[0][0]
        state = wait_for("the DAG run to finish", run_done, 600, procs=procs)
        t_run = time.monotonic()
        print("DAG run %s %.1fs after the trigger" % (state, t_run - t_ready))
        assert state == "success", rows(services, database, "SELECT task_id, state FROM task_instance WHERE dag_id = '%s'" % DAG_ID)

        # Airflow 3.2 and later write a task group's dot as __ in the names; 2.x keeps it.
        inner = "grp__inner" if major == 3 else "grp.inner"
        want = [
            ("airflow_scheduler_heartbeat", {}),
            ("airflow_task_duration_count", {"dag_id": DAG_ID, "task_id": "hello"}),
            ("airflow_task_duration_count", {"dag_id": DAG_ID, "task_id": inner}),
            ("airflow_ti_finish", {"dag_id": DAG_ID, "task_id": "hello", "state": "success"}),
            ("airflow_ti_finish", {"dag_id": DAG_ID, "task_id": inner, "state": "success"}),
            ("airflow_dagrun_duration_count", {"dag_id": DAG_ID, "state": "success"}),
            ("airflow_executor_open_slots", {"executor": "LocalExecutor"}),
            ("airflow_pool_open_slots", {"pool": "default_pool"}),
        ]

        seen = []

        def all_there():
            seen[:] = statsd_exporter.scrape(exporter.url)
            return all((statsd_exporter.value(seen, n, **l) or 0) > 0 for n, l in want) and list(seen)
        try:
            samples = wait_for("the metrics of the run at the exporter", all_there, 60, interval=1, procs=procs)
        except AssertionError as e:
            missing = [(n, l) for n, l in want if not (statsd_exporter.value(seen, n, **l) or 0) > 0]
            served = "\n".join("  %s%s %s" % (x.name, x.labels, x.value) for x in seen
                               if x.name.startswith("airflow_") and "quantile" not in x.labels)
            raise AssertionError("%s\nmissing: %s\nserved:\n%s" % (e, missing, served)) from None
        print("metrics at the exporter %.1fs after the run finished" % (time.monotonic() - t_run))
    finally:
        procs.stop_all()
        for p in procs.procs:
            print("---- %s (last lines)\n%s" % (p.name, p.tail(1500)))

    for n, l in want:
        print("  %s%s = %s" % (n, l, statsd_exporter.value(samples, n, **l)))
    airflow = [s for s in samples if s.name.startswith("airflow_")]
    print("%d airflow_* series in %d metrics: %s" % (len(airflow), len({s.family for s in airflow}),
                                                    ", ".join(sorted({s.family for s in airflow}))))
    problems = []
    label_names = {}
    for s in airflow:
        if any(x in s.name for x in (DAG_ID, "hello", "inner", "metrics")):
            problems.append("%s: a DAG, task or file name in the metric's name" % s.name)
        names = frozenset(k for k in s.labels if k != "quantile")
        label_names.setdefault(s.family, set()).add(names)
    for fam, sets in sorted(label_names.items()):
        if len(sets) > 1:
            problems.append("%s: series with different label names %s" % (fam, [sorted(x) for x in sets]))
    conflicts = statsd_exporter.value(samples, "statsd_exporter_events_conflict_total")
    if conflicts:
        problems.append("the exporter saw %s conflicting events" % conflicts)
    assert not problems, "\n".join(problems)
    print("airflow %s: %.1fs in all" % (version, time.monotonic() - t0))
