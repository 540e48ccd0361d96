"""Build an Airflow container's environment and files exactly as Kubernetes would, from rendered objects.

The real-Airflow tests run Airflow on the host, not in a pod, so this module plays the kubelet:

- ``load_manifest(path)`` reads a rendered multi-document manifest (PyYAML, from the test-runner
  venv that ``hack/make-rules/airflow.sh`` makes; see tests/airflow/requirements.txt).
- ``airflow_containers(objects)`` lists every Airflow container: the main container of each
  Deployment/StatefulSet/Job whose env sets AIRFLOW_CONFIG, and the ``base`` container of each pod
  template file in the ``*-pod-templates`` ConfigMap.
- ``materialize(objects, container, secrets, root)`` returns the container's env (envFrom, then env;
  ``value`` with ``$(VAR)`` expansion, ``secretKeyRef``, ``configMapKeyRef``, ``fieldRef`` with fixed
  fake pod facts) and writes each mounted ConfigMap/Secret under ``root + mountPath`` (honouring
  ``items`` and ``subPath``); emptyDir, PVC, NFS and CSI mounts become empty directories there.
  It also records the mounts (path, readOnly) in ``root/.podenv.json`` for ``run``.
- ``run(env, root, argv, venv=...)`` runs argv with exactly that env (plus PATH with the venv first,
  and the image's own ENV, see below).

How ``run`` makes the rendered absolute paths work, unmodified: it starts the command in a private
mount namespace (``unshare --mount --propagation private``, we are root) and bind-mounts each
top-level folder of ``root`` (e.g. ``root/opt``) over the real one (``/opt``), so
/opt/airkube/config/airflow.cfg, the DAGs folder, the log folder, the pod templates ... are the
materialized files. Mounts with ``readOnly: true`` are re-mounted read-only, as the kubelet does.
No path in env or airflow.cfg is rewritten. Top-level folders that hold the system or the venv
(/usr, /etc, /root, /tmp when root lives there, ...) are never covered: a mount path there is
bound by itself if it exists on the host, otherwise ``run`` raises PodEnvError.

Differences from a real pod, on purpose: the pod's emptyDir at /tmp (every container's one writable
folder besides its volumes: their root filesystems are read-only) is the host's /tmp, which holds the
test's own files; the process runs as root (not the pod's runAsUser), and
``IMAGE_ENV`` (the ENV of the apache/airflow image: AIRFLOW_HOME=/opt/airflow, HOME) is added
under the container's env, because an image's ENV is part of a container's environment and
Kubernetes' env overrides it. Service links (``<SVC>_SERVICE_HOST`` ...) are included for the
manifest's Services with fake cluster IPs, as the kubelet does unless enableServiceLinks is false.
"""

from __future__ import annotations

import base64
import fcntl
import functools
import json
import os
import re
import shlex
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_SH = REPO / "hack" / "airflow" / "venv.sh"
VERSIONS_ENV = REPO / "hack" / "airflow" / "versions.env"
GOLDEN = REPO / "tests" / "golden"

# The fake pod facts fieldRef and service links resolve to.
FAKE_POD_IP = "10.244.0.17"
FAKE_HOST_IP = "10.0.0.11"
FAKE_NODE = "node-1"
FAKE_POD_UID = "0b3f6a2e-5c1d-4e8a-9f70-123456789abc"

# ENV of the apache/airflow images (docker inspect): set before the container's own env.
IMAGE_ENV = {
    "AIRFLOW_HOME": "/opt/airflow",
    "AIRFLOW_USER_HOME_DIR": "/home/airflow",
    "HOME": "/home/airflow",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
}

# Top-level folders run() never bind-mounts over (the system, the venvs, the kernel's).
_PROTECTED_TOPS = {"bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "root",
                   "run", "sbin", "sys", "usr", "var", "work", "srv"}


class PodEnvError(Exception):
    """A rendered object can't be materialized the way Kubernetes would (missing Secret key, ...)."""


# --- manifests -----------------------------------------------------------------------------------

def load_manifest(path) -> list[dict]:
    """Every non-empty document of a rendered multi-document manifest."""
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def find(objects, kind, name):
    """The object of kind/name, or None."""
    for o in objects:
        if o.get("kind") == kind and o.get("metadata", {}).get("name") == name:
            return o
    return None


def release_version(objects) -> str:
    """The Airflow version the manifest was rendered for (label app.kubernetes.io/version)."""
    for o in objects:
        v = o.get("metadata", {}).get("labels", {}).get("app.kubernetes.io/version")
        if v:
            return str(v)
    raise PodEnvError("no object carries app.kubernetes.io/version")


