#!/usr/bin/python3
"""Self-tests for the text-format parser (textproto.py) and for the
conformance runner's helpers (conformance.py).

Run with:  /usr/bin/python3 tests/cel/test_textproto.py
      or:  cd tests/cel && /usr/bin/python3 -m unittest test_textproto
"""

import glob
import math
import os
import struct
import sys
import tempfile
import textwrap
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the working tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import conformance as C  # noqa: E402
import textproto as tp  # noqa: E402
from textproto import Message, Scalar, TextProtoError  # noqa: E402


def S(data):
    return Scalar("string", data)


class Lexing(unittest.TestCase):
    def value(self, text):
        return tp.parse("f: " + text).get("f")

    def test_string_escapes(self):
        self.assertEqual(self.value(r'"\a\b\f\n\r\t\v\\\'\"\?"').value,
                         b"\a\b\f\n\r\t\v\\'\"?")
        self.assertEqual(self.value(r"'\'\"'").value, b"'\"")

    def test_octal_escapes(self):
        self.assertEqual(self.value(r'"\0\00\000\1234"').value,
                         b"\x00\x00\x00S4")
        self.assertEqual(self.value(r'"\303\277"').value, "ÿ".encode())
        self.assertEqual(self.value(r'"\377\0008"').value, b"\xff\x008")
        with self.assertRaises(TextProtoError):
            self.value(r'"\400"')

    def test_hex_escapes(self):
        self.assertEqual(self.value(r'"\xe2\x9c\x8c"').value, "✌".encode())
        self.assertEqual(self.value(r'"\x4g"').value, b"\x04g")
        self.assertEqual(self.value(r'"\X41"').value, b"A")
        self.assertEqual(self.value(r'"\x414"').value, b"A4")  # two digits max
        with self.assertRaises(TextProtoError):
            self.value(r'"\xg"')

    def test_unicode_escapes(self):
        self.assertEqual(self.value(r'"\u00e9\u2028"').value,
                         "é\u2028".encode())
        self.assertEqual(self.value(r'"\U0001F431"').value, "🐱".encode())
        self.assertEqual(self.value(r'"\ud83d\udc31"').value, "🐱".encode())
        for bad in (r'"\u12"', r'"\ud83d"', r'"\udc31"', r'"\U00110000"',
                    r'"\q"', '"\\'):
            with self.assertRaises(TextProtoError, msg=bad):
                self.value(bad)

    def test_raw_utf8_and_concatenation(self):
        v = self.value("'завтра' \"🐱\"\n  # comment between\n 'x\\n'")
        self.assertEqual(v.value, "завтра🐱x\n".encode())
        self.assertEqual(v.as_text(), "завтра🐱x\n")

    def test_invalid_utf8_is_bytes_not_text(self):
        v = self.value(r'"\000\377"')
        self.assertEqual(v.as_bytes(), b"\x00\xff")
        with self.assertRaises(TextProtoError):
            v.as_text()

    def test_quotes_inside_other_quotes(self):
        self.assertEqual(self.value("'\"\"'").value, b'""')
        self.assertEqual(self.value('"\'"').value, b"'")
        self.assertEqual(self.value("'#not a comment'").value,
                         b"#not a comment")

    def test_unterminated_and_multiline_strings(self):
        for bad in ('"abc', "'abc\n'", '"a\\\nb"'):
            with self.assertRaises(TextProtoError, msg=bad):
                tp.parse("f: " + bad)

    def test_integers(self):
        self.assertEqual(self.value("0").value, 0)
        self.assertEqual(self.value("-0").as_float(), 0.0)
        self.assertEqual(struct.pack("<d", self.value("-0").as_float()),
                         struct.pack("<d", -0.0))
        self.assertEqual(self.value("18446744073709551615").value, 2**64 - 1)
        self.assertEqual(self.value("-9223372036854775808").value, -2**63)
        self.assertEqual(self.value("0x7fFF").value, 0x7FFF)
        self.assertEqual(self.value("-0x10").value, -16)
        self.assertEqual(self.value("017").value, 15)
        self.assertEqual(self.value("- 5").value, -5)  # sign is a token
        for bad in ("09", "0x", "12abc", "1.2.3", "1e"):
            with self.assertRaises(TextProtoError, msg=bad):
                self.value(bad)

    def test_floats(self):
        cases = {"1.5": 1.5, "-1.5": -1.5, ".5": 0.5, "1.": 1.0,
                 "1e3": 1000.0, "1E-3": 0.001, "2.5e+2": 250.0,
                 "1.5f": 1.5, "3F": 3.0, "-4.5": -4.5,
                 "1.8446744073709551615e19": 1.8446744073709551615e19}
        for text, want in cases.items():
            v = self.value(text)
            self.assertEqual(v.kind, "float", text)
            self.assertEqual(v.as_float(), want, text)
        self.assertEqual(self.value("1").as_float(), 1.0)
        self.assertEqual(self.value("-0.0").as_float(), 0.0)
        self.assertTrue(math.copysign(1, self.value("-0.0").as_float()) < 0)

    def test_float_identifiers(self):
        for text, want in (("inf", math.inf), ("-inf", -math.inf),
                           ("Infinity", math.inf), ("-infinity", -math.inf),
                           ("INF", math.inf)):
            self.assertEqual(self.value(text).as_float(), want, text)
        self.assertTrue(math.isnan(self.value("nan").as_float()))
        self.assertTrue(math.isnan(self.value("-NaN").as_float()))
        with self.assertRaises(TextProtoError):
            self.value("-FOO")
        with self.assertRaises(TextProtoError):
            self.value("NULL_VALUE").as_float()

    def test_bools_and_enums(self):
        for t in ("true", "True", "t", "1"):
            self.assertIs(self.value(t).as_bool(), True, t)
        for t in ("false", "False", "f", "0"):
            self.assertIs(self.value(t).as_bool(), False, t)
        with self.assertRaises(TextProtoError):
            self.value("2").as_bool()
        self.assertEqual(self.value("NULL_VALUE").as_enum(), "NULL_VALUE")
        self.assertEqual(self.value("0").as_enum(), 0)


