"""Flat JSON events with logsource fields, from EVTX-ATTACK-SAMPLES.jsonl, repeated N times.

rsigma (the peer in BENCHMARKS.md) reads flat JSON events and routes rules by the events' `product`,
`service` and `category` fields (--logsource-routing); both engines are measured on this same file.
The mapping from Channel/EventID to Sigma's logsource taxonomy follows the Sigma taxonomy appendix.

    python flatten_events.py EVENTS.jsonl OUT.jsonl [REPEAT]
"""

import json
import sys

SERVICES = {
    "Security": "security",
    "System": "system",
    "Application": "application",
    "Microsoft-Windows-Sysmon/Operational": "sysmon",
    "Windows PowerShell": "powershell-classic",
    "Microsoft-Windows-PowerShell/Operational": "powershell",
    "Microsoft-Windows-TaskScheduler/Operational": "taskscheduler",
    "Microsoft-Windows-WMI-Activity/Operational": "wmi",
    "Microsoft-Windows-Windows Defender/Operational": "windefend",
    "Microsoft-Windows-Bits-Client/Operational": "bits-client",
    "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational": "terminalservices-localsessionmanager",
}
SYSMON_CATEGORIES = {
    1: "process_creation", 2: "file_change", 3: "network_connection", 5: "process_termination",
    6: "driver_load", 7: "image_load", 8: "create_remote_thread", 9: "raw_access_thread",
    10: "process_access", 11: "file_event", 12: "registry_add", 13: "registry_set", 14: "registry_rename",
    15: "create_stream_hash", 17: "pipe_created", 18: "pipe_created", 19: "wmi_event", 20: "wmi_event",
    21: "wmi_event", 22: "dns_query", 23: "file_delete", 24: "clipboard_change", 25: "process_tampering",
    26: "file_delete_detected",
}


def flatten(event: dict) -> dict:
    root = event.get("Event", event)
    out: dict = {}
    for key, value in (root.get("System") or {}).items():
        if key.endswith("_attributes") and isinstance(value, dict):
            for attr, v in value.items():
                out[f"{key[:-len('_attributes')]}_{attr}"] = v
        elif not isinstance(value, dict):
            out[key] = value
    for section in ("EventData", "UserData"):
        stack = [root.get(section)] if isinstance(root.get(section), dict) else []
        while stack:
            for key, value in stack.pop().items():
                if isinstance(value, dict):
                    stack.append(value)
                elif not key.endswith("_attributes"):
                    out.setdefault(key, value)
    out["product"] = "windows"
    service = SERVICES.get(out.get("Channel", ""))
    if service:
        out["service"] = service
    if service == "sysmon" and out.get("EventID") in SYSMON_CATEGORIES:
        out["category"] = SYSMON_CATEGORIES[out["EventID"]]
    elif service == "security" and out.get("EventID") == 4688:
        out["category"] = "process_creation"
    return out


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    lines = [json.dumps(flatten(json.loads(l)), separators=(",", ":")) for l in open(src, encoding="utf-8") if l.strip()]
    with open(dst, "w", encoding="utf-8") as out:
        for _ in range(repeat):
            out.write("\n".join(lines) + "\n")
    print(f"{len(lines) * repeat} events", file=sys.stderr)


if __name__ == "__main__":
    main()
