"""Issue 9, item 1: KubernetesPodOperator trusts the release's CA, for real.

The Kubernetes API is served to the Airflow processes by a TLS-terminating front on loopback
(api_front.ApiFront) under a certificate signed by a throwaway CA that exists only in the test's
caBundle ConfigMap `cloud-ca`; the front forwards to the local kwok control plane, verifying it with
the cluster's CA. Neither the ServiceAccount tokens' CA nor the cluster's kube-root-ca.crt can
verify the front.

A release with `kubernetesAPI: {server: <front>, caBundle: {configMap: cloud-ca}, podOperators: true}`
is rendered with its database on the local PostgreSQL. The real `airflow db migrate` (the migration
Job's args) and every component a pod operator needs (api-server and dag-processor on 3.x, the
scheduler, the triggerer and, on a Celery release, the worker) run on the host from their rendered
containers (podenv: env and files as the kubelet would make them) plus only the OVERRIDES below. The
rendered kubeconfig is used unchanged; what a kubelet adds is played too: the projected token file
gets a real token of the pod's own ServiceAccount, and the release's RBAC objects are applied, so the
rendered Role is what allows each call. The logs NFS is one folder all components share.

The DAG (dags_b/pod_operator.py) runs a KubernetesPodOperator synchronously and one with
deferrable=True through the real triggerer, naming neither namespace nor config: the release decides.
kwok plays the kubelet; a second kwok controller (Kube.pod_completer) completes the pods the DAG
labels. Checked, on Airflow 3.3.2 and 2.11.2:

- a Celery release and the seed team's release (RELEASES["seed"]): their own image
  (registry.example.com/weather/airflow-wx, whose `wx` package podenv puts on PYTHONPATH as the image
  would) and `LocalExecutor,KubernetesExecutor,KubeX:wx.executors.KubeExecutor`; the pod operators
  run in the scheduler through the LocalExecutor. Both pod operator tasks succeed; their pods exist,
  Succeeded, in the release namespace; the front forwarded their creation with the token of the pod
  that ran the task, and the deferrable pod's polling with the triggerer's token; the
  KubernetesExecutor's own client creates its task pod through the front with the scheduler's token;
- on the seed release, the DAG's task for group fortran (`**airkube.task_group("fortran")`, so
  executor="KubeX") goes to the seed's own executor (images/airflow-wx/wx/executors.py, a
  LocalExecutor that first creates a pod per task with the kubernetes client from KUBECONFIG): the
  task instance ends successful with executor "KubeX" stored, exactly one pod labelled for it exists
  in the release namespace, created by the executor's field manager, and its one POST went through
  the front (the throwaway CA) with the scheduler's token, as the scheduler's ServiceAccount;
- negative control, the same DAG on a release without the caBundle (the kubeconfig then trusts the
  cluster's kube-root-ca.crt): both tasks fail with a certificate verification error in their logs
  (the deferrable one too: the worker creates the pod before it defers), the front saw the clients
  abort the handshake (unknown CA), and no pod exists;
- with `verifySSL: false` + `allowInsecureTLS: true` the tasks succeed and `airkube validate` warns.

Which provider code path reads which setting (the comment in generator/model/kubeapi.go) is shown by
test_provider_reads: the real clients, made as the provider makes them, in the rendered scheduler
and triggerer pods, with one setting taken away at a time (there also: the trigger refuses a server
its kubeconfig's CA does not vouch for).

test_clients_follow_token_rotation closes the gap this proof turned up: the provider's clients read a
kubeconfig's tokenFile once, when made, so a client that outlived its token (the
KubernetesExecutor's, made when the scheduler starts; a pod operator's for a long pod) kept sending
the token the kubelet had replaced. The kubeconfig's user is now an exec credential that prints the
token file; the test rotates the file under the sync hook's, the KubernetesExecutor's and a
trigger's client, and their next calls carry the new token.

kwok serves no container logs, so the DAG's operators run with get_logs=False.
"""
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import podenv
from api_front import ApiFront, private_ca, token_fingerprint
from kube_fixture import POD_COMPLETE_LABEL, Processes, free_port, http_ok, kube, probe_ok, probe_url, rows, wait_for, wait_for_dag  # noqa: F401

DAG_FILE = Path(__file__).parent / "dags_b" / "pod_operator.py"
DAG_ID = "airkube_pod_operator"
KPO_TASKS = ("deferrable", "sync")
# The task the DAG sends to group fortran, the seed executor's, when the release has that group.
SEED_TASK = "in_fortran"
SEED_ALIAS = "KubeX"
# How the seed executor marks its pods (POD_LABEL, FIELD_MANAGER in images/airflow-wx/wx/executors.py,
# which imports Airflow and so can't be imported here).
SEED_POD_LABEL, SEED_FIELD_MANAGER = "wx.example.com/task", "wx-executor"
TERMINAL = {"success", "failed", "upstream_failed", "skipped", "removed"}
# What the provider's clients (urllib3 for the sync path, aiohttp for the trigger) say when the
# server's certificate does not verify.
CERT_ERROR = "CERTIFICATE_VERIFY_FAILED"

