"""Every golden case's rendered configuration, read by the real Airflow of its version.

For each Airflow container (api-server/webserver, scheduler, dag-processor, triggerer, each Celery
worker, the migration Job, each task pod template) the container is materialized (podenv) with
test secrets and probes/config_probe.py runs in it with that version's venv: the values Airflow
resolves (`_cmd` settings run, so db_uri.py runs for real), the options Airflow doesn't know or
deprecates, and `airflow config list`, `airflow config get-value database sql_alchemy_conn` and
`airflow config lint` through Airflow's own CLI parser. Airflow runs once per distinct
(env without HOSTNAME, mounted files) of a case: containers with identical inputs get identical
answers, and the per-container checks (mounts, files) still look at each container.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import urllib.parse
from pathlib import Path

import pytest
import yaml

import podenv

PROBE = Path(__file__).resolve().parent / "probes" / "config_probe.py"
CASES = podenv.golden_cases()

# Keys whose value must be the same in every Airflow container of a release.
SHARED = ["core.executor", "core.dags_folder", "logging.base_log_folder", "database.sql_alchemy_conn",
          "core.fernet_key", "celery.broker_url", "celery.result_backend", "core.execution_api_server_url",
          "api.secret_key", "api_auth.jwt_secret", "webserver.secret_key", "kubernetes_executor.namespace",
          "kubernetes_executor.pod_template_file", "kubernetes_executor.in_cluster"]

# `airflow config lint` items accepted, with why: lint flags every non-default value of a key
# whose default changed in 3.0; the executor is the spec's explicit choice.
LINT_ACCEPTED = [re.compile(r"^Changed default value of `executor` in `core` from `SequentialExecutor` to `LocalExecutor`")]

# Warnings Airflow prints that are about a config key (unknown, renamed, moved, deprecated, missing).
CONFIG_WARNING = re.compile(
    r"option in \[|section/key \[|has been (renamed|moved)|deprecated.*(option|section|config)|"
    r"(option|section|config)[^\n]*deprecated|is not a valid|unknown (option|key|section)|"
    r"configuration (option|parameter)", re.I)


def _deep_merge(base, over):
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = _deep_merge(base.get(k), v)
        return out
    return copy.deepcopy(over)


def spec_of(case) -> dict:
    """The case's spec with its overlays merged (maps only: enough for what is checked here)."""
    if (case.dir / "spec.yaml").exists():
        return yaml.safe_load((case.dir / "spec.yaml").read_text())
    c = yaml.safe_load((case.dir / "case.yaml").read_text())
    spec = yaml.safe_load((podenv.REPO / c["spec"]).read_text())
    for o in c.get("overlays", []) or []:
        ov = yaml.safe_load((podenv.REPO / o / "overlay.yaml").read_text()) or {}
        ov.pop("taskGroups", None)
        spec = _deep_merge(spec, ov)
    return spec


def expected(case) -> dict:
    """What the spec says each checked key must be."""
    s = spec_of(case)
    major = int(case.version.split(".")[0])
    ns = s["metadata"]["namespace"]
    executors = [e.strip() for e in s["executor"].split(",")]
    dags = (s.get("storage") or {}).get("dags") or {}
    logs = (s.get("storage") or {}).get("logs") or {}
    dags_mount = dags.get("mountPath", "/opt/airflow/dags")
    dags_folder = dags_mount
    if dags.get("gitSync"):
        dags_folder = (dags_mount + "/repo/" + dags["gitSync"].get("subPath", "").strip("/")).rstrip("/")
    db = s["database"]
    exp = {
        "core.executor": s["executor"],
        "core.dags_folder": dags_folder,
        "logging.base_log_folder": logs.get("mountPath", "/opt/airflow/logs"),
        "core.fernet_key": podenv.TEST_FERNET_KEY,
        "_major": major, "_executors": executors, "_ns": ns, "_db": db, "_dags_mount": dags_mount,
        "_remote_logs": bool(logs.get("remote")),
    }
    if major == 3:
        exp["api.secret_key"] = podenv.TEST_SECRET_KEY
        exp["api_auth.jwt_secret"] = podenv.TEST_JWT_SECRET
        base = (s.get("ui") or {}).get("baseURL", "")
        path = urllib.parse.urlsplit(base).path.rstrip("/") if base else ""
        exp["core.execution_api_server_url"] = f"http://{s['metadata']['name']}-api-server.{ns}:8080{path}/execution/"
    else:
        exp["webserver.secret_key"] = podenv.TEST_SECRET_KEY
    if "CeleryExecutor" in executors or "CeleryKubernetesExecutor" in executors:
        exp["celery.broker_url"] = podenv.TEST_BROKER_URL
    if "KubernetesExecutor" in executors or "CeleryKubernetesExecutor" in executors:
        exp["kubernetes_executor.namespace"] = ns
        # The executor reads airkube's kubeconfig (server, CA, projected token): in_cluster off.
        exp["kubernetes_executor.in_cluster"] = "False"
        exp["kubernetes_executor.config_file"] = "/opt/airkube/kube/config"
        groups = [g for g in s.get("taskGroups") or [] if g.get("executor", executors[0]) in ("KubernetesExecutor",)]
        if groups:
            exp["kubernetes_executor.pod_template_file"] = f"/opt/airkube/pod-templates/{groups[0]['name']}.yaml"
        api = s.get("kubernetesAPI") or {}
        if api.get("caBundle"):
            exp["kubernetes_executor.ssl_ca_cert"] = "/opt/airkube/kube/ca.crt"
        if api.get("verifySSL") is False:
            exp["kubernetes_executor.verify_ssl"] = "False"
    return exp


