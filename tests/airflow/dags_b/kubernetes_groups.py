"""Item 4 test DAG: one task per Kubernetes task group, routed by the airkube helper only."""
import pendulum

try:  # Airflow 3
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.operators.bash import BashOperator

from airkube import task_group

with DAG(
    dag_id="airkube_kubernetes_groups",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["airkube-test"],
):
    for group in ("default", "fortran", "gis"):
        BashOperator(task_id="in_" + group, bash_command="echo " + group, **task_group(group))
