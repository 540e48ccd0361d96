"""Issue 10 test DAG: a large XCom through the object-storage backend, a connection and a variable
that exist only as env from Secrets, and a connection and a variable only the secrets backend has."""
import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, BaseHook, Variable

BIG = "grib " * 1000  # 5000 characters: above the release's 1024-byte threshold


def push():
    return BIG


def pull(ti):
    got = ti.xcom_pull(task_ids="push")
    if got != BIG:
        raise ValueError("pulled %d characters, want the %d pushed" % (len(got or ""), len(BIG)))
    print("airkube xcom pulled %d characters" % len(got))


def env():
    conn = BaseHook.get_connection("grib_archive")
    region = Variable.get("forecast_region")
    if (conn.host, conn.login, conn.password, region) != ("grib.example.com", "wx", "gr!b:p@ss", "europe"):
        raise ValueError("connection or variable differ: %s %s %s" % (conn.host, conn.login, region))
    print("airkube env host=%s region=%s" % (conn.host, region))


def backend():
    conn = BaseHook.get_connection("radar_archive")
    model = Variable.get("forecast_model")
    if (conn.conn_type, conn.host, conn.login, conn.password, model) != ("sftp", "radar.example.com", "radar", "r4d@r", "icon-eu"):
        raise ValueError("the secrets backend's connection or variable differ: %s %s %s %s" % (conn.conn_type, conn.host, conn.login, model))
    print("airkube secrets backend host=%s model=%s" % (conn.host, model))


with DAG(dag_id="airkube_xcom_env", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False):
    PythonOperator(task_id="push", python_callable=push) >> PythonOperator(task_id="pull", python_callable=pull)
    PythonOperator(task_id="env", python_callable=env)
    PythonOperator(task_id="backend", python_callable=backend)
