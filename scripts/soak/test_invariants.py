#!/usr/bin/python3
"""test_invariants.py -- the crash test's checker must be able to fail.

Feeds invariants.py a small, consistent, hand-made history (a push that
creates main with a product, a release tag, its release-created and
draft-published, a push that removes the product; a durable consumer's
deliveries), checks that it passes, then breaks it one way at a time and
checks that each break is reported under the right invariant.  Run by
tests/integration/t8000-crash-random.sh; stdlib only:

  /usr/bin/python3 scripts/soak/test_invariants.py [-v]
"""
import copy
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import invariants as inv  # noqa: E402

Z = inv.ZERO
A = "a" * 40
B = "b" * 40
C = "c" * 40
UID = "11111111-2222-4333-8444-555555555555"
REPO = {"uid": UID, "namespace": "shop", "name": "catalog"}
ACTOR = {"name": "wes", "via": "git"}


def ev(n, name, subject, data, cause=None, corr="p1", eid=None):
    e = {"specversion": "1.0", "id": eid or ("%032x" % (0xe000 + n)),
         "source": "/gitstore/repositories/" + UID, "type": "dev.gitstore.%s.v1" % name,
         "subject": subject, "time": "2026-11-27T00:00:00.000Z", "datacontenttype": "application/json",
         "sequence": "%020d" % n, "logseq": n, "correlationid": corr,
         "data": dict(data, repository=REPO)}
    if cause:
        e["causationid"] = cause
    return e


def eid(n):
    return "%032x" % (0xe000 + n)


def ref_ev(n, name, ref, old, new, push):
    return ev(n, name, ref, {"ref": ref, "oldSha": old, "newSha": new, "pushId": push,
                             "actor": ACTOR, "origin": "push"}, corr=push)


def completed(n, push, refs):
    return ev(n, "push-completed", "shop/catalog",
              {"refs": [{"ref": r, "oldSha": o, "newSha": w, "event": t} for r, o, w, t in refs],
               "atomic": False, "pushId": push, "actor": ACTOR}, corr=push)


def cat(n, name, subject, cause, push, path=None, commit=A, **extra):
    data = {"commitSha": commit, "pushId": push, "actor": ACTOR}
    if path:
        data["path"] = path
        data["operation"] = extra.pop("operation", "create")
        data["resource"] = {"kind": "Product", "namespace": "shop", "name": "a"}
    data.update(extra)
    return ev(n, name, subject, data, cause=cause, corr=push)


def history():
    return [
        ref_ev(1, "branch-created", "refs/heads/main", Z, A, "p1"),
        completed(2, "p1", [("refs/heads/main", Z, A, "branch-created")]),
        cat(3, "catalog-namespace-target", "shop", eid(1), "p1", namespace="shop"),
        cat(4, "catalog-resource-parsed", "Product/shop/a", eid(1), "p1", "products/a.md"),
        cat(5, "catalog-admission-evaluated", "Product/shop/a", eid(1), "p1", "products/a.md", allowed=True),
        ref_ev(6, "tag-created", "refs/tags/v1", Z, A, "p2"),
        completed(7, "p2", [("refs/tags/v1", Z, A, "tag-created")]),
        ev(8, "release-created", "refs/tags/v1", {"release": {"ref": "refs/tags/v1", "commitSha": A},
                                                  "resources": 1, "pushId": "p2", "actor": ACTOR},
           cause=eid(6), corr="p2"),
        ev(9, "draft-published", "Product/shop/a",
           {"resource": {"kind": "Product", "namespace": "shop", "name": "a"}, "generation": 1,
            "release": {"ref": "refs/tags/v1", "commitSha": A}}, cause=eid(8), corr="p2"),
        ref_ev(10, "branch-updated", "refs/heads/main", A, B, "p3"),
        completed(11, "p3", [("refs/heads/main", A, B, "branch-updated")]),
        cat(12, "catalog-namespace-target", "shop", eid(10), "p3", commit=B, namespace="shop"),
        cat(13, "catalog-resource-deleted", "Product/shop/a", eid(10), "p3", "products/a.md",
            commit=B, operation="delete"),
    ]


