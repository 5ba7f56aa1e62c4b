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
#
# --callgrind DIR: the watchers ran under
#   XLEV_BENCH_WATCHER_WRAPPER="valgrind --tool=callgrind --instr-atstart=no
#       --callgrind-out-file=DIR/callgrind.out.%p"
# (instrumented from "ready" to the last key, all threads); adds a table of
# instructions per event and per wakeup from DIR/callgrind.out.<pid>, and,
# with --functions, the functions whose instructions per event differ most
# between a kind with no idle watch and with idle watches.
import argparse
import json
import os
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


def callgrind_totals(path):
    """Total instructions (Ir) of one callgrind output file."""
    with open(path) as f:
        for line in f:
            if line.startswith("totals:"):
                return int(line.split()[1])
    raise ValueError(f"{path}: no totals line")


def callgrind_functions(path):
    """Self instructions per function (name, object) of one output file."""
    cost = defaultdict(int)
    names = {}
    obj = fn = None
    in_call = False
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            key, _, rest = line.partition("=")
            if key in ("ob", "fn", "cob", "cfn", "fl", "fi", "fe", "cfi", "cfl"):
                # name compression: "(id) name" defines, "(id)" refers
                if rest.startswith("("):
                    ident, _, name = rest[1:].partition(")")
                    space = {"ob": "ob", "fn": "fn"}.get(key.lstrip("c"), "fl")
                    if name.strip():
                        names[(space, ident)] = name.strip()
                    rest = names.get((space, ident), rest)
                if key == "ob":
                    obj = rest
                elif key == "fn":
                    fn = rest
                continue
            if key == "calls":
                in_call = True
                continue
            if line and (line[0].isdigit() or line[0] in "+-*"):
                if in_call:  # the inclusive cost of a call: not self
                    in_call = False
                    continue
                parts = line.split()
                if len(parts) >= 2:
                    cost[(fn, os.path.basename(obj or "?"))] += int(parts[1])
    return cost


