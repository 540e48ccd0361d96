"""Runs inside a materialized container (real Airflow's venv): reads the config the way Airflow
does and writes what it found as JSON to argv[1]. argv[2]: JSON list of [section, key] to get;
argv[3] (optional): JSON list of `airflow` CLI argument lists (e.g. [["config", "list"]]) to run
in this process through Airflow's own CLI parser, the code `airflow config ...` runs, which saves
an interpreter start per command. Each command's output is framed on stdout and stderr by
"@@airkube-probe@@ <args>" lines; its exit code is in the JSON.

Output: values (conf.get, the same call `airflow config get-value` makes, `_cmd` resolved),
warnings raised while loading, the airflow.cfg/env options Airflow doesn't know or deprecates,
and the URI as SQLAlchemy parses it.
"""
import configparser
import json
import os
import sys
import warnings

out_path, keys = sys.argv[1], json.loads(sys.argv[2])
result = {"values": {}, "errors": {}, "warnings": [], "unknown": [], "deprecated": [], "cmd_not_sensitive": []}

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from airflow.configuration import conf

    with warnings.catch_warnings():
        # Our own call: 2.x needs it for provider keys; 3.3 loads them lazily and deprecates it.
        warnings.simplefilter("ignore", DeprecationWarning)
        from airflow.providers_manager import ProvidersManager

        # What `airflow config list` does first (@providers_configuration_loaded).
        ProvidersManager().initialize_providers_configuration()
        conf.load_providers_configuration()
    for section, key in keys:
        try:
            result["values"][f"{section}.{key}"] = conf.get(section, key)
        except Exception as e:  # a key with no value and no default: "not found"
            result["errors"][f"{section}.{key}"] = f"{type(e).__name__}: {e}"

    # Every option airkube sets: in airflow.cfg, and as AIRFLOW__SECTION__KEY in the env.
    options = []
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(os.environ["AIRFLOW_CONFIG"])
    for s in cfg.sections():
        for k in cfg[s]:
            options.append(("airflow.cfg", s, k))
    for name in os.environ:
        if name.startswith("AIRFLOW__") and name.count("__") >= 2:
            _, s, k = name.split("__", 2)
            options.append(("env " + name, s.lower(), k.lower()))

    desc = conf.configuration_description
    # Both map the new name to the old one: {(section, key): (old_section, old_key, since)},
    # {section: (old_section, since)}.
    deprecated_old = {(o[0], o[1]): new for new, o in conf.deprecated_options.items()}
    deprecated_sections = {o[0]: new for new, o in conf.deprecated_sections.items()}
    sensitive = {tuple(x) for x in conf.sensitive_config_values}

    def known(s, k):
        return k in (desc.get(s, {}).get("options", {}) or {}) or conf._default_values.has_option(s, k)

    for where, s, k in options:
        base = k
        for suffix in ("_cmd", "_secret"):
            if k.endswith(suffix) and not known(s, k):
                base = k[: -len(suffix)]
                if (s, base) not in sensitive:
                    result["cmd_not_sensitive"].append(f"{where}: [{s}] {k}")
        if (s, base) in deprecated_old or s in deprecated_sections:
            new = deprecated_old.get((s, base)) or (deprecated_sections.get(s), base)
            result["deprecated"].append(f"{where}: [{s}] {base} (use {new})")
        elif not known(s, base):
            result["unknown"].append(f"{where}: [{s}] {k}")

    # The metadata DB URI as SQLAlchemy (and so Airflow) parses it.
    try:
        from sqlalchemy.engine.url import make_url

        u = make_url(conf.get("database", "sql_alchemy_conn"))
        result["db_url"] = {"drivername": u.drivername, "username": u.username, "password": u.password,
                            "host": u.host, "port": u.port, "database": u.database, "query": dict(u.query)}
    except Exception as e:
        result["db_url_error"] = f"{type(e).__name__}: {e}"
    else:
        # The driver takes the URI's options (sslmode, ssl_mode ...): connect to a closed port on
        # loopback; an accepted URI fails with "connection refused", a bad option differently.
        try:
            from sqlalchemy import create_engine

            create_engine(u.set(host="127.0.0.1", port=1)).connect()
            result["db_connect"] = "connected?!"
        except Exception as e:
            result["db_connect"] = f"{type(e).__name__}: {e}"

    # What every component does at start: its hostname (core.hostname_callable) and executors.
    try:
        from airflow.utils.net import get_hostname

        result["hostname"] = get_hostname()
    except Exception as e:
        result["hostname_error"] = f"{type(e).__name__}: {e}"
    try:
        from airflow.executors.executor_loader import ExecutorLoader

        names = ExecutorLoader.get_executor_names()
        result["executors"] = []
        for n in names:
            cls, _ = ExecutorLoader.import_executor_cls(n)
            result["executors"].append(f"{n.alias or ''}:{cls.__module__}.{cls.__name__}")
    except Exception as e:
        result["executors_error"] = f"{type(e).__name__}: {e}"

    result["cli"] = []
    for argv in json.loads(sys.argv[3]) if len(sys.argv) > 3 else []:
        from airflow.cli import cli_parser

        marker = "@@airkube-probe@@ " + " ".join(argv)
        for stream in (sys.stdout, sys.stderr):
            print(marker, file=stream, flush=True)
        code = 0
        try:
            args = cli_parser.get_parser().parse_args(argv)
            args.func(args)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except Exception as e:  # reported as the command's failure
            print(f"{type(e).__name__}: {e}", file=sys.stderr)
            code = 1
        sys.stdout.flush(); sys.stderr.flush()
        result["cli"].append({"argv": argv, "code": code})
    for stream in (sys.stdout, sys.stderr):
        print("@@airkube-probe@@ end", file=stream, flush=True)

result["warnings"] = [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught]
import airflow

result["airflow_version"] = airflow.__version__
with open(out_path, "w") as f:
    json.dump(result, f, indent=1)
