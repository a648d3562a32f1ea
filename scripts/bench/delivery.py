#!/usr/bin/python3
"""Delivery figures for scripts/bench/delivery.sh (stdlib only; reuses
bench.py's fast-import builder and push helper, lifecycle.py's keep-alive
client and /proc CPU reader).

  delivery.py setup --work DIR --git-base URL --server URL --token T
                    --watch-token W --repo NS/NAME --events N
      untimed: a base commit pushed to main, then ONE atomic push creating N
      lightweight tags (the receive-pack request is written here: the stock
      git client is quadratic in the refs of a push over smart HTTP, ~40 s
      for 5,000 tags, most of it git's own CPU); checks that the log holds
      N tag-created events at after+1..after+N and a push-completed after
      them, and waits until the daemon's built-in consumers have worked
      through them
  delivery.py sse --server URL --token T --after A --events N --streams S
                  --rounds R [--pid PID]
      per round, interleaved: 1 stream alone, and S concurrent streams, each
      GET /api/v1/events/stream?after=A read until it has N `id:` lines
  delivery.py consumer --server URL --token T --after A --events N
                       --repo NS/NAME --rounds R [--pid PID]
      per round, interleaved: a fresh durable consumer (filter tag-created,
      the repository) drained by fetch?max=100 + ack, and the same N events
      read as GET /api/v1/events pages of 100 (keep-alive, no acks)

Prints "key=value" lines (prefix dlv.) on stdout, progress on stderr; exits
non-zero only when the benchmark itself breaks (or an event is delivered
wrongly: a consumer that loses, repeats or reorders an event fails the run).
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import socket
import statistics
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import FastImport, api_get, die, git, log, push  # noqa: E402
from lifecycle import Conn, cpu_delta, cpu_s  # noqa: E402

TAG_TYPE = "dev.gitstore.tag-created.v1"


def hostport(server):
    u = urllib.parse.urlsplit(server)
    return u.hostname, u.port


def log_head(server, token):
    """The last logseq the token can see (pages of 1000 followed)."""
    after = 0
    while True:
        batch = api_get(server, token, "/api/v1/events?after=%d&limit=1000" % after)
        if not batch:
            return after
        after = batch[-1]["logseq"]


def builtin_idle(a, head):
    """True when every built-in consumer has scanned the log up to `head`
    and settled all it took."""
    items = api_get(a.server, a.watch_token, "/api/v1/consumers")["items"]
    busy = [c for c in items if c.get("builtin") and (c["pending"] or c["pulled"] < head)]
    return not busy, {c["name"]: c["pending"] for c in items if c.get("builtin")}


def wait_idle(a, head, timeout):
    t0 = time.time()
    last = 0
    while True:
        ok, pend = builtin_idle(a, head)
        if ok:
            return time.time() - t0
        if time.time() - t0 > timeout:
            die("the built-in consumers did not catch up with logseq %d within %d s (pending %s)" % (
                head, timeout, pend))
        if time.time() - last > 10:
            log("delivery setup: waiting for the built-in consumers (pending %s)" % pend)
            last = time.time()
        time.sleep(0.2)


# --- setup ---------------------------------------------------------------------

def pkt(line):
    return b"%04x" % (len(line) + 4) + line


def receive_pack_tags(a, sha, n):
    """One smart-HTTP receive-pack request creating refs/tags/t00001..tN at
    sha (already on the server), atomic, with an empty pack; checks the
    report-status. Returns the wall time."""
    u = urllib.parse.urlsplit(a.git_base)
    auth = "Basic " + base64.b64encode(("%s:%s" % (urllib.parse.unquote(u.username or "x"),
                                                   urllib.parse.unquote(u.password or ""))).encode()).decode()
    path = "/%s.git" % a.repo
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    c.request("GET", path + "/info/refs?service=git-receive-pack", headers={"Authorization": auth})
    r = c.getresponse()
    adv = r.read()
    if r.status != 200:
        die("GET %s/info/refs: HTTP %d: %s" % (path, r.status, adv[:300]))
    # the capabilities follow the first ref after a NUL
    caps = adv.split(b"\0", 1)[1].split(b"\n", 1)[0].split() if b"\0" in adv else []
    for need in (b"report-status", b"atomic"):
        if need not in caps:
            die("receive-pack does not offer %s (capabilities: %s)" % (need.decode(), b" ".join(caps).decode()))
    zero = b"0" * 40
    body = []
    for j in range(n):
        line = b"%s %s refs/tags/t%05d" % (zero, sha.encode(), j + 1)
        if j == 0:
            line += b"\0report-status atomic agent=gitstore-bench"
        body.append(pkt(line + b"\n"))
    body.append(b"0000")
    head = b"PACK" + (2).to_bytes(4, "big") + (0).to_bytes(4, "big")
    body.append(head + hashlib.sha1(head).digest())
    t0 = time.perf_counter()
    c.request("POST", path + "/git-receive-pack", body=b"".join(body), headers={
        "Authorization": auth, "Content-Type": "application/x-git-receive-pack-request",
        "Accept": "application/x-git-receive-pack-result"})
    r = c.getresponse()
    out = r.read()
    dt = time.perf_counter() - t0
    c.close()
    if r.status != 200:
        die("POST %s/git-receive-pack: HTTP %d: %s" % (path, r.status, out[:300]))
    lines, k = [], 0
    while k + 4 <= len(out):
        ln = int(out[k:k + 4], 16)
        if ln == 0:
            k += 4
            continue
        lines.append(out[k + 4:k + ln].rstrip(b"\n"))
        k += ln
    ok = sum(1 for x in lines if x.startswith(b"ok refs/tags/"))
    if not lines or lines[0] != b"unpack ok" or ok != n:
        bad = [x for x in lines if not x.startswith(b"ok ")][:5]
        die("receive-pack of %d tags: %d ok; %s" % (n, ok, b"; ".join(bad).decode(errors="replace")))
    return dt


def cmd_setup(a):
    t_step = time.perf_counter()
    w = a.work
    git(".", "init", "-q", w)
    fi = FastImport(w)
    m = fi.commit("refs/heads/main", None, "base\n", [("README.md", b"delivery benchmark\n")])
    sha = fi.run()[m]
    push(w, "%s/%s.git" % (a.git_base, a.repo), sha, "refs/heads/main")
    head = log_head(a.server, a.token)
    wait_idle(a, head, a.timeout)
    after = log_head(a.server, a.token)
    push_s = receive_pack_tags(a, sha, a.events)
    t_push = time.time()
    # the N tag-created events and the push-completed after them
    evs = []
    cur = after
    while len(evs) < a.events + 1:
        batch = api_get(a.server, a.token, "/api/v1/events?after=%d&limit=1000" % cur)
        if not batch:
            if time.time() - t_push > 60:
                die("only %d of %d events after logseq %d" % (len(evs), a.events + 1, after))
            time.sleep(0.05)
            continue
        evs.extend(batch)
        cur = batch[-1]["logseq"]
    tags = evs[:a.events]
    want = list(range(after + 1, after + a.events + 1))
    if [e["logseq"] for e in tags] != want or any(e["type"] != TAG_TYPE for e in tags) or \
            evs[a.events]["type"] != "dev.gitstore.push-completed.v1":
        die("the log after %d is not %d tag-created and a push-completed: %s" % (
            after, a.events, ", ".join("%d %s" % (e["logseq"], e["type"]) for e in evs[:3] + evs[-3:])))
    names = {e["data"]["ref"] for e in tags}
    if len(names) != a.events:
        die("%d distinct tags in %d tag-created events" % (len(names), a.events))
    ev_bytes = sum(len(json.dumps(e, separators=(",", ":"))) for e in tags) / a.events
    # untimed: the daemon's own consumers (catalog worker, lifecycle
    # controller) work through the N events before anything is measured
    head = log_head(a.server, a.token)
    drain_s = wait_idle(a, head, a.timeout)
    time.sleep(0.5)
    print("dlv.after=%d" % after)
    print("dlv.events=%d" % a.events)
    print("dlv.head=%d" % log_head(a.server, a.token))
    print("dlv.event_bytes=%.0f" % ev_bytes)
    print("dlv.push_s=%.2f" % push_s)
    print("dlv.drain_s=%.1f" % drain_s)
    print("dlv.setup_s=%.1f" % (time.perf_counter() - t_step))
    log("delivery setup: %d tag-created at logseq %d..%d (push %.1f s, built-in consumers done %.1f s later)" % (
        a.events, after + 1, after + a.events, push_s, drain_s))


# --- SSE fan-out -----------------------------------------------------------------

class Stream:
    """One SSE stream on a raw socket: connects (untimed), then on go()
    sends the request and reads until it has counted `want` `id:` lines.
    Handles a chunked or a close-delimited body; counts b"\\nid: " in the
    de-chunked payload (a data: line is one line of JSON, so the pattern
    only occurs at the start of an event)."""

    def __init__(self, host, port, token, after, want, keep=False):
        self.req = ("GET /api/v1/events/stream?after=%d HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"
                    "Accept: text/event-stream\r\nUser-Agent: gitstore-bench\r\n\r\n" % (
                        after, host, port, token)).encode()
        self.want = want
        self.keep = keep
        self.payload = []
        self.sock = socket.create_connection((host, port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.count = 0
        self.nbytes = 0
        self.t_start = self.t_first = self.t_end = None
        self.error = None

    def run(self):
        try:
            self._run()
        except Exception as e:  # reported by the caller
            self.error = "%s: %s" % (type(e).__name__, e)
        finally:
            self.sock.close()

    def _run(self):
        sock, pc = self.sock, time.perf_counter
        self.t_start = pc()
        sock.sendall(self.req)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise OSError("closed before the response header")
            buf += chunk
        k = buf.index(b"\r\n\r\n")
        head, buf = buf[:k].lower(), buf[k + 4:]
        if not head.startswith(b"http/1.1 200") and not head.startswith(b"http/1.0 200"):
            raise OSError("stream: %s" % head.split(b"\r\n")[0].decode(errors="replace"))
        chunked = b"transfer-encoding: chunked" in head
        self.t_first = pc()
        tail = b""
        left = 0            # data bytes left in the current chunk
        skip = 0            # bytes of the CRLF after a chunk's data left to skip
        want, keep, count = self.want, self.keep, 0
        recv = sock.recv
        while True:
            if chunked:
                parts, pos, n = [], 0, len(buf)
                while pos < n:
                    if left:
                        p = buf[pos:pos + left]
                        pos += len(p)
                        left -= len(p)
                        parts.append(p)
                        if not left:
                            skip = 2
                    elif skip:
                        d = min(skip, n - pos)
                        pos += d
                        skip -= d
                    else:
                        e = buf.find(b"\r\n", pos)
                        if e < 0:
                            break
                        left = int(buf[pos:e].split(b";")[0], 16)
                        pos = e + 2
                        if not left:
                            raise OSError("stream ended after %d events" % count)
                buf = buf[pos:]
                data = parts[0] if len(parts) == 1 else b"".join(parts)
            else:
                data, buf = buf, b""
            if data:
                self.nbytes += len(data)
                t = tail + data
                count += t.count(b"\nid: ")
                tail = t[-4:]
                if keep:
                    self.payload.append(data)
                if count >= want:
                    break
            chunk = recv(262144)
            if not chunk:
                raise OSError("connection closed after %d of %d events" % (count, want))
            buf += chunk
        self.t_end = pc()
        self.count = count


def sse_run(host, port, token, after, n, streams, pid):
    """`streams` concurrent streams from `after`; returns a result dict."""
    ss = [Stream(host, port, token, after, n) for _ in range(streams)]
    go = threading.Barrier(streams + 1)

    def body(s):
        go.wait()
        s.run()

    th = [threading.Thread(target=body, args=(s,)) for s in ss]
    for t in th:
        t.start()
    c0 = cpu_s(pid)
    p0 = time.process_time()
    go.wait()
    t0 = time.perf_counter()
    for t in th:
        t.join()
    d = cpu_delta(pid, c0)
    bad = [s.error for s in ss if s.error]
    if bad:
        die("SSE (%d streams): %s" % (streams, bad[0]))
    t_last = max(s.t_end for s in ss)
    wall = t_last - t0
    return {
        "wall": wall,
        "rate": streams * n / wall,                    # aggregate events/s
        "slowest": max(s.t_end - s.t_start for s in ss),
        "fastest": min(s.t_end - s.t_start for s in ss),
        "first_byte": max(s.t_first - s.t_start for s in ss),
        "cpu": d,
        "ccpu": time.process_time() - p0,
        "bytes": sum(s.nbytes for s in ss),
    }


def sse_check(host, port, token, after, n):
    """Untimed (and a warm-up): one stream, parsed fully: ids after+1..after+N
    in order, each a tag-created event whose logseq is its id."""
    s = Stream(host, port, token, after, n, keep=True)
    s.run()
    if s.error:
        die("SSE check: %s" % s.error)
    text = b"".join(s.payload)
    # the payload is de-chunked: the event fields are whole lines
    ids, types, datas = [], [], []
    for line in text.split(b"\n"):
        line = line.rstrip(b"\r")
        if line.startswith(b"id: "):
            ids.append(int(line[4:]))
        elif line.startswith(b"event: "):
            types.append(line[7:].decode())
        elif line.startswith(b"data: "):
            datas.append(line[6:])
    ids, types, datas = ids[:n], types[:n], datas[:n]
    want = list(range(after + 1, after + n + 1))
    if ids != want:
        die("SSE check: ids %s..%s (%d), want %d..%d" % (ids[:3], ids[-3:], len(ids), after + 1, after + n))
    if any(t != TAG_TYPE for t in types) or len(types) != n:
        die("SSE check: event types %s" % sorted(set(types)))
    for i in (0, n // 2, n - 1):
        e = json.loads(datas[i])
        if e["logseq"] != ids[i] or e["type"] != TAG_TYPE:
            die("SSE check: id %d carries %s %s" % (ids[i], e.get("logseq"), e.get("type")))
    return s.t_end - s.t_start


def cmd_sse(a):
    t_step = time.perf_counter()
    host, port = hostport(a.server)
    check_s = sse_check(host, port, a.token, a.after, a.events)
    log("SSE check: one stream delivered logseq %d..%d in order, all tag-created (%.0f ms)" % (
        a.after + 1, a.after + a.events, check_s * 1000))
    single, fan, ratios = [], [], []
    for r in range(a.rounds):
        order = (1, a.streams) if r % 2 == 0 else (a.streams, 1)
        got = {}
        for k in order:
            got[k] = sse_run(host, port, a.token, a.after, a.events, k, a.pid)
        single.append(got[1])
        fan.append(got[a.streams])
        ratios.append(got[a.streams]["rate"] / got[1]["rate"])
        log("SSE round %d/%d: 1 stream %.0f events/s (%.0f ms); %d streams %.0f events/s aggregate "
            "(slowest %.0f ms, fastest %.0f ms)" % (
                r + 1, a.rounds, got[1]["rate"], got[1]["wall"] * 1000, a.streams, got[a.streams]["rate"],
                got[a.streams]["slowest"] * 1000, got[a.streams]["fastest"] * 1000))
    med = lambda rs, k: statistics.median([x[k] for x in rs])
    print("dlv.sse_streams=%d" % a.streams)
    print("dlv.sse_rounds=%d" % a.rounds)
    print("dlv.sse_single_per_s=%.0f" % med(single, "rate"))
    print("dlv.sse_single_ms=%.1f" % (med(single, "wall") * 1000))
    print("dlv.sse_fan_per_s=%.0f" % med(fan, "rate"))
    print("dlv.sse_fan_per_stream_per_s=%.0f" % (med(fan, "rate") / a.streams))
    print("dlv.sse_fan_slowest_ms=%.1f" % (med(fan, "slowest") * 1000))
    print("dlv.sse_fan_fastest_ms=%.1f" % (med(fan, "fastest") * 1000))
    print("dlv.sse_ratio=%.2f" % statistics.median(ratios))
    print("dlv.sse_single_samples=%s" % ",".join("%.0f" % x["rate"] for x in single))
    print("dlv.sse_fan_samples=%s" % ",".join("%.0f" % x["rate"] for x in fan))
    print("dlv.sse_fan_slowest_samples_ms=%s" % ",".join("%.0f" % (x["slowest"] * 1000) for x in fan))
    print("dlv.sse_bytes_per_event=%.0f" % (single[0]["bytes"] / a.events))
    print("dlv.sse_check_ms=%.0f" % (check_s * 1000))
    for name, rs, k in (("single", single, 1), ("fan", fan, a.streams)):
        ev = k * a.events * len(rs)
        if all(x["cpu"] is not None for x in rs):
            print("dlv.sse_%s_daemon_us=%.1f" % (name, sum(x["cpu"] for x in rs) / ev * 1e6))
        print("dlv.sse_%s_client_us=%.1f" % (name, sum(x["ccpu"] for x in rs) / ev * 1e6))
    print("dlv.sse_step_s=%.1f" % (time.perf_counter() - t_step))


# --- durable consumer -------------------------------------------------------------

class Api:
    """Requests on one keep-alive connection (lifecycle.Conn)."""

    def __init__(self, server, token):
        self.host, self.port = hostport(server)
        self.token = token
        self.conn = Conn(self.host, self.port)

    def req(self, method, path, body=None):
        b = b"" if body is None else json.dumps(body).encode()
        extra = "Content-Type: application/json\r\n" if body is not None else ""
        r = ("%s %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\nUser-Agent: gitstore-bench\r\n"
             "Accept: application/json\r\n%sContent-Length: %d\r\n\r\n" % (
                 method, path, self.host, self.port, self.token, extra, len(b))).encode() + b
        st, _, out = self.conn.request(r)
        return st, out

    def json(self, method, path, body=None, want=(200,)):
        st, out = self.req(method, path, body)
        if st not in want:
            die("%s %s: HTTP %d: %s" % (method, path, st, out[:300]))
        return json.loads(out) if out else None

    def close(self):
        self.conn.close()


def consumer_run(a, api, name, want):
    """Creates consumer `name` (untimed), drains it with fetch?max=B + ack
    (timed), checks what it delivered and its state afterwards (untimed)."""
    api.json("PUT", "/api/v1/consumers/%s" % name, {
        "filter": {"types": ["tag-created"], "repo": a.repo},
        "ackWaitSeconds": a.ack_wait, "maxDeliver": 5, "startAfter": a.after}, want=(201,))
    got, settled, calls = [], 0, 0
    t_fetch = t_ack = 0.0
    fpath = "/api/v1/consumers/%s/fetch?max=%d&wait=0" % (name, a.batch)
    apath = "/api/v1/consumers/%s/ack" % name
    pc = time.perf_counter
    c0 = cpu_s(a.pid)
    p0 = time.process_time()
    t0 = pc()
    while settled < a.events:
        t1 = pc()
        st, out = api.req("POST", fpath)
        if st != 200:
            die("fetch %s: HTTP %d: %s" % (name, st, out[:300]))
        batch = json.loads(out)
        t2 = pc()
        if not batch:
            die("consumer %s: fetch returned nothing after %d of %d events" % (name, settled, a.events))
        seqs = [d["logseq"] for d in batch]
        st, out = api.req("POST", apath, {"logseq": seqs})
        if st != 200:
            die("ack %s: HTTP %d: %s" % (name, st, out[:300]))
        ans = json.loads(out)
        t3 = pc()
        t_fetch += t2 - t1
        t_ack += t3 - t2
        calls += 1
        if len(ans.get("settled", ())) != len(seqs) or ans.get("notPending"):
            die("consumer %s: ack of %d settled %d, notPending %s" % (
                name, len(seqs), len(ans.get("settled", ())), ans.get("notPending")))
        settled += len(seqs)
        got.extend((d["logseq"], d["deliveryAttempt"], d["event"]) for d in batch)
    wall = pc() - t0
    d = cpu_delta(a.pid, c0)
    ccpu = time.process_time() - p0
    # untimed: every event exactly once, attempt 1, in log order; nothing
    # left pending, nothing more to fetch
    seqs = [g[0] for g in got]
    if seqs != want:
        dup = len(seqs) - len(set(seqs))
        die("consumer %s delivered %d events (%d repeated, %d missing, in order: %s), want logseq %d..%d" % (
            name, len(seqs), dup, len(set(want) - set(seqs)), seqs == sorted(seqs), want[0], want[-1]))
    attempts = {g[1] for g in got}
    if attempts != {1}:
        die("consumer %s: delivery attempts %s (want 1 only)" % (name, sorted(attempts)))
    wrong = [g for g in got if g[2].get("logseq") != g[0] or g[2].get("type") != TAG_TYPE]
    if wrong:
        die("consumer %s: %d deliveries whose event is not the tag-created at their logseq" % (name, len(wrong)))
    extra = api.json("POST", fpath)
    state = api.json("GET", "/api/v1/consumers/%s" % name)
    if extra or state["pending"] or state["leased"] or state["deadLettered"] or state["cursor"] < want[-1]:
        die("consumer %s afterwards: %d more fetched, pending %s, leased %s, dead %s, cursor %s (want >= %d)" % (
            name, len(extra or []), state["pending"], state["leased"], state["deadLettered"], state["cursor"],
            want[-1]))
    api.json("DELETE", "/api/v1/consumers/%s" % name, want=(204,))
    return {"wall": wall, "rate": a.events / wall, "cpu": d, "ccpu": ccpu, "calls": calls,
            "fetch_ms": t_fetch / calls * 1000, "ack_ms": t_ack / calls * 1000,
            "cursor": state["cursor"], "pulled": state["pulled"]}


def pages_run(a, api, want):
    """The same N events as GET /api/v1/events pages of B (timed)."""
    q = "&type=tag-created&repo=%s&limit=%d" % (urllib.parse.quote(a.repo, safe="/"), a.batch)
    got, calls, after = [], 0, a.after
    pc = time.perf_counter
    c0 = cpu_s(a.pid)
    p0 = time.process_time()
    t0 = pc()
    while len(got) < a.events:
        st, out = api.req("GET", "/api/v1/events?after=%d%s" % (after, q))
        if st != 200:
            die("GET /api/v1/events: HTTP %d: %s" % (st, out[:300]))
        batch = json.loads(out)
        calls += 1
        if not batch:
            die("GET /api/v1/events: nothing after %d (%d of %d)" % (after, len(got), a.events))
        got.extend(batch)
        after = batch[-1]["logseq"]
    wall = pc() - t0
    d = cpu_delta(a.pid, c0)
    ccpu = time.process_time() - p0
    if [e["logseq"] for e in got[:a.events]] != want:
        die("GET /api/v1/events pages: not logseq %d..%d" % (want[0], want[-1]))
    return {"wall": wall, "rate": a.events / wall, "cpu": d, "ccpu": ccpu, "calls": calls,
            "page_ms": wall / calls * 1000}


def cmd_consumer(a):
    t_step = time.perf_counter()
    want = list(range(a.after + 1, a.after + a.events + 1))
    api = Api(a.server, a.token)
    # warm-up (untimed): one pass of pages
    pages_run(a, api, want)
    cons, pages, ratios = [], [], []
    for r in range(a.rounds):
        name = "bench-dlv-%d-%02d" % (os.getpid(), r)
        if r % 2 == 0:
            p = pages_run(a, api, want)
            c = consumer_run(a, api, name, want)
        else:
            c = consumer_run(a, api, name, want)
            p = pages_run(a, api, want)
        cons.append(c)
        pages.append(p)
        ratios.append(c["rate"] / p["rate"])
        log("consumer round %d/%d: fetch+ack %.0f events/s (%.0f ms; fetch %.1f ms, ack %.1f ms per %d); "
            "GET /api/v1/events pages %.0f events/s (%.0f ms, %.1f ms per page)" % (
                r + 1, a.rounds, c["rate"], c["wall"] * 1000, c["fetch_ms"], c["ack_ms"], a.batch,
                p["rate"], p["wall"] * 1000, p["page_ms"]))
    api.close()
    med = lambda rs, k: statistics.median([x[k] for x in rs])
    print("dlv.cons_rounds=%d" % a.rounds)
    print("dlv.cons_batch=%d" % a.batch)
    print("dlv.cons_per_s=%.0f" % med(cons, "rate"))
    print("dlv.cons_ms=%.1f" % (med(cons, "wall") * 1000))
    print("dlv.cons_fetch_ms=%.2f" % med(cons, "fetch_ms"))
    print("dlv.cons_ack_ms=%.2f" % med(cons, "ack_ms"))
    print("dlv.cons_calls=%d" % cons[0]["calls"])
    print("dlv.pages_per_s=%.0f" % med(pages, "rate"))
    print("dlv.pages_ms=%.1f" % (med(pages, "wall") * 1000))
    print("dlv.pages_page_ms=%.2f" % med(pages, "page_ms"))
    print("dlv.pages_calls=%d" % pages[0]["calls"])
    print("dlv.cons_ratio=%.3f" % statistics.median(ratios))
    print("dlv.cons_samples=%s" % ",".join("%.0f" % x["rate"] for x in cons))
    print("dlv.pages_samples=%s" % ",".join("%.0f" % x["rate"] for x in pages))
    for name, rs in (("cons", cons), ("pages", pages)):
        ev = a.events * len(rs)
        if all(x["cpu"] is not None for x in rs):
            print("dlv.%s_daemon_us=%.1f" % (name, sum(x["cpu"] for x in rs) / ev * 1e6))
        print("dlv.%s_client_us=%.1f" % (name, sum(x["ccpu"] for x in rs) / ev * 1e6))
    print("dlv.cons_step_s=%.1f" % (time.perf_counter() - t_step))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--work", required=True)
    s.add_argument("--git-base", required=True)
    s.add_argument("--server", required=True)
    s.add_argument("--token", required=True)
    s.add_argument("--watch-token", required=True)
    s.add_argument("--repo", required=True)
    s.add_argument("--events", type=int, default=5000)
    s.add_argument("--timeout", type=int, default=600)
    s = sub.add_parser("sse")
    s.add_argument("--server", required=True)
    s.add_argument("--token", required=True)
    s.add_argument("--after", type=int, required=True)
    s.add_argument("--events", type=int, default=5000)
    s.add_argument("--streams", type=int, default=10)
    s.add_argument("--rounds", type=int, default=3)
    s.add_argument("--pid", type=int, default=0)
    s = sub.add_parser("consumer")
    s.add_argument("--server", required=True)
    s.add_argument("--token", required=True)
    s.add_argument("--repo", required=True)
    s.add_argument("--after", type=int, required=True)
    s.add_argument("--events", type=int, default=5000)
    s.add_argument("--rounds", type=int, default=3)
    s.add_argument("--batch", type=int, default=100)
    s.add_argument("--ack-wait", type=int, default=30)
    s.add_argument("--pid", type=int, default=0)
    a = ap.parse_args()
    {"setup": cmd_setup, "sse": cmd_sse, "consumer": cmd_consumer}[a.cmd](a)


if __name__ == "__main__":
    main()
