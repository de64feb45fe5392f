#!/usr/bin/env python3
"""SMP benchmark: Matryoshka `--cpus N` against QEMU 7.2 `-smp N` (multi-threaded TCG), N = 1, 2, 4.

One initramfs; its /init, on N CPUs (nproc), times between console markers (host wall clock):

  cpu     N copies of guest/bench/cpu.c (ROUNDS rounds each) at once: throughput. The ideal is the
          1-CPU time at every N (each copy on its own CPU); "scaling" = N * t(1) / t(N).
  procs   N shell workers each starting PROCS short processes (busybox expr): a build-like load of
          fork/exec/exit; reported as processes per second.
  boot    from the emulator's start to the init marker.

Prints medians per configuration and the Matryoshka/QEMU ratios. Exits non-zero when any run fails
or the bench-cpu checksums disagree.

Usage: scripts/bench-smp.py [--runs 3] [--cpus 1,2,4] [--rounds 32] [--procs 200] [--only matryoshka,qemu]
"""

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile

_spec = importlib.util.spec_from_file_location("bench_boot", os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-boot.py"))
bench_boot = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_boot)
cache_dir, log, fmt, median, ROOT = bench_boot.cache_dir, bench_boot.log, bench_boot.fmt, bench_boot.median, bench_boot.ROOT

INIT = """#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
echo "BENCH-INIT $(nproc)"
n=$(nproc)
echo BENCH-CPU-START
i=0
while [ $i -lt $n ]; do /bin/bench-cpu {rounds} > /tmp/cpu.$i & i=$((i+1)); done
wait
echo BENCH-CPU-END
cat /tmp/cpu.* | sed 's/^/BENCH-CHECK /'
echo BENCH-PROCS-START
i=0
while [ $i -lt $n ]; do
    ( j=0; while [ $j -lt {procs} ]; do /bin/busybox expr $j + 1 > /dev/null; j=$((j+1)); done ) &
    i=$((i+1))
done
wait
echo BENCH-PROCS-END
poweroff -f
"""

MARKS = ["BENCH-INIT", "BENCH-CPU-START", "BENCH-CPU-END", "BENCH-PROCS-START", "BENCH-PROCS-END"]


class Run:
    def __init__(self):
        self.t = {}
        self.nproc = None
        self.checks = []
        self.total = self.status = None
        self.timed_out = False
        self.tail = []

    def span(self, a, b):
        return self.t[b] - self.t[a] if a in self.t and b in self.t else None

    @property
    def cpu(self):
        return self.span("BENCH-CPU-START", "BENCH-CPU-END")

    @property
    def procs(self):
        return self.span("BENCH-PROCS-START", "BENCH-PROCS-END")

    @property
    def boot(self):
        return self.t.get("BENCH-INIT")

    @property
    def ok(self):
        return (self.status == 0 and not self.timed_out and None not in (self.cpu, self.procs, self.boot)
                and self.nproc is not None and len(self.checks) == self.nproc)