class Structure(unittest.TestCase):
    def test_messages_both_delimiters_colon_optional(self):
        m = tp.parse("a { x: 1 } b: { x: 2 } c < x: 3 > d: <x: 4>")
        for name, want in zip("abcd", range(1, 5)):
            self.assertEqual(m.message(name).get("x").value, want)

    def test_mismatched_delimiters(self):
        for bad in ("a { x: 1 >", "a < x: 1 }", "a { x: 1", "a { x: 1 }}",
                    "}", "a: { b { } "):
            with self.assertRaises(TextProtoError, msg=bad):
                tp.parse(bad)

    def test_scalar_needs_colon(self):
        with self.assertRaises(TextProtoError):
            tp.parse("a 1")
        with self.assertRaises(TextProtoError):
            tp.parse("a [1, 2]")
        with self.assertRaises(TextProtoError):
            tp.parse("a:")

    def test_repeated_fields_and_list_syntax(self):
        m = tp.parse("v: 1 v: 2, v: [3, 4]; m { } m: [{x: 1}, <x: 2>] "
                     "m [{x: 3}] e: []")
        self.assertEqual([s.value for s in m.getall("v")], [1, 2, 3, 4])
        self.assertEqual(len(m.getall("m")), 4)
        self.assertEqual(m.getall("m")[3].get("x").value, 3)
        self.assertEqual(m.getall("e"), [])
        self.assertEqual(m.get("v").value, 4)  # last one wins
        with self.assertRaises(TextProtoError):
            tp.parse("v: [1 2]")
        with self.assertRaises(TextProtoError):
            tp.parse("v: [1,]")

    def test_separators_and_comments(self):
        m = tp.parse(textwrap.dedent("""\
            # leading comment
            name: "x",   # trailing comment with "quote and { brace
            ident: { type: { primitive: INT64 } };
            n: 3#no space
            """))
        self.assertEqual(m.text("name"), "x")
        self.assertEqual(m.message("ident").message("type").get("primitive")
                         .value, "INT64")
        self.assertEqual(m.get("n").value, 3)

    def test_any_expansion_and_extensions(self):
        m = tp.parse(textwrap.dedent("""\
            object_value {
              [type.googleapis.com/google.protobuf.Duration] {
                seconds: 123
                nanos: 321456789
              }
            }
            [pkg.ext_field]: 5
            [pkg.ext_msg] < a: 1 >
            """))
        obj = m.message("object_value")
        self.assertEqual(obj.names(),
                         ["[type.googleapis.com/google.protobuf.Duration]"])
        d = obj.get("[type.googleapis.com/google.protobuf.Duration]")
        self.assertEqual((d.get("seconds").value, d.get("nanos").value),
                         (123, 321456789))
        self.assertEqual(m.get("[pkg.ext_field]").value, 5)
        self.assertEqual(m.message("[pkg.ext_msg]").get("a").value, 1)
        with self.assertRaises(TextProtoError):
            tp.parse("[type.googleapis.com/x.Y]: 5")  # Any needs a message
        with self.assertRaises(TextProtoError):
            tp.parse("[a/b/c] {}")

    def test_errors_have_positions(self):
        try:
            tp.parse("a {\n  b: 1\n  c: @\n}", source="f.textproto")
        except TextProtoError as e:
            self.assertEqual((e.line, e.col), (3, 6))
            self.assertIn("f.textproto:3:6", str(e))
        else:
            self.fail("no error")

    def test_empty_input(self):
        self.assertEqual(tp.parse("  # nothing\n").fields, [])


