#!/usr/bin/env python3
"""Vector benchmark: clang-autovectorized kernels against the same kernels scalar, on Matryoshka and QEMU.

guest/bench/vector.c (a byte checksum, an int32 dot product and a daxpy) is built twice with the Swift
toolchain's clang -O3: for rv64gc (scalar) and for rv64gcv (RVV, VLEN-agnostic). Each build runs in a
busybox initramfs on Debian's kernel under Matryoshka (--cpu max, VLEN 128) and under QEMU 7.2
(-cpu rv64,v=true,vlen=128); the program times each kernel with the guest clock. Prints the medians per
kernel and configuration, the vector/scalar ratio on each emulator and Matryoshka/QEMU ratios, and
checks that every run of every build computed the same results.

Needs: `matryoshka images fetch` done, clang (Swift toolchain), riscv64-linux-gnu libc (gcc-riscv64-linux-gnu,
libc6-dev-riscv64-cross), qemu-system-riscv64.
Usage: scripts/bench-vector.py [--runs 3] [--rounds 20] [--matryoshka PATH]
"""

import argparse
import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location("bench_boot", os.path.join(ROOT, "scripts", "bench-boot.py"))
bench_boot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_boot)

INIT = """#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
echo "BENCH-VECTOR-START"
/bin/bench-vector {rounds}
echo "BENCH-VECTOR-END status=$?"
poweroff -f
"""
GCC_LIB = "/usr/lib/gcc-cross/riscv64-linux-gnu/12"


def clang():
    for c in (os.environ.get("CLANG"), "/opt/swift/usr/bin/clang", shutil.which("clang")):
        if c and os.access(c, os.X_OK):
            return c
    sys.exit("error: clang not found (the Swift toolchain's, /opt/swift/usr/bin/clang); set CLANG")


def build(workdir, march):
    if not os.path.isdir(GCC_LIB):
        sys.exit(f"error: {GCC_LIB} missing: apt-get install gcc-riscv64-linux-gnu libc6-dev-riscv64-cross")
    out = os.path.join(workdir, f"bench-vector-{march}")
    subprocess.run([clang(), "--target=riscv64-linux-gnu", f"-march={march}", "-O3", "-static", "--sysroot=/usr/riscv64-linux-gnu",
                    f"-B{GCC_LIB}", f"-L{GCC_LIB}", "-fuse-ld=lld", "-o", out, os.path.join(ROOT, "guest", "bench", "vector.c")], check=True)
    return out


def initramfs(matryoshka, workdir, program, rounds, name):
    init = os.path.join(workdir, f"init-{name}")
    with open(init, "w") as f:
        f.write(INIT.format(rounds=rounds))
    out = os.path.join(workdir, f"{name}.cpio.gz")
    subprocess.run([matryoshka, "images", "initramfs", "--init", init, "--add", f"/bin/bench-vector:{program}:755", "--out", out],
                   check=True, capture_output=True)
    return out


def run_once(cmd, timeout):
    run = bench_boot.Run()
    run.kernels = {}

    def on_line(line, now):
        m = re.search(r"KERNEL (\S+) ms=([0-9.]+) result=(\S+)", line)
        if m:
            run.kernels[m.group(1)] = (float(m.group(2)), m.group(3))
        if "BENCH-VECTOR-END status=0" in line:
            run.checksum = "ok"
            run.t_init = run.t_end = now
    return bench_boot.run_streaming(cmd, timeout, run, on_line)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--matryoshka", default=os.environ.get("MATRYOSHKA_BIN") or os.path.join(ROOT, ".build", "release", "matryoshka"))
    ap.add_argument("--qemu", default="qemu-system-riscv64")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    cache = bench_boot.cache_dir()
    kernel, firmware = bench_boot.guest_images()
    append = "console=ttyS0 panic=-1"
    workdir = tempfile.mkdtemp(prefix="matryoshka-bench-vector-")
    try:
        builds = {b: initramfs(args.matryoshka, workdir, build(workdir, march), args.rounds, b)
                  for b, march in (("scalar", "rv64gc"), ("vector", "rv64gcv"))}
        configs = {}
        for b, initrd in builds.items():
            configs[f"matryoshka-{b}"] = [args.matryoshka, "run", "--cpu", "max", "--kernel", kernel, "--initrd", initrd, "--append", append]
            configs[f"qemu-{b}"] = [args.qemu, "-M", "virt", "-cpu", "rv64,h=true,v=true,vlen=128,elen=64,vext_spec=v1.0", "-m", "512M",
                                    "-nographic", "-no-reboot", "-bios", firmware, "-kernel", kernel, "-initrd", initrd, "-append", append]
        names = {k: k for k in configs}
        results, failed = bench_boot.run_configurations(
            list(configs), configs, names, args.runs, lambda cmd: run_once(cmd, args.timeout),
            lambda r: "  ".join(f"{k} {v[0]:.0f} ms" for k, v in r.kernels.items()),
            lambda r: "timed out" if r.timed_out else f"exit status {r.status}, {len(r.kernels)} kernel lines")
        kernels = ["byte-checksum", "int-dot", "daxpy"]
        med, answers = {}, {}
        for key, runs in results.items():
            for r in runs:
                if not r.ok:
                    continue
                for k, (ms, result) in r.kernels.items():
                    med.setdefault((key, k), []).append(ms)
                    answers.setdefault(k, set()).add(result)
        print()
        print(f"vector benchmark: {args.runs} run(s) each, {args.rounds} rounds, guest-timed milliseconds (medians); VLEN 128 on both")
        header = f"{'kernel':15} {'Matryoshka scalar':>18} {'vector':>8} {'v/s':>6} {'QEMU scalar':>12} {'vector':>8} {'v/s':>6} {'M/Q scalar':>11} {'M/Q vector':>11}"
        print(header)
        print("-" * len(header))

        def m(key, k):
            v = med.get((key, k))
            return statistics.median(v) if v else None
        for k in kernels:
            ms, mv, qs, qv = m("matryoshka-scalar", k), m("matryoshka-vector", k), m("qemu-scalar", k), m("qemu-vector", k)
            f = lambda v: f"{v:.0f}" if v is not None else "-"
            r = lambda a, b: f"{a / b:.2f}" if a and b else "-"
            print(f"{k:15} {f(ms):>18} {f(mv):>8} {r(mv, ms):>6} {f(qs):>12} {f(qv):>8} {r(qv, qs):>6} {r(ms, qs):>11} {r(mv, qv):>11}")
        mismatched = [k for k, s in answers.items() if len(s) != 1]
        if mismatched:
            print(f"error: builds or emulators disagree on the results of {mismatched}: {answers}")
            failed = True
        sys.exit(1 if failed else 0)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
