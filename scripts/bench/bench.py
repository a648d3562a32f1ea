#!/usr/bin/python3
"""Measurement helpers for scripts/bench.sh (stdlib only).

  bench.py push  --work DIR --files N --runs R --warmup W --target NAME=URL...
  bench.py burst --work DIR --pushers P --pushes K --runs R --target NAME=URL...
                 --events-server URL --token T --events-target NAME
  bench.py sse   --work DIR --pushes N --target URL --events-server URL --token T
  bench.py validate --work DIR --bin GITSTORE --files N --runs R --warmup W
  bench.py catalog  --work DIR --files N --runs R --warmup W --target URL
                    --events-server URL --token T
  bench.py apiwrite --work DIR --writes N --pushes P --clients C --rounds R --ns NS
                    --api-repo NAME --push-repo NAME --push-url URL
                    --events-server URL --token T

Each prints "key=value" result lines on stdout (progress goes to stderr) and
exits non-zero only when the benchmark itself breaks (a push fails, the event
stream never delivers, ...).
"""
import argparse
import datetime
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def die(msg):
    log("error:", msg)
    sys.exit(2)


def git(work, *args, inp=None):
    p = subprocess.run(["git", "-C", work] + list(args), input=inp,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        die("git %s failed (%d): %s" % (" ".join(args), p.returncode,
                                        p.stderr.decode(errors="replace").strip()))
    return p.stdout


def push(work, url, src, dst):
    t0 = time.perf_counter()
    p = subprocess.run(["git", "-C", work, "push", "-q", url, "%s:%s" % (src, dst)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        die("git push %s %s:%s failed (%d): %s" % (redact(url), src, dst, p.returncode,
                                                   p.stderr.decode(errors="replace").strip()))
    return dt


def redact(url):
    u = urllib.parse.urlsplit(url)
    if u.password:
        return url.replace(u.password, "***")
    return url


class FastImport:
    """Builds commits with `git fast-import` (quick, untimed preparation)."""

    def __init__(self, work):
        self.work = work
        self.buf = []
        self.mark = 0
        self.ts = int(time.time())

    def _data(self, b):
        self.buf.append(b"data %d\n" % len(b))
        self.buf.append(b)
        self.buf.append(b"\n")

    def commit(self, ref, parent, msg, files):
        """files: list of (path, bytes). parent: sha, ':mark' or None. Returns mark."""
        self.mark += 1
        self.ts += 1
        self.buf.append(b"commit %s\nmark :%d\n" % (ref.encode(), self.mark))
        self.buf.append(b"committer Bench <bench@example.com> %d +0000\n" % self.ts)
        self._data(msg.encode())
        if parent:
            self.buf.append(b"from %s\n" % parent.encode())
        for path, content in files:
            self.buf.append(b"M 100644 inline %s\n" % path.encode())
            self._data(content)
        return ":%d" % self.mark

    def run(self):
        marks = os.path.join(self.work, ".git", "bench-marks")
        git(self.work, "fast-import", "--quiet", "--force", "--export-marks=" + marks,
            inp=b"".join(self.buf))
        out = {}
        with open(marks) as f:
            for line in f:
                m, sha = line.split()
                out[m] = sha
        self.buf = []
        return out


def init_work(work, targets):
    """A work repository with one base commit, pushed to every target as main."""
    if not os.path.isdir(os.path.join(work, ".git")):
        git(".", "init", "-q", work)
        fi = FastImport(work)
        fi.commit("refs/heads/main", None, "base\n",
                      [("README.md", b"benchmark base commit\n")])
        fi.run()
    base = git(work, "rev-parse", "main").decode().strip()
    for name, url in targets:
        push(work, url, base, "refs/heads/main")
    return base


def small_file(tag, j):
    # ~250 bytes of Markdown with YAML-ish front matter that is unique per
    # (tag, j), so every iteration sends new blobs.
    return ("# item %s-%d\n\nsku: %s-%05d\nprice: %d.%02d\nnonce: %s\n\n"
            "A small catalog-like file used by the gitstore push benchmark. "
            "Each iteration writes new content.\n" % (
                tag, j, tag, j, j % 997, j % 100, os.urandom(12).hex())).encode()


def parse_targets(lst):
    out = []
    for t in lst:
        name, _, url = t.partition("=")
        if not url:
            die("bad --target %r (want NAME=URL)" % t)
        out.append((name, url))
    return out


def pct(samples, p):
    """Nearest-rank percentile."""
    s = sorted(samples)
    if not s:
        return float("nan")
    k = max(1, int(-(-p * len(s) // 100)))  # ceil(p/100*n)
    return s[min(k, len(s)) - 1]


# --- 1. push latency ------------------------------------------------------------

def cmd_push(a):
    targets = parse_targets(a.target)
    base = init_work(a.work, targets)
    samples = {n: [] for n, _ in targets}
    total = a.warmup + a.runs
    for i in range(total):
        fi = FastImport(a.work)
        files = [("items/d%02d/f%05d.md" % (j // 100, j), small_file("it%d" % i, j))
                 for j in range(a.files)]
        m = fi.commit("refs/heads/bench/it%d" % i, base, "iteration %d\n" % i, files)
        sha = fi.run()[m]
        # rotate the order so no target is always first (cold caches) or last
        order = targets[i % len(targets):] + targets[:i % len(targets)]
        for name, url in order:
            dt = push(a.work, url, sha, "refs/heads/bench/it%d" % i)
            if i >= a.warmup:
                samples[name].append(dt)
        log("push iteration %d/%d%s: %s" % (
            i + 1, total, " (warm-up)" if i < a.warmup else "",
            " ".join("%s=%.0fms" % (n, samples[n][-1] * 1000 if i >= a.warmup else 0)
                     for n, _ in targets) if i >= a.warmup else "-"))
    for name, _ in targets:
        s = samples[name]
        print("push.%s.median_ms=%.1f" % (name, statistics.median(s) * 1000))
        print("push.%s.min_ms=%.1f" % (name, min(s) * 1000))
        print("push.%s.max_ms=%.1f" % (name, max(s) * 1000))
        print("push.%s.samples_ms=%s" % (name, ",".join("%.0f" % (x * 1000) for x in s)))
    print("push.runs=%d" % a.runs)
    print("push.files=%d" % a.files)


# --- events API -----------------------------------------------------------------

def api_get(server, token, path):
    req = urllib.request.Request(server + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def events_after(server, token, after):
    out = []
    while True:
        batch = api_get(server, token, "/api/v1/events?after=%d&limit=1000" % after)
        if not batch:
            return out
        out.extend(batch)
        after = batch[-1]["logseq"]


def events_head(server, token):
    return max([0] + [e["logseq"] for e in events_after(server, token, 0)[-1:]])


# --- 2. burst of concurrent pushes -----------------------------------------------

def cmd_burst(a):
    targets = parse_targets(a.target)
    base = init_work(a.work, targets)
    head = events_head(a.events_server, a.token)
    res = {n: [] for n, _ in targets}   # (wall_s, events)
    for r in range(a.runs):
        fi = FastImport(a.work)
        chains = []
        for p in range(a.pushers):
            parent, marks = base, []
            for k in range(a.pushes):
                parent = fi.commit("refs/heads/burst/r%d/p%d" % (r, p), parent,
                                   "burst %d/%d/%d\n" % (r, p, k),
                                   [("burst/p%d/f%03d.md" % (p, k), small_file("b%d" % r, k))])
                marks.append(parent)
            chains.append(marks)
        sha = fi.run()
        order = targets[r % len(targets):] + targets[:r % len(targets)]
        for name, url in order:
            errors = []
            start = threading.Barrier(a.pushers + 1)

            def pusher(p):
                start.wait()
                try:
                    for m in chains[p]:
                        push(a.work, url, sha[m], "refs/heads/burst/r%d/p%d" % (r, p))
                except SystemExit as e:
                    errors.append(e)

            th = [threading.Thread(target=pusher, args=(p,)) for p in range(a.pushers)]
            for t in th:
                t.start()
            start.wait()
            t0 = time.perf_counter()
            for t in th:
                t.join()
            wall = time.perf_counter() - t0
            if errors:
                die("burst push to %s failed" % name)
            nev = 0
            if name == a.events_target:
                evs = events_after(a.events_server, a.token, head)
                nev = len(evs)
                if evs:
                    head = evs[-1]["logseq"]
                want = a.pushers * a.pushes * 2
                if nev != want:
                    log("warning: burst run %d appended %d events, expected %d" % (r + 1, nev, want))
            res[name].append((wall, nev))
            log("burst run %d/%d %s: %d pushes in %.2fs%s" % (
                r + 1, a.runs, name, a.pushers * a.pushes, wall,
                ", %d events" % nev if name == a.events_target else ""))
    npush = a.pushers * a.pushes
    for name, _ in targets:
        print("burst.%s.pushes_per_s=%.1f" % (name, statistics.median([npush / w for w, _ in res[name]])))
        print("burst.%s.wall_s=%.2f" % (name, statistics.median([w for w, _ in res[name]])))
    ev = res[a.events_target]
    print("burst.events_per_s=%.1f" % statistics.median([n / w for w, n in ev]))
    print("burst.events=%d" % statistics.median([n for _, n in ev]))
    print("burst.pushes=%d" % npush)
    print("burst.pushers=%d" % a.pushers)
    print("burst.runs=%d" % a.runs)


# --- 3. SSE delivery latency ------------------------------------------------------

def parse_time(s):
    # "2026-11-26T18:10:41.123Z"
    d = datetime.datetime.strptime(s.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    return d.timestamp()


class SSEClient(threading.Thread):
    def __init__(self, server, token, after):
        super().__init__(daemon=True)
        u = urllib.parse.urlsplit(server)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        self.conn.request("GET", "/api/v1/events/stream?after=%d" % after,
                          headers={"Authorization": "Bearer " + token,
                                   "Accept": "text/event-stream"})
        self.sock = self.conn.sock
        self.resp = self.conn.getresponse()
        if self.resp.status != 200:
            die("event stream: HTTP %d" % self.resp.status)
        self.received = []          # (recv_time, event dict)
        self.cond = threading.Condition()
        self.stop = False

    def run(self):
        pending = b""
        data = None
        try:
            while not self.stop:
                chunk = self.resp.read1(65536)
                now = time.time()
                if not chunk:
                    break
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    line = line.rstrip(b"\r")
                    if line.startswith(b"data:"):
                        data = line[5:].strip()
                    elif line == b"" and data is not None:
                        ev = json.loads(data)
                        data = None
                        with self.cond:
                            self.received.append((now, ev))
                            self.cond.notify_all()
        except Exception as e:  # connection closed at the end
            if not self.stop:
                log("event stream reader: %s" % e)

    def wait_for(self, pred, timeout):
        end = time.time() + timeout
        with self.cond:
            while not pred(self.received):
                left = end - time.time()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True


def cmd_sse(a):
    url = a.target
    base = init_work(a.work, [("gitstore", url)])
    fi = FastImport(a.work)
    parent, marks = base, []
    for k in range(a.pushes):
        parent = fi.commit("refs/heads/sse", parent, "sse %d\n" % k,
                           [("sse/f%03d.md" % k, small_file("sse", k))])
        marks.append(parent)
    sha = fi.run()
    head = events_head(a.events_server, a.token)
    cli = SSEClient(a.events_server, a.token, head)
    cli.start()
    push_times = []
    for k, m in enumerate(marks):
        push_times.append(push(a.work, url, sha[m], "refs/heads/sse"))
        time.sleep(a.gap)
    is_branch = lambda e: e["type"].startswith("dev.gitstore.branch-")
    ok = cli.wait_for(lambda rs: sum(1 for _, e in rs if is_branch(e)) >= a.pushes, 30)
    cli.stop = True
    try:
        cli.sock.shutdown(2)
    except OSError:
        pass
    got = [(t, e) for t, e in cli.received if is_branch(e)]
    if not ok:
        die("event stream delivered %d of %d branch events within 30 s" % (len(got), a.pushes))
    lat = [(t - parse_time(e["time"])) * 1000 for t, e in got]
    print("sse.p50_ms=%.1f" % pct(lat, 50))
    print("sse.p99_ms=%.1f" % pct(lat, 99))
    print("sse.max_ms=%.1f" % max(lat))
    print("sse.min_ms=%.1f" % min(lat))
    print("sse.events=%d" % len(lat))
    print("sse.push_p50_ms=%.1f" % (statistics.median(push_times) * 1000))


# --- 4. parse + validate throughput (gitstore validate, one core) -----------------

def product_file(name, nonce):
    # ~280 bytes: a valid Product with labels, tags and an option list, so
    # every part of the parser and the Product field table runs.
    return ("---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\n"
            "metadata:\n  name: %s\n  labels:\n    tier: gold\n    bench: \"yes\"\n"
            "spec:\n  title: \"Product %s\"\n  tags: [bench, catalog]\n"
            "  options:\n    - name: size\n      values: [s, m, l]\n"
            "---\n# Product %s\n\nA benchmark product (nonce %s).\n" % (
                name, name, name, nonce)).encode()


def pin_prefix():
    """`taskset -c 0` when it exists and works here, else nothing."""
    ts = shutil.which("taskset")
    if ts and subprocess.run([ts, "-c", "0", "true"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL).returncode == 0:
        return [ts, "-c", "0"]
    return []


def timed_run(argv):
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return time.perf_counter() - t0, p


def cmd_validate(a):
    d = os.path.join(a.work, "products")
    os.makedirs(d, exist_ok=True)
    paths = []
    for j in range(a.files):
        rel = os.path.join("products", "v%05d.md" % j)
        with open(os.path.join(a.work, rel), "wb") as f:
            f.write(product_file("v%05d" % j, os.urandom(8).hex()))
        paths.append(rel)
    pin = pin_prefix()
    if not pin:
        log("warning: taskset -c 0 unavailable; validate is not pinned to one core")
    val = pin + [a.bin, "validate", "--namespace", "default", "--repo", "catalog", "--"] + paths
    cat = pin + ["cat", "--"] + paths
    vs, cs = [], []
    os.chdir(a.work)   # relative paths: the argument list stays short
    for i in range(a.warmup + a.runs):
        # alternate which command goes first
        for which in (("v", "c") if i % 2 == 0 else ("c", "v")):
            if which == "v":
                dt, p = timed_run(val)
                if p.returncode != 0:
                    die("gitstore validate exited %d: %s" % (
                        p.returncode, (p.stdout + p.stderr).decode(errors="replace")[:2000]))
                if i >= a.warmup:
                    vs.append(dt)
            else:
                dt, p = timed_run(cat)
                if p.returncode != 0:
                    die("cat exited %d" % p.returncode)
                if i >= a.warmup:
                    cs.append(dt)
    med = statistics.median(vs)
    print("validate.files=%d" % a.files)
    print("validate.runs=%d" % a.runs)
    print("validate.pinned=%d" % (1 if pin else 0))
    print("validate.bytes=%d" % sum(os.path.getsize(p) for p in paths))
    print("validate.median_ms=%.1f" % (med * 1000))
    print("validate.per_s=%.0f" % (a.files / med))
    print("validate.us_per_file=%.1f" % (med * 1e6 / a.files))
    print("validate.cat_median_ms=%.1f" % (statistics.median(cs) * 1000))
    print("validate.samples_ms=%s" % ",".join("%.0f" % (x * 1000) for x in vs))


# --- 5. catalog ingest: push returned -> last catalog event -------------------------

def cmd_catalog(a):
    url = a.target
    base = init_work(a.work, [("gitstore", url)])
    head = events_head(a.events_server, a.token)
    parent = base
    res = []      # dicts per measured run
    total = a.warmup + a.runs
    for i in range(total):
        fi = FastImport(a.work)
        files = [("products/r%02d/d%02d/p%05d.md" % (i, j // 100, j),
                  product_file("r%02d-p%05d" % (i, j), os.urandom(8).hex()))
                 for j in range(a.files)]
        m = fi.commit("refs/heads/main", parent, "catalog run %d\n" % i, files)
        sha = fi.run()[m]
        after = head
        t_push0 = time.time()
        push(a.work, url, sha, "refs/heads/main")
        t_ret = time.time()
        got, t_req, t_seen = 0, None, None
        while got < a.files:
            t_q = time.time()
            batch = api_get(a.events_server, a.token,
                            "/api/v1/events?after=%d&limit=1000&type=catalog-admission-evaluated" % after)
            if batch:
                if t_req is None:
                    t_req = t_q
                got += len(batch)
                after = batch[-1]["logseq"]
                continue
            if time.time() - t_ret > a.timeout:
                die("catalog run %d: %d of %d catalog-admission-evaluated events within %d s" % (
                    i + 1, got, a.files, a.timeout))
            time.sleep(a.poll)
        t_seen = time.time()
        # untimed: every event of the push, for checks and the breakdown
        evs = events_after(a.events_server, a.token, head)
        head = max([head] + [e["logseq"] for e in evs])
        by = {}
        for e in evs:
            by.setdefault(e["type"].split(".")[2], []).append(e)
        ref = [e for e in by.get("branch-updated", []) + by.get("branch-created", [])
               if e["data"].get("newSha") == sha]
        adm = by.get("catalog-admission-evaluated", [])
        parsed = by.get("catalog-resource-parsed", [])
        target = by.get("catalog-namespace-target", [])
        if not ref or len(target) != 1 or len(parsed) != a.files or len(adm) != a.files:
            die("catalog run %d: ref %d, namespace-target %d, parsed %d, admission %d events (want 1/1/%d/%d)" % (
                i + 1, len(ref), len(target), len(parsed), len(adm), a.files, a.files))
        bad = [e for e in adm if not e["data"].get("allowed") or e["data"].get("operation") != "create"]
        if bad or by.get("catalog-resource-validation-failed"):
            die("catalog run %d: %d resources not admitted as new" % (i + 1, len(bad)))
        t_ref = parse_time(ref[0]["time"])
        t_first = parse_time(target[0]["time"])
        t_last = max(parse_time(e["time"]) for e in adm)
        r = {
            "latency": t_seen - t_ret,            # the figure
            "push": t_ret - t_push0,
            "ref_to_ret": t_ret - t_ref,          # push return after the ref event
            "ref_to_first": t_first - t_ref,      # diff, blob reads, parse, plan, build events
            "append": t_last - t_first,           # event inserts
            "last_to_seen": t_seen - t_last,      # rows, commit, poll + read-out
            "readout": t_seen - t_req,            # the polls that returned the events
            "ret_to_last": t_last - t_ret,        # last event's own time after the push returned
        }
        log("catalog run %d/%d%s: push %.0f ms, then last catalog event seen after %.0f ms "
            "(ref->1st catalog event %.0f ms, appends %.0f ms, rows+commit+read-out %.0f ms)" % (
                i + 1, total, " (warm-up)" if i < a.warmup else "", r["push"] * 1000, r["latency"] * 1000,
                r["ref_to_first"] * 1000, r["append"] * 1000, r["last_to_seen"] * 1000))
        if i >= a.warmup:
            res.append(r)
        else:
            print("catalog.warmup_ms=%.0f" % (r["latency"] * 1000))
        parent = sha
    med = lambda k: statistics.median([r[k] for r in res]) * 1000
    for k in ("latency", "push", "ref_to_ret", "ref_to_first", "append", "last_to_seen", "readout", "ret_to_last"):
        print("catalog.%s_ms=%.0f" % (k, med(k)))
    print("catalog.samples_ms=%s" % ",".join("%.0f" % (r["latency"] * 1000) for r in res))
    print("catalog.files=%d" % a.files)
    print("catalog.runs=%d" % a.runs)


# --- 6. API writes vs. push + wait for admission --------------------------------

def api_events(server, token, after, **filters):
    """Every event after `after` matching the filters (pages followed)."""
    out = []
    q = "".join("&%s=%s" % (k, urllib.parse.quote(v, safe="/")) for k, v in filters.items())
    while True:
        batch = api_get(server, token, "/api/v1/events?after=%d&limit=1000%s" % (after, q))
        out.extend(batch)
        if len(batch) < 1000:
            return out
        after = batch[-1]["logseq"]


def api_put(server, token, path, body):
    """One PUT on a new connection: (status, json or None, seconds, wall start)."""
    u = urllib.parse.urlsplit(server)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    w0 = time.time()
    t0 = time.perf_counter()
    try:
        conn.request("PUT", path, body=body,
                     headers={"Authorization": "Bearer " + token,
                              "Content-Type": "text/markdown"})
        r = conn.getresponse()
        data = r.read()
        status = r.status
    except (OSError, http.client.HTTPException) as e:
        log("PUT %s: %s" % (path, e))
        status, data = 0, b""
    finally:
        conn.close()
    dt = time.perf_counter() - t0
    try:
        j = json.loads(data)
    except ValueError:
        j = None
    return status, j, dt, w0


def write_plan(prefix, n, rnd):
    """n writes of distinct names: even ones create PREFIX-NNNN, odd ones
    update a name created earlier (random, seeded). [(name, create)]"""
    plan, made = [], []
    for i in range(n):
        if i % 2 == 0 or not made:
            made.append("%s-%04d" % (prefix, len(made)))
            plan.append((made[-1], True))
        else:
            plan.append((rnd.choice(made), False))
    return plan


class ApiWriter:
    """API writes of one client; records outcome and latency per write."""

    def __init__(self, a, plural="products"):
        self.a = a
        self.base = "/api/v1/repos/%s/%s/resources/%s/" % (a.ns, a.api_repo, plural)
        self.rec = []   # dicts

    def write(self, name, create):
        body = product_file(name, os.urandom(8).hex())
        st, j, dt, w0 = api_put(self.a.events_server, self.a.token, self.base + name, body)
        kind = "ok"
        if st in (200, 201):
            if j is None:
                kind = "bad-json"
            elif j.get("unchanged"):
                kind = "unchanged"
            elif not (j.get("admission") or {}).get("allowed"):
                kind = "not-allowed"
            elif st != (201 if create else 200):
                kind = "status-%d-for-%s" % (st, "create" if create else "update")
        elif st == 202:
            kind = "202"
        elif st == 409:
            kind = "409"
        else:
            kind = "http-%d" % st
        r = {"name": name, "create": create, "status": st, "kind": kind, "dt": dt, "w0": w0,
             "w1": w0 + dt, "pushId": (j or {}).get("pushId") if isinstance(j, dict) else None,
             "commit": (j or {}).get("commit") if isinstance(j, dict) else None}
        if kind != "ok":
            msg = json.dumps(j)[:300] if j is not None else "-"
            log("API write %s (%s): HTTP %d after %.0f ms, %s: %s" % (
                name, "create" if create else "update", st, dt * 1000, kind, msg))
        self.rec.append(r)
        return r


def summarize_writes(recs):
    ok = [r for r in recs if r["kind"] == "ok"]
    err = [r for r in recs if not (200 <= r["status"] < 300) or r["status"] == 202]
    kinds = {}
    for r in recs:
        if r["kind"] != "ok":
            kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    return ok, err, kinds


def cmd_apiwrite(a):
    t_step = time.perf_counter()
    rnd = random.Random(6)
    head0 = events_head(a.events_server, a.token)
    # push baseline: a work repository whose main is pushed to the push repo
    base = init_work(a.work, [("gitstore", a.push_url)])
    tip = base
    cursor = head0   # admission events of the push repository are read after this

    def push_and_admit(name):
        nonlocal tip, cursor
        fi = FastImport(a.work)
        m = fi.commit("refs/heads/main", tip, "push %s\n" % name,
                      [("products/%s.md" % name, product_file(name, os.urandom(8).hex()))])
        sha = fi.run()[m]
        after = cursor
        w0 = time.time()
        t0 = time.perf_counter()
        push(a.work, a.push_url, sha, "refs/heads/main")
        t_ret = time.perf_counter()
        polls = 0
        while True:
            polls += 1
            batch = api_get(a.events_server, a.token,
                            "/api/v1/events?after=%d&limit=1000&type=catalog-admission-evaluated&repo=%s/%s" % (
                                after, a.ns, a.push_repo))
            hit = [e for e in batch if e["data"].get("resource", {}).get("name") == name
                   and e["data"].get("commitSha") == sha]
            if hit:
                break
            if batch:
                after = batch[-1]["logseq"]
            if time.perf_counter() - t0 > a.timeout:
                die("push of %s: no catalog-admission-evaluated within %d s" % (name, a.timeout))
            time.sleep(a.poll)
        t1 = time.perf_counter()
        tip = sha
        cursor = hit[0]["logseq"]
        if not hit[0]["data"].get("allowed"):
            log("warning: pushed %s was not admitted: %s" % (name, json.dumps(hit[0]["data"].get("reason"))))
        return {"name": name, "sha": sha, "dt": t1 - t0, "push": t_ret - t0, "w0": w0,
                "w1": w0 + (t1 - t0), "w_ret": w0 + (t_ret - t0), "polls": polls,
                "allowed": bool(hit[0]["data"].get("allowed"))}

    # warm-up, dropped: the API write creates main of the API repository
    wr = ApiWriter(a)
    warm = [wr.write("%s-warm" % a.prefix, True)]
    push_and_admit("%s-warm" % a.push_prefix)
    wr.rec = []

    # R rounds, each: N/R sequential API writes with the push + admit
    # baseline spread evenly among them (alternately before and after an
    # API write), and N/R writes by C concurrent clients (own names each);
    # the two halves swap order every round, so a load change on this
    # shared machine hits both alike
    plan = write_plan("%s-s" % a.prefix, a.writes, rnd)
    pplan = write_plan(a.push_prefix, a.pushes, rnd)
    at = {}
    for k in range(a.pushes):
        at.setdefault((k * a.writes) // max(1, a.pushes), []).append(k)
    per = [a.writes // a.clients + (1 if c < a.writes % a.clients else 0) for c in range(a.clients)]
    writers = [ApiWriter(a) for _ in range(a.clients)]
    plans = [write_plan("%s-c%d" % (a.prefix, c), per[c], rnd) for c in range(a.clients)]
    pushes, walls = [], []   # walls: (seconds, ok writes) of each concurrent round
    seq_ok = [[] for _ in range(a.rounds)]   # latencies of the ok sequential writes, per round

    def seq_part(r):
        lo, hi = r * a.writes // a.rounds, (r + 1) * a.writes // a.rounds
        for i in range(lo, hi):
            ks = at.get(i, [])
            if ks and ks[0] % 2 == 1:
                pushes.extend(push_and_admit(pplan[k][0]) for k in ks)
                ks = []
            x = wr.write(*plan[i])
            pushes.extend(push_and_admit(pplan[k][0]) for k in ks)
            if x["kind"] == "ok":
                seq_ok[r].append(x["dt"])

    def conc_part(r):
        start = threading.Barrier(a.clients + 1)
        before = [len(w.rec) for w in writers]

        def client(c):
            start.wait()
            n = len(plans[c])
            for name, create in plans[c][r * n // a.rounds:(r + 1) * n // a.rounds]:
                writers[c].write(name, create)

        th = [threading.Thread(target=client, args=(c,)) for c in range(a.clients)]
        for t in th:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in th:
            t.join()
        wall = time.perf_counter() - t0
        ok = sum(1 for w, b in zip(writers, before) for x in w.rec[b:] if x["kind"] == "ok")
        walls.append((wall, ok))

    for r in range(a.rounds):
        for part in ((seq_part, conc_part) if r % 2 == 0 else (conc_part, seq_part)):
            part(r)
        log("API writes round %d/%d: %d sequential (+%d pushes so far), %d concurrent writes in %.2f s" % (
            r + 1, a.rounds, len(wr.rec), len(pushes), walls[-1][1], walls[-1][0]))
    seq = wr.rec
    conc = [x for w in writers for x in w.rec]
    wall = sum(w for w, _ in walls)

    # untimed: the log of the API repository, for checks and the breakdown
    evs = api_events(a.events_server, a.token, head0, repo="%s/%s" % (a.ns, a.api_repo))
    by_push = {}
    for e in evs:
        pid = e.get("correlationid")
        if pid:
            by_push.setdefault(pid, []).append(e)
    committed = [r for r in warm + seq + conc if r["pushId"] and r["status"] in (200, 201, 202)]
    bad_ev = 0
    split = []  # sequential writes: (request -> ref event, ref event -> admission event, admission event -> answer)
    csplit = []  # the same for the concurrent writes
    for r in committed:
        es = by_push.get(r["pushId"], [])
        types = [e["type"].split(".")[2] for e in es]
        ref = [e for e in es if e["type"].split(".")[2] in ("branch-updated", "branch-created")]
        adm = [e for e in es if e["type"].endswith(".catalog-admission-evaluated.v1")]
        if len(ref) != 1 or len(adm) != 1 or "push-completed" not in types or \
                ref[0]["data"].get("newSha") != r["commit"] or \
                ref[0]["data"].get("origin") != "api":
            bad_ev += 1
            if bad_ev <= 5:
                log("warning: API write %s (push %s): events %s" % (r["name"], r["pushId"], ",".join(types)))
            continue
        tr, ta = parse_time(ref[0]["time"]), parse_time(adm[0]["time"])
        if any(r is x for x in seq):
            split.append((tr - r["w0"], ta - tr, r["w1"] - ta))
        elif any(r is x for x in conc):
            csplit.append((tr - r["w0"], ta - tr, r["w1"] - ta))
    # the same split for the pushes
    pevs = api_events(a.events_server, a.token, head0, repo="%s/%s" % (a.ns, a.push_repo))
    psplit = []
    for p in pushes:
        ref = [e for e in pevs if e["type"].split(".")[2] in ("branch-updated", "branch-created")
               and e["data"].get("newSha") == p["sha"]]
        adm = [e for e in pevs if e["type"].endswith(".catalog-admission-evaluated.v1")
               and e["data"].get("commitSha") == p["sha"]]
        if ref and adm:
            tr, ta = parse_time(ref[0]["time"]), parse_time(adm[0]["time"])
            psplit.append((tr - p["w0"], ta - tr, p["w1"] - ta, p["w_ret"] - tr))
    n_adm = sum(1 for e in evs if e["type"].endswith(".catalog-admission-evaluated.v1"))

    ms = lambda x: x * 1000
    sok, serr, skinds = summarize_writes(seq)
    cok, cerr, ckinds = summarize_writes(conc)
    if not sok or not cok:
        die("no successful API write (sequential %s, concurrent %s)" % (skinds, ckinds))
    lat = [r["dt"] for r in sok]
    clat = [r["dt"] for r in cok]
    plat = [p["dt"] for p in pushes]
    print("api.writes=%d" % a.writes)
    print("api.clients=%d" % a.clients)
    print("api.pushes=%d" % len(pushes))
    print("api.seq_p50_ms=%.1f" % ms(pct(lat, 50)))
    print("api.seq_p99_ms=%.1f" % ms(pct(lat, 99)))
    print("api.seq_min_ms=%.1f" % ms(min(lat)))
    print("api.seq_max_ms=%.1f" % ms(max(r["dt"] for r in seq)))
    print("api.seq_create_p50_ms=%.1f" % ms(pct([r["dt"] for r in sok if r["create"]], 50)))
    print("api.seq_update_p50_ms=%.1f" % ms(pct([r["dt"] for r in sok if not r["create"]], 50)))
    print("api.seq_ok=%d" % len(sok))
    print("api.seq_errors=%d" % len(serr))
    print("api.seq_409=%d" % skinds.get("409", 0))
    print("api.seq_202=%d" % skinds.get("202", 0))
    print("api.seq_other=%s" % (",".join("%s:%d" % kv for kv in sorted(skinds.items())) or "none"))
    print("api.seq_per_s=%.1f" % (len(sok) / sum(lat)))
    print("api.push_p50_ms=%.1f" % ms(pct(plat, 50)))
    print("api.push_p99_ms=%.1f" % ms(pct(plat, 99)))
    print("api.push_only_p50_ms=%.1f" % ms(pct([p["push"] for p in pushes], 50)))
    print("api.push_per_s=%.1f" % (len(plat) / sum(plat)))
    print("api.push_not_allowed=%d" % sum(1 for p in pushes if not p["allowed"]))
    print("api.push_samples_ms=%s" % ",".join("%.0f" % ms(x) for x in plat))
    print("api.conc_per_s=%.1f" % (len(cok) / wall))
    print("api.conc_wall_s=%.2f" % wall)
    print("api.conc_round_per_s=%s" % ",".join("%.1f" % (n / w) for w, n in walls))
    print("api.rounds=%d" % a.rounds)
    print("api.seq_round_per_s=%s" % ",".join("%.1f" % (len(x) / sum(x)) if x else "-" for x in seq_ok))
    print("api.conc_p50_ms=%.1f" % ms(pct(clat, 50)))
    print("api.conc_p99_ms=%.1f" % ms(pct(clat, 99)))
    print("api.conc_max_ms=%.1f" % ms(max(r["dt"] for r in conc)))
    print("api.conc_ok=%d" % len(cok))
    print("api.conc_errors=%d" % len(cerr))
    print("api.conc_409=%d" % ckinds.get("409", 0))
    print("api.conc_202=%d" % ckinds.get("202", 0))
    print("api.conc_other=%s" % (",".join("%s:%d" % kv for kv in sorted(ckinds.items())) or "none"))
    print("api.event_mismatch=%d" % bad_ev)
    print("api.admission_events=%d" % n_adm)
    print("api.committed=%d" % len(committed))
    med = lambda xs, k: ms(statistics.median([x[k] for x in xs])) if xs else float("nan")
    print("api.split_req_to_ref_ms=%.1f" % med(split, 0))
    print("api.split_ref_to_adm_ms=%.1f" % med(split, 1))
    print("api.split_adm_to_answer_ms=%.1f" % med(split, 2))
    print("api.csplit_req_to_ref_ms=%.1f" % med(csplit, 0))
    print("api.csplit_ref_to_adm_ms=%.1f" % med(csplit, 1))
    print("api.csplit_adm_to_answer_ms=%.1f" % med(csplit, 2))
    print("api.psplit_start_to_ref_ms=%.1f" % med(psplit, 0))
    print("api.psplit_ref_to_adm_ms=%.1f" % med(psplit, 1))
    print("api.psplit_adm_to_seen_ms=%.1f" % med(psplit, 2))
    print("api.psplit_ref_to_ret_ms=%.1f" % med(psplit, 3))
    print("api.seq_samples_sorted_top5_ms=%s" % ",".join("%.0f" % ms(x) for x in sorted(lat)[-5:]))
    print("api.conc_samples_sorted_top5_ms=%s" % ",".join("%.0f" % ms(x) for x in sorted(clat)[-5:]))
    print("api.step_s=%.1f" % (time.perf_counter() - t_step))


# --- 7. admission latency added by ten ValidatingAdmissionPolicies ----------------

# (name, actions, failurePolicy, matchCondition or None, validation, message)
POLICIES = [
    ("p01-title-size", "Deny", "Fail", "has(object.spec.title)",
     "object.spec.title.size() <= 200", "title too long"),
    ("p02-name", "Deny", "Fail", None,
     "object.metadata.name.size() <= 63 && object.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",
     "name is not a DNS label"),
    ("p03-label-keys", "Deny", "Fail", None,
     "object.metadata.labels.all(k, k.size() <= 63 && !k.startsWith('kubernetes.io/'))",
     "label key too long or reserved"),
    ("p04-label-values", "Deny", "Fail", None,
     "object.metadata.labels.all(k, object.metadata.labels[k].size() <= 63)",
     "label value too long"),
    ("p05-tier", "Deny", "Fail", "'tier' in object.metadata.labels",
     "object.metadata.labels.tier in ['gold', 'silver', 'bronze']", "unknown tier"),
    ("p06-operation", "Deny", "Fail", None,
     "request.operation == 'CREATE' || oldObject != null", "update without an old object"),
    ("p07-tags", "Deny", "Fail", None,
     "!has(object.spec.tags) || (object.spec.tags.size() <= 20 && object.spec.tags.all(t, t.size() <= 32))",
     "too many or too long tags"),
    ("p08-options", "Deny", "Ignore", "has(object.spec.options)",
     "object.spec.options.all(o, !has(o.values) || o.values.size() <= 50)", "too many option values"),
    ("p09-bench-label", "Warn", "Fail", None,
     "'bench' in object.metadata.labels", "add a bench label"),
    ("p10-audit-origin", "Audit", "Fail", None,
     "request.user.name.size() > 0 && request.origin in ['git', 'api']", "unexpected origin"),
]


def policy_file(name, actions, failure, cond, expr, msg):
    """A ValidatingAdmissionPolicy file (docs/admission.md#policies)."""
    s = ("---\napiVersion: admission.gitstore.dev/v1beta1\nkind: ValidatingAdmissionPolicy\n"
         "metadata:\n  name: %s\nspec:\n  failurePolicy: %s\n  matchConstraints:\n"
         "    kinds: [Product]\n    operations: [CREATE, UPDATE]\n" % (name, failure))
    if cond:
        s += "  matchConditions:\n    - name: applies\n      expression: \"%s\"\n" % cond
    s += ("  validations:\n    - expression: \"%s\"\n      message: \"%s\"\n"
          "  validationActions: [%s]\n---\n" % (expr, msg, actions))
    return s.encode()


def cmd_policyfiles(a):
    """Writes the ten policy files to --out (for `gitstore policy test`)."""
    os.makedirs(a.out, exist_ok=True)
    for p in POLICIES:
        with open(os.path.join(a.out, p[0] + ".md"), "wb") as f:
            f.write(policy_file(*p))


def wait_admissions(a, repo, after, want, t_ret):
    """Polls the admission events of repo after `after` (every a.poll s)
    until `want` have been seen; returns (wall time seen, first-hit time)."""
    got, t_req = 0, None
    while got < want:
        t_q = time.time()
        batch = api_get(a.events_server, a.token,
                        "/api/v1/events?after=%d&limit=1000&type=catalog-admission-evaluated&repo=%s" % (
                            after, repo))
        if batch:
            if t_req is None:
                t_req = t_q
            got += len(batch)
            after = batch[-1]["logseq"]
            continue
        if time.time() - t_ret > a.timeout:
            die("%s: %d of %d catalog-admission-evaluated events within %d s" % (repo, got, want, a.timeout))
        time.sleep(a.poll)
    return time.time(), t_req


def cmd_policy(a):
    t_step = time.perf_counter()
    npol = len(POLICIES)
    head = events_head(a.events_server, a.token)

    # the ten policies, one commit on main of <ns>/gitstore-system (admin)
    sysrepo = "%s/gitstore-system" % a.ns_pol
    sysw = os.path.join(a.work, "sys")
    git(".", "init", "-q", sysw)
    fi = FastImport(sysw)
    m = fi.commit("refs/heads/main", None, "ten policies\n",
                  [("policies/%s.md" % p[0], policy_file(*p)) for p in POLICIES])
    sha = fi.run()[m]
    t0 = time.time()
    push(sysw, "%s/%s.git" % (a.git_base, sysrepo), sha, "refs/heads/main")
    t_ret = time.time()
    t_seen, _ = wait_admissions(a, sysrepo, head, npol, t_ret)
    evs = api_events(a.events_server, a.token, head, repo=sysrepo, type="catalog-admission-evaluated")
    pol_ok = [e for e in evs if e["data"].get("resource", {}).get("kind") == "ValidatingAdmissionPolicy"
              and e["data"].get("allowed") is True]
    if len(pol_ok) != npol or len(evs) != npol:
        die("policies: %d admission events, %d admitted ValidatingAdmissionPolicies (want %d): %s" % (
            len(evs), len(pol_ok), npol,
            json.dumps([e["data"] for e in evs if not e["data"].get("allowed")])[:1000]))
    log("policies: %d admitted %.0f ms after the push started (push %.0f ms)" % (
        npol, (t_seen - t0) * 1000, (t_ret - t0) * 1000))
    print("policy.sys_push_ms=%.0f" % ((t_ret - t0) * 1000))
    print("policy.sys_admitted_ms=%.0f" % ((t_seen - t0) * 1000))
    head = max([head] + [e["logseq"] for e in evs])

    # rounds: a fresh repository in each namespace per round, both pushes
    # adding N new products (same names and shape, so the same work), the
    # order alternated per round
    sides = [("none", a.ns_none, 0), ("pol", a.ns_pol, npol)]
    res = {"none": [], "pol": []}
    total = a.warmup + a.runs
    for i in range(total):
        repo_name = "%s%02d" % (a.repo_prefix, i)
        built = {}
        for side, ns, _ in sides:   # untimed: base commit pushed, the N-file commit built
            w = os.path.join(a.work, "%s-%02d" % (side, i))
            url = "%s/%s/%s.git" % (a.git_base, ns, repo_name)
            base = init_work(w, [("gitstore", url)])
            fi = FastImport(w)
            files = [("products/d%02d/p%05d.md" % (j // 100, j),
                      product_file("r%02d-p%05d" % (i, j), os.urandom(8).hex()))
                     for j in range(a.files)]
            m = fi.commit("refs/heads/main", base, "policy bench round %d\n" % i, files)
            built[side] = (w, url, fi.run()[m])
        order = sides if i % 2 == 0 else sides[::-1]
        for side, ns, want_pol in order:
            w, url, sha = built[side]
            repo = "%s/%s" % (ns, repo_name)
            after = head
            t_push0 = time.time()
            push(w, url, sha, "refs/heads/main")
            t_ret = time.time()
            t_seen, t_req = wait_admissions(a, repo, after, a.files, t_ret)
            # untimed: every event of the push, checked
            evs = api_events(a.events_server, a.token, after, repo=repo)
            head = max([head] + [e["logseq"] for e in evs])
            by = {}
            for e in evs:
                by.setdefault(e["type"].split(".")[2], []).append(e)
            ref = [e for e in by.get("branch-updated", []) + by.get("branch-created", [])
                   if e["data"].get("newSha") == sha]
            adm = by.get("catalog-admission-evaluated", [])
            target = by.get("catalog-namespace-target", [])
            if not ref or len(target) != 1 or len(adm) != a.files:
                die("policy round %d %s: ref %d, namespace-target %d, admission %d events (want 1/1/%d)" % (
                    i + 1, repo, len(ref), len(target), len(adm), a.files))
            denied = [e for e in adm if e["data"].get("allowed") is not True]
            if denied or by.get("catalog-resource-validation-failed"):
                die("policy round %d %s: %d of %d products not admitted, e.g. %s" % (
                    i + 1, repo, len(denied), a.files, json.dumps(denied[0]["data"] if denied else None)[:1500]))
            badpol = [e for e in adm if len(e["data"].get("policies") or []) != want_pol
                      or any(p.get("result") != "pass" for p in e["data"].get("policies") or [])]
            if badpol:
                die("policy round %d %s: %d products without exactly %d passing policies, e.g. %s" % (
                    i + 1, repo, len(badpol), want_pol, json.dumps(badpol[0]["data"].get("policies"))[:1500]))
            t_ref = parse_time(ref[0]["time"])
            t_first = parse_time(target[0]["time"])
            t_last = max(parse_time(e["time"]) for e in adm)
            r = {
                "total": t_seen - t_push0,        # the figure: push start -> last admission event seen
                "push": t_ret - t_push0,          # incl. the pre-receive policy preview
                "after": t_seen - t_ret,          # as step 5: push returned -> last event seen
                "ref_to_first": t_first - t_ref,  # diff, parse, admission (policies), plan
                "append": t_last - t_first,
                "last_to_seen": t_seen - t_last,
                "readout": t_seen - t_req,
                "ev_bytes": statistics.mean(len(json.dumps(e, separators=(",", ":"))) for e in adm),
            }
            log("policy round %d/%d%s %s: push %.0f ms, last admission event seen %.0f ms after the push started "
                "(ref->1st catalog event %.0f ms, appends %.0f ms, rest %.0f ms)" % (
                    i + 1, total, " (warm-up)" if i < a.warmup else "", repo, r["push"] * 1000,
                    r["total"] * 1000, r["ref_to_first"] * 1000, r["append"] * 1000, r["last_to_seen"] * 1000))
            if i >= a.warmup:
                res[side].append(r)
    n = a.files
    med = lambda side, k: statistics.median([r[k] for r in res[side]])
    diff = lambda k: statistics.median([p[k] - q[k] for p, q in zip(res["pol"], res["none"])])
    print("policy.files=%d" % n)
    print("policy.runs=%d" % a.runs)
    print("policy.policies=%d" % npol)
    for side in ("none", "pol"):
        for k in ("total", "push", "after", "ref_to_first", "append", "last_to_seen", "readout"):
            print("policy.%s_%s_ms=%.0f" % (side, k, med(side, k) * 1000))
        print("policy.%s_samples_ms=%s" % (side, ",".join("%.0f" % (r["total"] * 1000) for r in res[side])))
        print("policy.%s_ev_bytes=%.0f" % (side, med(side, "ev_bytes")))
    # paired per round (the two pushes of a round ran back to back)
    print("policy.added_us=%.1f" % (diff("total") / n * 1e6))
    print("policy.added_push_us=%.1f" % (diff("push") / n * 1e6))
    print("policy.added_after_us=%.1f" % (diff("after") / n * 1e6))
    print("policy.added_ref_to_first_us=%.1f" % (diff("ref_to_first") / n * 1e6))
    print("policy.added_append_us=%.1f" % (diff("append") / n * 1e6))
    print("policy.added_last_to_seen_us=%.1f" % (diff("last_to_seen") / n * 1e6))
    print("policy.added_samples_us=%s" % ",".join(
        "%.0f" % ((p["total"] - q["total"]) / n * 1e6) for p, q in zip(res["pol"], res["none"])))
    print("policy.ratio=%.3f" % statistics.median([p["total"] / q["total"] for p, q in zip(res["pol"], res["none"])]))
    print("policy.step_s=%.1f" % (time.perf_counter() - t_step))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("push")
    p.add_argument("--work", required=True)
    p.add_argument("--files", type=int, default=2000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--target", action="append", required=True)
    b = sub.add_parser("burst")
    b.add_argument("--work", required=True)
    b.add_argument("--pushers", type=int, default=4)
    b.add_argument("--pushes", type=int, default=25)
    b.add_argument("--runs", type=int, default=3)
    b.add_argument("--target", action="append", required=True)
    b.add_argument("--events-server", required=True)
    b.add_argument("--events-target", required=True)
    b.add_argument("--token", required=True)
    s = sub.add_parser("sse")
    s.add_argument("--work", required=True)
    s.add_argument("--pushes", type=int, default=50)
    s.add_argument("--gap", type=float, default=0.02)
    s.add_argument("--target", required=True)
    s.add_argument("--events-server", required=True)
    s.add_argument("--token", required=True)
    v = sub.add_parser("validate")
    v.add_argument("--work", required=True)
    v.add_argument("--bin", required=True)
    v.add_argument("--files", type=int, default=2000)
    v.add_argument("--runs", type=int, default=7)
    v.add_argument("--warmup", type=int, default=1)
    c = sub.add_parser("catalog")
    c.add_argument("--work", required=True)
    c.add_argument("--files", type=int, default=2000)
    c.add_argument("--runs", type=int, default=5)
    c.add_argument("--warmup", type=int, default=1)
    c.add_argument("--poll", type=float, default=0.01)
    c.add_argument("--timeout", type=int, default=120)
    c.add_argument("--target", required=True)
    c.add_argument("--events-server", required=True)
    c.add_argument("--token", required=True)
    w = sub.add_parser("apiwrite")
    w.add_argument("--work", required=True)
    w.add_argument("--writes", type=int, default=200)
    w.add_argument("--pushes", type=int, default=30)
    w.add_argument("--clients", type=int, default=4)
    w.add_argument("--rounds", type=int, default=4)
    w.add_argument("--ns", default="default")
    w.add_argument("--api-repo", required=True)
    w.add_argument("--push-repo", required=True)
    w.add_argument("--push-url", required=True)
    w.add_argument("--prefix", default="aw")
    w.add_argument("--push-prefix", default="pa")
    w.add_argument("--poll", type=float, default=0.005)
    w.add_argument("--timeout", type=int, default=60)
    w.add_argument("--events-server", required=True)
    w.add_argument("--token", required=True)
    q = sub.add_parser("policy")
    q.add_argument("--work", required=True)
    q.add_argument("--files", type=int, default=1000)
    q.add_argument("--runs", type=int, default=7)
    q.add_argument("--warmup", type=int, default=1)
    q.add_argument("--poll", type=float, default=0.01)
    q.add_argument("--timeout", type=int, default=120)
    q.add_argument("--ns-none", required=True)
    q.add_argument("--ns-pol", required=True)
    q.add_argument("--repo-prefix", default="cat")
    q.add_argument("--git-base", required=True)
    q.add_argument("--events-server", required=True)
    q.add_argument("--token", required=True)
    f = sub.add_parser("policyfiles")
    f.add_argument("--out", required=True)
    a = ap.parse_args()
    {"push": cmd_push, "burst": cmd_burst, "sse": cmd_sse,
     "validate": cmd_validate, "catalog": cmd_catalog, "apiwrite": cmd_apiwrite,
     "policy": cmd_policy, "policyfiles": cmd_policyfiles}[a.cmd](a)


if __name__ == "__main__":
    main()
