#!/usr/bin/python3
"""scripts/soak/load.py -- the load phase of `make soak` (stdlib only; reuses
the product generator, percentile and URL helpers of scripts/bench/bench.py).

  load.py --bin GITSTORE [--duration S] [--workdir DIR] [--seed N] [--keep]
          [--pushers 20] [--main-pushers 5] [--followers 10] [--writers 4]
          [--release-every 5] [--warmup S]

Starts one daemon (a private copy of GITSTORE and gitstore-hook next to it, a
fresh data directory, namespace `soak`, repository `soak/catalog`, tokens
made with the CLI) and runs for --duration seconds, all at once:

  pushers    P threads, each with its own clone. A pusher writes one to three
             of its own product files per commit (now and then it deletes
             one, and creates it again later), commits and `git push`es,
             timing each push. The first --main-pushers push to the draft
             branch `main` (what the catalog admits): a push refused because
             main moved (non-fast-forward, a lost ref lock) is fetched,
             rebased (the files are the pusher's own: no conflicts) and
             pushed again, counted as a retry. The others push to their own
             branch soak/pNN, where every refusal is an error.
  followers  F threads, each reading GET /api/v1/events/stream from the
             start of the log; every event must have logseq = previous + 1
             (no gap, no duplicate, no reordering) and data.logseq = id. Each
             hangs up by itself every 20-60 s and resumes with Last-Event-ID;
             a stream the server ends is resumed the same way (and counted).
  writers    W threads writing a shared pool of 16 products through
             PUT/DELETE /api/v1/repos/soak/catalog/resources/products/NAME:
             GET the draft resource, then PUT with If-Match: "<its
             resourceVersion>" (or without, to create it) or DELETE with
             If-Match. Contention between writers and with the main pushers
             is intended.
  publisher  every --release-every seconds, the release tag refs/tags/vN
             (N = 1, 2, ...) pushed at the draft branch's head with a
             publisher token (a release ref, docs/lifecycle.md).
  sampler    every second the daemon's VmRSS, threads, open fds and CPU time
             (/proc/PID).

Then the workers stop, one last release is tagged at the final head of
main, and the run settles (the built-in consumers have worked through the
log). Checks, each failure an error:

  - no errors during the load (below);
  - every follower has the whole log: its last id is the head of
    GET /api/v1/events and it saw every logseq exactly once, in order;
  - the log itself: logseq 1..head contiguous, event ids unique; each ref
    event's oldSha is the newSha of the ref's previous event (no ref
    re-created, no move lost or repeated); one push-completed per push or
    API write that reported success (no more, no less); exactly one
    release-created per release tag, no release-rejected or
    release-withdrawn (no release tag is ever deleted or moved);
  - the published view (GET /storefront/v1/namespaces/soak/products) is the
    last release: exactly the products of its commit's tree, each with that
    release's ref and commit and its file's Markdown body;
  - the daemon exits 0 on SIGTERM at the end.

What counts as an error during the load: any 5xx; a connection error
(refused, reset, timeout) while the daemon is up; an unexpected status (a
4xx other than the expected outcomes below; a PUT answered 200/201 whose
admission is not allowed); a push that fails (on own branches: any failure;
on main: any failure other than a refusal because main moved, or more than
200 retries in a row); a failed release tag push; the daemon exiting.

Expected outcomes, counted but not errors: API writes answered 412 (If-Match
no longer holds: another writer got there first), 409 (a concurrent push
moved main between the write's read and its ref update), 404 on a DELETE
whose resource another writer deleted meanwhile (or 404 on an If-Match PUT
of it), 202 (committed, admission not within the 10 s the call waits:
reported as "late"), 503 with Retry-After (the documented back-pressure
when the catalog worker is more than 5 s behind the draft branch or the
database is busy: the writer waits Retry-After seconds and goes on; more
than 10 such answers in a row are an error); a main pusher's retries; SSE
streams the daemon closes as too slow (reported; resumed without loss, or
the follower check fails).

RSS: "start" is the mean of the samples in the 5 s that end the warm-up
(--warmup, default: a fifth of the duration, at most 30 s), "end" the mean of
the last 5 samples of the load (before the settle), "max" the largest
sample. Verdict "flat" when end <= start x 1.2 + 10 MiB, "grows" otherwise;
the run fails only when end > start x 2 + 10 MiB ("grossly non-flat").

Prints progress to stderr every 10 s and the report to stdout (also
DIR/report.json); exits 0 when every check holds, 1 otherwise, 2 when the
soak itself cannot run (setup failed).
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from bench import pct, product_file  # noqa: E402

NS = "soak"
REPO = "catalog"
MIB = 1024 * 1024
API_POOL = 16                 # products the API writers share
FILES_PER_PUSHER = 5          # products each pusher owns
BUSY_RETRIES = 10             # an API writer's 503 + Retry-After answers in a row before it is an error
MAX_RETRIES = 200             # a main pusher's refusals in a row before it is an error (livelock)
# a push refused because the branch moved under it (stock git's wording)
RETRYABLE = ("non-fast-forward", "fetch first", "cannot lock ref", "failed to update ref",
             "stale info", "incorrect old value")


_LIVE = []                    # daemons to stop whatever happens (main's finally)


def log(*a):
    print("soak:", *a, file=sys.stderr, flush=True)


class SetupError(Exception):
    pass


class Stats:
    """Shared counters and the error list (every thread reports here)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.errors = []              # (t, who, message)
        self.t0 = time.time()
        self.committed = 0            # operations that reported a commit: push-completed expected

    def error(self, who, msg):
        with self.lock:
            self.errors.append((time.time() - self.t0, who, msg))
            n = len(self.errors)
        if n <= 20:
            log("ERROR %s: %s" % (who, msg))
        elif n == 21:
            log("(more errors: only counted from here on)")

    def commit(self):
        with self.lock:
            self.committed += 1


# --- the daemon ------------------------------------------------------------------

