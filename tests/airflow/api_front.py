"""The Kubernetes API behind a private CA, for the real-Airflow tests (issue 9).

A cloud's API server is often served under a CA that is no public one and not the CA of the
cluster's ServiceAccount tokens either. The local control plane plays that with:

- ``private_ca(dir)``: a throwaway CA and a serving certificate for 127.0.0.1 and localhost signed
  by it, made with the openssl CLI (the test runner's venv has no ``cryptography``). The CA exists
  only in the files written here and in whatever caBundle ConfigMap a test puts it in.
- ``ApiFront``: a TLS-terminating front on loopback. Clients get the certificate the throwaway CA
  signed; each connection is forwarded byte for byte to the real kube-apiserver over TLS that the
  front verifies with the cluster's own CA. The front never authenticates anyone: the client's
  bearer token passes through, so the API server's RBAC decides every call.

The front records every HTTP request head it forwards (method, path, the ServiceAccount the bearer
token names, a fingerprint of the token, User-Agent) and every failed TLS handshake (a client that
does not trust the throwaway CA aborts with an `unknown ca` alert), so a test can say who called
what through it and who refused it.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import secrets
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


@dataclass
class PrivateCA:
    ca_cert: Path      # the throwaway CA (PEM): what a caBundle holds
    cert: Path         # the front's serving certificate, for 127.0.0.1 and localhost
    key: Path

    @property
    def ca_pem(self) -> str:
        return self.ca_cert.read_text()


def _openssl(*args, cwd):
    p = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("openssl %s failed:\n%s%s" % (" ".join(args), p.stdout, p.stderr))


def private_ca(directory, name="airkube-test throwaway CA") -> PrivateCA:
    """A new CA and a serving certificate for 127.0.0.1/localhost it signed, valid for two days."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=" + name,
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-addext", "subjectKeyIdentifier=hash", cwd=d)
    _openssl("req", *ec, "-keyout", "front.key", "-out", "front.csr", "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "front.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n")
    _openssl("x509", "-req", "-in", "front.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-set_serial", "0x" + secrets.token_hex(8), "-days", "2", "-out", "front.crt",
             "-extfile", "front.ext", cwd=d)
    return PrivateCA(d / "ca.crt", d / "front.crt", d / "front.key")


def token_fingerprint(token: str) -> str:
    """How the front names a bearer token in its log (never the token itself)."""
    return hashlib.sha256(token.strip().encode()).hexdigest()[:12]


def _token_subject(token: str) -> str:
    """The `sub` of a JWT bearer token (a ServiceAccount token: system:serviceaccount:NS:NAME)."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]
    except (IndexError, ValueError, KeyError):
        return "?"


@dataclass
class Request:
    """One request the front forwarded."""
    conn: int
    method: str
    path: str
    account: str       # the bearer token's subject, "" without a token
    token: str         # token_fingerprint of the bearer token, "" without one
    user_agent: str
    at: float

    def __str__(self):
        path = self.path if len(self.path) < 90 else self.path[:87] + "..."
        return "#%d %s %s as %s (token %s, %s)" % (self.conn, self.method, path, self.account or "-",
                                                  self.token or "-", self.user_agent)


class _RequestScanner:
    """Finds the HTTP/1.1 request heads in a client's byte stream (skipping bodies by
    Content-Length or chunked encoding); the bytes themselves are forwarded untouched."""

    def __init__(self, on_request):
        self.buf = b""
        self.skip = 0            # body bytes still to pass
        self.chunked = False
        self.on_request = on_request

    def feed(self, data: bytes):
        self.buf += data
        while True:
            if self.skip:
                n = min(self.skip, len(self.buf))
                self.buf, self.skip = self.buf[n:], self.skip - n
                if self.skip:
                    return
            if self.chunked:
                line_end = self.buf.find(b"\r\n")
                if line_end < 0:
                    return
                size = int(self.buf[:line_end].split(b";")[0] or b"0", 16)
                self.buf = self.buf[line_end + 2:]
                if size == 0:
                    self.chunked = False
                    self.skip = 2        # the CRLF after the last chunk (no trailers from these clients)
                else:
                    self.skip = size + 2
                continue
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self.buf = self.buf[:end].decode("latin-1"), self.buf[end + 4:]
            lines = head.split("\r\n")
            m = re.match(r"([A-Z]+) (\S+) HTTP/1\.[01]$", lines[0])
            if not m:
                raise ValueError("not an HTTP/1.x request: %r" % lines[0][:200])
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            self.on_request(m.group(1), m.group(2), headers)
            if headers.get("transfer-encoding", "").lower() == "chunked":
                self.chunked = True
            else:
                self.skip = int(headers.get("content-length", "0"))


class ApiFront:
    """A TLS-terminating front for an API server; see the module doc.

        front = ApiFront(upstream="https://127.0.0.1:6443", upstream_ca="ca.crt", serving=private_ca(d))
        front.start()   # front.url is https://127.0.0.1:<port>
        ...
        front.stop()
    """

    def __init__(self, upstream: str, upstream_ca, serving: PrivateCA):
        u = urlsplit(upstream)
        self.up_host, self.up_port = u.hostname, u.port or 443
        self._server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._server_ctx.load_cert_chain(str(serving.cert), str(serving.key))
        self._server_ctx.set_alpn_protocols(["http/1.1"])
        self._client_ctx = ssl.create_default_context(cafile=str(upstream_ca))
        self._client_ctx.set_alpn_protocols(["http/1.1"])
        self.requests: list[Request] = []
        self.refused: list[str] = []       # handshakes a client aborted with a TLS error (e.g. unknown CA)
        self.dropped: list[str] = []       # connections closed during the handshake (a process stopping)
        self.errors: list[str] = []        # anything else that went wrong (upstream unreachable ...)
        self._lock = threading.Lock()
        self._conns = 0
        self._loop = None
        self.port = None

    @property
    def url(self) -> str:
        return "https://127.0.0.1:%d" % self.port

    def start(self):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="api-front", daemon=True)
        self._thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        return self

    def stop(self):
        if self._loop is None:
            return

        async def close():
            self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = None

    def mark(self):
        """Where requests and refused end now; since(mark) gives what came after."""
        with self._lock:
            return len(self.requests), len(self.refused)

    def since(self, mark):
        with self._lock:
            return list(self.requests[mark[0]:]), list(self.refused[mark[1]:])

    async def _listen(self):
        # Plain TCP first, TLS per connection (start_tls), so that a client's refusal is caught here.
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader, writer):
        with self._lock:
            self._conns += 1
            conn = self._conns
        try:
            await writer.start_tls(self._server_ctx, ssl_handshake_timeout=30)
        except (ssl.SSLError, OSError, asyncio.TimeoutError, ConnectionError) as e:
            with self._lock:
                (self.refused if isinstance(e, ssl.SSLError) else self.dropped).append(
                    "#%d %s: %s" % (conn, type(e).__name__, e))
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.up_host, self.up_port, ssl=self._client_ctx,
                                                                 server_hostname=self.up_host)
        except (ssl.SSLError, OSError) as e:
            with self._lock:
                self.errors.append("#%d upstream: %s" % (conn, e))
            writer.close()
            return

        def on_request(method, path, headers):
            auth = headers.get("authorization", "")
            token = auth[7:] if auth.lower().startswith("bearer ") else ""
            r = Request(conn, method, path, _token_subject(token) if token else "",
                        token_fingerprint(token) if token else "", headers.get("user-agent", ""), time.time())
            with self._lock:
                self.requests.append(r)

        scanner = _RequestScanner(on_request)

        async def pipe(src, dst, scan=None):
            try:
                while True:
                    data = await src.read(65536)
                    if not data:
                        break
                    if scan:
                        scan(data)
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError, ssl.SSLError, asyncio.IncompleteReadError):
                pass
            except ValueError as e:
                with self._lock:
                    self.errors.append("#%d %s" % (conn, e))
            finally:
                try:
                    dst.close()
                except (ConnectionError, OSError, RuntimeError):
                    pass

        await asyncio.gather(pipe(reader, up_writer, scanner.feed), pipe(up_reader, writer))
