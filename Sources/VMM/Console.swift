#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Machine
import Platform

/// Connects a VM's console to the process's standard input and output: raw mode on a TTY, plain
/// bytes through pipes. `Ctrl-A X` quits (on a TTY and through a pipe, as QEMU's -nographic);
/// `Ctrl-A Ctrl-A` sends one Ctrl-A. SIGTERM, SIGINT and SIGHUP stop the VM at its next safe point.
public final class TerminalConsole: @unchecked Sendable {
    public let vm: VirtualMachine
    public let isTTY = isatty(0) != 0
    private var saved = termios()
    private var rawMode = false

    public init(vm: VirtualMachine, output: Int32 = 1) {
        self.vm = vm
        vm.machine.consoleSink = { bytes in TerminalConsole.writeAll(output, bytes) }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { p in
            var off = 0
            while off < p.count {
                let n = write(fd, p.baseAddress! + off, p.count - off)
                if n <= 0 { if errno == EINTR { continue }; break }
                off += n
            }
        }
    }

    /// Raw mode (on a TTY), the input thread and the signal handlers.
    public func start() {
        if isTTY {
            tcgetattr(0, &saved)
            var raw = saved
            cfmakeraw(&raw)
            raw.c_oflag |= tcflag_t(OPOST | ONLCR)
            tcsetattr(0, TCSANOW, &raw)
            rawMode = true
        }
        handleSignals()
        let machine = vm.machine
        let vm = self.vm
        _ = startThread {
            var buf = [UInt8](repeating: 0, count: 256)
            var escape = false
            while true {
                let n = read(0, &buf, buf.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }   // EOF: the guest keeps running without input
                var out: [UInt8] = []
                for b in buf[0..<n] {
                    if escape {
                        escape = false
                        if b == UInt8(ascii: "x") || b == UInt8(ascii: "X") { vm.stop(.consoleQuit); return }
                        if b == 0x01 { out.append(0x01) }
                        continue
                    }
                    if b == 0x01 { escape = true; continue }
                    out.append(b)
                }
                if !out.isEmpty {
                    // Until the guest's virtio console driver is up, input still reaches the UART.
                    if let vc = machine.virtioConsole, vc.isActive { vc.enqueueInput(out) } else { machine.uart.enqueueInput(out) }
                    machine.hostEvent.signal()
                }
            }
        }
    }

    /// Restores the terminal. Safe to call more than once.
    public func stop() {
        if rawMode {
            tcsetattr(0, TCSANOW, &saved)
            rawMode = false
        }
    }

    /// SIGTERM, SIGINT and SIGHUP go through a pipe (the only async-signal-safe hand-off) to a
    /// thread that stops the VM; the emulation thread sees the request within one slice.
    private func handleSignals() {
        if signalPipe.write < 0 {
            var fds: [Int32] = [-1, -1]
            guard pipe(&fds) == 0 else { return }
            _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
            signalPipe = (fds[0], fds[1])
        }
        let readEnd = signalPipe.read
        let vm = self.vm
        _ = startThread {
            var sig: UInt8 = 0
            while true {
                let n = read(readEnd, &sig, 1)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                vm.stop(.signal(Int32(sig)))
            }
        }
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                var b = UInt8(truncatingIfNeeded: sig)
                _ = write(signalPipe.write, &b, 1)
            }
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(sig, &action, nil)
        }
    }
}

/// Read and write ends of the signal pipe; set before any handler is installed.
nonisolated(unsafe) private var signalPipe: (read: Int32, write: Int32) = (-1, -1)
