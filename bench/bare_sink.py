"""An SMTP sink for the outbox figure, run as its own process: it accepts every message without
parsing it (a real mail server does not spend the sender's CPU), optionally after a delay.

    python bench/bare_sink.py PORT [DELAY_MS]
"""

import asyncio
import sys
import time

from aiosmtpd.controller import Controller


class Accept:
    def __init__(self, delay: float):
        self.delay = delay
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        self.count += 1
        return "250 OK"


def main() -> None:
    port = int(sys.argv[1])
    delay = float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.0
    controller = Controller(Accept(delay), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        controller.stop()


if __name__ == "__main__":
    main()
