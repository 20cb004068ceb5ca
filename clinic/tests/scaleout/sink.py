"""An SMTP sink for the scale-out test: `python sink.py HOST PORT FILE`.
Appends one line per accepted message (its Message-ID) and flushes, so the
test can count deliveries while the workers run."""

from __future__ import annotations

import email
import sys
import time

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, path: str) -> None:
        self.out = open(path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content)
        self.out.write(f"{message.get('Message-ID', '')}\n")
        return "250 OK"


def main() -> None:
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    controller = Controller(Handler(path), hostname=host, port=port)
    controller.start()
    print("sink ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