PROBE_KEYS = sorted({k for c in CASES for k in expected(c) if not k.startswith("_")} |
                    {"database.sql_alchemy_conn", "celery.result_backend"})


def _container_params():
    out = []
    for case in CASES:
        for i, c in enumerate(podenv.airflow_containers(case.objects)):
            out.append(pytest.param(case, i, id=f"{case.name}/{c.workload}:{c.name}",
                                    marks=pytest.mark.xdist_group(case.name)))
    return out


# --- probing, cached per (case, container) within a worker ----------------------------------------

_results: dict = {}
_by_sig: dict = {}


def _split_framed(text: str) -> dict:
    """{'config list': output, ...} from the probe's framed stdout or stderr."""
    parts, cur = {}, None
    for line in text.splitlines():
        if line.startswith("@@airkube-probe@@ "):
            cur = line[len("@@airkube-probe@@ "):]
            parts[cur] = []
        elif cur is not None:
            parts[cur].append(line)
    parts.pop("end", None)
    return {k: "\n".join(v) for k, v in parts.items()}


def probe(case, index, tmp_path_factory, extra_env=None):
    """Materialize container index of case and run the config probe in it (cached).

    Containers whose env (but HOSTNAME) and mounted files are identical get the same answers
    from Airflow, so the probe (with the CLI commands) runs once per distinct input; the
    container-specific checks (mounts, files) still look at each container's own root.
    """
    key = (case.name, index, json.dumps(extra_env or {}, sort_keys=True))
    if key in _results:
        return _results[key]
    objs = case.objects
    c = podenv.airflow_containers(objs)[index]
    secrets, cms = podenv.test_inputs(objs)
    root = tmp_path_factory.mktemp(f"{case.name}-{index}")
    env = podenv.materialize(objs, c, secrets, root, configmaps=cms)
    env.update(extra_env or {})
    files = sorted((str(p.relative_to(root)), p.read_bytes()) for p in root.rglob("*") if p.is_file() and p.name != ".podenv.json")
    sig_env = {k: v for k, v in env.items() if k != "HOSTNAME"}
    sig = hashlib.sha256(repr((case.name, sorted(sig_env.items()), files)).encode()).hexdigest()[:16]
    first = _by_sig.get(sig)
    if first is None:
        cli = [["config", "list"], ["config", "get-value", "database", "sql_alchemy_conn"], ["config", "lint"]]
        keys = [k.split(".", 1) for k in PROBE_KEYS]
        out = root / ".cwd" / "probe.json"
        (root / ".cwd").mkdir(exist_ok=True)
        p = podenv.run(env, root, ["python", str(PROBE), str(out), json.dumps(keys), json.dumps(cli)],
                       venv=podenv.venv_for(case.version), timeout=300)
        first = {"container": c, "proc": p}
        if p.returncode == 0 and out.exists():
            first.update(json.loads(out.read_text()))
            first["cli_stdout"], first["cli_stderr"] = _split_framed(p.stdout), _split_framed(p.stderr)
        _by_sig[sig] = first
    r = dict(first, container=c, root=root, env=env, sig=sig, cli_of=first)
    _results[key] = r
    return r


def _needs_remote_log_provider(r) -> bool:
    return "No module named 'airflow.providers.amazon'" in r["proc"].stderr


