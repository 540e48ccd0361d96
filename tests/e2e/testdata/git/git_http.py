"""A private git server for the kind suite's DAG bundle test: git's own smart HTTP (`git http-backend`)
behind HTTP basic auth, as a hosted repository with an access token is.

    python3 git_http.py ROOT PORT      serves the bare repositories under ROOT on PORT

The user and token come from GIT_USER and GIT_TOKEN. A request without them, or with others, gets
401 and a Basic challenge, so a client must answer with its credentials (git asks its credential
helper then). Each authorised request runs git http-backend as a CGI program (push included), and
is logged as `METHOD path status user`.
"""
import base64
import hmac
import os
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

ROOT, PORT = sys.argv[1], int(sys.argv[2])
USER, TOKEN = os.environ["GIT_USER"], os.environ["GIT_TOKEN"]


class Git(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def authorised(self):
        kind, _, value = self.headers.get("Authorization", "").partition(" ")
        if kind.lower() != "basic":
            return False
        try:
            user, _, token = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return False
        return hmac.compare_digest(user, USER) and hmac.compare_digest(token, TOKEN)

    def serve(self):
        if not self.authorised():
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="dags"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.log_message("%s %s 401 -", self.command, self.path)
            return
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        env = dict(os.environ, GIT_PROJECT_ROOT=ROOT, GIT_HTTP_EXPORT_ALL="1", REMOTE_USER=USER,
                   REQUEST_METHOD=self.command, PATH_INFO=url.path, QUERY_STRING=url.query,
                   CONTENT_TYPE=self.headers.get("Content-Type", ""), CONTENT_LENGTH=str(len(body)),
                   HTTP_CONTENT_ENCODING=self.headers.get("Content-Encoding", ""),
                   GIT_PROTOCOL=self.headers.get("Git-Protocol", ""))
        out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode().split("\r\n"):
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.split()[0])
            elif key:
                headers.append((key, value.strip()))
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.log_message("%s %s %d %s", self.command, url.path, status, USER)

    do_GET = do_POST = serve

    def log_request(self, code="-", size="-"):
        pass  # serve logs each request itself, with the user


ThreadingHTTPServer(("", PORT), Git).serve_forever()
