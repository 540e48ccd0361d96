"""DAGs of the kind e2e suite (tests/e2e/kind_test.go), for Airflow 2.11 and 3.x alike.

airkube_e2e_groups has one task per task group of whichever release parses this file, sent there
with the release's own `airkube.task_group` helper: the Fortran group compiles and runs a Fortran
program with its image's gfortran; every other group proves it does not have gfortran.
"""
import os
from datetime import datetime

from airflow import DAG

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import BaseHook
except ImportError:  # Airflow 2.11
    from airflow.hooks.base import BaseHook
    from airflow.operators.bash import BashOperator
    from airflow.operators.python import PythonOperator

import airkube
from airkube import task_group

FORTRAN = """
program hello
  integer :: i, s
  s = 0
  do i = 1, 6
    s = s + i
  end do
  print '(A,I0)', 'airkube fortran sum=', s
end program hello
"""

COMPILE = """set -eu
cd "$(mktemp -d)"
cat > hello.f90 <<'F90'
%s
F90
gfortran -o hello hello.f90
./hello
""" % FORTRAN.strip()

NO_FORTRAN = """set -eu
echo "airkube group={{ params.group }} host=$(hostname)"
if command -v gfortran; then echo "gfortran found in a group image without it" >&2; exit 1; fi
"""

ARGS = dict(start_date=datetime(2024, 1, 1), schedule=None, catchup=False, is_paused_upon_creation=False)

with DAG("airkube_e2e_groups", **ARGS):
    for name in sorted(airkube.GROUPS):
        if name == "fortran":
            BashOperator(task_id=name, bash_command=COMPILE, **task_group(name))
        else:
            BashOperator(task_id=name, bash_command=NO_FORTRAN, params={"group": name}, **task_group(name))

# Queue-driven scaling (KEDA): more short tasks on the gis group than one of its workers takes at once,
# params.tasks of them (mapped), so the suite queues 12 and the fault set 40.
def _mapped(params):
    """One environment per mapped task: params.tasks of them."""
    return [{"AIRKUBE_TASK": str(i)} for i in range(int(params["tasks"]))]


if "gis" in airkube.GROUPS:
    with DAG("airkube_e2e_scale", params={"tasks": 12}, **ARGS):
        count = PythonOperator(task_id="count", python_callable=_mapped, **task_group("gis"))
        BashOperator.partial(task_id="load", bash_command="sleep 20; echo airkube scale task=$AIRKUBE_TASK host=$(hostname)",
                             **task_group("gis")).expand(env=count.output)

# Load (make e2e-kind-faults): params.tasks tasks that do nothing in each group.
with DAG("airkube_e2e_load", params={"tasks": 20}, **ARGS):
    for name in sorted(airkube.GROUPS):
        count = PythonOperator(task_id="count_" + name, python_callable=_mapped, **task_group(name))
        BashOperator.partial(task_id="load_" + name, bash_command="true", **task_group(name)).expand(env=count.output)

# Faults during a run (tests/e2e/kind_faults_test.go): a task on every group that holds on its first
# try (the suite breaks something meanwhile) until params.seconds have passed or the suite releases
# the run, and ends at once on a retry. The suite releases a run by creating a file named after it in
# RELEASED, beside this file on the DAG share, which every component and task pod mounts alike.
RELEASED = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".airkube-released")
HOLD = """if [ {{ ti.try_number }} -eq 1 ]; then
  i=0
  while [ "$i" -lt {{ params.seconds }} ] && [ ! -e '%s/{{ run_id }}' ]; do sleep 1; i=$((i + 1)); done
else
  sleep 1
fi
echo "airkube held try={{ ti.try_number }} host=$(hostname)"
""" % RELEASED
with DAG("airkube_e2e_faults", params={"seconds": 120}, **ARGS):
    for name in sorted(airkube.GROUPS):
        BashOperator(task_id="hold_" + name, bash_command=HOLD, **task_group(name))