def probe_or_explain(case, index, tmp_path_factory):
    """probe(), and for a case with remote logging the venv can't load (it lacks the amazon
    provider the apache/airflow image has), the same probe with remote logging off, noted."""
    r = probe(case, index, tmp_path_factory)
    if r["proc"].returncode != 0 and expected(case)["_remote_logs"] and _needs_remote_log_provider(r):
        override = {"AIRFLOW__LOGGING__REMOTE_LOGGING": "False"}
        print(f"{case.name}: the pinned venv has no apache-airflow-providers-amazon, which "
              f"remote logging to s3:// imports at start; probing with override {override}")
        r = probe(case, index, tmp_path_factory, override)
        r["override"] = override
    return r


# --- tests -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("case,index", _container_params())
def test_component_config(case, index, tmp_path_factory):
    r = probe_or_explain(case, index, tmp_path_factory)
    c, p, exp = r["container"], r["proc"], expected(case)
    assert p.returncode == 0, f"{c}: the probe failed in real Airflow {case.version}:\n{p.stderr[-4000:]}"
    assert r["airflow_version"] == podenv.pinned_version(case.version)
    problems = []

    def check(key, want):
        got = r["values"].get(key, r["errors"].get(key))
        if got != want:
            problems.append(f"{key}: Airflow reads {got!r}, the spec says {want!r}")

    for k, want in exp.items():
        if not k.startswith("_"):
            check(k, want)
    # The metadata DB URI, as SQLAlchemy parses it.
    db, u = exp["_db"], r.get("db_url")
    if u is None:
        problems.append(f"database.sql_alchemy_conn doesn't parse: {r.get('db_url_error')}")
    else:
        if u["password"] != podenv.TEST_DB_PASSWORD:
            problems.append(f"DB password decodes to {u['password']!r}, the Secret holds {podenv.TEST_DB_PASSWORD!r}")
        want_driver = {"postgres": "postgresql+psycopg2", "mysql": "mysql+mysqldb"}[db["type"]]
        if u["drivername"] != want_driver:
            problems.append(f"DB driver {u['drivername']!r}, want {want_driver!r}")
        if "host" in db:
            want_port = db.get("port", 5432 if db["type"] == "postgres" else 3306)
            for f, w in (("host", db["host"]), ("port", want_port), ("username", db["user"]), ("database", db["name"])):
                if u[f] != w:
                    problems.append(f"DB URI {f} {u[f]!r}, the spec says {w!r}")
            if db.get("sslMode"):
                q = "sslmode" if db["type"] == "postgres" else "ssl_mode"
                if u["query"].get(q) != db["sslMode"]:
                    problems.append(f"DB URI query {u['query']}, want {q}={db['sslMode']}")
        dc = r.get("db_connect", "")
        if not re.search(r"Connection refused|Can't connect to (MySQL )?server", dc):
            problems.append(f"the DB driver rejects the URI (want only 'connection refused' from a closed port): {dc[:300]}")
    if "celery.broker_url" in exp:
        rb = r["values"].get("celery.result_backend")
        if rb != "db+" + r["values"].get("database.sql_alchemy_conn", ""):
            problems.append(f"celery.result_backend {rb!r} is not db+<sql_alchemy_conn>")
    for k in ("hostname_error", "executors_error"):
        if r.get(k):
            problems.append(f"{k.split('_')[0]}: {r[k]}")
    # Keys Airflow doesn't know, deprecates, or `_cmd` on a key that doesn't accept it.
    for kind in ("unknown", "deprecated", "cmd_not_sensitive"):
        for item in r[kind]:
            problems.append(f"{kind} option: {item}")
    # Paths: the DAGs folder and the log folder are where this container mounts them.
    mounts = {m["mountPath"]: m for m in c.container.get("volumeMounts", [])}
    # The migration and users Jobs need the database only, not DAGs or logs.
    if c.component not in ("migrate", "users"):
        dm = exp["_dags_mount"]
        dags = (spec_of(case).get("storage") or {}).get("dags") or {}
        # A spec without DAG storage (or with dags.image) bakes the DAGs into the image.
        if dm not in mounts and any(k in dags for k in ("nfs", "csi", "existingClaim", "gitSync")):
            problems.append(f"{c} doesn't mount the DAGs at {dm}")
        if not (exp["core.dags_folder"] + "/").startswith(dm.rstrip("/") + "/"):
            problems.append(f"DAGs folder {exp['core.dags_folder']} is not under the DAGs mount {dm}")
        lm = mounts.get(exp["logging.base_log_folder"])
        if lm is None or lm.get("readOnly"):
            problems.append(f"{c} has no writable mount at the log folder {exp['logging.base_log_folder']}")
    if c.component == "scheduler":
        for key in ("kubernetes_executor.pod_template_file", "kubernetes_executor.ssl_ca_cert", "kubernetes_executor.config_file"):
            if key in exp:
                f = r["root"] / exp[key].lstrip("/")
                if not f.is_file():
                    problems.append(f"{key} {exp[key]} is not a file in the scheduler")
                elif key.endswith("pod_template_file"):
                    pod = yaml.safe_load(f.read_text())
                    if pod.get("kind") != "Pod" or not any(x["name"] == "base" for x in pod["spec"]["containers"]):
                        problems.append(f"{exp[key]} is not a Pod with a container named base")
    # Warnings about config keys, from loading and from the CLI.
    for line in p.stderr.splitlines():
        if CONFIG_WARNING.search(line) and "@@airkube-probe@@" not in line:
            problems.append(f"config warning: {line.strip()[:300]}")
    assert not problems, f"{c} (Airflow {case.version}{', override ' + str(r.get('override')) if r.get('override') else ''}):\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=pytest.mark.xdist_group(c.name)) for c in CASES])
