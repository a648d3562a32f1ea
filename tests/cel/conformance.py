#!/usr/bin/python3
"""CEL conformance runner for gitstore's CEL engine.

Runs the public CEL conformance tests (cel-spec tests/simple/testdata,
message cel.expr.conformance.test.SimpleTestFile in protobuf text format)
against `gitstore cel eval --batch`, restricted to the subset of CEL this
project implements (no protocol-buffer message types).  Standard library
only; run it with /usr/bin/python3.

Engine contract (one process per test file, one JSON line per case):
  in : {"id": "...", "expr": "...", "bindings": {"x": <Value>}, "container": "..."}
  out: {"id": "...", "value": <Value>}
       {"id": "...", "error": "message", "stage": "parse"|"eval"}
       {"id": null, "error": "...", "stage": "input"}   (malformed input line)
  <Value> is cel.expr.Value in proto3 JSON form ({"int64Value": "1"}, ...).

Matching:
  * `value` (and `typed_result.result`; a test with no matcher expects
    bool true): the engine must return a value equal to the expected one:
    same kind (int64 / uint64 / double are different), doubles bit for bit
    except that any NaN matches any NaN (so -0.0 and 0.0 differ, as their
    proto3 JSON forms do), lists in order, map entries in any order, bytes
    by decoded content, timestamps and durations by the instant / length
    they denote (any valid proto3 JSON spelling).
  * `eval_error` / `any_eval_errors`: the engine must report an error at
    stage "eval"; the message is not compared (implementations word errors
    differently).  A parse-stage error does NOT count: the expression is
    valid CEL, so rejecting it at parse time hides a missing feature.

Exit status: 0 when at least --min-pass of the cases that are not skipped
pass and at most --max-skip of all cases are skipped; 1 otherwise; 2 when a
test file cannot be read or parsed, or on a usage error.
"""

import argparse
import base64
import datetime
import glob
import json
import math
import os
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the working tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import textproto  # noqa: E402
from textproto import Message, Scalar, TextProtoError  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_DIR = os.environ.get("CEL_CONFORMANCE_DIR",
                             "/work/shared/conformance/cel-spec")
DEFAULT_BIN = os.path.join(REPO, "build", "gitstore")

TS_URL = "type.googleapis.com/google.protobuf.Timestamp"
DUR_URL = "type.googleapis.com/google.protobuf.Duration"

# ---------------------------------------------------------------------------
# skip rules: every skipped case carries one of these ids

SKIP_RULES = [
    ("check-only",
     "check_only: true -- a type-checker test; nothing is evaluated"),
    ("unknown-result",
     "expects an unknown-set result (unknown / any_unknowns); the engine "
     "contract has no unknowns"),
    ("binding-not-value",
     "a binding is an error or unknown ExprValue; the contract binds values only"),
    ("proto-message-value",
     "a binding or the expected value is a protobuf message (object_value "
     "other than google.protobuf.Timestamp/Duration, e.g. TestAllTypes, "
     "wrappers, Struct/Value/ListValue, Any) or an Any in type_url/value form"),
    ("proto-enum-value",
     "a binding or the expected value is a protobuf enum_value"),
    ("proto-message-expr",
     "the expression constructs a message (Name{...}) or names a protobuf "
     "type/package (TestAllTypes, NestedTestAllTypes, cel.expr.conformance, "
     "proto2/proto3, google.protobuf.* other than Timestamp/Duration)"),
    ("proto-container",
     "the container is a protobuf package (cel.expr.conformance.*, "
     "google.protobuf): such tests resolve message/enum names in it"),
    ("typed-result-no-value",
     "typed_result without a result value: only the deduced type (a "
     "checker output) could be compared"),
    ("disable-macros",
     "disable_macros: true -- the contract has no switch to turn macros off"),
    ("locale",
     "locale-dependent evaluation; the contract has no locale"),
]
SKIP_RULE_IDS = [r for r, _ in SKIP_RULES]


class Skip(Exception):
    def __init__(self, rule, detail=""):
        assert rule in SKIP_RULE_IDS, rule
        self.rule = rule
        self.detail = detail
        super().__init__("%s: %s" % (rule, detail) if detail else rule)


class BadTest(Exception):
    """A test message that does not follow the SimpleTest schema."""


# ---------------------------------------------------------------------------
# textproto -> cel.expr.Value proto3 JSON

VALUE_KINDS = ("null_value", "bool_value", "int64_value", "uint64_value",
               "double_value", "string_value", "bytes_value", "enum_value",
               "object_value", "map_value", "list_value", "type_value")

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1
# proto3 JSON Timestamp range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z
TS_MIN, TS_MAX = -62135596800, 253402300799
EPOCH = datetime.datetime(1970, 1, 1)


def _where(node):
    return "line %s" % getattr(node, "line", "?")


def _check_fields(msg, allowed, what):
    for name in msg.names():
        if name not in allowed:
            raise BadTest("%s: unknown field %r in %s" % (_where(msg), name, what))


def _sub(msg, name):
    v = msg.get(name)
    if v is not None and not isinstance(v, Message):
        raise BadTest("%s: field %r must be a message" % (_where(msg), name))
    return v


