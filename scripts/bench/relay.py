#!/usr/bin/python3
"""Measurement helpers for scripts/bench/relay.sh (stdlib only).

  relay.py fill  --work DIR --url GIT_URL --server URL --products P
      one push of a commit of P product files to main: 3 + 2P events (ref,
      push-completed, namespace target, parsed + admission per product),
      waited for in the log
  relay.py read  --server URL --token T --runs R
      baseline: every event of the log read through GET /api/v1/events
      (pages of 1000, one keep-alive connection), median of R runs
  relay.py drain --server URL --nats-port P --since EPOCH_S
                 [--gitstore-pid N --nats-pid N --nats-cpu0 S]
      polls /metrics every 10 ms until the relay's lag is 0, then reads the
      stream's state: messages, and first/last message times (JetStream's
      own store timestamps), giving the publish rate without start-up, and
      the CPU seconds both processes used since the daemon started
  relay.py cpu --pid N    CPU seconds (user + system) of a process

Each prints "key=value" lines on stdout; exits non-zero only when the
benchmark itself breaks.
"""
import argparse
import calendar
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "integration", "lib"))
import nats_tool  # noqa: E402  (the raw-protocol client of the relay tests)


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def die(msg):
    log("error:", msg)
    sys.exit(2)


def git(work, *args, inp=None):
    p = subprocess.run(["git", "-C", work] + list(args), input=inp,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        die("git %s failed (%d): %s" % (args[0], p.returncode, p.stderr.decode(errors="replace").strip()))
    return p.stdout


def product(name):
    return ("---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: %s\n"
            "spec:\n  title: \"Product %s\"\n---\nBody of %s.\n" % (name, name, name))


def cmd_fill(a):
    """One push of P products to main: branch-created, push-completed,
    catalog-namespace-target and per product catalog-resource-parsed +
    catalog-admission-evaluated, 3 + 2P events; waits until they are all
    in the log."""
    os.makedirs(a.work, exist_ok=True)
    git(a.work, "init", "-q")
    for i in range(a.products):
        d = os.path.join(a.work, "products", "d%02d" % (i // 500))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "p%05d.md" % i), "w") as f:
            f.write(product("p%05d" % i))
    git(a.work, "add", "-A")
    git(a.work, "commit", "-q", "-m", "%d products" % a.products)
    want = 3 + 2 * a.products
    t0 = time.perf_counter()
    git(a.work, "push", "-q", a.url, "HEAD:main")
    deadline = time.time() + 300
    head = 0
    while head < want and time.time() < deadline:
        head = metrics(a.server).get("gitstore_event_log_head", 0)
        time.sleep(0.05)
    if head < want:
        die("log head %d after the push, expected %d" % (head, want))
    print("relay.fill_s=%.2f" % (time.perf_counter() - t0))
    print("relay.products=%d" % a.products)


def cmd_read(a):
    u = urllib.parse.urlsplit(a.server)
    hdrs = {"Authorization": "Bearer " + a.token}
    samples, count = [], 0
    for _ in range(a.runs):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        after, count = 0, 0
        t0 = time.perf_counter()
        while True:
            conn.request("GET", "/api/v1/events?after=%d&limit=1000" % after, headers=hdrs)
            r = conn.getresponse()
            body = r.read()
            if r.status != 200:
                die("GET /api/v1/events: HTTP %d" % r.status)
            page = json.loads(body)
            if not page:
                break
            count += len(page)
            after = page[-1]["logseq"]
        samples.append(time.perf_counter() - t0)
        conn.close()
    med = statistics.median(samples)
    print("relay.read_events=%d" % count)
    print("relay.read_s=%.3f" % med)
    print("relay.read_per_s=%.0f" % (count / med))
    print("relay.read_samples_s=%s" % ",".join("%.3f" % s for s in samples))


def metrics(server):
    u = urllib.parse.urlsplit(server)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request("GET", "/metrics")
    out = {}
    for line in conn.getresponse().read().decode().splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    conn.close()
    return out


def ts_ns(s):
    """RFC 3339 with up to nanoseconds, UTC -> ns since the epoch."""
    date, frac = s.rstrip("Z"), "0"
    if "." in date:
        date, frac = date.split(".", 1)
    secs = calendar.timegm(time.strptime(date, "%Y-%m-%dT%H:%M:%S"))
    return int(secs) * 1000000000 + int((frac + "000000000")[:9])


def cpu_s(pid):
    """user + system CPU seconds of a process (0 if unknown)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def cmd_cpu(a):
    print("%.3f" % cpu_s(a.pid))


def cmd_drain(a):
    deadline = time.time() + a.timeout
    m = {}
    while time.time() < deadline:
        try:
            m = metrics(a.server)
        except OSError:
            m = {}
        if m.get("gitstore_relay_lag_events") == 0 and m.get("gitstore_event_log_head", 0) > 0:
            break
        time.sleep(0.01)
    else:
        die("relay lag not 0 after %ds: %s" % (a.timeout, {k: v for k, v in m.items() if "relay" in k}))
    wall = time.time() - a.since
    info = nats_tool.Nats(a.nats_port).request("$JS.API.STREAM.INFO.GITSTORE")
    st = info["state"]
    span = (ts_ns(st["last_ts"]) - ts_ns(st["first_ts"])) / 1e9
    n = st["messages"]
    print("relay.events=%d" % n)
    print("relay.log_head=%d" % m["gitstore_event_log_head"])
    print("relay.stream_bytes=%d" % st["bytes"])
    print("relay.span_s=%.3f" % span)
    print("relay.per_s=%.0f" % ((n - 1) / span if span > 0 else 0))
    print("relay.wall_s=%.3f" % wall)
    print("relay.wall_per_s=%.0f" % (n / wall))
    # the daemon was started for this: its whole CPU time (start-up included)
    print("relay.gitstore_cpu_s=%.2f" % cpu_s(a.gitstore_pid))
    print("relay.nats_cpu_s=%.2f" % (cpu_s(a.nats_pid) - a.nats_cpu0))
    print("relay.duplicates=%d" % m.get("gitstore_relay_duplicates_total", 0))
    print("relay.errors=%d" % m.get("gitstore_relay_publish_errors_total", 0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("fill")
    p.add_argument("--work", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--server", required=True)
    p.add_argument("--products", type=int, required=True)
    p = sub.add_parser("read")
    p.add_argument("--server", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--runs", type=int, default=3)
    p = sub.add_parser("drain")
    p.add_argument("--server", required=True)
    p.add_argument("--nats-port", type=int, required=True)
    p.add_argument("--since", type=float, required=True)
    p.add_argument("--timeout", type=int, default=120)
    p.add_argument("--gitstore-pid", type=int, default=0)
    p.add_argument("--nats-pid", type=int, default=0)
    p.add_argument("--nats-cpu0", type=float, default=0, help="nats-server CPU seconds before the daemon started")
    p = sub.add_parser("cpu")
    p.add_argument("--pid", type=int, required=True)
    a = ap.parse_args()
    {"fill": cmd_fill, "read": cmd_read, "drain": cmd_drain, "cpu": cmd_cpu}[a.cmd](a)


if __name__ == "__main__":
    main()
