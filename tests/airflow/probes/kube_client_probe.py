"""Runs inside a materialized container (real Airflow's venv): makes the Kubernetes API clients the
cncf.kubernetes provider makes, the way it makes them, and lists pods with each. Writes, as JSON to
argv[1], per step: ok, the API host the client was configured for, and the error if any.

argv[2]: JSON list of steps; argv[3] (optional): JSON input of the trigger steps.
  sync     KubernetesHook(conn_id="kubernetes_default"), what KubernetesPodOperator uses in a worker;
           lists pods in the hook's namespace (the connection's).
  handoff  what a deferrable KubernetesPodOperator hands its trigger: config_dict (from
           convert_config_file_to_dict) and the connection's extras; no API call.
  trigger  AsyncKubernetesHook with a handoff's config_dict and extras, what KubernetesPodTrigger
           makes in the triggerer; lists pods in the extras' namespace.
  trigger_with_path  the same, with kube_config_path added to the extras (a connection that names
           the kubeconfig file).
  trigger_other_ca   the same hand-off, with the kubeconfig's certificate-authority replaced by the
           file given as other_ca.
  executor get_kube_client(), the KubernetesExecutor's client; lists pods in its namespace.
  rotation the sync hook's client, the executor's and a trigger's hook (from this pod's own hand-off),
           each made once, list pods (label selector round=1,who=<client>); then the probe writes
           <signal>.ready, waits for <signal>.go (the test rotates the token file meanwhile, as the
           kubelet does) and lists again with the same clients (round=2). given: {"signal": path}.
"""
import asyncio
import json
import sys
import warnings

out_path, steps = sys.argv[1], json.loads(sys.argv[2])
given = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}

from airflow.configuration import conf  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from airflow.providers_manager import ProvidersManager

    ProvidersManager().initialize_providers_configuration()
    conf.load_providers_configuration()

from airflow.providers.cncf.kubernetes.hooks.kubernetes import AsyncKubernetesHook, KubernetesHook  # noqa: E402


def error(e):
    return "%s: %s" % (type(e).__name__, str(e)[:600])


def sync():
    hook = KubernetesHook(conn_id="kubernetes_default")
    r = {"namespace": hook.get_namespace()}
    try:
        api = hook.core_v1_client
        r["host"] = api.api_client.configuration.host
        api.list_namespaced_pod(r["namespace"], limit=1)
        r["ok"], r["in_cluster"] = True, hook.is_in_cluster
    except Exception as e:  # noqa: BLE001 - reported
        r["ok"], r["error"] = False, error(e)
    return r


def handoff():
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    op = KubernetesPodOperator(task_id="probe", image="registry.example.com/probe:1")
    op.convert_config_file_to_dict()
    return {"ok": True, "config_dict": op._config_dict, "extras": KubernetesHook(conn_id="kubernetes_default").conn_extras}


def trigger(extras, config_dict):
    hook = AsyncKubernetesHook(conn_id="kubernetes_default", config_dict=config_dict, connection_extras=extras)

    async def call():
        from kubernetes_asyncio import client

        async with hook.get_conn() as api_client:
            r["host"] = api_client.configuration.host
            await client.CoreV1Api(api_client).list_namespaced_pod(extras["namespace"], limit=1)

    r = {}
    try:
        asyncio.run(call())
        r["ok"] = True
    except Exception as e:  # noqa: BLE001 - reported
        r["ok"], r["error"] = False, error(e)
    return r


def executor():
    from airflow.providers.cncf.kubernetes.kube_client import get_kube_client

    r = {"namespace": conf.get("kubernetes_executor", "namespace")}
    try:
        api = get_kube_client()
        r["host"], r["ssl_ca_cert"] = api.api_client.configuration.host, api.api_client.configuration.ssl_ca_cert
        api.list_namespaced_pod(r["namespace"], limit=1)
        r["ok"] = True
    except Exception as e:  # noqa: BLE001 - reported
        r["ok"], r["error"] = False, error(e)
    return r


def rotation(signal):
    import os
    import time

    from kubernetes_asyncio import client as async_client

    from airflow.providers.cncf.kubernetes.kube_client import get_kube_client
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    ns = KubernetesHook(conn_id="kubernetes_default").get_namespace()
    sync_api = KubernetesHook(conn_id="kubernetes_default").core_v1_client
    executor_api = get_kube_client()
    op = KubernetesPodOperator(task_id="probe", image="registry.example.com/probe:1")
    op.convert_config_file_to_dict()
    trigger_hook = AsyncKubernetesHook(conn_id="kubernetes_default", config_dict=op._config_dict,
                                       connection_extras={"namespace": ns})

    async def trigger_call(selector):
        async with trigger_hook.get_conn() as api_client:
            await async_client.CoreV1Api(api_client).list_namespaced_pod(ns, limit=1, label_selector=selector)

    def round_(n):
        r = {}
        for who, call in (("sync", lambda sel: sync_api.list_namespaced_pod(ns, limit=1, label_selector=sel)),
                          ("executor", lambda sel: executor_api.list_namespaced_pod(ns, limit=1, label_selector=sel)),
                          ("trigger", lambda sel: asyncio.run(trigger_call(sel)))):
            try:
                call("round=%d,who=%s" % (n, who))
                r[who] = "ok"
            except Exception as e:  # noqa: BLE001 - reported
                r[who] = error(e)
        return r

    first = round_(1)
    open(signal + ".ready", "w").close()
    deadline = time.monotonic() + 120
    while not os.path.exists(signal + ".go") and time.monotonic() < deadline:
        time.sleep(0.2)
    return {"ok": True, "round1": first, "round2": round_(2)}


out = {}
for step in steps:
    if step == "sync":
        out[step] = sync()
    elif step == "handoff":
        out[step] = handoff()
    elif step == "trigger":
        out[step] = trigger(given["extras"], given["config_dict"])
    elif step == "trigger_with_path":
        out[step] = trigger({**given["extras"], "kube_config_path": given["kube_config_path"]}, given["config_dict"])
    elif step == "trigger_other_ca":
        cfg = json.loads(json.dumps(given["config_dict"]))
        for c in cfg["clusters"]:
            c["cluster"]["certificate-authority"] = given["other_ca"]
        out[step] = trigger(given["extras"], cfg)
    elif step == "executor":
        out[step] = executor()
    elif step == "rotation":
        out[step] = rotation(given["signal"])
    else:
        sys.exit("unknown step " + step)
with open(out_path, "w") as f:
    json.dump(out, f, indent=1, default=str)
