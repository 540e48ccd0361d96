"""Item 5 test DAG: tasks routed to Celery task groups by the airkube helper, plus one
task without the helper (Airflow's default queue, which the first Celery group serves)."""
import pendulum

try:  # Airflow 3
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.operators.bash import BashOperator

from airkube import task_group

with DAG(
    dag_id="airkube_celery_routing",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["airkube-test"],
):
    for group in ("general", "gis", "radar"):
        BashOperator(task_id="in_" + group, bash_command="echo ran in " + group, **task_group(group))
    BashOperator(task_id="no_helper", bash_command="echo ran on the default queue")
