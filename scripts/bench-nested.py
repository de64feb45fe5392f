#!/usr/bin/env python3
"""Nested-virtualization benchmark: Matryoshka against QEMU TCG, each running L1 Linux with KVM
that runs L2 Linux in qemu-system-riscv64 -accel kvm.

Builds, in a temporary directory, a variant of the nested L1 disk (`matryoshka images fetch
--nested`) holding guest/bench/cpu.c (static riscv64) and an L1 /init in bench mode, which

  1. loads kvm.ko, waits 1 s for boot-time kernel work to settle (L2 does the same), times
     `bench-cpu ROUNDS` in L1 (markers on the console, /proc/uptime before
     and after),
  2. prints a "starting L2" marker and runs L2 under `qemu-system-riscv64 -accel kvm`; L2's
     /init prints a marker (with L2's /proc/uptime) as soon as it starts, times bench-cpu ROUNDS
     the same way and powers off,
  3. powers L1 off.

That disk boots RUNS times under Matryoshka (`run --hypervisor --memory 1G`, built-in SBI) and
under `qemu-system-riscv64 -M virt -cpu rv64,h=true -m 1G` with OpenSBI. Measured per run:

  L1 cpu       host wall time between the markers around bench-cpu in L1 (guest clock in brackets)
  L2 cpu       the same in L2
  L2/L1        L1 cpu / L2 cpu: the speed of L2 relative to L1 (1.0 = no nesting overhead)
  L2 boot      host wall time from L1's "starting L2" marker to L2's init marker; in brackets,
               L2's own /proc/uptime at that point (its kernel's view of its boot time)
  total        host wall time until the emulator exited

Prints medians and the Matryoshka/QEMU ratios. Exits non-zero when any run fails.

Needs: `matryoshka images fetch --nested` done, riscv64-linux-gnu-gcc, debugfs (e2fsprogs),
qemu-system-riscv64 (for the QEMU column).
Usage: scripts/bench-nested.py [--runs 3] [--rounds 64] [--matryoshka PATH] [--only matryoshka,qemu]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import importlib.util

# Shared helpers from bench-boot.py (not importable by name: it has a dash).
_spec = importlib.util.spec_from_file_location("bench_boot", os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-boot.py"))
bench_boot = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_boot)
cache_dir, log, build_program, fmt, median, ROOT = (bench_boot.cache_dir, bench_boot.log, bench_boot.build_program,
                                                    bench_boot.fmt, bench_boot.median, bench_boot.ROOT)

# The start of a bench /init on the L1 disk (root mounted read-only by the nested L1 initramfs): file
# systems, busybox applets, `fail` (reports through sifive_test); a str.format template like the rest.
L1_INIT_HEAD = """#!/bin/busybox sh
busybox mount -t proc proc /proc
busybox mount -t sysfs sysfs /sys
busybox mount -t devtmpfs devtmpfs /dev
busybox mount -t tmpfs tmpfs /tmp
busybox mount -t tmpfs tmpfs /run
busybox mkdir -p /run/bb /dev/shm
busybox --install -s /run/bb
export PATH=/usr/local/bin:/usr/bin:/usr/sbin:/run/bb
mount -t tmpfs tmpfs /dev/shm
fail() {{ echo "BENCH-FAILED $*"; devmem 0x100000 32 0x13333; reboot -f; }}
"""
# Loads KVM in L1.
L1_INIT_KVM = """for m in irqbypass kvm; do insmod /lib/modules/$m.ko || fail "insmod $m.ko"; done
[ -c /dev/kvm ] || fail "no /dev/kvm"
"""

# /init of the bench L1 disk.
L1_INIT = L1_INIT_HEAD + """grep -q nested=bench /proc/cmdline || echo "note: booted without nested=bench"
""" + L1_INIT_KVM + """echo "BENCH-L1-INIT"
sleep 1   # let boot-time work (deferred probes, workqueues) finish, as in L2
read u0 rest < /proc/uptime
echo "BENCH-L1-CPU-START"
bench-cpu {rounds}
echo "BENCH-L1-CPU-END"
read u1 rest < /proc/uptime
echo "BENCH-L1-CPU-UPTIME $u0 $u1"
echo "BENCH-L2-STARTING"
qemu-system-riscv64 -M virt -accel kvm -cpu host -m 256M -smp 1 -nographic -no-reboot \\
    -kernel /l2/Image -initrd /l2/initrd-bench.gz -append "console=ttyS0 quiet"
