"""The release's StatsD exporter, run for real on the host, and a reader of what it serves.

``binary()`` is statsd_exporter built from its Go module at the version pinned in
hack/tools/versions.env (hack/tools/statsd-exporter.sh, cached). ``start(objects, procs, root)`` runs
the rendered exporter container the way its pod would: its args, and its mapping file from the
rendered ConfigMap at the mounted path (podenv), with only the listen addresses moved to free
loopback ports (``OVERRIDES``). ``scrape(url)`` parses the Prometheus text format it serves.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass

import podenv
from kube_fixture import free_port, http_ok, wait_for

SCRIPT = podenv.REPO / "hack" / "tools" / "statsd-exporter.sh"

# The exporter's flags that must differ on the host: its pod has the node's ports to itself.
OVERRIDES = {
    "--statsd.listen-udp": "127.0.0.1:<free UDP port>",
    "--web.listen-address": "127.0.0.1:<free TCP port>",
}


def binary() -> str:
    """The cached statsd_exporter of the pinned version (built the first time, ~30 s)."""
    p = subprocess.run([str(SCRIPT)], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (SCRIPT, p.stderr[-3000:]))
    return p.stdout.strip().splitlines()[-1]


def free_udp_port() -> int:
    return free_port(socket.SOCK_DGRAM)


def container(objects) -> podenv.Container:
    """The exporter's container, from the rendered Deployment of component statsd."""
    for o in objects:
        if o.get("kind") != "Deployment":
            continue
        tmpl = o["spec"]["template"]
        if tmpl["metadata"]["labels"].get("app.kubernetes.io/component") == "statsd":
            return podenv.Container("Deployment/" + o["metadata"]["name"], "statsd", None,
                                    tmpl["spec"]["containers"][0], tmpl["spec"], tmpl["metadata"])
    raise AssertionError("the release has no StatsD exporter Deployment")


@dataclass
class Exporter:
    statsd_port: int   # UDP, where Airflow sends
    url: str           # where Prometheus scrapes
    args: list


def start(objects, procs, root) -> Exporter:
    """Starts the rendered exporter (see the module doc) under procs; returns it once ready."""
    c = container(objects)
    udp, web = free_udp_port(), free_port()
    moved = {"--statsd.listen-udp": "127.0.0.1:%d" % udp, "--web.listen-address": "127.0.0.1:%d" % web}
    args = []
    for a in c.container["args"]:
        flag = a.split("=", 1)[0]
        args.append(flag + "=" + moved.pop(flag) if flag in moved else a)
    assert not moved, "the rendered exporter args %s lack %s" % (c.container["args"], sorted(moved))
    env = podenv.materialize(objects, c, root=root)
    t = time.monotonic()
    procs.start("statsd-exporter", env, root, [binary(), *args], venv=None)
    url = "http://127.0.0.1:%d" % web
    probe = c.container["readinessProbe"]["httpGet"]["path"]
    wait_for("the exporter's rendered readinessProbe", lambda: http_ok(url + probe), 60, interval=0.2, procs=procs)
    print("statsd exporter ready in %.1fs: %s" % (time.monotonic() - t, " ".join(args)))
    return Exporter(udp, url + "/metrics", args)


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict
    value: float
    family: str  # the metric it belongs to: a summary's _sum and _count are the summary's


def scrape(url) -> list[Sample]:
    """Every sample the exporter serves (the text exposition format)."""
    with urllib.request.urlopen(url, timeout=10) as r:
        text = r.read().decode()
    out = []
    family = ""
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            family = line.split()[2]
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise AssertionError("not a sample line: %r" % line)
        labels = {k: bytes(v, "utf-8").decode("unicode_escape") for k, v in _LABEL.findall(m.group(2) or "")}
        out.append(Sample(m.group(1), labels, float(m.group(3)), family))
    return out


def value(samples, name, **labels) -> float | None:
    """The value of the sample called name whose labels include labels, or None."""
    for s in samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


def events_handled(samples) -> float:
    """How many StatsD lines the exporter has mapped, dropped or kept unmapped (it handles the
    lines it parses in batches, up to 200 ms later)."""
    return sum(s.value for s in samples if s.name in ("statsd_exporter_events_actions_total",
                                                      "statsd_exporter_events_unmapped_total"))


def send(port, lines):
    """Sends StatsD lines to the exporter, one per datagram, as Airflow's client does."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for line in lines:
            s.sendto(line.encode(), ("127.0.0.1", port))
