"""The UI of a rendered Airflow 3 release, started for real: the one way the tests start it.

An api-server pod is played as Kubernetes would run it: its rendered `auth-passwords` init
container writes the passwords file from the users' Secret (podenv: its exact args, env and
mounts), then the rendered api-server container starts as a host process under the same pod root,
on a free port (the only override: every process shares the host's network), and is ready when its
rendered startupProbe passes. `migrate` runs the migration Job's container first; `start` runs any
other component (the dag-processor that puts DAGs in the database the UI lists).

Used by test_auth.py (REST logins) and test_browser.py (the login form in Chromium).
"""
import shutil
import stat
import time
from pathlib import Path

import podenv
from kube_fixture import free_port, http_ok, probe_url, wait_for

# Where the auth-passwords init container writes, and the api-server reads, the passwords.
PASSWORDS_FILE = "/opt/airkube/auth/passwords.json"


def api_server(objects, fab=False):
    """(the api-server container, its pod's auth-passwords init container, or None with FAB)."""
    api = podenv.containers(objects, "api-server")
    assert len(api) == 1, "expected one api-server container, got %r" % api
    api = api[0]
    # The init container is no Airflow container (no Airflow config or secrets): taken from the pod.
    init = [podenv.Container(api.workload, api.component, None, c, api.pod_spec, api.pod_meta, init=True)
            for c in api.pod_spec.get("initContainers", []) if c["name"] == "auth-passwords"]
    if fab:  # FAB's users are in the database: the users Job writes them
        assert not init, "a FAB api-server pod has an auth-passwords init container"
        return api, None
    assert len(init) == 1, "the api-server pod has no auth-passwords init container"
    return api, init[0]


def migrate(objects, secrets, root, venv):
    """Runs the migration Job's container (`airflow db migrate`) to completion."""
    job = podenv.containers(objects, "migrate")[0]
    env = podenv.materialize(objects, job, secrets, root)
    t = time.monotonic()
    p = podenv.run(env, root, job.container["args"], venv=venv, timeout=600)
    assert p.returncode == 0, "%s failed:\n%s%s" % (job.container["args"], p.stdout[-3000:], p.stderr[-3000:])
    print("db migrate: %.1fs" % (time.monotonic() - t))


def start_api_server(objects, secrets, root, venv, procs, name="api-server", hidden=(), fab=False, configmaps=None,
                     port=None):
    """One api-server pod: the init container writes the passwords file (not with FAB), then Airflow starts.

    hidden: strings (the passwords) the init container must not print; configmaps: the user's
    ConfigMaps the pod mounts (podenv.materialize); port: the one to listen on (default a free one).
    Returns (the process, its base URL) once the rendered startupProbe passes.
    """
    api, init = api_server(objects, fab)
    root = Path(root)
    if init is not None:
        ienv = podenv.materialize(objects, init, secrets, root)
        t = time.monotonic()
        p = podenv.run(ienv, root, init.container["args"], venv=venv, timeout=120)
        assert p.returncode == 0, "auth-passwords failed:\n%s%s" % (p.stdout, p.stderr)
        for s in hidden:
            assert s not in p.stdout + p.stderr, "auth-passwords printed a password"
        print("%s: auth-passwords ran in %.1fs: %s" % (name, time.monotonic() - t, p.stdout.strip()))
        pwfile = root / PASSWORDS_FILE.lstrip("/")
        assert stat.S_IMODE(pwfile.stat().st_mode) == 0o600, oct(pwfile.stat().st_mode)
    env = podenv.materialize(objects, api, secrets, root, configmaps=configmaps)
    port = port or free_port()
    env["AIRFLOW__API__PORT"] = str(port)
    proc = procs.start(name, env, root, api.container["args"], venv)
    t = time.monotonic()
    wait_for("%s's rendered startupProbe" % name, lambda: http_ok(probe_url(api, "startupProbe", port)), 240, procs=procs)
    print("%s: started in %.1fs" % (name, time.monotonic() - t))
    return proc, "http://127.0.0.1:%d" % port


def dags_folder(root):
    """The DAGs folder (core.dags_folder of the rendered airflow.cfg) under a materialized pod root."""
    return Path(root) / podenv.airflow_cfg(root)["core"]["dags_folder"].lstrip("/")


def start(objects, component, secrets, root, venv, procs, dags=(), env_overrides=None):
    """Starts a component's rendered container with its pod's env and files under root.

    dags: DAG files copied into its DAGs folder first (what the NAS holds).
    """
    c = podenv.container(objects, component)
    env = podenv.materialize(objects, c, secrets, root)
    env.update(env_overrides or {})
    for dag in dags:
        folder = dags_folder(root)
        folder.mkdir(parents=True, exist_ok=True)  # a DAGs folder baked into the image is no mount
        shutil.copy(dag, folder)
    return procs.start(component, env, root, c.container["args"], venv)