def double_json(x):
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def fmt_nanos_frac(nanos):
    """proto3 JSON fraction: 0, 3, 6 or 9 digits."""
    if nanos == 0:
        return ""
    if nanos % 1000000 == 0:
        return ".%03d" % (nanos // 1000000)
    if nanos % 1000 == 0:
        return ".%06d" % (nanos // 1000)
    return ".%09d" % nanos


def duration_json(seconds, nanos):
    total = seconds * 10**9 + nanos
    sign = "-" if total < 0 else ""
    s, n = divmod(abs(total), 10**9)
    return "%s%d%ss" % (sign, s, fmt_nanos_frac(n))


def timestamp_json(seconds, nanos):
    if not TS_MIN <= seconds <= TS_MAX or not 0 <= nanos < 10**9:
        raise BadTest("timestamp out of range: %d.%09d" % (seconds, nanos))
    t = EPOCH + datetime.timedelta(seconds=seconds)
    return "%04d-%02d-%02dT%02d:%02d:%02d%sZ" % (
        t.year, t.month, t.day, t.hour, t.minute, t.second,
        fmt_nanos_frac(nanos))


def _int_field(msg, name, lo, hi):
    v = msg.scalar(name)
    if v is None:
        return 0
    n = v.as_int()
    if not lo <= n <= hi:
        raise BadTest("%s: %s out of range: %d" % (_where(v), name, n))
    return n


def object_to_json(any_msg):
    """An Any (object_value) -> Value JSON; Timestamp/Duration only."""
    expansions = [n for n in any_msg.names() if n.startswith("[")]
    if not expansions:
        url = any_msg.text("type_url")
        raise Skip("proto-message-value",
                   "Any in type_url/value form (%s)" % (url or "no type_url"))
    if len(any_msg.fields) != 1 or "/" not in expansions[0]:
        raise BadTest("%s: malformed Any expansion" % _where(any_msg))
    url = expansions[0][1:-1]
    body = any_msg.get(expansions[0])
    if url in (TS_URL, DUR_URL):
        _check_fields(body, ("seconds", "nanos"), url)
        secs = _int_field(body, "seconds", INT64_MIN, INT64_MAX)
        nanos = _int_field(body, "nanos", -999999999, 999999999)
        if url == DUR_URL:
            if (secs < 0 < nanos) or (nanos < 0 < secs):
                raise BadTest("%s: duration sign mismatch" % _where(body))
            return {"objectValue": {"@type": url,
                                    "value": duration_json(secs, nanos)}}
        return {"objectValue": {"@type": url,
                                "value": timestamp_json(secs, nanos)}}
    raise Skip("proto-message-value", url.split("/", 1)[1])


def value_to_json(msg):
    """cel.expr.Value (parsed textproto Message) -> proto3 JSON dict."""
    if not isinstance(msg, Message):
        raise BadTest("%s: a Value must be a message" % _where(msg))
    _check_fields(msg, VALUE_KINDS, "cel.expr.Value")
    kinds = msg.names()
    if len(kinds) != 1:
        raise BadTest("%s: a Value needs exactly one kind, has %s"
                      % (_where(msg), kinds or "none"))
    kind = kinds[0]
    v = msg.get(kind)
    if kind in ("map_value", "list_value", "object_value", "enum_value"):
        if not isinstance(v, Message):
            raise BadTest("%s: %s must be a message" % (_where(msg), kind))
    elif not isinstance(v, Scalar):
        raise BadTest("%s: %s must be a scalar" % (_where(msg), kind))
    if kind == "null_value":
        e = v.as_enum()
        if e not in ("NULL_VALUE", 0):
            raise BadTest("%s: bad null_value %r" % (_where(v), e))
        return {"nullValue": None}
    if kind == "bool_value":
        return {"boolValue": v.as_bool()}
    if kind == "int64_value":
        n = v.as_int()
        if not INT64_MIN <= n <= INT64_MAX:
            raise BadTest("%s: int64_value out of range" % _where(v))
        return {"int64Value": str(n)}
    if kind == "uint64_value":
        n = v.as_int()
        if not 0 <= n <= UINT64_MAX:
            raise BadTest("%s: uint64_value out of range" % _where(v))
        return {"uint64Value": str(n)}
    if kind == "double_value":
        return {"doubleValue": double_json(v.as_float())}
    if kind == "string_value":
        return {"stringValue": v.as_text()}
    if kind == "bytes_value":
        return {"bytesValue": base64.b64encode(v.as_bytes()).decode("ascii")}
    if kind == "type_value":
        return {"typeValue": v.as_text()}
    if kind == "enum_value":
        raise Skip("proto-enum-value", v.text("type"))
    if kind == "object_value":
        return object_to_json(v)
    if kind == "list_value":
        _check_fields(v, ("values",), "cel.expr.ListValue")
        return {"listValue": {"values": [value_to_json(x)
                                         for x in v.getall("values")]}}
    if kind == "map_value":
        _check_fields(v, ("entries",), "cel.expr.MapValue")
        entries = []
        for ent in v.getall("entries"):
            if not isinstance(ent, Message):
                raise BadTest("%s: map entry must be a message" % _where(v))
            _check_fields(ent, ("key", "value"), "cel.expr.MapValue.Entry")
            k, val = _sub(ent, "key"), _sub(ent, "value")
            if k is None or val is None:
                raise BadTest("%s: map entry without key or value" % _where(ent))
            entries.append({"key": value_to_json(k),
                            "value": value_to_json(val)})
        return {"mapValue": {"entries": entries}}
    raise AssertionError(kind)


# ---------------------------------------------------------------------------
# expression screening for protobuf message use

_CEL_STR = re.compile(r'''(?P<pfx>[rRbB]{0,2})(?P<q>"""|\'\'\'|"|')''')
_IDENT_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def strip_cel_strings(expr):
    """Replace CEL string/bytes literals by "" and drop // comments, so
    that their contents do not look like code.  Best effort on invalid
    input (never raises)."""
    out = []
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        m = None
        if c in "\"'rRbB" and (i == 0 or expr[i - 1] not in _IDENT_CHARS):
            m = _CEL_STR.match(expr, i)
            if m and (len(m.group("pfx")) == 2
                      and m.group("pfx").lower() not in ("rb", "br")):
                m = None
        if not m:
            if expr.startswith("//", i):
                # a comment runs to the end of the line
                j = expr.find("\n", i)
                i = n if j < 0 else j
                out.append(" ")
                continue
            out.append(c)
            i += 1
            continue
        raw = "r" in m.group("pfx").lower()
        q = m.group("q")
        j = m.end()
        while j < n:
            if expr.startswith(q, j):
                j += len(q)
                break
            if expr[j] == "\\" and not raw:
                j += 2
            else:
                j += 1
        out.append('""')
        i = j
    return "".join(out)


_MSG_NAMES = re.compile(
    r"\b(?:TestAllTypes|NestedTestAllTypes|TestRequired|NestedMessage|"
    r"NestedEnum|GlobalEnum|GlobalMessage)\b|\bcel\.expr\b|"
    r"\bproto[23]\b|\bgoogle\.protobuf\.(?!(?:Timestamp|Duration)\b)")
_MSG_BUILD = re.compile(
    r"(?<![\w.])(\.?\s*[A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)\s*\{")
_PROTO_CONTAINER = re.compile(r"^(?:cel\.expr\.conformance|google\.protobuf)(?:\.|$)")


def screen_expr(expr):
    """Raise Skip if the expression needs protobuf message types."""
    code = strip_cel_strings(expr)
    m = _MSG_NAMES.search(code)
    if m:
        raise Skip("proto-message-expr", "names %r" % m.group(0).rstrip("."))
    for m in _MSG_BUILD.finditer(code):
        name = re.sub(r"\s+", "", m.group(1))
        if name not in ("in",):
            raise Skip("proto-message-expr", "constructs %s{...}" % name)


# ---------------------------------------------------------------------------
# test files -> cases

TEST_FIELDS = ("name", "description", "expr", "disable_macros",
               "disable_check", "check_only", "type_env", "container",
               "locale", "bindings", "value", "typed_result", "eval_error",
               "any_eval_errors", "unknown", "any_unknowns")
MATCHERS = ("value", "typed_result", "eval_error", "any_eval_errors",
            "unknown", "any_unknowns")


class Case:
    __slots__ = ("file", "section", "name", "expr", "container", "bindings",
                 "expect", "expected", "expected_errors", "skip", "status",
                 "got", "why", "line", "id")

    def __init__(self, file, section, name, line):
        self.file = file
        self.section = section
        self.name = name
        self.line = line
        self.expr = ""
        self.container = ""
        self.bindings = {}
        self.expect = None          # "value" | "error"
        self.expected = None        # Value JSON when expect == "value"
        self.expected_errors = []   # messages quoted by the test (informative)
        self.skip = None            # Skip
        self.status = None          # "pass" | "fail" | "skip"
        self.got = None
        self.why = ""
        self.id = ""

    @property
    def full_name(self):
        return "%s/%s/%s" % (self.file, self.section, self.name)

    def request(self):
        req = {"id": self.id, "expr": self.expr}
        if self.bindings:
            req["bindings"] = self.bindings
        if self.container:
            req["container"] = self.container
        return req


def _error_messages(errset):
    msgs = []
    if isinstance(errset, Message):
        for st in errset.getall("errors"):
            if isinstance(st, Message):
                msgs.append(st.text("message"))
    return msgs


def build_case(fname, section, t, index):
    _check_fields(t, TEST_FIELDS, "cel.expr.conformance.test.SimpleTest")
    c = Case(fname, section, t.text("name"), t.line)
    c.id = "%s#%d" % (fname, index)
    c.expr = t.text("expr")
    c.container = t.text("container")
    matchers = [m for m in MATCHERS if t.has(m)]
    if len(matchers) > 1:
        raise BadTest("line %d: test %r has several result matchers %s"
                      % (t.line, c.name, matchers))
    for name in ("name", "expr"):
        if not t.has(name):
            raise BadTest("line %d: test without %s" % (t.line, name))
    try:
        # the order of these checks decides which rule a case is counted
        # under when several apply; most specific reason first
        if t.flag("check_only"):
            raise Skip("check-only")
        matcher = matchers[0] if matchers else None
        if matcher in ("unknown", "any_unknowns"):
            raise Skip("unknown-result", matcher)
        if t.flag("disable_macros"):
            raise Skip("disable-macros")
        if t.text("locale"):
            raise Skip("locale", t.text("locale"))
        screen_expr(c.expr)
        for b in t.getall("bindings"):
            if not isinstance(b, Message):
                raise BadTest("line %d: bindings must be map entries" % t.line)
            _check_fields(b, ("key", "value"), "bindings entry")
            key = b.text("key")
            ev = _sub(b, "value") or Message()
            _check_fields(ev, ("value", "error", "unknown"), "cel.expr.ExprValue")
            if ev.has("error") or ev.has("unknown"):
                raise Skip("binding-not-value", key)
            if not ev.has("value"):
                raise BadTest("line %d: binding %r has no value" % (b.line, key))
            c.bindings[key] = value_to_json(_sub(ev, "value"))
        if matcher is None:
            c.expect, c.expected = "value", {"boolValue": True}
        elif matcher == "value":
            c.expect, c.expected = "value", value_to_json(_sub(t, "value"))
        elif matcher == "typed_result":
            tr = _sub(t, "typed_result")
            _check_fields(tr, ("result", "deduced_type"), "TypedResult")
            if not tr.has("result"):
                raise Skip("typed-result-no-value")
            c.expect, c.expected = "value", value_to_json(_sub(tr, "result"))
        elif matcher == "eval_error":
            c.expect = "error"
            c.expected_errors = _error_messages(_sub(t, "eval_error"))
        elif matcher == "any_eval_errors":
            c.expect = "error"
            for es in _sub(t, "any_eval_errors").getall("errors"):
                c.expected_errors += _error_messages(es)
        # checked after the expression so that "what the test needs" is
        # reported first; a proto container with a plain expression is rare
        if _PROTO_CONTAINER.match(c.container):
            raise Skip("proto-container", c.container)
    except Skip as s:
        c.skip = s
        c.status = "skip"
        c.why = str(s)
    return c


def load_file(path):
    """Parse one SimpleTestFile; raises TextProtoError / BadTest."""
    root = textproto.parse_file(path)
    _check_fields(root, ("name", "description", "section"),
                  "cel.expr.conformance.test.SimpleTestFile")
    fname = os.path.basename(path)
    if fname.endswith(".textproto"):
        fname = fname[:-len(".textproto")]
    cases = []
    for sec in root.getall("section"):
        if not isinstance(sec, Message):
            raise BadTest("section must be a message")
        _check_fields(sec, ("name", "description", "test"),
                      "cel.expr.conformance.test.SimpleTestSection")
        for t in sec.getall("test"):
            if not isinstance(t, Message):
                raise BadTest("test must be a message")
            try:
                cases.append(build_case(fname, sec.text("name"), t, len(cases)))
            except TextProtoError as e:
                raise BadTest("test near line %d: %s" % (t.line, e))
    if not cases:
        raise BadTest("no tests found")
    return fname, cases


# ---------------------------------------------------------------------------
# comparing Value JSON

class Malformed(Exception):
    """The engine's Value JSON does not follow the proto3 JSON mapping."""


_VALUE_JSON_KINDS = ("nullValue", "boolValue", "int64Value", "uint64Value",
                     "doubleValue", "stringValue", "bytesValue", "typeValue",
                     "listValue", "mapValue", "objectValue")
_DUR_RE = re.compile(r"^(-)?(\d+)(?:\.(\d{1,9}))?s$")
_TS_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})"
                    r"(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$")