def release_namespace(objects) -> str:
    for o in objects:
        if o.get("kind") == "RoleBinding":
            for s in o.get("subjects", []):
                if s.get("namespace"):
                    return s["namespace"]
    for o in objects:
        if o.get("kind") == "PersistentVolume":
            ns = o.get("spec", {}).get("claimRef", {}).get("namespace")
            if ns:
                return ns
    # The chart leaves metadata.namespace to helm; the airflow.cfg knows it for 3.x.
    return "default"


@dataclass
class Container:
    workload: str            # "Deployment/weather-etl-scheduler", "PodTemplate/fortran", "Job/..."
    component: str           # app.kubernetes.io/component, or "task" for a task pod template
    group: str | None        # airkube.dev/task-group
    container: dict          # the container object as rendered
    pod_spec: dict           # the pod spec it runs in
    pod_meta: dict = field(default_factory=dict)
    init: bool = False       # an init container (only with airflow_containers(..., init=True))

    @property
    def name(self) -> str:
        return self.container["name"]

    @property
    def pod_name(self) -> str:
        """The fake pod name fieldRef metadata.name and HOSTNAME resolve to."""
        kind, name = self.workload.split("/", 1)
        if kind == "PodTemplate":
            return self.pod_meta.get("name") or name
        if kind == "Job":
            return name + "-x2x7k"
        return name + "-5d8f7c9b4-x2x7k"

    def __repr__(self):
        return f"<{self.workload}:{self.name}>"


def _is_airflow(c: dict) -> bool:
    return any(e.get("name") == "AIRFLOW_CONFIG" for e in c.get("env", []) or [])


def airflow_containers(objects, init=False) -> list[Container]:
    """Every Airflow container of the release, in manifest order, then the task pod templates.

    The main container of a workload is its only one, else the first that is not a sidecar
    (git-sync). With init=True, Airflow init containers (wait-for-migrations) are listed too.
    """
    out = []
    for o in objects:
        kind = o.get("kind")
        if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            tmpl = o["spec"]["template"]
            spec = tmpl["spec"]
            meta = tmpl.get("metadata", {})
            labels = meta.get("labels", {}) or o["metadata"].get("labels", {})
            wl = f"{kind}/{o['metadata']['name']}"
            mains = [c for c in spec["containers"] if not c["name"].startswith("git-sync")] or spec["containers"][:1]
            main = mains[0]
            if init:
                for c in spec.get("initContainers", []) or []:
                    if _is_airflow(c):
                        out.append(Container(wl, labels.get("app.kubernetes.io/component", ""),
                                             labels.get("airkube.dev/task-group"), c, spec, meta, init=True))
            if _is_airflow(main):
                out.append(Container(wl, labels.get("app.kubernetes.io/component", ""),
                                     labels.get("airkube.dev/task-group"), main, spec, meta))
    for o in objects:
        if o.get("kind") == "ConfigMap" and o["metadata"]["name"].endswith("-pod-templates"):
            for fname, text in sorted((o.get("data") or {}).items()):
                pod = yaml.safe_load(text)
                spec = pod["spec"]
                labels = pod.get("metadata", {}).get("labels", {})
                base = [c for c in spec["containers"] if c["name"] == "base"]
                if not base:
                    raise PodEnvError(f"pod template {fname}: no container named base")
                out.append(Container(f"PodTemplate/{fname.removesuffix('.yaml')}",
                                     labels.get("app.kubernetes.io/component", "task"),
                                     labels.get("airkube.dev/task-group"), base[0], spec,
                                     pod.get("metadata", {})))
    return out


def containers(objects, component) -> list[Container]:
    """The main Airflow containers of a component (no init containers)."""
    return [c for c in airflow_containers(objects) if c.component == component and not c.init]


def container(objects, component) -> Container:
    """The one main Airflow container of a component."""
    cs = containers(objects, component)
    if len(cs) != 1:
        raise PodEnvError(f"expected one {component} container, got {cs}")
    return cs[0]


def airflow_cfg(root):
    """The rendered airflow.cfg under a materialized pod root, parsed."""
    import configparser
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read_string((Path(root) / "opt/airkube/config/airflow.cfg").read_text())
    return cfg


# --- Secrets and ConfigMaps -------------------------------------------------------------------

