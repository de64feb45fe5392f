#!/usr/bin/env python3
"""Live-migration benchmark: Matryoshka against QEMU 7.2 TCG, the same Debian kernel, the same
initramfs and the same guest memory (1 GiB by default), migrated over a Unix socket in one run.

The guest runs guest/bench/dirty.c (.build/guest/dirty, built by scripts/setup-host): it rewrites one
word on each page of a WSET MiB buffer at RATE MiB/s for SECONDS seconds, polling CLOCK_MONOTONIC
all the time, and at the end prints DIRTY-RESULT with the number of pages that do not hold their
last value (must be 0) and the largest gap between two consecutive clock readings: the downtime as
the guest saw it. Scenarios: idle (rate 0: the program only reads the clock), 50 and 200 MiB/s.

Per scenario and emulator: a destination waits (`matryoshka run --incoming unix:P`; QEMU `-incoming
unix:P`), the source boots, the workload runs for 3 s, then the migration starts:
  Matryoshka: `matryoshka ctl migrate unix:P --downtime-ms D` (PUT /migrate; the figures it prints)
  QEMU:       QMP migrate-set-capabilities auto-converge=on, migrate-set-parameters downtime-limit=D
              and max-bandwidth=10 GiB/s (QEMU's default cap is 128 MiB/s), migrate uri=unix:P, then
              query-migrate until completed
Figures: total time, downtime as the source measured it (Matryoshka: pause until the destination
runs the guest; QEMU: its `downtime`), the guest-measured gap, bytes sent, iterations (Matryoshka),
and the destination's check of the workload's memory. QEMU stops its guest's clock while the VM is
stopped, so its guest-measured gap does not show the downtime; Matryoshka's guest clock goes on
across the move (as KVM's does) and does.

Prints a table with medians of --runs and Matryoshka/QEMU ratios, then the goals: downtime under
20 ms idle and under 100 ms at 200 MiB/s, total time no worse than QEMU's. Exits non-zero when a
run fails.

Usage: scripts/bench-migrate.py [--memory 1G] [--runs 1] [--downtime-ms 20] [--skip-qemu]
                                [--scenarios idle,50,200] [--matryoshka PATH]
"""

import argparse
import atexit
import gzip
import importlib.util
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location("bench_snapshot", os.path.join(ROOT, "scripts", "bench-snapshot.py"))
bs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bs)
Child, QMP, BenchError, log = bs.Child, bs.QMP, bs.BenchError, bs.log

APPEND = "console=ttyS0 quiet panic=-1"
RESULT_RE = re.compile(r"DIRTY-RESULT pages=(\d+) writes=(\d+) bad=(\d+) maxgap_us=(\d+)")


