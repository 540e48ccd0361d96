"""Item 4: the real KubernetesExecutor launches each task group's pod as the chart says.

A release with three Kubernetes task groups is rendered with its database on the local
PostgreSQL. The real `airflow db migrate` (the migration Job's args), `airflow scheduler` and,
on 3.x, `airflow dag-processor` (their Deployments' args) run on the host with the env and
files their containers would get (podenv), plus only the OVERRIDES below. The scheduler talks to
the local kwok control plane with the token of the ServiceAccount its pod would run as, so the
chart's Role is what allows (or refuses) each call, and it trusts the API server through the
rendered ssl_ca_cert file (the kwok CA, given as the spec's caBundle ConfigMap). A DAG sends one
task to each group with `airkube.task_group`; the pods the executor creates are then compared
with each group's pod template and spec: image, resources, nodeSelector, tolerations, DAG and
log mounts, env, the `base` container, and the node the real kube-scheduler put them on.
kwok never runs the containers, so the tasks stay running; that is all this test needs.
"""
import json
import shutil
import time
from pathlib import Path

import pytest
import yaml

import podenv
from kube_fixture import Processes, free_port, kube, rows, wait_for, wait_for_dag  # noqa: F401

DAG_DIR = Path(__file__).parent / "dags_b"
DAG_ID = "airkube_kubernetes_groups"

# The settings that must differ because Airflow runs on the host instead of in its pod; every
# other setting is the rendered one. Values in <> are filled in per run and printed.
OVERRIDES = {
    # No pod, so no service-account mount to load in-cluster config from ...
    "AIRFLOW__KUBERNETES_EXECUTOR__IN_CLUSTER": "False",
    # ... instead a kubeconfig holding the token of the scheduler's own ServiceAccount (what the
    # pod's automounted token is), with the API server's address, which a pod gets from env.
    "AIRFLOW__KUBERNETES_EXECUTOR__CONFIG_FILE": "<kubeconfig: scheduler ServiceAccount token>",
    # Every host process shares one network namespace; the health server gets a free port.
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": "<free port>",
}

SPEC = podenv.spec_template("kx", namespace="{namespace}", executor="KubernetesExecutor", image="registry.example.com/airflow:{version}-1", body="""\
storage:
  dags:
    nfs: {{server: nas.example.com, path: /airflow/dags}}
  logs:
    nfs: {{server: nas.example.com, path: /airflow/logs}}
kubernetesAPI:
  caBundle: {{configMap: cluster-ca, key: ca.crt}}
taskGroups:
  - name: default
  - name: fortran
    image: registry.example.com/weather/fortran-tools:2019.3
    resources: {{requests: {{cpu: "2", memory: 4Gi}}, limits: {{memory: 4Gi}}}}
    nodeSelector: {{pool: legacy}}
    tolerations: [{{key: legacy, operator: Exists, effect: NoSchedule}}]
    env: [{{name: FC, value: gfortran-4.8}}]
  - name: gis
    image: registry.example.com/weather/gdal-airflow:3.9
    resources: {{requests: {{cpu: "1", memory: 2Gi}}, limits: {{memory: 3Gi}}}}
    nodeSelector: {{pool: gis}}
    tolerations: [{{key: dedicated, operator: Equal, value: gis, effect: NoSchedule}}]
""")


def _start_component(objects, component, secrets, configmaps, tmp, venv, procs, overrides):
    """Materializes a component's container under its own root and starts its rendered args."""
    c = podenv.container(objects, component)
    root = tmp / component
    env = podenv.materialize(objects, c, secrets, root, configmaps=configmaps)
    cfg = podenv.airflow_cfg(root)
    dags = root / cfg["core"]["dags_folder"].lstrip("/")
    shutil.copy(DAG_DIR / "kubernetes_groups.py", dags)  # the NAS holds the DAG
    env.update(overrides)
    return procs.start(component, env, root, c.container["args"], venv), env, root


def _nodes_for(templates):
    """A fake node per pod template that only that group's pods fit: its nodeSelector as labels,
    a taint per toleration; the first group (no selector) gets a plain node."""
    nodes = {}
    for group, pod in templates.items():
        spec = pod["spec"]
        taints = [{"key": t["key"], "value": t.get("value", ""), "effect": t["effect"]}
                  for t in spec.get("tolerations") or []]
        nodes["b-" + group] = (spec.get("nodeSelector") or {}, taints)
    return nodes