DIFFS = {(Z, A): {"products/a.md": (False, True), "README.md": (False, False)},
         (A, B): {"products/a.md": (True, False)}}
LIVE = {UID: {"refs/heads/main": B, "refs/tags/v1": A}}
TREES = {A: {("Product", "a"): {"kind": "Product", "name": "a", "title": "A", "path": "products/a.md"}},
         B: {}}
STOREFRONT = {"shop": {("Product", "a"): {"spec": {"title": "A"},
                                          "release": {"ref": "refs/tags/v1", "commitSha": A}}}}
PUSHES = [{"repo": "shop/catalog", "refs": {"refs/heads/main": (A, B)}}]
WRITES = []
CTYPES = ["branch-created", "branch-updated", "push-completed"]


def deliveries():
    # fetch 1 got 1 and 2 (acked), fetch 2 got 10 and was dropped, fetch 3
    # got 10 again (attempt 2) and 11
    return [{"fetch": 1, "logseq": 1, "deliveryAttempt": 1, "id": eid(1)},
            {"fetch": 1, "logseq": 2, "deliveryAttempt": 1, "id": eid(2)},
            {"fetch": 2, "logseq": 7, "deliveryAttempt": 1, "id": eid(7)},
            {"fetch": 3, "logseq": 10, "deliveryAttempt": 1, "id": eid(10)},
            {"fetch": 4, "logseq": 10, "deliveryAttempt": 2, "id": eid(10)},
            {"fetch": 4, "logseq": 11, "deliveryAttempt": 1, "id": eid(11)}]


ACKS = {1: 1, 2: 1, 7: 2, 10: 5, 11: 5}


def renumber(events):
    """logseq and sequence 1..n again after a removal or a move."""
    for i, e in enumerate(events, 1):
        e["logseq"] = i
        e["sequence"] = "%020d" % i
    return events


def draft_item(title, failure=False):
    return {"kind": "Product", "metadata": {"name": "a", "sourcePath": "products/a.md"},
            "spec": {"title": title}, "status": {"admissionFailure": {"reason": "x"}} if failure else {}}


def run_all(events=None, live=None, storefront=None, pushes=None, writes=None,
            dlv=None, acks=None, diffs=None, draft=None, trees=None):
    events = history() if events is None else events

    def diff(uid, old, new):
        return (diffs or DIFFS)[(old, new)]

    out = []
    out += inv.check_envelope(events)
    out += inv.check_ref_chains(events, LIVE if live is None else live)
    out += inv.check_pushes(events)
    out += inv.check_catalog(events, diff)
    out += inv.check_acknowledged(events, PUSHES if pushes is None else pushes,
                                  WRITES if writes is None else writes)
    out += inv.check_published(events, LIVE if live is None else live,
                               STOREFRONT if storefront is None else storefront,
                               lambda uid, c: (trees or TREES)[c])
    out += inv.check_draft(events, LIVE if live is None else live, draft or {"shop": {}},
                           lambda uid, c: (trees or TREES)[c])
    out += inv.check_consumer(events, CTYPES, deliveries() if dlv is None else dlv,
                              ACKS if acks is None else acks)
    return out


