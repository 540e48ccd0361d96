"""Print Airflow's metadata database URI for its *_cmd settings (written by airkube).

The password is read from the environment (filled from the user's Secret by Kubernetes)
and URL-encoded here, so any character in it works and it never appears in a config file.
"""
import argparse
import os
import sys
from urllib.parse import quote, urlunsplit

SCHEMES = {
    ("postgres", "sqlalchemy"): "postgresql+psycopg2",
    ("postgres", "celery"): "db+postgresql+psycopg2",
    ("mysql", "sqlalchemy"): "mysql+mysqldb",
    ("mysql", "celery"): "db+mysql+mysqldb",
}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("purpose", choices=["sqlalchemy", "celery"])
    p.add_argument("--type", choices=["postgres", "mysql"])
    p.add_argument("--host")
    p.add_argument("--port")
    p.add_argument("--user")
    p.add_argument("--name")
    p.add_argument("--sslmode")
    a = p.parse_args()
    uri = os.environ.get("AIRKUBE_DB_URI")
    if uri:
        if a.purpose == "celery" and not uri.startswith("db+"):
            uri = "db+" + uri
        sys.stdout.write(uri.strip())
        return
    password = os.environ["AIRKUBE_DB_PASSWORD"]
    netloc = "%s:%s@%s:%s" % (quote(a.user, safe=""), quote(password, safe=""), a.host, a.port)
    query = ""
    if a.sslmode:
        query = ("sslmode=" if a.type == "postgres" else "ssl_mode=") + a.sslmode
    # Airflow does not strip a *_cmd's output: no trailing newline.
    sys.stdout.write(urlunsplit((SCHEMES[(a.type, a.purpose)], netloc, "/" + quote(a.name, safe=""), query, "")))


if __name__ == "__main__":
    main()
