"""Logins from Secrets, for real: auth.users on Airflow 3.3.2 (SimpleAuthManager, and FAB by choice) and
2.11.2 (FAB).

A Local release with an Admin and a Viewer whose passwords live only in a Secret is rendered with
the local PostgreSQL as its database, migrated, and then:

- 3.x: the api-server pod's rendered `auth-passwords` init container runs (its exact args and env),
  then the api-server itself, twice, as two replicas from one render. Both accept the same password
  at `POST /auth/token`; the token opens the public REST API; a wrong password gets 401; the Viewer
  may read but not create a pool. After the password Secret changes and a pod restarts, the new
  password works and the old one fails.
- 2.x: the rendered users Job (wait-for-migrations, then its container) runs twice: the second run
  succeeds and changes no row of FAB's user tables. The webserver accepts the password through its
  login form (then an API call with the session) and as basic auth on the REST API; a wrong one gets
  401 or 403. After the password Secret changes, the next run of the Job sets the new password and the old
  one fails.

- 3.x with auth.manager fab: `airflow db migrate` creates FAB's tables; the users Job runs twice (the
  second changes nothing); the api-server, reading the user's webserver_config.py from its ConfigMap,
  serves FAB's login form and `POST /auth/token` with the Secret's password; roles are FAB's; a changed
  Secret takes effect at the Job's next run. A user of a real OpenID Connect provider (zitadel/oidc's, built
  by hack/tools/oidc-provider.sh) signs in through FAB's OAuth login, as a browser does.

Only what must differ because the processes share the host's network is overridden (the ports).
"""
import base64
import http.cookiejar
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

import airflow_ui
import podenv
from kube_fixture import Processes, free_port, http_ok, probe_url, rows, wait_for

SPEC = podenv.spec_template("auth", body="""\
auth:
  users:
    - {{username: admin, role: Admin, passwordSecret: {{name: airflow-users, key: admin}}}}
    - {{username: forecaster, role: Viewer, passwordSecret: {{name: airflow-users, key: forecaster}}}}
""")

# Passwords with the characters that break naive quoting, JSON and form encoding.
ADMIN_PASSWORD = "Adm1n p@ss:w/rd%&\"'"
VIEWER_PASSWORD = "v1ewer+=#?"
NEW_ADMIN_PASSWORD = "r0tated-Adm1n!"


