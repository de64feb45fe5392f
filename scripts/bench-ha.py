#!/usr/bin/env python3
"""High-availability benchmark: what a hot standby costs a Matryoshka guest, and how fast it takes over.

Every scenario boots the Debian kernel with a busybox initramfs built here (256 MiB of guest memory,
1 hart, built-in SBI). With HA the primary is `matryoshka run ... --standby unix:P --checkpoint-ms N
--api-socket A`, protected by a `matryoshka standby --listen unix:P` started first; it checkpoints the
guest every N ms (pause at a safe point, copy the dirty pages and the device state, send, wait for the
standby's acknowledgement) and holds the guest's output (console bytes, network frames) until the
checkpoint that produced it is acknowledged. QEMU 7.2 TCG (qemu-system-riscv64 -M virt -cpu rv64,
OpenSBI fw_dynamic.bin, as the other bench scripts run it) runs the same guests without HA.

1. Guest slowdown, checkpoints every 10, 25 and 100 ms against no HA (and QEMU):
   cpu    guest/bench/cpu.c (.build/guest/bench-cpu ROUNDS): integer work; its time is read from the
          guest's /proc/uptime around it (10 ms steps; Matryoshka's and QEMU's guest clocks follow the
          host's, so checkpoint pauses count; the host's time between the console markers, in the
          log, is only good to a checkpoint interval under HA, which releases the console per
          checkpoint). The checksum line must be the same in every run.
   dirty  guest/bench/dirty.c (.build/guest/dirty MIB RATE SECONDS): rewrites one word on each page of
          a MIB-MiB buffer for SECONDS seconds of guest time, as fast as it can by default (RATE
          1000000 MiB/s), and checks the buffer at the end (bad= must be 0). Figure: writes per
          second, relative to no HA (and to QEMU); also its largest gap between two clock readings,
          the longest stop the guest saw. QEMU's rate for this guest is not steady: its progress lines
          show it jumping about tenfold at some point of a run (observed 1.4 to 16 M writes/s for the
          same guest), so that ratio is indicative only.
   Runs are interleaved (each configuration once, then again); medians, with the range.
2. Checkpoints: GET /ha on the primary's API when the workload's start and end markers reach the
   console (the guest then idles for a second before powering off, so the VM is still there).
   mean pause, mean bytes per checkpoint, mean standby lag (pause to acknowledgement) and
   checkpoints per second are over the workload's window (from the two snapshots: the means are
   running means over the acknowledged checkpoints); p99 and max pause are GET /ha's own, over the
   whole protected run (boot included). A checkpoint waits for the previous one's acknowledgement,
   so when a checkpoint takes longer than the interval the achieved rate drops below 1/interval.
3. Output latency: the guest loads virtio-net, sets 10.0.2.15/24 statically and serves busybox
   `httpd -p 8080` and `nc -ll -p 8081 -e cat` through slirp hostfwd on 127.0.0.1. Median (and p90)
   of --requests requests: a GET on a new connection each time (connect to full answer; slirp
   connects to the guest when the host connects, so the handshake's SYN-ACK is held too), and a
   line echoed on one open connection. Without HA and with 25 ms checkpoints.
4. Failover: the same network guest with hostfwd on the primary; the standby gets the VM's
   configuration through the stream and its slirp binds the port only at takeover. Once the
   primary answers and has been protected for a second, it gets SIGKILL; the host then connects to
   127.0.0.1:PORT over and over (1 ms apart while refused, 2 s for an answer once connected) until a
   GET returns the guest's page. (A primary that never answers fails the run, but is still killed
   so that the console figure below is measured.)
   Figure: time from the kill to that answer, median of the runs; also the checkpoint the standby
   took over from and its own "ready in" time. This guest also prints a numbered console line every
   20 ms: the time from the kill to the standby's first console line is shown as a second figure
   (it does not depend on the network), and the primary's and the standby's lines together must be
   every number once, in order (output commit: nothing lost, nothing repeated). The standby must not
   show the guest booting again.

Prints the tables, then the goals with PASS/FAIL: 25 ms checkpoints cost the CPU-bound guest under
30%, and failover under 200 ms. A goal missed is only reported; a run that fails (a guest that
does not finish, a wrong checksum or answer, a standby that does not take over) makes the exit
status non-zero. Every child process runs in its own process group and is killed on exit, on
error and on Ctrl-C.

Needs: `matryoshka images fetch` done (Image, busybox, fw_dynamic.bin and the virtio-net modules in
the cache), scripts/setup-host's .build/guest/bench-cpu and .build/guest/dirty, qemu-system-riscv64
(unless --skip-qemu), libslirp0.
--quick: 25 ms checkpoints only, bench-cpu 12 rounds, dirty for 3 s, 20 requests, 1 failover run (about
2.5 minutes; the default takes about 3 to 5).
Usage: scripts/bench-ha.py [--runs N] [--quick] [--skip-qemu] [--matryoshka PATH] [--intervals 100,25,10]
                           [--rounds 32] [--dirty-mib 32] [--dirty-rate 1000000] [--dirty-seconds 8]
                           [--requests 50] [--only slowdown,latency,failover]
"""

