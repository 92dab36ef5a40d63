"""``make bench``: how fast the service is, each figure also as a ratio to a baseline measured
in the same run (these machines are noisy; ratios travel, absolute numbers do not).

HTTP figures come from gunicorn (2 sync workers) on SQLite in WAL mode, and on PostgreSQL when
it is reachable, loaded from separate processes on loopback (wrk for GETs, bench/post_load.py
for bookings). The other figures run the domain functions in this process. The table is
printed and written to bench/results/latest.json.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.free_slots import slots_bench
from bench.harness import ROOT, postgres_reachable
from bench.outbox_speed import outbox_bench
from bench.reminder_job import reminder_bench
from bench.staff_list import staff_list_bench
from bench.web_load import http_bench


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
        print("outbox ...", flush=True)
        results["outbox"] = outbox_bench(folder)
        print("reminders ...", flush=True)
        small, large = reminder_bench(folder, 10_000), reminder_bench(folder, 1_000_000)
        results["reminders"] = {"run_s_10k": small, "run_s_1m": large, "growth": large / small}
        print("staff list ...", flush=True)
        small_list, large_list = staff_list_bench(folder, 10_000), staff_list_bench(folder, 100_000)
        results["staff_list"] = {
            "10k": small_list,
            "100k": large_list,
            "growth_p50": large_list["p50_ms"] / small_list["p50_ms"],
        }
        print("free slots ...", flush=True)
        results["free_slots_s"] = slots_bench(folder)
    out = ROOT / "bench" / "results" / "latest.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print(f"\nWritten to {out.relative_to(ROOT)}")


def print_table(r: dict) -> None:
    rows = [("Figure", "Value", "Ratio / goal")]
    for backend in ("sqlite", "postgresql"):
        h = r.get(f"http_{backend}")
        if not h:
            continue
        rows += [
            (f"[{backend}] GET /healthz", f"{h['healthz_rps']:.0f} req/s", "baseline"),
            (
                f"[{backend}] GET /book",
                f"{h['get_book_rps']:.0f} req/s",
                f"{h['get_book_ratio']:.2f} of /healthz (goal >= 0.25), "
                f"{h['get_book_errors']} errors",
            ),
            (
                f"[{backend}] POST /book",
                f"{h['post_book_rps']:.0f} req/s",
                f"{h['post_book_ratio']:.2f} of /healthz (goal >= 0.12), "
                f"{h['post_book_errors']} errors",
            ),
            (
                f"[{backend}] bookings / double bookings",
                f"{h['bookings_made']}",
                f"{h['double_bookings']} double (must be 0)",
            ),
        ]
    o = r["outbox"]
    rows.append(
        (
            f"Outbox, {o['emails']} emails",
            f"{o['outbox_per_s']:.0f}/s",
            f"{o['outbox_ratio']:.2f} of smtplib {o['smtplib_per_s']:.0f}/s (goal >= 0.6)",
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
    s = r["staff_list"]
    rows.append(
        (
            "Staff list p50/p95, 10k rows",
            f"{s['10k']['p50_ms']:.1f} / {s['10k']['p95_ms']:.1f} ms",
            "",
        )
    )
    rows.append(
        (
            "Staff list p50/p95, 100k rows",
            f"{s['100k']['p50_ms']:.1f} / {s['100k']['p95_ms']:.1f} ms",
            f"growth {s['growth_p50']:.2f}x (goal p95 < 50 ms, growth < 1.5x)",
        )
    )
    rows.append(
        (
            "Free slots, 30 days, 10 consultants, 10k bookings",
            f"{r['free_slots_s'] * 1000:.0f} ms",
            "",
        )
    )
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for number, row in enumerate(rows):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))
        if number == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
