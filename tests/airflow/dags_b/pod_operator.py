"""Issue 9 test DAG: KubernetesPodOperator, synchronous and deferrable, as a DAG author writes it.

No namespace, config_file, in_cluster or connection is given: the release decides all of it (the
rendered kubernetes_default connection and kubeconfig). On a release with a Kubernetes task group
one more task goes to the KubernetesExecutor, so its own API client is exercised too; on one with a
group fortran (the seed team's own executor), one more goes there by task_group().
"""
import pendulum
from kubernetes.client import models as k8s  # noqa: F401 - the provider's own dependency

try:  # Airflow 3
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.operators.bash import BashOperator
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

import airkube

# The test's kwok pod completer turns pods with this label Succeeded (kube_fixture.POD_COMPLETE_LABEL):
# kwok plays the kubelet and never runs a container.
COMPLETE = {"airkube.dev/kwok-complete": "true"}

with DAG(
    dag_id="airkube_pod_operator",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["airkube-test"],
):
    for task_id, deferrable in (("sync", False), ("deferrable", True)):
        KubernetesPodOperator(
            task_id=task_id,
            name="kpo-" + task_id,
            image="registry.example.com/tools/busybox:1.37",
            cmds=["sh", "-c", "echo hello from " + task_id],
            labels=COMPLETE,
            deferrable=deferrable,
            get_logs=False,  # kwok serves no container logs
            on_finish_action="keep_pod",  # the test looks at the pod afterwards
            poll_interval=2,
            startup_timeout_seconds=120,
            retries=0,
        )
    if airkube.GROUPS.get("kubernetes", {}).get("executor") == "KubernetesExecutor":
        BashOperator(task_id="in_kubernetes", bash_command="true", retries=0, **airkube.task_group("kubernetes"))
    if "fortran" in airkube.GROUPS:
        BashOperator(task_id="in_fortran", bash_command="true", retries=0, **airkube.task_group("fortran"))
