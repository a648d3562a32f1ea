#!/usr/bin/python3
"""nats_tool.py -- a raw NATS protocol client for the relay tests (stdlib only).

No NATS client library is installed, and the client protocol is small text
(INFO / CONNECT / PING / PONG / SUB / PUB / MSG / HMSG), so this speaks it
on a socket and uses JetStream through its API subjects.

  nats_tool.py free-port                      a free TCP port on 127.0.0.1
  nats_tool.py wait --port P [--timeout S]    until JetStream answers ($JS.API.INFO)
  nats_tool.py req --port P SUBJECT [JSON]    one JetStream API request; prints the reply
  nats_tool.py dump --port P [--stream S]     every message of the stream, in stream
                                              order, one JSON object a line:
                                              {"seq","subject","msgid","ctype","data"}
  nats_tool.py log --db FILE                  the event log as stored, one line per
                                              event: {"logseq","id","json"}
  nats_tool.py cursor --db FILE NAME          a worker cursor (0 if unset)

Exit status: 0, 1 on a JetStream error reply or timeout, 2 on usage errors.
"""
import argparse
import base64
import json
import socket
import sqlite3
import sys
import time


class Nats:
    """One connection; request() sends a request and waits for its reply."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.nreq = 0
        line = self._line()
        if not line.startswith(b"INFO "):
            raise IOError("expected INFO, got %r" % line[:80])
        connect = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True,
                   "protocol": 1, "lang": "python-test", "version": "0", "name": "nats_tool"}
        self.sock.sendall(b"CONNECT " + json.dumps(connect).encode() + b"\r\nPING\r\n")
        while True:
            line = self._line()
            if line == b"PONG":
                break
            if line.startswith(b"-ERR"):
                raise IOError(line.decode(errors="replace"))
        self.inbox = "_INBOX.tool%d" % int(time.time() * 1000)
        self.sock.sendall(("SUB %s.* 1\r\n" % self.inbox).encode())

    def _fill(self):
        data = self.sock.recv(1 << 16)
        if not data:
            raise IOError("connection closed by the server")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _bytes(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def send(self, subject, payload=b""):
        """Publishes a request; returns its reply subject."""
        self.nreq += 1
        reply = "%s.%d" % (self.inbox, self.nreq)
        self.sock.sendall(("PUB %s %s %d\r\n" % (subject, reply, len(payload))).encode() + payload + b"\r\n")
        return reply

    def next_msg(self):
        """(subject, headers bytes, payload bytes) of the next message."""
        while True:
            line = self._line()
            if line == b"PING":
                self.sock.sendall(b"PONG\r\n")
                continue
            if line in (b"PONG", b"+OK") or not line:
                continue
            if line.startswith(b"-ERR"):
                raise IOError(line.decode(errors="replace"))
            parts = line.decode().split()
            if parts[0] == "MSG":
                n = int(parts[-1])
                return parts[1], b"", self._bytes(n)
            if parts[0] == "HMSG":
                hlen, total = int(parts[-2]), int(parts[-1])
                data = self._bytes(total)
                return parts[1], data[:hlen], data[hlen:]
            raise IOError("unexpected protocol line %r" % line[:80])

    def request(self, subject, payload=b""):
        reply = self.send(subject, payload)
        while True:
            subj, hdrs, data = self.next_msg()
            if subj == reply:
                if not data and b" 503" in hdrs.split(b"\r\n", 1)[0]:
                    raise IOError("no responders for %s (is JetStream enabled?)" % subject)
                return json.loads(data)


def parse_headers(raw):
    """NATS/1.0 header block -> {key: value} (last value wins)."""
    out = {}
    for line in raw.decode().split("\r\n")[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def cmd_free_port(_args):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def cmd_wait(args):
    deadline = time.time() + args.timeout
    last = None
    while time.time() < deadline:
        try:
            nc = Nats(args.port, timeout=2)
            info = nc.request("$JS.API.INFO")
            if "error" not in info:
                return 0
            last = info["error"]
        except (OSError, ValueError) as e:
            last = e
        time.sleep(0.05)
    print("nats_tool: JetStream on port %d not ready after %ss: %s" % (args.port, args.timeout, last),
          file=sys.stderr)
    return 1


def cmd_req(args):
    nc = Nats(args.port)
    reply = nc.request(args.subject, (args.json or "").encode())
    print(json.dumps(reply, sort_keys=True))
    return 1 if "error" in reply else 0


def cmd_dump(args):
    nc = Nats(args.port)
    info = nc.request("$JS.API.STREAM.INFO." + args.stream)
    if "error" in info:
        print("nats_tool: %s" % info["error"], file=sys.stderr)
        return 1
    first, last = info["state"]["first_seq"], info["state"]["last_seq"]
    if info["state"]["messages"] == 0:
        return 0
    seq = first
    while seq <= last:
        # pipelined: a window of requests, then their replies in order
        batch = list(range(seq, min(last, seq + 499) + 1))
        replies = {nc.send("$JS.API.STREAM.MSG.GET." + args.stream, json.dumps({"seq": s}).encode()): s
                   for s in batch}
        got = {}
        while len(got) < len(batch):
            subj, _h, data = nc.next_msg()
            if subj in replies:
                got[replies[subj]] = json.loads(data)
        for s in batch:
            r = got[s]
            if "error" in r:
                if r["error"].get("err_code") == 10037:  # deleted message: a gap
                    continue
                print("nats_tool: seq %d: %s" % (s, r["error"]), file=sys.stderr)
                return 1
            m = r["message"]
            hdrs = parse_headers(base64.b64decode(m.get("hdrs", ""))) if m.get("hdrs") else {}
            print(json.dumps({"seq": m["seq"], "subject": m["subject"], "msgid": hdrs.get("Nats-Msg-Id"),
                              "ctype": hdrs.get("content-type"),
                              "data": base64.b64decode(m.get("data", "")).decode()}))
        seq = batch[-1] + 1
    return 0


def db_connect(path):
    return sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)


def cmd_log(args):
    db = db_connect(args.db)
    for logseq, evid, text in db.execute("SELECT logseq, id, json FROM events ORDER BY logseq"):
        print(json.dumps({"logseq": logseq, "id": evid, "json": text}))
    return 0


def cmd_cursor(args):
    db = db_connect(args.db)
    row = db.execute("SELECT logseq FROM cursors WHERE name = ?", (args.name,)).fetchone()
    print(row[0] if row else 0)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("free-port")
    p = sub.add_parser("wait")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--timeout", type=float, default=20)
    p = sub.add_parser("req")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("subject")
    p.add_argument("json", nargs="?")
    p = sub.add_parser("dump")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--stream", default="GITSTORE")
    p = sub.add_parser("log")
    p.add_argument("--db", required=True)
    p = sub.add_parser("cursor")
    p.add_argument("--db", required=True)
    p.add_argument("name")
    args = ap.parse_args()
    fn = {"free-port": cmd_free_port, "wait": cmd_wait, "req": cmd_req, "dump": cmd_dump,
          "log": cmd_log, "cursor": cmd_cursor}[args.cmd]
    try:
        return fn(args) or 0
    except (OSError, ValueError) as e:
        print("nats_tool: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
