"""Item 5: each Celery task group's worker, run with its exact rendered command, consumes the
tasks the airkube helper routes to it, against the real Redis broker.

A release with three Celery groups (the first not named `default`, so it also serves Airflow's
`default` queue) is rendered with the local PostgreSQL as its database and a broker Secret
holding the local Redis URL (`broker.urlSecret`). The rendered args of the migration Job,
api-server, scheduler, dag-processor and every worker Deployment run on the host with their
containers' env and files (podenv) plus only the OVERRIDES below. Each worker runs like a pod
of its own: its own hostname (UTS namespace) and an /etc/hosts that maps it to an address of its
own (127.0.0.N), as the kubelet writes a pod's /etc/hosts; the rendered
`hostname_callable = airflow.utils.net.get_host_ip_address` then records that address on the
task instances it runs. A DAG routes tasks with `airkube.task_group` (and one without it), then:
every task succeeded, on the worker of its group; every queue a task used has a worker
listening (Celery's own `inspect active_queues`); each worker's rendered liveness probe passes.
"""
import json
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import podenv
from kube_fixture import Processes, free_port, http_ok, probe_ok, probe_url, rows, wait_for, wait_for_dag

DAG_DIR = Path(__file__).parent / "dags_b"
DAG_ID = "airkube_celery_routing"
VERSIONS = ["3.3.2", "2.11.2"]

# What must differ because every process shares the host's network instead of having a pod's.
# Per component; values in <> are filled in per run and printed.
OVERRIDES = {
    # 3.x: the api-server's own port ... (2.x has no task API; its webserver is not started)
    "api-server": {"AIRFLOW__API__PORT": "<free port>"},
    # 3.x: the scheduler's health server (a 2.x scheduler has none: its probes run `airflow jobs check`).
    "scheduler": {"AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": "<free port>"},
    "worker": {
        # ... and the workers reach it at 127.0.0.1, not the Service's cluster DNS name (3.x only).
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": "http://127.0.0.1:<api port>/execution/",
        # Each worker pod serves task logs on 8793 of its own IP; on the host each needs a port.
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": "<free port per worker>",
    },
}

SPEC = podenv.spec_template("wx", executor="CeleryExecutor", body="""\
broker:
  urlSecret: {{name: broker, key: url}}
storage:
  dags:
    nfs: {{server: nas.example.com, path: /airflow/dags}}
  logs:
    nfs: {{server: nas.example.com, path: /airflow/logs}}
taskGroups:
  - name: general
    concurrency: 2
  - name: gis
    image: registry.example.com/weather/gdal-airflow:3.9
    concurrency: 2
    autoscaling: {{minReplicas: 1, maxReplicas: 4}}
  - name: radar
    image: registry.example.com/weather/radar:1.4
    concurrency: 2
""")

CELERY_APP = "airflow.providers.celery.executors.celery_executor.app"


def _materialize(objects, c, secrets, root):
    env = podenv.materialize(objects, c, secrets, root)
    cfg = podenv.airflow_cfg(root)
    shutil.copy(DAG_DIR / "celery_routing.py", root / cfg["core"]["dags_folder"].lstrip("/"))  # the NAS
    return env, cfg


def _as_pod(hostname, address, hosts_file, argv):
    """argv in a UTS namespace with the pod's hostname and an /etc/hosts naming its address."""
    hosts_file.write_text(Path("/etc/hosts").read_text() + "\n%s\t%s\n" % (address, hostname))
    return ["unshare", "--uts", "--", "sh", "-c",
            'hostname "$0" && mount --bind "$1" /etc/hosts && shift && exec "$@"',
            hostname, str(hosts_file), *argv]