def _json_int(v, lo, hi, what):
    if isinstance(v, bool):
        raise Malformed("%s: bool is not an integer" % what)
    if isinstance(v, str):
        if not re.fullmatch(r"-?\d+", v):
            raise Malformed("%s: %r is not an integer" % (what, v))
        n = int(v)
    elif isinstance(v, int):
        n = v
    elif isinstance(v, float) and v.is_integer():
        n = int(v)
    else:
        raise Malformed("%s: %r is not an integer" % (what, v))
    if not lo <= n <= hi:
        raise Malformed("%s: %d out of range" % (what, n))
    return n


def _json_double(v):
    if isinstance(v, bool):
        raise Malformed("doubleValue: bool")
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        if v == "NaN":
            return math.nan
        if v == "Infinity":
            return math.inf
        if v == "-Infinity":
            return -math.inf
        try:
            if re.fullmatch(r"-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", v):
                return float(v)
        except ValueError:
            pass
    raise Malformed("doubleValue: %r" % (v,))


def _json_bytes(v):
    if not isinstance(v, str):
        raise Malformed("bytesValue: not a string")
    s = v.replace("-", "+").replace("_", "/")
    s += "=" * (-len(s) % 4)
    try:
        return base64.b64decode(s, validate=True)
    except (ValueError, base64.binascii.Error):
        raise Malformed("bytesValue: bad base64 %r" % v)