status=$?
echo "BENCH-QEMU-EXIT $status"
[ $status = 0 ] || fail "qemu exited with status $status"
poweroff -f
"""

# /init of L2's bench initramfs.
L2_INIT = """#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
read up rest < /proc/uptime
echo "BENCH-L2-INIT $up"
sleep 1   # let boot-time work (deferred probes, workqueues) finish, as in L1
read u0 rest < /proc/uptime
echo "BENCH-L2-CPU-START"
/bin/bench-cpu {rounds}
echo "BENCH-L2-CPU-END"
read u1 rest < /proc/uptime
echo "BENCH-L2-CPU-UPTIME $u0 $u1"
poweroff -f
"""

MARKS = ["BENCH-L1-INIT", "BENCH-L1-CPU-START", "BENCH-L1-CPU-END", "BENCH-L2-STARTING",
         "BENCH-L2-INIT", "BENCH-L2-CPU-START", "BENCH-L2-CPU-END", "BENCH-QEMU-EXIT"]


def nested_images():
    """The cached nested L1 disk and initramfs, and debugfs; exits with the fix when one is missing."""
    nested = os.path.join(cache_dir(), "nested")
    disk, l1initrd = os.path.join(nested, "l1-disk.ext4"), os.path.join(nested, "l1-initramfs.cpio.gz")
    for p in (disk, l1initrd):
        if not os.path.exists(p):
            sys.exit(f"error: {p} missing: run `swift run -c release matryoshka images fetch --nested`")
    debugfs = shutil.which("debugfs") or ("/usr/sbin/debugfs" if os.path.exists("/usr/sbin/debugfs") else None)
    if not debugfs:
        sys.exit("error: debugfs not found: apt-get install e2fsprogs")
    return disk, l1initrd, debugfs


def disk_variant(debugfs, disk, out, commands, expect_in_l2):
    """A sparse copy of `disk` at `out` changed by debugfs `commands`; `expect_in_l2` must then be in /l2."""
    subprocess.run(["cp", "--sparse=always", disk, out], check=True)
    r = subprocess.run([debugfs, "-w", "-f", "-", out], input="\n".join(commands) + "\n", capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"error: debugfs failed on {out}: {r.stderr.strip()}")
    # debugfs reports per-command errors on stderr without failing; check the result.
    check = subprocess.run([debugfs, "-R", "ls -l /l2", out], capture_output=True, text=True)
    if expect_in_l2 not in check.stdout:
        sys.exit(f"error: could not write the bench files into {out}: {r.stderr.strip()}")
    return out


def build_disk(matryoshka, workdir, program, rounds):
    """A sparse copy of the cached L1 disk with bench-cpu, the bench /init and L2's bench initramfs."""
    disk, l1initrd, debugfs = nested_images()
    l1init, l2init = os.path.join(workdir, "l1-init"), os.path.join(workdir, "l2-init")
    with open(l1init, "w") as f:
        f.write(L1_INIT.format(rounds=rounds))
    with open(l2init, "w") as f:
        f.write(L2_INIT.format(rounds=rounds))
    os.chmod(l1init, 0o755)
    l2initrd = os.path.join(workdir, "l2-bench.cpio.gz")
    subprocess.run([matryoshka, "images", "initramfs", "--init", l2init, "--add", f"/bin/bench-cpu:{program}:755",
                    "--out", l2initrd], check=True)
    commands = ["rm /init", f"write {l1init} /init", "sif /init mode 0100755",
                f"write {program} /usr/local/bin/bench-cpu", "sif /usr/local/bin/bench-cpu mode 0100755",
                f"write {l2initrd} /l2/initrd-bench.gz"]
    return disk_variant(debugfs, disk, os.path.join(workdir, "l1-bench.ext4"), commands, "initrd-bench.gz"), l1initrd


class Run:
    def __init__(self):
        self.t = {}          # marker -> host seconds since start
        self.l1_guest = self.l2_guest = self.l2_uptime = None
        self.qemu_exit = None
        self.checksums = []
        self.total = None
        self.status = None
        self.timed_out = False
        self.tail = []

    def span(self, a, b):
        return self.t[b] - self.t[a] if a in self.t and b in self.t else None

    @property
    def l1_cpu(self):
        return self.span("BENCH-L1-CPU-START", "BENCH-L1-CPU-END")

    @property
    def l2_cpu(self):
        return self.span("BENCH-L2-CPU-START", "BENCH-L2-CPU-END")

    @property
    def l2_boot(self):
        return self.span("BENCH-L2-STARTING", "BENCH-L2-INIT")

    @property
    def ok(self):
        return (self.status == 0 and not self.timed_out and self.qemu_exit == "0"
                and None not in (self.l1_cpu, self.l2_cpu, self.l2_boot) and len(self.checksums) == 2)


def guest_span(line, mark):
    try:
        u0, u1 = line.split(mark, 1)[1].split()[:2]
        return float(u1) - float(u0)
    except (ValueError, IndexError):
        return None


def boot_once(cmd, timeout):
    run = Run()

    def on_line(line, now):
        line = line.strip()
        for mark in MARKS:
            if line.startswith(mark) and mark not in run.t:
                run.t[mark] = now
        if line.startswith("BENCH-L1-CPU-UPTIME "):
            run.l1_guest = guest_span(line, "BENCH-L1-CPU-UPTIME ")
        elif line.startswith("BENCH-L2-CPU-UPTIME "):
            run.l2_guest = guest_span(line, "BENCH-L2-CPU-UPTIME ")
        elif line.startswith("BENCH-L2-INIT "):
            try:
                run.l2_uptime = float(line.split()[1])
            except (ValueError, IndexError):
                pass
        elif line.startswith("BENCH-QEMU-EXIT "):
            run.qemu_exit = line.split()[1] if len(line.split()) > 1 else None
        elif line.startswith("bench-cpu rounds="):
            run.checksums.append(line)

    return bench_boot.run_streaming(cmd, timeout, run, on_line)


