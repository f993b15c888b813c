"""Independent oracle for the detection engine.

pySigma, with its SQLite backend and the Windows/Sysmon pipelines, converts each SigmaHQ Windows rule to
SQL; the EVTX-ATTACK-SAMPLES events are loaded into an SQLite table (one row per event, one column per
field, as the backend expects); the rule's query selects the events it matches. Output: JSON mapping rule
id -> sorted event indexes (0-based line numbers of the JSONL file), plus the rules pySigma could not
convert and why.

The table has the shape the SQLite backend is written for (Zircolite's), so that the SQL means what the
Sigma specification says (see DISAGREEMENTS.md for what each point changed):
- every column is TEXT COLLATE NOCASE: "All values are treated as case-insensitive strings", so `=`
  ignores case as LIKE already does (|cased becomes GLOB, which stays case-sensitive), and a rule's
  3389 equals an event's "3389" and vice versa;
- JSON booleans are stored as the text the EVTX XML holds ("true"/"false"), not as SQLite's 1/0;
- a REGEXP function (Python re.search: unanchored, case-sensitive unless the rule's flags say
  otherwise) is registered, since SQLite has none;
- a field no event has is added as an empty column, so a rule naming it in an OR branch or a filter is
  still evaluated (SQLite would otherwise reject the whole query);
- field names follow the specification's Windows conventions: an element's text (JSON `#text`) has the
  element's name, so unnamed EventData <Data> elements are `Data` (several are one text, one per line:
  the rules call Data "the container for the event data as a whole"), and spaces are stripped
  (`Threat Name` -> `ThreatName`).
Each backend converts its own fresh copy of the rule (pySigma pipelines modify the rule they process:
converting one object twice stacked the Sysmon conditions onto the Security 4688 query), and the
Security-audit backend is used only for the categories its pipeline maps to Security events
(process_creation -> 4688, registry_* -> 4657): for any other it adds no log source condition at all.

    python sigma_oracle.py --rules RULES_DIR --events EVENTS.jsonl --out oracle.json
"""

import argparse
import json
import re
import sqlite3
import sys
import time
from pathlib import Path

from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection
from sigma.pipelines.sysmon import sysmon_pipeline
from sigma.pipelines.windows import windows_audit_pipeline, windows_logsource_pipeline
from sigma.pipelines.windows.windows import generic_logsource_to_windows_audit_event_mapping

# Log source categories the Windows audit pipeline maps to Security events (4688, 4657).
AUDIT_CATEGORIES = set(generic_logsource_to_windows_audit_event_mapping)


def flatten(event: dict) -> dict:
    """The flat field view Sigma rules use for Windows events: System fields (with attribute
    objects folded in as Name_Attr, e.g. Provider_Name) and EventData/UserData fields at top level,
    named as the specification says: spaces stripped, and an element's text (`#text`) under the
    element's own name (unnamed EventData <Data> elements are `Data`)."""
    root = event.get("Event", event)
    out: dict = {}
    system = root.get("System", {}) or {}
    for key, value in system.items():
        if key.endswith("_attributes") and isinstance(value, dict):
            base = key[: -len("_attributes")]
            for attr, v in value.items():
                out[f"{base}_{attr}"] = v
        elif not isinstance(value, dict):
            out[key] = value
    for section in ("EventData", "UserData"):
        data = root.get(section)
        if isinstance(data, dict):
            stack = [(data, section)]
            while stack:
                d, parent = stack.pop()
                for key, value in d.items():
                    if isinstance(value, dict):
                        stack.append((value, key))
                    elif not key.endswith("_attributes"):
                        name = parent if key == "#text" else key
                        out.setdefault(name.replace(" ", ""), value)
    return out