def _parse_duration(s):
    m = _DUR_RE.match(s) if isinstance(s, str) else None
    if not m:
        raise Malformed("Duration: %r" % (s,))
    n = int(m.group(2)) * 10**9 + int((m.group(3) or "").ljust(9, "0") or 0)
    return -n if m.group(1) else n


def _parse_timestamp(s):
    m = _TS_RE.match(s) if isinstance(s, str) else None
    if not m:
        raise Malformed("Timestamp: %r" % (s,))
    y, mo, d, h, mi, se = (int(m.group(i)) for i in range(1, 7))
    try:
        t = datetime.datetime(y, mo, d, h, mi, se)
    except ValueError as e:
        raise Malformed("Timestamp %r: %s" % (s, e))
    delta = t - EPOCH
    secs = delta.days * 86400 + delta.seconds
    if m.group(9):
        off = (int(m.group(10)) * 60 + int(m.group(11))) * 60
        secs -= off if m.group(9) == "+" else -off
    return secs * 10**9 + int((m.group(7) or "").ljust(9, "0") or 0)


def _kind(v):
    if not isinstance(v, dict):
        raise Malformed("a Value must be a JSON object, got %s" % json.dumps(v))
    keys = list(v)
    if len(keys) != 1 or keys[0] not in _VALUE_JSON_KINDS:
        raise Malformed("a Value needs exactly one known kind, got %s"
                        % (keys or "none"))
    return keys[0], v[keys[0]]