class ValueTranslation(unittest.TestCase):
    def conv(self, text):
        return C.value_to_json(tp.parse(text))

    def test_scalars(self):
        self.assertEqual(self.conv("int64_value: -5"), {"int64Value": "-5"})
        self.assertEqual(self.conv("uint64_value: 18446744073709551615"),
                         {"uint64Value": "18446744073709551615"})
        self.assertEqual(self.conv("double_value: 0"), {"doubleValue": 0.0})
        self.assertEqual(self.conv("double_value: -inf"),
                         {"doubleValue": "-Infinity"})
        self.assertEqual(self.conv("double_value: nan"), {"doubleValue": "NaN"})
        self.assertEqual(self.conv("null_value: NULL_VALUE"), {"nullValue": None})
        self.assertEqual(self.conv("null_value: 0"), {"nullValue": None})
        self.assertEqual(self.conv(r'bytes_value: "\000\377"'),
                         {"bytesValue": "AP8="})
        self.assertEqual(self.conv(r'string_value: "\xf0\x9f\x90\xb1"'),
                         {"stringValue": "🐱"})
        self.assertEqual(self.conv('type_value: "int"'), {"typeValue": "int"})
        with self.assertRaises(C.BadTest):
            self.conv("int64_value: 9223372036854775808")
        with self.assertRaises(C.BadTest):
            self.conv("int64_value: 1 bool_value: true")
        with self.assertRaises(C.BadTest):
            self.conv("int_value: 1")

    def test_aggregates(self):
        self.assertEqual(self.conv("list_value: {}"), {"listValue": {"values": []}})
        self.assertEqual(
            self.conv('map_value { entries { key { string_value: "k" } '
                      'value { list_value { values { bool_value: true } } } } }'),
            {"mapValue": {"entries": [{"key": {"stringValue": "k"},
                                       "value": {"listValue": {"values": [
                                           {"boolValue": True}]}}}]}})

    def test_well_known_objects(self):
        self.assertEqual(
            self.conv("object_value { [type.googleapis.com/google.protobuf."
                      "Duration] { seconds: 123 nanos: 321456789 } }"),
            {"objectValue": {"@type": C.DUR_URL, "value": "123.321456789s"}})
        self.assertEqual(
            self.conv("object_value { [type.googleapis.com/google.protobuf."
                      "Duration] { seconds: -1 nanos: -500000000 } }"),
            {"objectValue": {"@type": C.DUR_URL, "value": "-1.500s"}})
        self.assertEqual(
            self.conv("object_value { [type.googleapis.com/google.protobuf."
                      "Timestamp] { seconds: 1234567890 } }"),
            {"objectValue": {"@type": C.TS_URL, "value": "2009-02-13T23:31:30Z"}})
        self.assertEqual(
            self.conv("object_value { [type.googleapis.com/google.protobuf."
                      "Timestamp] { seconds: -62135596800 nanos: 1000 } }"),
            {"objectValue": {"@type": C.TS_URL,
                             "value": "0001-01-01T00:00:00.000001Z"}})

    def test_message_values_are_skipped(self):
        with self.assertRaises(C.Skip) as cm:
            self.conv("object_value { [type.googleapis.com/google.protobuf."
                      "Int32Value] { value: 1 } }")
        self.assertEqual(cm.exception.rule, "proto-message-value")
        with self.assertRaises(C.Skip):
            self.conv('list_value { values { object_value { type_url: "x" } } }')
        with self.assertRaises(C.Skip) as cm:
            self.conv('enum_value { type: "E" value: 1 }')
        self.assertEqual(cm.exception.rule, "proto-enum-value")