def with_guest(host, guest):
    return f"{fmt(host)} [{fmt(guest)}]"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--matryoshka", default=os.environ.get("MATRYOSHKA_BIN") or os.path.join(ROOT, ".build", "release", "matryoshka"))
    ap.add_argument("--qemu", default="qemu-system-riscv64")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=64, help="rounds of bench-cpu in L1 and in L2")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before a run is killed")
    ap.add_argument("--only", default="matryoshka,qemu", help="comma list of: matryoshka, qemu")
    args = ap.parse_args()

    kernel, firmware = bench_boot.guest_images(nested=True)
    if not os.access(args.matryoshka, os.X_OK):
        sys.exit(f"error: {args.matryoshka} not found: run `swift build -c release` (it also builds L2's initramfs)")

    workdir = tempfile.mkdtemp(prefix="matryoshka-bench-nested-")
    try:
        program = build_program(workdir)
        disk, l1initrd = build_disk(args.matryoshka, workdir, program, args.rounds)
        append = "console=ttyS0 quiet nested=bench"
        configs = {
            "matryoshka": [args.matryoshka, "run", "--hypervisor", "--memory", "1G", "--kernel", kernel,
                           "--initrd", l1initrd, "--disk", f"{disk},format=raw,readonly=on", "--append", append],
            "qemu": [args.qemu, "-M", "virt", "-cpu", "rv64,h=true", "-m", "1G", "-nographic", "-no-reboot",
                     "-bios", firmware, "-kernel", kernel, "-initrd", l1initrd,
                     "-drive", f"file={disk},if=none,format=raw,id=d,readonly=on", "-device", "virtio-blk-device,drive=d",
                     "-append", append],
        }
        names = {"matryoshka": "Matryoshka (--hypervisor)", "qemu": "QEMU TCG (h=true)"}
        wanted = [c.strip() for c in args.only.split(",") if c.strip()]
        unknown = [c for c in wanted if c not in configs]
        if unknown:
            sys.exit(f"error: unknown configuration(s) {unknown}; use matryoshka, qemu")

        results, failed = bench_boot.run_configurations(
            wanted, configs, names, args.runs, lambda cmd: boot_once(cmd, args.timeout),
            lambda r: (f"L1 cpu {with_guest(r.l1_cpu, r.l1_guest)}  L2 cpu {with_guest(r.l2_cpu, r.l2_guest)}  "
                       f"L2 boot {with_guest(r.l2_boot, r.l2_uptime)}  total {fmt(r.total)}"),
            lambda r: "timed out" if r.timed_out else f"exit status {r.status}, qemu in L1 exit {r.qemu_exit}")

        print()
        print(f"nested benchmark: {args.runs} run(s) each, bench-cpu {args.rounds} rounds in L1 and in L2, medians")
        print("host wall time [guest /proc/uptime]; L2/L1 = L1 cpu / L2 cpu (L2's speed relative to L1)")
        header = (f"{'emulator':27} {'ok':>5} {'L1 cpu':>15} {'L2 cpu':>15} {'L2/L1':>6} "
                  f"{'L2 boot':>15} {'total':>8}")
        print(header)
        print("-" * len(header))
        med = {}
        for key, runs in results.items():
            good = [r for r in runs if r.ok]
            m = {
                "l1": median([r.l1_cpu for r in good]), "l1g": median([r.l1_guest for r in good]),
                "l2": median([r.l2_cpu for r in good]), "l2g": median([r.l2_guest for r in good]),
                "ratio": median([r.l1_cpu / r.l2_cpu for r in good if r.l2_cpu]),
                "boot": median([r.l2_boot for r in good]), "bootg": median([r.l2_uptime for r in good]),
                "total": median([r.total for r in good]),
            }
            med[key] = m
            print(f"{names[key]:27} {len(good):>2}/{len(runs):<2} {with_guest(m['l1'], m['l1g']):>15} "
                  f"{with_guest(m['l2'], m['l2g']):>15} {fmt(m['ratio'], ''):>6} "
                  f"{with_guest(m['boot'], m['bootg']):>15} {fmt(m['total']):>8}")
        checks = {c.split("checksum=")[-1] for runs in results.values() for r in runs for c in r.checksums}
        if len(checks) > 1:
            print(f"WARNING: bench-cpu printed different checksums: {sorted(checks)}")
            failed = True
        if "matryoshka" in med and "qemu" in med:
            print()
            print("ratios (Matryoshka / QEMU host time, lower is better):")
            fields = (("l1", "L1 cpu"), ("l2", "L2 cpu"), ("boot", "L2 boot"), ("total", "total"))
            print("  " + bench_boot.ratios(med["matryoshka"], med["qemu"], fields, digits=2))
        if failed:
            print("\nsome runs failed (see above)")
            return 1
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
