#!/usr/bin/env python3
# bench-glib-watch-summary.py: medians and ratios from bench-glib-watch
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# Reads the JSON lines bench-glib-watch printed (files or stdin) and prints,
# per experiment and configuration, the median over rounds of each figure
# and its ratio to the raw libxenstore loop (or, for idle watches, to the
# same kind with none), as a Markdown table.
import fileinput
import json
import statistics
from collections import defaultdict

FIELDS = [
    ("events_per_s", "events/s", "{:.0f}"),
    ("cpu_ns_per_event", "CPU ns/event", "{:.0f}"),
    ("user_ns_per_event", "user ns/event", "{:.0f}"),
    ("events_per_wakeup", "events/wakeup", "{:.2f}"),
    ("lat_p50_us", "p50 µs", "{:.0f}"),
    ("lat_p99_us", "p99 µs", "{:.0f}"),
]


def main():
    runs = defaultdict(list)
    memory = []
    for line in fileinput.input():
        line = line.strip()
        if not line.startswith("{"):
            continue
        d = json.loads(line)
        if d.get("experiment") == "memory":
            memory.append(d)
            continue
        runs[(d["experiment"], d["kind"], d["idle_watches"])].append(d)

    experiments = sorted({k[0] for k in runs}, key=list(
        ["throughput", "noread", "latency", "idle"]).index)
    for exp in experiments:
        keys = [k for k in runs if k[0] == exp]
        keys.sort(key=lambda k: (["raw", "source", "hooks"].index(k[1]), k[2]))
        print(f"\n{exp} (medians of {len(runs[keys[0]])} rounds)\n")
        print("| watcher | idle watches | " +
              " | ".join(f[1] for f in FIELDS) + " | ratio events/s | ratio CPU |")
        print("|---|---:|" + "---:|" * (len(FIELDS) + 2))
        med = {k: {f: statistics.median(r[f] for r in runs[k])
                   for f, _, _ in FIELDS} for k in keys}
        for k in keys:
            # Against raw with the same idle watches; for the idle
            # experiment, against the same kind with none.
            base = (exp, k[1], 0) if exp == "idle" else (exp, "raw", k[2])
            m, b = med[k], med.get(base)
            ratios = (f"{m['events_per_s'] / b['events_per_s']:.2f} | "
                      f"{m['cpu_ns_per_event'] / b['cpu_ns_per_event']:.2f}"
                      if b else "- | -")
            print(f"| {k[1]} | {k[2]} | " +
                  " | ".join(fmt.format(m[f]) for f, _, fmt in FIELDS) +
                  f" | {ratios} |")
    if memory:
        print("\nmemory\n")
        print("| integration | G_SLICE | watches | heap delta (bytes) "
              "| bytes/watch | left after unref |")
        print("|---|---|---:|---:|---:|---:|")
        for d in memory:
            print(f"| {d['kind']} | {d['g_slice']} | {d['watches']} | "
                  f"{d['heap_in_use_delta']} | {d['bytes_per_watch']:.1f} | "
                  f"{d['bytes_left_after_unref']} |")


if __name__ == "__main__":
    main()
