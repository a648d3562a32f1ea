#!/usr/bin/python3
"""Minimal HTTP server that runs `git http-backend` as a CGI program.

Only for `make bench` (the "stock smart HTTP" baseline): binds 127.0.0.1 on an
ephemeral port, writes the port to PORT_FILE, serves every repository under
ROOT without authentication (the repositories need http.receivepack=true for
pushes).  Request bodies are read whole (Content-Length or chunked) and fed to
one `git http-backend` process per request, as a CGI server would.

usage: git_cgi_server.py ROOT PORT_FILE
"""
import os
import subprocess
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BACKEND = os.environ.get("GIT_HTTP_BACKEND") or subprocess.run(
    ["git", "--exec-path"], capture_output=True, text=True, check=True
).stdout.strip() + "/git-http-backend"
ROOT = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(parts)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _cgi(self):
        path, _, query = self.path.partition("?")
        body = self._body() if self.command == "POST" else b""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/"),
            "GIT_PROJECT_ROOT": ROOT,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": urllib.parse.unquote(path),
            "QUERY_STRING": query,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
        }
        for k in ("GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL"):
            if k in os.environ:
                env[k] = os.environ[k]
        if self.command == "POST":
            env["CONTENT_LENGTH"] = str(len(body))
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        p = subprocess.run([BACKEND], input=body, stdout=subprocess.PIPE, env=env)
        out = p.stdout
        sep = out.find(b"\r\n\r\n")
        if sep >= 0:
            head, payload = out[:sep], out[sep + 4:]
        else:
            sep = out.find(b"\n\n")
            head, payload = (out[:sep], out[sep + 2:]) if sep >= 0 else (b"", out)
        status, headers = 200, []
        for line in head.splitlines():
            k, _, v = line.decode("latin-1").partition(":")
            v = v.strip()
            if k.lower() == "status":
                status = int(v.split()[0])
            elif k:
                headers.append((k, v))
        if p.returncode != 0 and not head:
            status, payload = 500, b"git http-backend failed\n"
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _cgi
    do_POST = _cgi


def main():
    global ROOT
    ROOT = os.path.abspath(sys.argv[1])
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, sys.argv[2])
    srv.serve_forever()


if __name__ == "__main__":
    main()