class Checker(unittest.TestCase):
    def fails(self, tag, text, **kw):
        out = run_all(**kw)
        hits = [v for v in out if v.startswith("[%s]" % tag) and text in v]
        self.assertTrue(hits, "no [%s] violation containing %r; got %s" % (tag, text, out))

    def test_consistent_history_passes(self):
        self.assertEqual(run_all(), [])

    # [ids] [logseq] [sequence]
    def test_duplicate_id(self):
        h = history()
        h[4]["id"] = h[3]["id"]
        self.fails("ids", "repeats logseq 4", events=h)

    def test_logseq_gap(self):
        h = history()
        del h[6]
        self.fails("logseq", "expected logseq 7, got 8", events=h)

    def test_logseq_out_of_order(self):
        h = history()
        h[1]["logseq"], h[2]["logseq"] = 3, 2
        self.fails("logseq", "expected logseq 2, got 3", events=h)

    def test_sequence_gap(self):
        h = history()
        h[10]["sequence"] = "%020d" % 12
        self.fails("sequence", "expected sequence 11, got 12", events=h)

    # [ref-chain]
    def test_broken_chain(self):
        h = history()
        h[9]["data"]["oldSha"] = C
        h[10]["data"]["refs"][0]["oldSha"] = C
        self.fails("ref-chain", "oldSha %s, but the previous event left refs/heads/main at %s" % (C, A), events=h)

    def test_last_event_is_not_the_live_ref(self):
        self.fails("ref-chain", "refs/heads/main is %s on disk" % C,
                   live={UID: {"refs/heads/main": C, "refs/tags/v1": A}})

    def test_live_ref_without_events(self):
        self.fails("ref-chain", "refs/heads/side is %s on disk, the log says %s" % (A, Z),
                   live={UID: dict(LIVE[UID], **{"refs/heads/side": A})})

    def test_deleted_ref_still_on_disk_or_gone_early(self):
        self.fails("ref-chain", "refs/tags/v1 does not exist on disk",
                   live={UID: {"refs/heads/main": B}}, storefront={"shop": {}})

    def test_created_type_from_nonzero(self):
        h = history()
        h[9]["type"] = "dev.gitstore.branch-created.v1"
        h[10]["data"]["refs"][0]["event"] = "branch-created"
        self.fails("ref-chain", "branch-created from %s" % A, events=h)

    # [push]
    def test_push_without_push_completed(self):
        h = renumber([e for e in history() if e["logseq"] != 11])
        self.fails("push", "push p3", events=h)

    def test_push_completed_lists_other_refs(self):
        h = history()
        h[1]["data"]["refs"][0]["newSha"] = C
        self.fails("push", "refs", events=h)

    def test_push_completed_before_its_ref_event(self):
        h = history()
        h[0], h[1] = h[1], h[0]
        renumber(h)
        self.fails("push", "comes after its push-completed", events=h)

    # [catalog]
    def test_missing_admission_event(self):
        h = renumber([e for e in history() if e["logseq"] != 5])
        self.fails("catalog", "1 catalog-resource-parsed but 0 catalog-admission-evaluated", events=h)

    def test_missing_catalog_events_altogether(self):
        h = renumber([e for e in history() if e["logseq"] not in (3, 4, 5)])
        self.fails("catalog", "has no catalog events", events=h)

    def test_duplicate_catalog_event(self):
        h = history()
        dup = copy.deepcopy(h[3])
        dup["id"] = "%032x" % 0xdead
        h.insert(4, dup)
        renumber(h)
        self.fails("catalog", "repeats", events=h)

    def test_catalog_events_not_contiguous(self):
        h = history()
        h.insert(6, h.pop(4))  # the admission event after the tag's push
        renumber(h)
        self.fails("catalog", "not contiguous", events=h)

    def test_catalog_before_push_completed(self):
        h = history()
        h.insert(1, h.pop(2))
        renumber(h)
        self.fails("catalog", "before push-completed", events=h)

    def test_missing_delete(self):
        h = renumber([e for e in history() if e["logseq"] != 13])
        self.fails("catalog", "went away: 0 catalog-resource-deleted", events=h)

    def test_catalog_event_for_an_untouched_file(self):
        diffs = dict(DIFFS)
        diffs[(Z, A)] = {"products/b.md": (False, True)}
        self.fails("catalog", "which this change does not touch", diffs=diffs)

    def test_catalog_event_of_a_non_draft_ref(self):
        h = history()
        h[11]["causationid"] = eid(6)
        self.fails("catalog", "not a draft-branch ref event", events=h)

    # [release]
    def test_release_without_verdict(self):
        h = renumber([e for e in history() if e["logseq"] not in (8, 9)])
        self.fails("release", "0 release-created/-rejected", events=h, storefront={"shop": {}})

    def test_release_twice(self):
        h = history()
        dup = copy.deepcopy(h[7])
        dup["id"] = "%032x" % 0xbeef
        h.insert(8, dup)
        renumber(h)
        self.fails("release", "2 release-created/-rejected", events=h)

    def test_release_before_push_completed(self):
        h = history()
        h.insert(6, h.pop(7))  # release-created between the tag and its push-completed
        renumber(h)
        self.fails("release", "before the push-completed", events=h)

    def test_lifecycle_event_before_its_cause(self):
        h = history()
        h.insert(7, h.pop(8))
        renumber(h)
        self.fails("release", "comes before its cause", events=h)

    def test_lifecycle_event_twice(self):
        h = history()
        dup = copy.deepcopy(h[8])
        dup["id"] = "%032x" % 0xbeef
        h.insert(9, dup)
        renumber(h)
        self.fails("release", "same type, cause and subject", events=h)

    # [acked]
    def test_acknowledged_push_missing(self):
        self.fails("acked", "succeeded but no ref event has it",
                   pushes=PUSHES + [{"repo": "shop/catalog", "refs": {"refs/heads/main": (B, C)}}])

    def test_acknowledged_api_write_missing(self):
        self.fails("acked", "want one ref event",
                   writes=[{"repo": "shop/catalog", "method": "PUT", "status": 201,
                            "body": {"pushId": "p9", "commit": C, "path": "products/a.md"}}])

    def test_api_write_admission_not_in_log(self):
        h = history()
        for e in h[9:11]:
            e["data"]["pushId"] = "p3"
        self.fails("acked", "is not a catalog-admission-evaluated",
                   writes=[{"repo": "shop/catalog", "method": "PUT", "status": 200,
                            "body": {"pushId": "p3", "commit": B, "path": "products/a.md",
                                     "admission": {"uid": "%032x" % 0x404, "allowed": True}}}])

    # [published]
    def test_storefront_missing_a_resource(self):
        self.fails("published", "not on the storefront", storefront={"shop": {}})

    def test_storefront_shows_another_release(self):
        sf = copy.deepcopy(STOREFRONT)
        sf["shop"][("Product", "a")]["release"]["ref"] = "refs/tags/v0"
        self.fails("published", "shows release refs/tags/v0", storefront=sf)

    def test_storefront_stale_title(self):
        sf = copy.deepcopy(STOREFRONT)
        sf["shop"][("Product", "a")]["spec"]["title"] = "Old"
        self.fails("published", "shows title 'Old'", storefront=sf)

    def test_withdrawn_release_still_shown(self):
        h = history()
        h.append(ref_ev(14, "tag-deleted", "refs/tags/v1", A, Z, "p4"))
        h.append(completed(15, "p4", [("refs/tags/v1", A, Z, "tag-deleted")]))
        self.fails("published", "not in the current release", events=h,
                   live={UID: {"refs/heads/main": B}})

    # [draft]
    def test_draft_view_keeps_a_deleted_resource(self):
        self.fails("draft", "Product a is in the resource API but on no draft branch",
                   draft={"shop": {("Product", "a"): draft_item("A")}})

    def test_draft_view_misses_a_resource(self):
        self.fails("draft", "is on the draft branch (products/a.md) but not in the resource API",
                   live={UID: {"refs/heads/main": A, "refs/tags/v1": A}})

    def test_draft_view_stale_title(self):
        self.fails("draft", "title 'Old'", live={UID: {"refs/heads/main": A, "refs/tags/v1": A}},
                   draft={"shop": {("Product", "a"): draft_item("Old")}})

    def test_draft_view_failing_version_without_failure(self):
        trees = {A: {("Product", "a"): {"title": "T" * 201, "path": "products/a.md"}}, B: {}}
        self.fails("draft", "shows no admissionFailure", live={UID: {"refs/heads/main": A, "refs/tags/v1": A}},
                   draft={"shop": {("Product", "a"): draft_item("A")}}, trees=trees)

    def test_draft_view_consistent_at_a(self):
        out = run_all(live={UID: {"refs/heads/main": A, "refs/tags/v1": A}},
                      draft={"shop": {("Product", "a"): draft_item("A")}})
        self.assertEqual([v for v in out if v.startswith("[draft]")], [])

    # [consumer]
    def test_consumer_missing_event(self):
        dlv = [x for x in deliveries() if x["logseq"] != 11]
        self.fails("consumer", "never delivered: logseq [11]", dlv=dlv)

    def test_consumer_extra_event(self):
        dlv = deliveries() + [{"fetch": 5, "logseq": 3, "deliveryAttempt": 1, "id": eid(3)}]
        self.fails("consumer", "does not match the filter", dlv=dlv)

    def test_consumer_redelivery_without_attempt(self):
        dlv = deliveries()
        dlv[4]["deliveryAttempt"] = 1
        self.fails("consumer", "delivered again with deliveryAttempt 1", dlv=dlv)

    def test_consumer_redelivery_after_ack(self):
        dlv = deliveries() + [{"fetch": 5, "logseq": 2, "deliveryAttempt": 2, "id": eid(2)}]
        self.fails("consumer", "after its ack was confirmed", dlv=dlv)

    def test_consumer_out_of_order(self):
        dlv = deliveries()
        dlv[0], dlv[1] = dlv[1], dlv[0]
        dlv[0]["fetch"], dlv[1]["fetch"] = 0, 1
        self.fails("consumer", "first delivery of logseq 1 after the first delivery of 2", dlv=dlv)


