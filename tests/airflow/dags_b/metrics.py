"""Item 8.3 test DAG: a task, and a task in a task group (whose id has a dot) for the metrics."""
import pendulum

try:  # Airflow 3
    from airflow.sdk import DAG, TaskGroup
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.operators.bash import BashOperator
    from airflow.utils.task_group import TaskGroup

with DAG(
    dag_id="airkube_metrics",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["airkube-test"],
):
    hello = BashOperator(task_id="hello", bash_command="sleep 1; echo hello")
    with TaskGroup(group_id="grp"):
        inner = BashOperator(task_id="inner", bash_command="echo inner")
    hello >> inner