def _manifest_secret(objects, name, key):
    o = find(objects, "Secret", name)
    if o is None:
        return None
    if key in (o.get("stringData") or {}):
        return o["stringData"][key]
    if key in (o.get("data") or {}):
        return base64.b64decode(o["data"][key]).decode()
    return None


def _manifest_configmap(objects, name, key):
    o = find(objects, "ConfigMap", name)
    if o is None:
        return None
    if key in (o.get("data") or {}):
        return o["data"][key]
    if key in (o.get("binaryData") or {}):
        return base64.b64decode(o["binaryData"][key]).decode()
    return None


class _Sources:
    """Looks Secret and ConfigMap keys up: the given dicts first, then the manifest's objects."""

    def __init__(self, objects, secrets, configmaps):
        self.objects, self.secrets, self.configmaps = objects, secrets or {}, configmaps or {}

    def secret(self, name, key):
        if (name, key) in self.secrets:
            return self.secrets[(name, key)]
        return _manifest_secret(self.objects, name, key)

    def configmap(self, name, key):
        if (name, key) in self.configmaps:
            return self.configmaps[(name, key)]
        return _manifest_configmap(self.objects, name, key)

    def keys(self, kind, name):
        src = self.secrets if kind == "Secret" else self.configmaps
        keys = {k for (n, k) in src if n == name}
        o = find(self.objects, kind, name)
        if o is not None:
            for f in ("data", "stringData", "binaryData"):
                keys |= set((o.get(f) or {}).keys())
        return sorted(keys)

    def exists(self, kind, name):
        src = self.secrets if kind == "Secret" else self.configmaps
        return find(self.objects, kind, name) is not None or any(n == name for (n, _) in src)


# --- env ------------------------------------------------------------------------------------------

_VAR_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def _expand(value: str, env: dict) -> str:
    """Kubernetes' $(VAR) expansion: defined vars expand, $$ escapes, unknown refs stay as is."""
    def sub(m):
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))
    return _VAR_REF.sub(sub, value)


def _field_ref(path: str, c: Container, namespace: str) -> str:
    meta = c.pod_meta
    simple = {
        "metadata.name": c.pod_name,
        "metadata.namespace": namespace,
        "metadata.uid": FAKE_POD_UID,
        "spec.nodeName": FAKE_NODE,
        "spec.serviceAccountName": c.pod_spec.get("serviceAccountName", "default"),
        "status.hostIP": FAKE_HOST_IP,
        "status.hostIPs": FAKE_HOST_IP,
        "status.podIP": FAKE_POD_IP,
        "status.podIPs": FAKE_POD_IP,
    }
    if path in simple:
        return simple[path]
    m = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
    if m:
        return str((meta.get(m.group(1)) or {}).get(m.group(2), ""))
    raise PodEnvError(f"{c}: fieldRef {path} is not supported")


def _service_links(objects, namespace) -> dict:
    """The env the kubelet adds for each Service (fake cluster IPs) and the API server."""
    env = {}

    def add(svc, ip, ports):
        prefix = svc.upper().replace("-", "_")
        if not ports:
            return
        env[f"{prefix}_SERVICE_HOST"] = ip
        env[f"{prefix}_SERVICE_PORT"] = str(ports[0]["port"])
        for p in ports:
            proto = p.get("protocol", "TCP")
            if p.get("name"):
                env[f"{prefix}_SERVICE_PORT_{p['name'].upper().replace('-', '_')}"] = str(p["port"])
            base = f"{prefix}_PORT_{p['port']}_{proto}"
            env[base] = f"{proto.lower()}://{ip}:{p['port']}"
            env[base + "_PROTO"] = proto.lower()
            env[base + "_PORT"] = str(p["port"])
            env[base + "_ADDR"] = ip
        env[f"{prefix}_PORT"] = f"{ports[0].get('protocol', 'TCP').lower()}://{ip}:{ports[0]['port']}"

    add("kubernetes", "10.96.0.1", [{"name": "https", "port": 443}])
    i = 10
    for o in objects:
        if o.get("kind") == "Service":
            i += 1
            add(o["metadata"]["name"], f"10.96.0.{i}", o["spec"].get("ports", []))
    return env


