"""A real browser logs in to the real UI (issue 8): Chromium, Airflow 3.3.2, the password from the Secret.

A Local release with `auth.users` (the password only in a Secret) and its DAGs on the NAS is
rendered with the local PostgreSQL as its database and migrated; a DAG the test writes to the DAGs
folder is parsed by the rendered dag-processor; the api-server pod starts the one way the tests
start it (airflow_ui: the `auth-passwords` init container, then the api-server). Then headless
Chromium (Debian's, through chromedriver and Selenium):

- opens the DAG list (/dags) and is sent to the login page (/auth/login): nothing is shown
  unauthenticated;
- signs in with a wrong password: it stays on the login page, which shows an error, and holds no
  session cookie;
- signs in through the same form with the password from the Secret: the UI returns to the DAG list
  it was sent from (/dags, the "Dags" tab), which counts one DAG and links to the test's DAG.

Screenshots, HTML and console logs of each step are kept under the test's folder (tmp_path/browser;
the paths are printed). Only the port differs from the pod (see airflow_ui).
"""
import time
import urllib.parse

import pytest
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

import airflow_ui
import chromium
import podenv
from kube_fixture import Processes, wait_for_dag

VERSION = "3.3.2"
DAG_ID = "airkube_browser_forecast"
USER = "admin"
# Typed into the form: characters a naive form, URL or JSON encoding would break.
PASSWORD = "Adm1n p@ss:w/rd%&\"'<"
# The UI's own cookie for the session (SimpleAuthManager's JWT).
SESSION_COOKIE = "_token"
# Generous bounds for a loaded 2-core machine; the times taken are printed, never asserted.
PAGE_TIMEOUT = 120

SPEC = podenv.spec_template("browser", body="""\
storage:
  dags:
    nfs: {{server: nas.example.com, path: /airflow/dags}}
auth:
  users:
    - {{username: {user}, role: Admin, passwordSecret: {{name: airflow-users, key: admin}}}}
""")

DAG = '''\
"""The DAG the browser test expects on the UI's DAG list."""
import pendulum
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG(dag_id="%s", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
         catchup=False, tags=["airkube-test"]):
    EmptyOperator(task_id="regrid")
''' % DAG_ID


def _path(driver):
    return urllib.parse.urlsplit(driver.current_url).path


def _text(driver):
    """The text the page shows (not its markup or hidden parts)."""
    return driver.find_element(By.TAG_NAME, "body").text


def _sign_in(driver, password):
    """Fills the login form as a person would (click, type) and submits it."""
    wait = WebDriverWait(driver, PAGE_TIMEOUT)
    user = wait.until(EC.element_to_be_clickable((By.NAME, "username")))
    pw = driver.find_element(By.NAME, "password")
    assert pw.get_attribute("type") == "password", "the password field shows what is typed"
    for field, text in ((user, USER), (pw, password)):
        field.click()
        field.clear()
        field.send_keys(text)
    submit = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "form button[type=submit]")))
    submit.click()


