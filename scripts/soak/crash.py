#!/usr/bin/python3
"""crash.py -- randomised crash test of gitstore (issue 8, DESIGN section 5).

  crash.py --bin build/gitstore [--duration S] [--seed N] [--kills N]
           [--workdir DIR] [--keep] [--interval MIN,MAX] [--faults P]
           [--orphans P] [--startup-kills P] [--pushers N]

Creates a fresh data directory with two repositories (shop/catalog and
acme/catalog), tokens and a durable consumer, starts `gitstore serve` on an
ephemeral 127.0.0.1 port and runs a concurrent workload against it:

  - pushers (stock `git push` over HTTP): commits on main that add, change
    and remove catalog product files (now and then one with a title too
    long, which is admitted as a failure and makes a release fail), README
    edits, feature branches (created, advanced, force-pushed, deleted),
    plain tags (lightweight and annotated, created, moved, deleted), and
    multi-ref pushes (some --atomic);
  - an API writer: PUT / DELETE /api/v1/repos/shop/catalog/resources/...;
  - a publisher: release tags v1, v2, ... on main (lightweight or
    annotated), sometimes moving or deleting an earlier one;
  - a consumer client of the durable consumer, acknowledging most batches
    and dropping some (so they come back after the ack-wait);

while the daemon is killed (SIGKILL of its process group; with
probability --orphans of the daemon alone, its git processes living on)
at random moments, every MIN..MAX seconds (default 0.3..3), and
restarted; with probability --faults (default 0.25) a restart sets one of
the test-only crash points GITSTORE_TEST_FAULT=after-intent|
after-ref-commit|mid-catalog|lifecycle-before-ack, so the daemon also
dies at those points in a random context, and with probability
--startup-kills (default 0.15) a restart is killed again during its
start-up recovery.  (relay-after-publish needs a NATS server: not used.)  Clients tolerate every failure while the daemon is down and
record only what was acknowledged as a success.

After --duration seconds (and at least --kills kills) the workload stops,
the daemon is restarted once without faults, the built-in workers are
waited for, the durable consumer is drained, and the invariants of
invariants.py are checked; then the daemon must stop with status 0 on
SIGTERM.  Exit status 0 when every invariant holds, 1 otherwise (the
violations are printed, the work directory is kept and named), 2 on a
usage or set-up error.  The seed is printed first: the workload's choices
replay with --seed (the timing of the kills does not).
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import invariants  # noqa: E402

FAULTS = ("after-intent", "after-ref-commit", "mid-catalog", "lifecycle-before-ack")
REPOS = ("shop/catalog", "acme/catalog")
CONSUMER = "crash-audit"
CONSUMER_TYPES = list(invariants.REF_TYPES) + [
    "push-completed", "catalog-admission-evaluated", "catalog-resource-deleted",
    "release-created", "release-rejected", "draft-published", "resource-unpublished",
    "release-withdrawn"]
ZERO = invariants.ZERO
DLQ = "crash-dlq"  # never settles every third event, terminates some
DLQ_TYPES = ["push-completed"]
DLQ_MAX = 2


def log(*a):
    print("crash:", *a, file=sys.stderr, flush=True)


class SetupError(Exception):
    pass


# --- the daemon ----------------------------------------------------------------------

class Daemon:
    """One `gitstore serve` at a time, in its own process group; the port
    is kept across restarts (the listener sets SO_REUSEADDR)."""

    READY = re.compile(r"gitstore: ready listen=127\.0\.0\.1:(\d+)( |$)")

    def __init__(self, binary, data, logpath, env):
        self.bin = binary
        self.data = data
        self.logpath = logpath
        self.env = env
        self.proc = None
        self.port = 0
        self.fault = None
        self.lock = threading.Lock()
        self.base = None  # http://127.0.0.1:PORT while up
        self.unexpected = []  # exits we did not cause
        self.orphans = []  # process groups of daemons killed alone

    def kill_orphans(self):
        for pgid in self.orphans:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.orphans = []

    def url(self):
        with self.lock:
            return self.base

    def start_and_kill(self, delay):
        """Starts the daemon and SIGKILLs it after `delay` seconds, while
        it runs its start-up recovery (or just after).  True if it was
        still running."""
        logf = open(self.logpath, "ab")
        logf.write(b"=== crash.py: serve, killed after %.3f s\n" % delay)
        logf.flush()
        env = dict(self.env)
        env.pop("GITSTORE_TEST_FAULT", None)
        proc = subprocess.Popen(
            [self.bin, "serve", "--data", self.data, "--listen", "127.0.0.1:%d" % self.port],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, env=env, start_new_session=True)
        logf.close()
        time.sleep(delay)
        alive = proc.poll() is None
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        status = proc.wait(timeout=30)
        if not alive and status != 0:
            self.unexpected.append("gitstore exited with status %s during start-up" % status)
        return alive

    def start(self, fault=None, timeout=60):
        env = dict(self.env)
        env.pop("GITSTORE_TEST_FAULT", None)
        if fault:
            env["GITSTORE_TEST_FAULT"] = fault
        with open(self.logpath, "ab") as f:
            f.write(("=== crash.py: serve%s\n" % (" GITSTORE_TEST_FAULT=" + fault if fault else "")).encode())
            off = f.tell()
        for attempt in range(2):
            logf = open(self.logpath, "ab")
            self.proc = subprocess.Popen(
                [self.bin, "serve", "--data", self.data, "--listen", "127.0.0.1:%d" % self.port],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, env=env, start_new_session=True)
            logf.close()
            self.fault = fault
            t0 = time.time()
            while time.time() - t0 < timeout:
                port = self._ready(off)
                if port:
                    self.port = int(port)
                    with self.lock:
                        self.base = "http://127.0.0.1:%d" % self.port
                    return
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
            self._reap(quiet=True)
            with open(self.logpath, "rb") as f:
                f.seek(off)
                tail = f.read().decode(errors="replace")
            if attempt == 0 and self.port and "in use" in tail.lower():
                log("port %d taken, trying another" % self.port)
                self.port = 0
                continue
            raise SetupError("gitstore serve did not become ready (status %s):\n%s" % (
                self.proc.returncode, tail[-3000:]))

    def _ready(self, off):
        with open(self.logpath, "rb") as f:
            f.seek(off)
            for line in f.read().decode(errors="replace").split("\n")[:-1]:
                m = self.READY.search(line)
                if m:
                    return m.group(1)
        return None

    def _reap(self, quiet=False):
        with self.lock:
            self.base = None
        if self.proc is None:
            return None
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            status = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            status = None
        return status

    def check_alive(self):
        """False (and the exit recorded) when the daemon exited by itself."""
        if self.proc is None or self.proc.poll() is None:
            return self.proc is not None
        status = self.proc.returncode
        self._reap()
        if not (self.fault and status == 137):
            self.unexpected.append("gitstore exited with status %s%s" % (
                status, " (GITSTORE_TEST_FAULT=%s)" % self.fault if self.fault else ""))
        self.proc = None
        return False

    def kill(self, group=True):
        """SIGKILL of the process group (the daemon and its git children),
        or of the daemon alone (its git children live on as orphans, as
        after an OOM kill).  Returns True when it was running."""
        if not self.check_alive():
            return False
        if group:
            status = self._reap()
        else:
            with self.lock:
                self.base = None
            self.proc.kill()
            status = self.proc.wait(timeout=30)
            self.orphans.append(self.proc.pid)
        self.proc = None
        if status not in (-signal.SIGKILL, 137) and status is not None:
            self.unexpected.append("gitstore exited with status %s before the kill" % status)
        return True

    def stop(self):
        """SIGTERM; exit status 0 wanted within 30 s."""
        if not self.check_alive():
            return "gitstore was not running at the end"
        with self.lock:
            self.base = None
        self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._reap()
            self.proc = None
            return "gitstore still running 30 s after SIGTERM"
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc = None
        return None if status == 0 else "gitstore exited with status %s after SIGTERM" % status


# --- helpers for clients -------------------------------------------------------------

def http(base, token, method, path, body=None, ctype=None, timeout=30):
    """(status, parsed body) or (None, error text) when the daemon is not there."""
    h = {"Authorization": "Bearer " + token}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h["Content-Type"] = ctype or "application/json"
    req = urllib.request.Request(base + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        try:
            raw = e.read()
            return e.code, json.loads(raw) if raw else None
        except (OSError, ValueError):
            return e.code, None
    except (OSError, ValueError) as e:  # refused, reset, timeout, truncated
        return None, str(e)


def why(err):
    """A short reason for a failed git command, for the summary."""
    for pat, name in (("fetch first", "non-fast-forward"), ("non-fast-forward", "non-fast-forward"),
                      ("Failed to connect", "daemon down"), ("Connection refused", "daemon down"),
                      ("Couldn't connect", "daemon down"), ("Empty reply", "daemon died"),
                      ("Recv failure", "daemon died"), ("Connection reset", "daemon died"),
                      ("unexpected disconnect", "daemon died"), ("the remote end hung up", "daemon died"),
                      ("transfer closed", "daemon died"), ("hook declined", "refused by pre-receive"),
                      ("Authentication failed", "HTTP 401"), ("File exists", "ref lock file exists"),
                      ("but expected", "ref moved meanwhile"), ("remote rejected", "remote rejected")):
        if pat in err:
            return name
    return err.strip().splitlines()[-1][:80] if err.strip() else ""


def product(name, title, body):
    return ("---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n"
            "  name: %s\nspec:\n  title: %s\n---\n%s\n" % (name, title, body))


class Git:
    """A client repository driven with plumbing (no work tree)."""

    def __init__(self, path, env, token=None):
        self.path = path
        self.env = env
        # the token in a header from the first request on (with it in the
        # URL, git asks without it first and takes a 401 back)
        self.auth = ["-c", "http.extraHeader=Authorization: Bearer %s" % token] if token else []
        os.makedirs(path, exist_ok=True)
        self.run("init", "-q", "--bare")

    def run(self, *args, inp=None, check=True, timeout=90):
        p = subprocess.run(["git", "--git-dir", self.path] + list(args), input=inp, env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        if check and p.returncode != 0:
            raise RuntimeError("git %s: %s" % (" ".join(a for a in args[:3] if "Bearer" not in a), p.stderr.decode(errors="replace").strip()))
        return p

    def out(self, *args, **kw):
        return self.run(*args, **kw).stdout.decode().strip()

    def remote_refs(self, url):
        """{ref: sha} of the remote's branches and tags (their objects
        fetched), or None if the fetch failed."""
        try:
            p = self.run(*self.auth, "fetch", "-q", "--prune", "--no-tags", url, "+refs/heads/*:refs/o/heads/*",
                         "+refs/tags/*:refs/o/tags/*", check=False, timeout=60)
        except subprocess.TimeoutExpired:
            return None
        if p.returncode != 0:
            return None
        out = {}
        for line in self.out("for-each-ref", "--format=%(objectname) %(refname)", "refs/o").splitlines():
            sha, ref = line.split(" ", 1)
            out["refs/" + ref[7:]] = sha
        return out

    def files(self, commit):
        """{path: (blob, size)} of a commit (empty for ZERO)."""
        if commit == ZERO:
            return {}
        out = {}
        for line in self.out("ls-tree", "-r", "-l", commit).splitlines():
            meta, path = line.split("\t", 1)
            _, _, sha, size = meta.split()
            out[path] = (sha, int(size))
        return out

    def commit(self, parent, changes, msg):
        """A commit on `parent` (ZERO: a root) with changes {path: text or
        None (remove)}; returns its sha."""
        idx = self.path + "/idx-%d" % threading.get_ident()
        wt = self.path + "/empty-work-tree"
        os.makedirs(wt, exist_ok=True)
        env = dict(self.env, GIT_INDEX_FILE=idx, GIT_WORK_TREE=wt)
        try:
            os.unlink(idx)
        except FileNotFoundError:
            pass

        def g(*a, inp=None):
            p = subprocess.run(["git", "--git-dir", self.path] + list(a), input=inp, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            if p.returncode != 0:
                raise RuntimeError("git %s: %s" % (a[0], p.stderr.decode(errors="replace").strip()))
            return p.stdout.decode().strip()
        if parent != ZERO:
            g("read-tree", parent)
        for path, text in sorted(changes.items()):
            if text is None:
                g("update-index", "--force-remove", path)
            else:
                blob = g("hash-object", "-w", "--stdin", inp=text.encode())
                g("update-index", "--add", "--cacheinfo", "100644,%s,%s" % (blob, path))
        tree = g("write-tree")
        args = ["commit-tree", tree, "-m", msg]
        if parent != ZERO:
            args += ["-p", parent]
        return g(*args)

    def push(self, url, specs, force=False, atomic=False):
        args = self.auth + ["push", "-q"]
        if force:
            args.append("--force")
        if atomic:
            args.append("--atomic")
        try:
            p = self.run(*(args + [url] + list(specs)), check=False, timeout=90)
        except subprocess.TimeoutExpired:
            return False, "timeout"
        err = p.stderr.decode(errors="replace")
        if p.returncode != 0:
            with open(self.path + "/push-errors.log", "a") as f:
                f.write("%.3f push %s\n%s\n" % (time.time(), " ".join(specs), err))
        return p.returncode == 0, why(err)


# --- the workload --------------------------------------------------------------------

class Run:
    def __init__(self, a):
        self.a = a
        self.started = False
        self.seed = a.seed
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.pushes = []      # [{"repo", "refs"}] exited 0
        self.writes = []      # [{"repo", "method", "status", "body"}] 2xx
        self.deliveries = []  # consumer deliveries, in order received
        self.acks = {}        # logseq -> index of the last delivery when its ack was confirmed
        self.dlq = {"deliveries": [], "acked": set(), "termed": set(), "tried": set(), "never": set()}
        self.errors = []      # client bugs (exceptions)
        self.reasons = {}     # why pushes failed -> count
        self.stats = {"push_ok": 0, "push_fail": 0, "write_ok": 0, "write_fail": 0,
                      "release_ok": 0, "release_fail": 0, "fetches": 0, "dropped": 0,
                      "kills": 0, "fault_restarts": 0, "fault_exits": 0, "startup_kills": 0}

    def count(self, key, n=1):
        with self.lock:
            self.stats[key] += n

    def reason(self, why):
        with self.lock:
            self.reasons[why] = self.reasons.get(why, 0) + 1

    def git_url(self, repo):
        base = self.daemon.url()
        return None if base is None else base + "/%s.git" % repo

    def guard(self, name, fn):
        def body():
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - a client bug fails the run
                import traceback
                with self.lock:
                    self.errors.append("%s: %s\n%s" % (name, e, traceback.format_exc()))
                self.stop.set()
        t = threading.Thread(target=body, name=name, daemon=True)
        t.start()
        return t

    def nap(self, rng, lo=0.05, hi=0.3):
        self.stop.wait(rng.uniform(lo, hi))

    # pushers: main, feature branches, tags
    def pusher(self, k, repo):
        rng = random.Random("%s-pusher-%d" % (self.seed, k))
        g = Git(os.path.join(self.work, "clients", "pusher-%d" % k), self.genv, self.writer)
        me = "p%d" % k
        n = 0
        while not self.stop.is_set():
            url = self.git_url(repo)
            if url is None:
                self.stop.wait(0.1)
                continue
            n += 1
            op = rng.choices(["main", "branch", "force", "delbranch", "tag", "deltag", "multi"],
                             [50, 12, 6, 5, 10, 5, 12])[0]
            remote = g.remote_refs(url)
            if remote is None:
                self.count("push_fail")
                self.reason("fetch failed")
                self.nap(rng)
                continue
            base = remote.get("refs/heads/main", ZERO)
            branch = "refs/heads/f-%s-%d" % (me, rng.randrange(3))
            tag = "refs/tags/t-%s-%d" % (me, rng.randrange(3))
            if op == "delbranch" and branch not in remote or op == "deltag" and tag not in remote:
                op = "main"  # deleting a ref that is not there moves nothing
            specs, refs, force, atomic = [], {}, False, False
            if op in ("main", "multi"):
                c = g.commit(base, self.main_changes(g, rng, me, base, n), "%s main %d" % (me, n))
                specs.append("%s:refs/heads/main" % c)
                refs["refs/heads/main"] = c
            if op in ("branch", "multi"):
                c = g.commit(base, {"notes/%s-%d.txt" % (me, n): "branch %d\n" % n}, "%s branch %d" % (me, n))
                specs.append("%s:%s" % (c, branch))
                refs[branch] = c
                atomic = op == "multi" and rng.random() < 0.5
            if op == "force":
                c = g.commit(ZERO, {"notes/%s.txt" % me: "root %d\n" % n}, "%s root %d" % (me, n))
                specs, refs, force = ["%s:%s" % (c, branch)], {branch: c}, True
            if op == "delbranch":
                specs, refs = [":" + branch], {branch: ZERO}
            if op == "tag":
                target = base if base != ZERO else g.commit(ZERO, {"x.txt": "%d\n" % n}, "x")
                if rng.random() < 0.5:
                    obj = target
                else:
                    g.run("tag", "-f", "-a", "-m", "%s %d" % (me, n), tag[10:], target)
                    obj = g.out("rev-parse", tag)
                specs, refs, force = ["%s:%s" % (obj, tag)], {tag: obj}, True
            if op == "deltag":
                specs, refs = [":" + tag], {tag: ZERO}
            ok, reason = g.push(url, specs, force=force, atomic=atomic)
            self.count("push_ok" if ok else "push_fail")
            if not ok:
                self.reason(reason)
            if ok:
                self.record(repo, remote, refs, op)
            if ok or reason != "non-fast-forward":
                self.nap(rng)  # else: again at once, on the new main

    def record(self, repo, remote, refs, op):
        """A push that exited 0: each ref that was to move moved from the
        value seen just before (no other client moves it meanwhile:
        only main is shared, and a push to main on a stale base fails)."""
        moved = {r: (remote.get(r, ZERO), new) for r, new in refs.items() if remote.get(r, ZERO) != new}
        if moved:
            with self.lock:
                self.pushes.append({"repo": repo, "refs": moved, "op": op})

    def main_changes(self, g, rng, me, base, n):
        have = {p: size for p, (_, size) in g.files(base).items()}
        mine = sorted(p for p in have if p.startswith("products/%s-" % me))
        ch = {}
        for p in mine:  # repair a too-long title (so releases can pass again)
            if have[p] > 400:
                ch[p] = product(p[9:-3], "Fixed %s %d" % (me, n), "Fixed.")
        r = rng.random()
        if r < 0.15 and mine:
            ch[rng.choice(mine)] = None
        elif r < 0.25:
            ch["README-%s.md" % me] = "# notes of %s\n\nedit %d\n" % (me, n)
        else:
            name = "%s-%d" % (me, rng.randrange(6))
            title = ("T" * 201) if rng.random() < 0.04 else "Title %s %d" % (me, n)
            ch["products/%s.md" % name] = product(name, title, "About %s, edit %d." % (name, n))
        return ch

    def api_writer(self, repo):
        rng = random.Random("%s-api" % self.seed)
        n = 0
        while not self.stop.is_set():
            base = self.daemon.url()
            if base is None:
                self.stop.wait(0.1)
                continue
            n += 1
            name = "api-%d" % rng.randrange(5)
            path = "/api/v1/repos/%s/resources/products/%s" % (repo, name)
            if rng.random() < 0.2:
                method, body = "DELETE", None
            else:
                title = ("A" * 201) if rng.random() < 0.05 else "Api %s %d" % (name, n)
                method, body = "PUT", product(name, title, "Written by the API, %d." % n).encode()
            st, res = http(base, self.writer, method, path, body, "text/markdown")
            if st is not None and 200 <= st < 300:
                self.count("write_ok")
                with self.lock:
                    self.writes.append({"repo": repo, "method": method, "status": st, "body": res})
            else:
                self.count("write_fail")
                self.reason("API %s" % (st or "down"))
            self.nap(rng, 0.1, 0.8)

    def publisher(self):
        rng = random.Random("%s-publisher" % self.seed)
        g = Git(os.path.join(self.work, "clients", "publisher"), self.genv, self.pub)
        n = 0
        while not self.stop.is_set():
            self.stop.wait(rng.uniform(0.5, 1.5))
            repo = rng.choice(REPOS)
            url = self.git_url(repo)
            if url is None:
                continue
            remote = g.remote_refs(url)
            if remote is None or remote.get("refs/heads/main", ZERO) == ZERO:
                continue
            base = remote["refs/heads/main"]
            made = sorted(r for r in remote if re.match(r"^refs/tags/v\d+$", r))
            r = rng.random()
            if r < 0.12 and made:
                tag = rng.choice(made)
                specs, refs, force = [":" + tag], {tag: ZERO}, False
            else:
                if r < 0.22 and made:
                    tag = rng.choice(made)
                else:
                    n += 1
                    tag = "refs/tags/v%d" % n
                if rng.random() < 0.5:
                    obj = base
                else:
                    g.run("tag", "-f", "-a", "-m", "release %s %d" % (tag, n), tag[10:], base)
                    obj = g.out("rev-parse", tag)
                specs, refs, force = ["%s:%s" % (obj, tag)], {tag: obj}, True
            ok, reason = g.push(url, specs, force=force)
            self.count("release_ok" if ok else "release_fail")
            if not ok:
                self.reason(reason)
            if ok:
                self.record(repo, remote, refs, "release")

    def consumer(self):
        rng = random.Random("%s-consumer" % self.seed)
        while not self.stop.is_set():
            base = self.daemon.url()
            if base is None:
                self.stop.wait(0.1)
                continue
            st, batch = http(base, self.admin, "POST", "/api/v1/consumers/%s/fetch?max=50&wait=1" % CONSUMER, b"")
            if st != 200:
                self.stop.wait(0.1)
                continue
            with self.lock:
                self.stats["fetches"] += 1
                fno = self.stats["fetches"]
                for it in batch:
                    self.deliveries.append({"fetch": fno, "logseq": it["logseq"],
                                            "deliveryAttempt": it["deliveryAttempt"], "id": it["event"]["id"]})
            if not batch:
                continue
            if rng.random() < 0.1:  # a consumer that died before acknowledging
                self.count("dropped")
                continue
            st, res = http(base, self.admin, "POST", "/api/v1/consumers/%s/ack" % CONSUMER,
                           {"logseq": [it["logseq"] for it in batch]})
            if st == 200:
                with self.lock:
                    for ls in res.get("settled", []):
                        self.acks[ls] = len(self.deliveries) - 1

    def dlq_round(self, base, fno, wait):
        """One fetch of the dead-letter consumer and its settling: every
        third logseq is never settled, every fifth (else) terminated, the
        rest acknowledged.  Returns the batch (None if the call failed)."""
        st, batch = http(base, self.admin, "POST", "/api/v1/consumers/%s/fetch?max=20&wait=%d" % (DLQ, wait), b"")
        if st != 200:
            return None
        q = self.dlq
        act = {"ack": [], "term": []}
        for it in batch:
            ls = it["logseq"]
            q["deliveries"].append({"fetch": fno, "logseq": ls, "deliveryAttempt": it["deliveryAttempt"],
                                    "id": it["event"]["id"]})
            if ls % 3 == 0:
                q["never"].add(ls)
            else:
                act["term" if ls % 5 == 0 else "ack"].append(ls)
        for verb, seqs in act.items():
            if not seqs:
                continue
            q["tried"].update(seqs)
            st, res = http(base, self.admin, "POST", "/api/v1/consumers/%s/%s" % (DLQ, verb), {"logseq": seqs})
            if st == 200:
                q["acked" if verb == "ack" else "termed"].update(res.get("settled", []))
        return batch

    def dlq_consumer(self):
        fno = 0
        while not self.stop.is_set():
            base = self.daemon.url()
            if base is None:
                self.stop.wait(0.1)
                continue
            fno += 1
            if self.dlq_round(base, fno, 1) is None:
                self.stop.wait(0.1)

    def dlq_check(self, api):
        t0 = time.time()
        fno = 10 ** 6
        while True:
            fno += 1
            batch = self.dlq_round(self.daemon.url(), fno, 1)
            if batch is None:
                raise RuntimeError("fetch of consumer %s failed after the restart" % DLQ)
            state = api.get("/api/v1/consumers/" + DLQ)
            if not batch and state.get("pending") == 0:
                break
            if time.time() - t0 > 90:
                raise RuntimeError("consumer %s still has %s pending" % (DLQ, state.get("pending")))
        dead, after = [], 0
        while True:
            page = api.get("/api/v1/consumers/%s/dead-letters?after=%d&limit=1000" % (DLQ, after))
            if not page.get("items"):
                break
            dead += page["items"]
            after = page["items"][-1]["logseq"]
        events = api.events()
        q = self.dlq
        return invariants.check_dead_letters(events, DLQ, DLQ_TYPES, DLQ_MAX, q["deliveries"], q["acked"],
                                             q["tried"], q["termed"], q["never"], dead, state), len(dead)

    # --- set-up, kills, the end ---

    def cli(self, *args):
        p = subprocess.run([self.a.bin] + list(args) + ["--data", self.data], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=self.env)
        if p.returncode != 0:
            raise SetupError("gitstore %s: %s" % (" ".join(args), p.stderr.decode().strip()))
        return p.stdout.decode().strip()

    def setup(self):
        self.data = os.path.join(self.work, "data")
        home = os.path.join(self.work, "home")
        os.makedirs(home, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        self.env.update(HOME=home, LANG="C", LC_ALL="C", TZ="UTC", GIT_CONFIG_NOSYSTEM="1",
                        GIT_CONFIG_GLOBAL=os.path.join(home, ".gitconfig"), GIT_TERMINAL_PROMPT="0")
        self.env.pop("GITSTORE_TEST_FAULT", None)
        with open(os.path.join(home, ".gitconfig"), "w") as f:
            f.write("[user]\n\tname = Crash Test\n\temail = crash@example.com\n"
                    "[init]\n\tdefaultBranch = main\n[http]\n\tlowSpeedLimit = 1\n\tlowSpeedTime = 30\n")
        self.genv = dict(self.env)
        for ns in sorted({r.split("/")[0] for r in REPOS}):
            self.cli("namespace", "create", ns)
        for r in REPOS:
            self.cli("repo", "create", r)
        self.admin = self.cli("token", "create", "--user", "admin", "--role", "admin:*")
        self.writer = self.cli("token", "create", "--user", "wes", "--role", "writer:shop", "--role", "writer:acme")
        self.pub = self.cli("token", "create", "--user", "pia", "--role", "publisher:shop", "--role", "publisher:acme")
        self.daemon = Daemon(self.a.bin, self.data, os.path.join(self.work, "gitstore.log"), self.env)
        self.daemon.start()
        st, res = http(self.daemon.url(), self.admin, "PUT", "/api/v1/consumers/" + CONSUMER,
                       {"filter": {"types": CONSUMER_TYPES}, "ackWaitSeconds": 2, "maxDeliver": 0})
        if st != 201:
            raise SetupError("creating consumer %s: HTTP %s %s" % (CONSUMER, st, res))
        st, res = http(self.daemon.url(), self.admin, "PUT", "/api/v1/consumers/" + DLQ,
                       {"filter": {"types": DLQ_TYPES}, "ackWaitSeconds": 1, "maxDeliver": DLQ_MAX})
        if st != 201:
            raise SetupError("creating consumer %s: HTTP %s %s" % (DLQ, st, res))

    def chaos(self):
        rng = random.Random("%s-chaos" % self.seed)
        lo, hi = self.a.interval
        t0 = time.time()
        while True:
            if time.time() - t0 >= self.a.duration and self.stats["kills"] >= self.a.kills:
                break
            if time.time() - t0 >= 3 * self.a.duration + 60:
                break
            if self.stop.is_set():
                break
            until = time.time() + rng.uniform(lo, hi)
            while time.time() < until:
                if not self.daemon.check_alive():
                    break
                time.sleep(0.05)
            if self.daemon.kill(group=rng.random() >= self.a.orphans):
                self.count("kills")
            elif self.daemon.fault:
                self.count("fault_exits")
            time.sleep(rng.uniform(0, 0.3))
            if rng.random() < self.a.startup_kills:
                if self.daemon.start_and_kill(rng.uniform(0.02, 0.5)):
                    self.count("startup_kills")
            fault = rng.choice(FAULTS) if rng.random() < self.a.faults else None
            if fault:
                self.count("fault_restarts")
            self.daemon.start(fault)
        return time.time() - t0

    def settle(self, api, timeout=120):
        """Waits until the built-in consumers have worked through the log
        and nothing more is appended."""
        t0 = time.time()
        last = None
        while time.time() - t0 < timeout:
            head = self.head(api)
            items = api.get("/api/v1/consumers")["items"]
            busy = [c for c in items if c.get("builtin") and (c["pending"] or c["pulled"] < head)]
            if not busy and head == last:
                return
            last = head if not busy else None
            time.sleep(0.3)
        raise SetupError("the built-in consumers did not settle within %d s" % timeout)

    def head(self, api):
        after = getattr(self, "_head", 0)
        while True:
            page = api.get("/api/v1/events?after=%d&limit=1000" % after)
            if not page:
                self._head = after
                return after
            after = page[-1]["logseq"]

    def liveness(self):
        """After the clean restart: no lock file a killed git left behind
        remains, and every repository takes a push to main and an API
        write (nothing else runs now, so each must succeed at once)."""
        bad = []
        for root, dirs, files in os.walk(os.path.join(self.data, "repos")):
            for sub in dirs:
                if sub.startswith("tmp_objdir-incoming-"):
                    bad.append("[liveness] %s remains after a restart (the quarantine of a killed push)" % (
                        os.path.relpath(os.path.join(root, sub), self.data)))
            for f in files:
                if f.endswith(".lock"):
                    bad.append("[liveness] %s remains after a restart (a stale lock of a killed git)" % (
                        os.path.relpath(os.path.join(root, f), self.data)))
        g = Git(os.path.join(self.work, "clients", "final"), self.genv, self.writer)
        for i, repo in enumerate(REPOS):
            url = self.git_url(repo)
            remote = g.remote_refs(url)
            if remote is None:
                bad.append("[liveness] %s: cannot fetch after the restart" % repo)
                continue
            base = remote.get("refs/heads/main", ZERO)
            c = g.commit(base, {"products/final-%d.md" % i: product("final-%d" % i, "Final", "Last.")}, "final")
            ok, reason = g.push(url, ["%s:refs/heads/main" % c])
            if ok:
                self.record(repo, remote, {"refs/heads/main": c}, "final")
            else:
                bad.append("[liveness] %s: a push to main after the restart failed (%s)" % (repo, reason))
            st, res = http(self.daemon.url(), self.writer, "PUT", "/api/v1/repos/%s/resources/products/api-final" % repo,
                           product("api-final", "Final", "Last.").encode(), "text/markdown")
            if st is not None and 200 <= st < 300:
                with self.lock:
                    self.writes.append({"repo": repo, "method": "PUT", "status": st, "body": res})
            else:
                bad.append("[liveness] %s: an API write after the restart failed: HTTP %s %s" % (repo, st, res))
        return bad

    def sanitizer_reports(self):
        """ASan/UBSan reports of the daemon (its log) or of the hook (in what
        the pushers' git printed): a failed push hides them otherwise."""
        bad = []
        logs = [os.path.join(self.work, "gitstore.log")]
        cdir = os.path.join(self.work, "clients")
        for c in sorted(os.listdir(cdir)) if os.path.isdir(cdir) else []:
            logs.append(os.path.join(cdir, c, "push-errors.log"))
        for path in logs:
            try:
                with open(path, errors="replace") as f:
                    for line in f:
                        if re.search(r"ERROR: (Address|Leak|Thread)Sanitizer|runtime error:", line):
                            bad.append("[sanitizer] %s: %s" % (os.path.relpath(path, self.work), line.strip()[:200]))
                            break
            except FileNotFoundError:
                pass
        return bad

    def go(self):
        a = self.a
        if a.workdir:
            self.work = os.path.abspath(a.workdir)
            os.makedirs(self.work, exist_ok=True)
        else:
            self.work = tempfile.mkdtemp(prefix="gitstore-crash.")
        log("seed %d (replay: --seed %d), work directory %s" % (self.seed, self.seed, self.work))
        t_start = time.time()
        self.setup()
        self.started = True  # from here on, a failure is the daemon's
        threads = [self.guard("pusher-%d" % k, lambda k=k: self.pusher(k, REPOS[k % 2]))
                   for k in range(a.pushers)]
        threads.append(self.guard("api-writer", lambda: self.api_writer(REPOS[0])))
        threads.append(self.guard("publisher", self.publisher))
        cons = self.guard("consumer", self.consumer)
        threads.append(self.guard("dlq-consumer", self.dlq_consumer))
        try:
            load_time = self.chaos()
        finally:
            self.stop.set()
            for t in threads + [cons]:
                t.join(timeout=120)
        # one more crash with everything quiet, then a clean start
        if self.daemon.kill():
            self.count("kills")
        self.daemon.kill_orphans()
        self.daemon.start()
        api = invariants.Api(self.daemon.url(), self.admin, timeout=60)
        bad = self.liveness()
        self.settle(api)
        cstate = invariants.drain_consumer(api, CONSUMER, self.deliveries, self.acks)
        dlq_bad, ndead = self.dlq_check(api)
        self.settle(api)
        repos = invariants.GitRepos(self.data)
        state = invariants.collect(api, repos)
        bad += invariants.check_all(state, repos, self.pushes, self.writes,
                                   {"types": CONSUMER_TYPES, "deliveries": self.deliveries,
                                    "acks": self.acks, "complete": True})
        bad += dlq_bad
        if cstate.get("deadLettered"):
            bad.append("[consumer] %s dead-lettered %s events (maxDeliver is unlimited)" % (
                CONSUMER, cstate["deadLettered"]))
        # the restart after the checks adds nothing
        before = state["events"]
        if self.daemon.kill():
            self.count("kills")
        self.daemon.start()
        api = invariants.Api(self.daemon.url(), self.admin, timeout=60)
        self.settle(api)
        after = api.events()
        if after != before:
            bad.append("[restart] a restart with nothing to do changed the log: %d events before, %d after" % (
                len(before), len(after)))
        err = self.daemon.stop()
        if err:
            bad.append("[daemon] " + err)
        bad += ["[daemon] " + u for u in self.daemon.unexpected]
        bad += self.sanitizer_reports()
        bad += ["[client] " + e for e in self.errors]
        s = self.stats
        types = {}
        for ev in state["events"]:
            types[invariants.tname(ev)] = types.get(invariants.tname(ev), 0) + 1
        print("crash: seed %d: %.1f s of load (%.1f s in all), %d kills (+%d during start-up, %d fault restarts, %d fault exits)" % (
            self.seed, load_time, time.time() - t_start, s["kills"], s["startup_kills"], s["fault_restarts"],
            s["fault_exits"]))
        print("crash: pushes %d ok / %d failed, API writes %d ok / %d failed, releases %d ok / %d failed" % (
            s["push_ok"], s["push_fail"], s["write_ok"], s["write_fail"], s["release_ok"], s["release_fail"]))
        print("crash: checked against the log: %d acknowledged ref moves, %d acknowledged API writes" % (
            sum(len(p["refs"]) for p in self.pushes), len(self.writes)))
        print("crash: failures: %s" % ", ".join("%s %d" % kv for kv in sorted(self.reasons.items())))
        print("crash: %d events (%s); consumer: %d deliveries, %d redeliveries, %d batches dropped" % (
            len(state["events"]), ", ".join("%s %d" % kv for kv in sorted(types.items())),
            len(self.deliveries), sum(1 for dv in self.deliveries if dv["deliveryAttempt"] > 1), s["dropped"]))
        print("crash: consumer %s: %d deliveries, %d dead letters (%d terminated)" % (
            DLQ, len(self.dlq["deliveries"]), ndead, len(self.dlq["termed"])))
        return bad


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the gitstore binary (gitstore-hook next to it)")
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--kills", type=int, default=0, help="at least this many kills")
    ap.add_argument("--workdir")
    ap.add_argument("--keep", action="store_true", help="keep the work directory on success")
    ap.add_argument("--interval", default="0.3,3", help="MIN,MAX seconds between kills")
    ap.add_argument("--faults", type=float, default=0.25, help="probability of a fault point at a restart")
    ap.add_argument("--pushers", type=int, default=3)
    ap.add_argument("--startup-kills", type=float, default=0.15,
                    help="probability that a restart is killed again during its start-up")
    ap.add_argument("--orphans", type=float, default=0.0,
                    help="probability that a kill hits the daemon alone (its git processes live on)")
    a = ap.parse_args(argv)
    a.bin = os.path.abspath(a.bin)
    if a.seed is None:
        a.seed = random.SystemRandom().randrange(1, 1 << 31)
    try:
        a.interval = tuple(float(x) for x in a.interval.split(","))
        assert len(a.interval) == 2 and 0 < a.interval[0] <= a.interval[1]
    except (ValueError, AssertionError):
        ap.error("--interval MIN,MAX")
    run = Run(a)
    try:
        bad = run.go()
    except (SetupError, RuntimeError, OSError, ValueError) as e:
        if getattr(run, "daemon", None):
            run.daemon._reap()
        if not getattr(run, "started", False):
            log("error: %s" % e)
            log("work directory kept: %s (seed %d)" % (getattr(run, "work", "?"), a.seed))
            return 2
        # a daemon that does not come back, workers that never catch up,
        # an API that stops answering: the run failed
        bad = ["[run] %s" % e] + ["[daemon] " + u for u in run.daemon.unexpected] + \
              ["[client] " + x for x in run.errors]
    if bad:
        for v in bad:
            print("crash: VIOLATION " + v)
        print("crash: %d violation(s); seed %d; work directory kept: %s" % (len(bad), a.seed, run.work))
        return 1
    print("crash: all invariants hold (seed %d)" % a.seed)
    if not a.keep and not a.workdir:
        shutil.rmtree(run.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