def test_config_cli(case, tmp_path_factory):
    """`airflow config list`, `get-value database sql_alchemy_conn` and (3.x) `lint` are clean,
    for each distinct (env, files) among the release's Airflow containers."""
    n = len(podenv.airflow_containers(case.objects))
    assert n, f"{case.name}: the rendered release has no Airflow container to ask"
    firsts = {}
    for i in range(n):
        r = probe_or_explain(case, i, tmp_path_factory)
        assert r["proc"].returncode == 0, f"{r['container']}: probe failed:\n{r['proc'].stderr[-3000:]}"
        firsts.setdefault(id(r["cli_of"]), r["cli_of"])
    problems = []
    for r in firsts.values():
        c = r["container"]
        codes = {" ".join(x["argv"]): x["code"] for x in r["cli"]}
        if any(v != 0 for v in codes.values()):
            problems.append(f"{c}: CLI exit codes {codes}\n{r['proc'].stderr[-3000:]}")
            continue
        out, err = r["cli_stdout"], r["cli_stderr"]
        for cmd, text in err.items():
            for line in text.splitlines():
                if CONFIG_WARNING.search(line):
                    problems.append(f"{c}: `airflow {cmd}` warns: {line.strip()[:300]}")
        got = out["config get-value database sql_alchemy_conn"].strip()
        if got != r["values"]["database.sql_alchemy_conn"]:
            problems.append(f"{c}: `airflow config get-value database sql_alchemy_conn` printed {got!r}")
        if "[core]" not in out["config list"]:
            problems.append(f"{c}: `airflow config list` printed no [core] section")
        if expected(case)["_major"] == 3:
            lint = out["config lint"]
            items = [l.strip()[2:] for l in lint.splitlines() if l.strip().startswith("- ")]
            bad = [i for i in items if not any(a.search(i) for a in LINT_ACCEPTED)]
            if bad or ("No issues found" not in lint and not items):
                problems.append(f"{c}: `airflow config lint`:\n    " + "\n    ".join(bad or [lint]))
    print(f"{case.name}: {n} containers, {len(firsts)} distinct inputs: " + ", ".join(str(r["container"]) for r in firsts.values()))
    assert not problems, f"Airflow {case.version}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=pytest.mark.xdist_group(c.name)) for c in CASES])
def test_same_on_every_component(case, tmp_path_factory):
    """The keys every component must agree on have one value across the release."""
    n = len(podenv.airflow_containers(case.objects))
    # Every release runs at least a scheduler and a UI server: agreement among fewer checks nothing.
    assert n >= 2, f"{case.name}: {n} Airflow containers found, want the scheduler, the UI server and the rest"
    rs = [probe_or_explain(case, i, tmp_path_factory) for i in range(n)]
    failed = [str(r["container"]) for r in rs if r["proc"].returncode != 0]
    assert not failed, f"probe failed in {failed}"
    problems = []
    for key in SHARED:
        seen = {}
        for r in rs:
            v = r["values"].get(key, r["errors"].get(key))
            seen.setdefault(v, []).append(str(r["container"]))
        if len(seen) > 1:
            problems.append(f"{key} differs: " + "; ".join(f"{v!r} in {', '.join(cs)}" for v, cs in seen.items()))
    assert not problems, "\n".join(problems)
    if expected(case)["_major"] == 3:
        # The execution API URL names the api-server's Service on its port.
        url = urllib.parse.urlsplit(rs[0]["values"]["core.execution_api_server_url"])
        svc_name, ns = url.hostname.split(".", 1)
        svc = podenv.find(case.objects, "Service", svc_name)
        assert svc is not None, f"no Service {svc_name} for {url.geturl()}"
        assert ns == expected(case)["_ns"]
        assert any(p["port"] == url.port for p in svc["spec"]["ports"]), f"Service {svc_name} has no port {url.port}"