@pytest.mark.xdist_group("airkube-b")
@pytest.mark.parametrize("version", VERSIONS)
def test_celery_groups_consume_their_queues(version, services, tmp_path):
    t0 = time.monotonic()
    major = int(version[0])
    database = "airkube_b_celery_" + version.replace(".", "")
    spec_text = SPEC.format(version=version, database=database, pg_host=services.pg_host,
                            pg_port=services.pg_port, pg_user=services.pg_user)
    objects = podenv.render(spec_text, out=tmp_path / "render")
    venv = podenv.venv_for(version)
    services.fresh_database(database)
    # A Redis database of this test's own, so other tests' Celery messages can't mix in.
    broker_url = services.redis_url.rsplit("/", 1)[0] + "/%d" % (7 + VERSIONS.index(version))
    secrets, _ = podenv.test_inputs(objects, db_password=services.pg_password, broker_url=broker_url)
    assert secrets[("broker", "url")] == broker_url, "the workers read the broker URL from broker.urlSecret"
    _flush_redis(broker_url)

    # The worker Deployments and their exact args.
    workers = podenv.containers(objects, "worker")
    by_group = {w.group: w for w in workers}
    assert sorted(by_group) == ["general", "gis", "radar"], workers
    queues_of = {}
    for g, w in by_group.items():
        args = w.container["args"]
        assert args[:3] == ["airflow", "celery", "worker"], args
        queues_of[g] = set(args[args.index("--queues") + 1].split(","))
    print("rendered worker args:\n" + "\n".join("  %s: %s" % (g, " ".join(w.container["args"])) for g, w in by_group.items()))

    ports = {"api": free_port(), "scheduler": free_port()}
    overrides = {
        "api-server": {"AIRFLOW__API__PORT": str(ports["api"])},
        "scheduler": {"AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(ports["scheduler"])} if major == 3 else {},
    }
    addresses = {}
    for i, g in enumerate(sorted(by_group)):
        addresses[g] = "127.0.0.%d" % (11 + i)
        overrides["worker-" + g] = {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
        if major == 3:
            overrides["worker-" + g]["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = "http://127.0.0.1:%d/execution/" % ports["api"]
    print("overrides (host instead of pod):\n" + json.dumps(overrides, indent=1))

    migrate = podenv.container(objects, "migrate")
    mroot = tmp_path / "migrate"
    menv = podenv.materialize(objects, migrate, secrets, mroot)
    t = time.monotonic()
    p = podenv.run(menv, mroot, migrate.container["args"], venv=venv, timeout=600)
    assert p.returncode == 0, "%s failed:\n%s%s" % (migrate.container["args"], p.stdout[-3000:], p.stderr[-3000:])
    print("db migrate: %.1fs" % (time.monotonic() - t))

    procs = Processes(tmp_path / "logs")
    try:
        components = ["scheduler"] + (["api-server", "dag-processor"] if major == 3 else [])
        started = {}
        for comp in components:
            c = podenv.container(objects, comp)
            env, cfg = _materialize(objects, c, secrets, tmp_path / comp)
            env.update(overrides.get(comp, {}))
            started[comp] = (c, env, tmp_path / comp)
            procs.start(comp, env, tmp_path / comp, c.container["args"], venv)
        worker_envs = {}
        for g, w in by_group.items():
            root = tmp_path / ("worker-" + g)
            env, _ = _materialize(objects, w, secrets, root)
            env.update(overrides["worker-" + g])
            worker_envs[g] = (env, root)
            procs.start("worker-" + g, env, root,
                        _as_pod(w.pod_name, addresses[g], tmp_path / ("hosts-" + g), w.container["args"]), venv)

        # The rendered probes, on the ports the host processes use.
        sched_c, sched_env, sched_root = started["scheduler"]
        wait_for("the scheduler's rendered startupProbe", lambda: probe_ok(sched_c, "startupProbe", ports["scheduler"],
                 env=sched_env, root=sched_root, venv=venv), 180, procs=procs)
        if major == 3:
            api_c = started["api-server"][0]
            wait_for("the api-server's rendered startupProbe", lambda: http_ok(probe_url(api_c, "startupProbe", ports["api"])),
                     240, procs=procs)

        wait_for_dag(services, database, DAG_ID, procs)

        # Each worker answers its own rendered liveness probe, from inside its "pod" (hostname).
        active = {}
        for g, w in by_group.items():
            env, root = worker_envs[g]
            probe = w.container["livenessProbe"]["exec"]["command"]
            pid = next(p.pid for p in procs.procs if p.name == "worker-" + g)

            def live(probe=probe, env=env, root=root, pid=pid):
                t = time.monotonic()
                r = podenv.run(env, root, ["nsenter", "--uts", "-t", str(pid), "--", *probe], venv=venv, timeout=120)
                return r.returncode == 0 and time.monotonic() - t
            took = wait_for("worker %s's rendered livenessProbe" % g, live, 180, interval=5, procs=procs)
            print("worker %s: livenessProbe passed in %.1fs (timeoutSeconds %s)" % (
                g, took, w.container["livenessProbe"].get("timeoutSeconds")))
        env, root = worker_envs["general"]
        r = podenv.run(env, root, ["celery", "--app", CELERY_APP, "inspect", "active_queues", "-j", "-t", "10"],
                       venv=venv, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        active = _parse_inspect(r.stdout)
        t_ready = time.monotonic()
        print("all components ready after %.1fs" % (t_ready - t0))

        # KEDA's rendered query for the autoscaled group runs on the real schema (0 before any run).
        keda = _keda_queries(objects)
        assert sorted(keda) == ["wx-worker-gis"], sorted(keda)
        for name, md in keda.items():
            assert (md["host"], md["port"], md["dbName"], md["userName"]) == (
                services.pg_host, str(services.pg_port), database, services.pg_user), md
            assert rows(services, database, md["query"]) == [["0"]], (name, md["query"])

        for args in (("dags", "unpause", DAG_ID), ("dags", "trigger", DAG_ID)):
            p = podenv.run(sched_env, sched_root, ["airflow", *args], venv=venv, timeout=300)
            assert p.returncode == 0, "airflow %s failed:\n%s%s" % (" ".join(args), p.stdout[-2000:], p.stderr[-3000:])

        def run_done():
            runs = rows(services, database, "SELECT state FROM dag_run WHERE dag_id = '%s'" % DAG_ID)
            return runs and runs[0][0] in ("success", "failed") and runs[0][0]
        # A generous bound: on a loaded 2-core CI machine each 2.11 `airflow tasks run` takes long.
        # On timeout the first line says where each task got to (CI keeps only part of the output).
        try:
            state = wait_for("the DAG run to finish", run_done, 600, procs=procs)
        except AssertionError as e:
            now = rows(services, database, "SELECT task_id, state, coalesce(hostname, '') FROM task_instance "
                                           "WHERE dag_id = '%s' ORDER BY task_id" % DAG_ID)
            raise AssertionError("%s; task instances: %s" % (e, ", ".join("%s=%s@%s" % tuple(r) for r in now))) from None
        print("DAG run %s %.1fs after the trigger" % (state, time.monotonic() - t_ready))
        keda_after = {n: rows(services, database, md["query"]) for n, md in keda.items()}
        tis = rows(services, database, "SELECT task_id, state, queue, hostname FROM task_instance "
                                        "WHERE dag_id = '%s' ORDER BY task_id" % DAG_ID)
    finally:
        procs.stop_all()
        for p in procs.procs:
            print("---- %s (last lines)\n%s" % (p.name, p.tail(1200)))
    print("task instances (task_id, state, queue, hostname):\n" + "\n".join("  " + " ".join(r) for r in tis))

    # Who listens where, from Celery itself: celery@<pod hostname> -> queues.
    worker_of_node = {"celery@" + w.pod_name: g for g, w in by_group.items()}
    assert sorted(active) == sorted(worker_of_node), "workers Celery sees: %s" % sorted(active)
    for node, qs in active.items():
        assert set(qs) == queues_of[worker_of_node[node]], "%s listens on %s, rendered --queues %s" % (
            node, sorted(qs), sorted(queues_of[worker_of_node[node]]))
    listening = set().union(*active.values())

    want_group = {"in_general": "general", "in_gis": "gis", "in_radar": "radar", "no_helper": "general"}
    want_queue = {"in_general": "general", "in_gis": "gis", "in_radar": "radar", "no_helper": "default"}
    group_of_address = {a: g for g, a in addresses.items()}
    problems = []
    assert sorted(r[0] for r in tis) == sorted(want_group), tis
    for task_id, ti_state, queue, hostname in tis:
        if ti_state != "success":
            problems.append("%s: state %s" % (task_id, ti_state))
        if queue != want_queue[task_id]:
            problems.append("%s: queue %r, want %r" % (task_id, queue, want_queue[task_id]))
        if queue not in listening:
            problems.append("%s: queue %r has no listening worker (listening: %s)" % (task_id, queue, sorted(listening)))
        ran_on = group_of_address.get(hostname)
        if ran_on != want_group[task_id]:
            problems.append("%s: ran on %r (worker %s), want the %s worker" % (task_id, hostname, ran_on, want_group[task_id]))
    assert state == "success" and not problems, "DAG run %s:\n%s" % (state, "\n".join(problems))
    assert all(v == [["0"]] for v in keda_after.values()), keda_after  # nothing left queued or running
    print("airflow %s: %.1fs in all" % (version, time.monotonic() - t0))


def _keda_queries(objects):
    """ScaledObject name -> the metadata of its postgresql trigger."""
    out = {}
    for o in objects:
        if o.get("kind") == "ScaledObject":
            for t in o["spec"]["triggers"]:
                assert t["type"] == "postgresql", t
                out[o["metadata"]["name"]] = t["metadata"]
    return out


def _parse_inspect(out):
    """`celery inspect active_queues -j` output -> {node: [queue names]}."""
    for line in reversed(out.splitlines()):  # Airflow may log to stdout before the JSON line
        if line.startswith('{"'):
            data = json.loads(line)
            return {node: [q["name"] for q in qs] for node, qs in data.items()}
    raise AssertionError("no JSON in `celery inspect active_queues -j` output:\n" + out[-3000:])


def _flush_redis(url):
    """Empties this test's Redis database (messages left by an aborted run)."""
    u = urlsplit(url)
    subprocess.run(["redis-cli", "-h", u.hostname, "-p", str(u.port), "-n", u.path.strip("/"), "FLUSHDB"],
                   check=True, capture_output=True, env={"REDISCLI_AUTH": unquote(u.password), "PATH": "/usr/bin:/bin"})
