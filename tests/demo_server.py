"""What the Python test drivers share: a demo server on a port the system picks, and RFC 6238 codes.

Used by the browser tests (tests/browser) and the API conformance run (tests/api). Standard library only,
so that each driver's own virtualenv can import it.
"""

import base64
import hashlib
import hmac
import os
import queue
import struct
import subprocess
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.environ.get("BALUARTE_BIN", os.path.join(ROOT, "target", "debug", "baluarte"))
PASSWORD = "baluarte-demo-2026"


def totp_step() -> int:
    """The current RFC 6238 time step (30 s). The server runs on the system clock, so the drivers read
    it too; they never wait for a step or assert which one it is in."""
    return int(time.time() // 30)


def totp(secret_b32: str, step: int | None = None) -> str:
    """RFC 6238 (SHA-1, 6 digits, 30 s) for `step` (default: the current one), computed independently
    of the server."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = step if step is not None else totp_step()
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def start_server(prefix: str = "baluarte-test-"):
    """A demo server on a port the system picks (port 0): it prints the address it bound, so no port is
    chosen here and released for it to take. Returns (process, base URL, data directory)."""
    data = tempfile.mkdtemp(prefix=prefix)
    proc = subprocess.Popen(
        [BINARY, "--data-dir", data, "demo", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    found = queue.Queue()

    def read_stdout():
        # Reads to the end, so that the server never blocks on a full pipe.
        for line in proc.stdout:
            if line.startswith("listening on "):
                found.put(line.split("listening on ", 1)[1].strip())

    threading.Thread(target=read_stdout, daemon=True).start()
    try:
        base = found.get(timeout=120)
    except queue.Empty:
        proc.kill()
        raise RuntimeError("the demo server did not say where it listens")
    for _ in range(200):
        try:
            if urllib.request.urlopen(base + "/readyz", timeout=1).status == 200:
                return proc, base, data
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the demo server did not become ready")