class Daemon:
    def __init__(self, workdir, bin_src, env):
        self.workdir = workdir
        self.env = env
        bindir = os.path.join(workdir, "bin")
        os.makedirs(bindir, exist_ok=True)
        # a private copy: the hooks exec gitstore-hook next to the binary,
        # and a rebuild during the soak must not change what runs
        self.bin = os.path.join(bindir, "gitstore")
        shutil.copy2(bin_src, self.bin)
        shutil.copy2(os.path.join(os.path.dirname(bin_src), "gitstore-hook"),
                     os.path.join(bindir, "gitstore-hook"))
        self.data = os.path.join(workdir, "data")
        self.logpath = os.path.join(workdir, "gitstore.log")
        self.proc = None
        self.port = None
        self.exit_status = None

    def cli(self, *args):
        p = subprocess.run([self.bin] + list(args) + ["--data", self.data], env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise SetupError("gitstore %s: exit %d: %s" % (
                " ".join(args), p.returncode, p.stderr.decode(errors="replace").strip()))
        return p.stdout.decode().strip()

    def start(self):
        self.logf = open(self.logpath, "ab")
        # its own session: stop() signals the whole process group
        self.proc = subprocess.Popen([self.bin, "serve", "--data", self.data,
                                      "--listen", "127.0.0.1:0"], env=self.env,
                                     stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        _LIVE.append(self)
        end = time.time() + 30
        while time.time() < end:
            with open(self.logpath, "rb") as f:
                for line in f:
                    if line.startswith(b"gitstore: ready listen=127.0.0.1:"):
                        self.port = int(line.split(b":")[-1])
                        return
            if self.proc.poll() is not None:
                raise SetupError("gitstore serve exited %d before it was ready" % self.proc.returncode)
            time.sleep(0.05)
        raise SetupError("gitstore serve printed no ready line within 30 s")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=30):
        """SIGTERM to the group; returns the daemon's exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log("gitstore did not stop within %d s of SIGTERM: SIGKILL" % timeout)
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        self.exit_status = self.proc.returncode
        self.proc = None
        self.logf.close()
        return self.exit_status


def proc_sample(pid):
    """(rss bytes, threads, fds, own cpu s, children cpu s) of a live process."""
    rss = threads = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    fds = len(os.listdir("/proc/%d/fd" % pid))
    with open("/proc/%d/stat" % pid) as f:
        st = f.read()
    fields = st[st.rindex(")") + 2:].split()
    tck = os.sysconf("SC_CLK_TCK")
    return (rss, threads, fds, (int(fields[11]) + int(fields[12])) / tck,
            (int(fields[13]) + int(fields[14])) / tck)


# --- HTTP ------------------------------------------------------------------------

class Http:
    def __init__(self, port):
        self.port = port

    def request(self, method, path, token=None, body=None, headers=None, timeout=60):
        """-> (status, headers dict (lower-case), body bytes); raises OSError /
        http.client.HTTPException on connection errors."""
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            conn.close()

    def get_json(self, path, token=None):
        st, _, data = self.request("GET", path, token)
        if st != 200:
            raise SetupError("GET %s: HTTP %d: %s" % (path, st, data[:300].decode(errors="replace")))
        return json.loads(data)


# --- git -------------------------------------------------------------------------

class Git:
    def __init__(self, env):
        self.env = env

    def run(self, work, *args, timeout=120, check=True):
        p = subprocess.run(["git", "-C", work] + list(args), env=self.env, timeout=timeout,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if check and p.returncode != 0:
            raise SetupError("git %s: exit %d: %s" % (args[0], p.returncode,
                                                      p.stderr.decode(errors="replace").strip()))
        return p

    def out(self, work, *args):
        return self.run(work, *args).stdout.decode().strip()


def body_of(md):
    """The Markdown body of a resource file (after the front-matter)."""
    s = md.decode() if isinstance(md, bytes) else md
    k = s.find("\n---\n", 3)
    return s[k + 5:] if k >= 0 else None


# --- workers ---------------------------------------------------------------------

class Worker(threading.Thread):
    """A thread whose unexpected exception is an error of the run, not a
    silent end of the thread."""

    def run(self):
        try:
            self.loop()
        except Exception:   # noqa: BLE001 -- reported, counted
            log("%s: unexpected exception:\n%s" % (self.name, traceback.format_exc()))
            self.ctx.stats.error(self.name, "unexpected exception: %s" % (
                traceback.format_exc().strip().split("\n")[-1]))


class Pusher(Worker):
    def __init__(self, idx, on_main, ctx):
        super().__init__(name="pusher-%02d" % idx, daemon=True)
        self.idx = idx
        self.on_main = on_main
        self.ctx = ctx
        self.work = os.path.join(ctx.workdir, "work", "p%02d" % idx)
        self.branch = "main" if on_main else "soak/p%02d" % idx
        self.prefix = ("m%02d" if on_main else "b%02d") % idx
        self.rnd = random.Random(ctx.seed * 1000 + idx)
        self.lat = []          # seconds of each successful push
        self.failed_lat = []   # seconds of each refused (retried) attempt
        self.pushes = 0
        self.retries = 0
        self.max_retry_run = 0
        self.retry_why = {}    # which refusal caused the retries
        self.present = set(range(FILES_PER_PUSHER))

    def setup(self):
        g = self.ctx.git
        g.run(self.ctx.workdir, "clone", "-q", self.ctx.git_url, self.work)
        if not self.on_main:
            g.run(self.work, "checkout", "-q", "-b", self.branch)
        # this pusher's products (the main pushers' are in the seed commit)
        d = os.path.join(self.work, "products")
        os.makedirs(d, exist_ok=True)
        for k in range(FILES_PER_PUSHER):
            p = os.path.join(d, "%s-%d.md" % (self.prefix, k))
            if not os.path.exists(p):
                with open(p, "wb") as f:
                    f.write(product_file("%s-%d" % (self.prefix, k), os.urandom(8).hex()))

    def change(self, it):
        d = os.path.join(self.work, "products")
        gone = [k for k in range(FILES_PER_PUSHER) if k not in self.present]
        if gone and self.rnd.random() < 0.5:
            k = self.rnd.choice(gone)          # bring a deleted one back
            self.present.add(k)
            with open(os.path.join(d, "%s-%d.md" % (self.prefix, k)), "wb") as f:
                f.write(product_file("%s-%d" % (self.prefix, k), "%d-%s" % (it, os.urandom(6).hex())))
            return "create %s-%d" % (self.prefix, k)
        if len(self.present) > 2 and self.rnd.random() < 0.1:
            k = self.rnd.choice(sorted(self.present))
            self.present.discard(k)
            os.unlink(os.path.join(d, "%s-%d.md" % (self.prefix, k)))
            return "delete %s-%d" % (self.prefix, k)
        ks = self.rnd.sample(sorted(self.present), min(len(self.present), self.rnd.randint(1, 3)))
        for k in ks:
            with open(os.path.join(d, "%s-%d.md" % (self.prefix, k)), "wb") as f:
                f.write(product_file("%s-%d" % (self.prefix, k), "%d-%s" % (it, os.urandom(6).hex())))
        return "update " + ",".join("%s-%d" % (self.prefix, k) for k in ks)

    def push_once(self):
        t0 = time.perf_counter()
        p = self.ctx.git.run(self.work, "push", "-q", "origin", "HEAD:refs/heads/" + self.branch,
                             check=False, timeout=120)
        return p.returncode, p.stderr.decode(errors="replace"), time.perf_counter() - t0

    def loop(self):
        g = self.ctx.git
        it = 0
        while not self.ctx.stop.is_set() and self.ctx.daemon.alive():
            it += 1
            try:
                what = self.change(it)
                g.run(self.work, "add", "-A", "products")
                g.run(self.work, "commit", "-q", "-m", "%s %d: %s" % (self.name, it, what))
                run = 0
                while True:
                    rc, err, dt = self.push_once()
                    if rc == 0:
                        self.lat.append(dt)
                        self.pushes += 1
                        self.ctx.stats.commit()
                        break
                    if not self.ctx.daemon.alive():
                        return
                    if not self.on_main or not any(s in err for s in RETRYABLE):
                        self.ctx.stats.error(self.name, "git push to %s: exit %d after %.0f ms: %s" % (
                            self.branch, rc, dt * 1000, err.strip()[-400:]))
                        # resynchronise with the server before going on
                        g.run(self.work, "fetch", "-q", "origin", self.branch, check=False)
                        g.run(self.work, "reset", "-q", "--hard", "FETCH_HEAD", check=False)
                        self.present = {k for k in range(FILES_PER_PUSHER) if os.path.exists(
                            os.path.join(self.work, "products", "%s-%d.md" % (self.prefix, k)))}
                        break
                    self.failed_lat.append(dt)
                    self.retries += 1
                    why = next(s for s in RETRYABLE if s in err)
                    self.retry_why[why] = self.retry_why.get(why, 0) + 1
                    run += 1
                    self.max_retry_run = max(self.max_retry_run, run)
                    if run > MAX_RETRIES:
                        self.ctx.stats.error(self.name, "%d refusals in a row pushing to main" % run)
                        break
                    # a little jitter, then fetch, rebase and push at once
                    time.sleep(self.rnd.uniform(0, 0.02 * min(run, 10)))
                    g.run(self.work, "fetch", "-q", "origin", "main")
                    g.run(self.work, "rebase", "-q", "FETCH_HEAD")
            except (SetupError, subprocess.TimeoutExpired, OSError) as e:
                if not self.ctx.daemon.alive():
                    return
                self.ctx.stats.error(self.name, str(e))
                time.sleep(1)


class Follower(Worker):
    def __init__(self, idx, ctx):
        super().__init__(name="follower-%02d" % idx, daemon=True)
        self.ctx = ctx
        self.rnd = random.Random(ctx.seed * 1000 + 100 + idx)
        self.last = 0              # last logseq seen
        self.count = 0             # events received
        self.connects = 0
        self.hangups = 0           # voluntary (ours)
        self.cuts = 0              # streams the server ended
        self.slow_cuts = 0         # of which "too slow" comments
        self.problems = []         # gaps, duplicates, bad ids (kept short)
        self.nproblems = 0
        self.stopping = False
        self.sock = None
        self.lock = threading.Lock()
        self.caught_up = threading.Condition(self.lock)

    def problem(self, msg):
        self.nproblems += 1
        if len(self.problems) < 5:
            self.problems.append(msg)
            self.ctx.stats.error(self.name, msg)

    def shutdown(self):
        self.stopping = True
        s = self.sock
        if s is not None:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def loop(self):
        while not self.stopping:
            if not self.ctx.daemon.alive():
                return
            hdr = {"Authorization": "Bearer " + self.ctx.admin, "Accept": "text/event-stream"}
            if self.connects:
                hdr["Last-Event-ID"] = str(self.last)
            conn = http.client.HTTPConnection("127.0.0.1", self.ctx.port, timeout=60)
            try:
                conn.request("GET", "/api/v1/events/stream?after=0", headers=hdr)
                self.sock = conn.sock
                r = conn.getresponse()
                if r.status != 200:
                    self.ctx.stats.error(self.name, "event stream: HTTP %d: %s" % (
                        r.status, r.read()[:200].decode(errors="replace")))
                    conn.close()
                    time.sleep(1)
                    continue
                self.connects += 1
                ended = self.read(r)
            except (OSError, http.client.HTTPException) as e:
                ended = "error: %s" % e
            finally:
                self.sock = None
                conn.close()
            if self.stopping or not self.ctx.daemon.alive():
                return
            if ended == "hangup":
                self.hangups += 1
            elif ended == "slow":
                self.cuts += 1
                self.slow_cuts += 1
            elif ended == "eof":
                self.cuts += 1
                self.ctx.stats.error(self.name, "the daemon ended the event stream after logseq %d" % self.last)
            else:
                self.cuts += 1
                self.ctx.stats.error(self.name, "event stream after logseq %d: %s" % (self.last, ended))
                time.sleep(0.2)

    def read(self, r):
        # hang up by ourselves after a while (only while the load runs)
        hang_at = time.time() + self.rnd.uniform(20, 60)
        pending = b""
        ev_id = None
        data = None
        slow = False
        while True:
            chunk = r.read1(262144)
            if not chunk:
                return "slow" if slow else "eof"
            pending += chunk
            lines = pending.split(b"\n")
            pending = lines.pop()
            for line in lines:
                if line.startswith(b"id: "):
                    ev_id = int(line[4:])
                elif line.startswith(b"data: "):
                    data = line[6:]
                elif line.startswith(b": disconnected"):
                    slow = True
                elif line == b"" and ev_id is not None:
                    self.event(ev_id, data)
                    ev_id = data = None
            if not self.ctx.stop.is_set() and time.time() > hang_at and ev_id is None:
                return "hangup"

    def event(self, ev_id, data):
        if ev_id != self.last + 1:
            self.problem("got logseq %d after %d (%s)" % (
                ev_id, self.last, "duplicate" if ev_id <= self.last else "gap"))
        try:
            seq = json.loads(data)["logseq"]
        except (ValueError, TypeError, KeyError):
            seq = None
        if seq != ev_id:
            self.problem("event id: %d carries logseq %r" % (ev_id, seq))
        with self.lock:
            self.count += 1
            if ev_id > self.last:
                self.last = ev_id
            self.caught_up.notify_all()

    def wait_for(self, head, timeout):
        end = time.time() + timeout
        with self.lock:
            while self.last < head:
                left = end - time.time()
                if left <= 0:
                    return False
                self.caught_up.wait(left)
        return True


class ApiWriter(Worker):
    def __init__(self, idx, ctx):
        super().__init__(name="writer-%d" % idx, daemon=True)
        self.ctx = ctx
        self.rnd = random.Random(ctx.seed * 1000 + 200 + idx)
        self.lat = []              # seconds of every write answered
        self.n = {}                # outcome -> count
        self.busy_run = 0          # 503 + Retry-After answers in a row

    def count(self, k):
        self.n[k] = self.n.get(k, 0) + 1

    def loop(self):
        http_ = self.ctx.http
        tok = self.ctx.writer
        while not self.ctx.stop.is_set() and self.ctx.daemon.alive():
            name = "api-%02d" % self.rnd.randrange(API_POOL)
            path = "/api/v1/repos/%s/%s/resources/products/%s" % (NS, REPO, name)
            try:
                st, _, data = http_.request("GET", "/api/v1/namespaces/%s/products/%s" % (NS, name), tok)
                if st == 200:
                    rv = json.loads(data)["metadata"]["resourceVersion"]
                    op = "delete" if self.rnd.random() < 0.2 else "update"
                elif st == 404:
                    rv, op = None, "create"
                else:
                    self.ctx.stats.error(self.name, "GET %s: HTTP %d: %s" % (
                        name, st, data[:200].decode(errors="replace")))
                    self.count("error")
                    time.sleep(0.5)
                    continue
                hdr = {}
                if rv is not None:
                    hdr["If-Match"] = '"%s"' % rv
                t0 = time.perf_counter()
                if op == "delete":
                    st, rh, data = http_.request("DELETE", path, tok, headers=hdr)
                else:
                    hdr["Content-Type"] = "text/markdown"
                    st, rh, data = http_.request("PUT", path, tok, headers=hdr,
                                                 body=product_file(name, os.urandom(8).hex()))
                dt = time.perf_counter() - t0
            except (OSError, http.client.HTTPException, ValueError, KeyError) as e:
                if not self.ctx.daemon.alive():
                    return
                self.ctx.stats.error(self.name, "%s: %s" % (name, e))
                self.count("error")
                time.sleep(0.5)
                continue
            self.lat.append(dt)
            if st == 503 and "retry-after" in rh:
                # documented back-pressure (the catalog worker is more than
                # GS_API_CATCHUP_WAIT_MS behind, or the database is busy):
                # honoured like a client should; an error only when it lasts
                self.count("busy-503")
                self.busy_run += 1
                if self.busy_run > BUSY_RETRIES:
                    self.ctx.stats.error(self.name, "%d answers 503 in a row, the last: %s" % (
                        self.busy_run, data[:200].decode(errors="replace")))
                    self.busy_run = 0
                time.sleep(min(5.0, float(rh["retry-after"]) if rh["retry-after"].isdigit() else 1.0))
                continue
            self.busy_run = 0
            self.outcome(op, name, st, data)

    def outcome(self, op, name, st, data):
        try:
            j = json.loads(data)
        except ValueError:
            j = None
        msg = data[:300].decode(errors="replace")
        if st in (200, 201) and isinstance(j, dict):
            if op == "delete":
                if j.get("deleted"):
                    self.count("deleted")
                    self.ctx.stats.commit()
                    return
            elif j.get("unchanged"):
                self.count("unchanged")
                return
            elif (j.get("admission") or {}).get("allowed"):
                self.count("created" if st == 201 else "updated")
                self.ctx.stats.commit()
                return
        elif st == 202:
            self.count("late")
            self.ctx.stats.commit()
            return
        elif st == 412:
            self.count("conflict-412")
            return
        elif st == 409:
            self.count("conflict-409")
            return
        elif st == 404 and op != "create":
            self.count("conflict-gone")
            return
        self.count("error")
        self.ctx.stats.error(self.name, "%s %s: HTTP %d: %s" % (op, name, st, msg))


class Publisher(Worker):
    def __init__(self, ctx):
        super().__init__(name="publisher", daemon=True)
        self.ctx = ctx
        self.work = os.path.join(ctx.workdir, "work", "publisher")
        self.releases = []         # (n, sha, push seconds)
        self.n = 0

    def setup(self):
        self.ctx.git.run(self.ctx.workdir, "clone", "-q", "--no-checkout", self.ctx.pub_url, self.work)

    def release(self):
        g = self.ctx.git
        g.run(self.work, "fetch", "-q", "origin", "main")
        sha = g.out(self.work, "rev-parse", "FETCH_HEAD")
        n = self.n + 1
        t0 = time.perf_counter()
        p = g.run(self.work, "push", "-q", "origin", "%s:refs/tags/v%d" % (sha, n), check=False)
        dt = time.perf_counter() - t0
        if p.returncode != 0:
            raise SetupError("push of release tag v%d: exit %d: %s" % (
                n, p.returncode, p.stderr.decode(errors="replace").strip()[-400:]))
        self.n = n
        self.releases.append((n, sha, dt))
        self.ctx.stats.commit()

    def loop(self):
        # on a fixed schedule (t_load + k x release_every), not a pause
        # after each release: a slow tag push does not thin the releases out
        k = 1
        while not self.ctx.stop.wait(max(0.0, self.ctx.t_load + k * self.ctx.release_every - time.time())):
            k = max(k + 1, int((time.time() - self.ctx.t_load) / self.ctx.release_every) + 1)
            if not self.ctx.daemon.alive():
                return
            try:
                self.release()
            except (SetupError, subprocess.TimeoutExpired) as e:
                if self.ctx.daemon.alive():
                    self.ctx.stats.error(self.name, str(e))


class Sampler(threading.Thread):
    def __init__(self, ctx):
        super().__init__(name="sampler", daemon=True)
        self.ctx = ctx
        self.samples = []          # (t since load start, rss, threads, fds, cpu, child cpu)
        self.done = threading.Event()

    def run(self):
        pid = self.ctx.daemon.proc.pid
        while not self.done.is_set():
            try:
                s = proc_sample(pid)
            except (OSError, ValueError):
                return
            self.samples.append((time.time() - self.ctx.t_load,) + s)
            self.done.wait(1.0)


# --- the run ---------------------------------------------------------------------

class Ctx:
    pass


def git_env(workdir):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GIT_") and k.lower() not in (
               "http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    home = os.path.join(workdir, "home")
    os.makedirs(home, exist_ok=True)
    cfg = os.path.join(workdir, "gitconfig")
    with open(cfg, "w") as f:
        f.write("[user]\n\tname = Soak\n\temail = soak@example.com\n[init]\n\tdefaultBranch = main\n"
                "[gc]\n\tauto = 0\n[advice]\n\tdetachedHead = false\n")
    env.update(HOME=home, LANG="C", LC_ALL="C", TZ="UTC", GIT_CONFIG_NOSYSTEM="1",
               GIT_CONFIG_GLOBAL=cfg, GIT_TERMINAL_PROMPT="0")
    return env


def setup(ctx, a):
    d = ctx.daemon
    d.cli("namespace", "create", NS)
    d.cli("repo", "create", "%s/%s" % (NS, REPO))
    ctx.admin = d.cli("token", "create", "--user", "soak-admin", "--role", "admin:*")
    ctx.writer = d.cli("token", "create", "--user", "soak-writer", "--role", "writer:" + NS)
    ctx.publisher = d.cli("token", "create", "--user", "soak-publisher", "--role", "publisher:" + NS)
    d.start()
    ctx.port = d.port
    ctx.http = Http(d.port)
    base = "127.0.0.1:%d/%s/%s.git" % (d.port, NS, REPO)
    ctx.git_url = "http://x:%s@%s" % (ctx.writer, base)
    ctx.pub_url = "http://x:%s@%s" % (ctx.publisher, base)
    log("gitstore (pid %d) at http://127.0.0.1:%d, data %s" % (d.proc.pid, d.port, d.data))

    # the seed commit on main: the main pushers' products
    seed = os.path.join(a.workdir, "work", "seed")
    g = ctx.git
    g.run(a.workdir, "init", "-q", seed)
    os.makedirs(os.path.join(seed, "products"))
    with open(os.path.join(seed, "README.md"), "w") as f:
        f.write("soak catalog\n")
    for i in range(a.main_pushers):
        for k in range(FILES_PER_PUSHER):
            with open(os.path.join(seed, "products", "m%02d-%d.md" % (i, k)), "wb") as f:
                f.write(product_file("m%02d-%d" % (i, k), os.urandom(8).hex()))
    g.run(seed, "add", "-A")
    g.run(seed, "commit", "-q", "-m", "seed")
    g.run(seed, "push", "-q", ctx.git_url, "HEAD:refs/heads/main")
    ctx.stats.commit()


def settle(ctx, head_timeout=120):
    """Waits until the built-in consumers have scanned and settled the log up
    to its head (and the head stays put); returns the head."""
    end = time.time() + head_timeout
    last_log = 0
    while True:
        head = log_head(ctx)
        items = ctx.http.get_json("/api/v1/consumers", ctx.admin)["items"]
        busy = {c["name"]: (c["pulled"], c["pending"]) for c in items
                if c.get("builtin") and (c["pending"] or c["pulled"] < head)}
        if not busy and log_head(ctx) == head:
            return head
        if time.time() > end:
            raise SetupError("the built-in consumers did not settle within %d s (head %d; %s)" % (
                head_timeout, head, busy))
        if time.time() - last_log > 10:
            log("settling: head %d, built-in consumers (pulled, pending) %s" % (head, busy))
            last_log = time.time()
        time.sleep(0.2)


def log_head(ctx):
    """The log's last logseq (paging on from the last head seen)."""
    after = getattr(ctx, "head_hint", 0)
    while True:
        st, h, data = ctx.http.request("GET", "/api/v1/events?after=%d&limit=1000" % after, ctx.admin)
        if st != 200:
            raise SetupError("GET /api/v1/events: HTTP %d" % st)
        last = int(h.get("gitstore-last-logseq", after))
        if last == after:
            ctx.head_hint = after
            return after
        after = last


def check_log(ctx, head):
    """Reads the whole log; returns (per-type counts, list of problems)."""
    types, ids, problems = {}, set(), []
    rejected = {}
    releases_ok = {}
    refs = {}                      # (repository uid, ref) -> its last newSha
    zero = "0" * 40
    want = 1
    after = 0
    while after < head:
        evs = ctx.http.get_json("/api/v1/events?after=%d&limit=1000" % after, ctx.admin)
        if not evs:
            break
        for e in evs:
            if e["logseq"] != want and len(problems) < 5:
                problems.append("log: logseq %d where %d was expected" % (e["logseq"], want))
            want = e["logseq"] + 1
            if e["id"] in ids and len(problems) < 5:
                problems.append("log: id %s twice (logseq %d)" % (e["id"], e["logseq"]))
            ids.add(e["id"])
            t = e["type"].split(".")[2]
            types[t] = types.get(t, 0) + 1
            if t == "push-rejected":
                code = (e["data"].get("reason") or {}).get("code", "?")
                rejected[code] = rejected.get(code, 0) + 1
            elif t == "release-created":
                releases_ok[e["subject"]] = releases_ok.get(e["subject"], 0) + 1
            elif t.startswith("branch-") or t.startswith("tag-"):
                # every ref event continues its ref's history: old = the
                # previous event's new (a re-created ref, a lost move and a
                # replayed event all break the chain)
                d = e["data"]
                key = (d["repository"]["uid"], d["ref"])
                if d["oldSha"] != refs.get(key, zero) and len(problems) < 10:
                    problems.append("log: %s %s at logseq %d moves %.12s -> %.12s, but the ref was at %.12s" % (
                        t, d["ref"], e["logseq"], d["oldSha"], d["newSha"], refs.get(key, zero)))
                refs[key] = d["newSha"]
        after = evs[-1]["logseq"]
    if want != head + 1:
        problems.append("log: read up to logseq %d, the head is %d" % (want - 1, head))
    return types, rejected, releases_ok, problems


def check_published(ctx, pub):
    """The storefront against the last release's tree."""
    n, sha, _ = pub.releases[-1]
    ref = "refs/tags/v%d" % n
    g = ctx.git
    names = [p for p in g.out(pub.work, "ls-tree", "-r", "--name-only", sha, "--", "products/").split("\n") if p]
    want = {}
    for p in names:
        want[os.path.basename(p)[:-3]] = body_of(g.run(pub.work, "show", "%s:%s" % (sha, p)).stdout)
    items, cont = [], None
    while True:
        q = "?limit=500" + ("&continue=" + urllib.parse.quote(cont) if cont else "")
        lst = ctx.http.get_json("/storefront/v1/namespaces/%s/products%s" % (NS, q))
        items.extend(lst["items"])
        cont = lst["metadata"].get("continue")
        if not cont:
            break
    problems = []
    got = {it["metadata"]["name"]: it for it in items}
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    if missing:
        problems.append("published view: %d products of release v%d missing (%s)" % (
            len(missing), n, ", ".join(missing[:5])))
    if extra:
        problems.append("published view: %d products not in release v%d (%s)" % (
            len(extra), n, ", ".join(extra[:5])))
    wrong = [k for k in sorted(set(want) & set(got))
             if got[k]["release"]["ref"] != ref or got[k]["release"]["commitSha"] != sha
             or got[k]["body"] != want[k]]
    if wrong:
        k = wrong[0]
        problems.append("published view: %d products differ from release v%d (first: %s with release %s, "
                        "body %s)" % (len(wrong), n, k, got[k]["release"],
                                      "equal" if got[k]["body"] == want[k] else "different"))
    return len(want), ref, sha, problems


def mib(b):
    return b / MIB


def report(ctx, a, r):
    w = sys.stdout.write
    w("\n# gitstore soak, load phase (%s, %d CPUs, load average at start %s, at end %s)\n" % (
        time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(ctx.t_load)), os.cpu_count(),
        r["load_start"], r["load_end"]))
    w("duration         %.0f s of load (+ %.1f s to stop and %.1f s to settle); %d pushers (%d on main), "
      "%d SSE followers, %d API writers, a release every %g s\n" % (
          r["load_s"], r["stop_s"], r["settle_s"], a.pushers, a.main_pushers, a.followers, a.writers,
          a.release_every))
    p = r["pushes"]
    w("pushes           %d (%.1f/s; main %d, own branches %d), main retries %d (%s; longest run %d); "
      "latency p50 / p95 / p99 / max %.0f / %.0f / %.0f / %.0f ms (main %.0f / %.0f / %.0f, own branches "
      "%.0f / %.0f / %.0f)\n" % (
          p["count"], p["count"] / r["load_s"], p["main"], p["own"], p["retries"],
          ", ".join("%s %d" % kv for kv in sorted(p["retry_why"].items())) or "-", p["max_retry_run"],
          p["p50"], p["p95"], p["p99"], p["max"], p["main_p50"], p["main_p95"], p["main_p99"],
          p["own_p50"], p["own_p95"], p["own_p99"]))
    q = r["api"]
    w("API writes       %d answered (%.1f/s): %s; latency p50 / p99 / max %.0f / %.0f / %.0f ms\n" % (
        q["count"], q["count"] / r["load_s"], ", ".join("%s %d" % kv for kv in sorted(q["outcomes"].items())),
        q["p50"], q["p99"], q["max"]))
    rl = r["releases"]
    w("releases         %d tags (v1..v%d; last at %s), release-created %d, release-rejected %d; "
      "tag push p50 %.0f ms; published view: %d products of v%d %s\n" % (
          rl["count"], rl["count"], rl["last_sha"][:12], rl["created"], rl["rejected"], rl["push_p50"],
          rl["products"], rl["count"], "OK" if not rl["problems"] else "WRONG"))
    ev = r["events"]
    w("events in log    %d (%.0f/s appended during the load); push-completed %d for %d operations that "
      "reported a commit; push-rejected %s\n" % (
          ev["head"], ev["load_rate"], ev["types"].get("push-completed", 0), ev["committed"],
          ", ".join("%s %d" % kv for kv in sorted(ev["rejected"].items())) or "0"))
    w("                 by type: %s\n" % ", ".join("%s %d" % kv for kv in sorted(ev["types"].items())))
    s = r["sse"]
    w("SSE              %d followers, each saw logseq 1..%d: %s; delivered per follower %s; "
      "reconnects: %d our hang-ups, %d cut by the daemon (%d as too slow)\n" % (
          len(s["followers"]), ev["head"], "all complete" if s["complete"] else "INCOMPLETE",
          "/".join(str(f["count"]) for f in s["followers"]), s["hangups"], s["cuts"], s["slow_cuts"]))
    m = r["rss"]
    w("daemon RSS       start %.1f MiB (after %d s warm-up), end %.1f MiB, max %.1f MiB "
      "(after the settle %.1f MiB): %s (flat: end <= start x 1.2 + 10 MiB; fails above start x 2 + 10 MiB)\n" % (
          mib(m["start"]), m["warmup_s"], mib(m["end"]), mib(m["max"]), mib(m["settled"]), m["verdict"]))
    w("                 RSS over the run (MiB): %s\n" % ", ".join(
        "%.0fs %.1f" % (t, mib(v)) for t, v in m["curve"]))
    w("daemon           threads %d -> %d (max %d), open fds %d -> %d (max %d); CPU %.1f s own "
      "(%.0f%% of a core over the load) + %.1f s of reaped children (git, hooks); exit status %s\n" % (
          m["threads"][0], m["threads"][1], m["threads"][2], m["fds"][0], m["fds"][1], m["fds"][2],
          r["cpu"]["own"], 100 * r["cpu"]["own_load"] / r["load_s"], r["cpu"]["children"], r["exit_status"]))
    w("daemon log       %d lines at level=error, %d at level=warn\n" % (r["log_errors"], r["log_warns"]))
    w("errors           %d (target 0)\n" % len(r["errors"]))
    for t, who, msg in r["errors"][:20]:
        w("  %6.1f s %s: %s\n" % (t, who, msg))
    w("verdict          %s\n" % ("PASS" if r["pass"] else "FAIL: " + "; ".join(r["why"])))


