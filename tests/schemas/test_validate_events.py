#!/usr/bin/python3
"""Self-test of validate_events.py: the check must accept real events and
reject what breaks the contract, or `make check` would prove nothing.

usage: test_validate_events.py [--schemas DIR] [--cloudevents FILE]

sample-events.jsonl holds one valid event per type: real events from the
integration suite, plus event-dead-lettered written from its specification
(so every schema accepts at least one realistic event).  Each case below
alters one of them and must be rejected with a message naming the problem.
"""

import argparse
import contextlib
import copy
import io
import json
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import validate_events  # noqa: E402

SCHEMAS = os.path.join(ROOT, "docs", "schemas")
CLOUDEVENTS = os.path.normpath(os.path.join(ROOT, "..", "shared", "conformance", "cloudevents-1.0.schema.json"))
SAMPLES = os.path.join(HERE, "sample-events.jsonl")


def load_samples():
    with open(SAMPLES, encoding="utf-8") as f:
        events = [json.loads(line) for line in f]
    return {e["type"][len("dev.gitstore."):-len(".v1")]: e for e in events}


class ValidateEventsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.contract = validate_events.Contract(SCHEMAS)
        cls.api_problems, cls.payloads = validate_events.check_asyncapi(
            os.path.join(os.path.dirname(SCHEMAS), "asyncapi.yaml"), cls.contract)
        with open(CLOUDEVENTS, encoding="utf-8") as f:
            cls.ce = validate_events.check_cloudevents.make_validator(json.load(f))
        cls.samples = load_samples()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="validate-events-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def write(self, events, name="events.jsonl"):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            for e in events:
                f.write((e if isinstance(e, str) else json.dumps(e, separators=(",", ":"))) + "\n")
        return path

    def problems(self, events, contract=None):
        _, problems = validate_events.validate([self.write(events)], contract or self.contract, self.ce,
                                               self.payloads)
        return [msg for _, _, _, msg in problems]

    def sample(self, name):
        return copy.deepcopy(self.samples[name])

    def assertRejected(self, event, *needles):
        found = self.problems([event])
        self.assertTrue(found, "accepted: %s" % json.dumps(event)[:300])
        text = "\n".join(found)
        for needle in needles:
            self.assertIn(needle, text)

    # --- what must pass -----------------------------------------------------

    def test_contract_is_consistent(self):
        self.assertEqual(self.contract.problems, [])
        self.assertEqual(self.api_problems, [])
        self.assertEqual(sorted(self.contract.taxonomy), self.contract.event_names())

    def test_samples_cover_the_taxonomy_and_pass(self):
        self.assertEqual(sorted(self.samples), sorted(self.contract.taxonomy))
        self.assertEqual(self.problems(list(self.samples.values())), [])

    # --- data schemas ---------------------------------------------------------

    def test_wrong_type_of_a_field(self):
        e = self.sample("branch-updated")
        e["data"]["commits"] = "2"
        self.assertRejected(e, "data/commits", "is not of type 'integer'")

    def test_extra_field(self):
        e = self.sample("push-completed")
        e["data"]["undocumented"] = True
        self.assertRejected(e, "Additional properties are not allowed ('undocumented' was unexpected)")

    def test_extra_field_in_a_shared_definition(self):
        e = self.sample("tag-created")
        e["data"]["repository"]["owner"] = "x"
        self.assertRejected(e, "data/repository", "'owner' was unexpected")

    def test_missing_required_field(self):
        e = self.sample("catalog-resource-parsed")
        del e["data"]["blobSha"]
        self.assertRejected(e, "'blobSha' is a required property")

    def test_bad_sha(self):
        e = self.sample("branch-created")
        e["data"]["newSha"] = e["data"]["newSha"].upper()
        self.assertRejected(e, "data/newSha")

    def test_value_outside_an_enum(self):
        e = self.sample("push-rejected")
        e["data"]["stage"] = "post-receive"
        self.assertRejected(e, "data/stage")

    def test_conditional_rules(self):
        # a denial carries its reason and records; an admission does not
        e = self.sample("catalog-admission-evaluated")
        self.assertTrue(e["data"]["allowed"], "the sample is an admission")
        e["data"]["allowed"] = False
        self.assertRejected(e, "'reason' is a required property", "'errors' is a required property")
        e = self.sample("catalog-admission-evaluated")
        e["data"]["errors"] = []
        self.assertRejected(e, "data/errors: False schema does not allow")
        e = self.sample("branch-updated")
        del e["data"]["pushId"]
        self.assertRejected(e, "'pushId' is a required property")

    def test_dead_lettered_reason(self):
        e = self.sample("event-dead-lettered")
        e["data"]["reason"] = "timeout"
        self.assertRejected(e, "data/reason")

    # --- types and envelope -----------------------------------------------------

    def test_unknown_type(self):
        e = self.sample("branch-updated")
        e["type"] = "dev.gitstore.branch-renamed.v1"
        self.assertRejected(e, "no schema file branch-renamed.json")

    def test_type_outside_the_namespace(self):
        e = self.sample("branch-updated")
        e["type"] = "com.example.branch-updated.v1"
        self.assertRejected(e, "is not dev.gitstore.<name>.v1")

    def test_envelope(self):
        e = self.sample("tag-deleted")
        e["sequence"] = "42"
        self.assertRejected(e, "envelope/sequence")
        e = self.sample("tag-deleted")
        e["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        self.assertRejected(e, "envelope", "'traceparent' was unexpected")

    def test_cloudevents_rules(self):
        e = self.sample("release-created")
        del e["source"]
        self.assertRejected(e, "cloudevents:", "'source' is a required property")
        line = json.dumps(self.sample("release-created"), separators=(",", ":"))
        self.assertTrue(self.problems([line[:-1] + ',"id":"x"}']), "duplicate member accepted")
        self.assertTrue(self.problems(["{not json"]))

    def test_type_without_schema_file(self):
        schemas = os.path.join(self.tmp, "schemas")
        shutil.copytree(SCHEMAS, schemas)
        os.remove(os.path.join(schemas, "release-withdrawn.json"))
        contract = validate_events.Contract(schemas)
        self.assertIn("taxonomy name release-withdrawn has no schema file release-withdrawn.json",
                      contract.problems)
        found = self.problems([self.sample("release-withdrawn")], contract)
        self.assertIn("no schema file release-withdrawn.json for this type", found)

    def test_dangling_ref_in_a_schema(self):
        schemas = os.path.join(self.tmp, "schemas")
        shutil.copytree(SCHEMAS, schemas)
        path = os.path.join(schemas, "tag-updated.json")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace("common.json#/$defs/tagRef", "common.json#/$defs/tagName"))
        problems = validate_events.Contract(schemas).problems
        self.assertTrue(any("tagName" in p for p in problems), problems)

    # --- AsyncAPI -----------------------------------------------------------------

    def asyncapi_problems(self, edit):
        docs = tempfile.mkdtemp(dir=self.tmp)
        shutil.copytree(os.path.dirname(SCHEMAS), docs, dirs_exist_ok=True)
        path = os.path.join(docs, "asyncapi.yaml")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        new = edit(text)
        self.assertNotEqual(new, text, "the edit changed nothing")
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)
        return validate_events.check_asyncapi(path, self.contract)[0]

    def test_asyncapi_dangling_ref(self):
        problems = self.asyncapi_problems(lambda t: t.replace('"schemas/tag-deleted.json"', '"schemas/tag-removed.json"'))
        self.assertTrue(any("tag-removed.json" in p for p in problems), problems)
        self.assertTrue(any("schemas/tag-deleted.json as its data" in p for p in problems), problems)
        problems = self.asyncapi_problems(lambda t: t.replace("#/components/messages/pushCompleted", "#/components/messages/pushDone", 1))
        self.assertTrue(any("pushDone does not resolve" in p for p in problems), problems)

    def test_asyncapi_parse_error(self):
        problems = self.asyncapi_problems(lambda t: t.replace("asyncapi: 3.0.0", "asyncapi: [3.0.0"))
        self.assertTrue(any("cannot parse" in p for p in problems), problems)

    def test_asyncapi_payload_disagrees(self):
        # the message of release-created names release-rejected's data
        docs = os.path.join(self.tmp, "docs")
        shutil.copytree(os.path.dirname(SCHEMAS), docs)
        path = os.path.join(docs, "asyncapi.yaml")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        text = text.replace("const: dev.gitstore.release-created.v1", "const: dev.gitstore.release-made.v1")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        _, payloads = validate_events.check_asyncapi(path, self.contract)
        _, problems = validate_events.validate([self.write([self.sample("release-created")])], self.contract,
                                               self.ce, payloads)
        self.assertTrue(any(m.startswith("asyncapi/type") for _, _, _, m in problems), problems)

    # --- the command ----------------------------------------------------------------

    def run_main(self, *paths):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = validate_events.main(["--schemas", SCHEMAS, "--cloudevents", CLOUDEVENTS] + list(paths))
        return code, out.getvalue(), err.getvalue()

    def test_main_reports_file_line_type(self):
        good = self.sample("branch-deleted")
        bad = self.sample("branch-deleted")
        bad["data"]["forced"] = False
        path = self.write([good, bad])
        code, out, err = self.run_main(self.tmp)
        self.assertEqual(code, 1)
        self.assertIn("%s:2: branch-deleted: data: Additional properties" % path, err)
        self.assertIn("branch-deleted", out)
        self.assertIn("no events of:", out)

    def test_main_fails_without_events(self):
        code, _, err = self.run_main(self.tmp)
        self.assertEqual(code, 1)
        self.assertIn("no events at all", err)

    def test_main_passes_the_samples(self):
        code, out, err = self.run_main(SAMPLES)
        self.assertEqual((code, err), (0, ""))
        self.assertIn("all %d event(s) valid" % len(self.samples), out)


def main():
    global SCHEMAS, CLOUDEVENTS
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--schemas", default=SCHEMAS)
    ap.add_argument("--cloudevents", default=CLOUDEVENTS)
    args, rest = ap.parse_known_args()
    SCHEMAS, CLOUDEVENTS = os.path.abspath(args.schemas), os.path.abspath(args.cloudevents)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=1)


if __name__ == "__main__":
    main()