import argparse
import atexit
import gzip
import importlib.util
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location("bench_snapshot", os.path.join(ROOT, "scripts", "bench-snapshot.py"))
bs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bs)
Child, BenchError, log, api, poll = bs.Child, bs.BenchError, bs.log, bs.api, bs.poll

APPEND = "console=ttyS0 quiet panic=-1"
MEMORY = "256M"
NET_MODULES = ("virtio_mmio", "failover", "net_failover", "virtio_net")
HTTP_PORT, ECHO_PORT = 8080, 8081
DIRTY_RE = re.compile(r"DIRTY-RESULT pages=(\d+) writes=(\d+) bad=(\d+) maxgap_us=(\d+)")
CPU_RE = re.compile(r"bench-cpu rounds=(\d+) checksum=([0-9a-f]+)")
END_RE = re.compile(r"HABENCH-END ([0-9.]+) ([0-9.]+)")

PROLOGUE = """#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo HABENCH-BOOTED
"""

# The workload, between markers with the guest's uptime; a second of idling on each side (boot-time
# work settles before; after, the host reads GET /ha while the VM still runs).
WORKLOAD = """sleep 1
read u0 r < /proc/uptime
echo "HABENCH-START $u0"
{command}
read u1 r < /proc/uptime
echo "HABENCH-END $u0 $u1"
sleep 1
poweroff -f
"""

NET = """for m in {modules}; do insmod /lib/modules/$m.ko || echo "HABENCH-INSMOD-FAILED $m"; done
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
mkdir -p /www
echo {payload} > /www/index.html
httpd -p {http} -h /www || echo HABENCH-HTTPD-FAILED
nc -ll -p {echo} -e cat &
echo HABENCH-NET-UP
{loop}
"""

IDLE = "while true; do sleep 3600; done"
# The failover guest also numbers console lines every 20 ms: the standby's console must carry on
# where the primary's stopped (each line once), and the first of them times the takeover a second way.
TICKS = """i=0
while true; do echo "HABENCH-TICK $i"; i=$((i+1)); usleep 20000; done"""
TICK_RE = re.compile(r"HABENCH-TICK (\d+)")


# MARK: images

def build_initramfs(workdir, name, busybox, init, files=(), modules=()):
    """A busybox initramfs with /init, /bin/<files> and /lib/modules/<modules>.ko (the cache's
    uncompressed modules, as matryoshka images fetch leaves them)."""
    d, f = 0o040755, 0o100755
    entries = [(p, d, b"") for p in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp",
                                     "lib", "lib/modules", "www")]
    with open(busybox, "rb") as fh:
        entries.append(("bin/busybox", f, fh.read()))
    for path in files:
        with open(path, "rb") as fh:
            entries.append(("bin/" + os.path.basename(path), f, fh.read()))
    for path in modules:
        with open(path, "rb") as fh:
            entries.append(("lib/modules/" + os.path.basename(path), 0o100644, fh.read()))
    entries += [("bin/sh", 0o120777, b"busybox"), ("init", f, init.encode())]
    out = os.path.join(workdir, f"habench-{name}.cpio.gz")
    with open(out, "wb") as fh:
        fh.write(gzip.compress(bs.newc_archive(entries), 6, mtime=0))
    return out


# MARK: processes

