#!/usr/bin/env python3
"""Check an EVTX file with python-evtx, a reader independent of the Rust one.

Usage: python3 scripts/check_evtx.py FILE.evtx EXPECTED.json

EXPECTED.json is a JSON list with one object per record, in file order:
    {"record_id", "event_id", "provider", "channel", "computer", "level", "time_ms",
     "data": [the EventData values, in order]}
(exsweep-fixtures' tests write it next to the EVTX file they check).

The script verifies the file header and every chunk's CRC32s, renders each record to XML with
python-evtx, parses that XML, and compares every field. It prints "OK N records" and exits 0,
or prints the mismatches and exits 1 (2 for bad usage or an unreadable input).

Needs `pip install python-evtx`.

Values are compared as an XML reader sees them: python-evtx drops the control characters XML
cannot carry, and XML parsing turns CR LF and lone CR into LF, so the expected values get the
same treatment first.
"""

import datetime
import json
import re
import sys
import xml.etree.ElementTree as ET

try:
    import Evtx.Evtx as evtx
except ImportError:
    print("python-evtx is not installed: pip install python-evtx", file=sys.stderr)
    sys.exit(2)

NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"
# The characters python-evtx's XML view removes (its RESTRICTED_CHARS).
RESTRICTED = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
MAX_REPORTED = 25


def as_xml_reads(value):
    """A value as it reads back from rendered XML."""
    value = RESTRICTED.sub("", value)
    return value.replace("\r\n", "\n").replace("\r", "\n")


def to_ms(when):
    """A datetime (naive means UTC) to Unix epoch milliseconds, rounded to the nearest."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    micros = (when - EPOCH) // datetime.timedelta(microseconds=1)
    # python-evtx computes FILETIMEs through a float, a few microseconds off at most.
    return (micros + 500) // 1000


def text(element):
    return "" if element is None or element.text is None else element.text


def record_fields(record):
    """The fields EXPECTED.json holds, read from python-evtx's XML rendering of `record`."""
    root = ET.fromstring(record.xml())
    system = root.find(NS + "System")
    provider = system.find(NS + "Provider")
    time_created = system.find(NS + "TimeCreated")
    event_data = root.find(NS + "EventData")
    data = [] if event_data is None else [text(d) for d in event_data.findall(NS + "Data")]
    system_time = time_created.get("SystemTime", "")
    return {
        "record_id": int(text(system.find(NS + "EventRecordID"))),
        "event_id": int(text(system.find(NS + "EventID"))),
        "provider": provider.get("Name") if provider is not None else None,
        "channel": text(system.find(NS + "Channel")),
        "computer": text(system.find(NS + "Computer")),
        "level": int(text(system.find(NS + "Level"))),
        "time_ms": to_ms(datetime.datetime.fromisoformat(system_time)),
        "data": data,
    }


def check(path, expected):
    problems = []
    with evtx.Evtx(path) as log:
        header = log.get_file_header()
        if not header.verify():
            problems.append("file header: bad magic, version or CRC32")
        for number, chunk in enumerate(header.chunks()):
            if not chunk.verify():
                problems.append("chunk %d: bad magic or CRC32" % number)

        count = 0
        for index, record in enumerate(log.records()):
            count += 1
            if index >= len(expected):
                continue
            want = dict(expected[index])
            want["data"] = [as_xml_reads(v) for v in want["data"]]
            where = "record #%d (id %s)" % (index + 1, want["record_id"])
            if record.record_num() != want["record_id"]:
                problems.append("%s: header record id %d" % (where, record.record_num()))
            if to_ms(record.timestamp()) != want["time_ms"]:
                problems.append("%s: header time %s" % (where, record.timestamp()))
            try:
                got = record_fields(record)
            except Exception as error:  # any failure to render or parse is a mismatch
                problems.append("%s: cannot read: %r" % (where, error))
                continue
            for key in ("record_id", "event_id", "provider", "channel", "computer", "level",
                        "time_ms", "data"):
                if got[key] != want[key]:
                    problems.append("%s: %s is %r, expected %r" % (where, key, got[key], want[key]))
    if count != len(expected):
        problems.append("%d records, expected %d" % (count, len(expected)))
    return count, problems


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        with open(argv[2], encoding="utf-8") as f:
            expected = json.load(f)
        count, problems = check(argv[1], expected)
    except (OSError, ValueError) as error:
        print("cannot check %s: %s" % (argv[1], error), file=sys.stderr)
        return 2
    if problems:
        for problem in problems[:MAX_REPORTED]:
            print(problem)
        if len(problems) > MAX_REPORTED:
            print("... and %d more" % (len(problems) - MAX_REPORTED))
        print("FAILED: %d mismatches in %d records" % (len(problems), count))
        return 1
    print("OK %d records" % count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
