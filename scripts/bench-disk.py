#!/usr/bin/env python3
"""Disk benchmark: virtio-blk under Matryoshka against QEMU TCG on the same raw image.

The guest (Debian's kernel + a busybox initramfs holding virtio_mmio.ko, virtio_blk.ko and
guest/bench/disk.c) runs sequential 1 MiB writes and reads and 4 KiB random reads with O_DIRECT on
/dev/vda, timed by the guest clock, RUNS times per emulator on a fresh sparse image each time.
Prints medians and Matryoshka/QEMU ratios (higher is better for throughput and IOPS).

Needs: `matryoshka images fetch`, riscv64-linux-gnu-gcc, qemu-system-riscv64.
Usage: scripts/bench-disk.py [--runs 3] [--mib 64] [--random-seconds 3] [--matryoshka PATH]
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

INIT = """#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
insmod /lib/modules/virtio_mmio.ko
insmod /lib/modules/virtio_blk.ko
for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 0.2; done
/bin/bench-disk /dev/vda {mib} {seconds}
poweroff -f
"""

RESULT = re.compile(rb"bench-disk seq-write-MBps=([0-9.]+) seq-read-MBps=([0-9.]+) rand-read-iops=([0-9.]+)")


def cache_dir():
    if os.environ.get("MATRYOSHKA_CACHE"):
        return os.environ["MATRYOSHKA_CACHE"]
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "matryoshka")


def run(cmd, timeout):
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, b"timeout"
    m = RESULT.search(p.stdout)
    return (tuple(float(g) for g in m.groups()) if m else None), p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--random-seconds", type=float, default=3)
    ap.add_argument("--matryoshka", default=os.path.join(ROOT, ".build", "release", "matryoshka"))
    args = ap.parse_args()

    cache = cache_dir()
    kernel = os.path.join(cache, "Image")
    fw = os.path.join(cache, "fw_dynamic.bin")
    mods = os.path.join(cache, "initramfs-modules")
    for path in (kernel, fw, os.path.join(mods, "virtio_blk.ko")):
        if not os.path.exists(path):
            sys.exit(f"missing {path}: run `matryoshka images fetch` first")

    tmp = tempfile.mkdtemp(prefix="matryoshka-bench-disk-")
    binary = os.path.join(tmp, "bench-disk")
    subprocess.run(["riscv64-linux-gnu-gcc", "-O2", "-static", "-o", binary, os.path.join(ROOT, "guest", "bench", "disk.c")], check=True)
    init = os.path.join(tmp, "init")
    with open(init, "w") as f:
        f.write(INIT.format(mib=args.mib, seconds=args.random_seconds))
    initrd = os.path.join(tmp, "initrd.gz")
    subprocess.run([args.matryoshka, "images", "initramfs", "--init", init,
                    "--add", f"/bin/bench-disk:{binary}:755",
                    "--add", f"/lib/modules/virtio_mmio.ko:{os.path.join(mods, 'virtio_mmio.ko')}:644",
                    "--add", f"/lib/modules/virtio_blk.ko:{os.path.join(mods, 'virtio_blk.ko')}:644",
                    "--out", initrd], check=True)
    image = os.path.join(tmp, "disk.raw")
    append = "console=ttyS0 quiet panic=-1"
    timeout = 120 + 4 * args.mib

    configs = {
        "QEMU (virtio-blk-device)": lambda: ["qemu-system-riscv64", "-M", "virt", "-cpu", "rv64,h=true", "-m", "512M",
                                             "-nographic", "-no-reboot", "-bios", fw, "-kernel", kernel, "-initrd", initrd,
                                             "-append", append, "-drive", f"file={image},format=raw,if=none,id=d0,cache=none",
                                             "-device", "virtio-blk-device,drive=d0"],
        "Matryoshka": lambda: [args.matryoshka, "run", "--kernel", kernel, "--initrd", initrd, "--append", append,
                               "--disk", f"{image},format=raw"],
    }
    results = {}
    failed = False
    for name, make in configs.items():
        results[name] = []
        for i in range(args.runs):
            with open(image, "wb") as f:
                f.truncate((args.mib + 16) << 20)
            r, out = run(make(), timeout)
            if r is None:
                failed = True
                tail = out.decode(errors="replace").splitlines()[-8:]
                print(f"== {name}: run {i + 1} FAILED\n   " + "\n   ".join(tail))
                continue
            print(f"== {name}: run {i + 1}: seq write {r[0]:.1f} MB/s, seq read {r[1]:.1f} MB/s, 4K random read {r[2]:.0f} IOPS")
            results[name].append(r)

    print(f"\ndisk benchmark: {args.runs} run(s), {args.mib} MiB sequential, {args.random_seconds:g} s random, medians")
    print(f"{'configuration':28} {'seq write MB/s':>15} {'seq read MB/s':>14} {'4K rand IOPS':>13}")
    med = {}
    for name, rs in results.items():
        if not rs:
            print(f"{name:28} {'failed':>15}")
            continue
        med[name] = [statistics.median(x[k] for x in rs) for k in range(3)]
        print(f"{name:28} {med[name][0]:15.1f} {med[name][1]:14.1f} {med[name][2]:13.0f}")
    q, m = med.get("QEMU (virtio-blk-device)"), med.get("Matryoshka")
    if q and m:
        print(f"\nratios (Matryoshka / QEMU, higher is better): seq write {m[0] / q[0]:.2f}x, "
              f"seq read {m[1] / q[1]:.2f}x, 4K random read {m[2] / q[2]:.2f}x")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