@pytest.mark.xdist_group("airkube-b")
@pytest.mark.parametrize("version", ["3.3.2", "2.11.2"])
def test_kubernetes_executor_launches_group_pods(version, kube, services, tmp_path):
    t0 = time.monotonic()
    major = int(version[0])
    namespace = "kx-" + version.replace(".", "")
    database = "airkube_b_kx_" + version.replace(".", "")
    spec_text = SPEC.format(version=version, namespace=namespace, database=database,
                            pg_host=services.pg_host, pg_port=services.pg_port, pg_user=services.pg_user)
    spec = yaml.safe_load(spec_text)
    objects = podenv.render(spec_text, out=tmp_path / "render")
    venv = podenv.venv_for(version)
    services.fresh_database(database)

    # What an install creates, minus the workloads (their processes run on the host instead).
    ca = kube.ca_pem()
    kube.apply_release(objects, namespace)
    kube.apply([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cluster-ca", "namespace": namespace},
                 "data": {"ca.crt": ca}}])
    templates = {}
    for o in objects:
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-pod-templates"):
            templates = {f.removesuffix(".yaml"): yaml.safe_load(t) for f, t in o["data"].items()}
    assert sorted(templates) == ["default", "fortran", "gis"]
    nodes = _nodes_for(templates)
    for name, (labels, taints) in nodes.items():
        kube.fake_node(name, labels, taints)
    kube.wait_nodes_ready(list(nodes))

    secrets, configmaps = podenv.test_inputs(objects, db_password=services.pg_password, ca_pem=ca)
    sched_deploy = podenv.find(objects, "Deployment", "kx-scheduler")
    sched_pod = sched_deploy["spec"]["template"]["spec"]
    # Its token is the kube-api volume's projected one (what the kubeconfig reads), not an automount.
    kube_api = [v for v in sched_pod["volumes"] if v["name"] == "kube-api"]
    assert kube_api and any("serviceAccountToken" in x for x in kube_api[0]["projected"]["sources"]), sched_pod["volumes"]
    assert sched_pod.get("automountServiceAccountToken") is False
    kubeconfig = kube.service_account_kubeconfig(namespace, sched_pod["serviceAccountName"],
                                                 tmp_path / "scheduler-sa.kubeconfig")
    overrides = dict(OVERRIDES)
    overrides["AIRFLOW__KUBERNETES_EXECUTOR__CONFIG_FILE"] = str(kubeconfig)
    overrides["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT"] = str(free_port())
    print("overrides (host instead of pod):\n" + json.dumps(overrides, indent=1))

    # The migration Job, exactly as rendered.
    migrate = podenv.container(objects, "migrate")
    mroot = tmp_path / "migrate"
    menv = podenv.materialize(objects, migrate, secrets, mroot, configmaps=configmaps)
    t = time.monotonic()
    p = podenv.run(menv, mroot, migrate.container["args"], venv=venv, timeout=600)
    assert p.returncode == 0, "%s failed:\n%s%s" % (migrate.container["args"], p.stdout[-3000:], p.stderr[-3000:])
    print("db migrate: %.1fs" % (time.monotonic() - t))

    procs = Processes(tmp_path / "logs")
    try:
        sched, env, root = _start_component(objects, "scheduler", secrets, configmaps, tmp_path, venv, procs, overrides)
        cfg = podenv.airflow_cfg(root)
        # The rendered file the overrides leave in force: CA file, namespace, default template.
        assert cfg["kubernetes_executor"]["ssl_ca_cert"] == "/opt/airkube/kube/ca.crt"
        assert (root / "opt/airkube/kube/ca.crt").read_text() == ca
        assert cfg["kubernetes_executor"]["namespace"] == namespace
        if major == 3:
            _start_component(objects, "dag-processor", secrets, configmaps, tmp_path, venv, procs, {})

        wait_for_dag(services, database, DAG_ID, procs)
        t_parsed = time.monotonic()

        cli = lambda *a: podenv.run(env, root, ["airflow", *a], venv=venv, timeout=300)  # noqa: E731
        for args in (("dags", "unpause", DAG_ID), ("dags", "trigger", DAG_ID)):
            p = cli(*args)
            assert p.returncode == 0, "airflow %s failed:\n%s%s" % (" ".join(args), p.stdout[-2000:], p.stderr[-3000:])

        def pods():
            items = kube.get_json("pods", "-n", namespace, "-l", "dag_id=" + DAG_ID)["items"]
            placed = [i for i in items if i["spec"].get("nodeName") and i["status"].get("phase") == "Running"]
            return items if len(items) >= 3 and len(placed) == len(items) else None
        items = wait_for("the executor's 3 task pods to be Running", pods, 240, procs=procs)
        print("pods Running %.1fs after the DAG was parsed" % (time.monotonic() - t_parsed))
        procs.check_alive()
    finally:
        procs.stop_all()
        for p in procs.procs:
            print("---- %s (last lines)\n%s" % (p.name, p.tail(1500)))

    by_task = {i["metadata"]["labels"]["task_id"]: i for i in items}
    assert sorted(by_task) == ["in_default", "in_fortran", "in_gis"], sorted(by_task)
    groups = {g["name"]: g for g in spec["taskGroups"]}
    dags_folder, log_folder = cfg["core"]["dags_folder"], cfg["logging"]["base_log_folder"]
    problems, checked = [], []
    for group, tmpl in templates.items():
        pod = by_task["in_" + group]
        want_c = tmpl["spec"]["containers"][0]
        got = pod["spec"]
        cs = got["containers"]
        where = "group %s, pod %s" % (group, pod["metadata"]["name"])

        def check(what, want, have):
            checked.append(what)
            if want != have:
                problems.append("%s: %s: want %r, got %r" % (where, what, want, have))

        check("containers", ["base"], [c["name"] for c in cs])
        c = cs[0]
        check("image (spec)", groups[group].get("image", spec["airflow"]["image"]), c["image"])
        check("image (template)", want_c["image"], c["image"])
        check("resources", want_c.get("resources"), c.get("resources"))
        if "resources" in groups[group]:
            check("resources (spec)", _norm_resources(groups[group]["resources"]), _norm_resources(c["resources"]))
        check("nodeSelector", tmpl["spec"].get("nodeSelector"), got.get("nodeSelector"))
        check("nodeSelector (spec)", groups[group].get("nodeSelector"), got.get("nodeSelector"))
        tol = [t for t in got.get("tolerations") or [] if not t["key"].startswith("node.kubernetes.io/")]
        check("tolerations", tmpl["spec"].get("tolerations") or [], tol)
        check("tolerations (spec)", groups[group].get("tolerations") or [], tol)
        check("node (real kube-scheduler placement)", "b-" + group, got["nodeName"])
        check("serviceAccountName", tmpl["spec"]["serviceAccountName"], got["serviceAccountName"])
        check("securityContext", tmpl["spec"]["securityContext"], got["securityContext"])
        check("container securityContext", want_c.get("securityContext"), c.get("securityContext"))
        mounts = {m["mountPath"]: m for m in c.get("volumeMounts") or []}
        check("DAG mount", {"mountPath": dags_folder, "name": "dags", "readOnly": True}, mounts.get(dags_folder))
        check("log mount", {"mountPath": log_folder, "name": "logs"}, mounts.get(log_folder))
        check("volumeMounts", want_c["volumeMounts"], c["volumeMounts"])
        vols = {v["name"]: v for v in got.get("volumes") or []}
        for v in tmpl["spec"]["volumes"]:
            have = dict(vols.get(v["name"], {}))
            if "configMap" in have:
                have["configMap"] = {k: x for k, x in have["configMap"].items() if k != "defaultMode"}
            check("volume " + v["name"], v, have)
        env = {e["name"]: e for e in c.get("env") or []}
        for e in want_c["env"]:
            check("env " + e["name"], e, env.get(e["name"]))
        for e in groups[group].get("env") or []:
            check("env %s (spec)" % e["name"], e, env.get(e["name"]))
        check("env AIRFLOW_CONFIG", "/opt/airkube/config/airflow.cfg", (env.get("AIRFLOW_CONFIG") or {}).get("value"))
        check("label airkube.dev/task-group", group, pod["metadata"]["labels"].get("airkube.dev/task-group"))
    assert not problems, "task pods differ from their group:\n" + "\n".join(problems)
    print("%d properties of %d task pods match their groups" % (len(checked), len(templates)))

    # The scheduler recorded the tasks as handed to the KubernetesExecutor.
    tis = rows(services, database, "SELECT task_id, state FROM task_instance WHERE dag_id = '%s' ORDER BY task_id" % DAG_ID)
    assert [r[0] for r in tis] == ["in_default", "in_fortran", "in_gis"], tis
    assert all(r[1] in ("queued", "running") for r in tis), tis
    print("airflow %s: %.1fs in all" % (version, time.monotonic() - t0))


def _norm_resources(r):
    """Spec quantities as the API server prints them ("2" stays "2", 4Gi stays 4Gi)."""
    return {k: {n: str(q) for n, q in (v or {}).items()} for k, v in (r or {}).items()}
