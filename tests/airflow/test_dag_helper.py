"""The DAG authors' helper (airkube.py on PYTHONPATH), used by a DAG parsed by the real Airflow.

In the materialized scheduler, dag-processor (3.x) and worker of a case, the real Airflow's
DagBag parses a DAG that puts one task in each task group with `**airkube.task_group(name)` and
one with a wrong group name; probes/dagbag_probe.py reports each task's queue, executor and
executor_config and the import errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import podenv

PROBE = Path(__file__).resolve().parent / "probes" / "dagbag_probe.py"

DAG = '''
import pendulum
try:
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:
    from airflow.operators.bash import BashOperator
try:
    from airflow.sdk import DAG
except ImportError:
    from airflow import DAG
import airkube

with DAG("routing", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
    for name in GROUPS:
        BashOperator(task_id="t_" + name, bash_command="true", **airkube.task_group(name))
    BashOperator(task_id="plain", bash_command="true")
'''

BAD_DAG = '''
import pendulum
try:
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:
    from airflow.operators.bash import BashOperator
try:
    from airflow.sdk import DAG
except ImportError:
    from airflow import DAG
import airkube

with DAG("wrong_group", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
    BashOperator(task_id="t", bash_command="true", **airkube.task_group("no-such-group"))
'''

CASES = ["celery-kubernetes-3.3", "celery-kubernetes-2.11", "kubernetes-3.3"]


def _params():
    out = []
    for name in CASES:
        case = podenv.case(name)
        for c in podenv.airflow_containers(case.objects):
            if c.component in ("scheduler", "dag-processor", "worker"):
                out.append(pytest.param(case, c.workload, id=f"{name}/{c.workload}",
                                        marks=pytest.mark.xdist_group("dag-" + name)))
    return out


def _groups(case):
    spec = case.spec()
    executors = [e.strip() for e in spec["executor"].split(",")]
    first = executors[0]
    out = {}
    for g in spec.get("taskGroups") or [{"name": "default"}]:
        ex = g.get("executor", first)
        if ex == "CeleryKubernetesExecutor":
            ex = "CeleryExecutor"
        out[g["name"]] = ex
    return executors, out


@pytest.mark.parametrize("case,workload", _params())
def test_task_group_helper(case, workload, tmp_path):
    objs = case.objects
    c = next(x for x in podenv.airflow_containers(objs) if x.workload == workload)
    secrets, cms = podenv.test_inputs(objs)
    env = podenv.materialize(objs, c, secrets, tmp_path, configmaps=cms)
    executors, groups = _groups(case)
    dags = tmp_path / "opt/airflow/dags"
    (dags / "routing.py").write_text(DAG.replace("GROUPS", repr(list(groups))))
    (dags / "wrong_group.py").write_text(BAD_DAG)
    out = tmp_path / ".cwd" / "dagbag.json"
    (tmp_path / ".cwd").mkdir(exist_ok=True)
    p = podenv.run(env, tmp_path, ["python", str(PROBE), str(out)], venv=podenv.venv_for(case.version), timeout=300)
    assert p.returncode == 0, f"{c}: DagBag probe failed:\n{p.stderr[-3000:]}"
    r = json.loads(out.read_text())

    # The wrong name fails the import, naming the release's groups.
    errs = r["import_errors"]
    assert set(Path(k).name for k in errs) == {"wrong_group.py"}, f"import errors: {json.dumps(errs, indent=1)}"
    msg = next(iter(errs.values()))
    want = "airkube: unknown task group 'no-such-group'; this release's groups are: " + ", ".join(sorted(groups))
    assert want in msg, msg

    tasks = r["dags"]["routing"]
    multi = len(executors) > 1
    celery_kubernetes = executors == ["CeleryKubernetesExecutor"]
    for name, ex in groups.items():
        t = tasks["t_" + name]
        if ex == "CeleryExecutor":
            assert t["queue"] == name, f"{name}: queue {t['queue']}"
            assert t["executor"] in (None, executors[0]) and not t["executor_config"], t
        elif ex == "KubernetesExecutor":
            tmpl = f"/opt/airkube/pod-templates/{name}.yaml"
            assert t["executor_config"] == {"pod_template_file": tmpl}, t
            if celery_kubernetes:
                # CeleryKubernetesExecutor routes by queue: the one Airflow reads for it.
                assert t["queue"] == r["kubernetes_queue"] == "kubernetes", t
                assert t["executor"] is None, t
            elif multi and executors[0] != "KubernetesExecutor":
                assert t["executor"] == "KubernetesExecutor", t
                assert "KubernetesExecutor" in r["executor_names"], r["executor_names"]
            else:
                assert t["executor"] is None, t
            if c.component == "scheduler":
                # The scheduler is who reads the template: it must be mounted there.
                assert (tmp_path / tmpl.lstrip("/")).is_file(), f"{tmpl} not mounted in {c}"
        else:
            assert t["executor"] in (None, ex), t
    # A task without a group goes to the default queue; with Celery some worker must listen to
    # every queue the helper hands out.
    assert tasks["plain"]["queue"] == r["default_queue"]
    if any(ex == "CeleryExecutor" for ex in groups.values()):
        listened = set()
        for o in objs:
            if o.get("kind") == "Deployment" and o["metadata"]["labels"].get("app.kubernetes.io/component") == "worker":
                args = o["spec"]["template"]["spec"]["containers"][0]["args"]
                listened |= set(args[args.index("--queues") + 1].split(","))
        used = {t["queue"] for t in tasks.values() if not t["executor_config"]}
        assert used <= listened, f"queues {sorted(used - listened)} have no worker (workers listen to {sorted(listened)})"
