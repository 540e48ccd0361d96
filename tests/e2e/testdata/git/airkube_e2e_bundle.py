"""The kind suite's DAG from a git DAG bundle (tests/e2e/kind_bundle_test.go): one task on a Celery
worker and one in a KubernetesExecutor pod, each returning VERSION, which the test changes by
pushing a commit. A task returns the VERSION of the commit its DAG run was parsed from.
"""
from datetime import datetime

from airflow.sdk import dag, task

from airkube import task_group

VERSION = "v1"


@dag(dag_id="airkube_e2e_bundle", start_date=datetime(2024, 1, 1), schedule=None, catchup=False,
     is_paused_upon_creation=False)
def airkube_e2e_bundle():
    @task(task_id="celery", **task_group("default"))
    def on_celery():
        print("airkube bundle celery " + VERSION)
        return VERSION

    @task(task_id="pod", **task_group("fortran"))
    def in_pod():
        print("airkube bundle pod " + VERSION)
        return VERSION

    on_celery()
    in_pod()


airkube_e2e_bundle()