class ExprScreening(unittest.TestCase):
    def skipped(self, expr):
        try:
            C.screen_expr(expr)
        except C.Skip:
            return True
        return False

    def test_message_expressions(self):
        for e in ("TestAllTypes{}", "a.b.Msg{x: 1}", ".pkg.Msg {}",
                  "google.protobuf.Int32Value{value: 1} == 1",
                  "x == cel.expr.conformance.proto3.TestAllTypes.NestedEnum.BAR",
                  "[ . cel. expr .conformance. proto3. TestAllTypes { } ]",
                  "Value{null_value: NullValue.NULL_VALUE}",
                  "type(x) == google.protobuf.Struct"):
            self.assertTrue(self.skipped(e), e)

    def test_plain_expressions(self):
        for e in ("{1: 2}", "x in {1: 2}", "[{}, {'a': {}}]",
                  "f({'a': 1})", "'TestAllTypes{'", "r'google.protobuf.Any'",
                  "b\"\"\"Msg{\"\"\" == b''", "'\\'Msg{' + x",
                  "google.protobuf.Timestamp == type(timestamp(0))",
                  "google.protobuf.Duration == type(duration('1s'))",
                  "true ? {} : {1: 2}", "a // Msg{ in a comment\n + 1"):
            self.assertFalse(self.skipped(e), e)