def dlq_history():
    """history() plus an event-dead-lettered for push-completed 7."""
    h = history()
    h.append(ev(14, "event-dead-lettered", "dlq",
                {"consumer": "dlq", "logseq": 7, "eventId": eid(7), "eventType": "dev.gitstore.push-completed.v1",
                 "deliveryAttempts": 2, "reason": "max-deliver"}, cause=eid(7), corr="p2"))
    return h


def dlq_run(events=None, deliveries=None, acked=None, never=None, termed=None, dead=None, state=None):
    # push-completed 2 acked, 7 never settled (dead after 2 deliveries), 11 acked
    dv = deliveries if deliveries is not None else [
        {"fetch": 1, "logseq": 2, "deliveryAttempt": 1, "id": eid(2)},
        {"fetch": 2, "logseq": 7, "deliveryAttempt": 1, "id": eid(7)},
        {"fetch": 3, "logseq": 7, "deliveryAttempt": 2, "id": eid(7)},
        {"fetch": 3, "logseq": 11, "deliveryAttempt": 1, "id": eid(11)}]
    return inv.check_dead_letters(
        dlq_history() if events is None else events, "dlq", ["push-completed"], 2, dv,
        {2, 11} if acked is None else acked, {2, 11}, termed or set(), {7} if never is None else never,
        [{"logseq": 7, "deliveryAttempts": 2, "reason": "max-deliver"}] if dead is None else dead,
        state or {"pending": 0, "deadLettered": 1 if dead is None else len(dead)})