def container_env(objects, c: Container, secrets=None, configmaps=None, namespace=None) -> dict:
    """The container's env as Kubernetes builds it (without image ENV): service links, envFrom, env."""
    src = _Sources(objects, secrets, configmaps)
    namespace = namespace or release_namespace(objects)
    env: dict[str, str] = {"HOSTNAME": c.pod_name}
    if c.pod_spec.get("enableServiceLinks", True):
        env.update(_service_links(objects, namespace))
    else:
        env.update({k: v for k, v in _service_links([], namespace).items()})
    for ef in c.container.get("envFrom", []) or []:
        prefix = ef.get("prefix", "")
        for kind, ref in (("ConfigMap", ef.get("configMapRef")), ("Secret", ef.get("secretRef"))):
            if not ref:
                continue
            if not src.exists(kind, ref["name"]):
                if ref.get("optional"):
                    continue
                raise PodEnvError(f"{c}: envFrom {kind} {ref['name']} not found (give it in secrets/configmaps)")
            for k in src.keys(kind, ref["name"]):
                v = src.secret(ref["name"], k) if kind == "Secret" else src.configmap(ref["name"], k)
                env[prefix + k] = v
    for e in c.container.get("env", []) or []:
        name = e["name"]
        if "valueFrom" not in e:
            env[name] = _expand(str(e.get("value", "")), env)
            continue
        vf = e["valueFrom"]
        if "secretKeyRef" in vf:
            r = vf["secretKeyRef"]
            v = src.secret(r["name"], r["key"])
            if v is None:
                if r.get("optional"):
                    continue
                raise PodEnvError(f"{c}: env {name}: Secret {r['name']} key {r['key']} not given")
        elif "configMapKeyRef" in vf:
            r = vf["configMapKeyRef"]
            v = src.configmap(r["name"], r["key"])
            if v is None:
                if r.get("optional"):
                    continue
                raise PodEnvError(f"{c}: env {name}: ConfigMap {r['name']} key {r['key']} not given")
        elif "fieldRef" in vf:
            v = _field_ref(vf["fieldRef"]["fieldPath"], c, namespace)
        else:
            raise PodEnvError(f"{c}: env {name}: valueFrom {sorted(vf)} is not supported")
        env[name] = v
    # What a custom image adds to the Airflow image: its own Python packages, as installed in it.
    for prefix, path in IMAGE_PACKAGES.items():
        if c.container.get("image", "").startswith(prefix + ":"):
            env["PYTHONPATH"] = ":".join(p for p in (env.get("PYTHONPATH", ""), str(path)) if p)
    return env


# The Python packages of the test suite's custom images, by image name (without tag): the weather
# company's own image carries its executor (the `wx` package).
IMAGE_PACKAGES = {
    "registry.example.com/weather/airflow-wx": Path(__file__).resolve().parent / "images" / "airflow-wx",
}


# --- volumes ---------------------------------------------------------------------------------------

def _volume_files(src: _Sources, c: Container, vol: dict) -> dict[str, str] | None:
    """The files a ConfigMap/Secret/projected volume holds (relative path -> text); None for dirs."""
    def from_source(kind, name, items, optional):
        get = src.secret if kind == "Secret" else src.configmap
        if not src.exists(kind, name):
            if optional:
                return {}
            raise PodEnvError(f"{c}: volume {vol['name']}: {kind} {name} not found (give it in secrets/configmaps)")
        if items:
            out = {}
            for it in items:
                v = get(name, it["key"])
                if v is None:
                    if optional:
                        continue
                    raise PodEnvError(f"{c}: volume {vol['name']}: {kind} {name} has no key {it['key']}")
                out[it["path"]] = v
            return out
        return {k: get(name, k) for k in src.keys(kind, name)}

    if "configMap" in vol:
        cm = vol["configMap"]
        return from_source("ConfigMap", cm["name"], cm.get("items"), cm.get("optional"))
    if "secret" in vol:
        s = vol["secret"]
        return from_source("Secret", s["secretName"], s.get("items"), s.get("optional"))
    if "projected" in vol:
        out = {}
        for s in vol["projected"].get("sources", []):
            if "configMap" in s:
                out.update(from_source("ConfigMap", s["configMap"]["name"], s["configMap"].get("items"),
                                       s["configMap"].get("optional")))
            elif "secret" in s:
                out.update(from_source("Secret", s["secret"]["name"], s["secret"].get("items"),
                                       s["secret"].get("optional")))
            elif "serviceAccountToken" in s:
                out[s["serviceAccountToken"]["path"]] = "fake-service-account-token"
            else:
                raise PodEnvError(f"{c}: projected source {sorted(s)} is not supported")
        return out
    return None  # emptyDir, persistentVolumeClaim, nfs, csi, hostPath ...: a folder


