"""Headless Chromium for the UI tests: Debian's chromium, driven by Selenium through Debian's chromedriver.

`start(artifacts)` ensures both are installed (hack/airflow/browser.sh: apt-get when missing, so a
pytest run by hand works too) and returns a selenium Chrome driver; the driver's log goes to
`artifacts/chromedriver.log`. Selenium is given the driver's path, so its own driver manager (which
would download one) never runs. `keep(driver, artifacts, name)` saves a screenshot, the page's HTML
and the browser console's lines under artifacts, for a person to look at.

The browser talks only to loopback: no proxy, no background networking, no component updates.
"""
import json
import subprocess
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

import podenv

BROWSER_SH = podenv.REPO / "hack" / "airflow" / "browser.sh"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WINDOW = (1400, 900)


def start(artifacts) -> webdriver.Chrome:
    artifacts = Path(artifacts)
    artifacts.mkdir(parents=True, exist_ok=True)
    p = subprocess.run([str(BROWSER_SH)], capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, "hack/airflow/browser.sh failed:\n%s%s" % (p.stdout, p.stderr[-3000:])
    print("\n".join(p.stderr.strip().splitlines()[-1:]))  # the versions (after apt-get's log when it installed)
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=%d,%d" % WINDOW, "--no-proxy-server", "--disable-component-update",
                "--disable-background-networking", "--lang=en-US"):
        opts.add_argument(arg)
    # The UI picks its language from the browser's: English, so its texts are the ones checked.
    opts.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(CHROMEDRIVER, log_output=str(artifacts / "chromedriver.log"))
    return webdriver.Chrome(service=service, options=opts)


def keep(driver, artifacts, name) -> Path:
    """Saves NAME.png (the screenshot), NAME.html and NAME.console.json under artifacts."""
    artifacts = Path(artifacts)
    png = artifacts / (name + ".png")
    driver.save_screenshot(str(png))
    (artifacts / (name + ".html")).write_text(driver.page_source)
    try:
        console = driver.get_log("browser")
    except Exception as e:  # noqa: BLE001 - the console is a debugging aid only
        console = [{"error": repr(e)}]
    (artifacts / (name + ".console.json")).write_text(json.dumps(console, indent=1))
    return png