class DeadLetters(unittest.TestCase):
    def fails(self, text, **kw):
        out = dlq_run(**kw)
        self.assertTrue([v for v in out if v.startswith("[dead-letter]") and text in v],
                        "no [dead-letter] violation containing %r; got %s" % (text, out))

    def test_consistent(self):
        self.assertEqual(dlq_run(), [])
        self.assertEqual(inv.check_envelope(dlq_history()), [])

    def test_dead_letter_not_announced(self):
        self.fails("without an event-dead-lettered", events=history())

    def test_announced_twice(self):
        h = dlq_history()
        dup = copy.deepcopy(h[-1])
        dup["id"], dup["logseq"], dup["sequence"] = "%032x" % 0xd1, 15, "%020d" % 15
        h.append(dup)
        self.fails("announced twice", events=h)

    def test_never_settled_not_dead(self):
        self.fails("never settled but is not dead-lettered", dead=[], events=history())

    def test_acked_then_dead(self):
        self.fails("after its ack was confirmed", acked={2, 7, 11})

    def test_too_many_deliveries(self):
        dv = [{"fetch": 4, "logseq": 7, "deliveryAttempt": 3, "id": eid(7)}]
        self.fails("deliveryAttempt 3 (maxDeliver 2)", deliveries=dv)

    def test_terminated_not_dead(self):
        self.fails("was terminated", termed={11})

    def test_state_disagrees(self):
        self.fails("state pending 1", state={"pending": 1, "deadLettered": 1})


if __name__ == "__main__":
    unittest.main()
