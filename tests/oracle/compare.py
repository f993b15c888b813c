"""Compare the engine's detections with the pySigma oracle, rule by rule, event by event.

    python compare.py --oracle oracle.json --detections detections.jsonl --explained DISAGREEMENTS.md

A disagreement is a rule whose set of matched events differs. Every disagreement must be listed (by
rule id) in DISAGREEMENTS.md with its explanation; an unlisted one fails the run, and so does a listed
one that no longer disagrees (so the list stays true).
"""

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--oracle", required=True, type=Path)
    ap.add_argument("--detections", required=True, type=Path)
    ap.add_argument("--explained", required=True, type=Path)
    args = ap.parse_args()

    oracle = json.loads(args.oracle.read_text())
    ours: dict[str, set[int]] = defaultdict(set)
    with args.detections.open(encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d.get("rule_id") and d.get("source", {}).get("line"):
                ours[d["rule_id"]].add(d["source"]["line"] - 1)
    unconvertible = set(oracle["failed"])
    explained = set(re.findall(r"^\|\s*`([0-9a-f-]{36})`", args.explained.read_text(), re.M))

    disagreements = {}
    for rid, theirs in oracle["matches"].items():
        theirs = set(theirs)
        mine = ours.get(rid, set())
        if mine != theirs:
            disagreements[rid] = (sorted(mine - theirs), sorted(theirs - mine))
    agreeing = len(oracle["matches"]) - len(disagreements)
    both = sum(len(set(v) & ours.get(k, set())) for k, v in oracle["matches"].items())
    print(f"oracle: {len(oracle['matches'])} rules compared over {oracle['events']} events; {agreeing} agree exactly; "
          f"{len(disagreements)} disagree; {both} rule-event matches found by both; {len(unconvertible)} rules pySigma could not convert")
    unexplained = sorted(set(disagreements) - explained)
    stale = sorted(explained - set(disagreements) - unconvertible)
    for rid in unexplained:
        only_ours, only_theirs = disagreements[rid]
        print(f"UNEXPLAINED {rid}: only ours at lines {[i + 1 for i in only_ours][:10]}, only the oracle's at {[i + 1 for i in only_theirs][:10]}")
    for rid in stale:
        print(f"STALE {rid}: listed in {args.explained.name} but engine and oracle now agree")
    # A rule passes when engine and oracle agree on it, or when its disagreement is explained.
    print(f"oracle: {len(oracle['matches']) - len(unexplained)} passed, {len(unexplained) + len(stale)} failed")
    return 1 if unexplained or stale else 0


if __name__ == "__main__":
    sys.exit(main())
