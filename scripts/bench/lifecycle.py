#!/usr/bin/python3
"""Lifecycle figures for scripts/bench/lifecycle.sh (stdlib only; reuses the
product generator, fast-import builder and push helper of bench.py).

  lifecycle.py release --work DIR --files N --rounds R --warmup W --ns-prefix P
                       --git-base URL --events-server URL --token T [--pid PID]
      per round, in namespace P<NN> (repository catalog, fresh each round):
      push a commit adding N Products to main (timed: push start -> last
      catalog-admission-evaluated seen: the baseline), then push the release
      tag refs/tags/v1 at that commit (timed: push start -> last of N
      draft-published seen)
  lifecycle.py storefront --server URL --ns NS --name NAME --requests N
                          --clients C --slices S [--pid PID]
      keep-alive GETs by C threads: /healthz (baseline), the storefront
      product, and the same with If-None-Match (304), interleaved in S slices

Prints "key=value" lines (prefix lc. / sf.) on stdout, progress on stderr;
exits non-zero only when the benchmark itself breaks.
"""
import argparse
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
from bench import (FastImport, api_get, die, git, log, parse_time, pct,  # noqa: E402
                   product_file, push)


def cpu_s(pid):
    """utime + stime of a process, in seconds (None without a pid)."""
    if not pid:
        return None
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return None
    fields = st[st.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_delta(pid, c0):
    c1 = cpu_s(pid)
    return None if c0 is None or c1 is None else c1 - c0


def poll_events(a, typ, repo, after, want, t_from):
    """Polls GET /api/v1/events?type=TYP&repo=REPO after `after` every a.poll s
    (pages of 1000 followed) until `want` events were returned. Returns
    (events, wall time seen, wall time of the first request that returned
    events, polls)."""
    got, t_req, polls = [], None, 0
    while len(got) < want:
        t_q = time.time()
        polls += 1
        batch = api_get(a.events_server, a.token,
                        "/api/v1/events?after=%d&limit=1000&type=%s&repo=%s" % (after, typ, repo))
        if batch:
            if t_req is None:
                t_req = t_q
            got.extend(batch)
            after = batch[-1]["logseq"]
            continue
        if time.time() - t_from > a.timeout:
            die("%s: %d of %d %s events within %d s" % (repo, len(got), want, typ, a.timeout))
        time.sleep(a.poll)
    return got, time.time(), t_req, polls


def events_of(a, after, repo, types):
    """Every event of repo after `after` of the given types (pages followed)."""
    q = "".join("&type=%s" % t for t in types)
    out = []
    while True:
        batch = api_get(a.events_server, a.token, "/api/v1/events?after=%d&limit=1000&repo=%s%s" % (after, repo, q))
        out.extend(batch)
        if len(batch) < 1000:
            return out
        after = batch[-1]["logseq"]


def head_of(a):
    """The log's last position (one page read from the newest end is not
    offered by the API, so follow pages; the log is small when this runs
    at the step start, and `after` moves with every round)."""
    after = 0
    while True:
        batch = api_get(a.events_server, a.token, "/api/v1/events?after=%d&limit=1000" % after)
        if not batch:
            return after
        after = batch[-1]["logseq"]


def short(e):
    return e["type"].split(".")[2]


def cmd_release(a):
    t_step = time.perf_counter()
    head = head_of(a)
    res = []
    total = a.warmup + a.rounds
    for i in range(total):
        ns = "%s%02d" % (a.ns_prefix, i)
        repo = "%s/catalog" % ns
        url = "%s/%s.git" % (a.git_base, repo)
        w = os.path.join(a.work, ns)
        # untimed: a base commit on main (so the measured push is an update
        # of main, as in the catalog step), and the N-file commit
        git(".", "init", "-q", w)
        fi = FastImport(w)
        base = fi.commit("refs/heads/main", None, "base\n", [("README.md", b"lifecycle benchmark\n")])
        files = [("products/d%02d/p%05d.md" % (j // 100, j),
                  product_file("l%02d-p%05d" % (i, j), os.urandom(8).hex()))
                 for j in range(a.files)]
        m = fi.commit("refs/heads/main", base, "%d products\n" % a.files, files)
        marks = fi.run()
        push(w, url, marks[base], "refs/heads/main")
        # let the worker finish with the base commit (README.md only: no
        # catalog event), so it does not overlap the measured push
        time.sleep(0.3)
        head = max([head] + [e["logseq"] for e in events_of(a, head, repo, ())])
        sha = marks[m]
        r = {}

        # --- baseline: draft ingest of the N files
        after = head
        c0 = cpu_s(a.pid)
        t0 = time.time()
        push(w, url, sha, "refs/heads/main")
        t_ret = time.time()
        adm, t_seen, t_req, _ = poll_events(a, "catalog-admission-evaluated", repo, after, a.files, t_ret)
        r["ingest_cpu"] = cpu_delta(a.pid, c0)
        # untimed checks (the admission events were read by the poll)
        evs = events_of(a, after, repo, ("branch-updated", "catalog-namespace-target",
                                         "catalog-resource-validation-failed"))
        head = max([head] + [e["logseq"] for e in evs + adm])
        by = {}
        for e in evs:
            by.setdefault(short(e), []).append(e)
        ref = [e for e in by.get("branch-updated", []) if e["data"].get("newSha") == sha]
        target = by.get("catalog-namespace-target", [])
        bad = [e for e in adm if not e["data"].get("allowed") or e["data"].get("operation") != "create"]
        if len(ref) != 1 or len(target) != 1 or len(adm) != a.files or bad or \
                by.get("catalog-resource-validation-failed"):
            die("lifecycle round %d: draft push: ref %d, namespace-target %d, admission %d (%d not admitted "
                "as new), validation-failed %d (want 1/1/%d/0/0)" % (
                    i + 1, len(ref), len(target), len(adm), len(bad),
                    len(by.get("catalog-resource-validation-failed", [])), a.files))
        t_ref = parse_time(ref[0]["time"])
        t_last = max(parse_time(e["time"]) for e in adm)
        r.update({
            "ingest": t_seen - t0,                        # the baseline
            "ingest_push": t_ret - t0,
            "ingest_start_to_ref": t_ref - t0,
            "ingest_ref_to_first": parse_time(target[0]["time"]) - t_ref,
            "ingest_append": t_last - parse_time(target[0]["time"]),
            "ingest_last_to_seen": t_seen - t_last,
            "ingest_readout": t_seen - t_req,
        })

        # --- the figure: release tag -> last draft-published visible
        after = head
        c0 = cpu_s(a.pid)
        t0 = time.time()
        push(w, url, sha, "refs/tags/v1")
        t_ret = time.time()
        pubs, t_seen, t_req, _ = poll_events(a, "draft-published", repo, after, a.files, t_ret)
        r["release_cpu"] = cpu_delta(a.pid, c0)
        # untimed checks: exactly N draft-published for v1 at this commit,
        # distinct resources, one tag-created and one release-created, no
        # rejection/withdrawal/unpublish
        time.sleep(0.2)   # anything emitted after the last page would show now
        evs = events_of(a, after, repo, ("tag-created", "release-created", "release-rejected",
                                         "release-withdrawn", "resource-unpublished"))
        more = events_of(a, pubs[-1]["logseq"], repo, ("draft-published",))
        pubs_all = pubs + more
        head = max([head] + [e["logseq"] for e in evs + pubs_all])
        by = {}
        for e in evs:
            by.setdefault(short(e), []).append(e)
        good = [e for e in pubs_all if (e["data"].get("release") or {}).get("ref") == "refs/tags/v1"
                and (e["data"].get("release") or {}).get("commitSha") == sha]
        names = {(e["data"].get("resource") or {}).get("name") for e in good}
        tag = [e for e in by.get("tag-created", []) if e["data"].get("newSha") == sha]
        rel = by.get("release-created", [])
        others = {k: len(v) for k, v in by.items()
                  if k in ("release-rejected", "release-withdrawn", "resource-unpublished")}
        if len(pubs_all) != a.files or len(good) != a.files or len(names) != a.files or \
                len(tag) != 1 or len(rel) != 1 or others:
            die("lifecycle round %d: release: draft-published %d (%d for refs/tags/v1 at %s, %d distinct), "
                "tag-created %d, release-created %d, other %s (want %d/%d/%d, 1, 1, none)" % (
                    i + 1, len(pubs_all), len(good), sha[:12], len(names), len(tag), len(rel), others,
                    a.files, a.files, a.files))
        rd = rel[0]["data"]
        if (rd.get("release") or {}).get("ref") != "refs/tags/v1" or rd.get("resources") != a.files:
            die("lifecycle round %d: release-created %s" % (i + 1, json.dumps(rd)[:500]))
        t_tag = parse_time(tag[0]["time"])
        t_rel = parse_time(rel[0]["time"])
        t_p1 = min(parse_time(e["time"]) for e in pubs_all)
        t_pn = max(parse_time(e["time"]) for e in pubs_all)
        r.update({
            "release": t_seen - t0,                      # the figure
            "release_push": t_ret - t0,
            "start_to_relcreated": t_rel - t0,           # split 1 (event time)
            "relcreated_to_lastpub": t_pn - t_rel,       # split 2 (event times)
            "start_to_tag": t_tag - t0,
            "tag_to_relcreated": t_rel - t_tag,          # release admission
            "relcreated_to_firstpub": t_p1 - t_rel,      # controller pick-up, view swap before the first event
            "pub_append": t_pn - t_p1,                   # draft-published appends (+ status updates)
            "lastpub_to_seen": t_seen - t_pn,            # commit, ack, poll, read-out
            "release_readout": t_seen - t_req,
            "ret_to_seen": t_seen - t_ret,
        })
        log("lifecycle round %d/%d%s %s: draft ingest %.0f ms (push %.0f); release v1 -> last draft-published "
            "seen %.0f ms (push %.0f, release-created +%.0f, last draft-published +%.0f, seen +%.0f; "
            "daemon CPU %s / %s s)" % (
                i + 1, total, " (warm-up)" if i < a.warmup else "", repo, r["ingest"] * 1000,
                r["ingest_push"] * 1000, r["release"] * 1000, r["release_push"] * 1000,
                r["start_to_relcreated"] * 1000, r["relcreated_to_lastpub"] * 1000,
                r["lastpub_to_seen"] * 1000,
                "-" if r["ingest_cpu"] is None else "%.2f" % r["ingest_cpu"],
                "-" if r["release_cpu"] is None else "%.2f" % r["release_cpu"]))
        if i >= a.warmup:
            res.append(r)
        last_ns, last_name = ns, "l%02d-p%05d" % (i, a.files // 2)
    med = lambda k: statistics.median([r[k] for r in res])
    print("lc.files=%d" % a.files)
    print("lc.rounds=%d" % a.rounds)
    for k in ("release", "release_push", "start_to_relcreated", "relcreated_to_lastpub", "start_to_tag",
              "tag_to_relcreated", "relcreated_to_firstpub", "pub_append", "lastpub_to_seen",
              "release_readout", "ret_to_seen", "ingest", "ingest_push", "ingest_start_to_ref",
              "ingest_ref_to_first", "ingest_append", "ingest_last_to_seen", "ingest_readout"):
        print("lc.%s_ms=%.0f" % (k, med(k) * 1000))
    print("lc.ratio=%.2f" % statistics.median([r["release"] / r["ingest"] for r in res]))
    print("lc.release_samples_ms=%s" % ",".join("%.0f" % (r["release"] * 1000) for r in res))
    print("lc.ingest_samples_ms=%s" % ",".join("%.0f" % (r["ingest"] * 1000) for r in res))
    if all(r["ingest_cpu"] is not None and r["release_cpu"] is not None for r in res):
        print("lc.ingest_cpu_s=%.2f" % med("ingest_cpu"))
        print("lc.release_cpu_s=%.2f" % med("release_cpu"))
    print("lc.sf_ns=%s" % last_ns)
    print("lc.sf_name=%s" % last_name)
    print("lc.step_s=%.1f" % (time.perf_counter() - t_step))


# --- storefront reads -----------------------------------------------------------

class Conn:
    """A minimal HTTP/1.1 keep-alive client on one socket: sends a prepared
    request, reads the status line, headers and a Content-Length body."""

    def __init__(self, host, port):
        self.addr = (host, port)
        self.sock = None
        self.buf = b""
        self.connects = 0

    def _connect(self):
        self.sock = socket.create_connection(self.addr, timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.connects += 1

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None

    def request(self, req):
        """-> (status, lower-cased header block, body)."""
        if self.sock is None:
            self._connect()
        self.sock.sendall(req)
        buf = self.buf
        while True:
            k = buf.find(b"\r\n\r\n")
            if k >= 0:
                break
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("connection closed by the server")
            buf += chunk
        self.raw_head = buf[:k]
        head = self.raw_head.lower()
        buf = buf[k + 4:]
        status = int(head[9:12])
        j = head.find(b"\r\ncontent-length:")
        clen = 0
        if j >= 0 and status not in (204, 304):
            e = head.find(b"\r\n", j + 2)
            clen = int(head[j + 17:e if e >= 0 else len(head)])
        elif status not in (204, 304) and b"transfer-encoding: chunked" in head:
            raise OSError("chunked answers are not handled by this client")
        while len(buf) < clen:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("connection closed mid-body")
            buf += chunk
        body, self.buf = buf[:clen], buf[clen:]
        if b"\r\nconnection: close" in head:
            self.close()
        return status, head, body


def sf_slice(host, port, req, n, clients, want, need_etag, conns):
    """n requests by `clients` threads on their persistent connections;
    returns (wall s, latencies, errors)."""
    lats = [[] for _ in range(clients)]
    errs = [[] for _ in range(clients)]
    start = threading.Barrier(clients + 1)
    per = [n // clients + (1 if c < n % clients else 0) for c in range(clients)]

    def client(c):
        conn, lat, err = conns[c], lats[c], errs[c]
        start.wait()
        pc = time.perf_counter
        for _ in range(per[c]):
            t0 = pc()
            try:
                st, head, _ = conn.request(req)
            except OSError as e:
                err.append(str(e))
                conn.close()
                continue
            lat.append(pc() - t0)
            if st != want or (need_etag and b"\r\netag:" not in head):
                err.append("HTTP %d%s" % (st, "" if b"\r\netag:" in head else " without ETag"))

    th = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in th:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in th:
        t.join()
    wall = time.perf_counter() - t0
    return wall, [x for l in lats for x in l], [x for l in errs for x in l]


def cmd_storefront(a):
    t_step = time.perf_counter()
    u = urllib.parse.urlsplit(a.server)
    host, port = u.hostname, u.port
    path = "/storefront/v1/namespaces/%s/products/%s" % (a.ns, a.name)

    def req(p, extra=""):
        return ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: gitstore-bench\r\nAccept: */*\r\n%s\r\n" % (
            p, host, port, extra)).encode()

    # untimed: the product is published and carries an ETag
    c = Conn(host, port)
    st, head, body = c.request(req(path))
    c.close()
    if st != 200:
        die("GET %s: HTTP %d: %s" % (path, st, body[:300]))
    etag = None
    for line in c.raw_head.split(b"\r\n")[1:]:
        if line.lower().startswith(b"etag:"):
            etag = line[5:].strip().decode()
    if not etag:
        die("GET %s: no ETag" % path)
    j = json.loads(body)
    if (j.get("metadata") or {}).get("name") != a.name or (j.get("release") or {}).get("ref") != "refs/tags/v1":
        die("GET %s: unexpected body %s" % (path, body[:300]))
    print("sf.body_bytes=%d" % len(body))
    variants = [
        ("healthz", req("/healthz"), 200, False),
        ("product", req(path), 200, True),
        ("cond", req(path, "If-None-Match: %s\r\n" % etag), 304, True),
    ]
    # one persistent connection per client thread and variant, kept over
    # all slices (so every variant reuses its connections the same way)
    conns = {v[0]: [Conn(host, port) for _ in range(a.clients)] for v in variants}
    res = {v[0]: {"wall": 0.0, "lat": [], "err": [], "cpu": 0.0, "ccpu": 0.0, "rates": []} for v in variants}
    # warm-up: 200 requests per variant, dropped
    for name, rq, want, et in variants:
        sf_slice(host, port, rq, 200, a.clients, want, et, conns[name])
    for cs in conns.values():   # count the connections opened by the measured requests
        for c in cs:
            c.connects = 0
    per_slice = a.requests // a.slices
    for s in range(a.slices):
        order = variants[s % len(variants):] + variants[:s % len(variants)]
        for name, rq, want, et in order:
            c0 = cpu_s(a.pid)
            p0 = time.process_time()
            wall, lat, err = sf_slice(host, port, rq, per_slice, a.clients, want, et, conns[name])
            d = cpu_delta(a.pid, c0)
            r = res[name]
            r["ccpu"] += time.process_time() - p0
            r["cpu"] = None if d is None or r["cpu"] is None else r["cpu"] + d
            r["wall"] += wall
            r["lat"].extend(lat)
            r["err"].extend(err)
            r["rates"].append(len(lat) / wall)
        log("storefront slice %d/%d: %s" % (s + 1, a.slices, " ".join(
            "%s=%.0f/s" % (v[0], res[v[0]]["rates"][-1]) for v in variants)))
    for name, _, _, _ in variants:
        r = res[name]
        n = len(r["lat"])
        if r["err"]:
            log("warning: %s: %d errors, e.g. %s" % (name, len(r["err"]), r["err"][0]))
        print("sf.%s_requests=%d" % (name, n + len(r["err"])))
        print("sf.%s_errors=%d" % (name, len(r["err"])))
        print("sf.%s_per_s=%.0f" % (name, n / r["wall"]))
        print("sf.%s_p50_ms=%.3f" % (name, pct(r["lat"], 50) * 1000))
        print("sf.%s_p99_ms=%.3f" % (name, pct(r["lat"], 99) * 1000))
        print("sf.%s_max_ms=%.2f" % (name, max(r["lat"]) * 1000))
        print("sf.%s_slice_per_s=%s" % (name, ",".join("%.0f" % x for x in r["rates"])))
        print("sf.%s_connects=%d" % (name, sum(c.connects for c in conns[name])))
        if r["cpu"] is not None and n:
            print("sf.%s_daemon_us=%.0f" % (name, r["cpu"] / n * 1e6))
        if n:
            print("sf.%s_client_us=%.0f" % (name, r["ccpu"] / n * 1e6))
    for cs in conns.values():
        for c in cs:
            c.close()
    print("sf.clients=%d" % a.clients)
    print("sf.slices=%d" % a.slices)
    print("sf.etag=%s" % etag)
    print("sf.step_s=%.1f" % (time.perf_counter() - t_step))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("release")
    r.add_argument("--work", required=True)
    r.add_argument("--files", type=int, default=10000)
    r.add_argument("--rounds", type=int, default=3)
    r.add_argument("--warmup", type=int, default=0)
    r.add_argument("--ns-prefix", default="lc")
    r.add_argument("--git-base", required=True)
    r.add_argument("--events-server", required=True)
    r.add_argument("--token", required=True)
    r.add_argument("--pid", type=int, default=0)
    r.add_argument("--poll", type=float, default=0.01)
    r.add_argument("--timeout", type=int, default=120)
    s = sub.add_parser("storefront")
    s.add_argument("--server", required=True)
    s.add_argument("--ns", required=True)
    s.add_argument("--name", required=True)
    s.add_argument("--requests", type=int, default=20000)
    s.add_argument("--clients", type=int, default=4)
    s.add_argument("--slices", type=int, default=4)
    s.add_argument("--pid", type=int, default=0)
    a = ap.parse_args()
    {"release": cmd_release, "storefront": cmd_storefront}[a.cmd](a)


if __name__ == "__main__":
    main()