def callgrind_tables(runs, cgdir, functions):
    print(f"\ninstructions (callgrind, {cgdir})\n")
    print("| experiment | watcher | idle watches | rounds | Ir/event "
          "(min-max) | Ir/wakeup | events/wakeup | ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    med = {}
    for k in sorted(runs, key=lambda k: (k[0], ["raw", "wire", "source", "hooks"].index(k[1]), k[2])):
        per_event, per_wakeup, epw = [], [], []
        for r in runs[k]:
            path = os.path.join(cgdir, f"callgrind.out.{r['pid']}")
            if not os.path.exists(path):
                continue
            ir = callgrind_totals(path)
            per_event.append(ir / r["events"])
            per_wakeup.append(ir / max(r["wakeups"], 1))
            epw.append(r["events_per_wakeup"])
        if not per_event:
            continue
        med[k] = statistics.median(per_event)
        base = (k[0], k[1], 0) if k[0].startswith("idle") else (k[0], "raw", k[2])
        ratio = f"{med[k] / med[base]:.3f}" if base in med else "-"
        print(f"| {k[0]} | {k[1]} | {k[2]} | {len(per_event)} | "
              f"{med[k]:,.0f} ({min(per_event):,.0f}-{max(per_event):,.0f}) | "
              f"{statistics.median(per_wakeup):,.0f} | "
              f"{statistics.median(epw):.2f} | {ratio} |")
    if not functions:
        return
    # Per function: the first round of each kind, none vs the most idle.
    for k in sorted(runs):
        if not k[0].startswith("idle") or k[2] == 0 or (k[0], k[1], 0) not in runs:
            continue
        a, b = runs[(k[0], k[1], 0)][0], runs[k][0]
        ca = callgrind_functions(os.path.join(cgdir, f"callgrind.out.{a['pid']}"))
        cb = callgrind_functions(os.path.join(cgdir, f"callgrind.out.{b['pid']}"))
        rows = []
        for fn in set(ca) | set(cb):
            x, y = ca.get(fn, 0) / a["events"], cb.get(fn, 0) / b["events"]
            rows.append((abs(y - x), fn, x, y))
        rows.sort(reverse=True)
        print(f"\n{k[0]} {k[1]}: self Ir/event, 0 vs {k[2]} idle watches, "
              "largest differences and the library's own functions\n")
        print("| function | object | 0 | idle | difference |")
        print("|---|---|---:|---:|---:|")
        shown = rows[:functions] + sorted(
            (r for r in rows[functions:] if r[1][1].startswith("libxlev")),
            key=lambda r: -max(r[2], r[3]))
        for d, fn, x, y in shown:
            print(f"| {fn[0]} | {fn[1]} | {x:.1f} | {y:.1f} | {y - x:+.1f} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--callgrind", metavar="DIR",
                    help="callgrind.out.<pid> files of the watchers")
    ap.add_argument("--functions", type=int, default=0, metavar="N",
                    help="with --callgrind: per-function comparison, N rows")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    runs = defaultdict(list)
    memory = []
    lines = []
    for i, name in enumerate(args.files or ["-"]):
        with (open(name) if name != "-" else os.fdopen(0, closefd=False)) as f:
            lines.extend((i, line) for line in f)
    for i, line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        d = json.loads(line)
        d["round"] = (i, d.get("round"))  # rounds of one file (one run)
        if d.get("experiment") == "memory":
            memory.append(d)
            continue
        runs[(d["experiment"], d["kind"], d["idle_watches"])].append(d)

    experiments = sorted({k[0] for k in runs}, key=list(
        ["throughput", "noread", "latency", "paced", "idle", "idle-paced"]).index)
    for exp in experiments:
        keys = [k for k in runs if k[0] == exp]
        keys.sort(key=lambda k: (["raw", "wire", "source", "hooks"].index(k[1]), k[2]))
        print(f"\n{exp} (medians of {len(runs[keys[0]])} rounds)\n")
        print("| watcher | idle watches | " +
              " | ".join(f[1] for f in FIELDS) + " | ratio events/s | ratio CPU |")
        print("|---|---:|" + "---:|" * (len(FIELDS) + 2))
        med = {k: {f: statistics.median(r[f] for r in runs[k])
                   for f, _, _ in FIELDS} for k in keys}
        for k in keys:
            # Against raw with the same idle watches; for the idle
            # experiment, against the same kind with none.
            base = (exp, k[1], 0) if exp.startswith("idle") else (exp, "raw", k[2])
            m, b = med[k], med.get(base)
            ratios = (f"{m['events_per_s'] / b['events_per_s']:.2f} | "
                      f"{m['cpu_ns_per_event'] / b['cpu_ns_per_event']:.2f}"
                      if b else "- | -")
            print(f"| {k[1]} | {k[2]} | " +
                  " | ".join(fmt.format(m[f]) for f, _, fmt in FIELDS) +
                  f" | {ratios} |")
        # Spread: each figure's range over rounds, and the ratio to the
        # base taken within each round (the base ran in the same round).
        print(f"\n{exp}: range over rounds; ratio per round, median (range)\n")
        print("| watcher | idle watches | events/s | CPU ns/event "
              "| ratio events/s | ratio CPU |")
        print("|---|---:|---:|---:|---:|---:|")
        for k in keys:
            base = (exp, k[1], 0) if exp.startswith("idle") else (exp, "raw", k[2])
            by_round = {r["round"]: r for r in runs.get(base, [])}
            cols = []
            for f in ("events_per_s", "cpu_ns_per_event"):
                v = [r[f] for r in runs[k]]
                cols.append(f"{min(v):.0f}-{max(v):.0f}")
            for f in ("events_per_s", "cpu_ns_per_event"):
                v = [r[f] / by_round[r["round"]][f] for r in runs[k]
                     if r["round"] in by_round]
                cols.append(f"{statistics.median(v):.2f} ({min(v):.2f}-{max(v):.2f})"
                            if v else "-")
            print(f"| {k[1]} | {k[2]} | " + " | ".join(cols) + " |")
    if args.callgrind:
        callgrind_tables(runs, args.callgrind, args.functions)
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
