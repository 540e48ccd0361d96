"""The seed team's executor: a LocalExecutor that first starts a pod for each task through the
Kubernetes API, then runs the task's command as LocalExecutor does.

It talks to the API the way DAG code does in an airkube release: `config.load_kube_config()` reads
KUBECONFIG, the release's one kubeconfig (server, CA bundle, projected token). Each pod is labelled
with the task it was made for, so a test can count them, and created with the field manager
FIELD_MANAGER, which the API server records on the pod and the request carries in its query.
"""
import hashlib

from airflow.executors.local_executor import LocalExecutor

POD_LABEL = "wx.example.com/task"
FIELD_MANAGER = "wx-executor"


class KubeExecutor(LocalExecutor):
    """LocalExecutor plus a pod per task, created through the CA-verified API connection."""

    def _start_pod(self, key):
        from kubernetes import client, config

        config.load_kube_config()
        _, context = config.list_kube_config_contexts()
        namespace = context["context"].get("namespace", "default")
        task = "%s.%s.%s.%s" % (key.dag_id, key.task_id, key.run_id, key.try_number)
        name = "wx-task-" + hashlib.sha256(task.encode()).hexdigest()[:12]
        pod = client.V1Pod(
            metadata=client.V1ObjectMeta(name=name, labels={POD_LABEL: key.task_id}, annotations={POD_LABEL: task}),
            spec=client.V1PodSpec(restart_policy="Never", containers=[
                client.V1Container(name="task", image="registry.example.com/weather/fortran-tools:2019.3")]),
        )
        try:
            client.CoreV1Api().create_namespaced_pod(namespace, pod, field_manager=FIELD_MANAGER)
        except client.ApiException as e:
            if e.status != 409:  # the same try again (scheduler restart): its pod is there already
                raise
        self.log.info("wx: pod %s/%s for %s", namespace, name, task)

    # Airflow 2.x hands each task to execute_async ...
    def execute_async(self, key, command, queue=None, executor_config=None):
        self._start_pod(key)
        super().execute_async(key, command, queue=queue, executor_config=executor_config)

    # ... Airflow 3.x hands workloads to _process_workloads: tasks, but also callbacks and connection
    # tests (3.3), which have no task instance and need no pod; LocalExecutor runs those as they are.
    def _process_workloads(self, workloads):
        from airflow.executors.workloads import ExecuteTask

        for w in workloads:
            if isinstance(w, ExecuteTask):
                self._start_pod(w.ti.key)
        super()._process_workloads(workloads)