# The settings that must differ because Airflow runs on the host instead of in pods, per component;
# every other setting, the kubeconfig and the kubernetes_default connection are the rendered ones.
# Values in <> are filled in per run and printed.
OVERRIDES = {
    # Every host process shares one network namespace: each server gets a free port ...
    "api-server": {"AIRFLOW__API__PORT": "<free port>"},                                      # 3.x
    "scheduler": {
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": "<free port>",                # 3.x
        # ... (a LocalExecutor scheduler serves its tasks' logs like a worker) ...
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": "<free port>",                            # LocalExecutor
        # ... and LocalExecutor tasks reach the api-server at 127.0.0.1, not its Service's name.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": "http://127.0.0.1:<api port>/execution/",  # 3.x, LocalExecutor
    },
    "triggerer": {"AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": "<free port>"},
    "worker": {
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": "<free port>",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": "http://127.0.0.1:<api port>/execution/",  # 3.x
    },
}
# Not settings, but what a kubelet and the cluster provide, played by the test: the projected
# ServiceAccount token file (a real token of the pod's ServiceAccount, `kubectl create token`), the
# CA bundle ConfigMaps as they are in the cluster, and the release's ServiceAccounts, Roles and
# RoleBindings applied (Kube.apply_release).

SPEC = podenv.spec_template("kpo", namespace="{namespace}", executor="{executor}", image="{image}", body="""\
{broker}storage:
  dags:
    nfs: {{server: nas.example.com, path: /airflow/dags}}
  logs:
    nfs: {{server: nas.example.com, path: /airflow/logs}}
kubernetesAPI:
  server: {server}
  podOperators: true
{trust}taskGroups:
{groups}""")

# Each release's task groups: name -> executor (None: the default).
RELEASES = {
    "celery": {"executor": "CeleryExecutor", "broker": "broker:\n  urlSecret: {name: broker, key: url}\n",
               "groups": {"default": None}},
    # The pod operators run in the scheduler (LocalExecutor, the default); one group is the KubernetesExecutor's.
    "kubernetes": {"executor": "LocalExecutor,KubernetesExecutor",
                   "groups": {"default": None, "kubernetes": "KubernetesExecutor"}},
    # The same, plus the seed team's own executor (images/airflow-wx/wx/executors.py) from their own
    # image, under an alias, for group fortran.
    "seed": {"executor": "LocalExecutor,KubernetesExecutor,%s:wx.executors.KubeExecutor" % SEED_ALIAS,
             "image": "registry.example.com/weather/airflow-wx:{version}",
             "groups": {"default": None, "kubernetes": "KubernetesExecutor", "fortran": SEED_ALIAS}},
}
TRUST = {
    "private-ca": "  caBundle: {configMap: cloud-ca, key: ca.crt}\n",
    "no-ca-bundle": "",
    "insecure": "  verifySSL: false\n  allowInsecureTLS: true\n",
}
# A Redis database of each Celery run's own (test_celery_routing uses 7 and 8).
REDIS_DB = {("private-ca", "3.3.2"): 10, ("private-ca", "2.11.2"): 11, ("no-ca-bundle", "3.3.2"): 12,
            ("no-ca-bundle", "2.11.2"): 13, ("insecure", "3.3.2"): 14, ("insecure", "2.11.2"): 15}


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    """The throwaway CA the cloud's API server is served under."""
    return private_ca(tmp_path_factory.mktemp("private-ca"))


@pytest.fixture(scope="module")
def front(kube, ca):
    f = ApiFront(kube.server(), kube.ca_file(), ca).start()
    print("API front %s -> %s (serving certificate from the throwaway CA)" % (f.url, kube.server()))
    yield f
    f.stop()


@pytest.fixture(scope="module")
def completer(kube, tmp_path_factory):
    # The pods run 12 s. A pod that is done before the scheduler has processed its task's deferral
    # trips an Airflow 3.3.2 race (seen with the LocalExecutor: the deferral's "success" event
    # arrives after the trigger has fired and the task was queued again, and the scheduler fails it).
    with kube.pod_completer(tmp_path_factory.mktemp("kwok"), delay_ms=12000) as c:
        yield c


def _projected_token(c):
    """(mount path of the projected ServiceAccount token file, its expirationSeconds), or None."""
    vols = {v["name"]: v for v in c.pod_spec.get("volumes") or []}
    for m in c.container.get("volumeMounts") or []:
        for src in (vols[m["name"]].get("projected") or {}).get("sources", []):
            if "serviceAccountToken" in src:
                sat = src["serviceAccountToken"]
                return m["mountPath"].rstrip("/") + "/" + sat["path"], sat.get("expirationSeconds", 3600)
    return None


