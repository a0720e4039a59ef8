"""logparse.py: read tallyd's log lines strictly, as a log shipper would.

    python3 logparse.py logfmt|json FILE

Every line must parse on its own (logfmt: key=bare or key="quoted" pairs
separated by single spaces, JSON: one object) and begin with ts, level and
msg, in that order, with an RFC 3339 UTC timestamp and a known level. Prints
one "msg key=value..." summary per line (so the caller can grep events) and
exits 1 naming the first line that does not parse.
"""
import json
import re
import sys

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
KEY = r"[A-Za-z0-9_.\-]+"
BARE = r'[^\s"=\\\x7f]+'
QUOTED = r'"(?:[^"\\\x00-\x1f]|\\["\\nrt]|\\u[0-9a-fA-F]{4})*"'
PAIR = re.compile(rf"({KEY})=({BARE}|{QUOTED})")


def logfmt(line):
    fields, pos = [], 0
    while pos < len(line):
        m = PAIR.match(line, pos)
        if not m:
            raise ValueError(f"not key=value at column {pos}: {line[pos:pos + 30]!r}")
        v = m.group(2)
        fields.append((m.group(1), json.loads(v) if v.startswith('"') else v))
        pos = m.end()
        if pos < len(line):
            if line[pos] != " ":
                raise ValueError(f"no space after a pair at column {pos}")
            pos += 1
    return fields


def main():
    kind, path = sys.argv[1], sys.argv[2]
    with open(path, "rb") as f:
        raw = f.read()
    for n, line in enumerate(raw.decode("utf-8").split("\n")[:-1], 1):
        try:
            if kind == "json":
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError("not an object")
                fields = list(obj.items())
                if any(not isinstance(v, str) for _, v in fields):
                    raise ValueError("a value that is not a string")
            else:
                fields = logfmt(line)
            keys = [k for k, _ in fields]
            if keys[:3] != ["ts", "level", "msg"]:
                raise ValueError(f"starts with {keys[:3]}, not ts, level, msg")
            if len(set(keys)) != len(keys):
                raise ValueError("a key twice")
            if not TS.match(fields[0][1]):
                raise ValueError(f"ts {fields[0][1]!r}")
            if fields[1][1] not in ("error", "warn", "info", "debug"):
                raise ValueError(f"level {fields[1][1]!r}")
        except ValueError as e:
            print(f"{path}:{n}: {e}: {line!r}", file=sys.stderr)
            return 1
        print(" ".join([fields[2][1]] + [f"{k}={v}" for k, v in fields[3:]]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