def _request(url, data=None, headers=None, method=None, opener=None):
    """(status, body) of an HTTP request; error statuses are returned, not raised."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with (opener or urllib.request.build_opener()).open(req, timeout=60) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def _secrets(objects, services, admin=ADMIN_PASSWORD):
    secrets, _ = podenv.test_inputs(objects, db_password=services.pg_password)
    secrets[("airflow-users", "admin")] = admin
    secrets[("airflow-users", "forecaster")] = VIEWER_PASSWORD
    return secrets


def _no_password_outside_secrets(objects):
    for o in objects:
        if o.get("kind") == "Secret":
            continue
        text = json.dumps(o)
        for pw in (ADMIN_PASSWORD, VIEWER_PASSWORD, json.dumps(ADMIN_PASSWORD)[1:-1]):
            assert pw not in text, "%s/%s holds a password" % (o["kind"], o["metadata"]["name"])


@pytest.mark.xdist_group("airkube-auth")
def test_simple_auth_manager_users_from_secrets(services, tmp_path):
    version = "3.3.2"
    database = services.fresh_database("airkube_auth_332")
    objects = podenv.render(SPEC.format(version=version, database=database, pg_host=services.pg_host,
                                        pg_port=services.pg_port, pg_user=services.pg_user), out=tmp_path / "render")
    _no_password_outside_secrets(objects)
    venv = podenv.venv_for(version)
    secrets = _secrets(objects, services)
    airflow_ui.migrate(objects, secrets, tmp_path / "migrate", venv)

    _, init = airflow_ui.api_server(objects)
    assert sorted(e["name"] for e in init.container["env"]) == ["AIRKUBE_USER_PASSWORD_0", "AIRKUBE_USER_PASSWORD_1"]

    procs = Processes(tmp_path / "logs")

    def start_pod(name, secrets):
        """One api-server pod: its init container writes the passwords file, then Airflow starts."""
        return airflow_ui.start_api_server(objects, secrets, tmp_path / name, venv, procs, name=name,
                                           hidden=(ADMIN_PASSWORD, NEW_ADMIN_PASSWORD))

    def token(base, user, password):
        t = time.monotonic()
        status, body = _request(base + "/auth/token", json.dumps({"username": user, "password": password}).encode(),
                                {"Content-Type": "application/json"})
        print("POST %s/auth/token as %s: %d in %.2fs" % (base, user, status, time.monotonic() - t))
        return status, (json.loads(body).get("access_token") if status in (200, 201) else body)

    try:
        pod1, base1 = start_pod("api-server-1", secrets)
        pod2, base2 = start_pod("api-server-2", secrets)
        for base in (base1, base2):
            status, tok = token(base, "admin", ADMIN_PASSWORD)
            assert status == 201, (base, status, tok)
            status, body = _request(base + "/api/v2/dags", headers={"Authorization": "Bearer " + tok})
            assert status == 200 and "dags" in json.loads(body), (status, body[:500])
            status, body = token(base, "admin", ADMIN_PASSWORD + "x")
            assert status == 401, ("wrong password", status, body)
            status, body = token(base, "nobody", ADMIN_PASSWORD)
            assert status == 401, ("unknown user", status, body)

        # Roles: the Viewer reads, only the Admin writes.
        _, viewer = token(base1, "forecaster", VIEWER_PASSWORD)
        _, admin = token(base1, "admin", ADMIN_PASSWORD)
        pool = json.dumps({"name": "airkube_auth_pool", "slots": 2}).encode()
        hdr = {"Content-Type": "application/json"}
        status, body = _request(base1 + "/api/v2/pools", headers={"Authorization": "Bearer " + viewer})
        assert status == 200, (status, body[:300])
        status, body = _request(base1 + "/api/v2/pools", pool, {**hdr, "Authorization": "Bearer " + viewer})
        assert status == 403, ("viewer created a pool", status, body[:300])
        status, body = _request(base1 + "/api/v2/pools", pool, {**hdr, "Authorization": "Bearer " + admin})
        assert status == 201, ("admin could not create a pool", status, body[:300])

        # The Secret changes; the pod restarts (helm upgrade rolls it: checksum/secrets): new password only.
        os.kill(pod1.pid, 15)
        assert pod1.wait(60) is not None, "api-server-1 did not stop"
        procs.procs.remove(pod1)
        pod1, base1 = start_pod("api-server-1b", _secrets(objects, services, admin=NEW_ADMIN_PASSWORD))
        status, _ = token(base1, "admin", NEW_ADMIN_PASSWORD)
        assert status == 201, status
        status, _ = token(base1, "admin", ADMIN_PASSWORD)
        assert status == 401, ("the old password still works after the change", status)
    finally:
        procs.stop_all()
        for p in procs.procs:
            print("---- %s (last lines)\n%s" % (p.name, p.tail(1500)))


def _fab_tables(services, database):
    return rows(services, database, "SELECT u.username, u.password, u.email, u.active, u.changed_on, "
                                    "string_agg(r.name, ',' ORDER BY r.name) FROM ab_user u "
                                    "JOIN ab_user_role ur ON ur.user_id = u.id JOIN ab_role r ON r.id = ur.role_id "
                                    "GROUP BY u.id ORDER BY u.username")


def _users_job(objects, venv, tmp_path, configmaps=None):
    """run(secrets, n): runs the rendered users Job's containers (wait-for-migrations, then users) as its
    n-th run and returns what airkube_users said, after checking that no password was printed."""
    job = [c for c in podenv.airflow_containers(objects, init=True) if c.component == "users"]
    assert [c.name for c in job] == ["wait-for-migrations", "users"], job

    def run(secrets, n):
        out = []
        for c in job:
            root = tmp_path / ("users-%d" % n)
            env = podenv.materialize(objects, c, secrets, root, configmaps=configmaps)
            t = time.monotonic()
            p = podenv.run(env, root, c.container["args"], venv=venv, timeout=600)
            assert p.returncode == 0, "%s (run %d) failed:\n%s%s" % (c.name, n, p.stdout[-3000:], p.stderr[-3000:])
            print("users Job run %d: %s took %.1fs" % (n, c.name, time.monotonic() - t))
            out.append(p.stdout + p.stderr)
        assert ADMIN_PASSWORD not in "".join(out) and NEW_ADMIN_PASSWORD not in "".join(out)
        return re.findall(r"^airkube_users: .*$", out[-1], re.M)
    return run


@pytest.mark.xdist_group("airkube-auth")
def test_fab_users_job_from_secrets(services, tmp_path):
    version = "2.11.2"
    database = services.fresh_database("airkube_auth_2112")
    objects = podenv.render(SPEC.format(version=version, database=database, pg_host=services.pg_host,
                                        pg_port=services.pg_port, pg_user=services.pg_user), out=tmp_path / "render")
    _no_password_outside_secrets(objects)
    venv = podenv.venv_for(version)
    secrets = _secrets(objects, services)
    airflow_ui.migrate(objects, secrets, tmp_path / "migrate", venv)
    run_job = _users_job(objects, venv, tmp_path)

    said = run_job(secrets, 1)
    assert said == ["airkube_users: admin created with role Admin",
                    "airkube_users: forecaster created with role Viewer"], said
    before = _fab_tables(services, database)
    said = run_job(secrets, 2)
    assert said == ["airkube_users: admin unchanged", "airkube_users: forecaster unchanged"], said
    assert _fab_tables(services, database) == before, "the second run changed FAB's users"
    assert [(r[0], r[2], r[3], r[5]) for r in before] == [
        ("admin", "admin@localhost", "t", "Admin"), ("forecaster", "forecaster@localhost", "t", "Viewer")], before

    web = podenv.container(objects, "webserver")
    root = tmp_path / "webserver"
    env = podenv.materialize(objects, web, secrets, root)
    port = free_port()
    env.update({"AIRFLOW__WEBSERVER__WEB_SERVER_PORT": str(port), "AIRFLOW__WEBSERVER__WORKERS": "2"})
    base = "http://127.0.0.1:%d" % port
    procs = Processes(tmp_path / "logs")

    def basic(user, password):
        auth = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        return _request(base + "/api/v1/dags", headers={"Authorization": "Basic " + auth})

    try:
        procs.start("webserver", env, root, web.container["args"], venv)
        t = time.monotonic()
        wait_for("the webserver's rendered startupProbe", lambda: http_ok(probe_url(web, "startupProbe", port)), 300, procs=procs)
        print("webserver started in %.1fs" % (time.monotonic() - t))

        # The login form, as a browser: CSRF token, then a session that opens the REST API.
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        status, page = _request(base + "/login/", opener=browser)
        assert status == 200, status
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": csrf}).encode()
        t = time.monotonic()
        status, page = _request(base + "/login/", form, {"Content-Type": "application/x-www-form-urlencoded"}, opener=browser)
        print("FAB form login: %d in %.2fs" % (status, time.monotonic() - t))
        assert status == 200 and "Invalid login" not in page, (status, page[:300])
        status, body = _request(base + "/api/v1/dags", opener=browser)
        assert status == 200 and "dags" in json.loads(body), (status, body[:300])

        status, body = basic("admin", ADMIN_PASSWORD)
        assert status == 200, ("basic auth", status, body[:300])
        # FAB answers a failed basic auth 403 (the session backend, tried next, has no session either).
        status, body = basic("admin", ADMIN_PASSWORD + "x")
        assert status in (401, 403), ("wrong password", status, body[:300])
        status, body = basic("forecaster", VIEWER_PASSWORD)
        assert status == 200, ("viewer reads", status, body[:300])
        status, body = _request(base + "/api/v1/pools", json.dumps({"name": "p", "slots": 1}).encode(), {
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(("forecaster:" + VIEWER_PASSWORD).encode()).decode()})
        assert status == 403, ("viewer created a pool", status, body[:300])

        # The Secret changes: the next Job (a new name at the next upgrade) sets it; the old one fails.
        said = run_job(_secrets(objects, services, admin=NEW_ADMIN_PASSWORD), 3)
        assert said == ["airkube_users: admin updated: password", "airkube_users: forecaster unchanged"], said
        assert basic("admin", NEW_ADMIN_PASSWORD)[0] == 200
        assert basic("admin", ADMIN_PASSWORD)[0] in (401, 403)
    finally:
        procs.stop_all()
        for p in procs.procs:
            print("---- %s (last lines)\n%s" % (p.name, p.tail(1500)))


# webserver_config.py: first FAB's database logins (its default, said explicitly), then the same release
# switched to OAuth, which shows that the api-server reads the file: its login page offers the provider,
# and the provider's button redirects to its authorize URL. No OAuth server is contacted (.invalid).
WEBSERVER_CONFIG = "from flask_appbuilder.security.manager import AUTH_DB\nAUTH_TYPE = AUTH_DB\n"
WEBSERVER_CONFIG_OAUTH = """\
from flask_appbuilder.security.manager import AUTH_OAUTH
AUTH_TYPE = AUTH_OAUTH
AUTH_USER_REGISTRATION = True
AUTH_USER_REGISTRATION_ROLE = "Viewer"
OAUTH_PROVIDERS = [{
    "name": "weather-sso", "icon": "fa-key", "token_key": "access_token",
    "remote_app": {
        "client_id": "airflow-weather", "client_secret": "not-used",
        "api_base_url": "https://sso.weather.invalid/",
        "access_token_url": "https://sso.weather.invalid/token",
        "authorize_url": "https://sso.weather.invalid/authorize",
    },
}]
"""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.xdist_group("airkube-auth")
def test_fab_on_airflow_3_users_from_secrets(services, tmp_path):
    version = "3.3.2"
    database = services.fresh_database("airkube_auth_fab_332")
    spec = SPEC.format(version=version, database=database, pg_host=services.pg_host, pg_port=services.pg_port,
                       pg_user=services.pg_user)
    spec += "  manager: fab\n  webserverConfig: {name: airflow-webserver-config, key: webserver_config.py}\n"
    objects = podenv.render(spec, out=tmp_path / "render")
    _no_password_outside_secrets(objects)
    venv = podenv.venv_for(version)
    secrets = _secrets(objects, services)
    configmaps = {("airflow-webserver-config", "webserver_config.py"): WEBSERVER_CONFIG}
    airflow_ui.migrate(objects, secrets, tmp_path / "migrate", venv)
    assert rows(services, database, "SELECT count(*) FROM alembic_version_fab") == [["1"]], "FAB's tables were not migrated"

    run_job = _users_job(objects, venv, tmp_path, configmaps)
    said = run_job(secrets, 1)
    assert said == ["airkube_users: admin created with role Admin",
                    "airkube_users: forecaster created with role Viewer"], said
    before = _fab_tables(services, database)
    assert run_job(secrets, 2) == ["airkube_users: admin unchanged", "airkube_users: forecaster unchanged"]
    assert _fab_tables(services, database) == before, "the second run changed FAB's users"

    procs = Processes(tmp_path / "logs")

    def token(base, user, password):
        status, body = _request(base + "/auth/token", json.dumps({"username": user, "password": password}).encode(),
                                {"Content-Type": "application/json"})
        print("POST /auth/token as %s: %d" % (user, status))
        return status, (json.loads(body).get("access_token") if status in (200, 201) else body)

    try:
        _, base = airflow_ui.start_api_server(objects, secrets, tmp_path / "api-server", venv, procs, fab=True,
                                              configmaps=configmaps)
        status, tok = token(base, "admin", ADMIN_PASSWORD)
        assert status == 201, (status, tok)
        status, body = _request(base + "/api/v2/dags", headers={"Authorization": "Bearer " + tok})
        assert status == 200 and "dags" in json.loads(body), (status, body[:500])
        assert token(base, "admin", ADMIN_PASSWORD + "x")[0] == 401
        assert token(base, "nobody", ADMIN_PASSWORD)[0] == 401

        # Roles are FAB's, from the database: the Viewer reads, only the Admin writes.
        _, viewer = token(base, "forecaster", VIEWER_PASSWORD)
        pool = json.dumps({"name": "airkube_fab_pool", "slots": 2}).encode()
        hdr = {"Content-Type": "application/json"}
        assert _request(base + "/api/v2/pools", headers={"Authorization": "Bearer " + viewer})[0] == 200
        status, body = _request(base + "/api/v2/pools", pool, {**hdr, "Authorization": "Bearer " + viewer})
        assert status == 403, ("viewer created a pool", status, body[:300])
        status, body = _request(base + "/api/v2/pools", pool, {**hdr, "Authorization": "Bearer " + tok})
        assert status == 201, ("admin could not create a pool", status, body[:300])

        # FAB's login form, as a browser, on a page that shows webserver_config.py's app name.
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        status, page = _request(base + "/auth/login/", opener=browser)
        assert status == 200, (status, page[:300])
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": csrf}).encode()
        status, page = _request(base + "/auth/login/", form, {"Content-Type": "application/x-www-form-urlencoded"}, opener=browser)
        cookies = sorted(c.name for c in jar)
        print("FAB form login: %d, cookies %s" % (status, cookies))
        assert status == 200 and "Invalid login" not in page, (status, page[:500])
        assert "_token" in cookies, ("the form login gave the UI no token", cookies)
        ui_token = next(c.value for c in jar if c.name == "_token")
        status, body = _request(base + "/api/v2/dags", headers={"Authorization": "Bearer " + ui_token})
        assert status == 200, ("the UI's token", status, body[:300])

        # The Secret changes: the next Job (a new name at the next upgrade) sets it; the old one fails.
        said = run_job(_secrets(objects, services, admin=NEW_ADMIN_PASSWORD), 3)
        assert said == ["airkube_users: admin updated: password", "airkube_users: forecaster unchanged"], said
        assert token(base, "admin", NEW_ADMIN_PASSWORD)[0] == 201
        assert token(base, "admin", ADMIN_PASSWORD)[0] == 401

        # The ConfigMap changes to OAuth; the pod restarts (helm upgrade rolls it: its checksum).
        procs.stop_all()
        procs = Processes(tmp_path / "logs-oauth")
        oauth = {("airflow-webserver-config", "webserver_config.py"): WEBSERVER_CONFIG_OAUTH}
        _, base = airflow_ui.start_api_server(objects, secrets, tmp_path / "api-server-oauth", venv, procs, fab=True,
                                              configmaps=oauth)
        status, page = _request(base + "/auth/login/")
        assert status == 200 and "weather-sso" in page, ("no OAuth provider on the login page", status, page[:1500])
        try:
            urllib.request.build_opener(_NoRedirect()).open(base + "/auth/login/weather-sso", timeout=60)
            raise AssertionError("the OAuth provider's button did not redirect")
        except urllib.error.HTTPError as e:
            status, location = e.code, e.headers.get("Location", "")
        print("OAuth provider button: %d to %s" % (status, location.split("?")[0]))
        assert status == 302 and location.startswith("https://sso.weather.invalid/authorize?"), (status, location)
        assert "client_id=airflow-weather" in location, location
    finally:
        procs.stop_all()
        for p in procs.procs:
            print("---- %s (last lines)\n%s" % (p.name, p.tail(1500)))


# A role and a user that are not in the spec (made by hand, or by OAuth or LDAP): FAB keeps them too.
EXTRA_FAB = r"""
from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder
with get_application_builder() as ab:
    sm = ab.sm
    role = sm.add_role("Forecasters")
    sm.add_permission_to_role(role, sm.get_permission("can_read", "DAGs"))
    assert sm.add_user("sso-jane", "Jane", "Doe", "jane@weather.example", role, "unused-local-password")
