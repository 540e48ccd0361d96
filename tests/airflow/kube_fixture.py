"""A local kwok control plane and host-process helpers for the real-Airflow tests.

Imported by test_kubernetes_executor.py, test_celery_routing.py and test_pod_operator.py (no
conftest, so hack/make-rules/airflow.sh needs no change). The cluster is a session fixture: started
with hack/cluster/up.sh under a name of its own (AIRKUBE_CLUSTER, default
airkube-airflow) and removed at the end, unless it was already running, in which case
it is left as found. kwok plays nodes and pods: a pod Airflow creates becomes Running
on a matching fake node, and nothing in it ever executes. Pods labelled POD_COMPLETE_LABEL
also finish (Succeeded) while a test holds Kube.pod_completer.
"""
import copy
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import yaml

import podenv

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("AIRKUBE_CACHE", Path.home() / ".cache" / "airkube"))
# One cluster per pytest-xdist worker: a session fixture runs once per worker, and a worker
# must not delete a cluster another one still uses.
CLUSTER_NAME = os.environ.get("AIRKUBE_CLUSTER", "airkube-airflow") + (
    "-" + os.environ["PYTEST_XDIST_WORKER"] if os.environ.get("PYTEST_XDIST_WORKER") else "")
# The workload kinds a real install would turn into pods; the tests start the Airflow
# processes themselves, so these are not applied.
NOT_APPLIED = {"Deployment", "StatefulSet", "Job", "ScaledObject", "HorizontalPodAutoscaler", "PodDisruptionBudget"}
# Pods with this label set to "true" are completed by Kube.pod_completer (kwokctl's own stages
# complete only pods a Job owns).
POD_COMPLETE_LABEL = "airkube.dev/kwok-complete"


def log(*args):
    print("[kube_fixture]", *args, flush=True)


# Ports handed out by free_port: below the kernel's ephemeral range, so that no outgoing connection of
# another process takes one between the check and the component's own bind (a port the kernel picked for
# a probe is in that range, and once an api-server lost it so: "address already in use"). Each
# pytest-xdist worker has a block of its own, handed out in turn.
_PORT_BLOCK = 1000
_port_next = {}
_port_lock = threading.Lock()


def _port_base():
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        ephemeral = int(f.read().split()[0])
    worker = int("".join(c for c in os.environ.get("PYTEST_XDIST_WORKER", "gw0") if c.isdigit()) or 0)
    base = 20000 + worker * _PORT_BLOCK
    if base + _PORT_BLOCK > ephemeral:
        raise AssertionError("no port block below the ephemeral range (%d) for xdist worker %d" % (ephemeral, worker))
    return base


def _bindable(port, kind):
    for addr in ("0.0.0.0", "127.0.0.1"):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((addr, port))
            except OSError:
                return False
    return True


def free_port(kind=socket.SOCK_STREAM):
    """A port free on every address now that no other process is about to take (see _PORT_BLOCK)."""
    base = _port_base()
    with _port_lock:
        for _ in range(_PORT_BLOCK):
            n = _port_next.get(base, 0)
            _port_next[base] = (n + 1) % _PORT_BLOCK
            if _bindable(base + n, kind):
                return base + n
    raise AssertionError("no free port in %d-%d" % (base, base + _PORT_BLOCK - 1))


