#!/usr/bin/python3
"""Validate dumped gitstore events against the published event contract.

usage: validate_events.py --schemas docs/schemas --cloudevents CE.json
                          [--asyncapi docs/asyncapi.yaml] [--quiet] PATH...

PATH is an NDJSON file of events or a directory of *.jsonl files (what
test-lib.sh writes with GITSTORE_EVENT_DUMP).  Every line must be

  1. a CloudEvent by the rules of tests/integration/lib/check_cloudevents.py
     (the CloudEvents 1.0 JSON Schema plus the rules it cannot express);
  2. a gitstore envelope (docs/schemas/common.json#/$defs/envelope);
  3. of a type dev.gitstore.<name>.v1 whose <name> has a schema file
     docs/schemas/<name>.json, and its `data` must validate against it.

The schemas are checked too: each must be a valid draft 2020-12 schema
with an $id, a title and a description, every schema file must be a
taxonomy name (common.json#/$defs/eventName) and every taxonomy name must
have a schema file; and docs/asyncapi.yaml must parse, have a message for
every schema file, and every $ref in it must resolve.  References are
resolved offline, from the schema files only.

Prints a count per type, the taxonomy names no event had (information, not
a failure), and FILE:LINE: type: message per problem.  Exits 1 on any
problem, or when there are no events at all.
"""

import argparse
import collections
import json
import os
import pathlib
import sys
import urllib.parse

import jsonschema
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "lib"))
import check_cloudevents  # noqa: E402  (shared CloudEvents rules)

TYPE_PREFIX = "dev.gitstore."
TYPE_SUFFIX = ".v1"
COMMON = "common.json"
MAX_REPORTS = 200


class Contract:
    """The schema files of a directory, with a resolver that finds every
    one of them by its $id (so relative $refs work without a network)."""

    def __init__(self, schema_dir):
        self.dir = schema_dir
        self.problems = []
        self.schemas = {}   # file name -> schema
        store = {}
        for fname in sorted(os.listdir(schema_dir)):
            if not fname.endswith(".json"):
                continue
            path = os.path.join(schema_dir, fname)
            try:
                with open(path, encoding="utf-8") as f:
                    schema = json.load(f)
            except (OSError, ValueError) as e:
                self.problems.append("%s: not JSON: %s" % (path, e))
                continue
            self.schemas[fname] = schema
            sid = schema.get("$id") if isinstance(schema, dict) else None
            if not sid:
                self.problems.append("%s: no $id" % path)
                continue
            if not sid.endswith("/" + fname):
                self.problems.append("%s: $id %s does not end with /%s" % (path, sid, fname))
            store[sid] = schema
            for key in ("title", "description"):
                if not schema.get(key):
                    self.problems.append("%s: no %s" % (path, key))
            try:
                jsonschema.Draft202012Validator.check_schema(schema)
            except jsonschema.SchemaError as e:
                self.problems.append("%s: not a valid draft 2020-12 schema: %s" % (path, e.message))
        self.store = store
        self.validators = {}
        common = self.schemas.get(COMMON)
        if common is None:
            self.problems.append("%s: missing" % os.path.join(schema_dir, COMMON))
            self.taxonomy = []
            self.envelope = None
            return
        try:
            self.taxonomy = list(common["$defs"]["eventName"]["enum"])
        except (KeyError, TypeError):
            self.problems.append("%s: no $defs/eventName enum (the taxonomy)" % COMMON)
            self.taxonomy = []
        self.envelope = self._validator({"$ref": common["$id"] + "#/$defs/envelope"}, common["$id"])
        for fname, schema in self.schemas.items():
            if fname == COMMON or "$id" not in schema:
                continue
            name = fname[:-len(".json")]
            if name not in self.taxonomy:
                self.problems.append("%s: %s is not a taxonomy name (common.json $defs/eventName)" % (fname, name))
            self.validators[name] = self._validator(schema, schema["$id"])
        for name in self.taxonomy:
            if name not in self.validators:
                self.problems.append("taxonomy name %s has no schema file %s.json" % (name, name))
        # resolve every $ref now: a dangling one is a contract bug even if
        # no event happens to reach it
        for fname, schema in self.schemas.items():
            if "$id" in schema:
                self._check_refs(fname, schema, schema["$id"])

    def _resolver(self, base):
        return jsonschema.RefResolver(base_uri=base, referrer=self.store.get(base, {}), store=self.store)

    def _validator(self, schema, base):
        return jsonschema.Draft202012Validator(schema, resolver=self._resolver(base))

    def _check_refs(self, fname, node, base):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                url = urllib.parse.urljoin(base, ref)
                doc = url.split("#")[0]
                if doc not in self.store:
                    self.problems.append("%s: $ref %s: no schema file has $id %s" % (fname, ref, doc))
                else:
                    try:
                        self._resolver(base).resolve(ref)
                    except jsonschema.RefResolutionError as e:
                        self.problems.append("%s: $ref %s does not resolve: %s" % (fname, ref, e))
            for value in node.values():
                self._check_refs(fname, value, base)
        elif isinstance(node, list):
            for value in node:
                self._check_refs(fname, value, base)

    def event_names(self):
        return sorted(self.validators)