print("extra FAB role and user added")
"""


@pytest.mark.xdist_group("airkube-auth")
def test_fab_users_and_roles_survive_2_11_to_3_3(services, tmp_path):
    """2.11.2's FAB users, their roles and a custom role carry over to 3.3.2 with auth.manager fab."""
    database = services.fresh_database("airkube_auth_fab_upgrade")
    fmt = dict(database=database, pg_host=services.pg_host, pg_port=services.pg_port, pg_user=services.pg_user)
    old = podenv.render(SPEC.format(version="2.11.2", **fmt), out=tmp_path / "render-2.11")
    venv_old = podenv.venv_for("2.11.2")
    secrets = _secrets(old, services)
    airflow_ui.migrate(old, secrets, tmp_path / "migrate-2.11", venv_old)
    assert _users_job(old, venv_old, tmp_path / "2.11")(secrets, 1) == [
        "airkube_users: admin created with role Admin", "airkube_users: forecaster created with role Viewer"]
    web = podenv.container(old, "webserver")
    root = tmp_path / "2.11" / "extra"
    p = podenv.run(podenv.materialize(old, web, secrets, root), root, ["python", "-c", EXTRA_FAB], venv=venv_old, timeout=300)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    before = _fab_tables(services, database)
    roles_before = rows(services, database, "SELECT name FROM ab_role ORDER BY name")

    new = podenv.render(SPEC.format(version="3.3.2", **fmt) + "  manager: fab\n", out=tmp_path / "render-3.3")
    venv = podenv.venv_for("3.3.2")
    t = time.monotonic()
    for c in [c for c in podenv.airflow_containers(new, init=True) if c.component == "migrate"]:
        root = tmp_path / "3.3" / ("migrate-" + c.name)
        p = podenv.run(podenv.materialize(new, c, secrets, root), root, c.container["args"], venv=venv, timeout=900)
        assert p.returncode == 0, "%s failed:\n%s%s" % (c.name, p.stdout[-3000:], p.stderr[-4000:])
    print("FIGURE 2.11.2 to 3.3.2 migration with FAB's tables: %.1f s" % (time.monotonic() - t))
    # The users Job of 3.3 finds every user as 2.11 left it: same password hashes, roles and emails.
    assert _users_job(new, venv, tmp_path / "3.3")(secrets, 1) == [
        "airkube_users: admin unchanged", "airkube_users: forecaster unchanged"]
    assert _fab_tables(services, database) == before, "the upgrade changed FAB's users"
    roles = rows(services, database, "SELECT name FROM ab_role ORDER BY name")
    assert set(map(tuple, roles_before)) <= set(map(tuple, roles)) and ["Forecasters"] in roles, (roles_before, roles)

    procs = Processes(tmp_path / "logs")
    try:
        _, base = airflow_ui.start_api_server(new, secrets, tmp_path / "3.3" / "api-server", venv, procs, fab=True)

        def token(user, password):
            status, body = _request(base + "/auth/token", json.dumps({"username": user, "password": password}).encode(),
                                    {"Content-Type": "application/json"})
            return status, (json.loads(body).get("access_token") if status == 201 else body)
        status, admin = token("admin", ADMIN_PASSWORD)
        assert status == 201, ("2.11's admin cannot log in on 3.3", status, admin)
        assert token("admin", ADMIN_PASSWORD + "x")[0] == 401
        status, viewer = token("forecaster", VIEWER_PASSWORD)
        assert status == 201, status
        pool = json.dumps({"name": "airkube_upgraded_pool", "slots": 1}).encode()
        hdr = {"Content-Type": "application/json"}
        assert _request(base + "/api/v2/pools", pool, {**hdr, "Authorization": "Bearer " + viewer})[0] == 403
        assert _request(base + "/api/v2/pools", pool, {**hdr, "Authorization": "Bearer " + admin})[0] == 201
        # The custom role still works through Airflow 3's auth manager: its user reads DAGs.
        status, jane = token("sso-jane", "unused-local-password")
        assert status == 201, status
        assert _request(base + "/api/v2/dags", headers={"Authorization": "Bearer " + jane})[0] == 200
        assert _request(base + "/api/v2/pools", headers={"Authorization": "Bearer " + jane})[0] == 403
    finally:
        procs.stop_all()
        for p in procs.procs:
            print("---- %s (last lines)\n%s" % (p.name, p.tail(1500)))