def values_equal(exp, got):
    """Compare expected Value JSON (canonical, from the test) with the
    engine's.  Raises Malformed if the engine's JSON is not valid."""
    gk, gv = _kind(got)
    ek, ev = _kind(exp)
    # validate the engine's side fully even when the kinds differ
    if gk != ek:
        values_equal(got, got)
        return False
    if ek == "nullValue":
        if gv not in (None, "NULL_VALUE", 0) or isinstance(gv, bool):
            raise Malformed("nullValue: %r" % (gv,))
        return True
    if ek == "boolValue":
        if not isinstance(gv, bool):
            raise Malformed("boolValue: %r" % (gv,))
        return gv == ev
    if ek == "int64Value":
        return _json_int(gv, INT64_MIN, INT64_MAX, ek) == int(ev)
    if ek == "uint64Value":
        return _json_int(gv, 0, UINT64_MAX, ek) == int(ev)
    if ek == "doubleValue":
        g, e = _json_double(gv), _json_double(ev)
        if math.isnan(g) or math.isnan(e):
            return math.isnan(g) and math.isnan(e)
        return struct.pack("<d", g) == struct.pack("<d", e)
    if ek in ("stringValue", "typeValue"):
        if not isinstance(gv, str):
            raise Malformed("%s: %r" % (ek, gv))
        return gv == ev
    if ek == "bytesValue":
        return _json_bytes(gv) == _json_bytes(ev)
    if ek == "listValue":
        gl, el = _list_items(gv), _list_items(ev)
        ok = len(gl) == len(el)
        for i, g in enumerate(gl):
            if i < len(el):
                ok = values_equal(el[i], g) and ok
            else:
                values_equal(g, g)
        return ok
    if ek == "mapValue":
        ge, ee = _map_entries(gv), _map_entries(ev)
        for k, v in ge:
            values_equal(k, k)
            values_equal(v, v)
        if len(ge) != len(ee):
            return False
        used = [False] * len(ge)
        for k, v in ee:
            for i, (gk2, gv2) in enumerate(ge):
                if not used[i] and values_equal(k, gk2):
                    if not values_equal(v, gv2):
                        return False
                    used[i] = True
                    break
            else:
                return False
        return True
    if ek == "objectValue":
        if not isinstance(gv, dict) or set(gv) != {"@type", "value"}:
            raise Malformed("objectValue: needs exactly @type and value")
        gt, et = gv["@type"], ev["@type"]
        if gt not in (TS_URL, DUR_URL):
            raise Malformed("objectValue: unexpected @type %r" % (gt,))
        parse = _parse_timestamp if gt == TS_URL else _parse_duration
        g = parse(gv["value"])
        if gt != et:
            return False
        return g == parse(ev["value"])
    raise AssertionError(ek)


def _list_items(v):
    if not isinstance(v, dict) or set(v) - {"values"}:
        raise Malformed("listValue: %s" % json.dumps(v))
    items = v.get("values", [])
    if not isinstance(items, list):
        raise Malformed("listValue.values is not an array")
    return items


def _map_entries(v):
    if not isinstance(v, dict) or set(v) - {"entries"}:
        raise Malformed("mapValue: %s" % json.dumps(v))
    ents = v.get("entries", [])
    if not isinstance(ents, list):
        raise Malformed("mapValue.entries is not an array")
    out = []
    for e in ents:
        if not isinstance(e, dict) or set(e) != {"key", "value"}:
            raise Malformed("map entry needs key and value: %s" % json.dumps(e))
        out.append((e["key"], e["value"]))
    return out


# ---------------------------------------------------------------------------
# the engine process

def _json_int_hook(s):
    # keep the sign of "-0" (a double written without a fraction)
    return -0.0 if s == "-0" else int(s)


def _reject_constant(s):
    raise ValueError("bare %s is not JSON (proto3 JSON writes \"%s\")" % (s, s))


def decode_line(raw):
    text = raw.decode("utf-8")
    return json.loads(text, parse_int=_json_int_hook,
                      parse_constant=_reject_constant)


class EngineDown(Exception):
    """The engine process died, hung or broke the protocol."""


