"""The DAG the official chart's release runs before airkube takes it over (tests/e2e/kind_takeover_test.go).

It needs nothing of airkube's (no `airkube` helper module): its history, made under the official chart,
must be visible once airkube runs the release, and airkube must run it again.
"""
from datetime import datetime

from airflow import DAG

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2.11
    from airflow.operators.bash import BashOperator

with DAG("airkube_takeover", start_date=datetime(2024, 1, 1), schedule=None, catchup=False, is_paused_upon_creation=False):
    BashOperator(task_id="hello", bash_command="echo airkube takeover host=$(hostname)")
