"""Load generator for ``POST /book``, run as its own process by ``make soak`` (``make bench``
sends its bookings with wrk, see ``bench/post_wrk.py``; this module's ``booking_data`` is the
booking both send).

Each client thread fetches the form once (its own cookie and CSRF token), then POSTs full
valid bookings, each for a slot no request uses more often than there are consultants.
Prints one JSON line: posts, errors (any answer but a redirect), seconds.
"""

import http.client
import json
import re
import secrets
import sys
import threading
import time
import urllib.parse

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SLOT = re.compile(r'name="slot" id="slot-\d+" value="(\d{4}-[^"]+Z)"')
DAY = re.compile(r'data-day href="/book\?day=(\d{4}-\d\d-\d\d)')


def booking_data(csrf: str, slot: str, name: str) -> dict:
    """One valid booking as the form posts it (also what bench/bare_stack.py times)."""
    return {
        "csrf_token": csrf,
        "submission_key": secrets.token_urlsafe(24),
        "booked_by": "self",
        "patient_name": f"Bench {name}",
        "patient_email": f"bench{name}@example.com",
        "patient_phone": "+91 98765 43210",
        "birth_date": "15/08/1962",
        "preferred_channel": "email",
        "therapy": "interleukin2",
        "cancer_type": "melanoma",
        "stage": "2",
        "diagnosed": "lt3m",
        "diagnosis_details": "Benchmark details",
        "treatments": "interferon",
        "payment_routes": "private_insurance",
        "insurer": "Bench Insurance",
        "policy_after_diagnosis": "no",
        "card_holder": "patient",
        "red_flags": "none",
        "consult_mode": "phone",
        "timezone": "Asia/Kolkata",
        "shown_timezone": "Asia/Kolkata",
        "slot": slot,
        "consent_health": "y",
        "consent_reminders": "y",
    }


def client(port, number, clients, per_slot, deadline, totals, lock):
    """One client: fetch the form once (cookie, CSRF token, slots), then post bookings."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/book?tz=Asia/Kolkata")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
    csrf = CSRF.search(page)[1]
    # The first page shows one day's times; the others are a link each.
    slots = set(SLOT.findall(page))
    for day in DAY.findall(page):
        connection.request("GET", f"/book?day={day}&tz=Asia/Kolkata", headers={"Cookie": cookie})
        slots.update(SLOT.findall(connection.getresponse().read().decode()))
    slots = sorted(slots)
    round_ = posts = errors = server_errors = 0
    while time.monotonic() < deadline:
        # Request k of client c takes slot (c + k * clients) // per_slot: each slot is used at
        # most `per_slot` times (once per consultant), so every booking should succeed.
        index = (number + round_ * clients) // per_slot
        round_ += 1
        if index >= len(slots):
            break
        body = urllib.parse.urlencode(booking_data(csrf, slots[index], f"{number}x{round_}"))
        try:
            connection.request(
                "POST",
                "/book",
                body=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": cookie,
                },
            )
            answer = connection.getresponse()
            answer.read()
            posts += 1
            if answer.status != 302:
                errors += 1
            if answer.status >= 500:
                server_errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    with lock:
        totals["posts"] += posts
        totals["errors"] += errors
        totals["server_errors"] += server_errors


def main():
    port, clients, seconds, per_slot = (int(arg) for arg in sys.argv[1:5])
    totals = {"posts": 0, "errors": 0, "server_errors": 0}
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + seconds
    threads = [
        threading.Thread(target=client, args=(port, n, clients, per_slot, deadline, totals, lock))
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    totals["seconds"] = time.monotonic() - started
    print(json.dumps(totals))


if __name__ == "__main__":
    main()