def materialize(objects, container: Container, secrets=None, root=None, *, configmaps=None,
                namespace=None) -> dict[str, str]:
    """The container's env, with its mounted files written under root (see the module doc).

    secrets: {(secret_name, key): value}; configmaps: {(configmap_name, key): value} for
    ConfigMaps the manifest doesn't hold (e.g. a CA bundle). Both override the manifest's objects.
    """
    if root is None:
        raise TypeError("materialize needs root")
    root = Path(root)
    src = _Sources(objects, secrets, configmaps)
    env = container_env(objects, container, secrets, configmaps, namespace)
    volumes = {v["name"]: v for v in container.pod_spec.get("volumes", []) or []}
    mounts = []
    for m in container.container.get("volumeMounts", []) or []:
        vol = volumes.get(m["name"])
        if vol is None:
            raise PodEnvError(f"{container}: volumeMount {m['name']} has no volume")
        mp = m["mountPath"]
        if not mp.startswith("/"):
            raise PodEnvError(f"{container}: mountPath {mp} is not absolute")
        dest = root / mp.lstrip("/")
        files = _volume_files(src, container, vol)
        sub = m.get("subPath")
        if files is None:
            dest.mkdir(parents=True, exist_ok=True)
        elif sub:
            if sub in files:
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(files[sub], encoding="utf-8")
            else:
                # subPath of a folder in the volume (a nested item path), or missing: a folder.
                nested = {p[len(sub) + 1:]: t for p, t in files.items() if p.startswith(sub + "/")}
                dest.mkdir(parents=True, exist_ok=True)
                for p, t in nested.items():
                    (dest / p).parent.mkdir(parents=True, exist_ok=True)
                    (dest / p).write_text(t, encoding="utf-8")
        else:
            dest.mkdir(parents=True, exist_ok=True)
            for p, t in files.items():
                (dest / p).parent.mkdir(parents=True, exist_ok=True)
                (dest / p).write_text(t, encoding="utf-8")
        mounts.append({"path": mp, "readOnly": bool(m.get("readOnly")), "file": bool(files is not None and sub in (files or {}))})
    (root / ".podenv.json").write_text(json.dumps({"container": repr(container), "mounts": mounts}, indent=1))
    return env


# --- running ----------------------------------------------------------------------------------------

def _venv_bin_path(venv) -> str:
    base = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    return f"{Path(venv) / 'bin'}:{base}" if venv else base


def namespace_script(root, mounts) -> str:
    """The sh script run() executes inside the new mount namespace before exec'ing argv."""
    root = Path(root).resolve()
    mounts = [m for m in mounts if m["path"].rstrip("/") != "/tmp"]  # the host's /tmp stands in (module doc)
    tops = sorted({Path(m["path"]).parts[1] for m in mounts if len(Path(m["path"]).parts) > 1})
    guarded = [Path(p).resolve() for p in (root, Path(__file__))]
    lines = ["set -e"]
    bound_direct = []
    for top in tops:
        host = Path("/") / top
        hides = any(g == host or host in g.parents for g in guarded)
        if top in _PROTECTED_TOPS or hides or not host.is_dir():
            # Bind each mount under this top by itself, where the host has the path.
            for m in mounts:
                p = Path(m["path"])
                if p.parts[1] != top:
                    continue
                if not p.exists():
                    raise PodEnvError(f"mount path {p}: /{top} can't be covered here and {p} doesn't exist on the host")
                lines.append(f"mount --bind {shlex.quote(str(root / m['path'].lstrip('/')))} {shlex.quote(str(p))}")
                bound_direct.append(str(p))
            continue
        lines.append(f"mount --bind {shlex.quote(str(root / top))} {shlex.quote(str(host))}")
    for m in mounts:
        if m["readOnly"]:
            p = shlex.quote(m["path"])
            if m["path"] not in bound_direct:
                lines.append(f"mount --bind {p} {p}")
            lines.append(f"mount -o remount,bind,ro {p}")
    return "\n".join(lines)