class ValueComparison(unittest.TestCase):
    def eq(self, exp, got):
        return C.values_equal(exp, got)

    def test_kinds_are_distinct(self):
        self.assertTrue(self.eq({"int64Value": "1"}, {"int64Value": "1"}))
        self.assertTrue(self.eq({"int64Value": "1"}, {"int64Value": 1}))
        self.assertFalse(self.eq({"int64Value": "1"}, {"uint64Value": "1"}))
        self.assertFalse(self.eq({"int64Value": "1"}, {"doubleValue": 1}))
        self.assertFalse(self.eq({"boolValue": True}, {"boolValue": False}))

    def test_doubles(self):
        self.assertTrue(self.eq({"doubleValue": "NaN"}, {"doubleValue": "NaN"}))
        self.assertFalse(self.eq({"doubleValue": "NaN"}, {"doubleValue": 1.0}))
        self.assertTrue(self.eq({"doubleValue": "-Infinity"},
                                {"doubleValue": "-Infinity"}))
        self.assertFalse(self.eq({"doubleValue": -0.0}, {"doubleValue": 0.0}))
        self.assertTrue(self.eq({"doubleValue": -0.0},
                                C.decode_line(b'{"doubleValue": -0}')))
        self.assertTrue(self.eq({"doubleValue": 2.0}, {"doubleValue": 2}))
        self.assertFalse(self.eq({"doubleValue": 0.1},
                                 {"doubleValue": 0.1 + 2**-56}))
        with self.assertRaises(ValueError):
            C.decode_line(b'{"doubleValue": NaN}')

    def test_lists_and_maps(self):
        a, b = {"int64Value": "1"}, {"stringValue": "b"}
        self.assertTrue(self.eq({"listValue": {"values": [a, b]}},
                                {"listValue": {"values": [a, b]}}))
        self.assertFalse(self.eq({"listValue": {"values": [a, b]}},
                                 {"listValue": {"values": [b, a]}}))
        self.assertTrue(self.eq({"listValue": {"values": []}}, {"listValue": {}}))
        m1 = {"mapValue": {"entries": [{"key": a, "value": b},
                                       {"key": b, "value": a}]}}
        m2 = {"mapValue": {"entries": [{"key": b, "value": a},
                                       {"key": a, "value": b}]}}
        self.assertTrue(self.eq(m1, m2))
        m3 = {"mapValue": {"entries": [{"key": b, "value": b},
                                       {"key": a, "value": b}]}}
        self.assertFalse(self.eq(m1, m3))
        self.assertFalse(self.eq(m1, {"mapValue": {}}))

    def test_bytes_and_objects(self):
        self.assertTrue(self.eq({"bytesValue": "AP8="}, {"bytesValue": "AP8"}))
        self.assertTrue(self.eq({"bytesValue": "+/8="}, {"bytesValue": "-_8="}))
        self.assertFalse(self.eq({"bytesValue": "AP8="}, {"bytesValue": "AP4="}))
        d = lambda v: {"objectValue": {"@type": C.DUR_URL, "value": v}}
        t = lambda v: {"objectValue": {"@type": C.TS_URL, "value": v}}
        self.assertTrue(self.eq(d("1.5s"), d("1.500000000s")))
        self.assertFalse(self.eq(d("1.5s"), d("-1.5s")))
        self.assertTrue(self.eq(t("2009-02-13T23:31:30Z"),
                                t("2009-02-14T00:31:30.000+01:00")))
        self.assertFalse(self.eq(t("1970-01-01T00:00:01Z"), d("1s")))

    def test_malformed_engine_values(self):
        for got in ({"int64Value": "x"}, {"int64Value": "1", "boolValue": 1},
                    {"boolValue": "true"}, {"bytesValue": "!!"},
                    {"doubleValue": "1.5x"}, [], {"fooValue": 1},
                    {"listValue": {"values": [{"int64Value": "zz"}]}},
                    {"objectValue": {"@type": C.DUR_URL, "value": "1.5"}}):
            with self.assertRaises(C.Malformed, msg=repr(got)):
                self.eq({"int64Value": "1"}, got)


FAKE_ENGINE = r'''
import json, re, sys, time
for line in sys.stdin:
    req = json.loads(line)
    e = req["expr"]
    m = re.fullmatch(r"(\d+) \+ (\d+)", e)
    if m:
        e = str(int(m.group(1)) + int(m.group(2)))
    if e == "CRASH":
        sys.exit(3)
    if e == "HANG":
        time.sleep(60)
    if e == "GARBAGE":
        print("hello", flush=True)
        continue
    if e == "WRONGID":
        print(json.dumps({"id": "nope", "value": {"int64Value": "1"}}), flush=True)
        continue
    if e == "ERR":
        out = {"id": req["id"], "error": "boom", "stage": "eval"}
    elif e == "PARSEERR":
        out = {"id": req["id"], "error": "syntax", "stage": "parse"}
    else:
        out = {"id": req["id"], "value": {"int64Value": e}}
    print(json.dumps(out), flush=True)
'''