def build_initramfs(workdir, busybox, dirty, wset, rate, seconds):
    init = f"""#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
echo MIGBENCH-START
/bin/dirty {wset} {rate} {seconds}
poweroff -f
""".encode()
    d, f = 0o040755, 0o100755
    entries = [(p, d, b"") for p in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp")]
    for name, path in (("bin/busybox", busybox), ("bin/dirty", dirty)):
        with open(path, "rb") as fh:
            entries.append((name, f, fh.read()))
    entries += [("bin/sh", 0o120777, b"busybox"), ("init", f, init)]
    out = os.path.join(workdir, f"migbench-{rate}.cpio.gz")
    with open(out, "wb") as fh:
        fh.write(gzip.compress(bs.newc_archive(entries), 6, mtime=0))
    return out


def wait_result(child, timeout):
    _, _, text = child.wait_line(lambda s: RESULT_RE.search(s) is not None, timeout, what="DIRTY-RESULT")
    m = RESULT_RE.search(text)
    pages, writes, bad, gap = (int(x) for x in m.groups())
    if bad:
        raise BenchError(f"{child.name}: {bad} of {pages} pages lost their last value across the migration")
    return gap / 1000.0


def matryoshka_run(args, kernel, initrd, workdir, k):
    sock = os.path.join(workdir, f"m{k}.sock")
    api = os.path.join(workdir, f"m{k}.api")
    dst = Child(f"matryoshka-dest-{k}", [args.matryoshka, "run", "--incoming", f"unix:{sock}"], workdir)
    src = Child(f"matryoshka-source-{k}", [args.matryoshka, "run", "--kernel", kernel, "--initrd", initrd, "--append", APPEND,
                                           "--memory", args.memory, "--api-socket", api], workdir)
    try:
        src.wait_line(lambda s: "DIRTY-PROGRESS" in s, args.timeout, what="the workload")
        time.sleep(2)
        t0 = time.monotonic()
        p = subprocess.run([args.matryoshka, "ctl", "migrate", "--api-socket", api, f"unix:{sock}",
                            "--downtime-ms", str(args.downtime_ms)], capture_output=True, text=True, timeout=600)
        wall = time.monotonic() - t0
        line = next((l for l in p.stdout.splitlines() if l.startswith("{")), None)
        if p.returncode != 0 or line is None:
            raise BenchError(f"ctl migrate failed ({p.returncode}): {p.stdout} {p.stderr}")
        o = json.loads(line)
        gap = wait_result(dst, args.seconds + 120)
        return {"total_ms": o["total_time_ms"], "downtime_ms": o.get("downtime_ms"), "guest_gap_ms": gap,
                "bytes": o["transferred_bytes"], "iterations": o["iterations"], "throttle": o.get("throttle_percentage", 0),
                "wall_ms": wall * 1000}
    finally:
        src.kill()
        dst.kill()


def qemu_cmd(args, kernel, initrd, firmware, qmp, extra=()):
    cmd = [args.qemu, "-M", "virt", "-cpu", "rv64", "-smp", "1", "-m", args.memory, "-display", "none", "-monitor", "none",
           "-serial", "stdio", "-no-reboot"]
    if firmware:
        cmd += ["-bios", firmware]
    return cmd + ["-kernel", kernel, "-initrd", initrd, "-append", APPEND, "-qmp", f"unix:{qmp},server=on,wait=off"] + list(extra)


def qemu_run(args, kernel, initrd, firmware, workdir, k):
    sock = os.path.join(workdir, f"q{k}.sock")
    dst = Child(f"qemu-dest-{k}", qemu_cmd(args, kernel, initrd, firmware, os.path.join(workdir, f"q{k}d.qmp"),
                                           ["-incoming", f"unix:{sock}"]), workdir)
    src = Child(f"qemu-source-{k}", qemu_cmd(args, kernel, initrd, firmware, os.path.join(workdir, f"q{k}s.qmp")), workdir)
    try:
        q = QMP(os.path.join(workdir, f"q{k}s.qmp"), src)
        src.wait_line(lambda s: "DIRTY-PROGRESS" in s, args.timeout, what="the workload")
        time.sleep(2)
        q.cmd("migrate-set-capabilities", capabilities=[{"capability": "auto-converge", "state": True}])
        q.cmd("migrate-set-parameters", **{"downtime-limit": int(args.downtime_ms), "max-bandwidth": 10 << 30})
        t0 = time.monotonic()
        q.cmd("migrate", uri=f"unix:{sock}")
        st = bs.poll(lambda: q.cmd("query-migrate"), lambda r: r.get("status") in ("completed", "failed", "cancelled"),
                     600, "QEMU migration", interval=0.01)
        wall = time.monotonic() - t0
        if st["status"] != "completed":
            raise BenchError(f"QEMU migration {st['status']}: {st.get('error-desc', '')}")
        q.close()
        gap = wait_result(dst, args.seconds + 120)
        return {"total_ms": st.get("total-time"), "downtime_ms": st.get("downtime"), "guest_gap_ms": gap,
                "bytes": st.get("ram", {}).get("transferred"), "iterations": st.get("ram", {}).get("dirty-sync-count"),
                "throttle": st.get("cpu-throttle-percentage", 0), "wall_ms": wall * 1000}
    finally:
        src.kill()
        dst.kill()


def med(rows, key):
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def fmt(v, unit=""):
    if v is None:
        return "-"
    if unit == "B":
        return f"{v / 1048576:.1f} MiB"
    return f"{v:.1f}{unit}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--memory", default="1G")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--downtime-ms", type=float, default=20)
    ap.add_argument("--scenarios", default="idle,50,200", help="comma list: idle or a dirtying rate in MiB/s")
    ap.add_argument("--wset", type=int, default=256, help="MiB the dirtying workload cycles over (default 256)")
    ap.add_argument("--seconds", type=int, default=30, help="how long the workload runs (must outlast the migration)")
    ap.add_argument("--matryoshka", default=os.path.join(ROOT, ".build", "release", "matryoshka"))
    ap.add_argument("--qemu", default="qemu-system-riscv64")
    ap.add_argument("--skip-qemu", action="store_true")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--workdir", default="/var/tmp")
    args = ap.parse_args()

    cache = bs.cache_dir()
    kernel, busybox, firmware = (os.path.join(cache, n) for n in ("Image", "busybox", "fw_dynamic.bin"))
    dirty = os.path.join(ROOT, ".build", "guest", "dirty")
    for p, fix in ((kernel, "matryoshka images fetch"), (busybox, "matryoshka images fetch"), (dirty, "scripts/setup-host")):
        if not os.path.exists(p):
            sys.exit(f"error: {p} missing: run {fix}")
    if not os.path.exists(firmware):
        firmware = None
    if not args.skip_qemu and not shutil.which(args.qemu):
        sys.exit(f"error: {args.qemu} not found (apt-get install qemu-system-misc), or pass --skip-qemu")
    workdir = tempfile.mkdtemp(prefix="matryoshka-migbench-", dir=args.workdir)
    atexit.register(shutil.rmtree, workdir, True)
    atexit.register(bs.kill_all_children)
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(128 + s))

    failed = False
    table = []
    for sc in [s.strip() for s in args.scenarios.split(",") if s.strip()]:
        rate = 0 if sc == "idle" else int(sc)
        initrd = build_initramfs(workdir, busybox, dirty, args.wset if rate else 1, rate, args.seconds)
        results = {"matryoshka": [], "qemu": []}
        for k in range(args.runs):
            for name, fn in (("matryoshka", lambda: matryoshka_run(args, kernel, initrd, workdir, f"{sc}-{k}")),
                             ("qemu", lambda: qemu_run(args, kernel, initrd, firmware, workdir, f"{sc}-{k}"))):
                if name == "qemu" and args.skip_qemu:
                    continue
                try:
                    r = fn()
                    results[name].append(r)
                    log(f"{sc} {name} run {k + 1}: " + ", ".join(f"{a}={b:.1f}" if isinstance(b, float) else f"{a}={b}" for a, b in r.items()))
                except BenchError as e:
                    failed = True
                    log(f"{sc} {name} run {k + 1} FAILED: {e}")
                    for c in list(bs.CHILDREN):
                        for l in c.tail():
                            log(f"  {c.name}: {l}")
                    bs.kill_all_children()
        table.append((sc, results))

    print(f"\nLive migration, {args.memory} guest, downtime budget {args.downtime_ms:g} ms, Unix socket, medians of {args.runs} run(s)")
    print(f"{'scenario':<10}{'figure':<22}{'Matryoshka':>14}{'QEMU 7.2':>14}{'ratio':>8}")
    goals = []
    for sc, res in table:
        for key, label, unit in (("total_ms", "total time", " ms"), ("downtime_ms", "downtime (host)", " ms"),
                                 ("guest_gap_ms", "largest guest gap", " ms"), ("bytes", "sent", "B"),
                                 ("iterations", "iterations", ""), ("throttle", "throttle %", "")):
            m, q = med(res["matryoshka"], key), med(res["qemu"], key)
            ratio = f"{m / q:.2f}" if m is not None and q else "-"
            print(f"{sc + (' MiB/s' if sc != 'idle' else ''):<10}{label:<22}{fmt(m, unit):>14}{fmt(q, unit):>14}{ratio:>8}")
        m_down, m_total, q_total = med(res["matryoshka"], "downtime_ms"), med(res["matryoshka"], "total_ms"), med(res["qemu"], "total_ms")
        limit = 20 if sc == "idle" else (100 if sc == "200" else None)
        if limit is not None and m_down is not None:
            goals.append(f"{sc}: downtime {m_down:.1f} ms {'<' if m_down < limit else '>='} {limit} ms goal: {'met' if m_down < limit else 'MISSED'}")
        if m_total is not None and q_total:
            goals.append(f"{sc}: total {m_total:.0f} ms vs QEMU {q_total:.0f} ms: {'met' if m_total <= q_total else 'MISSED'}")
    print("\nGoals:")
    for g in goals:
        print("  " + g)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
