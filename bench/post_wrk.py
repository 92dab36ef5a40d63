"""``POST /book`` under load, sent by wrk as the GETs and the ``/healthz`` baseline are.

A load generator in Python (``bench/post_load.py``, which ``make soak`` still uses for its
reconnects) spends about as much of the two cores on building and sending each request as the
server spends answering it, so the figure it gave was partly its own cost. Here the page is
fetched once for a cookie, a CSRF token and the free times; every booking's body is written
beforehand; and wrk sends them (``bench/post_book.lua``), each time used no more often than
there are consultants, so every booking should succeed.
"""

from __future__ import annotations

import http.client
import re
import subprocess
import urllib.parse
from pathlib import Path

from bench.post_load import CSRF, DAY, SLOT, booking_data

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "post_book.lua"


def _page(connection: http.client.HTTPConnection, path: str, cookie: str = ""):
    connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    response = connection.getresponse()
    return response, response.read().decode()


def prepare(port: int, folder: Path, per_slot: int) -> tuple[Path, str, int]:
    """Write one body per line; return the file, the cookie and the number of bodies."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    response, page = _page(connection, "/book?tz=Asia/Kolkata")
    cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
    csrf = CSRF.search(page)[1]
    slots = set(SLOT.findall(page))
    for day in DAY.findall(page):
        slots.update(SLOT.findall(_page(connection, f"/book?day={day}&tz=Asia/Kolkata", cookie)[1]))
    connection.close()
    bodies = folder / "post_book_bodies.txt"
    lines = [
        urllib.parse.urlencode(booking_data(csrf, slot, f"{number}x{use}"))
        for number, slot in enumerate(sorted(slots))
        for use in range(per_slot)
    ]
    # Neighbouring lines go to different threads; the same time to different consultants.
    bodies.write_text("\n".join(lines) + "\n")
    return bodies, cookie, len(lines)


def post_bench(port: int, folder: Path, per_slot: int, seconds: int = 5) -> dict:
    """wrk with 2 threads and 8 connections for ``seconds``: posts sent, the answers that
    were not a redirect, socket errors, server errors, and the run's length."""
    bodies, cookie, count = prepare(port, folder, per_slot)
    threads = 2
    output = subprocess.run(
        ["wrk", f"-t{threads}", "-c8", f"-d{seconds}s", "-s", str(SCRIPT)]
        + [f"http://127.0.0.1:{port}/book", "--", str(bodies), cookie, str(threads)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    sent = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", output)
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0}[sent[3]]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {
        "posts": int(sent[1]),
        "seconds": float(sent[2]) * scale,
        "bodies": count,
        "errors": int(bad[1]) if bad else 0,
        "socket_errors": socket_errors[1] if socket_errors else "",
        "server_errors": int(re.search(r"server_errors (\d+)", output)[1]),
    }