def run(env, root, argv, *, venv=None, image_env=True, **kw) -> subprocess.CompletedProcess:
    """Run argv in a private mount namespace where root's folders cover the rendered paths.

    The process gets exactly env, under IMAGE_ENV (image_env=False drops it), with PATH set to the
    venv's bin then the system's (unless env sets PATH). kw go to subprocess.run; by default output
    is captured as text and the cwd is root/.cwd. argv[0] is looked up on that PATH.
    """
    root = Path(root)
    meta = root / ".podenv.json"
    mounts = json.loads(meta.read_text())["mounts"] if meta.exists() else []
    full = dict(IMAGE_ENV) if image_env else {}
    full.update(env)
    full.setdefault("PATH", _venv_bin_path(venv))
    if "PATH" in env and venv:
        full["PATH"] = f"{Path(venv) / 'bin'}:{env['PATH']}"
    # HOME must exist and be writable for pip caches, matplotlib ... ; the image's /home/airflow.
    if mounts:
        home = root / full.get("HOME", "/home/airflow").lstrip("/")
        home.mkdir(parents=True, exist_ok=True)
        if not any(m["path"] == "/home" or m["path"].startswith("/home/") for m in mounts) and full.get("HOME", "").startswith("/home/"):
            mounts = mounts + [{"path": "/home", "readOnly": False, "file": False}]
    script = namespace_script(root, mounts)
    exe = argv[0]
    if "/" not in exe:
        for d in full["PATH"].split(":"):
            if d and os.access(os.path.join(d, exe), os.X_OK):
                exe = os.path.join(d, exe)
                break
    unset = "" if "PWD" in full else "-u PWD "
    cmd = ["/usr/bin/unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
           script + f'\nexec /usr/bin/env {unset}-- "$@"', "sh", exe, *argv[1:]]
    cwd = root / ".cwd"
    cwd.mkdir(exist_ok=True)
    kw.setdefault("cwd", str(cwd))
    if "stdout" not in kw and "stderr" not in kw:
        kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(cmd, env=full, **kw)


# --- venvs and rendering ------------------------------------------------------------------------------

def pinned_versions() -> list[str]:
    m = re.search(r'^AIRKUBE_AIRFLOW_VERSIONS="([^"]+)"', VERSIONS_ENV.read_text(), re.M)
    return m.group(1).split()


def pinned_version(version: str) -> str:
    """The pinned patch release of version's minor line (2.11.0 -> 2.11.2, 3.3 -> 3.3.2)."""
    minor = ".".join(str(version).split(".")[:2])
    for v in pinned_versions():
        if ".".join(v.split(".")[:2]) == minor:
            return v
    raise PodEnvError(f"no pinned Airflow for {version} (pinned: {' '.join(pinned_versions())})")


@functools.lru_cache(maxsize=None)
def venv_for(version: str) -> Path:
    """The cached venv with the real Airflow of version's minor line (hack/airflow/venv.sh)."""
    v = pinned_version(version)
    p = subprocess.run([str(VENV_SH), v], capture_output=True, text=True)
    if p.returncode != 0:
        raise PodEnvError(f"venv.sh {v} failed:\n{p.stderr[-3000:]}")
    return Path(p.stdout.strip().splitlines()[-1])


AIRKUBE_BIN = REPO / "bin" / "airkube"
_built = False


def build_airkube() -> Path:
    """go build bin/airkube once per test session (a file lock keeps parallel workers apart)."""
    global _built
    if _built:
        return AIRKUBE_BIN
    AIRKUBE_BIN.parent.mkdir(exist_ok=True)
    with open(AIRKUBE_BIN.parent / ".airkube-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        p = subprocess.run(["go", "build", "-o", str(AIRKUBE_BIN), "./generator/cmd/airkube"],
                           cwd=REPO, capture_output=True, text=True)
        if p.returncode != 0:
            raise PodEnvError(f"go build failed:\n{p.stderr}")
    _built = True
    return AIRKUBE_BIN


def spec_template(name, body, *, namespace=None, executor="LocalExecutor", image="apache/airflow:{version}",
                  airflow=None) -> str:
    """The spec a test renders, as a str.format template: the header every test shares (its release on the
    harness's PostgreSQL, the password in Secret airflow-db) and then body, the test's own top-level YAML.

    The template's fields are {version}, {pg_host}, {pg_port}, {database} and {pg_user}, with any the
    arguments or body add ({namespace}, ...); literal braces are doubled, as in every str.format template.
    airflow replaces the `airflow:` line with a block of the test's own.
    """
    if airflow is None:
        airflow = 'airflow: {{version: "{version}", image: "%s"}}\n' % image
    return ("apiVersion: airkube/v1alpha1\n"
            "kind: AirflowRelease\n"
            "metadata: {{name: %s, namespace: %s}}\n" % (name, namespace or name) + airflow +
            "executor: %s\n" % executor +
            "database:\n"
            "  type: postgres\n"
            "  host: {pg_host}\n"
            "  port: {pg_port}\n"
            "  name: {database}\n"
            "  user: {pg_user}\n"
            "  passwordSecret: {{name: airflow-db, key: password}}\n" + body)