# --- AsyncAPI -------------------------------------------------------------

def _pointer(doc, fragment):
    """Resolves a JSON pointer fragment ("/a/b~1c") in doc; KeyError if not."""
    node = doc
    if fragment in ("", "/"):
        return node
    for part in fragment.lstrip("/").split("/"):
        part = urllib.parse.unquote(part).replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node[part]
        else:
            raise KeyError(part)
    return node


def _refs(node, where=""):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield where, value
            else:
                yield from _refs(value, where + "/" + str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _refs(value, where + "/" + str(i))


def _ref_target(doc, ref):
    """The local node a "#/..." $ref names (KeyError/IndexError if none)."""
    return _pointer(doc, ref[1:])


def _schema_files(doc, node):
    """Names of the schemas/*.json files node reaches, following local refs."""
    files, seen, todo = set(), set(), [node]
    while todo:
        for _, ref in _refs(todo.pop()):
            target, _, fragment = ref.partition("#")
            if target:
                if os.path.dirname(os.path.normpath(target)) == "schemas":
                    files.add(os.path.basename(target))
            elif ref not in seen:
                seen.add(ref)
                try:
                    todo.append(_pointer(doc, fragment))
                except (KeyError, IndexError, TypeError, ValueError):
                    pass  # reported as a dangling $ref
    return files


def check_asyncapi(path, contract):
    """Checks the AsyncAPI document: it parses, it is AsyncAPI 3.0.0, every
    $ref resolves (local pointers, and the schema files it names), each
    event schema has a message whose payload leads to it, and operations
    refer to their channel's messages.  Returns (problems, {event name:
    validator of its message's payload}) so events can be checked against
    the AsyncAPI messages too."""
    problems = []
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        return ["%s: cannot parse: %s" % (path, e)], {}
    if not isinstance(doc, dict):
        return ["%s: not a mapping" % path], {}
    if doc.get("asyncapi") != "3.0.0":
        problems.append("%s: asyncapi is %r, not \"3.0.0\"" % (path, doc.get("asyncapi")))
    info = doc.get("info") or {}
    if not info.get("title") or not info.get("version"):
        problems.append("%s: info.title and info.version are required" % path)
    base = os.path.dirname(os.path.abspath(path))
    files = {}
    for where, ref in _refs(doc):
        target, _, fragment = ref.partition("#")
        try:
            if not target:
                _pointer(doc, fragment)
                continue
            fpath = os.path.normpath(os.path.join(base, target))
            if fpath not in files:
                with open(fpath, encoding="utf-8") as f:
                    files[fpath] = json.load(f)
            _pointer(files[fpath], fragment)
        except (OSError, ValueError) as e:
            problems.append("%s: %s: $ref %s: cannot read: %s" % (path, where, ref, e))
        except (KeyError, IndexError, TypeError):
            problems.append("%s: %s: $ref %s does not resolve" % (path, where, ref))

    # the message of an event type: one whose payload leads (through local
    # $refs) to that type's schema file and to no other (a batch message
    # reaches them all and is nobody's message)
    messages = (doc.get("components") or {}).get("messages") or {}
    named = collections.defaultdict(list)  # event name -> message names
    for mname, msg in messages.items():
        reached = _schema_files(doc, msg) - {COMMON}
        if len(reached) == 1:
            named[reached.pop()[:-len(".json")]].append(mname)
    for name in contract.event_names():
        if name not in named:
            problems.append("%s: no message in components.messages has schemas/%s.json as its data" % (path, name))

    channels = doc.get("channels") or {}
    for cname, ch in channels.items():
        if not isinstance(ch, dict) or "address" not in ch:
            problems.append("%s: channel %s has no address" % (path, cname))
    for oname, op in (doc.get("operations") or {}).items():
        if not isinstance(op, dict):
            problems.append("%s: operation %s is not a mapping" % (path, oname))
            continue
        if op.get("action") not in ("send", "receive"):
            problems.append("%s: operation %s: action must be send or receive" % (path, oname))
        cref = (op.get("channel") or {}).get("$ref", "")
        if not cref.startswith("#/channels/"):
            problems.append("%s: operation %s: channel must be a $ref to #/channels/..." % (path, oname))
            continue
        try:
            ch = _ref_target(doc, cref)
        except (KeyError, IndexError, TypeError):
            continue  # reported above
        allowed = set()
        for m in (ch.get("messages") or {}).values():
            if isinstance(m, dict) and "$ref" in m:
                allowed.add(m["$ref"])
        for m in op.get("messages") or []:
            r = m.get("$ref", "") if isinstance(m, dict) else ""
            prefix = cref + "/messages/"
            if not r.startswith(prefix) or r[len(prefix):] not in (ch.get("messages") or {}):
                problems.append("%s: operation %s: message %s is not one of channel %s's messages"
                                % (path, oname, r, cref))

    # payload validators: refs resolve against the file's own location
    uri = pathlib.Path(os.path.abspath(path)).as_uri()
    store = dict(contract.store)
    store.update({pathlib.Path(p).as_uri(): content for p, content in files.items()})
    store[uri] = doc
    payloads = {}
    for name, mnames in named.items():
        payload = messages[mnames[0]].get("payload")
        if not isinstance(payload, dict):
            problems.append("%s: message %s has no payload schema" % (path, mnames[0]))
            continue
        resolver = jsonschema.RefResolver(base_uri=uri, referrer=doc, store=store)
        payloads[name] = jsonschema.Draft202012Validator(payload, resolver=resolver)
    return problems, payloads


# --- events -----------------------------------------------------------------

def event_files(paths):
    for p in paths:
        if os.path.isdir(p):
            for fname in sorted(os.listdir(p)):
                if fname.endswith(".jsonl"):
                    yield os.path.join(p, fname)
        else:
            yield p


def _messages(validator, instance, prefix):
    """One "prefix/path: message" per error (prefix alone at the top)."""
    out = []
    for err in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        where = "/".join([prefix] + [str(p) for p in err.absolute_path])
        msg = err.message
        # a failed anyOf says little by itself: add its branches' reasons
        if err.context:
            msg += " (%s)" % "; ".join(sorted({s.message for s in err.context})[:4])
        out.append("%s: %s" % (where, msg))
    return out


def validate(paths, contract, ce_validator, payloads=None):
    """Returns (counts by type name, [(file, line, type, message)]).
    payloads: {name: validator} of the AsyncAPI messages; an event that
    passed the other checks but not its message's payload shows that the
    AsyncAPI document disagrees with the schemas."""
    counts = collections.Counter()
    problems = []
    for path in event_files(paths):
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except OSError as e:
            problems.append((path, 0, "-", "cannot read: %s" % e))
            continue
        lines = raw.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        elif raw:
            problems.append((path, len(lines), "-", "last line is not terminated by a newline"))
        for lineno, line in enumerate(lines, 1):
            start = len(problems)
            event, msgs = check_cloudevents.line_problems(line, ce_validator)
            etype = event.get("type") if isinstance(event, dict) else None
            name = "-"
            if isinstance(etype, str) and etype.startswith(TYPE_PREFIX) and etype.endswith(TYPE_SUFFIX):
                name = etype[len(TYPE_PREFIX):-len(TYPE_SUFFIX)]
            problems.extend((path, lineno, name, "cloudevents: " + m) for m in msgs)
            if not isinstance(event, dict):
                continue
            counts[name] += 1
            if contract.envelope is not None:
                problems.extend((path, lineno, name, m) for m in _messages(contract.envelope, event, "envelope"))
            if name == "-":
                problems.append((path, lineno, name, "type %r is not dev.gitstore.<name>.v1" % etype))
                continue
            v = contract.validators.get(name)
            if v is None:
                problems.append((path, lineno, name, "no schema file %s.json for this type" % name))
                continue
            if not isinstance(event.get("data"), dict):
                problems.append((path, lineno, name, "data is missing or not an object"))
                continue
            problems.extend((path, lineno, name, m) for m in _messages(v, event["data"], "data"))
            if payloads is not None and len(problems) == start:
                if name not in payloads:
                    problems.append((path, lineno, name, "asyncapi: no message for this type"))
                else:
                    problems.extend((path, lineno, name, m) for m in _messages(payloads[name], event, "asyncapi"))
    return counts, problems


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--schemas", required=True, help="directory of the JSON Schemas (docs/schemas)")
    ap.add_argument("--cloudevents", required=True, help="the CloudEvents 1.0 JSON Schema")
    ap.add_argument("--asyncapi", help="the AsyncAPI document (default: ../asyncapi.yaml of --schemas)")
    ap.add_argument("--quiet", action="store_true", help="print problems only")
    ap.add_argument("paths", nargs="+", metavar="PATH")
    args = ap.parse_args(argv)

    contract = Contract(args.schemas)
    problems = [("-", 0, "-", p) for p in contract.problems]
    asyncapi = args.asyncapi or os.path.join(os.path.dirname(os.path.abspath(args.schemas)), "asyncapi.yaml")
    api_problems, payloads = check_asyncapi(asyncapi, contract)
    problems += [("-", 0, "-", p) for p in api_problems]
    with open(args.cloudevents, encoding="utf-8") as f:
        ce_validator = check_cloudevents.make_validator(json.load(f))

    counts, event_problems = validate(args.paths, contract, ce_validator, payloads)
    problems += event_problems
    total = sum(counts.values())

    if not args.quiet:
        print("validate_events: %d event(s) in %s" % (total, " ".join(args.paths)))
        width = max([len(n) for n in counts] + [4])
        for name in sorted(counts):
            print("  %-*s %7d" % (width, name, counts[name]))
        missing = [n for n in contract.taxonomy if n not in counts]
        if missing:
            print("validate_events: no events of: %s" % ", ".join(missing))
    for path, line, name, msg in problems[:MAX_REPORTS]:
        print("%s:%d: %s: %s" % (path, line, name, msg), file=sys.stderr)
    if len(problems) > MAX_REPORTS:
        print("validate_events: ... and %d more problem(s)" % (len(problems) - MAX_REPORTS), file=sys.stderr)
    if total == 0:
        print("validate_events: no events at all (is GITSTORE_EVENT_DUMP set for the tests?)", file=sys.stderr)
        return 1
    if problems:
        print("validate_events: %d problem(s)" % len(problems), file=sys.stderr)
        return 1
    print("validate_events: all %d event(s) valid" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
