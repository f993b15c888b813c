"""The JSON API against its own OpenAPI document, with schemathesis (every check).

Starts a `baluarte demo` server on a loopback port the system picks (it prints the address it bound),
signs in two of the demo's people over the API and runs schemathesis against the document the server
serves (`/api/v1/openapi.json`), once as each of them:

- the entity security officer of SAT (`seguridad@sat.example`), a role of one entity;
- the national CSIRT analyst (`csirt@atdt.example`), a national role: it must enrol a second factor at
  first sign-in, so this script does what a person would, over the API: the session starts at stage
  `enrol`, `POST /me/totp` gives the secret, and the RFC 6238 code computed here from it confirms the
  enrolment (`POST /me/totp/confirm`), which makes the session full.

Each pass authenticates with that person's session token (`Authorization: Bearer bls_…`): an API
token acts only through its purposes (a narrow door on its own entity), so it would not reach what the
roles may do.

Nothing is excluded from the document. One operation runs apart: `DELETE /session` ends the session it
is called with, so in the passes above it would sign the person out in the middle of the run and every
later case would be a 401. It gets a pass of its own, last, with a session opened for it alone (after
its first case the token is spent and the documented answer is 401).

Before each pass the script lists the ids that person can reach (entities, contacts, users, tokens,
incidents and what is inside one's case file, campaigns, assignments, webhooks) and binds them to the
path parameters, drawn 80% of the time: generated ids alone are all 404, and the answers past it would
go unchecked. Settings per operation are in `schemathesis.toml` beside this file (where a 422 for
schema-valid input is expected, and why); the file each pass runs with, ids included, is kept in
`target/schemathesis/`, beside its JUnit report.

The run is bounded: `SCHEMATHESIS_MAX_EXAMPLES` cases per operation and phase (default 25), one
worker, a fixed seed (`SCHEMATHESIS_SEED`, default 20260615) so that a failure reproduces; about two
minutes. It needs no network beyond the loopback. It exits non-zero on any failure or error that
schemathesis reports.

    .venv-api/bin/python tests/api/schemathesis.py   # after cargo build -p baluarte
"""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from demo_server import BINARY, PASSWORD, ROOT, start_server, totp  # noqa: E402
SCHEMATHESIS = os.environ.get(
    "SCHEMATHESIS", os.path.join(os.path.dirname(sys.executable), "schemathesis")
)
OFFICER = "seguridad@sat.example"
ANALYST = "csirt@atdt.example"
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25")
SEED = os.environ.get("SCHEMATHESIS_SEED", "20260615")
CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemathesis.toml")
REPORTS = os.environ.get("SCHEMATHESIS_REPORT_DIR", os.path.join(ROOT, "target", "schemathesis"))


def call(base, method, path, body=None, token=None, expect=(200,)):
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + "/api/v1" + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            status, text = res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    if status not in expect:
        raise RuntimeError(f"{method} {path}: {status} {text}")
    return json.loads(text) if text else None