def render(spec, overlays=(), out=None) -> list[dict]:
    """Render a spec (YAML text, or a path) with overlay folders; returns the manifest's objects.

    Relative paths are taken from the repository root. out: where to render (a temp dir if None).
    """
    binary = build_airkube()
    tmp = Path(out) if out else Path(tempfile.mkdtemp(prefix="airkube-render-"))
    tmp.mkdir(parents=True, exist_ok=True)
    if isinstance(spec, Path) or ("\n" not in str(spec) and (REPO / str(spec)).exists()):
        spec_path = REPO / spec if not Path(spec).is_absolute() else Path(spec)
    else:
        spec_path = tmp / "spec.yaml"
        spec_path.write_text(str(spec))
    args = [str(binary), "render", "-f", str(spec_path), "--out", str(tmp / "out")]
    for o in overlays:
        args += ["--overlay", str(REPO / o if not Path(o).is_absolute() else o)]
    p = subprocess.run(args, cwd=REPO, capture_output=True, text=True)
    if p.returncode != 0:
        raise PodEnvError(f"airkube render failed:\n{p.stdout}{p.stderr}")
    manifests = sorted((tmp / "out").glob("*.yaml"))
    if len(manifests) != 1:
        raise PodEnvError(f"expected one manifest in {tmp / 'out'}, got {manifests}")
    return load_manifest(manifests[0])


# --- golden cases and test inputs ----------------------------------------------------------------

@dataclass
class Case:
    name: str
    dir: Path

    @property
    def manifest(self) -> Path:
        return self.dir / "manifest.yaml"

    @functools.cached_property
    def objects(self) -> list[dict]:
        return load_manifest(self.manifest)

    @property
    def version(self) -> str:
        return release_version(self.objects)

    def spec(self) -> dict:
        """The case's spec (spec.yaml, or the spec case.yaml names, without overlays)."""
        if (self.dir / "spec.yaml").exists():
            return yaml.safe_load((self.dir / "spec.yaml").read_text())
        c = yaml.safe_load((self.dir / "case.yaml").read_text())
        return yaml.safe_load((REPO / c["spec"]).read_text())

    def __repr__(self):
        return self.name


def golden_cases() -> list[Case]:
    return [Case(d.name, d) for d in sorted(GOLDEN.iterdir()) if (d / "manifest.yaml").exists()]


def case(name) -> Case:
    for c in golden_cases():
        if c.name == name:
            return c
    raise PodEnvError(f"no golden case {name}")


# Test values of every secret the chart reads. The DB password has every URI-special character.
TEST_DB_PASSWORD = "p@ss:w/rd%#?&"
TEST_FERNET_KEY = base64.urlsafe_b64encode(b"airkube-test-fernet-key-32bytes!").decode()
TEST_SECRET_KEY = "test-api-secret-key-0123456789"
TEST_JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789abcdef0123456789abcdef"
TEST_BROKER_URL = "redis://:r3d%21s%3Ap%40ss%2Fword@127.0.0.1:56379/0"
TEST_CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBdGVzdA==\n-----END CERTIFICATE-----\n"

# What each env name that reads a Secret means, and its test value.
_ENV_SECRET_VALUES = {
    "AIRFLOW__CORE__FERNET_KEY": lambda o: o["fernet_key"],
    "AIRFLOW__API__SECRET_KEY": lambda o: o["secret_key"],
    "AIRFLOW__WEBSERVER__SECRET_KEY": lambda o: o["secret_key"],
    "AIRFLOW__API_AUTH__JWT_SECRET": lambda o: o["jwt_secret"],
    "AIRKUBE_DB_PASSWORD": lambda o: o["db_password"],
    "AIRKUBE_DB_URI": lambda o: o["db_uri"],
    "AIRFLOW__CELERY__BROKER_URL": lambda o: o["broker_url"],
    "REDIS_PASSWORD": lambda o: o["redis_password"],
    "AIRKUBE_USER_PASSWORD": lambda o: o["user_password"],
    "AIRFLOW_CONN": lambda o: "generic://test:t%40st@conn.example.com:1234",
    "AIRFLOW_VAR": lambda o: "test-variable",
    # airflow.secretsBackend's kwargs: the files LocalFilesystemBackend reads, empty ones.
    "AIRFLOW__SECRETS__BACKEND_KWARGS": lambda o: '{"connections_file_path": "/dev/null", "variables_file_path": "/dev/null"}',
}