def run(a):
    ctx = Ctx()
    ctx.workdir = a.workdir
    ctx.seed = a.seed
    ctx.stats = Stats()
    ctx.stop = threading.Event()
    ctx.release_every = a.release_every
    env = git_env(a.workdir)
    ctx.git = Git(env)
    ctx.daemon = Daemon(a.workdir, a.bin, env)
    try:
        setup(ctx, a)
    except (SetupError, subprocess.TimeoutExpired, OSError) as e:
        log("setup: %s" % e)
        return 2

    pushers = [Pusher(i, i < a.main_pushers, ctx) for i in range(a.pushers)]
    pub = Publisher(ctx)
    try:
        for p in pushers:
            p.setup()
        pub.setup()
    except (SetupError, subprocess.TimeoutExpired, OSError) as e:
        log("setup: %s" % e)
        return 2
    followers = [Follower(i, ctx) for i in range(a.followers)]
    writers = [ApiWriter(i, ctx) for i in range(a.writers)]
    sampler = Sampler(ctx)

    load_start = open("/proc/loadavg").read().split()[:3]
    ctx.t_load = time.time()
    ctx.stats.t0 = ctx.t_load
    head0 = log_head(ctx)
    sampler.start()
    for t in followers + pushers + writers + [pub]:
        t.start()
    log("load: %d s, %d pushers (%d on main), %d followers, %d API writers, a release every %g s" % (
        a.duration, a.pushers, a.main_pushers, a.followers, a.writers, a.release_every))
    t_end = ctx.t_load + a.duration
    next_log = ctx.t_load + 10
    while time.time() < t_end and ctx.daemon.alive():
        time.sleep(min(1.0, max(0.0, t_end - time.time())))
        if time.time() >= next_log:
            next_log += 10
            smp = sampler.samples[-1] if sampler.samples else (0, 0, 0, 0, 0, 0)
            log("t=%3.0fs pushes %d (+%d retries), API writes %d, releases %d, SSE min/max %d/%d, "
                "RSS %.1f MiB, errors %d" % (
                    time.time() - ctx.t_load, sum(p.pushes for p in pushers),
                    sum(p.retries for p in pushers), sum(len(w.lat) for w in writers), pub.n,
                    min(f.last for f in followers), max(f.last for f in followers),
                    mib(smp[1]), len(ctx.stats.errors)))
    t_load_end = time.time()
    head_load_end = log_head(ctx) if ctx.daemon.alive() else head0
    load_end_samples = list(sampler.samples)
    cpu_load = load_end_samples[-1][4] - load_end_samples[0][4] if load_end_samples else 0
    ctx.stop.set()
    for t in pushers + writers + [pub]:
        t.join(180)
        if t.is_alive():
            ctx.stats.error(t.name, "did not finish within 180 s of the stop")
    t_stopped = time.time()
    why = []
    head = head_load_end
    types, rejected, rel_ok = {}, {}, {}
    npub, last_sha, pub_problems = 0, "-" * 40, ["not checked"]
    t_settled = time.time()
    try:
        if not ctx.daemon.alive():
            raise SetupError("gitstore exited during the load (status %s)" % ctx.daemon.proc.returncode)
        pub.release()                         # the last release: main as the load left it
        head = settle(ctx)
        t_settled = time.time()
        # every follower must reach the head by itself
        for f in followers:
            if not f.wait_for(head, 60):
                ctx.stats.error("sse", "%s stopped at logseq %d of %d" % (f.name, f.last, head))
        types, rejected, rel_ok, log_problems = check_log(ctx, head)
        for msg in log_problems:
            ctx.stats.error("log", msg)
        if types.get("push-completed", 0) != ctx.stats.committed:
            ctx.stats.error("log", "%d push-completed events for %d pushes and API writes that reported "
                            "a commit" % (types.get("push-completed", 0), ctx.stats.committed))
        missing_rel = [n for n, _, _ in pub.releases if "refs/tags/v%d" % n not in rel_ok]
        if missing_rel:
            ctx.stats.error("releases", "no release-created for %d release tags (first v%d)" % (
                len(missing_rel), missing_rel[0]))
        twice = sorted(ref for ref, k in rel_ok.items() if k > 1)
        if twice:
            ctx.stats.error("releases", "release-created more than once for %d release tags (%s)" % (
                len(twice), ", ".join(twice[:5])))
        # no tag is deleted or moved: nothing may be rejected or withdrawn
        for t in ("release-rejected", "release-withdrawn"):
            if types.get(t):
                ctx.stats.error("releases", "%d %s" % (types[t], t))
        npub, _, last_sha, pub_problems = check_published(ctx, pub)
        for msg in pub_problems:
            ctx.stats.error("published", msg)
    except (SetupError, subprocess.TimeoutExpired, OSError, http.client.HTTPException, ValueError) as e:
        ctx.stats.error("check", str(e))
    for f in followers:
        f.shutdown()
    for f in followers:
        f.join(10)
    for f in followers:
        if f.nproblems:
            why.append("%s: %d ordering problems" % (f.name, f.nproblems))

    settled = proc_sample(ctx.daemon.proc.pid) if ctx.daemon.alive() else None
    sampler.done.set()
    sampler.join(5)
    exit_status = ctx.daemon.stop()
    if exit_status != 0:
        ctx.stats.error("daemon", "exit status %s after SIGTERM (want 0)" % exit_status)
    load_end = open("/proc/loadavg").read().split()[:3]

    # figures
    smp = load_end_samples or sampler.samples or [(0.0, 0, 0, 0, 0.0, 0.0)]
    warm = a.warmup if a.warmup is not None else min(30.0, a.duration / 5)
    win = [s for s in smp if warm - 5 <= s[0] <= warm] or smp[:1]
    tail = smp[-5:]
    rss_start = sum(s[1] for s in win) / len(win)
    rss_end = sum(s[1] for s in tail) / len(tail)
    every = sampler.samples or smp
    rss_max = max(s[1] for s in every)
    if rss_end > rss_start * 2 + 10 * MIB:
        verdict = "GROSSLY NON-FLAT"
        why.append("RSS grew from %.1f to %.1f MiB" % (mib(rss_start), mib(rss_end)))
    elif rss_end <= rss_start * 1.2 + 10 * MIB:
        verdict = "flat"
    else:
        verdict = "grows"
    lat = [x for p in pushers for x in p.lat]
    lat_main = [x for p in pushers if p.on_main for x in p.lat]
    lat_own = [x for p in pushers if not p.on_main for x in p.lat]
    api_lat = [x for w in writers for x in w.lat]
    outcomes = {}
    for wr in writers:
        for k, v in wr.n.items():
            outcomes[k] = outcomes.get(k, 0) + v
    retry_why = {}
    for p in pushers:
        for k, v in p.retry_why.items():
            retry_why[k] = retry_why.get(k, 0) + v
    ms = lambda xs, q: pct(xs, q) * 1000 if xs else float("nan")
    log_errors = log_warns = 0
    with open(ctx.daemon.logpath, "rb") as f:
        for line in f:
            if b"level=error" in line:
                log_errors += 1
            elif b"level=warn" in line:
                log_warns += 1
    load_s = t_load_end - ctx.t_load
    r = {
        "load_start": " ".join(load_start), "load_end": " ".join(load_end),
        "load_s": load_s, "stop_s": t_stopped - t_load_end, "settle_s": t_settled - t_stopped,
        "pushes": {"count": len(lat), "main": len(lat_main), "own": len(lat_own),
                   "retries": sum(p.retries for p in pushers),
                   "max_retry_run": max([p.max_retry_run for p in pushers] + [0]),
                   "retry_why": retry_why,
                   "p50": ms(lat, 50), "p95": ms(lat, 95), "p99": ms(lat, 99),
                   "max": max(lat) * 1000 if lat else float("nan"),
                   "main_p50": ms(lat_main, 50), "main_p95": ms(lat_main, 95), "main_p99": ms(lat_main, 99),
                   "own_p50": ms(lat_own, 50), "own_p95": ms(lat_own, 95), "own_p99": ms(lat_own, 99)},
        "api": {"count": len(api_lat), "outcomes": outcomes, "p50": ms(api_lat, 50), "p99": ms(api_lat, 99),
                "max": max(api_lat) * 1000 if api_lat else float("nan")},
        "releases": {"count": len(pub.releases), "last_sha": last_sha,
                     "created": types.get("release-created", 0), "rejected": types.get("release-rejected", 0),
                     "push_p50": ms([x for _, _, x in pub.releases], 50), "products": npub,
                     "problems": pub_problems},
        "events": {"head": head, "types": types, "rejected": rejected, "committed": ctx.stats.committed,
                   "load_rate": (head_load_end - head0) / load_s},
        "sse": {"followers": [{"name": f.name, "count": f.count, "last": f.last, "connects": f.connects,
                               "hangups": f.hangups, "cuts": f.cuts, "problems": f.problems}
                              for f in followers],
                "complete": all(f.last == head and not f.nproblems for f in followers),
                "hangups": sum(f.hangups for f in followers), "cuts": sum(f.cuts for f in followers),
                "slow_cuts": sum(f.slow_cuts for f in followers)},
        "rss": {"start": rss_start, "end": rss_end, "max": rss_max, "warmup_s": warm, "verdict": verdict,
                "settled": settled[0] if settled else 0,
                "threads": (win[0][2], tail[-1][2], max(s[2] for s in every)),
                "fds": (win[0][3], tail[-1][3], max(s[3] for s in every)),
                "curve": [every[min(len(every) - 1, k * (len(every) - 1) // 10)][:2] for k in range(11)],
                "samples": [(round(s[0], 1), s[1]) for s in every]},
        "cpu": {"own": every[-1][4], "own_load": cpu_load, "children": every[-1][5]},
        "exit_status": exit_status, "log_errors": log_errors, "log_warns": log_warns,
        "errors": list(ctx.stats.errors),
    }
    if r["errors"]:
        why.insert(0, "%d errors" % len(r["errors"]))
    if not r["sse"]["complete"]:
        why.append("a follower lost events")
    if pub_problems:
        why.append("the published view is not the last release")
    r["why"] = why
    r["pass"] = not why
    with open(os.path.join(a.workdir, "report.json"), "w") as f:
        json.dump(r, f, indent=1)
    report(ctx, a, r)
    return 0 if r["pass"] else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="the gitstore binary (gitstore-hook next to it)")
    ap.add_argument("--duration", type=float, default=300)
    ap.add_argument("--workdir", help="a directory for the run (default: a temporary one, removed "
                    "at the end unless --keep)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--pushers", type=int, default=20)
    ap.add_argument("--main-pushers", type=int, default=5)
    ap.add_argument("--followers", type=int, default=10)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--release-every", type=float, default=5)
    ap.add_argument("--warmup", type=float, default=None)
    a = ap.parse_args()
    a.bin = os.path.abspath(a.bin)
    if not os.access(a.bin, os.X_OK):
        log("%s is not executable (run make)" % a.bin)
        return 2
    own = a.workdir is None
    a.workdir = os.path.abspath(a.workdir or tempfile.mkdtemp(prefix="gitstore-soak-load."))
    os.makedirs(a.workdir, exist_ok=True)
    # SIGTERM/SIGINT end the run through the finally below (daemon group killed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rc = 2
    try:
        rc = run(a)
    finally:
        for d in _LIVE:
            d.stop(5)
        if own and not a.keep:
            shutil.rmtree(a.workdir, ignore_errors=True)
        elif own:
            log("kept %s" % a.workdir)
    return rc


if __name__ == "__main__":
    sys.exit(main())
