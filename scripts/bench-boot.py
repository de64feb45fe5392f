#!/usr/bin/env python3
"""Boot benchmark: Matryoshka against QEMU on the same Debian kernel and initramfs.

For each configuration the same busybox initramfs is booted RUNS times. Its /init prints a
marker as soon as it starts, runs guest/bench/cpu.c (a static riscv64 program doing integer
work), prints how long that took by the guest clock, and powers off. Measured per run:

  boot-to-init  host wall time from process start to the init marker on the console
  cpu (host)    host wall time between the markers around the CPU program
  cpu (guest)   the guest's own clock (/proc/uptime, 10 ms steps) around the CPU program
                (Debian's busybox `date` has no %N)
  total         host wall time until the emulator exited

Configurations: qemu-system-riscv64 (-cpu rv64,h=true, OpenSBI fw_dynamic.bin), Matryoshka with
its built-in SBI (the default CPU, rva23; "rv64gc" is the same with --cpu rv64gc), and Matryoshka with --firmware fw_dynamic.bin. Prints medians and the
Matryoshka/QEMU ratios. Exits non-zero when any run fails (a Matryoshka failure is reported,
and the remaining configurations still run).

Needs: `matryoshka images fetch` done, riscv64-linux-gnu-gcc, qemu-system-riscv64.
Configurations also available: "max" (Matryoshka --cpu max: Zba/Zbb/Zbc/Zbs, Zicond, Zcb, Zicbom/Zicboz,
Svpbmt... advertised, so the kernel patches itself to use them) and "qemu-max" (QEMU 7.2 with the subset it
has: B, Svpbmt, Svinval, Svnapot); the CPU program itself is RV64GC code in every configuration.
Usage: scripts/bench-boot.py [--runs 3] [--cpus 1] [--rounds 64] [--matryoshka PATH]
                             [--only qemu,builtin,opensbi,noh,max,rv64gc,qemu-max]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

INIT_TEMPLATE = """#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "BENCH-INIT-REACHED cpus=$(grep -c '^processor' /proc/cpuinfo)"
read u0 rest < /proc/uptime
echo "BENCH-CPU-START"
/bin/bench-cpu {rounds}
echo "BENCH-CPU-END"
read u1 rest < /proc/uptime
echo "BENCH-CPU-GUEST-UPTIME $u0 $u1"
poweroff -f
"""

MARK_INIT = "BENCH-INIT-REACHED"
MARK_START = "BENCH-CPU-START"
MARK_END = "BENCH-CPU-END"
MARK_GUEST = "BENCH-CPU-GUEST-UPTIME "
MARK_CHECK = "bench-cpu rounds="


def cache_dir():
    if os.environ.get("MATRYOSHKA_CACHE"):
        return os.environ["MATRYOSHKA_CACHE"]
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "matryoshka")


def guest_images(nested=False):
    """The cached kernel and OpenSBI firmware; exits with the fix when one is missing."""
    cache = cache_dir()
    kernel, firmware = os.path.join(cache, "Image"), os.path.join(cache, "fw_dynamic.bin")
    fetch = "matryoshka images fetch" + (" --nested" if nested else "")
    for p in (kernel, firmware):
        if not os.path.exists(p):
            sys.exit(f"error: {p} missing: run `swift run -c release {fetch}` (or set MATRYOSHKA_CACHE)")
    return kernel, firmware


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def build_program(workdir):
    cc = shutil.which("riscv64-linux-gnu-gcc")
    if not cc:
        sys.exit("error: riscv64-linux-gnu-gcc not found: apt-get install gcc-riscv64-linux-gnu")
    out = os.path.join(workdir, "bench-cpu")
    src = os.path.join(ROOT, "guest", "bench", "cpu.c")
    subprocess.run([cc, "-O2", "-static", "-o", out, src], check=True)
    return out


def newc_archive(entries):
    """Minimal cpio newc writer (fallback when the matryoshka binary cannot build the initramfs).
    entries: (name, mode, data) with mode including the file type bits."""
    out = bytearray()

    def pad():
        while len(out) % 4:
            out.append(0)

    for ino, (name, mode, data) in enumerate(entries + [("TRAILER!!!", 0, b"")], start=1):
        name_bytes = name.lstrip("/").encode() + b"\0"
        # (the kernel's built-in initramfs already provides /dev/console)
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_bytes), 0]
        out += b"070701" + b"".join(b"%08X" % f for f in fields) + name_bytes
        pad()
        out += data
        pad()
    return bytes(out)


def build_initramfs(matryoshka, workdir, program, rounds):
    init = os.path.join(workdir, "init")
    with open(init, "w") as f:
        f.write(INIT_TEMPLATE.format(rounds=rounds))
    out = os.path.join(workdir, "bench-initramfs.cpio.gz")
    cmd = [matryoshka, "images", "initramfs", "--init", init, "--add", f"/bin/bench-cpu:{program}:755", "--out", out]
    if os.access(matryoshka, os.X_OK):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode == 0:
            return out
        log(f"note: `{' '.join(cmd)}` failed ({r.returncode}): {r.stderr.strip()}; using the built-in cpio writer")
    else:
        log(f"note: {matryoshka} not found; building the initramfs with the built-in cpio writer")
    busybox = os.path.join(cache_dir(), "busybox")
    if not os.path.exists(busybox):
        sys.exit(f"error: {busybox} missing: run `swift run -c release matryoshka images fetch`")
    d, f = 0o040755, 0o100755
    entries = [(p, d, b"") for p in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp", "root")]
    entries += [("bin/busybox", f, open(busybox, "rb").read()), ("bin/sh", 0o120777, b"busybox"),
                ("bin/bench-cpu", f, open(program, "rb").read()), ("init", f, open(init, "rb").read())]
    raw = out[:-3]
    with open(raw, "wb") as fh:
        fh.write(newc_archive(entries))
    subprocess.run(["gzip", "-n", "-f", raw], check=True)
    return out


class Run:
    def __init__(self):
        self.t_init = self.t_start = self.t_end = self.guest_s = None
        self.total = None
        self.status = None
        self.checksum = None
        self.timed_out = False
        self.tail = []

    @property
    def ok(self):
        return (self.status == 0 and not self.timed_out and self.t_init is not None
                and self.t_end is not None and self.checksum is not None)


def run_streaming(cmd, timeout, run, on_line):
    """Runs cmd (stdout and stderr together), calling on_line(text, seconds since start) for each line
    as it arrives. Keeps the last 25 lines in run.tail; sets run.total, run.status and run.timed_out."""
    start = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as e:
        run.tail, run.status = [f"cannot start {cmd[0]}: {e}"], -1
        return run

    def reader():
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            on_line(line, time.monotonic() - start)
            run.tail.append(line)
            del run.tail[:-25]

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        run.timed_out = True
        proc.kill()
        proc.wait()
    run.total = time.monotonic() - start
    t.join(timeout=5)
    run.status = proc.returncode
    return run


def boot_once(cmd, timeout):
    run = Run()

    def on_line(line, now):
        if MARK_INIT in line and run.t_init is None:
            run.t_init = now
        elif MARK_START in line and run.t_start is None:
            run.t_start = now
        elif MARK_END in line and run.t_end is None:
            run.t_end = now
        elif MARK_GUEST in line:
            try:
                u0, u1 = line.split(MARK_GUEST, 1)[1].split()[:2]
                run.guest_s = float(u1) - float(u0)
            except (ValueError, IndexError):
                pass
        elif MARK_CHECK in line:
            run.checksum = line.strip()

    return run_streaming(cmd, timeout, run, on_line)


def run_configurations(wanted, configs, names, runs, run_once, describe_ok, describe_failure,
                       retry_after_failure=()):
    """Runs each wanted configuration `runs` times, logging one line per run (the last output lines
    on failure). A failed configuration stops early unless it is in retry_after_failure.
    Returns ({key: [run, ...]}, whether any run failed)."""
    results, failed = {}, False
    for key in wanted:
        results[key] = []
        for i in range(runs):
            log(f"== {names[key]}: run {i + 1}/{runs}")
            r = run_once(configs[key])
            results[key].append(r)
            if r.ok:
                log("   " + describe_ok(r))
                continue
            failed = True
            log(f"   FAILED ({describe_failure(r)}) after {fmt(r.total)}; last output:")
            for line in r.tail[-15:]:
                log("   | " + line)
            if key not in retry_after_failure:
                break  # one failure is enough to report; don't spend the other runs
    return results, failed


def ratios(mine, reference, fields, digits):
    """'label 0.8x, ...' for each (field, label): mine[field] / reference[field], '-' when unknown."""
    parts = []
    for field, label in fields:
        a, b = mine[field], reference[field]
        parts.append(f"{label} {a / b:.{digits}f}x" if a is not None and b else f"{label} -")
    return ", ".join(parts)


def fmt(v, unit="s"):
    return "-" if v is None else f"{v:.2f}{unit}"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--matryoshka", default=os.environ.get("MATRYOSHKA_BIN") or os.path.join(ROOT, ".build", "release", "matryoshka"))
    ap.add_argument("--qemu", default="qemu-system-riscv64")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=64, help="rounds of the CPU program (64: about 2.5 s under QEMU TCG)")
    ap.add_argument("--append", default="console=ttyS0 panic=-1")
    ap.add_argument("--timeout", type=float, default=900, help="seconds before a run is killed")
    ap.add_argument("--only", default="qemu,builtin,opensbi", help="comma list of: qemu, builtin, opensbi, noh, max, rv64gc, qemu-max")
    args = ap.parse_args()

    kernel, firmware = guest_images()

    workdir = tempfile.mkdtemp(prefix="matryoshka-bench-")
    try:
        program = build_program(workdir)
        initrd = build_initramfs(args.matryoshka, workdir, program, args.rounds)
        common = ["--kernel", kernel, "--initrd", initrd, "--append", args.append, "--cpus", str(args.cpus)]
        configs = {
            "qemu": [args.qemu, "-M", "virt", "-cpu", "rv64,h=true", "-m", "512M", "-smp", str(args.cpus),
                     "-nographic", "-no-reboot", "-bios", firmware, "-kernel", kernel, "-initrd", initrd,
                     "-append", args.append],
            "builtin": [args.matryoshka, "run"] + common,
            "opensbi": [args.matryoshka, "run"] + common + ["--firmware", firmware],
            "noh": [args.matryoshka, "run", "--no-hypervisor"] + common,
            "max": [args.matryoshka, "run", "--cpu", "max"] + common,
            "rv64gc": [args.matryoshka, "run", "--cpu", "rv64gc"] + common,
            "qemu-max": [args.qemu, "-M", "virt", "-cpu", "rv64,h=true,zba=true,zbb=true,zbc=true,zbs=true,svpbmt=true,svinval=true,svnapot=true",
                         "-m", "512M", "-smp", str(args.cpus), "-nographic", "-no-reboot", "-bios", firmware, "-kernel", kernel,
                         "-initrd", initrd, "-append", args.append],
        }
        names = {"qemu": "QEMU (OpenSBI)", "builtin": "Matryoshka (built-in SBI)", "opensbi": "Matryoshka (OpenSBI)",
                 "noh": "Matryoshka --no-hypervisor", "max": "Matryoshka --cpu max", "rv64gc": "Matryoshka --cpu rv64gc", "qemu-max": "QEMU -cpu rv64,B,Sv*"}
        wanted = [c.strip() for c in args.only.split(",") if c.strip()]
        unknown = [c for c in wanted if c not in configs]
        if unknown:
            sys.exit(f"error: unknown configuration(s) {unknown}; use qemu, builtin, opensbi, noh, max, rv64gc, qemu-max")

        def describe_failure(r):
            why = "timed out" if r.timed_out else f"exit status {r.status}"
            return why + (", no checksum line" if r.status == 0 and r.checksum is None else "")

        results, failed = run_configurations(
            wanted, configs, names, args.runs, lambda cmd: boot_once(cmd, args.timeout),
            lambda r: f"boot-to-init {fmt(r.t_init)}  cpu {fmt(r.t_end - r.t_start)}  total {fmt(r.total)}  {r.checksum}",
            describe_failure, retry_after_failure={"qemu"})

        print()
        print(f"boot benchmark: {args.runs} run(s) each, {args.cpus} hart(s), bench-cpu {args.rounds} rounds, medians")
        header = f"{'configuration':28} {'ok':>5} {'boot-to-init':>13} {'cpu (host)':>11} {'cpu (guest)':>12} {'total':>9}"
        print(header)
        print("-" * len(header))
        med = {}
        for key, runs in results.items():
            good = [r for r in runs if r.ok]
            m = {
                "init": median([r.t_init for r in good]),
                "cpu": median([r.t_end - r.t_start for r in good]),
                "guest": median([r.guest_s for r in good]),
                "total": median([r.total for r in good]),
            }
            med[key] = m
            print(f"{names[key]:28} {len(good):>2}/{len(runs):<2} {fmt(m['init']):>13} {fmt(m['cpu']):>11} "
                  f"{fmt(m['guest']):>12} {fmt(m['total']):>9}")
        checks = {r.checksum.split("checksum=")[-1] for runs in results.values() for r in runs if r.checksum}
        if len(checks) > 1:
            print(f"WARNING: the CPU program printed different checksums: {sorted(checks)}")
            failed = True
        if "qemu" in med and med["qemu"]["init"] is not None:
            print()
            print("ratios (Matryoshka / QEMU, lower is better):")
            for key in ("builtin", "opensbi", "noh", "max"):
                if key not in med:
                    continue
                fields = (("init", "boot-to-init"), ("cpu", "cpu (host)"), ("total", "total"))
                print(f"  {names[key]:28} " + ratios(med[key], med["qemu"], fields, digits=1))
        if "max" in med and "builtin" in med and med["builtin"]["init"] is not None:
            print()
            print("--cpu max against the default rv64gc (lower is better; the CPU program uses no new extension):")
            print(f"  {names['max']:28} " + ratios(med["max"], med["builtin"], (("init", "boot-to-init"), ("cpu", "cpu (host)"), ("total", "total")), digits=2))
        if "qemu-max" in med and "max" in med and med["qemu-max"]["init"] is not None:
            print(f"  {names['max']:28} against {names['qemu-max']}: " + ratios(med["max"], med["qemu-max"], (("init", "boot-to-init"), ("cpu", "cpu (host)"), ("total", "total")), digits=2))
        if failed:
            print("\nsome runs failed (see above)")
            return 1
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
