#!/usr/bin/python3
"""invariants.py -- check gitstore's event log against its guarantees.

The invariant checker of the randomised crash test (scripts/soak/crash.py,
DESIGN section 5); importable, and runnable on its own against a running
daemon and its data directory:

  invariants.py --server URL --data DIR [--bin GITSTORE] [--token T]
                [--drain-consumer NAME]

It reads the whole log (GET /api/v1/events), the live refs of every
repository (git for-each-ref in DIR/repos/<uid>.git), the storefront and
the repositories' settings, prints one line per violation and exits 1 when
there is any (0 when none, 2 on a usage or I/O error).  With
--drain-consumer it also fetches and acknowledges the durable consumer NAME
until it has nothing pending and checks what it delivered
(check_consumer; only the part delivered now is seen, so "nothing missing"
holds for events after the consumer's cursor).

Every check_* function is pure: it takes the events (a list of CloudEvent
dicts, in the order the log served them) and what else it needs, and
returns a list of violation strings, each starting with the invariant's
name in brackets.  tests: scripts/soak/test_invariants.py.

  [ids]        event ids unique
  [logseq]     logseq strictly increasing and contiguous from the floor
  [sequence]   each repository's sequence contiguous from 1, in log order
  [ref-chain]  per repository and ref, the ref events form a chain: the
               first starts from the zero sha, each oldSha is the previous
               newSha, created iff from zero, deleted iff to zero, the type
               matches the ref's class; the last newSha is the live ref
  [push]       push-completed lists exactly its push's ref events, after
               them; every ref event with a pushId has one push-completed
  [catalog]    per draft-branch ref event, its catalog events are
               contiguous, after the ref event and its push-completed, and
               exactly once: one catalog-namespace-target (iff a resource
               file changed), one catalog-resource-parsed and one
               catalog-admission-evaluated per changed resource file (or
               one validation failure reported by path), one
               catalog-resource-deleted per resource file that went away,
               nothing about unchanged files, no catalog event caused by
               anything else
  [release]    one release-created or release-rejected per created or
               moved release ref, none for anything else; the lifecycle
               controller's events unique per (type, cause, subject)
  [acked]      every push and API write the clients saw succeed is in the
               log (ref events, push-completed, its admission verdict)
  [draft]      the draft view (admin resource API) holds exactly the
               resources of the draft branches' tips, with their titles
               (or an admissionFailure for a failing version)
  [published]  the storefront equals the resources of each repository's
               current release, and the replay of draft-published /
               resource-unpublished
  [dead-letter] a consumer that never settles some events and terminates
               others: at most maxDeliver deliveries, exactly those dead-
               lettered (reason, attempts), each announced once by an
               event-dead-lettered, nothing acknowledged among them
  [consumer]   a durable consumer delivered every matching event, nothing
               else, redeliveries only with deliveryAttempt > 1 and never
               after a confirmed ack, first deliveries in per-repository
               log order
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

ZERO = "0" * 40
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

BRANCH_TYPES = ("branch-created", "branch-updated", "branch-force-pushed", "branch-deleted")
TAG_TYPES = ("tag-created", "tag-updated", "tag-deleted")
REF_TYPES = BRANCH_TYPES + TAG_TYPES
CATALOG_TYPES = ("catalog-namespace-target", "catalog-resource-parsed",
                 "catalog-resource-validation-failed", "catalog-admission-evaluated",
                 "catalog-resource-deleted")
RELEASE_TYPES = ("release-created", "release-rejected")
LIFECYCLE_TYPES = ("draft-published", "resource-unpublished", "release-withdrawn")
PLURALS = {"Product": "products", "ProductVariant": "productvariants",
           "CategoryTaxonomy": "categorytaxonomies", "Collection": "collections"}

DEFAULT_DRAFT = "refs/heads/main"
DEFAULT_RELEASE_REFS = "refs/tags/release/*,refs/tags/v*"


# --- event helpers ---------------------------------------------------------------

def tname(ev):
    """The taxonomy name of an event: dev.gitstore.<name>.v1 -> <name>."""
    t = ev.get("type", "")
    m = re.match(r"^dev\.gitstore\.(.+)\.v\d+$", t)
    return m.group(1) if m else t


def repo_uid(ev):
    return ((ev.get("data") or {}).get("repository") or {}).get("uid") or ev.get("source", "")


def repo_name(ev):
    r = (ev.get("data") or {}).get("repository") or {}
    return "%s/%s" % (r.get("namespace"), r.get("name"))


def d(ev):
    return ev.get("data") or {}


def brief(ev):
    return "logseq %s %s %s" % (ev.get("logseq"), tname(ev), ev.get("subject"))


def glob_re(globs):
    """release-refs globs ('*' matches anything, '/' included) -> regex."""
    parts = [re.escape(g).replace(r"\*", ".*") for g in globs.split(",") if g]
    return re.compile("^(?:%s)$" % "|".join(parts)) if parts else re.compile(r"^\b$")


class RepoSettings:
    def __init__(self, draft=DEFAULT_DRAFT, release_refs=DEFAULT_RELEASE_REFS, publish=""):
        self.draft = draft
        self.release_re = glob_re(release_refs)
        self.publish = publish

    def is_release_ref(self, ref):
        return bool(self.release_re.match(ref)) or (self.publish and ref == self.publish)


def settings_for(settings, uid):
    return (settings or {}).get(uid) or RepoSettings()


# --- [ids] [logseq] [sequence] -----------------------------------------------------

def check_envelope(events, floor=1):
    out = []
    seen = {}
    for ev in events:
        i = ev.get("id")
        if i in seen:
            out.append("[ids] id %s at logseq %s repeats logseq %s" % (i, ev.get("logseq"), seen[i]))
        else:
            seen[i] = ev.get("logseq")
    want = floor
    for ev in events:
        ls = ev.get("logseq")
        if ls != want:
            out.append("[logseq] expected logseq %d, got %s (%s)" % (want, ls, brief(ev)))
            if isinstance(ls, int) and ls > want:
                want = ls
        want += 1
    per_repo = {}
    for ev in events:
        uid = repo_uid(ev)
        n = per_repo.get(uid, 0) + 1
        s = ev.get("sequence", "")
        if not (isinstance(s, str) and len(s) == 20 and s.isdigit()):
            out.append("[sequence] %s: sequence %r is not 20 digits" % (brief(ev), s))
        elif int(s) != n:
            out.append("[sequence] repository %s: expected sequence %d, got %s (%s)" % (
                repo_name(ev), n, int(s), brief(ev)))
            n = int(s)
        per_repo[uid] = n
    return out


# --- [ref-chain] -------------------------------------------------------------------

def check_ref_chains(events, live_refs):
    """live_refs: {repo uid: {ref: sha}} of the refs/heads and refs/tags of
    every repository (a repository absent from it is not checked against
    the disk)."""
    out = []
    chains = {}
    names = {}
    for ev in events:
        t = tname(ev)
        if t not in REF_TYPES:
            continue
        dd = d(ev)
        uid = repo_uid(ev)
        names[uid] = repo_name(ev)
        ref, old, new = dd.get("ref"), dd.get("oldSha"), dd.get("newSha")
        where = "%s %s" % (repo_name(ev), brief(ev))
        if ev.get("subject") != ref:
            out.append("[ref-chain] %s: subject is not data.ref %s" % (where, ref))
        if t in BRANCH_TYPES and not (ref or "").startswith("refs/heads/"):
            out.append("[ref-chain] %s: branch event for %s" % (where, ref))
        if t in TAG_TYPES and not (ref or "").startswith("refs/tags/"):
            out.append("[ref-chain] %s: tag event for %s" % (where, ref))
        prev = chains.get((uid, ref), ZERO)
        if old != prev:
            out.append("[ref-chain] %s: oldSha %s, but the previous event left %s at %s" % (
                where, old, ref, prev))
        if old == new:
            out.append("[ref-chain] %s: oldSha == newSha" % where)
        if (old == ZERO) != t.endswith("-created"):
            out.append("[ref-chain] %s: %s from %s" % (where, t, old))
        if (new == ZERO) != t.endswith("-deleted"):
            out.append("[ref-chain] %s: %s to %s" % (where, t, new))
        chains[(uid, ref)] = new
    for uid, refs in (live_refs or {}).items():
        for ref, sha in refs.items():
            if chains.get((uid, ref), ZERO) != sha:
                out.append("[ref-chain] repository %s: %s is %s on disk, the log says %s" % (
                    names.get(uid, uid), ref, sha, chains.get((uid, ref), ZERO)))
        for (u, ref), sha in chains.items():
            if u == uid and sha != ZERO and ref not in refs:
                out.append("[ref-chain] repository %s: %s does not exist on disk, the log says %s" % (
                    names.get(uid, uid), ref, sha))
    return out


# --- [push] ------------------------------------------------------------------------

def check_pushes(events):
    out = []
    by_push = {}
    completed = {}
    for ev in events:
        t = tname(ev)
        dd = d(ev)
        if t in REF_TYPES and dd.get("pushId"):
            by_push.setdefault(dd["pushId"], []).append(ev)
        elif t == "push-completed":
            p = dd.get("pushId")
            if p in completed:
                out.append("[push] push %s completed twice (logseq %s and %s)" % (
                    p, completed[p].get("logseq"), ev.get("logseq")))
                continue
            completed[p] = ev
            if ev.get("correlationid") != p:
                out.append("[push] %s: correlationid %s is not the pushId %s" % (
                    brief(ev), ev.get("correlationid"), p))
            refs = by_push.get(p, [])
            if not dd.get("refsTruncated"):
                want = [{"ref": r["data"]["ref"], "oldSha": r["data"]["oldSha"],
                         "newSha": r["data"]["newSha"], "event": tname(r)} for r in refs]
                if dd.get("refs") != want:
                    out.append("[push] %s (push %s): refs %s, its ref events before it are %s" % (
                        brief(ev), p, json.dumps(dd.get("refs")), json.dumps(want)))
            elif dd.get("refCount") != len(refs):
                out.append("[push] %s: refCount %s, %d ref events before it" % (
                    brief(ev), dd.get("refCount"), len(refs)))
    for p, refs in by_push.items():
        if p not in completed:
            out.append("[push] push %s (%s, first %s) has ref events but no push-completed" % (
                p, repo_name(refs[0]), brief(refs[0])))
        else:
            late = [r for r in refs if r["logseq"] > completed[p]["logseq"]]
            for r in late:
                out.append("[push] %s of push %s comes after its push-completed (logseq %s)" % (
                    brief(r), p, completed[p]["logseq"]))
    return out


# --- [catalog] [release] -------------------------------------------------------------

def check_catalog(events, diff_fn, settings=None):
    """diff_fn(uid, oldSha, newSha) -> {path: (was_resource, is_resource)}:
    the files that differ between the two commits (ZERO: no commit) and
    whether each was / is a resource document (first three bytes '---')."""
    out = []
    by_id = {ev.get("id"): ev for ev in events}
    caused = {}
    for ev in events:
        if tname(ev) in CATALOG_TYPES + RELEASE_TYPES + LIFECYCLE_TYPES:
            caused.setdefault(ev.get("causationid"), []).append(ev)
    completed = {}
    for ev in events:
        if tname(ev) == "push-completed":
            completed[d(ev).get("pushId")] = ev["logseq"]
    draft_ids = set()
    release_ids = set()
    for ev in events:
        t = tname(ev)
        if t not in REF_TYPES:
            continue
        s = settings_for(settings, repo_uid(ev))
        ref = d(ev).get("ref")
        if t in BRANCH_TYPES and ref == s.draft:
            draft_ids.add(ev["id"])
            out += _check_draft_event(ev, caused.get(ev["id"], []), completed, diff_fn)
        if s.is_release_ref(ref) and t in ("tag-created", "tag-updated", "branch-created",
                                           "branch-updated", "branch-force-pushed"):
            release_ids.add(ev["id"])
            rel = [c for c in caused.get(ev["id"], []) if tname(c) in RELEASE_TYPES]
            if len(rel) != 1:
                out.append("[release] %s %s: %d release-created/-rejected events (want 1): %s" % (
                    repo_name(ev), brief(ev), len(rel), [brief(c) for c in rel]))
            pc = completed.get(d(ev).get("pushId"))
            for c in rel:
                if c["logseq"] < ev["logseq"]:
                    out.append("[release] %s comes before its ref event %s" % (brief(c), brief(ev)))
                if pc is not None and c["logseq"] < pc:
                    out.append("[release] %s comes before the push-completed (logseq %d) of its push" % (
                        brief(c), pc))
                if c.get("correlationid") != ev.get("correlationid"):
                    out.append("[release] %s has correlationid %s, its ref event %s" % (
                        brief(c), c.get("correlationid"), ev.get("correlationid")))
    seen = {}
    for ev in events:
        t = tname(ev)
        cause = ev.get("causationid")
        if t in CATALOG_TYPES and cause not in draft_ids:
            out.append("[catalog] %s: caused by %s, which is not a draft-branch ref event (%s)" % (
                brief(ev), cause, brief(by_id[cause]) if cause in by_id else "not in the log"))
        if t in RELEASE_TYPES and cause not in release_ids:
            out.append("[release] %s: caused by %s, which is not a created or moved release ref" % (
                brief(ev), cause))
        if t in LIFECYCLE_TYPES:
            if cause not in by_id:
                out.append("[release] %s: its cause %s is not in the log" % (brief(ev), cause))
            elif by_id[cause]["logseq"] > ev["logseq"]:
                out.append("[release] %s comes before its cause %s" % (brief(ev), brief(by_id[cause])))
            key = (t, cause, ev.get("subject"))
            if key in seen:
                out.append("[release] %s repeats %s (same type, cause and subject)" % (
                    brief(ev), seen[key]))
            seen[key] = brief(ev)
    return out


def _check_draft_event(ev, cat, completed, diff_fn):
    out = []
    cat = [c for c in cat if tname(c) in CATALOG_TYPES]
    where = "%s %s" % (repo_name(ev), brief(ev))
    dd = d(ev)
    try:
        changes = diff_fn(repo_uid(ev), dd.get("oldSha"), dd.get("newSha"))
    except Exception as e:  # noqa: BLE001 - reported, not fatal
        return ["[catalog] %s: cannot diff %s..%s: %s" % (where, dd.get("oldSha"), dd.get("newSha"), e)]
    touched = {p for p, (was, now) in changes.items() if was or now}
    if not touched:
        if cat:
            out.append("[catalog] %s touches no resource file but has catalog events %s" % (
                where, [brief(c) for c in cat]))
        return out
    if not cat:
        return ["[catalog] %s changed resource files %s but has no catalog events" % (
            where, sorted(touched))]
    seqs = [c["logseq"] for c in cat]
    if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
        out.append("[catalog] %s: its catalog events are not contiguous: logseq %s" % (where, seqs))
    if seqs[0] < ev["logseq"]:
        out.append("[catalog] %s: catalog event at logseq %d before its cause" % (where, seqs[0]))
    pc = completed.get(dd.get("pushId"))
    if pc is not None and seqs[0] < pc:
        out.append("[catalog] %s: catalog events from logseq %d, before push-completed at %d" % (
            where, seqs[0], pc))
    targets = [c for c in cat if tname(c) == "catalog-namespace-target"]
    if len(targets) != 1:
        out.append("[catalog] %s: %d catalog-namespace-target (want 1)" % (where, len(targets)))
    elif cat[0] is not targets[0]:
        out.append("[catalog] %s: catalog-namespace-target is not first" % where)
    keys = {}
    for c in cat:
        cd = d(c)
        recheck = cd.get("operation") == "recheck"
        key = (tname(c), cd.get("path"), c.get("subject"), recheck)
        if key in keys:
            out.append("[catalog] %s: %s repeats %s" % (where, brief(c), keys[key]))
        keys[key] = brief(c)
        if recheck:
            if tname(c) != "catalog-admission-evaluated":
                out.append("[catalog] %s: %s with operation recheck" % (where, brief(c)))
            continue
        if tname(c) != "catalog-namespace-target":
            if cd.get("path") not in touched:
                out.append("[catalog] %s: %s is about %s, which this change does not touch" % (
                    where, brief(c), cd.get("path")))
            if cd.get("commitSha") != dd.get("newSha"):
                out.append("[catalog] %s: %s has commitSha %s" % (where, brief(c), cd.get("commitSha")))
        if c.get("correlationid") != ev.get("correlationid"):
            out.append("[catalog] %s: %s has correlationid %s, its cause %s" % (
                where, brief(c), c.get("correlationid"), ev.get("correlationid")))

    def at(t, p, recheck=False):
        return [c for c in cat if tname(c) == t and d(c).get("path") == p
                and (d(c).get("operation") == "recheck") == recheck]

    moved = any(d(c).get("operation") == "move" for c in cat)
    for p in sorted(touched):
        was, now = changes[p]
        parsed = at("catalog-resource-parsed", p)
        admitted = at("catalog-admission-evaluated", p)
        failed = at("catalog-resource-validation-failed", p)
        deleted = at("catalog-resource-deleted", p)
        if now:
            by_path = [f for f in failed if f.get("subject") == p]
            if len(parsed) + len(by_path) != 1:
                out.append("[catalog] %s: %s changed: %d catalog-resource-parsed and %d failures by path (want 1 in all)" % (
                    where, p, len(parsed), len(by_path)))
            if len(admitted) != len(parsed):
                out.append("[catalog] %s: %s: %d catalog-resource-parsed but %d catalog-admission-evaluated" % (
                    where, p, len(parsed), len(admitted)))
            if len(failed) > 1:
                out.append("[catalog] %s: %s: %d validation failures (want at most 1)" % (where, p, len(failed)))
            if parsed and admitted and failed and not by_path and d(admitted[0]).get("allowed"):
                out.append("[catalog] %s: %s failed validation but was admitted" % (where, p))
            if len(deleted) > 1:
                out.append("[catalog] %s: %s: %d catalog-resource-deleted (want at most 1)" % (
                    where, p, len(deleted)))
        else:
            if parsed or admitted or failed:
                out.append("[catalog] %s: %s is no resource any more but has parsed/admission/failure events" % (
                    where, p))
            if len(deleted) > 1 or (not deleted and not moved):
                out.append("[catalog] %s: resource file %s went away: %d catalog-resource-deleted (want 1)" % (
                    where, p, len(deleted)))
    return out


# --- [acked] -------------------------------------------------------------------------

def check_acknowledged(events, pushes=(), writes=()):
    """pushes: [{"repo": "ns/name", "refs": {ref: [oldSha, newSha]}}] of git
    pushes that exited 0 (each ref moved from oldSha to newSha); writes: [{"repo", "status", "body"}] of API writes answered 2xx
    (body: the JSON answer)."""
    out = []
    ref_events = {}
    by_push = {}
    completed = set()
    by_id = {}
    for ev in events:
        by_id[ev.get("id")] = ev
        t = tname(ev)
        if t in REF_TYPES:
            dd = d(ev)
            ref_events.setdefault((repo_name(ev), dd.get("ref"), dd.get("oldSha"), dd.get("newSha")), []).append(ev)
            if dd.get("pushId"):
                by_push.setdefault(dd["pushId"], []).append(ev)
        elif t == "push-completed":
            completed.add(d(ev).get("pushId"))
    for p in pushes:
        for ref, (old, sha) in sorted(p["refs"].items()):
            evs = ref_events.get((p["repo"], ref, old, sha), [])
            if not evs:
                out.append("[acked] push to %s (%s %s -> %s) succeeded but no ref event has it" % (
                    p["repo"], ref, old, sha))
            elif not any(d(e).get("origin") in ("push", "recovery") and d(e).get("pushId") in completed
                         for e in evs):
                out.append("[acked] push to %s (%s -> %s) succeeded but is only in the log as %s" % (
                    p["repo"], ref, sha, [brief(e) + " origin " + str(d(e).get("origin")) for e in evs]))
    for w in writes:
        body = w.get("body") or {}
        if body.get("unchanged") or not body.get("pushId"):
            continue
        pid = body["pushId"]
        evs = by_push.get(pid, [])
        what = "API write %s %s (HTTP %s, push %s)" % (w.get("method", "PUT"), body.get("path"), w.get("status"), pid)
        if len(evs) != 1 or d(evs[0]).get("newSha") != body.get("commit") or \
                d(evs[0]).get("ref") != DEFAULT_DRAFT or repo_name(evs[0]) != w["repo"]:
            out.append("[acked] %s: want one ref event to %s, the log has %s" % (
                what, body.get("commit"), [brief(e) for e in evs]))
            continue
        ref_ev = evs[0]
        if pid not in completed:
            out.append("[acked] %s: no push-completed" % what)
        adm = body.get("admission")
        if adm:
            a = by_id.get(adm.get("uid"))
            if a is None or tname(a) != "catalog-admission-evaluated" or a.get("causationid") != ref_ev["id"]:
                out.append("[acked] %s: its admission %s is not a catalog-admission-evaluated of %s in the log" % (
                    what, adm.get("uid"), brief(ref_ev)))
            elif d(a).get("allowed") != adm.get("allowed"):
                out.append("[acked] %s: answered allowed=%s, the log says %s" % (
                    what, adm.get("allowed"), d(a).get("allowed")))
        if body.get("deleted"):
            dl = [e for e in events if tname(e) == "catalog-resource-deleted"
                  and e.get("causationid") == ref_ev["id"] and d(e).get("path") == body.get("path")]
            if len(dl) != 1:
                out.append("[acked] %s: %d catalog-resource-deleted for it (want 1)" % (what, len(dl)))
    return out


# --- [published] ---------------------------------------------------------------------

def current_releases(events, live_refs, settings=None):
    """{repo uid: release-created event of its current release, or None}:
    the passed release whose ref event is latest in the log among those
    whose ref still has the value the ref event gave it (lifecycle.md)."""
    by_id = {ev.get("id"): ev for ev in events}
    cur = {}
    for ev in events:
        if tname(ev) in REF_TYPES:
            cur.setdefault(repo_uid(ev), None)
        if tname(ev) != "release-created":
            continue
        cause = by_id.get(ev.get("causationid"))
        if cause is None:
            continue
        uid = repo_uid(ev)
        live = (live_refs or {}).get(uid, {})
        if live.get(d(cause).get("ref")) != d(cause).get("newSha"):
            continue
        best = cur.get(uid)
        if best is None or by_id[best["causationid"]]["logseq"] < cause["logseq"]:
            cur[uid] = ev
    return cur


def check_published(events, live_refs, storefront, tree_fn, settings=None):
    """storefront: {namespace: {(kind, name): item}} as the storefront lists
    it; tree_fn(uid, commit) -> {(kind, name): {"title": ...}} of the
    resource files of a commit."""
    out = []
    cur = current_releases(events, live_refs, settings)
    ns_of = {}
    for ev in events:
        ns_of[repo_uid(ev)] = ((d(ev).get("repository") or {}).get("namespace"))
    want = {}
    for uid, rel in cur.items():
        ns = ns_of.get(uid)
        want.setdefault(ns, {})
        if rel is None:
            continue
        r = d(rel)["release"]
        try:
            files = tree_fn(uid, r["commitSha"])
        except Exception as e:  # noqa: BLE001
            out.append("[published] cannot read release %s (%s): %s" % (r["ref"], r["commitSha"], e))
            continue
        if len(files) != d(rel).get("resources"):
            out.append("[published] release %s of %s: release-created says %s resources, its tree has %d" % (
                r["ref"], repo_name(rel), d(rel).get("resources"), len(files)))
        for key, f in files.items():
            want[ns][key] = dict(f, ref=r["ref"], commitSha=r["commitSha"])
    # replay of the controller's events
    replay = {}
    for ev in events:
        t = tname(ev)
        if t not in ("draft-published", "resource-unpublished"):
            continue
        res = d(ev).get("resource") or {}
        key = (res.get("kind"), res.get("name"))
        ns = res.get("namespace")
        if t == "draft-published":
            replay.setdefault(ns, {})[key] = d(ev).get("release")
        else:
            replay.setdefault(ns, {}).pop(key, None)
    for ns in sorted(set(want) | set(storefront) | set(replay), key=str):
        w = want.get(ns, {})
        got = storefront.get(ns, {})
        for key in sorted(set(w) | set(got)):
            if key not in got:
                out.append("[published] %s/%s %s is in the current release %s but not on the storefront" % (
                    ns, key[0], key[1], w[key]["ref"]))
                continue
            if key not in w:
                out.append("[published] %s/%s %s is on the storefront (release %s) but not in the current release" % (
                    ns, key[0], key[1], (got[key].get("release") or {}).get("ref")))
                continue
            rel = got[key].get("release") or {}
            if rel.get("ref") != w[key]["ref"] or rel.get("commitSha") != w[key]["commitSha"]:
                out.append("[published] %s/%s %s shows release %s@%s, the current release is %s@%s" % (
                    ns, key[0], key[1], rel.get("ref"), rel.get("commitSha"), w[key]["ref"], w[key]["commitSha"]))
            if "title" in w[key] and (got[key].get("spec") or {}).get("title") != w[key]["title"]:
                out.append("[published] %s/%s %s shows title %r, the release has %r" % (
                    ns, key[0], key[1], (got[key].get("spec") or {}).get("title"), w[key]["title"]))
        r = replay.get(ns, {})
        if set(r) != set(got):
            out.append("[published] namespace %s: the storefront holds %s, replaying draft-published/resource-unpublished gives %s" % (
                ns, sorted(set(got) - set(r)) or "", sorted(set(r) - set(got)) or ""))
    return out


# --- [draft] ------------------------------------------------------------------------

TITLE_MAX = 200


def check_draft(events, live_refs, draft_view, tree_fn, settings=None):
    """draft_view: {namespace: {(kind, name): item}} as the admin resource
    API lists it; tree_fn as for check_published (with "path").  The draft
    view must hold exactly the resources of the draft branches' tips: a
    version whose title is within the schema's 200 characters (the one
    invalid case the crash test writes) is the admitted one, with that
    title and path; a longer one is a failed version
    (status.admissionFailure) over the last admitted one."""
    out = []
    ns_of = {}
    for ev in events:
        ns_of[repo_uid(ev)] = (d(ev).get("repository") or {}).get("namespace")
    want = {}
    for uid, refs in (live_refs or {}).items():
        ns = ns_of.get(uid)
        if ns is None:
            continue
        want.setdefault(ns, {})
        tip = refs.get(settings_for(settings, uid).draft)
        if not tip:
            continue
        try:
            want[ns].update(tree_fn(uid, tip))
        except Exception as e:  # noqa: BLE001
            out.append("[draft] cannot read the draft tip %s of %s: %s" % (tip, uid, e))
    for ns in sorted(set(want) | set(draft_view), key=str):
        w, got = want.get(ns, {}), draft_view.get(ns, {})
        for key in sorted(set(w) | set(got), key=str):
            what = "%s/%s %s" % (ns, key[0], key[1])
            if key not in got:
                out.append("[draft] %s is on the draft branch (%s) but not in the resource API" % (
                    what, w[key].get("path")))
                continue
            if key not in w:
                out.append("[draft] %s is in the resource API but on no draft branch" % what)
                continue
            item, f = got[key], w[key]
            md, st = item.get("metadata") or {}, item.get("status") or {}
            if f.get("path") and md.get("sourcePath") != f["path"]:
                out.append("[draft] %s: sourcePath %s, the file is %s" % (what, md.get("sourcePath"), f["path"]))
            if "title" not in f:
                continue
            if len(f["title"]) <= TITLE_MAX:
                if (item.get("spec") or {}).get("title") != f["title"] or st.get("admissionFailure"):
                    out.append("[draft] %s: title %r%s, the branch has %r" % (
                        what, (item.get("spec") or {}).get("title"),
                        " and an admissionFailure" if st.get("admissionFailure") else "", f["title"]))
            elif not st.get("admissionFailure"):
                out.append("[draft] %s: the branch holds a failing version, the resource shows no admissionFailure" % what)
    return out


# --- [consumer] ----------------------------------------------------------------------

def check_consumer(events, types, deliveries, confirmed_acks=(), repo=None, complete=True):
    """types: the consumer's filter (taxonomy names; empty: all); repo:
    "ns/name" or None.  deliveries: every delivery the client received, in
    the order received: {"fetch": n, "logseq", "deliveryAttempt", "id",
    "repo"}; confirmed_acks: {logseq: index in deliveries after which the
    ack was confirmed}.  complete: the consumer saw the whole log (so every
    matching event must have been delivered)."""
    out = []
    types = set(types or ())
    match = {ev["logseq"]: ev for ev in events
             if (not types or tname(ev) in types) and (repo is None or repo_name(ev) == repo)}
    got = {}
    for i, dv in enumerate(deliveries):
        ls = dv["logseq"]
        if ls not in match:
            out.append("[consumer] delivery %d: logseq %s does not match the filter (or is not in the log)" % (i, ls))
            continue
        if dv.get("id") != match[ls]["id"]:
            out.append("[consumer] delivery %d: logseq %s carries id %s, the log has %s" % (
                i, ls, dv.get("id"), match[ls]["id"]))
        prev = got.get(ls)
        if prev is None:
            got[ls] = [dv]
        else:
            if dv["deliveryAttempt"] <= prev[-1]["deliveryAttempt"]:
                out.append("[consumer] logseq %s delivered again with deliveryAttempt %s after attempt %s" % (
                    ls, dv["deliveryAttempt"], prev[-1]["deliveryAttempt"]))
            prev.append(dv)
        ack_at = confirmed_acks.get(ls) if confirmed_acks else None
        if ack_at is not None and i > ack_at:
            out.append("[consumer] logseq %s delivered (attempt %s) after its ack was confirmed" % (
                ls, dv["deliveryAttempt"]))
    for ls, dvs in got.items():
        if dvs[0]["deliveryAttempt"] < 1:
            out.append("[consumer] logseq %s delivered with deliveryAttempt %s" % (ls, dvs[0]["deliveryAttempt"]))
    if complete:
        missing = sorted(set(match) - set(got))
        if missing:
            out.append("[consumer] %d matching events never delivered: logseq %s%s" % (
                len(missing), missing[:20], " ..." if len(missing) > 20 else ""))
    # first deliveries of a repository come in log order
    last = {}
    fetch_last = {}
    for dv in deliveries:
        ls = dv["logseq"]
        if ls not in match:
            continue
        f = dv.get("fetch")
        if f is not None:
            if fetch_last.get(f, -1) >= ls:
                out.append("[consumer] fetch %s: logseq %s after %s in one answer" % (f, ls, fetch_last[f]))
            fetch_last[f] = ls
        if dv["deliveryAttempt"] != 1:
            continue
        uid = repo_uid(match[ls])
        if last.get(uid, 0) >= ls:
            out.append("[consumer] repository %s: first delivery of logseq %s after the first delivery of %s" % (
                repo_name(match[ls]), ls, last[uid]))
        last[uid] = max(last.get(uid, 0), ls)
    return out


def check_dead_letters(events, name, types, max_deliver, deliveries, acked, tried, termed, never,
                       dead, state):
    """A consumer that never settles some events (never: their logseqs)
    and terminates others.  deliveries: as for check_consumer; acked /
    termed: logseqs whose ack / term was confirmed; tried: logseqs the
    client tried to ack or term; dead: its dead-letter list (items of GET
    .../dead-letters); state: its GET state after the drain."""
    out = []
    types = set(types or ())
    by_ls = {ev["logseq"]: ev for ev in events}
    match = {ls for ls, ev in by_ls.items() if not types or tname(ev) in types}
    for dv in deliveries:
        if dv["deliveryAttempt"] > max_deliver:
            out.append("[dead-letter] %s: logseq %s delivered with deliveryAttempt %s (maxDeliver %d)" % (
                name, dv["logseq"], dv["deliveryAttempt"], max_deliver))
    dl = {}
    for it in dead:
        ls = it.get("logseq")
        if ls in dl:
            out.append("[dead-letter] %s: logseq %s dead-lettered twice" % (name, ls))
        dl[ls] = it
        if ls not in match:
            out.append("[dead-letter] %s: logseq %s dead-lettered but not matching the filter" % (name, ls))
        if ls in acked:
            out.append("[dead-letter] %s: logseq %s dead-lettered after its ack was confirmed" % (name, ls))
        if it.get("reason") == "max-deliver" and it.get("deliveryAttempts") != max_deliver:
            out.append("[dead-letter] %s: logseq %s dead-lettered (max-deliver) after %s deliveries" % (
                name, ls, it.get("deliveryAttempts")))
    for ls in sorted(never & match):
        if ls not in dl:
            out.append("[dead-letter] %s: logseq %s was never settled but is not dead-lettered" % (name, ls))
    for ls in sorted(termed):
        if ls not in dl or dl[ls].get("reason") != "term":
            out.append("[dead-letter] %s: logseq %s was terminated but is dead-lettered as %s" % (
                name, ls, dl.get(ls, {}).get("reason")))
    for ls in sorted(match - set(dl) - set(tried)):
        out.append("[dead-letter] %s: logseq %s never delivered, settled or dead-lettered" % (name, ls))
    announced = {}
    for ev in events:
        if tname(ev) != "event-dead-lettered" or d(ev).get("consumer") != name:
            continue
        ls = d(ev).get("logseq")
        if ls in announced:
            out.append("[dead-letter] %s: logseq %s announced twice (%s, %s)" % (name, ls, announced[ls], brief(ev)))
        announced[ls] = brief(ev)
        target = by_ls.get(ls)
        if ls not in dl:
            out.append("[dead-letter] %s: %s announces logseq %s, which is not a dead letter" % (name, brief(ev), ls))
        elif target is None or d(ev).get("eventId") != target["id"] or ev.get("causationid") != target["id"] \
                or d(ev).get("reason") != dl[ls].get("reason") \
                or d(ev).get("deliveryAttempts") != dl[ls].get("deliveryAttempts"):
            out.append("[dead-letter] %s: %s does not describe dead letter %s" % (name, brief(ev), json.dumps(dl[ls])))
    for ls in sorted(set(dl) - set(announced)):
        out.append("[dead-letter] %s: logseq %s dead-lettered without an event-dead-lettered" % (name, ls))
    if state.get("pending") != 0 or state.get("deadLettered") != len(dl):
        out.append("[dead-letter] %s: state pending %s, deadLettered %s, %d dead letters listed" % (
            name, state.get("pending"), state.get("deadLettered"), len(dl)))
    return out


# --- reading a live daemon -----------------------------------------------------------

class Api:
    def __init__(self, server, token, timeout=30):
        self.server = server.rstrip("/")
        self.token = token
        self.timeout = timeout

    def call(self, method, path, body=None, headers=None, auth=True):
        h = dict(headers or {})
        if auth and self.token:
            h["Authorization"] = "Bearer " + self.token
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.server + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw.decode(errors="replace")

    def get(self, path, auth=True):
        st, body = self.call("GET", path, auth=auth)
        if st != 200:
            raise RuntimeError("GET %s: HTTP %s %s" % (path, st, body))
        return body

    def events(self):
        out, after = [], 0
        while True:
            page = self.get("/api/v1/events?after=%d&limit=1000" % after)
            out += page
            if len(page) < 1000:
                return out
            after = page[-1]["logseq"]


class GitRepos:
    """Reads the daemon's bare repositories (DATA/repos/<uid>.git)."""

    def __init__(self, data):
        self.data = data
        self._res = {}

    def path(self, uid):
        return os.path.join(self.data, "repos", uid + ".git")

    def git(self, uid, *args, inp=None):
        p = subprocess.run(["git", "--git-dir", self.path(uid)] + list(args), input=inp,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise RuntimeError("git %s: %s" % (" ".join(args), p.stderr.decode(errors="replace").strip()))
        return p.stdout

    def live_refs(self, uid):
        refs = {}
        raw = self.git(uid, "for-each-ref", "--format=%(objectname) %(refname)", "refs/heads", "refs/tags")
        for line in raw.decode().splitlines():
            sha, ref = line.split(" ", 1)
            refs[ref] = sha
        return refs

    def _blobs(self, uid, shas):
        """{blob: first bytes} for the given blobs (cat-file --batch)."""
        need = [s for s in shas if (uid, s) not in self._res]
        if need:
            raw = self.git(uid, "cat-file", "--batch", inp=("\n".join(need) + "\n").encode())
            pos = 0
            for s in need:
                nl = raw.index(b"\n", pos)
                hdr = raw[pos:nl].split()
                size = int(hdr[2])
                self._res[(uid, s)] = raw[nl + 1:nl + 1 + size]
                pos = nl + 1 + size + 1
        return {s: self._res[(uid, s)] for s in shas}

    def diff(self, uid, old, new):
        a = EMPTY_TREE if old == ZERO else old
        b = EMPTY_TREE if new == ZERO else new
        raw = self.git(uid, "diff-tree", "-r", "--no-renames", "--raw", "-z", a, b).split(b"\0")
        changes = []
        i = 0
        while i + 1 < len(raw):
            meta, path = raw[i].decode(), raw[i + 1].decode()
            i += 2
            m = meta.lstrip(":").split()
            if len(m) < 5:
                continue
            changes.append((path, m[0], m[1], m[2], m[3]))
        blobs = [s for c in changes for mode, s in ((c[1], c[3]), (c[2], c[4]))
                 if s != ZERO and mode.startswith("100")]
        content = self._blobs(uid, blobs)
        out = {}
        for path, mo, mn, so, sn in changes:
            was = so != ZERO and mo.startswith("100") and content[so][:3] == b"---"
            now = sn != ZERO and mn.startswith("100") and content[sn][:3] == b"---"
            out[path] = (was, now)
        return out

    def tree(self, uid, commit):
        raw = self.git(uid, "ls-tree", "-r", "-z", commit).split(b"\0")
        files = [(l.split(b"\t", 1)[1].decode(), l.split()[2].decode()) for l in raw if l and l.split()[0].startswith(b"100")]
        content = self._blobs(uid, [s for _, s in files])
        out = {}
        for path, sha in files:
            doc = parse_front_matter(content[sha])
            if doc is not None:
                doc["path"] = path
                out[(doc.get("kind"), doc.get("name"))] = doc
        return out


def parse_front_matter(raw):
    """kind, metadata.name and spec.title of a resource document written
    in the block style the crash test writes (None: not a resource)."""
    if raw[:3] != b"---":
        return None
    doc, section = {}, None
    for line in raw.decode(errors="replace").splitlines()[1:]:
        if line.rstrip("\r") == "---":
            break
        if not line.startswith(" "):
            section = line.split(":", 1)[0]
            if section == "kind":
                doc["kind"] = line.split(":", 1)[1].strip()
        elif section == "metadata" and line.startswith("  name:"):
            doc["name"] = line.split(":", 1)[1].strip()
        elif section == "spec" and line.startswith("  title:"):
            doc["title"] = line.split(":", 1)[1].strip()
    return doc


def storefront_state(api, namespaces, prefix="/storefront/v1"):
    """{namespace: {(kind, name): item}} of the storefront (or, with
    prefix /api/v1, of the admin resource API: the draft view)."""
    out = {}
    for ns in namespaces:
        items = {}
        for kind, plural in PLURALS.items():
            cont = None
            while True:
                q = "?limit=500" + ("&continue=" + cont if cont else "")
                page = api.get("%s/namespaces/%s/%s%s" % (prefix, ns, plural, q), auth=prefix != "/storefront/v1")
                for it in page.get("items", []):
                    items[(it.get("kind", kind), it["metadata"]["name"])] = it
                cont = (page.get("metadata") or {}).get("continue")
                if not cont:
                    break
        out[ns] = items
    return out


def repo_settings(api, events):
    out = {}
    for ev in events:
        uid = repo_uid(ev)
        if uid in out:
            continue
        try:
            s = api.get("/api/v1/repos/%s/settings" % repo_name(ev))
            out[uid] = RepoSettings(s.get("draftBranch") or DEFAULT_DRAFT,
                                    s.get("releaseRefs") or DEFAULT_RELEASE_REFS,
                                    s.get("publishBranch") or "")
        except RuntimeError:
            out[uid] = RepoSettings()
    return out


def drain_consumer(api, name, deliveries, acks, timeout=120, nap=0.5):
    """Fetch and acknowledge consumer `name` until it has nothing pending;
    appends to deliveries / acks (see check_consumer).  Returns its state."""
    t0 = time.time()
    fetch_no = max([dv.get("fetch", 0) for dv in deliveries] + [0]) + 1
    while True:
        st, batch = api.call("POST", "/api/v1/consumers/%s/fetch?max=200&wait=1" % name, b"")
        if st != 200:
            raise RuntimeError("fetch %s: HTTP %s %s" % (name, st, batch))
        for it in batch:
            deliveries.append({"fetch": fetch_no, "logseq": it["logseq"],
                               "deliveryAttempt": it["deliveryAttempt"], "id": it["event"]["id"]})
        fetch_no += 1
        if batch:
            st, res = api.call("POST", "/api/v1/consumers/%s/ack" % name,
                               {"logseq": [it["logseq"] for it in batch]})
            if st != 200:
                raise RuntimeError("ack %s: HTTP %s %s" % (name, st, res))
            for ls in res.get("settled", []):
                acks[ls] = len(deliveries) - 1
            continue
        state = api.get("/api/v1/consumers/%s" % name)
        if state.get("pending") == 0:
            return state
        if time.time() - t0 > timeout:
            raise RuntimeError("consumer %s still has %s pending after %d s" % (name, state.get("pending"), timeout))
        time.sleep(nap)


def collect(api, repos):
    """Everything the checks need from a live daemon."""
    events = api.events()
    uids = {}
    for ev in events:
        uids[repo_uid(ev)] = repo_name(ev)
    live = {}
    for uid in uids:
        if os.path.isdir(repos.path(uid)):
            live[uid] = repos.live_refs(uid)
    namespaces = sorted({n.split("/")[0] for n in uids.values()})
    return {"events": events, "live": live, "settings": repo_settings(api, events),
            "storefront": storefront_state(api, namespaces),
            "draft": storefront_state(api, namespaces, "/api/v1")}


def check_all(state, repos, pushes=(), writes=(), consumer=None):
    """Runs every check; consumer: {"types", "repo", "deliveries", "acks",
    "complete"} or None."""
    ev = state["events"]
    out = []
    floor = ev[0]["logseq"] if ev and ev[0]["logseq"] > 1 else 1
    out += check_envelope(ev, floor)
    out += check_ref_chains(ev, state["live"])
    out += check_pushes(ev)
    out += check_catalog(ev, repos.diff, state["settings"])
    out += check_acknowledged(ev, pushes, writes)
    out += check_published(ev, state["live"], state["storefront"], repos.tree, state["settings"])
    out += check_draft(ev, state["live"], state["draft"], repos.tree, state["settings"])
    if consumer is not None:
        out += check_consumer(ev, consumer["types"], consumer["deliveries"], consumer.get("acks"),
                              consumer.get("repo"), consumer.get("complete", True))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--bin", default="gitstore")
    ap.add_argument("--token")
    ap.add_argument("--drain-consumer")
    a = ap.parse_args(argv)
    token = a.token
    if not token:
        p = subprocess.run([a.bin, "token", "create", "--user", "invariants", "--role", "admin:*",
                            "--data", a.data], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            print("invariants: cannot create a token: %s" % p.stderr.decode().strip(), file=sys.stderr)
            return 2
        token = p.stdout.decode().strip()
    api = Api(a.server, token)
    repos = GitRepos(a.data)
    try:
        consumer = None
        if a.drain_consumer:
            cstate = api.get("/api/v1/consumers/%s" % a.drain_consumer)
            deliveries, acks = [], {}
            drain_consumer(api, a.drain_consumer, deliveries, acks)
            consumer = {"types": (cstate.get("filter") or {}).get("types") or [],
                        "repo": (cstate.get("filter") or {}).get("repo"),
                        "deliveries": deliveries, "acks": acks, "complete": False}
        state = collect(api, repos)
    except (OSError, RuntimeError, ValueError) as e:
        print("invariants: %s" % e, file=sys.stderr)
        return 2
    bad = check_all(state, repos, consumer=consumer)
    for v in bad:
        print(v)
    print("invariants: %d events, %d violation(s)" % (len(state["events"]), len(bad)), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