def wait_stderr(child, text, timeout):
    """Waits until child's stderr file holds text; returns that file's content."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(child.errpath, errors="replace") as fh:
                content = fh.read()
        except OSError:
            content = ""
        if text in content:
            return content
        if not child.alive():
            raise BenchError(f"{child.name} exited (status {child.p.returncode}) before printing {text!r}: "
                             f"{content.strip()[-500:]}")
        if time.monotonic() > deadline:
            raise BenchError(f"{child.name}: no {text!r} on stderr within {timeout:.0f} s")
        time.sleep(0.005)


def stderr_of(child):
    try:
        with open(child.errpath, errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def start_vm(args, workdir, tag, initrd, interval=None, net=None):
    """Starts a guest: Matryoshka (with a standby first when interval is set) or QEMU (interval
    "qemu"). Returns (vm, standby or None, primary API socket or None, standby API socket or None)."""
    if interval == "qemu":
        cmd = [args.qemu, "-M", "virt", "-cpu", "rv64", "-smp", "1", "-m", MEMORY, "-display", "none",
               "-monitor", "none", "-serial", "stdio", "-no-reboot"]
        if args.firmware:
            cmd += ["-bios", args.firmware]
        cmd += ["-kernel", args.kernel, "-initrd", initrd, "-append", APPEND]
        return Child(f"qemu-{tag}", cmd, workdir), None, None, None
    sock = os.path.join(workdir, f"{tag}.api")
    cmd = [args.matryoshka, "run", "--kernel", args.kernel, "--initrd", initrd, "--append", APPEND,
           "--memory", MEMORY, "--api-socket", sock]
    if net:
        cmd += ["--net", net]
    standby, ssock = None, None
    if interval is not None:
        url = "unix:" + os.path.join(workdir, f"{tag}.ha")
        ssock = os.path.join(workdir, f"{tag}.standby-api")
        standby = Child(f"standby-{tag}", [args.matryoshka, "standby", "--listen", url, "--api-socket", ssock], workdir)
        wait_stderr(standby, "standing by on", 30)
        cmd += ["--standby", url, "--checkpoint-ms", f"{interval:g}"]
    vm = Child(f"{'primary' if interval is not None else 'matryoshka'}-{tag}", cmd, workdir)
    return vm, standby, sock, ssock


def ha_status(sock):
    return api(sock, "GET", "/ha", timeout=10)[1]


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def failure_tails(children):
    out = []
    for c in children:
        if c is not None:
            out.append((c.name, c.tail()))
    return out


# MARK: 1 + 2: slowdown and checkpoint figures

def window(st0, st1, t0, t1):
    """Checkpoint figures over the window between two GET /ha snapshots (running means -> window means)."""
    n0, n1 = st0.get("last_acknowledged", 0), st1.get("last_acknowledged", 0)
    out = {"p99_pause_ms": st1.get("p99_pause_ms"), "max_pause_ms": st1.get("max_pause_ms"),
           "max_checkpoint_bytes": st1.get("max_checkpoint_bytes"), "state": st1.get("state"),
           "checkpoints": n1}
    dn = n1 - n0
    if dn > 0:
        for key in ("mean_pause_ms", "mean_checkpoint_bytes", "mean_lag_ms"):
            out["w_" + key] = (n1 * st1.get(key, 0) - n0 * st0.get(key, 0)) / dn
        out["rate"] = dn / (t1 - t0)
    return out


def workload_run(args, workdir, tag, initrd, interval, parse):
    """Boots the guest, waits for START and END, reads GET /ha at both (with HA), checks the result."""
    vm, standby, sock, _ = start_vm(args, workdir, tag, initrd, interval)
    try:
        i, t_start, _ = vm.wait_line(lambda s: "HABENCH-START" in s, args.timeout, what="HABENCH-START")
        st0 = ha_status(sock) if standby else None
        t0 = time.monotonic()
        j, t_end, text = vm.wait_line(lambda s: END_RE.search(s) is not None, args.timeout, i, "HABENCH-END")
        st1 = ha_status(sock) if standby else None
        t1 = time.monotonic()
        with vm.cv:
            body = [s for _, s in vm.lines[i:j + 1]]
        m = END_RE.search(text)
        res = {"guest_s": float(m.group(2)) - float(m.group(1)), "host_s": t_end - t_start}
        res.update(parse(body))
        if st1 is not None:
            if st1.get("state") != "protected":
                raise BenchError(f"GET /ha at the end of the workload: state {st1.get('state')!r}, not 'protected': {st1}")
            res.update(window(st0, st1, t0, t1))
        vm.p.wait(timeout=60)
        if standby:
            wait_stderr(standby, "stood down", 30)
        return res
    except subprocess.TimeoutExpired:
        raise BenchError(f"{vm.name} did not power off within 60 s of the workload's end")
    except BenchError as e:
        e.tails = failure_tails([vm, standby])
        raise
    finally:
        vm.kill()
        if standby:
            standby.kill()


def parse_cpu(body):
    for line in body:
        m = CPU_RE.search(line)
        if m:
            return {"checksum": m.group(2)}
    raise BenchError("no bench-cpu checksum line between the markers")


def parse_dirty(args):
    def parse(body):
        for line in body:
            m = DIRTY_RE.search(line)
            if m:
                pages, writes, bad, gap = (int(x) for x in m.groups())
                if bad:
                    raise BenchError(f"dirty: {bad} of {pages} pages do not hold their last value")
                return {"writes_per_s": writes / args.dirty_seconds, "maxgap_ms": gap / 1000}
        raise BenchError("no DIRTY-RESULT line between the markers")
    return parse


# MARK: 3: output latency

def http_get(port, payload, timeout=5.0):
    """GET / on a new connection; returns the seconds from connect to the full answer."""
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(b"GET /index.html HTTP/1.0\r\nHost: guest\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    dt = time.monotonic() - t0
    if not data.startswith(b"HTTP/1.") or payload.encode() not in data:
        raise OSError(f"unexpected answer {data[:200]!r}")
    return dt


class Echo:
    def __init__(self, port, timeout=5.0):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def rtt(self, n):
        line = f"habench-echo {n}\n".encode()
        t0 = time.monotonic()
        self.s.sendall(line)
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise OSError("echo connection closed")
            self.buf += chunk
        dt = time.monotonic() - t0
        got, self.buf = self.buf.split(b"\n", 1)
        if got + b"\n" != line:
            raise OSError(f"echo: sent {line!r}, got {got!r}")
        return dt

    def close(self):
        self.s.close()


def retry(fn, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except OSError as e:
            if time.monotonic() > deadline:
                raise BenchError(f"{what}: {e!r}")
            time.sleep(0.1)


def latency_run(args, workdir, tag, initrd, payload, interval):
    hp, ep = free_port(), free_port()
    net = f"user,hostfwd=tcp:127.0.0.1:{hp}-:{HTTP_PORT},hostfwd=tcp:127.0.0.1:{ep}-:{ECHO_PORT}"
    vm, standby, sock, _ = start_vm(args, workdir, tag, initrd, interval, net)
    try:
        vm.wait_line(lambda s: "HABENCH-NET-UP" in s, args.timeout, what="HABENCH-NET-UP")
        for what in ("INSMOD-FAILED", "HTTPD-FAILED"):
            if any(what in s for _, s in vm.lines):
                raise BenchError(f"guest: {what}")
        retry(lambda: http_get(hp, payload), 30, "GET through hostfwd")
        for _ in range(3):
            http_get(hp, payload)
        http = [http_get(hp, payload) for _ in range(args.requests)]
        echo = retry(lambda: Echo(ep), 30, "connect to the guest's echo server")
        try:
            for k in range(3):
                echo.rtt(-k)
            rtt = [echo.rtt(k) for k in range(args.requests)]
        finally:
            echo.close()
        res = {"http": http, "echo": rtt}
        if standby:
            st = ha_status(sock)
            if st.get("state") != "protected":
                raise BenchError(f"GET /ha after the requests: {st}")
            res["ha"] = st
        return res
    except OSError as e:
        e2 = BenchError(f"request through hostfwd: {e!r}")
        e2.tails = failure_tails([vm, standby])
        raise e2
    except BenchError as e:
        e.tails = failure_tails([vm, standby])
        raise
    finally:
        vm.kill()
        if standby:
            standby.kill()


# MARK: 4: failover

def failover_run(args, workdir, tag, initrd, payload):
    """Returns the run's figures; "error" is set when the run failed after giving some of them."""
    port = free_port()
    net = f"user,hostfwd=tcp:127.0.0.1:{port}-:{HTTP_PORT}"
    primary, standby, sock, ssock = start_vm(args, workdir, tag, initrd, args.failover_interval, net)
    res, errors = {}, []
    try:
        primary.wait_line(lambda s: "HABENCH-NET-UP" in s, args.timeout, what="HABENCH-NET-UP")
        primary.wait_line(lambda s: TICK_RE.search(s) is not None, 60, what="HABENCH-TICK")
        poll(lambda: ha_status(sock), lambda r: r.get("state") == "protected", 30, "GET /ha protected", interval=0.05)
        try:
            retry(lambda: http_get(port, payload), 30, "GET through the primary's hostfwd before the kill")
            net_ok = True
        except BenchError as e:
            errors.append(str(e))
            net_ok = False
        time.sleep(1)
        st = ha_status(sock)
        if st.get("state") != "protected":
            raise BenchError(f"primary before the kill: {st}")
        res["acked_before"] = st.get("last_acknowledged")
        t_kill = time.monotonic()
        os.kill(primary.p.pid, signal.SIGKILL)
        attempts, last_err = 0, None
        deadline = t_kill + (60 if net_ok else 10)
        while True:
            if time.monotonic() > deadline:
                errors.append(f"no answer on 127.0.0.1:{port} within {deadline - t_kill:.0f} s of the kill "
                              f"(last: {last_err!r}, {attempts} attempts)")
                break
            if not standby.alive():
                raise BenchError(f"the standby exited (status {standby.p.returncode}) after the kill")
            attempts += 1
            try:
                http_get(port, payload, timeout=2)
                res["failover_ms"] = (time.monotonic() - t_kill) * 1000
                break
            except OSError as e:
                last_err = e
                time.sleep(0.001)
        res["attempts"] = attempts
        err = stderr_of(standby)
        m = re.search(r"took over from checkpoint (\d+)", err)
        if not m:
            raise BenchError(f"no 'took over from checkpoint' from the standby: {err.strip()[-500:]}")
        res["checkpoint"] = int(m.group(1))
        ready = re.search(r"ready in ([0-9.]+) ms", err)
        res["ready_ms"] = float(ready.group(1)) if ready else None
        # The console: the standby's first line, and the numbered lines of both, each once, in order.
        _, t_first, _ = standby.wait_line(lambda s: TICK_RE.search(s) is not None, 10, what="HABENCH-TICK after the takeover")
        res["console_ms"] = (t_first - t_kill) * 1000
        time.sleep(0.2)
        with primary.cv:
            before = [int(m.group(1)) for _, s in primary.lines for m in [TICK_RE.search(s)] if m]
        with standby.cv:
            after = [int(m.group(1)) for _, s in standby.lines for m in [TICK_RE.search(s)] if m]
            if any("HABENCH-BOOTED" in s or "HABENCH-NET-UP" in s for _, s in standby.lines):
                errors.append("the standby's console shows the guest booting again")
        ticks = before + after
        if ticks != list(range(len(ticks))):
            errors.append(f"console lines across the failover are not each line once, in order: primary ended with "
                          f"{before[-3:]}, the standby began with {after[:3]}")
        res["ticks"] = (before[-1] if before else None, after[0] if after else None)
        if errors:
            res["error"] = "; ".join(errors)
        return res
    except BenchError as e:
        e.tails = failure_tails([primary, standby])
        raise
    finally:
        primary.kill()
        standby.kill()


