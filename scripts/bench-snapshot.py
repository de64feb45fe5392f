#!/usr/bin/env python3
"""Snapshot benchmark: Matryoshka's snapshot create/restore against QEMU's save/load (migration to a
file) on the same Debian kernel, the same initramfs and the same guest memory size, in one run.

For each guest size (default 256 MiB, 1 GiB and 4 GiB) the guest boots a busybox initramfs whose
/init fills a tmpfs with TOUCH MiB of non-zero data (100 MiB for guests under 512 MiB, else
200 MiB: one 1 MiB chunk from /dev/urandom, copied), prints SNAPBENCH-READY, then prints
`TICK <n> <uptime> <ns>` every 100 ms of guest time (<uptime> from /proc/uptime, <ns> the guest's
monotonic clock from /proc/timer_list). By default (--guest-loop busy) the loop polls /proc/uptime
with shell builtins; --guest-loop sleep runs `usleep 100000` instead (an idle guest woken by its
timer), but QEMU does not re-arm RISC-V timers (stimecmp, ACLINT mtimecmp) when it loads a
migration stream, so QEMU's restored guest then usually never wakes up (noted, not a failure).
Each run, per emulator, the guest is paused right after a TICK line and:

Matryoshka (`run --api-socket`, its control API over the Unix socket):
  pause         wall time of PATCH /vm {"state":"Paused"}
  create        wall time of PUT /snapshot/create (Full, 204), which returns after fsync; also its own
                "seconds" and "pages_written" (GET /vm's "last_snapshot")
  files         state file size; memory file apparent size and allocated size (st_blocks*512)
  (the source VM is then resumed once, as a check that it carries on, and killed)
  API restore   a process started as `run --api-socket SOCK2` (nothing else) and ready; wall time
                of PUT /snapshot/load {"resume_vm": true}, and from sending it to the next TICK line
  new process   from spawning `run --restore STATE` to its first TICK line
QEMU 7.2 (qemu-system-riscv64 -M virt -cpu rv64, OpenSBI fw_dynamic.bin, QMP on a Unix socket):
  pause         QMP `stop`
  create        QMP `migrate` to "exec:cat > FILE" (max-bandwidth raised first, as libvirt does for
                a save to file) until query-migrate says completed; "durable" adds waiting for
                `cat` to exit and an fsync of the file; stream file size
  API restore   a process started with `-incoming defer`: QMP `migrate-incoming` "exec:cat FILE",
                query-status until paused, `cont`; then to the next TICK line
  new process   from spawning with `-incoming "exec:cat FILE"` (QMP `cont` once loaded) to the
                first TICK line; also from `cont` to that line

"-> first TICK" includes the rest of the 100 ms tick the guest was in when it was paused. "net"
removes it using the guest's clock, which stands still while the VM is paused or saved:
net = (host time to the TICK) - (guest ns between the TICK before the snapshot and the first TICK
after it) + (host time between the TICK before the snapshot and the pause); an estimate good to a
few ms. The guest uptime gap across the snapshot (first TICK after minus last TICK before) should be
one tick: 0.10 s (with --guest-loop sleep, 100 ms plus the loop's own time). Every restore is
checked to continue the tick count where the snapshot left it. Restores read files the host just
wrote (warm page cache).

Prints one table per size with medians and Matryoshka/QEMU ratios (lower is better), then the
goals: restore under 10 ms, and create under 0.5 s for a 1 GiB guest with ~200 MiB touched.
Exits non-zero when any run fails (the remaining runs and sizes still run). Files go to a
temporary directory under --workdir (default /var/tmp), removed at the end; every child process is
killed on exit or error.

Needs: `matryoshka images fetch` done (Image, busybox, fw_dynamic.bin in the cache), qemu-system-riscv64.
Usage: scripts/bench-snapshot.py [--sizes 256M,1G,4G] [--runs 3] [--matryoshka PATH] [--skip-qemu]
                                 [--guest-loop busy|sleep] [--touch MIB] [--workdir DIR]
"""

