"""Latency of the national CSIRT's incident reads on the demo dataset (320 incidents).

Usage: target/release/baluarte --data-dir /tmp/demo-lat demo --listen 127.0.0.1:18080 &
       .venv/bin/python bench/incident_latency.py [http://127.0.0.1:18080]

Signs in as the national coordinator (enrolling the TOTP second factor through the API, with codes computed
here), then times each call five times and prints the median.
"""

import base64
import hashlib
import hmac
import json
import struct
import sys
import time
import urllib.request

BASE = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:18080") + "/api/v1"


def totp(secret_b32: str) -> str:
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time() // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def call(method, path, body=None, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = "Bearer " + token
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(BASE + path, method=method, data=data, headers=headers)) as r:
        text = r.read()
        return json.loads(text) if text else None


def main():
    token = call("POST", "/session", {"email": "coordinacion@atdt.example", "password": "baluarte-demo-2026"})["token"]
    secret = call("POST", "/me/totp", None, token)["secret"]
    call("POST", "/me/totp/confirm", {"code": totp(secret)}, token)
    for path in ["/incidents/board", "/incidents?per_page=50", "/incidents?per_page=200&status=all",
                 "/observables/lookup?value=sat-devoluciones[.]example"]:
        times = []
        for _ in range(5):
            t = time.perf_counter()
            call("GET", path, None, token)
            times.append((time.perf_counter() - t) * 1000)
        print(f"| `GET /api/v1{path}` | {sorted(times)[2]:.1f} |")


if __name__ == "__main__":
    main()
