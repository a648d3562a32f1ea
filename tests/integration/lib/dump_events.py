#!/usr/bin/python3
"""Copy the event log of gitstore data directories into NDJSON files.

usage: dump_events.py OUTDIR TESTNAME DB...

For the Nth database (gitstore.db of one data directory) writes
OUTDIR/TESTNAME-N.jsonl: every stored event, in logseq order, one per line,
exactly as stored (so the schema check sees what consumers get).  Databases
without an events table (a data directory that never got past set-up) are
skipped.  The daemons must have stopped: the log is read directly, WAL
included.  Used by test-lib.sh when GITSTORE_EVENT_DUMP is set.
"""

import os
import sqlite3
import sys


def dump(db, out):
    try:
        conn = sqlite3.connect(db, timeout=5)
        try:
            rows = conn.execute("SELECT json FROM events ORDER BY logseq").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as e:
        # not a gitstore log (yet): nothing to check
        print("dump_events: %s: %s (skipped)" % (db, e), file=sys.stderr)
        return False
    if not rows:
        return False
    with open(out, "w", encoding="utf-8") as f:
        for (text,) in rows:
            # stored compact, one line each; a stray newline would show
            # up as a broken line in the check, as it should
            f.write(text + "\n")
    return True


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    outdir, name, dbs = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(outdir, exist_ok=True)
    n = 0
    for db in sorted(dbs):
        if dump(db, os.path.join(outdir, "%s-%d.jsonl" % (name, n + 1))):
            n += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