class Engine:
    def __init__(self, argv, timeout):
        self.argv = argv
        self.timeout = timeout
        self.proc = None
        self.buf = b""
        self.errf = None

    def start(self):
        self.stop()
        self.errf = tempfile.TemporaryFile()
        self.buf = b""
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE,
                                         stderr=self.errf, bufsize=0)
        except OSError as e:
            self.proc = None
            raise EngineDown("cannot start %s: %s" % (" ".join(self.argv), e))

    def stderr_text(self, limit=400):
        if not self.errf:
            return ""
        try:
            self.errf.seek(0)
            data = self.errf.read()
        except (OSError, ValueError):
            return ""
        text = data.decode("utf-8", "replace").strip()
        if len(text) > limit:
            # the first lines usually say what went wrong, the last ones
            # where a crash happened
            text = text[:limit // 2] + " ... " + text[-limit // 2:]
        return text

    def exit_desc(self):
        rc = None
        if self.proc:
            try:
                rc = self.proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                rc = None
        if rc is None:
            s = "engine still running"
        elif rc < 0:
            try:
                s = "engine killed by %s" % signal.Signals(-rc).name
            except ValueError:
                s = "engine killed by signal %d" % -rc
        else:
            s = "engine exited with status %d" % rc
        tail = self.stderr_text()
        tail = re.sub(r"[ \t]+", " ", tail).replace("\n", " | ")
        return s + (" (stderr: %s)" % tail if tail else "")

    def stop(self):
        if self.proc:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            if self.proc.poll() is None:
                try:
                    self.proc.kill()
                except OSError:
                    pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            try:
                self.proc.stdout.close()
            except OSError:
                pass
            self.proc = None
        if self.errf:
            self.errf.close()
            self.errf = None

    def finish(self):
        """Close stdin and let the process exit on its own (so that exit
        handlers such as LeakSanitizer run).  Returns None for a clean
        exit with status 0, else a description."""
        if self.proc is None:
            return None
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        deadline = time.monotonic() + self.timeout
        rest = self.buf
        try:
            # drain stdout to EOF (so the process cannot block writing),
            # but never wait past the deadline
            fd = self.proc.stdout.fileno()
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise subprocess.TimeoutExpired(self.argv, self.timeout)
                r, _, _ = select.select([fd], [], [], left)
                if r:
                    data = os.read(fd, 65536)
                    if not data:
                        break
                    rest += data
            rc = self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            problem = "engine did not exit within %gs of end of input" \
                % self.timeout
        except OSError as e:
            problem = "engine shutdown: %s" % e
        else:
            if rc == 0 and not rest.strip():
                problem = None
            elif rc == 0:
                problem = "engine wrote unrequested output: %r" % rest[:200]
            else:
                problem = "at end of input: " + self.exit_desc()
        self.stop()
        return problem

    def _readline(self, deadline):
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise EngineDown("timeout: no answer within %gs" % self.timeout)
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            data = os.read(fd, 65536)
            if not data:
                if self.buf:
                    raise EngineDown("partial line then EOF: %r; %s"
                                     % (self.buf[:200], self.exit_desc()))
                raise EngineDown(self.exit_desc())
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def ask(self, req):
        """Send one request, return the decoded response object."""
        if self.proc is None:
            self.start()
        line = json.dumps(req, ensure_ascii=False).encode("utf-8") + b"\n"
        try:
            self.proc.stdin.write(line)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise EngineDown("stdin closed; %s" % self.exit_desc())
        raw = self._readline(time.monotonic() + self.timeout)
        try:
            resp = decode_line(raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise EngineDown("protocol: not a JSON line (%s): %r" % (e, raw[:200]))
        if not isinstance(resp, dict):
            raise EngineDown("protocol: response is not an object: %r" % raw[:200])
        if resp.get("id") != req["id"]:
            raise EngineDown("protocol: answer for id %r, expected %r: %r"
                             % (resp.get("id"), req["id"], raw[:200]))
        return resp


def judge(case, resp):
    """Set case.status/why from an engine response (a dict with our id)."""
    case.got = resp
    has_v, has_e = "value" in resp, "error" in resp
    extra = set(resp) - {"id", "value", "error", "stage"}
    if has_v == has_e or extra or (has_v and "stage" in resp):
        case.status, case.why = "fail", "protocol: malformed response"
        return
    if has_e:
        stage = resp.get("stage")
        if stage not in ("parse", "eval") or not isinstance(resp["error"], str):
            case.status, case.why = "fail", "protocol: bad error/stage"
            return
        if case.expect == "error":
            if stage == "eval":
                case.status = "pass"
            else:
                case.status, case.why = "fail", "parse error, expected an eval error"
        else:
            case.status, case.why = "fail", "%s error, expected a value" % stage
        return
    if case.expect == "error":
        case.status, case.why = "fail", "value, expected an eval error"
        # still validate the value's form for the report
        try:
            values_equal(resp["value"], resp["value"])
        except Malformed as e:
            case.why += "; malformed Value JSON: %s" % e
        return
    try:
        ok = values_equal(case.expected, resp["value"])
    except Malformed as e:
        case.status, case.why = "fail", "malformed Value JSON: %s" % e
        return
    if ok:
        case.status = "pass"
    else:
        case.status, case.why = "fail", "wrong value"


def run_file(engine, cases, give_up_after):
    """Run the non-skipped cases of one file through one engine process
    (restarted after a crash/hang).  Returns (note, exit_problem): note
    says why the rest of the file was given up (or None); exit_problem
    describes a non-clean exit of the last process at end of input."""
    todo = [c for c in cases if c.status != "skip"]
    failures_in_row = 0
    note = None
    for i, c in enumerate(todo):
        if failures_in_row >= give_up_after:
            for rest in todo[i:]:
                rest.status = "fail"
                rest.why = "not run: %s" % note
            break
        try:
            resp = engine.ask(c.request())
        except EngineDown as e:
            c.status, c.why = "fail", "engine: %s" % e
            failures_in_row += 1
            note = "engine failed on %d case(s) in a row; last: %s" % (
                failures_in_row, e)
            engine.stop()
            continue
        failures_in_row = 0
        judge(c, resp)
    exit_problem = engine.finish()
    return (note if failures_in_row else None), exit_problem


def probe(argv, timeout):
    """Check that the engine answers at all.  Returns (error, warnings):
    error is None when `1 + 1` evaluates to 2; warnings list deviations
    from the contract's handling of a malformed input line (they do not
    fail the run)."""
    eng = Engine(argv, timeout)
    warnings = []
    try:
        resp = eng.ask({"id": "probe", "expr": "1 + 1"})
        c = Case("probe", "", "probe", 0)
        c.expect, c.expected = "value", {"int64Value": "2"}
        judge(c, resp)
        if c.status != "pass":
            return ("probe `1 + 1` answered %s (%s)" % (json.dumps(resp), c.why),
                    warnings)
        # a malformed line must get {"id": null, "error": ..., "stage":
        # "input"} and must not stop the process
        try:
            eng.proc.stdin.write(b'{"id": "bad", "expr": \n')
            eng.proc.stdin.flush()
            raw = eng._readline(time.monotonic() + timeout)
            bad = decode_line(raw)
            if not (isinstance(bad, dict) and bad.get("id", 0) is None
                    and bad.get("stage") == "input"
                    and isinstance(bad.get("error"), str)):
                warnings.append("malformed input line answered %r, expected "
                                "{\"id\": null, \"error\": ..., \"stage\": "
                                "\"input\"}" % raw[:200])
            resp = eng.ask({"id": "probe2", "expr": "2 + 2"})
            if resp.get("value") != {"int64Value": "4"}:
                warnings.append("after a malformed line, `2 + 2` answered %s"
                                % json.dumps(resp))
        except (EngineDown, OSError, ValueError, UnicodeDecodeError) as e:
            warnings.append("malformed input line: %s" % e)
    except EngineDown as e:
        return str(e), warnings
    finally:
        eng.stop()
    return None, warnings


# ---------------------------------------------------------------------------
# reporting

def _j(v):
    return json.dumps(v, ensure_ascii=False, sort_keys=False)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Run the CEL conformance tests against "
                    "`gitstore cel eval --batch`.")
    ap.add_argument("files", nargs="*",
                    help="test files or names of files in --dir "
                         "(default: every *.textproto in --dir)")
    ap.add_argument("--dir", default=DEFAULT_DIR,
                    help="conformance test directory (default %(default)s; "
                         "env CEL_CONFORMANCE_DIR)")
    ap.add_argument("--bin", default=DEFAULT_BIN,
                    help="gitstore binary (default %(default)s)")
    ap.add_argument("--timeout", type=float, default=10.0,
                    help="seconds to wait for each answer (default %(default)s)")
    ap.add_argument("--min-pass", type=float, default=0.95,
                    help="required pass rate over non-skipped cases "
                         "(default %(default)s)")
    # 22% of the cel-spec cases (commit 508bd98) need protobuf messages;
    # the cap leaves headroom for new upstream files but fails the run
    # when a skip rule starts swallowing ordinary cases
    ap.add_argument("--max-skip", type=float, default=0.30,
                    help="largest allowed share of skipped cases "
                         "(default %(default)s)")
    ap.add_argument("--give-up-after", type=int, default=3,
                    help="consecutive engine crashes/hangs after which the "
                         "rest of a file is failed unrun (default %(default)s)")
    ap.add_argument("--filter", default="",
                    help="only run cases whose file/section/name contains this")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="print every failing case")
    ap.add_argument("--list-skipped", action="store_true",
                    help="print every skipped case with its reason")
    ap.add_argument("--json", metavar="PATH",
                    help="write a machine-readable report to PATH")
    args = ap.parse_args(argv)
    if not 0 <= args.min_pass <= 1 or not 0 <= args.max_skip <= 1:
        ap.error("--min-pass and --max-skip are fractions between 0 and 1")

    paths = []
    for f in args.files:
        # a bare name ("timestamps") means that file in --dir
        alt = os.path.join(args.dir, f if f.endswith(".textproto")
                           else f + ".textproto")
        paths.append(f if os.path.exists(f) or not os.path.exists(alt) else alt)
    paths = paths or sorted(glob.glob(os.path.join(args.dir, "*.textproto")))
    if not paths:
        print("cel-conformance: no *.textproto files in %s" % args.dir,
              file=sys.stderr)
        return 2

    # parse everything first: a file that does not parse is a hard error
    loaded = []
    for p in paths:
        try:
            loaded.append(load_file(p))
        except (OSError, TextProtoError, BadTest) as e:
            print("cel-conformance: FATAL: cannot load %s: %s" % (p, e),
                  file=sys.stderr)
            return 2
    if args.filter:
        for _, cases in loaded:
            for c in cases:
                if args.filter not in c.full_name:
                    c.status, c.why = "filtered", ""

    engine_argv = [args.bin, "cel", "eval", "--batch"]
    print("cel-conformance: engine %s" % " ".join(engine_argv))
    down, warnings = probe(engine_argv, args.timeout)
    for w in warnings:
        print("cel-conformance: PROTOCOL WARNING: %s" % w)
    if down:
        print("cel-conformance: ENGINE UNAVAILABLE: %s" % down)
        print("cel-conformance: every runnable case counts as failed")

    engine = Engine(engine_argv, args.timeout)
    notes = {}
    exit_problems = {}
    for fname, cases in loaded:
        runnable = [c for c in cases if c.status not in ("skip", "filtered")]
        if down:
            for c in runnable:
                c.status, c.why = "fail", "engine unavailable: %s" % down
        else:
            note, exit_problem = run_file(engine, runnable,
                                          args.give_up_after)
            if note:
                notes[fname] = note
            if exit_problem:
                exit_problems[fname] = exit_problem

    tot = {"total": 0, "passed": 0, "failed": 0, "skipped": 0}
    per_file = []
    skip_counts = {r: 0 for r in SKIP_RULE_IDS}
    for fname, cases in loaded:
        cs = [c for c in cases if c.status != "filtered"]
        st = {"file": fname, "total": len(cs),
              "passed": sum(c.status == "pass" for c in cs),
              "failed": sum(c.status == "fail" for c in cs),
              "skipped": sum(c.status == "skip" for c in cs)}
        per_file.append(st)
        for k in tot:
            tot[k] += st[k]
        for c in cs:
            if c.status == "skip":
                skip_counts[c.skip.rule] += 1

    if args.list_skipped:
        print("skipped cases:")
        for _, cases in loaded:
            for c in cases:
                if c.status == "skip":
                    print("  SKIP %s [%s] %s" % (c.full_name, c.skip.rule,
                                                 c.skip.detail))
    if args.verbose:
        for _, cases in loaded:
            for c in cases:
                if c.status != "fail":
                    continue
                print("FAIL %s (line %s): %s" % (c.full_name, c.line, c.why))
                print("     expr:     %s" % c.expr)
                if c.bindings:
                    print("     bindings: %s" % _j(c.bindings))
                if c.container:
                    print("     container: %s" % c.container)
                if c.expect == "error":
                    print("     expected: eval error %s" % _j(c.expected_errors))
                else:
                    print("     expected: %s" % _j(c.expected))
                got = c.got
                if isinstance(got, dict):
                    got = {k: v for k, v in got.items() if k != "id"}
                print("     got:      %s" % (_j(got) if got is not None else "-"))

    print("skip rules (cases skipped):")
    for rule, text in SKIP_RULES:
        print("  %-22s %4d  %s" % (rule, skip_counts[rule], text))
    print("results per file (passed/run, skipped):")
    for st in per_file:
        print("%s: %d/%d (skipped %d)" % (st["file"], st["passed"],
                                          st["total"] - st["skipped"],
                                          st["skipped"]))
        if st["file"] in notes:
            print("  note: %s" % notes[st["file"]])
        if st["file"] in exit_problems:
            print("  engine exit: %s" % exit_problems[st["file"]])
    run = tot["total"] - tot["skipped"]
    rate = tot["passed"] / run if run else 0.0
    skip_share = tot["skipped"] / tot["total"] if tot["total"] else 1.0
    print("TOTAL: %d/%d passed (%.1f%%), %d failed, %d skipped of %d cases "
          "(%.1f%%)" % (tot["passed"], run, 100 * rate, tot["failed"],
                        tot["skipped"], tot["total"], 100 * skip_share))

    problems = []
    if run == 0:
        problems.append("no case was run")
    elif rate < args.min_pass:
        problems.append("pass rate %.1f%% is below %.1f%%"
                        % (100 * rate, 100 * args.min_pass))
    if skip_share > args.max_skip and not args.filter:
        problems.append("%.1f%% of the cases are skipped, more than the "
                        "allowed %.1f%%: check the skip rules"
                        % (100 * skip_share, 100 * args.max_skip))
    if down:
        problems.append("engine unavailable")
    if exit_problems:
        problems.append("engine did not exit cleanly at end of input (%s)"
                        % ", ".join(sorted(exit_problems)))
    print("cel-conformance: %s" % ("FAILED: " + "; ".join(problems)
                                   if problems else "ok"))

    if args.json:
        report = {
            "engine": engine_argv,
            "engine_unavailable": down,
            "protocol_warnings": warnings,
            "min_pass": args.min_pass,
            "max_skip": args.max_skip,
            "totals": dict(tot, run=run, pass_rate=rate, skip_share=skip_share),
            "ok": not problems,
            "problems": problems,
            "skip_rules": [{"rule": r, "description": d, "count": skip_counts[r]}
                           for r, d in SKIP_RULES],
            "files": per_file,
            "notes": notes,
            "exit_problems": exit_problems,
            "cases": [
                {"file": c.file, "section": c.section, "name": c.name,
                 "line": c.line, "expr": c.expr, "container": c.container,
                 "bindings": c.bindings or None, "status": c.status,
                 "skip_rule": c.skip.rule if c.skip else None,
                 "reason": c.why or None,
                 "expected": (c.expected if c.expect == "value" else
                              {"eval_error": c.expected_errors}
                              if c.expect == "error" else None),
                 "got": ({k: v for k, v in c.got.items() if k != "id"}
                         if isinstance(c.got, dict) else None)}
                for _, cases in loaded for c in cases if c.status != "filtered"],
        }
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, ensure_ascii=False, indent=1)
            f.write("\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