class Kube:
    """kubectl (the cached pinned binary) against one kubeconfig."""

    def __init__(self, kubeconfig, bindir):
        self.kubeconfig = str(kubeconfig)
        self.kubectl_bin = str(Path(bindir) / "kubectl")

    def kubectl(self, *args, input=None, check=True, timeout=120):
        p = subprocess.run([self.kubectl_bin, "--kubeconfig", self.kubeconfig, *args], input=input,
                           capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("kubectl %s failed (%d):\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p.stdout

    def get_json(self, *args):
        return json.loads(self.kubectl("get", *args, "-o", "json"))

    def apply(self, objects):
        self.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-",
                     input="\n---\n".join(yaml.safe_dump(o) for o in objects))

    def namespace(self, name):
        self.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}])

    def fake_node(self, name, labels=None, taints=None):
        """A kwok node (what tests/e2e and hack/cluster/nodes.sh create): Ready, never runs anything."""
        self.apply([{"apiVersion": "v1", "kind": "Node", "metadata": {
            "name": name, "annotations": {"kwok.x-k8s.io/node": "fake"},
            "labels": {"type": "kwok", "kubernetes.io/hostname": name, **(labels or {})}},
            "spec": {"taints": taints or []}}])

    def wait_nodes_ready(self, names, timeout=60):
        self.kubectl("wait", "--for=condition=Ready", *("node/" + n for n in names), "--timeout=%ds" % timeout,
                     timeout=timeout + 30)

    def apply_release(self, objects, namespace):
        """Applies what an install creates except the workloads (see NOT_APPLIED)."""
        self.namespace(namespace)
        keep = [copy.deepcopy(o) for o in objects if o.get("kind") not in NOT_APPLIED]
        for o in keep:
            if o["kind"] not in ("PersistentVolume", "Namespace", "ClusterRole", "ClusterRoleBinding"):
                o.setdefault("metadata", {}).setdefault("namespace", namespace)
        self.apply(keep)

    def token(self, namespace, account, seconds=7200):
        """A token of ServiceAccount `account`, as the kubelet projects one into its pods."""
        return self.kubectl("create", "token", account, "-n", namespace, "--duration=%ds" % seconds).strip()

    def service_account_kubeconfig(self, namespace, account, path):
        """A kubeconfig that talks to the API as `account`: what the scheduler's pod gets
        in-cluster (its projected token), so the rendered RBAC is what is exercised."""
        token = self.token(namespace, account)
        src = yaml.safe_load(Path(self.kubeconfig).read_text())
        cluster = src["clusters"][0]["cluster"]
        cfg = {
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "kwok", "cluster": cluster}],
            "users": [{"name": account, "user": {"token": token}}],
            "contexts": [{"name": account, "context": {"cluster": "kwok", "user": account, "namespace": namespace}}],
            "current-context": account,
        }
        Path(path).write_text(yaml.safe_dump(cfg))
        return Path(path)

    def ca_pem(self):
        return self.ca_file().read_text()

    def ca_file(self):
        """The cluster's CA (what signs kube-apiserver's serving certificate and kube-root-ca.crt)."""
        src = yaml.safe_load(Path(self.kubeconfig).read_text())
        return Path(src["clusters"][0]["cluster"]["certificate-authority"])

    def server(self):
        """kube-apiserver's URL on loopback."""
        return yaml.safe_load(Path(self.kubeconfig).read_text())["clusters"][0]["cluster"]["server"]

    def pod_completer(self, logdir, label=POD_COMPLETE_LABEL, delay_ms=3000):
        """A second kwok controller that completes (phase Succeeded, exit code 0) every Running pod
        carrying `label`=true after delay_ms, on any node; see PodCompleter."""
        return PodCompleter(self, logdir, label, delay_ms)


# The stages of Kube.pod_completer's kwok controller. kwok starts its pod controller only for nodes its
# node controller manages, and that only when there is a node stage: hence one that matches no node,
# so node status stays the cluster controller's alone.
_COMPLETER_STAGES = """\
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: airkube-pod-complete
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchLabels: {"%(label)s": "true"}
    matchExpressions:
    - {key: .metadata.deletionTimestamp, operator: DoesNotExist}
    - {key: .status.phase, operator: In, values: [Running]}
  delay: {durationMilliseconds: %(delay)d}
  next:
    statusTemplate: |
      {{ $now := Now }}
      {{ $root := . }}
      containerStatuses:
      {{ range $index, $item := .spec.containers }}
      {{ $origin := index $root.status.containerStatuses $index }}
      - image: {{ $item.image | Quote }}
        name: {{ $item.name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: 0
            finishedAt: {{ $now | Quote }}
            reason: Completed
            startedAt: {{ ( $origin.state.running.startedAt | default $now ) | Quote }}
      {{ end }}
      phase: Succeeded
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: airkube-node-none
spec:
  resourceRef: {apiGroup: v1, kind: Node}
  selector:
    matchLabels: {"airkube.dev/kwok-no-node": "true"}
  next: {}
"""


