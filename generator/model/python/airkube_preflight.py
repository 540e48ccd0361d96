"""airkube's migration preflight: the migration Job runs it in the new image, before `airflow db migrate`.

With --migrate, a passing preflight runs `airflow db migrate` in the same process: Airflow is imported
once for both (2-6 s of CPU less on the install's critical path than a second process).

It stops the upgrade, before the schema is touched, when:
- the database was migrated by a newer Airflow than this image's (a downgrade: its revision is not one of
  this Airflow's migrations);
- a 2.x database goes to 3.x and XCom holds values the 3.0 migration (0049, bytea to JSON) cannot convert:
  not UTF-8, not JSON, or over PostgreSQL's 255 MiB jsonb limit; or values it would rewrite without asking
  (NaN and Infinity to null, U+0000 removed, where this Airflow's migration sanitises them, else they fail
  it), unless --allow-xcom-rewrites. Pickled values are fine: the migration moves them to _xcom_archive.

Each refused row is named (dag_id, run_id, task_id, map_index, key) with the reason and a query to fix it.
"""
import importlib
import json
import math
import sys

# PostgreSQL refuses a jsonb value over 255 MiB ("total size of jsonb ... exceeds the maximum").
JSONB_MAX = 268435455
# How many rows the message names; the count is always complete.
SHOWN = 20


def non_finite_or_nul(value):
    """(has NaN or Infinity, has U+0000) anywhere in a decoded JSON value."""
    stack, nan, nul = [value], False, False
    while stack:
        v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            nan = True
        elif isinstance(v, str):
            nul = nul or "\x00" in v
        elif isinstance(v, dict):
            for k, x in v.items():
                nul = nul or "\x00" in k
                stack.append(x)
        elif isinstance(v, list):
            stack.extend(v)
    return nan, nul


def migration_sanitises():
    """Whether this Airflow's 0049 migration rewrites NaN, Infinity and U+0000 (later 3.x do; 3.0 failed)."""
    try:
        m = importlib.import_module("airflow.migrations.versions.0049_3_0_0_remove_pickled_data_from_xcom_table")
    except ImportError:
        return False
    return hasattr(m, "_xcom_pg_sanitize_statements")


def main(argv):
    allow_rewrites = "--allow-xcom-rewrites" in argv
    import airflow
    from airflow import settings
    from airflow.utils.db import _get_alembic_config
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect, text

    if settings.engine is None:
        settings.configure_orm()
    version = airflow.__version__
    with settings.engine.connect() as conn:
        insp = inspect(conn)
        if not insp.has_table("alembic_version"):
            print("airkube preflight: a new database: nothing to check")
            return 0
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        try:
            known = ScriptDirectory.from_config(_get_alembic_config()).get_revision(revision) is not None
        except Exception:
            known = False
        if not known:
            print(
                f"airkube preflight: refused: the database is at migration {revision}, which Airflow {version} "
                "does not have: a newer Airflow migrated it. Nothing was changed. To go back, back the database "
                f"up and run `airflow db downgrade --to-version {version}` with the newer Airflow first.",
                file=sys.stderr,
            )
            return 1
        if int(version.split(".")[0]) < 3 or "xcom" not in insp.get_table_names():
            print(f"airkube preflight: database at {revision}: ready for Airflow {version}")
            return 0
        column = {c["name"]: c for c in insp.get_columns("xcom")}.get("value")
        kind = type(column["type"]).__name__.upper() if column else ""
        if not any(b in kind for b in ("BYTEA", "BLOB", "BINARY")):
            print(f"airkube preflight: database at {revision}: XCom is already JSON; ready for Airflow {version}")
            return 0

        sanitises = migration_sanitises()
        postgres = conn.dialect.name == "postgresql"
        refused = []
        rows = conn.execution_options(stream_results=True).execute(
            text("SELECT dag_id, run_id, task_id, map_index, " + conn.dialect.identifier_preparer.quote("key") +
                 " AS xkey, value FROM xcom WHERE value IS NOT NULL")
        )
        scanned = 0
        for row in rows:
            scanned += 1
            raw = bytes(row.value)
            if raw[:1] == b"\x80":
                continue  # a pickle: the migration archives it in _xcom_archive
            where = f"dag_id={row.dag_id!r} run_id={row.run_id!r} task_id={row.task_id!r} map_index={row.map_index} key={row.xkey!r}"
            reasons = []
            if postgres and len(raw) > JSONB_MAX:
                reasons.append(f"{len(raw)} bytes, over jsonb's limit of {JSONB_MAX}")
            try:
                value = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                reasons.append("not UTF-8 text, so not JSON")
            except ValueError:
                reasons.append("not JSON")
            else:
                nan, nul = non_finite_or_nul(value)
                for bad, what in ((nan, "NaN or Infinity, which strict JSON has not"), (nul, "U+0000, which jsonb cannot hold")):
                    if not bad:
                        continue
                    if not sanitises:
                        reasons.append(f"{what}: Airflow {version}'s migration fails on it")
                    elif not allow_rewrites:
                        reasons.append(f"{what}: Airflow {version}'s migration would rewrite it (NaN/Infinity to null, U+0000 removed)")
            refused.extend((where, r) for r in reasons)

    if not refused:
        print(f"airkube preflight: {scanned} XCom values checked: ready for Airflow {version}")
        return 0
    print(f"airkube preflight: refused: {len(refused)} XCom value(s) of {scanned} would break or be changed by the migration "
          f"to Airflow {version}. Nothing was changed.", file=sys.stderr)
    for where, reason in refused[:SHOWN]:
        print(f"  xcom {where}: {reason}", file=sys.stderr)
    if len(refused) > SHOWN:
        print(f"  ... and {len(refused) - SHOWN} more", file=sys.stderr)
    print("Fix or delete these rows (DELETE FROM xcom WHERE dag_id = ... AND run_id = ... AND task_id = ... AND key = ...), "
          "or set database.migration.allowXComRewrites: true to let the migration rewrite the values it can; then upgrade again.",
          file=sys.stderr)
    return 1


def migrate():
    """`airflow db migrate`, as the `airflow` command runs it, in this process."""
    from airflow.__main__ import main as airflow

    sys.argv = ["airflow", "db", "migrate"]
    sys.stdout.flush()
    return airflow()


if __name__ == "__main__":
    rc = main(sys.argv[1:])
    if rc == 0 and "--migrate" in sys.argv[1:]:
        rc = migrate()
    sys.exit(rc)