def _outside_configmaps(objects, kube, namespace):
    """Every ConfigMap key a container projects that the release does not ship (the CA bundles),
    with its content in the cluster, as the kubelet would project it."""
    out = {}
    for c in podenv.airflow_containers(objects):
        for v in c.pod_spec.get("volumes") or []:
            for src in (v.get("projected") or {}).get("sources", []):
                cm = src.get("configMap")
                if cm and podenv.find(objects, "ConfigMap", cm["name"]) is None:
                    # kube-root-ca.crt is published by the controller-manager shortly after the namespace.
                    got = wait_for("ConfigMap %s/%s" % (namespace, cm["name"]), lambda: kube.kubectl(
                        "get", "configmap", cm["name"], "-n", namespace, "-o", "json", check=False), 60, interval=1)
                    data = json.loads(got)["data"]
                    for it in cm.get("items") or [{"key": k} for k in data]:
                        out[(cm["name"], it["key"])] = data[it["key"]]
    return out


class Run:
    """One release, rendered and started as host processes; what it did is read afterwards."""

    def __init__(self, kind, mode, version, kube, services, front, ca, completer, tmp_path, name=None):
        self.completer = completer
        self.kind, self.mode, self.version, self.major = kind, mode, version, int(version[0])
        self.kube, self.services, self.front, self.tmp = kube, services, front, tmp_path
        tag = "%s-%s" % (name or "%s-%s" % (kind, mode), version.replace(".", ""))
        self.namespace = "kpo-" + tag
        self.database = "airkube_kpo_" + tag.replace("-", "_")
        r = RELEASES[kind]
        self.groups = r["groups"]
        # The pod operators run where the release runs default tasks: a Celery worker, or the scheduler.
        self.runner = "worker" if r["executor"] == "CeleryExecutor" else "scheduler"
        # The tasks the test waits for: those that end (the KubernetesExecutor's never does: kwok runs nothing).
        self.tasks = KPO_TASKS + ((SEED_TASK,) if "fortran" in self.groups else ())
        groups = "".join("  - name: %s\n" % g + ("    executor: %s\n" % e if e else "") for g, e in self.groups.items())
        self.spec_text = SPEC.format(version=version, namespace=self.namespace, database=self.database,
                                     pg_host=services.pg_host, pg_port=services.pg_port, pg_user=services.pg_user,
                                     image=r.get("image", "apache/airflow:{version}").format(version=version),
                                     executor=r["executor"], broker=r.get("broker", ""), groups=groups,
                                     server=front.url, trust=TRUST[mode])
        self.ca = ca
        self.tokens = {}     # component -> token fingerprint
        self.accounts = {}   # component -> ServiceAccount
        self.procs = Processes(tmp_path / "logs")
        self.mark = front.mark()
        self.logs = tmp_path / "logs-nfs"   # the logs NFS every component mounts
        self.logs.mkdir()

    def render(self):
        self.objects = podenv.render(self.spec_text, out=self.tmp / "render")
        p = subprocess.run([str(podenv.AIRKUBE_BIN), "validate", "-f", str(self.tmp / "render" / "spec.yaml")],
                           capture_output=True, text=True)
        self.validate = p.stdout + p.stderr
        assert p.returncode == 0, self.validate
        kubeconfig = podenv.find(self.objects, "ConfigMap", "kpo-kubeconfig")["data"]["config"]
        print("rendered kubeconfig:\n" + kubeconfig)
        return self

    def install(self):
        """What `helm install` and the user create, minus the workloads; the pods' inputs."""
        self.kube.apply_release(self.objects, self.namespace)
        if self.mode == "private-ca":  # the user's caBundle ConfigMap: the throwaway CA only
            self.kube.apply([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cloud-ca", "namespace": self.namespace},
                              "data": {"ca.crt": self.ca.ca_pem}}])
        broker_url = None
        if self.kind == "celery":
            broker_url = self.services.redis_url.rsplit("/", 1)[0] + "/%d" % REDIS_DB[(self.mode, self.version)]
            _flush_redis(broker_url)
        self.secrets, _ = podenv.test_inputs(self.objects, db_password=self.services.pg_password,
                                             **({"broker_url": broker_url} if broker_url else {}))
        self.configmaps = _outside_configmaps(self.objects, self.kube, self.namespace)
        self.venv = podenv.venv_for(self.version)
        return self

    def migrate(self):
        """The migration Job, exactly as rendered, on a fresh database."""
        self.services.fresh_database(self.database)
        venv = self.venv
        job = podenv.container(self.objects, "migrate")
        root = self.tmp / "migrate"
        env = podenv.materialize(self.objects, job, self.secrets, root, configmaps=self.configmaps)
        t = time.monotonic()
        p = podenv.run(env, root, job.container["args"], venv=venv, timeout=600)
        assert p.returncode == 0, "%s failed:\n%s%s" % (job.container["args"], p.stdout[-3000:], p.stderr[-3000:])
        print("db migrate: %.1fs" % (time.monotonic() - t))
        return self

    def materialize(self, component):
        """A component's pod under tmp/<component>: env, files, the DAG on the NAS, the shared logs NFS,
        and the kubelet's projected token of the pod's ServiceAccount."""
        c = podenv.container(self.objects, component)
        root = self.tmp / component
        env = podenv.materialize(self.objects, c, self.secrets, root, configmaps=self.configmaps)
        cfg = podenv.airflow_cfg(root)
        shutil.copy(DAG_FILE, root / cfg["core"]["dags_folder"].lstrip("/"))
        logs = root / cfg["logging"]["base_log_folder"].lstrip("/")
        logs.rmdir()
        logs.symlink_to(self.logs)
        tok = _projected_token(c)
        if tok:
            account = c.pod_spec["serviceAccountName"]
            token = self.kube.token(self.namespace, account, max(tok[1], 600))
            (root / tok[0].lstrip("/")).write_text(token)
            self.tokens[component], self.accounts[component] = token_fingerprint(token), account
        return c, env, root

    def start(self):
        ports = {"api": free_port(), "scheduler": free_port()}
        api_url = "http://127.0.0.1:%d/execution/" % ports["api"]
        overrides = {
            "api-server": {"AIRFLOW__API__PORT": str(ports["api"])},
            "scheduler": {"AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(ports["scheduler"])} if self.major == 3 else {},
            "triggerer": {"AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port())},
            "worker": {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())},
        }
        if self.runner == "scheduler":
            overrides["scheduler"]["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(free_port())
            if self.major == 3:
                overrides["scheduler"]["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = api_url
        if self.major == 3:
            overrides["worker"]["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = api_url
        components = (["api-server", "dag-processor"] if self.major == 3 else []) + ["scheduler", "triggerer"]
        if self.runner == "worker":
            components.append("worker")
        self.mark = self.front.mark()
        self.t_start = time.monotonic()
        started = self.started = {}
        if self.major == 3:
            # First, so that the others get its port: a free port can be taken before it binds.
            for attempt in range(3):
                c, env, root = self.materialize("api-server")
                env.update(overrides["api-server"])
                proc = self.procs.start("api-server", env, root, c.container["args"], self.venv)
                try:
                    wait_for("the api-server's rendered startupProbe", lambda: http_ok(probe_url(c, "startupProbe", ports["api"])),
                             240, procs=self.procs)
                    break
                except AssertionError:
                    if attempt == 2 or proc.poll() is None or "address already in use" not in proc.tail():
                        raise
                    self.procs.procs.remove(proc)
                    print("api-server: port %d was taken meanwhile; another" % ports["api"])
                    ports["api"] = free_port()
                    api_url = "http://127.0.0.1:%d/execution/" % ports["api"]
                    overrides["api-server"]["AIRFLOW__API__PORT"] = str(ports["api"])
                    for comp in ("scheduler", "worker"):
                        if "AIRFLOW__CORE__EXECUTION_API_SERVER_URL" in overrides[comp]:
                            overrides[comp]["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = api_url
            started["api-server"] = (c, env, root)
            # The task API answers too (its first request is slow on a loaded machine; a task's first
            # call must not be the one that waits).
            wait_for("the execution API", lambda: http_ok(api_url + "health"), 240, procs=self.procs)
        self.overrides = {c: overrides[c] for c in components if c in overrides}
        print("overrides (host instead of pod):\n" + json.dumps(self.overrides, indent=1))
        for comp in [c for c in components if c not in started]:
            c, env, root = self.materialize(comp)
            env.update(self.overrides.get(comp, {}))
            started[comp] = (c, env, root)
            self.procs.start(comp, env, root, c.container["args"], self.venv)
        print("ServiceAccount tokens written as the kubelet would: " + ", ".join(
            "%s: %s (%s)" % (c, self.accounts[c], fp) for c, fp in self.tokens.items()))
        # The rendered probe: /health on 3.x; on 2.x `airflow jobs check` in the scheduler's pod (2.11's
        # health server forks with the scheduler's pooled database connections, see the scheduler's
        # probes in generator/model/model.go).
        sched, sched_env, sched_root = started["scheduler"]
        wait_for("the scheduler's rendered startupProbe", lambda: probe_ok(sched, "startupProbe", ports["scheduler"],
                 env=sched_env, root=sched_root, venv=self.venv), 240, procs=self.procs)

        wait_for_dag(self.services, self.database, DAG_ID, self.procs)
        wait_for("the triggerer to run", lambda: rows(self.services, self.database,
                 "SELECT id FROM job WHERE job_type = 'TriggererJob' AND state = 'running'"), 120, procs=self.procs)
        print("components ready in %.1fs" % (time.monotonic() - self.t_start))
        return self

    def trigger_and_wait(self):
        _, env, root = self.started["scheduler"]
        for args in (("dags", "unpause", DAG_ID), ("dags", "trigger", DAG_ID)):
            p = podenv.run(env, root, ["airflow", *args], venv=self.venv, timeout=300)
            assert p.returncode == 0, "airflow %s failed:\n%s%s" % (" ".join(args), p.stdout[-2000:], p.stderr[-3000:])
        t = time.monotonic()
        names = ", ".join("'%s'" % x for x in self.tasks)

        def done():
            tis = dict(rows(self.services, self.database, "SELECT task_id, state FROM task_instance WHERE dag_id = '%s' "
                                                          "AND task_id IN (%s)" % (DAG_ID, names)))
            self.completer.check_alive()
            return len(tis) == len(self.tasks) and all(s in TERMINAL for s in tis.values()) and tis
        try:
            self.tis = wait_for("the tasks %s to finish" % names, done, 600, procs=self.procs)
        except AssertionError as e:
            now = rows(self.services, self.database, "SELECT task_id, state FROM task_instance WHERE dag_id = '%s'" % DAG_ID)
            raise AssertionError("%s; task instances: %s" % (e, now)) from None
        print("tasks %s %.1fs after the trigger" % (self.tis, time.monotonic() - t))
        # Which executor each task instance was sent to, as the scheduler stored it.
        self.ti_executors = dict(rows(self.services, self.database, "SELECT task_id, executor FROM task_instance "
                                                                     "WHERE dag_id = '%s'" % DAG_ID))
        if "kubernetes" in self.groups:
            def executor_pod():
                return self.kube.get_json("pods", "-n", self.namespace, "-l", "task_id=in_kubernetes")["items"]
            wait_for("the KubernetesExecutor's task pod", executor_pod, 120, procs=self.procs)
        return self

    def stop(self):
        self.procs.stop_all()
        for p in self.procs.procs:
            print("---- %s (last lines of %s)\n%s" % (p.name, p.log, p.tail(4000)))

    def collect(self):
        """What the front forwarded and refused, the pods, the task logs."""
        self.requests, self.refused = self.front.since(self.mark)
        self.pods = self.kube.get_json("pods", "-n", self.namespace)["items"]
        self.task_logs = {}
        for t in self.tasks:
            files = sorted(self.logs.glob("dag_id=%s/**/task_id=%s/*.log*" % (DAG_ID, t)))
            self.task_logs[t] = "\n".join("==> %s\n%s" % (f.relative_to(self.logs), f.read_text(errors="replace")) for f in files)
        print("front: %d requests forwarded, %d handshakes refused since the release started" % (
            len(self.requests), len(self.refused)))
        for r in self.requests:
            if r.method != "GET" or "/pods" in r.path:
                print("  %s" % r)
        for r in self.refused[:5]:
            print("  refused %s" % r)
        return self

    def by(self, component):
        """The requests made with the token written into component's pod."""
        return [r for r in self.requests if r.token == self.tokens[component]]

    def task_log(self, task):
        return self.task_logs.get(task, "")


def _flush_redis(url):
    from urllib.parse import unquote, urlsplit
    u = urlsplit(url)
    subprocess.run(["redis-cli", "-h", u.hostname, "-p", str(u.port), "-n", u.path.strip("/"), "FLUSHDB"],
                   check=True, capture_output=True, env={"REDISCLI_AUTH": unquote(u.password), "PATH": "/usr/bin:/bin"})


def _run(kind, mode, version, kube, services, front, ca, completer, tmp_path):
    t0 = time.monotonic()
    run = Run(kind, mode, version, kube, services, front, ca, completer, tmp_path).render().install().migrate()
    try:
        run.start().trigger_and_wait()
    finally:
        run.stop()
        run.collect()
    print("%s release, %s, Airflow %s: %.1fs in all" % (kind, mode, version, time.monotonic() - t0))
    return run


def _kpo_pods(run):
    return {p["metadata"]["labels"].get("task_id"): p for p in run.pods
            if p["metadata"]["labels"].get(POD_COMPLETE_LABEL) == "true"}


@pytest.mark.xdist_group("airkube-kpo")
@pytest.mark.parametrize("kind,version", [("celery", "3.3.2"), ("celery", "2.11.2"), ("seed", "3.3.2"), ("seed", "2.11.2")])
def test_pod_operator_trusts_the_private_ca(kind, version, kube, services, front, ca, completer, tmp_path):
    """On a Celery release and on the seed's (LocalExecutor, KubernetesExecutor and the seed team's
    own executor under the alias KubeX, `KubeX:wx.executors.KubeExecutor`, the form Airflow 2.11's
    and 3.3's ExecutorLoader both take; group fortran names the alias, so the DAG helper gives
    executor="KubeX"). The seed release is a superset of a LocalExecutor,KubernetesExecutor one."""
    run = _run(kind, "private-ca", version, kube, services, front, ca, completer, tmp_path)
    # The pod operators run where the release runs tasks: a Celery worker, or the LocalExecutor scheduler.
    runner = run.runner
    logs = "\n\n".join("---- task %s\n%s" % (t, run.task_log(t)[-4000:]) for t in run.tasks)
    assert run.tis == {t: "success" for t in run.tasks}, "task instances %s\n%s" % (run.tis, logs)

    # Each pod exists in the release namespace and kwok completed it.
    pods = _kpo_pods(run)
    assert sorted(pods) == sorted(KPO_TASKS), sorted(pods)
    for t, p in pods.items():
        assert p["metadata"]["namespace"] == run.namespace
        assert p["status"]["phase"] == "Succeeded", (t, p["status"])

    # Through the front (so through the throwaway CA), each with the token of the pod that made the call.
    problems = []
    created = [r for r in run.requests if r.method == "POST" and r.path.startswith("/api/v1/namespaces/%s/pods" % run.namespace)]
    by_runner = [r for r in created if r.token == run.tokens[runner]]
    if len(by_runner) < 2:
        problems.append("want both pods created with the %s's token %s, got: %s" % (runner, run.tokens[runner], created))
    want_account = "system:serviceaccount:%s:%s" % (run.namespace, run.accounts[runner])
    if any(r.account != want_account for r in by_runner):
        problems.append("pods created as %s, want %s" % ({r.account for r in by_runner}, want_account))
    # The deferrable task's trigger polls its pod from the triggerer with the triggerer's own token.
    deferred = pods["deferrable"]["metadata"]["name"]
    polled = [r for r in run.by("triggerer") if r.path.startswith("/api/v1/namespaces/%s/pods/%s" % (run.namespace, deferred))]
    if not polled:
        problems.append("the triggerer never read pod %s through the front; its requests: %s" % (deferred, run.by("triggerer")))
    if run.refused:
        problems.append("the front refused handshakes: %s" % run.refused[:5])
    if "kubernetes" in run.groups:
        # The KubernetesExecutor's own client (in_cluster False, config_file = the kubeconfig) watches
        # and creates its task pod through the front with the scheduler's token. The scheduler's
        # token created the two pod operators' pods (LocalExecutor), the KubernetesExecutor's and,
        # with group fortran, the seed executor's.
        posts = [r for r in created if r.token == run.tokens["scheduler"]]
        ke_pods = [p for p in run.pods if p["metadata"]["labels"].get("task_id") == "in_kubernetes"]
        want = 3 + ("fortran" in run.groups)
        if len(posts) != want or len(ke_pods) != 1:
            problems.append("the KubernetesExecutor's pod was not created through the front (scheduler POSTs %d, want %d; "
                            "its pods %d)" % (len(posts), want, len(ke_pods)))
        watches = [r for r in run.by("scheduler") if "watch=" in r.path]
        if not watches:
            problems.append("the KubernetesExecutor never watched pods through the front")
    if "fortran" in run.groups:
        problems += _seed_executor_problems(run)
    assert not problems, "\n".join(problems) + "\n" + logs
    # The worker resolved the rendered connection and handed its extras to the trigger.
    assert "Successfully resolved connection extras for deferral" in run.task_log("deferrable"), logs
    print("%d requests through the front: %d by the %s, %d by the triggerer" % (
        len(run.requests), len(run.by(runner)), runner, len(run.by("triggerer"))))


def _seed_executor_problems(run):
    """The seed executor ran SEED_TASK: the scheduler sent it to the alias, and the executor made
    exactly one pod for it, through the front, with the scheduler's token."""
    problems = []
    # 2.11 and 3.3 both store the task's executor= as given: the alias.
    if run.ti_executors.get(SEED_TASK) != SEED_ALIAS:
        problems.append("task instance %s went to executor %r, want %r (all: %s)" % (
            SEED_TASK, run.ti_executors.get(SEED_TASK), SEED_ALIAS, run.ti_executors))
    seed_pods = [p for p in run.pods if p["metadata"]["labels"].get(SEED_POD_LABEL) == SEED_TASK]
    if len(seed_pods) != 1:
        problems.append("want one pod labelled %s=%s in %s, got %s" % (
            SEED_POD_LABEL, SEED_TASK, run.namespace, [p["metadata"]["name"] for p in seed_pods]))
    else:
        name = seed_pods[0]["metadata"]["name"]
        managed = json.loads(run.kube.kubectl("get", "pod", name, "-n", run.namespace, "-o", "json",
                                              "--show-managed-fields"))["metadata"].get("managedFields") or []
        if not [f for f in managed if f["manager"] == SEED_FIELD_MANAGER and not f.get("subresource")]:  # kwok writes the status
            problems.append("pod %s was not created by %s: %s" % (name, SEED_FIELD_MANAGER, managed))
    posts = [r for r in run.requests if r.method == "POST" and "fieldManager=%s" % SEED_FIELD_MANAGER in r.path]
    want_account = "system:serviceaccount:%s:%s" % (run.namespace, run.accounts["scheduler"])
    if [(r.token, r.account) for r in posts] != [(run.tokens["scheduler"], want_account)]:
        problems.append("want the seed executor's one POST with the scheduler's token %s as %s, got: %s" % (
            run.tokens["scheduler"], want_account, [str(r) for r in posts]))
    return problems


@pytest.mark.xdist_group("airkube-kpo")
@pytest.mark.parametrize("version", ["3.3.2", "2.11.2"])
def test_without_the_ca_bundle_tls_fails(version, kube, services, front, ca, completer, tmp_path):
    run = _run("celery", "no-ca-bundle", version, kube, services, front, ca, completer, tmp_path)
    # The rendered kubeconfig trusts kube-root-ca.crt, the cluster's CA, which did not sign the front.
    assert podenv.find(run.objects, "ConfigMap", "kpo-kubeconfig")["data"]["config"].count("certificate-authority: /opt/airkube/kube/ca.crt") == 1
    assert ("kube-root-ca.crt", "ca.crt") in run.configmaps and ("cloud-ca", "ca.crt") not in run.configmaps
    assert run.tis == {"sync": "failed", "deferrable": "failed"}, run.tis
    for t in KPO_TASKS:
        assert CERT_ERROR in run.task_log(t), "task %s: no %s in its log:\n%s" % (t, CERT_ERROR, run.task_log(t)[-4000:])
    assert not _kpo_pods(run), [p["metadata"]["name"] for p in run.pods]
    assert not [r for r in run.requests if r.token in run.tokens.values()], run.requests
    assert any("UNKNOWN_CA" in r for r in run.refused), run.refused
    print("both tasks failed with %s; the front saw %d refused handshakes" % (CERT_ERROR, len(run.refused)))


@pytest.mark.xdist_group("airkube-kpo")
def test_verify_ssl_false_opt_in(kube, services, front, ca, completer, tmp_path):
    run = _run("celery", "insecure", "3.3.2", kube, services, front, ca, completer, tmp_path)
    assert "warning: kubernetesAPI.verifySSL: TLS checks of the Kubernetes API are off" in run.validate, run.validate
    assert "insecure-skip-tls-verify: true" in podenv.find(run.objects, "ConfigMap", "kpo-kubeconfig")["data"]["config"]
    logs = "\n".join(run.task_log(t)[-3000:] for t in KPO_TASKS)
    assert run.tis == {"sync": "success", "deferrable": "success"}, "%s\n%s" % (run.tis, logs)
    assert sorted(_kpo_pods(run)) == sorted(KPO_TASKS)
    assert len(run.by("worker")) > 0 and len(run.by("triggerer")) > 0
    print("validate:\n" + run.validate)


PROBE = Path(__file__).parent / "probes" / "kube_client_probe.py"


def _probe(run, component, env, root, steps, given=None, drop=(), set_env=None):
    """probes/kube_client_probe.py in a component's pod (env without `drop`, plus `set_env`);
    (results, the requests the front forwarded meanwhile)."""
    env = {k: v for k, v in env.items() if k not in drop}
    env.update(set_env or {})
    out = root / ".cwd" / ("probe-%s.json" % "-".join(steps))
    mark = run.front.mark()
    args = ["python", str(PROBE), str(out), json.dumps(steps)] + ([json.dumps(given)] if given else [])
    t = time.monotonic()
    p = podenv.run(env, root, args, venv=run.venv, timeout=300)
    assert p.returncode == 0 and out.exists(), "probe %s failed:\n%s%s" % (steps, p.stdout[-3000:], p.stderr[-3000:])
    results = json.loads(out.read_text())
    change = ["without " + ", ".join(drop)] if drop else []
    change += ["with %s=%s" % kv for kv in (set_env or {}).items()]
    print("probe in the %s's pod%s: %s (%.1fs)" % (component, "".join(" " + c for c in change),
                                                   json.dumps({k: {x: y for x, y in v.items() if x != "config_dict"}
                                                               for k, v in results.items()}), time.monotonic() - t))
    return results, run.front.since(mark)[0]


@pytest.mark.xdist_group("airkube-kpo")
@pytest.mark.parametrize("version", ["3.3.2", "2.11.2"])
def test_provider_reads(version, kube, services, front, ca, completer, tmp_path):
    """Which setting each provider path reads (generator/model/kubeapi.go): the real clients, made as
    the provider makes them, in the rendered scheduler and triggerer pods of a
    LocalExecutor,KubernetesExecutor release with pod operators, with one setting taken away at a time.
    No Airflow process runs; the front tells whose token each call carried."""
    run = Run("kubernetes", "private-ca", version, kube, services, front, ca, completer, tmp_path, name="probe").render().install()
    _, sched_env, sched_root = run.materialize("scheduler")
    _, trig_env, trig_root = run.materialize("triggerer")
    kubeconfig = podenv.find(run.objects, "ConfigMap", "kpo-kubeconfig")["data"]["config"]
    pods_of = "/api/v1/namespaces/%s/pods" % run.namespace
    import yaml

    # 1. The rendered environment: the sync hook (pod operators in a worker or, here, the LocalExecutor
    #    scheduler), a deferrable operator's hand-off, and the KubernetesExecutor's client.
    full, reqs = _probe(run, "scheduler", sched_env, sched_root, ["sync", "handoff", "executor"])
    assert full["sync"]["ok"], full["sync"]
    assert (full["sync"]["host"], full["sync"]["in_cluster"], full["sync"]["namespace"]) == (front.url, False, run.namespace), full["sync"]
    assert full["handoff"]["config_dict"] == yaml.safe_load(kubeconfig), full["handoff"]["config_dict"]
    assert full["handoff"]["extras"] == {"namespace": run.namespace}, full["handoff"]["extras"]
    assert full["executor"]["ok"] and full["executor"]["host"] == front.url, full["executor"]
    assert full["executor"]["ssl_ca_cert"] == "/opt/airkube/kube/ca.crt", full["executor"]
    assert len([r for r in reqs if r.token == run.tokens["scheduler"] and r.path.startswith(pods_of)]) >= 2, reqs

    # 2. Without KUBECONFIG: the sync hook has nothing else (the connection names no file; in-cluster
    #    config needs the automounted token airkube's pods don't have). The executor still works: it
    #    reads [kubernetes_executor] config_file, not KUBECONFIG.
    bare, reqs = _probe(run, "scheduler", sched_env, sched_root, ["sync", "executor"], drop=("KUBECONFIG",))
    assert not bare["sync"]["ok"] and "ConfigException" in bare["sync"]["error"], bare["sync"]
    assert bare["executor"]["ok"] and bare["executor"]["host"] == front.url, bare["executor"]
    assert [r for r in reqs if r.token == run.tokens["scheduler"]], "the executor's call did not come through the front"

    # ... and [kubernetes_executor] ssl_ca_cert, when set, replaces the kubeconfig's CA: the cluster's
    # own CA there fails against the front.
    other_ca = sched_root / "cluster-ca.crt"  # outside the pod's folders: the host path is the path
    other_ca.write_text(kube.ca_pem())
    swapped, _ = _probe(run, "scheduler", sched_env, sched_root, ["executor"],
                        set_env={"AIRFLOW__KUBERNETES_EXECUTOR__SSL_CA_CERT": str(other_ca)})
    assert not swapped["executor"]["ok"] and CERT_ERROR in swapped["executor"]["error"], swapped["executor"]

    # 3. In the triggerer, without its own KUBECONFIG: the trigger works from the hand-off alone, with
    #    the triggerer's own token file (the dict names files by path) ...
    trig_other_ca = trig_root / "cluster-ca.crt"  # outside the pod's folders: the host path is the path
    trig_other_ca.write_text(kube.ca_pem())
    given = {"config_dict": full["handoff"]["config_dict"], "extras": full["handoff"]["extras"],
             "kube_config_path": "/opt/airkube/kube/config", "other_ca": str(trig_other_ca)}
    trig, reqs = _probe(run, "triggerer", trig_env, trig_root, ["trigger", "trigger_with_path", "trigger_other_ca"],
                        given=given, drop=("KUBECONFIG",))
    assert trig["trigger"]["ok"] and trig["trigger"]["host"] == front.url, trig["trigger"]
    assert [r for r in reqs if r.token == run.tokens["triggerer"] and r.path.startswith(pods_of)], reqs
    # ... and a connection naming kube_config_path next to the hand-off breaks it (why airkube's doesn't);
    assert not trig["trigger_with_path"]["ok"] and "mutually exclusive" in trig["trigger_with_path"]["error"], trig
    # the trigger verifies the server with the kubeconfig's CA: the cluster's own CA there fails.
    assert not trig["trigger_other_ca"]["ok"] and CERT_ERROR in trig["trigger_other_ca"]["error"], trig
    print("Airflow %s, cncf.kubernetes: sync hook <- KUBECONFIG; deferrable <- KUBECONFIG read in the worker, "
          "handed to the trigger as config_dict; KubernetesExecutor <- [kubernetes_executor] config_file" % version)


@pytest.mark.xdist_group("airkube-kpo")
def test_clients_follow_token_rotation(kube, services, front, ca, completer, tmp_path):
    """The kubelet rewrites a projected token at 80% of its lifetime: a long-lived client that kept
    the first one would work only as long as the API server still accepts that one (see
    kubeTokenSeconds in generator/model/kubeapi.go). The sync hook's client, the KubernetesExecutor's
    (made once when the scheduler starts) and a trigger's hook each call the API, the token file is
    rotated, and they call again: the second calls carry the new token, read by the kubeconfig's exec
    credential. (With the kubeconfig's former tokenFile, all three second calls carried the first
    token: the clients read the file once, when made.)"""
    import threading
    from urllib.parse import unquote

    run = Run("kubernetes", "private-ca", "3.3.2", kube, services, front, ca, completer, tmp_path, name="rotation").render().install()
    _, env, root = run.materialize("scheduler")
    signal = root / "rotation"
    rotated = {}

    def kubelet():
        wait_for("the probe's first calls", lambda: Path(str(signal) + ".ready").exists(), 240, interval=0.2)
        token = kube.token(run.namespace, run.accounts["scheduler"], 3600)
        (root / "opt/airkube/kube/token").write_text(token)
        rotated["token"] = token_fingerprint(token)
        Path(str(signal) + ".go").touch()
    th = threading.Thread(target=kubelet, daemon=True)
    th.start()
    results, reqs = _probe(run, "scheduler", env, root, ["rotation"], given={"signal": str(signal)})
    th.join(10)
    assert rotated, "the token was never rotated"
    seen = {}
    for r in reqs:
        path = unquote(r.path)
        if "round=" in path:
            sel = path.split("labelSelector=")[1].split("&")[0]
            seen[sel] = {run.tokens["scheduler"]: "the first token", rotated["token"]: "the rotated token"}.get(r.token, r.token)
    print("token each call carried: " + json.dumps(seen, indent=1))
    assert all(v == "ok" for r in ("round1", "round2") for v in results["rotation"][r].values()), results
    assert len(seen) == 6, seen
    assert {v for k, v in seen.items() if k.startswith("round=1")} == {"the first token"}, seen
    stale = {k: v for k, v in seen.items() if k.startswith("round=2") and v != "the rotated token"}
    assert not stale, "after the token file was rotated, these calls still carried: %s" % stale
