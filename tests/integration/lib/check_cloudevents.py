#!/usr/bin/python3
"""Check an NDJSON file of CloudEvents (one structured-mode JSON event per line).

usage: check_cloudevents.py --schema cloudevents-1.0.schema.json FILE|-

Every line must be a JSON object that validates against the CloudEvents 1.0
JSON Schema (draft-07, with the date-time, uri and uri-reference formats
checked) and follows the CloudEvents 1.0 rules the schema cannot express:
specversion "1.0", attribute names of lower-case letters and digits, not both
data and data_base64, extension attribute values of a CloudEvents type
(string, boolean or 32-bit integer), no duplicate member names.  gitstore's
own limit applies too: no event over 64 KiB.  An empty file, a blank line or
an unterminated last line fails.  Prints one line per problem as
FILE:LINE: message, and exits 1 if there was any.
"""

import argparse
import datetime
import json
import re
import sys

import jsonschema

MAX_EVENT_BYTES = 64 * 1024
MAX_REPORTS = 50

CORE_ATTRIBUTES = {
    "id", "source", "specversion", "type", "datacontenttype", "dataschema",
    "subject", "time", "data", "data_base64",
}

DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
    r"([Zz]|[+-](\d{2}):(\d{2}))$")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")
URI_CHARS = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")
ATTRIBUTE_NAME = re.compile(r"^[a-z0-9]+$")


def is_date_time(value):
    """RFC 3339 date-time, as the JSON Schema "date-time" format."""
    if not isinstance(value, str):
        return True
    m = DATE_TIME.match(value)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    try:
        datetime.datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError:
        return False
    if second > 60:
        return False
    if m.group(9) is not None and (int(m.group(9)) > 23 or int(m.group(10)) > 59):
        return False
    return True


def is_uri_reference(value):
    """RFC 3986 URI-reference: allowed characters, valid %-escapes, one '#',
    and a valid scheme if the first segment has a colon."""
    if not isinstance(value, str):
        return True
    if not URI_CHARS.match(value) or value.count("#") > 1:
        return False
    head = re.split(r"[/?#]", value, maxsplit=1)[0]
    if ":" in head:
        return bool(SCHEME.match(head.split(":", 1)[0]))
    return True


def is_uri(value):
    if not isinstance(value, str):
        return True
    head = re.split(r"[/?#]", value, maxsplit=1)[0]
    return ":" in head and is_uri_reference(value)


def make_format_checker():
    checker = jsonschema.FormatChecker()
    checker.checks("date-time")(is_date_time)
    checker.checks("uri-reference")(is_uri_reference)
    checker.checks("uri")(is_uri)
    return checker


def reject_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError("duplicate member name %r" % key)
        obj[key] = value
    return obj


def spec_problems(event):
    """CloudEvents 1.0 rules beyond the JSON Schema."""
    problems = []
    if event.get("specversion") != "1.0":
        problems.append("specversion is %s, not \"1.0\"" % json.dumps(event.get("specversion")))
    for name, value in event.items():
        if not ATTRIBUTE_NAME.match(name) and name != "data_base64":
            problems.append("attribute name %r is not lower-case letters and digits" % name)
        if name in CORE_ATTRIBUTES or value is None:
            continue
        if isinstance(value, bool) or isinstance(value, str):
            continue
        if isinstance(value, int):
            if not -2**31 <= value < 2**31:
                problems.append("extension attribute %r: integer %d outside the 32-bit range" % (name, value))
            continue
        problems.append("extension attribute %r has a %s value; CloudEvents allows "
                        "string, boolean or integer" % (name, type(value).__name__))
    if "data" in event and "data_base64" in event:
        problems.append("both data and data_base64 are present")
    return problems


def describe(event):
    if not isinstance(event, dict):
        return ""
    return " [type=%s id=%s]" % (event.get("type"), event.get("id"))


def check(path, validator):
    if path == "-":
        raw = sys.stdin.buffer.read()
        path = "<stdin>"
    else:
        with open(path, "rb") as f:
            raw = f.read()
    problems = []
    if not raw:
        return path, 0, [(0, "no events (empty file)")]
    lines = raw.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    else:
        problems.append((len(lines), "last line is not terminated by a newline (truncated output?)"))
    for lineno, line in enumerate(lines, 1):
        _, msgs = line_problems(line, validator)
        problems.extend((lineno, msg) for msg in msgs)
    return path, len(lines), problems


def line_problems(line, validator):
    """Checks one line (bytes, without its newline) of an NDJSON file.
    Returns (event or None, [messages]); tests/schemas/validate_events.py
    reuses it, so both checks apply the same CloudEvents rules."""
    problems = []
    if len(line) > MAX_EVENT_BYTES:
        problems.append("event is %d bytes, over the 64 KiB limit" % len(line))
    if not line.strip():
        problems.append("blank line")
        return None, problems
    try:
        text = line.decode("utf-8")
        event = json.loads(text, object_pairs_hook=reject_duplicates)
    except (UnicodeDecodeError, ValueError) as e:
        problems.append("not JSON: %s" % e)
        return None, problems
    where = describe(event)
    for err in sorted(validator.iter_errors(event), key=lambda e: list(e.path)):
        field = "/".join(str(p) for p in err.absolute_path) or "(event)"
        problems.append("%s: %s%s" % (field, err.message, where))
    if isinstance(event, dict):
        for msg in spec_problems(event):
            problems.append(msg + where)
    return event, problems


def make_validator(schema):
    """The CloudEvents 1.0 schema (draft-07) with the formats checked."""
    return jsonschema.Draft7Validator(schema, format_checker=make_format_checker())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schema", required=True)
    parser.add_argument("file")
    args = parser.parse_args()

    with open(args.schema, encoding="utf-8") as f:
        schema = json.load(f)
    validator = make_validator(schema)

    path, count, problems = check(args.file, validator)
    for lineno, msg in problems[:MAX_REPORTS]:
        print("%s:%d: %s" % (path, lineno, msg), file=sys.stderr)
    if len(problems) > MAX_REPORTS:
        print("%s: ... and %d more problem(s)" % (path, len(problems) - MAX_REPORTS), file=sys.stderr)
    if problems:
        print("check_cloudevents: %s: %d problem(s) in %d line(s)" % (path, len(problems), count), file=sys.stderr)
        return 1
    print("check_cloudevents: %s: %d event(s) valid" % (path, count))
    return 0


if __name__ == "__main__":
    sys.exit(main())