class EngineHandling(unittest.TestCase):
    def setUp(self):
        fd, self.script = tempfile.mkstemp(suffix=".py")
        with os.fdopen(fd, "w") as f:
            f.write(FAKE_ENGINE)

    def tearDown(self):
        os.unlink(self.script)

    def cases(self, specs):
        out = []
        for i, (expr, expect) in enumerate(specs):
            c = C.Case("f", "s", "t%d" % i, i)
            c.id, c.expr = "f#%d" % i, expr
            if expect == "error":
                c.expect = "error"
            else:
                c.expect, c.expected = "value", {"int64Value": expect}
            out.append(c)
        return out

    def test_crash_hang_and_protocol_errors_restart(self):
        eng = C.Engine([sys.executable, self.script], timeout=1.0)
        cs = self.cases([("1", "1"), ("2", "3"), ("CRASH", "1"), ("4", "4"),
                         ("HANG", "1"), ("5", "5"), ("GARBAGE", "1"),
                         ("6", "6"), ("WRONGID", "1"), ("7", "7"),
                         ("ERR", "error"), ("PARSEERR", "error"),
                         ("8", "error"), ("ERR", "1")])
        note, exit_problem = C.run_file(eng, cs, give_up_after=3)
        self.assertIsNone(note)
        self.assertIsNone(exit_problem)
        got = [c.status for c in cs]
        self.assertEqual(got, ["pass", "fail", "fail", "pass", "fail", "pass",
                               "fail", "pass", "fail", "pass", "pass", "fail",
                               "fail", "fail"])
        self.assertIn("exited with status 3", cs[2].why)
        self.assertIn("timeout", cs[4].why)
        self.assertIn("not a JSON line", cs[6].why)
        self.assertIn("expected 'f#8'", cs[8].why)
        self.assertIsNone(eng.proc)

    def test_gives_up_after_repeated_failures(self):
        eng = C.Engine([sys.executable, self.script], timeout=1.0)
        cs = self.cases([("1", "1")] + [("CRASH", "1")] * 3 + [("2", "2")] * 5)
        note, _ = C.run_file(eng, cs, give_up_after=3)
        self.assertIn("3 case(s) in a row", note)
        self.assertEqual([c.status for c in cs], ["pass"] + ["fail"] * 8)
        self.assertTrue(cs[-1].why.startswith("not run:"))

    def test_unclean_exit_is_reported(self):
        with open(self.script, "a") as f:
            f.write("sys.exit(7)\n")
        eng = C.Engine([sys.executable, self.script], timeout=2.0)
        cs = self.cases([("1", "1")])
        note, exit_problem = C.run_file(eng, cs, give_up_after=3)
        self.assertEqual(cs[0].status, "pass")
        self.assertIsNone(note)
        self.assertIn("exited with status 7", exit_problem)

    def test_hang_at_end_of_input_is_reported(self):
        with open(self.script, "a") as f:
            f.write("time.sleep(60)\n")
        eng = C.Engine([sys.executable, self.script], timeout=1.0)
        cs = self.cases([("1", "1")])
        _, exit_problem = C.run_file(eng, cs, give_up_after=3)
        self.assertEqual(cs[0].status, "pass")
        self.assertIn("did not exit", exit_problem)
        self.assertIsNone(eng.proc)

    def test_missing_binary(self):
        err, _ = C.probe(["/nonexistent/gitstore", "cel", "eval", "--batch"], 1.0)
        self.assertIn("cannot start", err)

    def test_probe(self):
        err, warnings = C.probe([sys.executable, self.script], 2.0)
        self.assertIsNone(err)
        # the fake engine dies on a malformed line: a warning, not an error
        self.assertTrue(warnings)
        self.assertIn("malformed input line", warnings[0])


class ConformanceFiles(unittest.TestCase):
    """Every conformance file must parse and translate completely."""

    def test_all_files_load(self):
        files = sorted(glob.glob(os.path.join(C.DEFAULT_DIR, "*.textproto")))
        if not files:
            self.skipTest("no conformance files in %s" % C.DEFAULT_DIR)
        total = 0
        for path in files:
            name, cases = C.load_file(path)
            self.assertTrue(cases, path)
            total += len(cases)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            # every "test {" at the start of a line is a test we loaded
            self.assertEqual(
                len(cases),
                sum(1 for ln in text.splitlines() if ln.strip() in
                    ("test {", "test: {", "test <")), path)
        self.assertGreater(total, 1000)


if __name__ == "__main__":
    unittest.main()
