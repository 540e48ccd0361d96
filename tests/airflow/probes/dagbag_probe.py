"""Runs inside a materialized container: parses the DAGs folder with the real Airflow's DagBag
(the code the scheduler/dag-processor runs) and writes, as JSON to argv[1], the import errors and
each task's queue, executor and executor_config. Also what routing keys Airflow resolves.
"""
import inspect
import json
import sys
import warnings

from airflow.configuration import conf

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from airflow.providers_manager import ProvidersManager

    ProvidersManager().initialize_providers_configuration()
    conf.load_providers_configuration()

try:
    from airflow.dag_processing.dagbag import DagBag  # 3.1+
except ImportError:
    from airflow.models.dagbag import DagBag

kw = {"include_examples": False} if "include_examples" in inspect.signature(DagBag).parameters else {}
bag = DagBag(dag_folder=conf.get("core", "dags_folder"), **kw)
out = {"import_errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": {}}
for dag_id, dag in bag.dags.items():
    out["dags"][dag_id] = {
        t.task_id: {"queue": t.queue, "executor": getattr(t, "executor", None),
                    "executor_config": t.executor_config or {}}
        for t in dag.tasks
    }
out["default_queue"] = conf.get("operators", "default_queue")
out["kubernetes_queue"] = conf.get("celery_kubernetes_executor", "kubernetes_queue", fallback=None)
try:
    from airflow.executors.executor_loader import ExecutorLoader

    out["executor_names"] = [str(n.alias or n.module_path) for n in ExecutorLoader.get_executor_names()]
except Exception as e:
    out["executor_names_error"] = f"{type(e).__name__}: {e}"
with open(sys.argv[1], "w") as f:
    json.dump(out, f, indent=1)