def test_inputs(objects, *, db_password=TEST_DB_PASSWORD, db_uri=None, broker_url=TEST_BROKER_URL,
                fernet_key=TEST_FERNET_KEY, secret_key=TEST_SECRET_KEY, jwt_secret=TEST_JWT_SECRET,
                redis_password="r3d!s:p@ss/word", ca_pem=TEST_CA_PEM, user_password="us3r p@ss:w/rd\"'"):
    """(secrets, configmaps) with a test value for every Secret key and outside ConfigMap the
    release's containers read, chosen by what the env var that reads it means.

    Raises PodEnvError if one Secret key is read under two meanings (e.g. the same key as the
    fernet key and the secret key), which would be a chart bug. db_uri defaults to a URI of
    db_password on a placeholder host (URL-encoded).
    """
    from urllib.parse import quote
    vals = dict(db_password=db_password, broker_url=broker_url, fernet_key=fernet_key,
                secret_key=secret_key, jwt_secret=jwt_secret, redis_password=redis_password, user_password=user_password,
                db_uri=db_uri or f"postgresql+psycopg2://airflow:{quote(db_password, safe='')}@db.example.com:5432/airflow")
    secrets, meaning, configmaps = {}, {}, {}
    for o in objects:
        kind = o.get("kind")
        if kind not in ("Deployment", "StatefulSet", "Job", "DaemonSet"):
            continue
        spec = o["spec"]["template"]["spec"]
        pods = [spec]
        for pod_spec in pods:
            for c in (pod_spec.get("initContainers") or []) + pod_spec["containers"]:
                for e in c.get("env", []) or []:
                    r = (e.get("valueFrom") or {}).get("secretKeyRef")
                    # auth.users' passwords: AIRKUBE_USER_PASSWORD_<index>, one meaning.
                    name = re.sub(r"^AIRKUBE_USER_PASSWORD_\d+$", "AIRKUBE_USER_PASSWORD", e["name"])
                    # airflow.connections and airflow.variables: one meaning each.
                    name = re.sub(r"^AIRFLOW_(CONN|VAR)_.+$", r"AIRFLOW_\1", name)
                    if r and name in _ENV_SECRET_VALUES:
                        k = (r["name"], r["key"])
                        if meaning.get(k, name) != name and not {meaning[k], name} <= {"AIRFLOW__API__SECRET_KEY", "AIRFLOW__WEBSERVER__SECRET_KEY"}:
                            raise PodEnvError(f"Secret {k} is read as {meaning[k]} and as {name}")
                        meaning[k] = name
                        secrets[k] = _ENV_SECRET_VALUES[name](vals)
    # The bundled Redis' URL secret: built from the password like the chart does.
    for o in objects:
        if o.get("kind") == "Secret" and "url" in (o.get("data") or {}) and "password" in (o.get("data") or {}):
            secrets.setdefault((o["metadata"]["name"], "password"), redis_password)
    # Outside ConfigMaps/Secrets mounted as volumes (the Kubernetes API's CA bundle).
    for c in airflow_containers(objects):
        vols = list(c.pod_spec.get("volumes", []) or [])
        # A projected volume's ConfigMap and Secret sources (the kube-api volume: CA bundle).
        for v in list(vols):
            for src in (v.get("projected") or {}).get("sources", []):
                if "configMap" in src:
                    vols.append({"configMap": src["configMap"]})
                elif "secret" in src:
                    vols.append({"secret": {"secretName": src["secret"]["name"], "items": src["secret"].get("items")}})
        for v in vols:
            if "configMap" in v and find(objects, "ConfigMap", v["configMap"]["name"]) is None:
                for it in v["configMap"].get("items") or [{"key": "ca.crt"}]:
                    configmaps[(v["configMap"]["name"], it["key"])] = ca_pem
            if "secret" in v and find(objects, "Secret", v["secret"]["secretName"]) is None:
                for it in v["secret"].get("items") or [{"key": "ca.crt"}]:
                    secrets[(v["secret"]["secretName"], it["key"])] = ca_pem
        for ef in c.container.get("envFrom", []) or []:
            if ef.get("secretRef") and find(objects, "Secret", ef["secretRef"]["name"]) is None:
                secrets.setdefault((ef["secretRef"]["name"], "TEST_KEY"), "test")
    return secrets, configmaps


test_inputs.__test__ = False  # not a pytest test