import argparse
import atexit
import gzip
import http.client
import json
import importlib.util
import os
import re
import shlex
import shutil
import signal
import socket
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
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/shm
mount -t tmpfs -o size={tmpfs_mib}m tmpfs /dev/shm
dd if=/dev/urandom of=/dev/shm/chunk bs=1M count=1 2>/dev/null
i=1
while [ $i -lt {mib} ]; do cat /dev/shm/chunk; i=$((i+1)); done > /dev/shm/fill
set -- $(du -k /dev/shm/fill)
echo "SNAPBENCH-FILLED kib=$(( $1 + 1024 )) $(grep -E '^(MemFree|Shmem):' /proc/meminfo | tr -s ' \\n' ' ')"
echo SNAPBENCH-READY
i=0
{loop}
"""

# Ticks from a sleeping guest: idle between ticks, woken by its timer.
LOOP_SLEEP = """while true; do
  read u r < /proc/uptime
  n=
  { read a; read b; read c d n e; } < /proc/timer_list 2>/dev/null
  echo "TICK $i $u $n"
  i=$((i+1))
  usleep 100000
done"""

# Ticks from a busy guest: shell builtins only (no fork, no timer), polling /proc/uptime.
LOOP_BUSY = """next=0
while true; do
  read u r < /proc/uptime
  c=$(( ${u%.*} * 100 + 1${u#*.} - 100 ))
  if [ $c -ge $next ]; then
    n=
    { read a; read b; read x y n z; } < /proc/timer_list 2>/dev/null
    echo "TICK $i $u $n"
    i=$((i+1))
    next=$((c + 10))
  fi
done"""

MARK_FILLED = "SNAPBENCH-FILLED"
MARK_READY = "SNAPBENCH-READY"
TICK_RE = re.compile(r"TICK (\d+) (\d+\.\d+)(?: (\d+))?\s*$")
APPEND = "console=ttyS0 quiet panic=-1"
CHILDREN = []


class BenchError(Exception):
    pass


# Shared helpers from bench-boot.py (not importable by name: it has a dash), as bench-nested.py does.
_spec = importlib.util.spec_from_file_location("bench_boot", os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-boot.py"))
bench_boot = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_boot)
cache_dir, log, newc_archive = bench_boot.cache_dir, bench_boot.log, bench_boot.newc_archive


# MARK: initramfs

def build_initramfs(workdir, busybox, mib, loop):
    body = LOOP_BUSY if loop == "busy" else LOOP_SLEEP
    init = INIT_TEMPLATE.format(mib=mib, tmpfs_mib=mib + 16, loop=body).encode()
    d, f = 0o040755, 0o100755
    entries = [(p, d, b"") for p in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp", "root")]
    with open(busybox, "rb") as fh:
        entries += [("bin/busybox", f, fh.read())]
    entries += [("bin/sh", 0o120777, b"busybox"), ("init", f, init)]
    out = os.path.join(workdir, f"snapbench-{mib}m-{loop}.cpio.gz")
    with open(out, "wb") as fh:
        fh.write(gzip.compress(newc_archive(entries), 6, mtime=0))
    return out


# MARK: processes

class Child:
    """A child process in its own process group; a thread timestamps each stdout line as it arrives
    (stderr goes to a file, shown on failure)."""

    def __init__(self, name, cmd, workdir):
        self.name, self.cmd = name, cmd
        self.errpath = os.path.join(workdir, f"{name}.stderr")
        self.lines = []  # (host monotonic seconds, text)
        self.cv = threading.Condition()
        self.eof = False
        err = open(self.errpath, "wb")
        self.t_spawn = time.monotonic()
        try:
            self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                                      start_new_session=True)
        except OSError as e:
            raise BenchError(f"cannot start {cmd[0]}: {e}")
        finally:
            err.close()
        CHILDREN.append(self)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in iter(self.p.stdout.readline, b""):
            now = time.monotonic()
            line = raw.decode(errors="replace").rstrip("\r\n").replace("\r", "")
            with self.cv:
                self.lines.append((now, line))
                self.cv.notify_all()
        with self.cv:
            self.eof = True
            self.cv.notify_all()

    def wait_line(self, pred, timeout, start=0, what="a line"):
        """First line at index >= start for which pred(text) is true: (index, time, text)."""
        deadline = time.monotonic() + timeout
        with self.cv:
            i = start
            while True:
                while i < len(self.lines):
                    t, text = self.lines[i]
                    if pred(text):
                        return i, t, text
                    i += 1
                if self.eof:
                    self.p.wait()
                    raise BenchError(f"{self.name} exited (status {self.p.returncode}) before {what}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BenchError(f"{self.name}: no {what} within {timeout:.0f} s")
                self.cv.wait(min(left, 0.5))

    def wait_tick(self, timeout, start=0):
        i, t, text = self.wait_line(lambda s: TICK_RE.search(s) is not None, timeout, start, "TICK line")
        return i, t, Tick(TICK_RE.search(text))

    def last_tick(self):
        with self.cv:
            for i in range(len(self.lines) - 1, -1, -1):
                m = TICK_RE.search(self.lines[i][1])
                if m:
                    return i, self.lines[i][0], Tick(m)
        return None

    def count(self):
        with self.cv:
            return len(self.lines)

    def alive(self):
        return self.p.poll() is None

    def tail(self, n=15):
        with self.cv:
            out = [f"[stdout] {s}" for _, s in self.lines[-n:]]
        try:
            with open(self.errpath, errors="replace") as fh:
                out += [f"[stderr] {s.rstrip()}" for s in fh.readlines()[-n:]]
        except OSError:
            pass
        return out

    def kill(self, grace=0.0):
        """SIGTERM (when grace > 0) then SIGKILL, to this child's own process group."""
        if self.p.poll() is None:
            try:
                if grace > 0:
                    os.killpg(self.p.pid, signal.SIGTERM)
                    try:
                        self.p.wait(timeout=grace)
                    except subprocess.TimeoutExpired:
                        pass
                if self.p.poll() is None:
                    os.killpg(self.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        # members of the group that outlived the leader (e.g. QEMU's `sh -c cat > FILE`)
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.thread.join(timeout=2)
        if self in CHILDREN:
            CHILDREN.remove(self)


def kill_all_children():
    for c in list(CHILDREN):
        c.kill()


class Tick:
    def __init__(self, m):
        self.n = int(m.group(1))
        self.uptime = float(m.group(2))
        self.ns = int(m.group(3)) if m.group(3) else None


# MARK: Matryoshka's API

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=120):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def api(sock, method, path, body=None, expect=(200, 204), timeout=300):
    """One request on a fresh connection (connected before the clock starts).
    Returns (status, parsed JSON or None, seconds)."""
    conn = UnixHTTPConnection(sock, timeout=timeout)
    try:
        conn.connect()
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        t0 = time.monotonic()
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        raw = r.read()
        dt = time.monotonic() - t0
    except (OSError, http.client.HTTPException) as e:
        raise BenchError(f"{method} {path} {json.dumps(body) if body is not None else ''}: {e!r}")
    finally:
        conn.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    if r.status not in expect:
        raise BenchError(f"{method} {path} {json.dumps(body) if body is not None else ''} -> {r.status} "
                         f"{raw.decode(errors='replace')}")
    return r.status, parsed, dt


def wait_api(sock, child, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        if not child.alive():
            raise BenchError(f"{child.name} exited (status {child.p.returncode}) before serving {sock}")
        if os.path.exists(sock):
            try:
                return api(sock, "GET", "/vm", timeout=5)[1]
            except BenchError:
                pass
        if time.monotonic() > deadline:
            raise BenchError(f"{child.name}: API socket {sock} not answering within {timeout} s")
        time.sleep(0.01)


# MARK: QEMU's QMP

class QMP:
    def __init__(self, path, child, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            if not child.alive():
                raise BenchError(f"{child.name} exited (status {child.p.returncode}) before QMP was up")
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(300)
                s.connect(path)
                break
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise BenchError(f"{child.name}: QMP socket {path} not answering within {timeout} s")
                time.sleep(0.01)
        self.sock = s
        self.f = s.makefile("rb")
        self._read()  # greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        line = self.f.readline()
        if not line:
            raise BenchError("QMP connection closed")
        return json.loads(line)

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self._read()
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise BenchError(f"QMP {json.dumps(msg)} -> {json.dumps(r['error'])}")
            # anything else is an asynchronous event

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass


def group_members(pgid):
    """Processes in process group pgid other than its leader (QEMU's `sh -c cat > FILE`)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == pgid:
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(d))
    return out


def poll(fn, done, timeout, what, interval=0.002):
    deadline = time.monotonic() + timeout
    while True:
        r = fn()
        if done(r):
            return r
        if time.monotonic() > deadline:
            raise BenchError(f"{what}: not done within {timeout:.0f} s (last: {r})")
        time.sleep(interval)


# MARK: one run

def allocated(path):
    return os.stat(path).st_blocks * 512


def apparent(path):
    return os.stat(path).st_size


def boot_to_steady(child, timeout):
    """Waits for the fill and READY, then for TICK 2; returns the fill line."""
    _, _, filled = child.wait_line(lambda s: MARK_FILLED in s, timeout, what=MARK_FILLED)
    child.wait_line(lambda s: MARK_READY in s, 30, what=MARK_READY)
    start = 0
    while True:
        i, _, tick = child.wait_tick(30, start)
        if tick.n >= 2:
            return filled[filled.index(MARK_FILLED):]
        start = i + 1


def after_restore(res, child, before, t_before, t_pause, t_from, key, timeout=60):
    """Waits for the restored guest's first TICK; records -> TICK, net, gaps; checks the count.
    Returns the host time of that TICK."""
    _, t, tick = child.wait_tick(timeout)
    if tick.n != before.n + 1:
        raise BenchError(f"{child.name}: first TICK after restore is {tick.n}, expected {before.n + 1} "
                         f"(the snapshot's guest printed TICK {before.n} last)")
    res[key] = t - t_from
    if tick.ns is not None and before.ns is not None:
        res[key + "_net"] = (t - t_from) - (tick.ns - before.ns) / 1e9 + (t_pause - t_before)
        res.setdefault("gap_ns", []).append((tick.ns - before.ns) / 1e9)
    res.setdefault("gap_uptime", []).append(tick.uptime - before.uptime)
    return t


def matryoshka_run(args, size, kernel, initrd, workdir):
    res = {}
    sock = os.path.join(workdir, "m.sock")
    state, mem = os.path.join(workdir, "m.state"), os.path.join(workdir, "m.mem")
    src = Child("matryoshka-source", [args.matryoshka, "run", "--kernel", kernel, "--initrd", initrd,
                                      "--append", APPEND, "--memory", size, "--api-socket", sock], workdir)
    children = [src]
    try:
        res["filled"] = boot_to_steady(src, args.timeout)
        wait_api(sock, src)
        i, t_tick, _ = src.wait_tick(30, src.count())
        _, _, dt = api(sock, "PATCH", "/vm", {"state": "Paused"})
        t_pause = time.monotonic() - dt / 2
        res["pause"] = dt
        st = api(sock, "GET", "/vm")[1]
        if not isinstance(st, dict) or st.get("state") != "Paused":
            raise BenchError(f"GET /vm after PATCH /vm Paused -> {st}")
        _, report, dt = api(sock, "PUT", "/snapshot/create",
                            {"snapshot_path": state, "mem_file_path": mem, "snapshot_type": "Full"})
        res["create"] = res["create_durable"] = dt
        report = (api(sock, "GET", "/vm")[1] or {}).get("last_snapshot")
        res["create_reported"] = report.get("seconds") if isinstance(report, dict) else None
        res["pages"] = report.get("pages_written") if isinstance(report, dict) else None
        res["state_size"] = apparent(state)
        res["mem_apparent"], res["mem_allocated"] = apparent(mem), allocated(mem)
        res["disk_total"] = allocated(state) + allocated(mem)
        time.sleep(0.05)  # anything the guest printed before the pause has arrived
        _, t_before, before = src.last_tick()
        if t_before < t_tick:
            raise BenchError("lost track of the TICK lines before the pause")
        # the source carries on after a snapshot
        n = src.count()
        api(sock, "PATCH", "/vm", {"state": "Resumed"})
        _, _, tick = src.wait_tick(30, n)
        if tick.n != before.n + 1:
            raise BenchError(f"the source VM resumed with TICK {tick.n}, expected {before.n + 1}")
        src.kill(grace=2)

        # restore through the API of an empty process
        sock2 = os.path.join(workdir, "m2.sock")
        dst = Child("matryoshka-api-restore", [args.matryoshka, "run", "--api-socket", sock2], workdir)
        children.append(dst)
        st = wait_api(sock2, dst)
        if not isinstance(st, dict) or st.get("state") != "Not started":
            raise BenchError(f"GET /vm on an empty `run --api-socket` -> {st}")
        conn = UnixHTTPConnection(sock2)
        conn.connect()
        body = {"snapshot_path": state, "mem_backend": {"backend_type": "File", "backend_path": mem}, "resume_vm": True}
        t0 = time.monotonic()
        try:
            conn.request("PUT", "/snapshot/load", body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            raw = r.read()
        except (OSError, http.client.HTTPException) as e:
            raise BenchError(f"PUT /snapshot/load {json.dumps(body)}: {e!r}")
        finally:
            conn.close()
        res["api_load"] = time.monotonic() - t0
        if r.status != 204:
            raise BenchError(f"PUT /snapshot/load {json.dumps(body)} -> {r.status} {raw.decode(errors='replace')}")
        after_restore(res, dst, before, t_before, t_pause, t0, "api_tick")
        dst.kill(grace=2)

        # restore in a new process
        new = Child("matryoshka-restore", [args.matryoshka, "run", "--restore", state], workdir)
        children.append(new)
        after_restore(res, new, before, t_before, t_pause, new.t_spawn, "spawn_tick")
        new.kill(grace=2)
        return res
    except BenchError as e:
        e.tails = [(c.name, c.tail()) for c in children]
        raise
    finally:
        for c in children:
            c.kill()
        for p in (state, mem, sock):
            if os.path.exists(p):
                os.unlink(p)


def qemu_cmd(args, size, kernel, initrd, firmware, qmp_path, extra=()):
    cmd = [args.qemu, "-M", "virt", "-cpu", "rv64", "-smp", "1", "-m", size, "-display", "none", "-monitor", "none",
           "-serial", "stdio", "-no-reboot"]
    if firmware:
        cmd += ["-bios", firmware]
    cmd += ["-kernel", kernel, "-initrd", initrd, "-append", APPEND, "-qmp", f"unix:{qmp_path},server=on,wait=off"]
    return cmd + list(extra)


def qemu_after_restore(res, child, *rest):
    """after_restore, except that a QEMU guest that stays silent is noted rather than failing the run:
    QEMU does not re-arm RISC-V timers (stimecmp, ACLINT mtimecmp) when it loads a migration stream,
    so a guest that was waiting for its timer (--guest-loop sleep) may never wake up."""
    try:
        return after_restore(res, child, *rest, timeout=15)
    except BenchError as e:
        if not child.alive() or "no TICK line" not in str(e):
            raise
        log(f"   note: {e} (QEMU left the guest's timer unarmed after loading; see --guest-loop)")
        res.setdefault("hung", []).append(child.name)
        return None


def qemu_run(args, size, kernel, initrd, firmware, workdir):
    res = {}
    stream = os.path.join(workdir, "q.migration")
    qmps = [os.path.join(workdir, f"q{k}.qmp") for k in range(3)]
    src = Child("qemu-source", qemu_cmd(args, size, kernel, initrd, firmware, qmps[0]), workdir)
    children, monitors = [src], []
    try:
        q = QMP(qmps[0], src)
        monitors.append(q)
        q.cmd("migrate-set-parameters", **{"max-bandwidth": 1 << 40})
        res["filled"] = boot_to_steady(src, args.timeout)
        src.wait_tick(30, src.count())
        t0 = time.monotonic()
        q.cmd("stop")
        dt = time.monotonic() - t0
        t_pause = t0 + dt / 2
        res["pause"] = dt
        t0 = time.monotonic()
        q.cmd("migrate", uri="exec:cat > " + shlex.quote(stream))
        info = poll(lambda: q.cmd("query-migrate"), lambda r: r.get("status") in ("completed", "failed", "cancelled"),
                    600, "QMP migrate")
        res["create"] = time.monotonic() - t0
        if info.get("status") != "completed":
            raise BenchError(f"QMP migrate to exec:cat > {stream}: {json.dumps(info)}")
        # durable like Matryoshka's: the writer done and the file fsynced
        poll(lambda: group_members(src.p.pid), lambda r: not r, 60, "the migration's `cat`")
        fd = os.open(stream, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        res["create_durable"] = time.monotonic() - t0
        ram = info.get("ram", {})
        res["create_reported"] = info["total-time"] / 1000 if "total-time" in info else None
        res["pages"] = ram.get("normal")
        res["mem_apparent"], res["mem_allocated"] = apparent(stream), allocated(stream)
        res["disk_total"] = allocated(stream)
        time.sleep(0.05)
        _, t_before, before = src.last_tick()
        src.kill()

        # load into a process started with -incoming defer
        dst = Child("qemu-incoming-defer", qemu_cmd(args, size, kernel, initrd, firmware, qmps[1], ["-incoming", "defer"]), workdir)
        children.append(dst)
        q = QMP(qmps[1], dst)
        monitors.append(q)
        t0 = time.monotonic()
        q.cmd("migrate-incoming", uri="exec:cat " + shlex.quote(stream))
        st = poll(lambda: q.cmd("query-status"), lambda r: r.get("status") != "inmigrate", 600, "QMP migrate-incoming")
        if st.get("status") != "paused":
            raise BenchError(f"after migrate-incoming: query-status -> {json.dumps(st)}")
        q.cmd("cont")
        res["api_load"] = time.monotonic() - t0
        qemu_after_restore(res, dst, before, t_before, t_pause, t0, "api_tick")
        dst.kill()

        # a new process with -incoming exec:...
        new = Child("qemu-incoming", qemu_cmd(args, size, kernel, initrd, firmware, qmps[2],
                                              ["-incoming", "exec:cat " + shlex.quote(stream)]), workdir)
        children.append(new)
        q = QMP(qmps[2], new)
        monitors.append(q)
        st = poll(lambda: q.cmd("query-status"), lambda r: r.get("status") != "inmigrate", 600, "-incoming")
        if st.get("status") != "paused":
            raise BenchError(f"after -incoming: query-status -> {json.dumps(st)}")
        t_cont = time.monotonic()
        q.cmd("cont")
        t = qemu_after_restore(res, new, before, t_before, t_pause, new.t_spawn, "spawn_tick")
        if t is not None:
            res["cont_tick"] = t - t_cont
            if "spawn_tick_net" in res:
                res["cont_tick_net"] = res["spawn_tick_net"] - (t_cont - new.t_spawn)
        new.kill()
        return res
    except BenchError as e:
        e.tails = [(c.name, c.tail()) for c in children]
        raise
    finally:
        for q in monitors:
            q.close()
        for c in children:
            c.kill()
        for p in [stream] + qmps:
            if os.path.exists(p):
                os.unlink(p)


# MARK: report

def parse_size(s):
    m = re.fullmatch(r"(\d+)([MG])i?B?", s.strip(), re.IGNORECASE)
    if not m:
        raise argparse.ArgumentTypeError(f"size {s!r}: use e.g. 256M or 4G")
    return int(m.group(1)) * (1024 if m.group(2).upper() == "G" else 1)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt_ms(v):
    return "-" if v is None else f"{v * 1000:.1f} ms"


def fmt_s(v):
    return "-" if v is None else f"{v:.3f} s"


def fmt_bytes(v):
    if v is None:
        return "-"
    for unit, k in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if v >= k:
            return f"{v / k:.1f} {unit}"
    return f"{v} B"


def fmt_count(v):
    return "-" if v is None else f"{int(v)}"


ROWS = [
    # (key, label, formatter, ratio?)
    ("pause", "pause (PATCH /vm Paused | QMP stop)", fmt_ms, True),
    ("create", "create (PUT /snapshot/create | migrate to file)", fmt_ms, True),
    ("create_reported", "  as the VMM reports it (seconds | total-time)", fmt_ms, True),
    ("create_durable", "  durable (fsync inside | + cat exits, fsync)", fmt_ms, True),
    ("pages", "  pages saved (non-zero | ram.normal)", fmt_count, True),
    ("state_size", "state file", fmt_bytes, False),
    ("mem_apparent", "memory file | stream: apparent size", fmt_bytes, True),
    ("mem_allocated", "memory file | stream: allocated", fmt_bytes, True),
    ("disk_total", "all files: allocated", fmt_bytes, True),
    (None, "restore on a running process:", None, False),
    ("api_load", "  PUT /snapshot/load | migrate-incoming+cont", fmt_ms, True),
    ("api_tick", "  load -> first TICK", fmt_ms, True),
    ("api_tick_net", "    net of the wait for the guest's next tick", fmt_ms, True),
    (None, "restore in a new process:", None, False),
    ("spawn_tick", "  spawn -> first TICK (run --restore | -incoming)", fmt_ms, True),
    ("spawn_tick_net", "    net of the wait for the guest's next tick", fmt_ms, True),
    ("cont_tick", "  QMP cont -> first TICK", fmt_ms, False),
    ("cont_tick_net", "    net of the wait for the guest's next tick", fmt_ms, False),
    ("gap_uptime", "guest /proc/uptime gap across the snapshot", fmt_s, False),
    ("gap_ns", "guest clock (ns) gap across the snapshot", fmt_s, False),
]


def summarize(runs):
    """Medians over successful runs; list-valued fields (gaps) are pooled."""
    out = {}
    for key, *_ in ROWS:
        if key is None:
            continue
        vals = []
        for r in runs:
            v = r.get(key)
            vals += v if isinstance(v, list) else [v]
        out[key] = median(vals)
    return out


def print_table(size_mib, touch, results, runs_wanted):
    m_runs = [r for r in results.get("matryoshka", []) if r is not None]
    q_runs = [r for r in results.get("qemu", []) if r is not None]
    m, q = summarize(m_runs), summarize(q_runs) if "qemu" in results else None
    name = f"{size_mib // 1024} GiB" if size_mib % 1024 == 0 else f"{size_mib} MiB"
    counts = f"Matryoshka {len(m_runs)}/{len(results.get('matryoshka', []))} ok"
    if q is not None:
        counts += f", QEMU {len(q_runs)}/{len(results['qemu'])} ok"
    print()
    print(f"{name} guest, {touch} MiB touched: {counts}, medians of {runs_wanted} run(s)")
    header = f"{'':50} {'Matryoshka':>12} {'QEMU':>12} {'M/Q':>8}"
    print(header)
    print("-" * len(header))
    for key, label, f, ratio in ROWS:
        if key is None:
            print(label)
            continue
        a = m.get(key)
        b = q.get(key) if q is not None else None
        r = f"{a / b:.2f}x" if ratio and a is not None and b else ""
        print(f"{label:50} {f(a):>12} {(f(b) if q is not None else 'skipped'):>12} {r:>8}")
    kib = sorted({int(m.group(1)) for r in m_runs + q_runs for m in [re.search(r"kib=(\d+)", r.get("filled", ""))] if m})
    shmem = sorted(int(m.group(1)) for r in m_runs + q_runs for m in [re.search(r"Shmem: (\d+)", r.get("filled", ""))] if m)
    if kib:
        print(f"guest fill: {'/'.join(map(str, kib))} KiB written to tmpfs; guest Shmem "
              f"{shmem[0]}-{shmem[-1]} kB" if shmem else "")
    hung = sum(len(r.get("hung", [])) for r in q_runs)
    if hung:
        print(f"QEMU: {hung} restored guest(s) printed no TICK within 15 s (timers not re-armed on load); "
              f"their restore rows are left out")
    return m, q


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="256M,1G,4G", help="comma list of guest memory sizes (default 256M,1G,4G)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--matryoshka", default=os.environ.get("MATRYOSHKA_BIN") or os.path.join(ROOT, ".build", "release", "matryoshka"))
    ap.add_argument("--qemu", default="qemu-system-riscv64")
    ap.add_argument("--skip-qemu", action="store_true")
    ap.add_argument("--touch", type=int, default=0,
                    help="MiB of guest memory to fill (default: 100 for guests under 512 MiB, else 200)")
    ap.add_argument("--guest-loop", choices=("busy", "sleep"), default="busy",
                    help="how the guest paces its TICK lines: 'busy' polls the clock (default; QEMU's restore "
                         "works), 'sleep' runs `usleep 100000` (an idle guest woken by its timer)")
    ap.add_argument("--workdir", default="/var/tmp", help="where the temporary directory goes (default /var/tmp)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds for a guest to boot and fill its memory")
    args = ap.parse_args()

    try:
        sizes = [(s.strip().upper(), parse_size(s)) for s in args.sizes.split(",") if s.strip()]
    except argparse.ArgumentTypeError as e:
        sys.exit(f"error: {e}")
    if not sizes or args.runs < 1:
        sys.exit("error: need at least one size and one run")
    cache = cache_dir()
    kernel, busybox, firmware = (os.path.join(cache, n) for n in ("Image", "busybox", "fw_dynamic.bin"))
    for p in (kernel, busybox):
        if not os.path.exists(p):
            sys.exit(f"error: {p} missing: run `swift run -c release matryoshka images fetch` (or set MATRYOSHKA_CACHE)")
    if not os.path.exists(firmware):
        log(f"note: {firmware} missing; QEMU uses its default firmware")
        firmware = None
    if not os.access(args.matryoshka, os.X_OK):
        sys.exit(f"error: {args.matryoshka} is not an executable (build it: swift build -c release)")
    if not args.skip_qemu and not shutil.which(args.qemu):
        sys.exit(f"error: {args.qemu} not found (apt-get install qemu-system-misc), or pass --skip-qemu")

    def touch_for(mib):
        return args.touch or (100 if mib < 512 else 200)

    os.makedirs(args.workdir, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="matryoshka-snapbench-", dir=args.workdir)
    atexit.register(shutil.rmtree, workdir, True)
    atexit.register(kill_all_children)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    # Matryoshka's memory file holds the touched pages (sparse), QEMU's stream all non-zero pages plus
    # a few bytes per zero page; one run keeps at most one of each.
    need = max(touch_for(mib) * 2 + mib // 64 + 256 for _, mib in sizes) << 20
    free = shutil.disk_usage(workdir).free
    if free < need:
        sys.exit(f"error: {workdir}: {free >> 20} MiB free, need about {need >> 20} MiB (use --workdir)")

    failed = False
    tables = []
    try:
        initrds = {}
        for label, mib in sizes:
            touch = touch_for(mib)
            if touch + 48 > mib * 3 // 4:
                sys.exit(f"error: {label}: {touch} MiB to touch does not fit a {mib} MiB guest (use --touch)")
            if touch not in initrds:
                initrds[touch] = build_initramfs(workdir, busybox, touch, args.guest_loop)
            results = {"matryoshka": []}
            if not args.skip_qemu:
                results["qemu"] = []
            given_up = set()
            for run in range(args.runs):
                for who in results:
                    if who in given_up:
                        continue  # one failure per emulator and size is enough to report
                    log(f"== {label} ({touch} MiB touched), {who}: run {run + 1}/{args.runs}")
                    try:
                        if who == "matryoshka":
                            r = matryoshka_run(args, label, kernel, initrds[touch], workdir)
                        else:
                            r = qemu_run(args, label, kernel, initrds[touch], firmware, workdir)
                        log(f"   pause {fmt_ms(r['pause'])}  create {fmt_ms(r['create'])}  pages {r['pages']}  "
                            f"files {fmt_bytes(r['disk_total'])} allocated  load {fmt_ms(r['api_load'])}  "
                            f"load->TICK {fmt_ms(r.get('api_tick'))} (net {fmt_ms(r.get('api_tick_net'))})  "
                            f"spawn->TICK {fmt_ms(r.get('spawn_tick'))} (net {fmt_ms(r.get('spawn_tick_net'))})  "
                            f"uptime gaps {' '.join(f'{g:.2f}' for g in r.get('gap_uptime', []))}")
                    except BenchError as e:
                        failed = True
                        given_up.add(who)
                        r = None
                        log(f"   FAILED: {e}")
                        for name, tail in getattr(e, "tails", []):
                            log(f"   last output of {name}:")
                            for line in tail:
                                log("   | " + line)
                    results[who].append(r)
            tables.append((label, mib, touch, results))
    finally:
        kill_all_children()

    print()
    print(f"snapshot benchmark: {args.runs} run(s) per size, 1 hart, guest loop '{args.guest_loop}', "
          f"kernel {os.path.basename(os.path.realpath(kernel))}")
    summaries = {}
    for label, mib, touch, results in tables:
        summaries[label] = (mib, touch) + print_table(mib, touch, results, args.runs)

    print()
    print("goals:")
    for label, (mib, touch, m, q) in summaries.items():
        parts = []
        for key, what in (("api_load", "PUT /snapshot/load"), ("api_tick_net", "load -> TICK, net"),
                          ("spawn_tick_net", "run --restore -> TICK, net")):
            v = m.get(key)
            verdict = "-" if v is None else ("met" if v < 0.010 else "missed")
            parts.append(f"{what} {fmt_ms(v)} ({verdict})")
        print(f"  restore under 10 ms, {label}: " + "; ".join(parts))
    for label, (mib, touch, m, q) in summaries.items():
        if mib == 1024 and 150 <= touch <= 250:
            v = m.get("create")
            verdict = "-" if v is None else ("met" if v < 0.5 else "missed")
            print(f"  create under 0.5 s, 1 GiB guest with {touch} MiB touched: {fmt_ms(v)} ({verdict})")
    if not any(mib == 1024 for mib, *_ in summaries.values()):
        print("  create under 0.5 s for a 1 GiB guest: not measured (no 1G in --sizes)")
    if failed:
        print("\nsome runs failed (see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