# A task that outlives an upgrade of another group (first group of the release: its default).
with DAG("airkube_e2e_long", **ARGS):
    first = next(iter(airkube.GROUPS))
    BashOperator(task_id="long", bash_command="sleep 75; echo airkube long task done", **task_group(first))


def _check_connection():
    conn = BaseHook.get_connection("airkube_e2e")
    if conn.password != "e2e-p@ss:w/rd":
        raise ValueError("connection password did not decrypt to what was stored")
    print("airkube connection decrypted")


with DAG("airkube_e2e_connection", **ARGS):
    PythonOperator(task_id="decrypt", python_callable=_check_connection, **task_group(next(iter(airkube.GROUPS))))


def _check_env():
    """The connection and the variable the release supplies only through env from Secrets."""
    try:  # Airflow 3
        from airflow.sdk import Variable
    except ImportError:  # Airflow 2.11
        from airflow.models import Variable
    conn = BaseHook.get_connection("grib_archive")
    region = Variable.get("forecast_region")
    if (conn.host, conn.login, conn.password, region) != ("grib.example.com", "wx", "gr!b:p@ss", "europe"):
        raise ValueError("connection or variable differ: %s %s %s" % (conn.host, conn.login, region))
    print("airkube env grib_archive host=%s forecast_region=%s" % (conn.host, region))


GRIB_READ = """set -eu
test "$(cat /mnt/grib/input.txt)" = "1 2 3 4 5 6"
if touch /mnt/grib/written-by-{{ params.group }} 2>/dev/null; then echo "the read-only grib volume took a write" >&2; exit 1; fi
echo "airkube data group={{ params.group }} grib read-only ok"
"""

MODEL_RUN = """set -eu
sum=0; for n in $(cat /mnt/grib/input.txt); do sum=$((sum + n)); done
echo "sum=$sum" > "/mnt/model-output/{{ run_id }}.txt"
echo "airkube data fortran wrote /mnt/model-output/{{ run_id }}.txt"
"""

# The fortran group's licence proxy runs beside each of its tasks (a native sidecar of the task pod,
# which must still finish when the task does).
LICENCE = """set -eu
python3 -c "import socket; socket.create_connection(('127.0.0.1', 27000), 5).close()"
echo "airkube fortran licence proxy answers beside the task"
"""

# A forecast grid: 40000 temperatures, about 320 KB of JSON, far above the weather release's XCom
# threshold (64 KiB), so it travels through the XCom volume on the NAS.
GRID = 40000


def _grid():
    return [round(273.15 + (i % 360) * 0.01, 2) for i in range(GRID)]


def _check_grid(ti):
    grid = ti.xcom_pull(task_ids="grid_gis")
    if grid != _grid():
        raise ValueError("the pulled grid differs from the pushed one: %d values" % len(grid or []))
    print("airkube xcom pulled %d values pushed by gis" % len(grid))


# The weather release's data volumes (grib read-only in fortran and gis, model-output in fortran), its
# connection and variable, its XComs on the NAS and the fortran group's sidecar, in a Celery group
# (gis) and a KubernetesExecutor group (fortran).
if {"fortran", "gis"} <= set(airkube.GROUPS):
    with DAG("airkube_e2e_data", **ARGS):
        for name in ("fortran", "gis"):
            PythonOperator(task_id="env_" + name, python_callable=_check_env, **task_group(name))
            BashOperator(task_id="grib_" + name, bash_command=GRIB_READ, params={"group": name}, **task_group(name))
        BashOperator(task_id="model_fortran", bash_command=MODEL_RUN, **task_group("fortran"))
        BashOperator(task_id="licence_fortran", bash_command=LICENCE, **task_group("fortran"))
        push = PythonOperator(task_id="grid_gis", python_callable=_grid, **task_group("gis"))
        push >> PythonOperator(task_id="grid_fortran", python_callable=_check_grid, **task_group("fortran"))
