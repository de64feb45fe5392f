#!/usr/bin/env python3
"""L2 disk and network throughput with AIA against the PLIC: the nested stack (L1 Linux with KVM runs
L2 Linux in qemu-system-riscv64 -accel kvm) under Matryoshka and under QEMU TCG, each on a board with
the PLIC and on one with AIA (APLIC in MSI mode + IMSICs with guest interrupt files).

Builds, in a temporary directory, a variant of the nested L1 disk (`matryoshka images fetch --nested`)
with an L1 /init in bench mode and an L2 initramfs with the virtio modules. L1

  1. loads kvm.ko, brings up lo and serves /l2 over HTTP (busybox httpd, port 8000),
  2. starts L2 with the board's interrupt controllers (`-M virt,aia=aplic-imsic` when L1's device tree
     has IMSICs, as run-l2 does), two virtio-blk disks (L1's root disk read-only, a 32 MiB scratch
     file in L1's tmpfs) and a virtio-net NIC on QEMU's user network;

L2 then, between markers on the console (timed on the host):

  disk read    dd if=/dev/vda of=/dev/null bs=1M count=64        (L1's disk, through both levels)
  disk write   dd if=/dev/zero of=/dev/vdb bs=1M count=32 conv=fsync
  net          wget http://10.0.2.2:8000/Image (L1's httpd through QEMU's slirp), bytes counted

and prints the lines of /proc/interrupts for its virtio devices and UART (which interrupt controller
delivered them). With --stats, Matryoshka's VM exits and L2 external interrupts are reported too.

Prints medians of MB/s, the AIA/PLIC ratios and the Matryoshka/QEMU ratios. Exits non-zero when any run
fails.

QEMU 7.2's AIA board (`qemu-aia`, not run by default) does not boot Debian's Linux 6.12: the kernel stops
after "printk: legacy console [ttyS0] enabled", so AIA is compared against QEMU's PLIC board only.

Needs: `matryoshka images fetch --nested` done, debugfs (e2fsprogs), qemu-system-riscv64 (QEMU columns).
Usage: scripts/bench-nested-io.py [--runs 3] [--matryoshka PATH] [--only matryoshka-plic,matryoshka-aia,qemu-plic[,qemu-aia]]
"""

import argparse
import glob
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
_spec = importlib.util.spec_from_file_location("bench_nested", os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-nested.py"))
bench_nested = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_nested)

READ_MIB, WRITE_MIB = 64, 32
L2_MODULES = ("virtio_mmio", "virtio_blk", "failover", "net_failover", "virtio_net")

L1_INIT = bench_nested.L1_INIT_HEAD + bench_nested.L1_INIT_KVM + """ip link set lo up || ifconfig lo 127.0.0.1 up
httpd -p 127.0.0.1:8000 -h /l2 || fail "httpd"
dd if=/dev/zero of=/tmp/scratch.img bs=1M count={write_mib} 2>/dev/null || fail "scratch file"
machine=virt
grep -qs riscv,imsics /sys/firmware/devicetree/base/soc/*/compatible && machine=virt,aia=aplic-imsic
echo "BENCH-L1-BOARD $machine"
qemu-system-riscv64 -M $machine -accel kvm -cpu host -m 256M -smp 1 -nographic -no-reboot \\
    -kernel /l2/Image -initrd /l2/initrd-io.gz -append "console=ttyS0 quiet" \\
    -drive file=/dev/vda,format=raw,if=none,readonly=on,id=root -device virtio-blk-device,drive=root \\
    -drive file=/tmp/scratch.img,format=raw,if=none,id=scratch -device virtio-blk-device,drive=scratch \\
    -netdev user,id=n0 -device virtio-net-device,netdev=n0
status=$?
echo "BENCH-QEMU-EXIT $status"
[ $status = 0 ] || fail "qemu exited with status $status"
poweroff -f
"""

L2_INIT = """#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() {{ echo "BENCH-FAILED $*"; poweroff -f; }}
for m in {modules}; do insmod /lib/modules/$m.ko || fail "insmod $m.ko"; done
sleep 1
[ -b /dev/vda ] && [ -b /dev/vdb ] || fail "no virtio disks"
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 || fail "eth0"
echo "BENCH-READ-START"
dd if=/dev/vda of=/dev/null bs=1M count={read_mib} 2>/dev/null || fail "dd read"
echo "BENCH-READ-END {read_bytes}"
echo "BENCH-WRITE-START"
dd if=/dev/zero of=/dev/vdb bs=1M count={write_mib} conv=fsync 2>/dev/null || fail "dd write"
echo "BENCH-WRITE-END {write_bytes}"
echo "BENCH-NET-START"
bytes=$(wget -q -O - http://10.0.2.2:8000/Image | wc -c)
echo "BENCH-NET-END $bytes"
grep -E 'virtio|ttyS0' /proc/interrupts | tr -s ' ' | sed 's/^/BENCH-IRQ /'
poweroff -f
"""