def cell(value):
    """A JSON value as an SQLite cell (the column's TEXT affinity turns numbers into their text):
    booleans as the text the EVTX XML holds ("true"/"false"); a list of values (the unnamed <Data>
    elements of a classic event) as one text, one element a line -- the rules call it "the container
    for the event data as a whole"; other nested values as JSON text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(not isinstance(v, (list, dict)) for v in value):
        return "\n".join("" if v is None else cell(v) for v in value)
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    return value


_regexes: dict = {}


def regexp(pattern, value):
    """SQLite's `value REGEXP pattern`: Sigma's |re, an unanchored search, case-sensitive unless the
    pattern carries flags (the backend prefixes them, e.g. (?i))."""
    if value is None or pattern is None:
        return None
    compiled = _regexes.get(pattern)
    if compiled is None:
        compiled = _regexes[pattern] = re.compile(pattern)
    return compiled.search(str(value)) is not None


def run(db: sqlite3.Connection, query: str) -> list[int]:
    """The matching event indexes; a column no event has is added (all NULL) and the query retried."""
    while True:
        try:
            return [row[0] for row in db.execute(query)]
        except sqlite3.OperationalError as e:
            missing = re.match(r"no such column: (.+)$", str(e))
            if not missing:
                raise
            name = missing.group(1).strip('"`')
            db.execute(f'ALTER TABLE logs ADD COLUMN "{name}" TEXT COLLATE NOCASE')


def load_events(path: Path, db: sqlite3.Connection) -> int:
    """One row per event; SQLite column names ignore case, so fields differing only in case
    (SourceProcessGuid / SourceProcessGUID, seen in the samples) share a column. Every column is
    TEXT COLLATE NOCASE (see the module docstring)."""
    rows = []
    columns: dict[str, str] = {}  # lowercase -> first spelling seen
    with path.open(encoding="utf-8") as f:
        for line in f:
            flat = {k.lower(): v for k, v in flatten(json.loads(line)).items()}
            rows.append(flat)
            for k in flat:
                columns.setdefault(k, k)
    names = list(columns)
    db.execute("CREATE TABLE logs (_idx INTEGER, " + ", ".join(f'"{c}" TEXT COLLATE NOCASE' for c in names) + ")")
    placeholders = ", ".join("?" for _ in range(len(names) + 1))
    db.executemany(
        f"INSERT INTO logs VALUES ({placeholders})",
        ([i] + [cell(r.get(c)) for c in names] for i, r in enumerate(rows)),
    )
    db.commit()
    return len(rows)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rules", required=True, type=Path)
    ap.add_argument("--events", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()

    db = sqlite3.connect(":memory:")
    db.create_function("REGEXP", 2, regexp, deterministic=True)
    n = load_events(args.events, db)
    backends = [
        ("sysmon", lambda: sqliteBackend(sysmon_pipeline() + windows_logsource_pipeline())),
        ("security", lambda: sqliteBackend(windows_audit_pipeline() + windows_logsource_pipeline())),
    ]
    matches: dict[str, list[int]] = {}
    failed: dict[str, str] = {}
    started = time.time()
    files = sorted(args.rules.rglob("*.yml"))
    for path in files:
        text = path.read_text(encoding="utf-8")
        try:
            collection = SigmaCollection.from_yaml(text)
        except Exception as e:  # pySigma's own parse errors
            failed[str(path)] = f"parse: {e}"
            continue
        for i, rule in enumerate(collection.rules):
            rid = str(rule.id)
            if rule.logsource.product not in (None, "windows"):
                continue
            hits: set[int] = set()
            errors = []
            tried = 0
            for name, make_backend in backends:
                if name == "security" and rule.logsource.category not in AUDIT_CATEGORIES:
                    continue
                tried += 1
                # A fresh copy of the rule: pipelines modify the rule they convert.
                fresh = SigmaCollection.from_yaml(text).rules[i]
                try:
                    queries = make_backend().convert_rule(fresh)
                except Exception as e:
                    errors.append(f"{name}: {e}")
                    continue
                for q in queries:
                    try:
                        hits.update(run(db, q.replace("SELECT *", "SELECT _idx", 1)))
                    except sqlite3.Error as e:
                        errors.append(f"{name}: {e}")
            if errors and not hits and len(errors) >= tried:
                failed[rid] = "; ".join(errors)
            matches[rid] = sorted(hits)
    args.out.write_text(json.dumps({"events": n, "matches": matches, "failed": failed}, indent=1))
    matched_rules = sum(1 for v in matches.values() if v)
    print(f"oracle: {n} events, {len(matches)} rules converted, {matched_rules} with matches, {len(failed)} not convertible, {time.time() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