class PodCompleter:
    """A second kwok controller (the cluster's own binary) that plays a kubelet whose containers
    exit 0: every Running pod labelled `label`=true turns Succeeded after delay_ms. The cluster's
    kwok controller still makes nodes Ready and pods Running and deletes pods; this one only
    completes. kwok never runs a container, so nothing in the pod executes and kwok serves no
    container logs. A context manager; the process dies with pytest (parent-death signal).
    """

    def __init__(self, kube, logdir, label, delay_ms):
        self.label = label
        logdir = Path(logdir)
        logdir.mkdir(parents=True, exist_ok=True)
        stages = logdir / "kwok-pod-completer.yaml"
        stages.write_text(_COMPLETER_STAGES % {"label": label, "delay": delay_ms})
        self.log = logdir / "kwok-pod-completer.log"
        kwok = Path(kube.kubectl_bin).parent / "kwok"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                ["setpriv", "--pdeathsig", "TERM", "--", str(kwok), "--kubeconfig=" + kube.kubeconfig,
                 "--config=" + str(stages), "--manage-all-nodes=true", "--node-lease-duration-seconds=0"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log("kwok pod completer (pid %d) completes Running pods labelled %s=true after %dms"
            % (self.proc.pid, label, delay_ms))

    def check_alive(self):
        if self.proc.poll() is not None:
            raise AssertionError("the kwok pod completer exited (%s):\n%s" % (
                self.proc.returncode, self.log.read_text(errors="replace")[-3000:]))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _cluster_pids(name):
    """Pids of processes whose command line names this cluster's dir (what down.sh kills)."""
    marker = "clusters/%s/" % name
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmd:
            pids.append(int(d.name))
    return pids


def cluster_down(name):
    """hack/cluster/down.sh, bounded: it used to block forever on `flock 9` when a cluster
    daemon had inherited up.sh's lock fd. On timeout, stop this cluster's processes by pid
    and remove its dir (what down.sh would have done)."""
    env = dict(os.environ, AIRKUBE_CLUSTER=name)
    try:
        subprocess.run([str(ROOT / "hack/cluster/down.sh")], env=env, timeout=180, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except subprocess.TimeoutExpired:
        log("down.sh timed out; stopping cluster %s by pid" % name)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = _cluster_pids(name)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if pids:
            time.sleep(2)
    shutil.rmtree(CACHE / "kwok" / "clusters" / name, ignore_errors=True)


@pytest.fixture(scope="session")
def kube():
    """The local control plane (kube-apiserver v1.37.2 + kwok), up for the whole session."""
    env = dict(os.environ, AIRKUBE_CLUSTER=CLUSTER_NAME)
    start = time.monotonic()
    bindir = subprocess.run([str(ROOT / "hack/cluster/build.sh")], env=env, check=True, capture_output=True,
                            text=True).stdout.strip().splitlines()[-1]
    # stdin/stdout/stderr are pipes only for up.sh itself; the daemons it starts are kwokctl's.
    up = subprocess.run([str(ROOT / "hack/cluster/up.sh")], env=env, capture_output=True, text=True, timeout=900)
    if up.returncode != 0:
        pytest.fail("hack/cluster/up.sh failed:\n" + up.stderr[-3000:])
    kubeconfig = up.stdout.strip().splitlines()[-1]
    # A cluster under the suite's own name that is already up was left by an aborted run: it is
    # ours to remove. One named by the caller (AIRKUBE_CLUSTER) is left as found.
    ours = "already running" not in up.stderr or "AIRKUBE_CLUSTER" not in os.environ
    log("cluster %s %s in %.1fs: %s" % (CLUSTER_NAME, "started" if ours else "reused", time.monotonic() - start, kubeconfig))
    try:
        yield Kube(kubeconfig, bindir)
    finally:
        if ours:
            start = time.monotonic()
            cluster_down(CLUSTER_NAME)
            log("cluster %s removed in %.1fs" % (CLUSTER_NAME, time.monotonic() - start))


def rows(services, db, sql):
    """Rows of a query on a test database (conftest's Services.psql: unaligned, `|`-separated)."""
    return [line.split("|") for line in services.psql(sql, db).splitlines() if line]


class HostProcess:
    """A long-running process started through podenv.run (which only offers subprocess.run).

    podenv.run blocks until the process exits, so it runs in a thread; argv is prefixed with
    `setpriv --pdeathsig TERM -- sh -c 'echo $$ >PIDFILE; exec "$@"'`, which records the pid and
    then execs the command unchanged (unshare and env exec too, so the pid is the one
    podenv.run's child had). The process leads its own session, so stopping it signals only its
    process group; if pytest itself is killed (no finalizers run), the parent-death signal
    still stops it.
    """

    def __init__(self, name, env, root, argv, venv, logdir):
        self.name, self.argv = name, list(argv)
        self.log = Path(logdir) / (name + ".log")
        pidfile = Path(logdir) / (name + ".pid")
        pidfile.unlink(missing_ok=True)
        self.result = None
        self._logf = open(self.log, "wb")

        def target():
            try:
                self.result = podenv.run(env, root, ["setpriv", "--pdeathsig", "TERM", "--", "sh", "-c",
                                                     'echo $$ >"$0"; exec "$@"', str(pidfile), *argv],
                                         venv=venv, stdout=self._logf, stderr=subprocess.STDOUT, text=False,
                                         start_new_session=True)
            except BaseException as e:  # noqa: BLE001 - surfaced by poll()
                self.result = e

        self._thread = threading.Thread(target=target, name="host-" + name, daemon=True)
        self._thread.start()
        self.pid = wait_for("%s to start" % name, lambda: self.result is not None or (
            pidfile.exists() and pidfile.read_text().strip()), 30, interval=0.1)
        if not isinstance(self.pid, str):
            raise AssertionError("%s did not start: %r\n%s" % (name, self.result, self.tail()))
        self.pid = int(self.pid)

    def poll(self):
        """None while running, else the exit status (or the exception podenv.run raised)."""
        if self._thread.is_alive():
            return None
        r = self.result
        return r.returncode if isinstance(r, subprocess.CompletedProcess) else r

    def wait(self, timeout):
        self._thread.join(timeout)
        return self.poll()

    def tail(self, n=4000):
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else "(no log)"

    def signal(self, sig):
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


class Processes:
    """Host processes started by a test, each stopped (by its own process group) at the end."""

    def __init__(self, logdir):
        self.logdir = Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.procs = []

    def start(self, name, env, root, argv, venv):
        log("starting %s: %s" % (name, " ".join(argv)))
        p = HostProcess(name, env, root, argv, venv, self.logdir)
        self.procs.append(p)
        return p

    def check_alive(self):
        for p in self.procs:
            rc = p.poll()
            if rc is not None:
                raise AssertionError("%s exited (%r):\n%s" % (p.name, rc, p.tail()))

    def stop_all(self, grace=30):
        start = time.monotonic()
        # Like the kubelet: SIGTERM to the main process only (it stops its own children), then
        # SIGKILL for the whole group after the grace period.
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for p in reversed(self.procs):
            if p.wait(max(0.1, deadline - time.monotonic())) is None:
                log("%s (pid %d) ignored SIGTERM for %ds; killing its process group" % (p.name, p.pid, grace))
                p.signal(signal.SIGKILL)
                p.wait(10)
        # Children that outlived their leader in the same group (celery pool, api-server workers).
        for p in self.procs:
            p.signal(signal.SIGKILL)
        log("stopped %d processes in %.1fs" % (len(self.procs), time.monotonic() - start))


def http_ok(url):
    """True when url answers 2xx (for the rendered httpGet probes)."""
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return 200 <= r.status < 300
    except OSError:
        return False


def probe_url(container, probe, port):
    """The URL of a rendered httpGet probe, on the port the host process listens on instead."""
    get = container.container[probe]["httpGet"]
    return "http://127.0.0.1:%d%s" % (port, get["path"])


def wait_for_dag(services, database, dag_id, procs, what=None, timeout=240):
    """Waits until the DAG is in the database; fails at once on any DAG import error."""
    def parsed():
        errs = rows(services, database, "SELECT stacktrace FROM import_error")
        assert not errs, "DAG import errors:\n" + "\n".join(r[0] for r in errs)
        return rows(services, database, "SELECT dag_id FROM dag WHERE dag_id = '%s'" % dag_id)
    return wait_for(what or "the DAG %s to be parsed" % dag_id, parsed, timeout, procs=procs)


def probe_ok(container, probe, port=None, *, env=None, root=None, venv=None):
    """Runs a rendered probe as the kubelet would: an httpGet on the port the host process listens on
    instead, or the exec command in the container's env and files (podenv.run); True when it passes."""
    spec = container.container[probe]
    if "httpGet" in spec:
        return http_ok(probe_url(container, probe, port))
    return podenv.run(env, root, spec["exec"]["command"], venv=venv, timeout=spec.get("timeoutSeconds", 1)).returncode == 0


def wait_for(what, fn, timeout, interval=2.0, procs=None):
    """Polls fn() until it returns something truthy; fails naming `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if procs is not None:
            procs.check_alive()
        try:
            last = fn()
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:  # transient (psql, kubectl): poll on
            last = e
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError("timed out after %ds waiting for %s (last: %r)" % (timeout, what, last))