SPANS = (("read", "BENCH-READ-START", "BENCH-READ-END"), ("write", "BENCH-WRITE-START", "BENCH-WRITE-END"),
         ("net", "BENCH-NET-START", "BENCH-NET-END"))


def module_files(workdir):
    """The L2 virtio modules, decompressed (Debian ships them .ko.xz)."""
    base = os.path.join(cache_dir(), "modules")
    out = []
    for m in L2_MODULES:
        hits = [p for p in glob.glob(os.path.join(base, "**", m + ".ko*"), recursive=True)]
        if not hits:
            sys.exit(f"error: module {m} not found under {base}: run `swift run -c release matryoshka images fetch`")
        src, dst = hits[0], os.path.join(workdir, m + ".ko")
        if src.endswith(".xz"):
            with open(dst, "wb") as f:
                subprocess.run(["xz", "-dc", src], stdout=f, check=True)
        else:
            shutil.copyfile(src, dst)
        out.append((m, dst))
    return out


def build_disk(matryoshka, workdir):
    """A sparse copy of the cached L1 disk with the bench /init and L2's bench initramfs."""
    disk, l1initrd, debugfs = bench_nested.nested_images()
    l1init, l2init = os.path.join(workdir, "l1-init"), os.path.join(workdir, "l2-init")
    with open(l1init, "w") as f:
        f.write(L1_INIT.format(write_mib=WRITE_MIB))
    with open(l2init, "w") as f:
        f.write(L2_INIT.format(modules=" ".join(L2_MODULES), read_mib=READ_MIB, write_mib=WRITE_MIB,
                               read_bytes=READ_MIB << 20, write_bytes=WRITE_MIB << 20))
    os.chmod(l1init, 0o755)
    l2initrd = os.path.join(workdir, "l2-io.cpio.gz")
    adds = []
    for name, path in module_files(workdir):
        adds += ["--add", f"/lib/modules/{name}.ko:{path}:644"]
    subprocess.run([matryoshka, "images", "initramfs", "--init", l2init] + adds + ["--out", l2initrd], check=True)
    commands = ["rm /init", f"write {l1init} /init", "sif /init mode 0100755", f"write {l2initrd} /l2/initrd-io.gz"]
    return bench_nested.disk_variant(debugfs, disk, os.path.join(workdir, "l1-io.ext4"), commands, "initrd-io.gz"), l1initrd


class Run:
    def __init__(self):
        self.t = {}
        self.bytes = {}
        self.board = None
        self.irqs = []
        self.exits = self.external = None
        self.qemu_exit = None
        self.total = self.status = None
        self.timed_out = False
        self.tail = []

    def rate(self, name):
        """MB/s (10^6 bytes) of host wall time between the span's markers."""
        _, a, b = next(s for s in SPANS if s[0] == name)
        if a in self.t and b in self.t and self.bytes.get(name) and self.t[b] > self.t[a]:
            return self.bytes[name] / 1e6 / (self.t[b] - self.t[a])
        return None

    @property
    def ok(self):
        return (self.status == 0 and not self.timed_out and self.qemu_exit == "0"
                and all(self.rate(n) for n, _, _ in SPANS))


