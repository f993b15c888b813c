"""SMTP sink for the tests that deliver e-mail: a real SMTP server (aiosmtpd) on loopback.

Usage: smtp_sink.py OUTPUT_DIR

Each message received is written to OUTPUT_DIR/<n>.json with the envelope (mail_from, rcpt_tos), the raw content
as received, and the fields the tests check decoded by Python's own e-mail parser, so that the Rust side's MIME
encoding is checked by an independent implementation. The sink chooses its own free port (retrying when another
process takes it first), prints "ready PORT" once accepting connections, and exits when its standard input closes,
so it does not outlive the test that started it.
"""

import base64
import email
import email.policy
import itertools
import json
import os
import socket
import sys

from aiosmtpd.controller import Controller


class FileHandler:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "raw_base64": base64.b64encode(raw).decode("ascii"),
            "subject": str(message["Subject"]),
            "to": [str(address.addr_spec) for address in message["To"].addresses],
            "auto_submitted": message["Auto-Submitted"],
            "message_id": message["Message-ID"],
            "content_type": message.get_content_type(),
            "charset": message.get_content_charset(),
            "text": message.get_content(),
        }
        path = os.path.join(self.directory, f"{next(self.counter)}.json")
        # Written under a temporary name and renamed, so a reader never sees half a file.
        with open(path + ".tmp", "w", encoding="utf-8") as out:
            json.dump(record, out, ensure_ascii=False)
        os.replace(path + ".tmp", path)
        return "250 Message accepted"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(directory):
    """A started controller on a free port. The port is free when probed; should another process bind it
    before the controller does, starting fails with EADDRINUSE and another port is tried."""
    last = None
    for _ in range(20):
        port = free_port()
        controller = Controller(FileHandler(directory), hostname="127.0.0.1", port=port)
        try:
            controller.start()
            return controller, port
        except OSError as error:
            last = error
    raise SystemExit(f"no free port for the SMTP sink: {last}")


def main():
    controller, port = start(sys.argv[1])
    print(f"ready {port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