def once(cmd, timeout):
    run = Run()

    def on_line(line, now):
        line = line.strip()
        for mark in MARKS:
            if line.startswith(mark) and mark not in run.t:
                run.t[mark] = now
        if line.startswith("BENCH-INIT "):
            try:
                run.nproc = int(line.split()[1])
            except (ValueError, IndexError):
                pass
        elif line.startswith("BENCH-CHECK "):
            run.checks.append(line[len("BENCH-CHECK "):])

    return bench_boot.run_streaming(cmd, timeout, run, on_line)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--matryoshka", default=os.environ.get("MATRYOSHKA_BIN") or os.path.join(ROOT, ".build", "release", "matryoshka"))
    ap.add_argument("--qemu", default="qemu-system-riscv64")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cpus", default="1,2,4")
    ap.add_argument("--rounds", type=int, default=32, help="rounds of bench-cpu per copy")
    ap.add_argument("--procs", type=int, default=200, help="short processes per worker")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--only", default="matryoshka,qemu")
    ap.add_argument("--extra", default="", help="extra matryoshka run options (space-separated)")
    args = ap.parse_args()

    kernel, firmware = bench_boot.guest_images()
    if not os.access(args.matryoshka, os.X_OK):
        sys.exit(f"error: {args.matryoshka} not found: run `swift build -c release`")
    cpus = [int(c) for c in args.cpus.split(",") if c.strip()]
    emulators = [c.strip() for c in args.only.split(",") if c.strip()]
    if set(emulators) - {"matryoshka", "qemu"}:
        sys.exit("error: --only takes matryoshka and/or qemu")

    workdir = tempfile.mkdtemp(prefix="matryoshka-bench-smp-")
    try:
        program = bench_boot.build_program(workdir)
        init = os.path.join(workdir, "init")
        with open(init, "w") as f:
            f.write(INIT.format(rounds=args.rounds, procs=args.procs))
        initrd = os.path.join(workdir, "smp.cpio.gz")
        subprocess.run([args.matryoshka, "images", "initramfs", "--init", init, "--add", f"/bin/bench-cpu:{program}:755",
                        "--out", initrd], check=True)
        append = "console=ttyS0 quiet panic=-1"
        configs, names = {}, {}
        for n in cpus:
            if "matryoshka" in emulators:
                key = f"matryoshka-{n}"
                configs[key] = [args.matryoshka, "run", "--kernel", kernel, "--initrd", initrd, "--memory", "512M",
                                "--cpus", str(n), "--append", append] + args.extra.split()
                names[key] = f"Matryoshka --cpus {n}"
            if "qemu" in emulators:
                key = f"qemu-{n}"
                configs[key] = [args.qemu, "-M", "virt", "-cpu", "rv64", "-m", "512M", "-smp", str(n), "-nographic",
                                "-no-reboot", "-bios", firmware, "-kernel", kernel, "-initrd", initrd, "-append", append]
                names[key] = f"QEMU -smp {n}"
        results, failed = bench_boot.run_configurations(
            list(configs), configs, names, args.runs, lambda cmd: once(cmd, args.timeout),
            lambda r: f"boot {fmt(r.boot)}  cpu x{r.nproc} {fmt(r.cpu)}  procs {fmt(r.procs)}  total {fmt(r.total)}",
            lambda r: "timed out" if r.timed_out else f"exit status {r.status}")

        med = {}
        for key, runs in results.items():
            good = [r for r in runs if r.ok]
            med[key] = {"boot": median([r.boot for r in good]), "cpu": median([r.cpu for r in good]),
                        "procs": median([r.procs for r in good]), "ok": f"{len(good)}/{len(runs)}"}
        print()
        print(f"SMP benchmark: {args.runs} run(s) each, medians; cpu = N copies of bench-cpu {args.rounds} rounds at once, "
              f"procs = N workers x {args.procs} short processes")
        header = f"{'configuration':22} {'ok':>5} {'boot':>8} {'cpu':>8} {'scaling':>8} {'procs/s':>8}"
        print(header)
        print("-" * len(header))
        for key in configs:
            m = med[key]
            emulator, n = key.rsplit("-", 1)
            base = med.get(f"{emulator}-1", {}).get("cpu")
            scaling = f"{int(n) * base / m['cpu']:.2f}x" if base and m["cpu"] else "-"
            rate = f"{int(n) * args.procs / m['procs']:.0f}" if m["procs"] else "-"
            print(f"{names[key]:22} {m['ok']:>5} {fmt(m['boot']):>8} {fmt(m['cpu']):>8} {scaling:>8} {rate:>8}")
        if "matryoshka" in emulators and "qemu" in emulators:
            print()
            print("ratios (Matryoshka / QEMU host time, lower is better):")
            for n in cpus:
                a, b = med.get(f"matryoshka-{n}"), med.get(f"qemu-{n}")
                if a and b:
                    print(f"  {n} CPU(s): " + bench_boot.ratios(a, b, (("boot", "boot"), ("cpu", "cpu"), ("procs", "procs")), digits=2))
        checks = {c.split("checksum=")[-1] for runs in results.values() for r in runs for c in r.checks}
        if len(checks) > 1:
            print(f"WARNING: bench-cpu printed different checksums: {sorted(checks)}")
            failed = True
        if failed:
            print("\nsome runs failed (see above)")
            return 1
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