OIDC_PROVIDER = podenv.REPO / "hack" / "tools" / "oidc-provider.sh"
# Jane's login at the OpenID provider; Airflow never sees her password.
OIDC_USER, OIDC_PASSWORD = "jane@weather.example", "Sso-p@ss 1"
WEBSERVER_CONFIG_OIDC = """\
from flask_appbuilder.security.manager import AUTH_OAUTH
AUTH_TYPE = AUTH_OAUTH
AUTH_USER_REGISTRATION = True
AUTH_USER_REGISTRATION_ROLE = "Viewer"
# FAB reads an OpenID provider's user through its userinfo endpoint by the provider's name; "okta" is
# the name whose handler reads standard OIDC claims (sub, email, given_name, family_name) from /userinfo.
OAUTH_PROVIDERS = [{
    "name": "okta", "icon": "fa-key", "token_key": "access_token",
    "remote_app": {
        "client_id": "web", "client_secret": "secret",
        "api_base_url": "http://localhost:%(port)d/",
        "server_metadata_url": "http://localhost:%(port)d/.well-known/openid-configuration",
        "client_kwargs": {"scope": "openid email profile"},
    },
}]
"""


@pytest.mark.xdist_group("airkube-auth")
def test_fab_oidc_login_through_a_real_provider(services, tmp_path):
    """FAB on 3.3.2 with webserver_config.py pointing at a real OpenID Connect provider (zitadel/oidc's,
    hack/tools/oidc-provider.sh): a user who exists only at the provider signs in as a browser does
    (authorization code flow: Airflow's login, the provider's login form, back with the code), is made
    a FAB user with the registration role, and reaches the REST API with the UI's token as a Viewer."""
    version = "3.3.2"
    database = services.fresh_database("airkube_auth_oidc_332")
    spec = SPEC.format(version=version, database=database, pg_host=services.pg_host, pg_port=services.pg_port,
                       pg_user=services.pg_user)
    objects = podenv.render(spec + "  manager: fab\n  webserverConfig: {name: airflow-webserver-config, key: webserver_config.py}\n",
                            out=tmp_path / "render")
    venv = podenv.venv_for(version)
    secrets = _secrets(objects, services)
    airflow_ui.migrate(objects, secrets, tmp_path / "migrate", venv)

    p = subprocess.run([str(OIDC_PROVIDER)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    provider_bin = p.stdout.strip().splitlines()[-1]
    op_port, api_port = free_port(), free_port()
    redirect = "http://127.0.0.1:%d/auth/oauth-authorized/okta" % api_port
    op_root = tmp_path / "oidc-provider"
    op_root.mkdir()
    users = op_root / "users.json"
    users.write_text(json.dumps({"u-jane": {
        "ID": "u-jane", "Username": OIDC_USER, "Password": OIDC_PASSWORD, "FirstName": "Jane", "LastName": "Doe",
        "Email": OIDC_USER, "EmailVerified": True, "PreferredLanguage": "en"}}))
    procs = Processes(tmp_path / "logs")
    try:
        procs.start("oidc-provider", {"PATH": "/usr/bin:/bin", "PORT": str(op_port), "USERS_FILE": str(users),
                                      "REDIRECT_URI": redirect}, op_root, [provider_bin], venv=None)
        discovery = "http://localhost:%d/.well-known/openid-configuration" % op_port
        wait_for("the OpenID provider", lambda: http_ok(discovery), 60, interval=0.2, procs=procs)
        configmaps = {("airflow-webserver-config", "webserver_config.py"): WEBSERVER_CONFIG_OIDC % {"port": op_port}}
        _, base = airflow_ui.start_api_server(objects, secrets, tmp_path / "api-server", venv, procs, fab=True,
                                              configmaps=configmaps, port=api_port)

        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        t = time.monotonic()
        # Airflow's login sends the browser to the provider, which shows its own login form.
        with browser.open(base + "/auth/login/okta", timeout=60) as r:
            login_url, page = r.geturl(), r.read().decode()
        assert login_url.startswith("http://localhost:%d/login/username" % op_port), (login_url, page[:500])
        request_id = re.search(r'name="id" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"id": request_id, "username": OIDC_USER, "password": OIDC_PASSWORD}).encode()
        # The provider sends the browser back with a code, which Airflow's FAB redeems for the user's tokens.
        with browser.open(urllib.request.Request(login_url.split("?")[0], form), timeout=60) as r:
            landed, page = r.geturl(), r.read().decode()
        took = time.monotonic() - t
        cookies = sorted(c.name for c in jar if c.domain.startswith("127.0.0.1"))
        print("FIGURE real-Airflow OIDC login (authorization code flow through FAB): %.2f s, landed on %s, cookies %s"
              % (took, landed.split("?")[0], cookies))
        assert landed.startswith(base), (landed, page[:500])
        token = next((c.value for c in jar if c.name == "_token"), None)
        assert token, ("the OIDC login gave the UI no token", cookies, page[:500])
        status, body = _request(base + "/api/v2/dags", headers={"Authorization": "Bearer " + token})
        assert status == 200, ("the UI's token after the OIDC login", status, body[:300])
        status, body = _request(base + "/api/v2/pools", json.dumps({"name": "sso_pool", "slots": 1}).encode(),
                                {"Content-Type": "application/json", "Authorization": "Bearer " + token})
        assert status == 403, ("the registered OIDC user is a Viewer", status, body[:300])
        registered = rows(services, database, "SELECT u.username, u.email, r.name FROM ab_user u JOIN ab_user_role ur "
                                              "ON ur.user_id = u.id JOIN ab_role r ON r.id = ur.role_id")
        assert registered == [["okta_u-jane", OIDC_USER, "Viewer"]], registered
        # A wrong password stops at the provider: no code comes back to Airflow.
        jar.clear()
        with browser.open(base + "/auth/login/okta", timeout=60) as r:
            login_url, page = r.geturl(), r.read().decode()
        request_id = re.search(r'name="id" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"id": request_id, "username": OIDC_USER, "password": OIDC_PASSWORD + "x"}).encode()
        with browser.open(urllib.request.Request(login_url.split("?")[0], form), timeout=60) as r:
            assert r.geturl().startswith("http://localhost:%d/" % op_port), r.geturl()
        assert not any(c.name == "_token" for c in jar), "a wrong password at the provider gave a token"
    finally:
        procs.stop_all()
        for p in procs.procs:
            print("---- %s (last lines)\n%s" % (p.name, p.tail(2500)))