def io_once(cmd, timeout):
    run = Run()

    def on_line(line, now):
        line = line.strip()
        for name, a, b in SPANS:
            if line.startswith(a) and a not in run.t:
                run.t[a] = now
            elif line.startswith(b) and b not in run.t:
                run.t[b] = now
                try:
                    run.bytes[name] = int(line.split()[1])
                except (ValueError, IndexError):
                    pass
        if line.startswith("BENCH-L1-BOARD "):
            run.board = line.split()[1]
        elif line.startswith("BENCH-IRQ "):
            run.irqs.append(line[len("BENCH-IRQ "):])
        elif line.startswith("BENCH-QEMU-EXIT "):
            run.qemu_exit = line.split()[1] if len(line.split()) > 1 else None
        elif line.startswith("matryoshka: VM exits (traps from VS/VU into HS or M): "):
            run.exits = int(line.split()[-1])
        elif line.startswith("matryoshka: guest (VS-level) interrupts taken in VS/VU: "):
            try:
                run.external = int(line.split("external ")[1].split(";")[0])
            except (ValueError, IndexError):
                pass

    return bench_boot.run_streaming(cmd, timeout, run, on_line)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--matryoshka", default=os.environ.get("MATRYOSHKA_BIN") or os.path.join(ROOT, ".build", "release", "matryoshka"))
    ap.add_argument("--qemu", default="qemu-system-riscv64")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before a run is killed")
    ap.add_argument("--only", default="matryoshka-plic,matryoshka-aia,qemu-plic")
    args = ap.parse_args()

    kernel, firmware = bench_boot.guest_images(nested=True)
    if not os.access(args.matryoshka, os.X_OK):
        sys.exit(f"error: {args.matryoshka} not found: run `swift build -c release`")

    workdir = tempfile.mkdtemp(prefix="matryoshka-bench-nested-io-")
    try:
        disk, l1initrd = build_disk(args.matryoshka, workdir)
        append = "console=ttyS0 quiet"
        mat = [args.matryoshka, "run", "--hypervisor", "--stats", "--memory", "1G", "--kernel", kernel,
               "--initrd", l1initrd, "--disk", f"{disk},format=raw,readonly=on", "--append", append]
        qemu = [args.qemu, "-cpu", "rv64,h=true", "-m", "1G", "-nographic", "-no-reboot",
                "-bios", firmware, "-kernel", kernel, "-initrd", l1initrd,
                "-drive", f"file={disk},if=none,format=raw,id=d,readonly=on", "-device", "virtio-blk-device,drive=d",
                "-append", append]
        configs = {
            "matryoshka-plic": mat + ["--aia", "none"],
            "matryoshka-aia": mat + ["--aia", "aplic-imsic"],
            "qemu-plic": qemu + ["-M", "virt"],
            "qemu-aia": qemu + ["-M", "virt,aia=aplic-imsic,aia-guests=3"],
        }
        names = {"matryoshka-plic": "Matryoshka, PLIC", "matryoshka-aia": "Matryoshka, AIA",
                 "qemu-plic": "QEMU TCG, PLIC", "qemu-aia": "QEMU TCG, AIA"}
        wanted = [c.strip() for c in args.only.split(",") if c.strip()]
        unknown = [c for c in wanted if c not in configs]
        if unknown:
            sys.exit(f"error: unknown configuration(s) {unknown}; use {', '.join(configs)}")

        def describe(r):
            s = "  ".join(f"{n} {fmt(r.rate(n), ' MB/s')}" for n, _, _ in SPANS)
            if r.exits is not None:
                s += f"  VM exits {r.exits}, L2 external interrupts {r.external}"
            return s + f"  (L2 board {r.board}; total {fmt(r.total)})"

        results, failed = bench_boot.run_configurations(
            wanted, configs, names, args.runs, lambda cmd: io_once(cmd, args.timeout), describe,
            lambda r: "timed out" if r.timed_out else f"exit status {r.status}, qemu in L1 exit {r.qemu_exit}")

        print()
        print(f"L2 I/O benchmark: {args.runs} run(s) each; MB/s (10^6 bytes per host second), medians; "
              f"disk read {READ_MIB} MiB, write {WRITE_MIB} MiB + fsync, net = L2 wget of L1's /l2/Image")
        header = f"{'configuration':18} {'ok':>5} {'disk read':>10} {'disk write':>11} {'net':>8} {'VM exits':>9} {'L2 ext irqs':>11} {'exits/irq':>9}"
        print(header)
        print("-" * len(header))
        med = {}
        for key, runs in results.items():
            good = [r for r in runs if r.ok]
            m = {n: median([r.rate(n) for r in good]) for n, _, _ in SPANS}
            m["exits"] = median([r.exits for r in good if r.exits is not None])
            m["external"] = median([r.external for r in good if r.external is not None])
            med[key] = m
            per = f"{m['exits'] / m['external']:.1f}" if m["exits"] and m["external"] else "-"
            print(f"{names[key]:18} {len(good):>2}/{len(runs):<2} {fmt(m['read'], ''):>10} {fmt(m['write'], ''):>11} "
                  f"{fmt(m['net'], ''):>8} {m['exits'] if m['exits'] is not None else '-':>9} "
                  f"{m['external'] if m['external'] is not None else '-':>11} {per:>9}")
        for key, runs in results.items():
            good = [r for r in runs if r.ok]
            if good:
                print(f"\n{names[key]}: L2 board {good[-1].board}; L2 /proc/interrupts of the last run:")
                for line in good[-1].irqs:
                    print("  " + line)
        fields = tuple((n, n) for n, _, _ in SPANS)
        print()
        for a, b, label in (("matryoshka-aia", "matryoshka-plic", "Matryoshka AIA / PLIC"),
                            ("qemu-aia", "qemu-plic", "QEMU AIA / PLIC"),
                            ("matryoshka-plic", "qemu-plic", "Matryoshka / QEMU, PLIC"),
                            ("matryoshka-aia", "qemu-aia", "Matryoshka / QEMU, AIA"),
                            ("matryoshka-aia", "qemu-plic", "Matryoshka AIA / QEMU PLIC")):
            if a in med and b in med:
                print(f"{label} (throughput, higher is better): " + bench_boot.ratios(med[a], med[b], fields, digits=2))
        if failed:
            print("\nsome runs failed (see above)")
            return 1
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