# MARK: report

def loadavg():
    try:
        with open("/proc/loadavg") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return "?"


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def pct(values, q):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    return values[min(len(values) - 1, int(len(values) * q))]


def f_ms(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f} ms"


def f_bytes(v):
    if v is None:
        return "-"
    for unit, k in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if v >= k:
            return f"{v / k:.1f} {unit}"
    return f"{v:.0f} B"


def f_num(v, fmt):
    return "-" if v is None else format(v, fmt)


def config_name(c):
    if c is None:
        return "no HA"
    return "QEMU 7.2 TCG" if c == "qemu" else f"HA {c:g} ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=None,
                    help="runs per configuration (default: 3 for failover, 1 for the others)")
    ap.add_argument("--quick", action="store_true",
                    help="a fast check: 25 ms checkpoints only, a shorter workload, 20 requests, 1 failover run")
    ap.add_argument("--matryoshka", default=os.environ.get("MATRYOSHKA_BIN") or os.path.join(ROOT, ".build", "release", "matryoshka"))
    ap.add_argument("--qemu", default="qemu-system-riscv64")
    ap.add_argument("--skip-qemu", action="store_true")
    ap.add_argument("--only", default="slowdown,latency,failover", help="comma list of: slowdown, latency, failover")
    ap.add_argument("--intervals", default=None, help="checkpoint intervals in ms for the slowdown (default 100,25,10)")
    ap.add_argument("--rounds", type=int, default=None, help="bench-cpu rounds (default 32, --quick 12)")
    ap.add_argument("--dirty-mib", type=int, default=32, help="MiB the dirtying guest cycles over (default 32)")
    ap.add_argument("--dirty-rate", type=int, default=1000000,
                    help="MiB/s the dirtying guest aims at (default 1000000: as fast as it can)")
    ap.add_argument("--dirty-seconds", type=int, default=None, help="how long it runs (default 8, --quick 3)")
    ap.add_argument("--requests", type=int, default=None, help="requests per latency figure (default 50, --quick 20)")
    ap.add_argument("--failover-interval", type=float, default=25, help="checkpoint interval for the failover runs")
    ap.add_argument("--timeout", type=float, default=300, help="seconds for a guest to boot or finish its workload")
    ap.add_argument("--workdir", default="/var/tmp")
    args = ap.parse_args()

    q = args.quick
    runs = args.runs or 1
    failover_runs = args.runs or (1 if q else 3)
    intervals = [float(x) for x in (args.intervals or ("25" if q else "100,25,10")).split(",") if x.strip()]
    args.rounds = args.rounds or (12 if q else 32)
    args.dirty_seconds = args.dirty_seconds or (3 if q else 8)
    args.requests = args.requests or (20 if q else 50)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    if only - {"slowdown", "latency", "failover"} or runs < 1:
        sys.exit("error: --only takes slowdown, latency, failover; --runs at least 1")

    cache = bs.cache_dir()
    args.kernel, busybox, args.firmware = (os.path.join(cache, n) for n in ("Image", "busybox", "fw_dynamic.bin"))
    cpu, dirty = (os.path.join(ROOT, ".build", "guest", n) for n in ("bench-cpu", "dirty"))
    modules = [os.path.join(cache, "initramfs-modules", m + ".ko") for m in NET_MODULES]
    for p, fix in [(args.kernel, "matryoshka images fetch"), (busybox, "matryoshka images fetch"),
                   (cpu, "scripts/setup-host"), (dirty, "scripts/setup-host")] + [(m, "matryoshka images fetch") for m in modules]:
        if not os.path.exists(p):
            sys.exit(f"error: {p} missing: run {fix}")
    if not os.path.exists(args.firmware):
        args.firmware = None
    if not os.access(args.matryoshka, os.X_OK):
        sys.exit(f"error: {args.matryoshka} is not an executable (build it: swift build -c release)")
    if args.skip_qemu or "slowdown" not in only:
        args.skip_qemu = True
    elif not shutil.which(args.qemu):
        sys.exit(f"error: {args.qemu} not found (apt-get install qemu-system-misc), or pass --skip-qemu")

    os.makedirs(args.workdir, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="matryoshka-habench-", dir=args.workdir)
    atexit.register(shutil.rmtree, workdir, True)
    atexit.register(bs.kill_all_children)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    payload = f"habench-{os.getpid()}-{int(time.time())}"
    failed = False

    def attempt(label, fn):
        nonlocal failed
        log(f"== {label}")
        try:
            r = fn()
            return r
        except BenchError as e:
            failed = True
            log(f"   FAILED: {e}")
            for name, tail in getattr(e, "tails", []):
                log(f"   last output of {name}:")
                for line in tail:
                    log("   | " + line)
            bs.kill_all_children()
            return None

    t_begin, load0 = time.monotonic(), loadavg()
    configs = [None] + intervals + ([] if args.skip_qemu else ["qemu"])
    slow = {}  # (workload, config) -> [results]
    if "slowdown" in only:
        images = {
            "cpu": build_initramfs(workdir, "cpu", busybox, PROLOGUE + WORKLOAD.format(command=f"/bin/bench-cpu {args.rounds}"), [cpu]),
            "dirty": build_initramfs(workdir, "dirty", busybox, PROLOGUE + WORKLOAD.format(
                command=f"/bin/dirty {args.dirty_mib} {args.dirty_rate} {args.dirty_seconds}"), [dirty]),
        }
        parsers = {"cpu": parse_cpu, "dirty": parse_dirty(args)}
        for wl in ("cpu", "dirty"):
            for k in range(runs):
                for c in configs:
                    tag = f"{wl}-{'none' if c is None else c if c == 'qemu' else f'{c:g}ms'}-{k}"
                    r = attempt(f"{wl}, {config_name(c)}: run {k + 1}/{runs}",
                                lambda: workload_run(args, workdir, tag, images[wl], c, parsers[wl]))
                    slow.setdefault((wl, c), []).append(r)
                    if r is not None:
                        log("   " + ", ".join(f"{a}={b:.4g}" if isinstance(b, float) else f"{a}={b}" for a, b in r.items()))
        sums = {r["checksum"] for rs in (slow.get(("cpu", c), []) for c in configs) for r in rs if r}
        if len(sums) > 1:
            log(f"bench-cpu printed different checksums: {sorted(sums)}")
            failed = True

    if only & {"latency", "failover"}:
        net_images = {name: build_initramfs(workdir, "net-" + name, busybox, PROLOGUE + NET.format(
            modules=" ".join(NET_MODULES), payload=payload, http=HTTP_PORT, echo=ECHO_PORT, loop=loop), (), modules)
            for name, loop in (("idle", IDLE), ("ticks", TICKS))}
    lat = {}
    if "latency" in only:
        for k in range(runs):
            for c in (None, 25.0):
                tag = f"lat-{'none' if c is None else f'{c:g}ms'}-{k}"
                r = attempt(f"latency, {config_name(c)}: run {k + 1}/{runs}",
                            lambda: latency_run(args, workdir, tag, net_images["idle"], payload, c))
                lat.setdefault(c, []).append(r)
                if r is not None:
                    log(f"   GET median {med(r['http']) * 1000:.2f} ms, echo median {med(r['echo']) * 1000:.2f} ms")
    fo = []
    if "failover" in only:
        for k in range(failover_runs):
            r = attempt(f"failover ({args.failover_interval:g} ms checkpoints): run {k + 1}/{failover_runs}",
                        lambda: failover_run(args, workdir, f"failover-{k}", net_images["ticks"], payload))
            fo.append(r)
            if r is not None:
                log("   " + ", ".join(f"{a}={b:.4g}" if isinstance(b, float) else f"{a}={b}" for a, b in r.items()
                                      if a != "error"))
                if r.get("error"):
                    failed = True
                    log(f"   FAILED: {r['error']}")
    bs.kill_all_children()

    # --- tables
    kernel_name = os.path.basename(os.path.realpath(args.kernel))
    print()
    print(f"HA benchmark: {MEMORY} guest, 1 hart, {kernel_name}, {APPEND!r}; {args.matryoshka}; standby on a Unix "
          f"socket on the same host ({os.cpu_count()} CPUs, load average {load0} at the start, {loadavg()} at the end); "
          f"{time.monotonic() - t_begin:.0f} s")
    goals = []
    if "slowdown" in only:
        def agg(wl, c, key):
            return med([r.get(key) for r in slow.get((wl, c), []) if r])

        def spread(wl, c, key):
            vals = [r[key] for r in slow.get((wl, c), []) if r and r.get(key) is not None]
            return (min(vals), max(vals)) if vals else (None, None)

        def checkpoint_columns(wl, c, ha):
            """The checkpoint figures of a row (dashes without HA)."""
            if not ha:
                return f"{'-':>8}{'-':>12}{'-':>10}{'-':>10}{'-':>12}{'-':>10}"
            return (f"{f_num(agg(wl, c, 'rate'), '.1f'):>8}{f_ms(agg(wl, c, 'w_mean_pause_ms'), 2):>12}"
                    f"{f_ms(agg(wl, c, 'p99_pause_ms')):>10}{f_ms(agg(wl, c, 'max_pause_ms')):>10}"
                    f"{f_bytes(agg(wl, c, 'w_mean_checkpoint_bytes')):>12}{f_ms(agg(wl, c, 'w_mean_lag_ms')):>10}")

        def ok_count(wl, c):
            rs = slow.get((wl, c), [])
            return f"{sum(1 for r in rs if r)}/{len(rs)}"

        print()
        print(f"1+2. CPU-bound guest: bench-cpu {args.rounds} rounds; medians of {runs} run(s); "
              f"time by the guest's clock (range over the runs in brackets)")
        head = (f"{'configuration':14}{'ok':>5}{'time':>21}{'vs no HA':>10}{'/ QEMU':>8}{'ckpt/s':>8}{'pause mean':>12}"
                f"{'p99':>10}{'max':>10}{'bytes/ckpt':>12}{'lag mean':>10}")
        print(head)
        print("-" * len(head))
        base, qt = agg("cpu", None, "guest_s"), agg("cpu", "qemu", "guest_s")
        for c in configs:
            t = agg("cpu", c, "guest_s")
            vs = f"{(t / base - 1) * 100:+.1f}%" if c not in (None, "qemu") and t and base else "-"
            rq = f"{t / qt:.2f}x" if t and qt and c != "qemu" else "-"
            ha = c not in (None, "qemu")
            lo, hi = spread("cpu", c, "guest_s")
            tt = "-" if t is None else f"{t:.2f} s" + (f" ({lo:.2f}-{hi:.2f})" if hi > lo else "")
            print(f"{config_name(c):14}{ok_count('cpu', c):>5}{tt:>21}{vs:>10}{rq:>8}"
                  + checkpoint_columns('cpu', c, ha))
        t25 = agg("cpu", 25.0, "guest_s")
        if 25.0 in intervals:
            if t25 and base:
                s = (t25 / base - 1) * 100
                goals.append(f"checkpoints every 25 ms cost the CPU-bound guest under 30%: {s:+.1f}% "
                             f"({t25:.2f} s vs {base:.2f} s without HA): {'PASS' if s < 30 else 'FAIL'}")
            else:
                goals.append("checkpoints every 25 ms cost the CPU-bound guest under 30%: not measured (a run failed): FAIL")

        print()
        print(f"1+2. Memory-dirtying guest: dirty {args.dirty_mib} MiB at up to {args.dirty_rate} MiB/s for "
              f"{args.dirty_seconds} s; medians of {runs} run(s)")
        head = (f"{'configuration':14}{'ok':>5}{'Mwrites/s':>19}{'vs no HA':>10}{'/ QEMU':>8}{'guest gap':>11}{'ckpt/s':>8}"
                f"{'pause mean':>12}{'p99':>10}{'max':>10}{'bytes/ckpt':>12}{'lag mean':>10}")
        print(head)
        print("-" * len(head))
        base, qw = agg("dirty", None, "writes_per_s"), agg("dirty", "qemu", "writes_per_s")
        for c in configs:
            w = agg("dirty", c, "writes_per_s")
            ha = c not in (None, "qemu")
            vs = f"{w / base:.2f}x" if ha and w and base else "-"
            rq = f"{w / qw:.2f}x" if w and qw and c != "qemu" else "-"
            lo, hi = spread("dirty", c, "writes_per_s")
            ww = "-" if w is None else f"{w / 1e6:.2f}" + (f" ({lo / 1e6:.2f}-{hi / 1e6:.2f})" if hi > lo else "")
            print(f"{config_name(c):14}{ok_count('dirty', c):>5}{ww:>19}{vs:>10}{rq:>8}"
                  f"{f_ms(agg('dirty', c, 'maxgap_ms')):>11}"
                  + checkpoint_columns('dirty', c, ha))
        print("ckpt/s, pause mean, bytes/ckpt, lag mean (pause to acknowledgement): over the workload; "
              "p99/max pause: GET /ha's, whole run")

    if "latency" in only:
        print()
        print(f"3. Output latency through slirp hostfwd: {args.requests} requests per run, {runs} run(s) pooled")
        head = f"{'configuration':14}{'ok':>5}{'GET, new conn.: median':>24}{'p90':>10}{'echo, open conn.: median':>26}{'p90':>10}"
        print(head)
        print("-" * len(head))
        figs = {}
        for c in (None, 25.0):
            rs = [r for r in lat.get(c, []) if r]
            http = [x * 1000 for r in rs for x in r["http"]]
            echo = [x * 1000 for r in rs for x in r["echo"]]
            figs[c] = (med(http), med(echo))
            print(f"{config_name(c):14}{f'{len(rs)}/{len(lat.get(c, []))}':>5}{f_ms(med(http), 2):>24}"
                  f"{f_ms(pct(http, 0.9), 2):>10}{f_ms(med(echo), 2):>26}{f_ms(pct(echo, 0.9), 2):>10}")
        a, b = figs[None], figs[25.0]
        if all(v is not None for v in a + b):
            print(f"{'added by HA':14}{'':>5}{f'+{b[0] - a[0]:.2f} ms':>24}{'':>10}{f'+{b[1] - a[1]:.2f} ms':>26}")

    if "failover" in only:
        print()
        print(f"4. Failover: SIGKILL to the primary ({args.failover_interval:g} ms checkpoints; the guest serves httpd and "
              f"prints a numbered line every 20 ms)")
        print("   kill -> answer: until a GET through the standby's hostfwd returns the page; kill -> console: until the "
              "standby's first console line")
        head = (f"{'run':6}{'kill -> answer':>16}{'kill -> console':>17}{'took over from':>16}{'acked before kill':>19}"
                f"{'standby ready in':>18}{'attempts':>10}  console lines")
        print(head)
        print("-" * len(head))
        for k, r in enumerate(fo):
            if r is None:
                print(f"{k + 1:<6}{'FAILED':>16}")
                continue
            last, first = r.get("ticks", (None, None))
            print(f"{k + 1:<6}{f_ms(r.get('failover_ms')):>16}{f_ms(r.get('console_ms')):>17}{r['checkpoint']:>16}"
                  f"{f_num(r.get('acked_before'), 'd'):>19}{f_ms(r.get('ready_ms')):>18}{r.get('attempts', 0):>10}"
                  f"  primary ..{last}, standby {first}..{'' if not r.get('error') else '  FAILED'}")
        m = med([r.get("failover_ms") for r in fo if r])
        mc = med([r.get("console_ms") for r in fo if r])
        print(f"{'median':6}{f_ms(m):>16}{f_ms(mc):>17}")
        for k, r in enumerate(fo):
            if r and r.get("error"):
                print(f"run {k + 1}: {r['error']}")
        n = sum(1 for r in fo if r and r.get("failover_ms") is not None)
        if m is not None:
            goals.append(f"failover under 200 ms (kill -> TCP answer): {m:.1f} ms (median of {n}): "
                         f"{'PASS' if m < 200 else 'FAIL'}")
        else:
            goals.append("failover under 200 ms (kill -> TCP answer): not measured (no run got an answer): FAIL"
                         + (f" (kill -> console: {mc:.1f} ms)" if mc is not None else ""))

    if goals:
        print()
        print("Goals:")
        for g in goals:
            print("  " + g)
    if failed:
        print("\nsome runs failed (see above)")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted: the child processes are killed")
        sys.exit(130)