@pytest.mark.xdist_group("airkube-browser")
def test_login_form_reaches_the_dag_list(services, tmp_path):
    t0 = time.monotonic()
    database = services.fresh_database("airkube_browser_332")
    objects = podenv.render(SPEC.format(version=VERSION, database=database, pg_host=services.pg_host,
                                        pg_port=services.pg_port, pg_user=services.pg_user, user=USER),
                            out=tmp_path / "render")
    venv = podenv.venv_for(VERSION)
    secrets, _ = podenv.test_inputs(objects, db_password=services.pg_password)
    secrets[("airflow-users", "admin")] = PASSWORD
    airflow_ui.migrate(objects, secrets, tmp_path / "migrate", venv)
    dag_file = tmp_path / "dags" / "browser_forecast.py"
    dag_file.parent.mkdir()
    dag_file.write_text(DAG)

    artifacts = tmp_path / "browser"
    procs = Processes(tmp_path / "logs")
    driver = None
    step = "start"
    try:
        t = time.monotonic()
        airflow_ui.start(objects, "dag-processor", secrets, tmp_path / "dag-processor", venv, procs, dags=[dag_file])

        wait_for_dag(services, database, DAG_ID, procs, "the dag-processor to parse %s" % DAG_ID)
        print("dag-processor: %s parsed in %.1fs" % (DAG_ID, time.monotonic() - t))
        _, base = airflow_ui.start_api_server(objects, secrets, tmp_path / "api-server", venv, procs,
                                              hidden=(PASSWORD,))

        t = time.monotonic()
        driver = chromium.start(artifacts)
        print("chromium: started in %.1fs (%s)" % (time.monotonic() - t, driver.capabilities.get("browserVersion")))
        # The React app re-renders what a condition looks at: a stale element means "look again".
        wait = WebDriverWait(driver, PAGE_TIMEOUT, ignored_exceptions=(StaleElementReferenceException,))

        # Unauthenticated, the UI sends the browser to the login form.
        step = "login-page"
        t = time.monotonic()
        driver.get(base + "/dags")
        wait.until(lambda d: _path(d).rstrip("/").endswith("/auth/login"))
        wait.until(EC.visibility_of_element_located((By.NAME, "username")))
        print("GET /dags: login form at %s in %.1fs" % (driver.current_url, time.monotonic() - t))
        shot = chromium.keep(driver, artifacts, "1-login-page")
        print("screenshot: %s" % shot)
        assert DAG_ID not in driver.page_source, "the DAG list shows before login"

        # A wrong password: the form says so, and the browser stays signed out on the login page.
        step = "wrong-password"
        t = time.monotonic()
        _sign_in(driver, PASSWORD + "x")
        # The api-server's answer (401, "Invalid credentials"), shown above the form.
        wait.until(lambda d: "Invalid credentials" in _text(d))
        print("wrong password: 'Invalid credentials' shown in %.1fs" % (time.monotonic() - t))
        shot = chromium.keep(driver, artifacts, "2-wrong-password")
        print("screenshot: %s" % shot)
        assert _path(driver).rstrip("/").endswith("/auth/login"), driver.current_url
        assert driver.get_cookie(SESSION_COOKIE) is None, "a wrong password got a session"
        assert DAG_ID not in driver.page_source

        # The password from the Secret, in a fresh form (no error left from the last try): the DAG
        # list, with the test's DAG on it. A rejection fails at once, naming it.
        step = "dag-list"
        driver.refresh()
        wait.until(lambda d: "Invalid credentials" not in _text(d))
        t = time.monotonic()
        _sign_in(driver, PASSWORD)

        def landed(d):
            if "Invalid credentials" in _text(d):
                return "rejected"
            links = [a for a in d.find_elements(By.CSS_SELECTOR, 'a[href$="/dags/%s"]' % DAG_ID) if a.is_displayed()]
            return links[0] if links else None
        link = wait.until(landed)
        assert link != "rejected", "the login form rejected the password from the Secret"
        print("login: DAG list at %s in %.1fs" % (driver.current_url, time.monotonic() - t))
        # Back where the browser was sent from (/dags), on the "Dags" tab, listing this release's one DAG.
        assert _path(driver).rstrip("/") == "/dags", driver.current_url
        assert link.text.strip() == DAG_ID, link.text
        current = [a.text.strip() for a in driver.find_elements(By.CSS_SELECTOR, "a[aria-current=page]")]
        assert "Dags" in current, "the Dags tab is not the current page: %r" % current
        headings = [h.text.strip() for h in driver.find_elements(By.CSS_SELECTOR, "h1, h2, h3")]
        assert "1 Dag" in headings, "the DAG list does not count the release's one DAG: %r" % headings
        assert driver.get_cookie(SESSION_COOKIE) is not None, "signed in without a session cookie"
        shot = chromium.keep(driver, artifacts, "3-dag-list")
        print("screenshot: %s" % shot)
        step = "done"
    except TimeoutException as e:
        raise AssertionError("%s: timed out after %ds at %s (see %s)" % (
            step, PAGE_TIMEOUT, driver.current_url if driver else "-", artifacts)) from e
    finally:
        if driver is not None:
            if step != "done":
                try:
                    print("screenshot of the failure: %s" % chromium.keep(driver, artifacts, "failed-" + step))
                except Exception as e:  # noqa: BLE001 - the test's own error is the one to report
                    print("no screenshot of the failure: %r" % e)
            driver.quit()
        procs.stop_all()
        for p in procs.procs:
            print("---- %s (last lines)\n%s" % (p.name, p.tail(1500)))
        print("browser test total: %.1fs" % (time.monotonic() - t0))
