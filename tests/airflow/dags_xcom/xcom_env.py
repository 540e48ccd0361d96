"""Issue 10 test DAG: a large XCom through the object-storage backend, and a connection and a
variable that exist only as env from Secrets."""
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


with DAG(dag_id="airkube_xcom_env", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False):
    PythonOperator(task_id="push", python_callable=push) >> PythonOperator(task_id="pull", python_callable=pull)
    PythonOperator(task_id="env", python_callable=env)
