"""``make bench``: how fast the service is, each figure also as a ratio to a baseline measured
in the same run (these machines are noisy; ratios travel, absolute numbers do not).

HTTP figures come from gunicorn (2 sync workers) on SQLite in WAL mode, and on PostgreSQL when
it is reachable, loaded from separate processes on loopback by wrk (bookings with
bench/post_book.lua, see bench/post_wrk.py). The in-process booking time is compared with a
bare-stack reference (bench/bare_stack.py) on the same database. The outbox sends to an SMTP
sink in its own process that does not parse messages (bench/bare_sink.py). The other figures
run the domain functions in this process. The table is printed and written to
bench/results/latest.json.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.bare_stack import in_process_bench
from bench.free_slots import past_bookings_bench, slots_bench
from bench.harness import ROOT, postgres_reachable
from bench.outbox_speed import outbox_bench
from bench.reminder_job import reminder_bench
from bench.staff_list import staff_list_bench
from bench.web_load import http_bench

LIST_SIZES = (10_000, 100_000, 1_000_000)


def main() -> None:
    results: dict = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}",
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        backends = ["sqlite"] + (["postgresql"] if postgres_reachable() else [])
        for backend in backends:
            print(f"HTTP on {backend} ...", flush=True)
            results[f"http_{backend}"] = http_bench(backend, folder)
            print(f"booking time against the bare stack on {backend} ...", flush=True)
            results[f"in_process_{backend}"] = in_process_bench(backend, folder)
        print("outbox ...", flush=True)
        results["outbox"] = outbox_bench(folder)
        print("reminders ...", flush=True)
        small, large = reminder_bench(folder, 10_000), reminder_bench(folder, 1_000_000)
        results["reminders"] = {"run_s_10k": small, "run_s_1m": large, "growth": large / small}
        print("staff list ...", flush=True)
        lists = {str(size): staff_list_bench(folder, size) for size in LIST_SIZES}
        results["staff_list"] = lists
        print("free slots ...", flush=True)
        results["free_slots_s"] = slots_bench(folder)
        results["free_slots_past"] = past_bookings_bench(folder)
    out = ROOT / "bench" / "results" / "latest.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print(f"\nWritten to {out.relative_to(ROOT)}")


def _http_rows(backend: str, h: dict) -> list[tuple[str, str, str]]:
    def ratio(key: str, goal: float) -> str:
        return f"{h[key]:.2f} of /healthz (goal >= {goal})"

    busy = f"{h['bookings_in_window']:,} bookings in the window"
    return [
        (f"[{backend}] GET /healthz", f"{h['healthz_rps']:.0f} req/s", "baseline"),
        (
            f"[{backend}] GET /book, first screen, empty",
            f"{h['get_book_rps']:.0f} req/s",
            f"{ratio('get_book_ratio', 0.25)}, {h['get_book_errors']} errors"
            + (f", sockets: {h['get_book_socket_errors']}" if h["get_book_socket_errors"] else ""),
        ),
        (
            f"[{backend}] GET /book, first screen, {busy}",
            f"{h['get_book_busy_rps']:.0f} req/s",
            ratio("get_book_busy_ratio", 0.25),
        ),
        (
            f"[{backend}] GET /book?day=, {busy}",
            f"{h['get_day_rps']:.0f} req/s",
            ratio("get_day_ratio", 0.25),
        ),
        (
            f"[{backend}] GET /book, patient in New York, {busy}",
            f"{h['get_other_zone_rps']:.0f} req/s",
            f"{ratio('get_other_zone_ratio', 0.25)}; {h['get_errors_busy']} errors"
            + (f", sockets: {h['get_socket_errors_busy']}" if h["get_socket_errors_busy"] else ""),
        ),
        (
            f"[{backend}] POST /book, bookings made per second",
            f"{h['post_book_rps']:.0f} req/s",
            f"{ratio('post_book_ratio', 0.10)}, {h['post_book_errors']} errors "
            f"({h['post_book_server_errors']} 5xx)"
            + (
                f", sockets: {h['post_book_socket_errors']}" if h["post_book_socket_errors"] else ""
            ),
        ),
        (
            f"[{backend}] bookings / double bookings",
            f"{h['bookings_made']}",
            f"{h['double_bookings']} double (must be 0)",
        ),
        (f"[{backend}] first screen HTML", f"{h['first_screen_bytes'] / 1024:.1f} KB", "< 30 KB"),
    ]


def print_table(r: dict) -> None:
    rows = [("Figure", "Value", "Ratio / goal")]
    for backend in ("sqlite", "postgresql"):
        if r.get(f"http_{backend}"):
            rows += _http_rows(backend, r[f"http_{backend}"])
        p = r.get(f"in_process_{backend}")
        if p:
            rows.append(
                (
                    f"[{backend}] time per booking, in process",
                    f"{p['service_ms']:.1f} ms",
                    f"{p['ratio']:.1f}x the bare stack's {p['bare_ms']:.1f} ms (goal <= 3x)",
                )
            )
    fast, slow = r["outbox"]["fast"], r["outbox"]["latency"]
    rows.append(
        (
            f"Outbox, {fast['emails']:,} emails, sink in its own process",
            f"{fast['outbox_per_s']:.0f}/s",
            f"{fast['outbox_ratio']:.2f} of smtplib {fast['smtplib_per_s']:.0f}/s (goal >= 0.6)",
        )
    )
    rows.append(
        (
            f"Outbox, {slow['emails']} emails, {slow['latency_ms']} ms server latency, "
            f"{slow['dispatchers']} dispatchers",
            f"{slow['outbox_per_s']:.0f}/s",
            f"{slow['outbox_ratio']:.2f} of one smtplib connection, {slow['smtplib_per_s']:.0f}/s",
        )
    )
    m = r["reminders"]
    rows.append(
        (
            "Reminder job, 10k / 1M rows",
            f"{m['run_s_10k'] * 1000:.0f} / {m['run_s_1m'] * 1000:.0f} ms",
            f"growth {m['growth']:.2f}x (goal < 1.5x)",
        )
    )
    lists = r["staff_list"]
    previous = None
    for size in LIST_SIZES:
        figures = lists[str(size)]
        growth = (
            f"p95 growth {figures['p95_ms'] / previous:.2f}x per tenfold (goal < 1.5x)"
            if previous
            else ""
        )
        rows.append(
            (
                f"Staff list p50/p95, {size:,} rows",
                f"{figures['p50_ms']:.1f} / {figures['p95_ms']:.1f} ms",
                growth,
            )
        )
        rows.append(
            (
                f"Staff search, one match by part of an email, {size:,} rows",
                f"{figures['search_p50_ms']:.1f} / {figures['search_p95_ms']:.1f} ms",
                "SQLite scans the search column; PostgreSQL has a trigram index",
            )
        )
        previous = figures["p95_ms"]
    rows.append(
        (
            "Free slots, 30 days, 10 consultants, 10k bookings",
            f"{r['free_slots_s'] * 1000:.0f} ms",
            "",
        )
    )
    past = r["free_slots_past"]
    rows.append(
        (
            f"Free slots, one consultant, {past['past']:,} past bookings",
            f"{past['past_ms']:.1f} ms",
            f"{past['empty_ms']:.1f} ms with none",
        )
    )
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for number, row in enumerate(rows):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))
        if number == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