def sign_in(base, email):
    """A full session token for `email`, enrolling the second factor when the role requires one."""
    s = call(base, "POST", "/session", {"email": email, "password": PASSWORD}, expect=(201,))
    token = s["token"]
    if s["stage"] == "enrol":
        enrolment = call(base, "POST", "/me/totp", token=token, expect=(201,))
        # A code of the current step; the server accepts one step either side, each step once.
        step = int(time.time() // 30)
        call(base, "POST", "/me/totp/confirm", {"code": totp(enrolment["secret"], step)}, token, expect=(204,))
    me = call(base, "GET", "/me", token=token)
    if me["stage"] != "full":
        raise RuntimeError(f"{email}: the session is at stage {me['stage']}")
    return token


def records(base, token, path, key="items"):
    """The ids of what `path` lists for this caller (none when the role may not list it)."""
    try:
        body = call(base, "GET", path, token=token)
    except RuntimeError:
        return []
    items = body.get(key, []) if isinstance(body, dict) else body
    return [item["id"] for item in items if isinstance(item, dict) and "id" in item]


def discover(base, token):
    """Real ids this caller can reach, so that generated requests get past 404 to the handlers and
    their answers are checked against the document: {parameter binding name: ids}."""
    found = {
        "entity": records(base, token, "/entities?per_page=50"),
        "contact": records(base, token, "/contacts?per_page=50"),
        "user": records(base, token, "/users?per_page=50"),
        "token": records(base, token, "/tokens?per_page=50"),
        "incident": records(base, token, "/incidents?status=all&per_page=50"),
        "campaign": records(base, token, "/campaigns", key=None),
        "assignment": records(base, token, "/deadline-assignments", key=None),
        "webhook": [],
    }
    for entity in found["entity"][:5]:
        found["webhook"] += records(base, token, f"/entities/{entity}/webhooks", key=None)
    # One incident for each kind of thing inside a case file, with that thing's ids.
    for incident in found["incident"]:
        case = call(base, "GET", f"/incidents/{incident}", token=token)
        for part in ["submissions", "attachments", "requests", "tasks"]:
            ids = [x["id"] for x in case.get(part) or [] if isinstance(x, dict) and "id" in x]
            if ids and f"{part}-incident" not in found:
                found[f"{part}-incident"] = [incident]
                found[part] = ids
    return {name: ids for name, ids in found.items() if ids}


# Which operations take which ids: (paths, {parameter: binding name}).
BINDINGS = [
    (["/entities/{id}", "/entities/{id}/contacts", "/entities/{id}/deactivate", "/entities/{id}/reactivate",
      "/entities/{id}/webhooks"], {"id": "entity"}),
    (["/contacts/{id}", "/contacts/{id}/deactivate"], {"id": "contact"}),
    (["/users/{id}", "/users/{id}/deactivate", "/users/{id}/reactivate", "/users/{id}/reset-password"],
     {"id": "user"}),
    (["/tokens/{id}", "/tokens/{id}/revoke"], {"id": "token"}),
    (["/campaigns/{id}", "/campaigns/{id}/stix"], {"id": "campaign"}),
    (["/deadline-assignments/{id}"], {"id": "assignment"}),
    (["/webhooks/{id}/deactivate"], {"id": "webhook"}),
    (["/incidents/{id}", "/incidents/{id}/assign", "/incidents/{id}/attachments", "/incidents/{id}/campaign",
      "/incidents/{id}/close", "/incidents/{id}/merge", "/incidents/{id}/notes", "/incidents/{id}/reject",
      "/incidents/{id}/requests", "/incidents/{id}/stage-requests", "/incidents/{id}/stages",
      "/incidents/{id}/status", "/incidents/{id}/stix", "/incidents/{id}/tasks", "/incidents/{id}/triage"],
     {"id": "incident"}),
    (["/incidents/{id}/submissions/{submission_id}/receipt", "/incidents/{id}/submissions/{submission_id}/report"],
     {"id": "submissions-incident", "submission_id": "submissions"}),
    (["/incidents/{id}/attachments/{attachment_id}"], {"id": "attachments-incident", "attachment_id": "attachments"}),
    (["/incidents/{id}/requests/{request_id}/answer"], {"id": "requests-incident", "request_id": "requests"}),
    (["/incidents/{id}/tasks/{task_id}"], {"id": "tasks-incident", "task_id": "tasks"}),
    (["/audit/history/{object_type}/{object_id}"], {"object_type": "entity-type", "object_id": "entity"}),
]


def config_for(label, ids):
    """tests/api/schemathesis.toml plus this caller's ids: each path parameter draws a real id most of
    the time and a generated value otherwise, so both the handlers and their 404s are exercised."""
    ids = dict(ids, **{"entity-type": ["entity"]})
    lines = [open(CONFIG, encoding="utf-8").read(), "", "# Ids found for this pass (tests/api/schemathesis.py)."]
    for name, values in sorted(ids.items()):
        lines.append(f"[dictionaries.{json.dumps(name)}]")
        lines.append(f"values = {json.dumps(values)}")
    for paths, params in BINDINGS:
        if not all(binding in ids for binding in params.values()):
            continue
        lines.append("[[operations]]")
        lines.append(f"include-path = {json.dumps(paths)}")
        for param, binding in params.items():
            lines.append(f'parameters."path.{param}" = {{ dictionary = {json.dumps(binding)}, probability = 0.8 }}')
    path = os.path.join(REPORTS, f"{label}.toml")
    os.makedirs(REPORTS, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def schemathesis(base, token, label, extra):
    """One schemathesis pass; returns its exit code."""
    report = os.path.join(REPORTS, label)
    shutil.rmtree(report, ignore_errors=True)
    config = config_for(label, discover(base, token))
    cmd = [
        SCHEMATHESIS,
        "--config-file",
        config,
        "run",
        base + "/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--max-examples",
        MAX_EXAMPLES,
        # One worker: Python 3.11's ast.parse is not thread-safe (gh-106905), and Hypothesis parses
        # its strategies' lambdas while describing them, so two workers fail now and then with
        # "AST constructor recursion depth mismatch".
        "--workers",
        "1",
        "--seed",
        SEED,
        "--no-color",
        # No example database: each run starts from the seed alone.
        "--generation-database",
        "none",
        "--report",
        "junit",
        "--report-dir",
        report,
        *extra,
        # More options for a run by hand (say `--continue-on-failure` or `--include-path /me`).
        *os.environ.get("SCHEMATHESIS_ARGS", "").split(),
    ]
    print(f"\n== schemathesis as {label}", flush=True)
    started = time.monotonic()
    rc = subprocess.run(cmd, check=False).returncode
    print(f"== {label}: exit {rc} in {time.monotonic() - started:.0f} s", flush=True)
    return rc


def main():
    if not os.access(BINARY, os.X_OK):
        sys.exit(f"{BINARY} is missing: cargo build -p baluarte")
    if not os.access(SCHEMATHESIS, os.X_OK):
        sys.exit(f"{SCHEMATHESIS} is missing: pip install -r tests/api/requirements.txt")
    proc, base, data = start_server("baluarte-schemathesis-")
    failed = []
    try:
        # Every session is opened before the first pass: the passes' failed logins (POST /session with
        # generated credentials) soon throttle sign-ins from this address (429).
        officer = sign_in(base, OFFICER)
        analyst = sign_in(base, ANALYST)
        # `logout` is DELETE /session: it runs apart, with a session of its own (see the module's text).
        spare = sign_in(base, OFFICER)
        logout = ["--include-operation-id", "logout"]
        rest = ["--exclude-operation-id", "logout"]
        for label, token, extra in [
            ("entity-officer", officer, rest),
            ("csirt-analyst", analyst, rest),
            ("logout", spare, logout),
        ]:
            if schemathesis(base, token, label, extra) != 0:
                failed.append(label)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data, ignore_errors=True)
    if failed:
        print(f"schemathesis failed as: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)
    print("schemathesis: no failures")


if __name__ == "__main__":
    main()
