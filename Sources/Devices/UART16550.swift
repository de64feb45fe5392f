import Synchronization
import Platform
import RISCV

/// NS16550A UART (reg-shift 0, byte registers) as used by Linux's 8250 driver.
/// Accesses wider than a byte act on the byte register at `offset` (upper bytes read 0).
public final class UART16550: MMIODevice, Stateful, @unchecked Sendable {
    public static let size: UInt64 = 0x100
    public static let fifoSize = 16
    /// Host bytes waiting for room in the RX FIFO are capped here; older input is kept.
    public static let hostQueueLimit = 1 << 20

    // Register bits.
    static let ierRDI: UInt8 = 0x01, ierTHRI: UInt8 = 0x02, ierRLSI: UInt8 = 0x04, ierMSI: UInt8 = 0x08
    static let lsrDR: UInt8 = 0x01, lsrOE: UInt8 = 0x02, lsrTHRE: UInt8 = 0x20, lsrTEMT: UInt8 = 0x40
    static let lsrErrorBits: UInt8 = 0x1e
    static let mcrLoop: UInt8 = 0x10
    static let iirNoInt: UInt8 = 0x01, iirMSI: UInt8 = 0x00, iirTHRI: UInt8 = 0x02
    static let iirRDI: UInt8 = 0x04, iirRLSI: UInt8 = 0x06, iirTimeout: UInt8 = 0x0c
    static let iirFIFO: UInt8 = 0xc0
    /// Modem inputs when not in loopback: DCD, DSR and CTS asserted (as QEMU does).
    static let idleModemInputs: UInt8 = 0xb0

    private let irq: (Bool) -> Void
    private let output: (UInt8) -> Void

    // Guest-visible state (emulation thread only).
    private var rx: [UInt8] = []          // RX FIFO (or holding register when FIFOs are off)
    private var ier: UInt8 = 0
    private var lcr: UInt8 = 0
    private var mcr: UInt8 = 0
    private var scr: UInt8 = 0
    private var dll: UInt8 = 0x0c         // 9600 baud at 1.8432 MHz, a common reset-ish value
    private var dlm: UInt8 = 0
    private var fifoEnabled = false
    private var rxTrigger = 1
    private var lsrErrors: UInt8 = 0      // OE/PE/FE/BI, cleared by reading LSR
    private var msrDeltas: UInt8 = 0      // MSR bits 3:0, cleared by reading MSR
    private var thrInterrupt = false      // THRE interrupt pending
    private var irqLevel = false

    // Host input queue (any thread, under `lock`).
    private let lock = Mutex(())
    private var hostQueue: [UInt8] = []
    private var hostHead = 0

    public init(irq: @escaping (Bool) -> Void, output: @escaping (UInt8) -> Void) {
        self.irq = irq
        self.output = output
    }

    /// Machine reset: registers return to their power-on values; the RX FIFO is emptied
    /// (queued host input is kept).
    public func reset() {
        rx.removeAll()
        ier = 0; lcr = 0; mcr = 0; scr = 0; dll = 0x0c; dlm = 0
        fifoEnabled = false; rxTrigger = 1
        lsrErrors = 0; msrDeltas = 0; thrInterrupt = false
        updateIRQ()
    }

    // MARK: Host side

    /// Queues bytes typed on the host. Thread-safe.
    public func enqueueInput(_ bytes: [UInt8]) {
        lock.withLock { _ in
            let room = UART16550.hostQueueLimit - (hostQueue.count - hostHead)
            if room > 0 { hostQueue.append(contentsOf: bytes.prefix(room)) }
        }
    }

    /// True while host input is waiting to be moved into the RX FIFO. Thread-safe.
    public var hasPendingInput: Bool {
        lock.withLock { _ in hostHead < hostQueue.count }
    }

    /// Emulation thread: moves queued host input into the RX FIFO (never overrunning it)
    /// and updates the interrupt line.
    public func service() {
        let room = rxCapacity - rx.count
        if room > 0 {
            let moved: [UInt8] = lock.withLock { _ in
                let n = min(room, hostQueue.count - hostHead)
                guard n > 0 else { return [] }
                let chunk = Array(hostQueue[hostHead..<hostHead + n])
                hostHead += n
                if hostHead == hostQueue.count {
                    hostQueue.removeAll(keepingCapacity: true); hostHead = 0
                } else if hostHead > 4096 && hostHead * 2 > hostQueue.count {
                    hostQueue.removeFirst(hostHead); hostHead = 0
                }
                return chunk
            }
            rx.append(contentsOf: moved)
        }
        updateIRQ()
    }

    // MARK: Derived registers

    private var rxCapacity: Int { fifoEnabled ? UART16550.fifoSize : 1 }
    private var dlab: Bool { lcr & 0x80 != 0 }
    private var loopback: Bool { mcr & UART16550.mcrLoop != 0 }

    private var lsr: UInt8 {
        // Transmission is instantaneous: THR and the shift register are always empty.
        var v = UART16550.lsrTHRE | UART16550.lsrTEMT | lsrErrors
        if !rx.isEmpty { v |= UART16550.lsrDR }
        return v
    }

    /// Modem status inputs (MSR bits 7:4).
    private var modemInputs: UInt8 {
        guard loopback else { return UART16550.idleModemInputs }
        // Loopback: DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD.
        var v: UInt8 = 0
        if mcr & 0x01 != 0 { v |= 0x20 }
        if mcr & 0x02 != 0 { v |= 0x10 }
        if mcr & 0x04 != 0 { v |= 0x40 }
        if mcr & 0x08 != 0 { v |= 0x80 }
        return v
    }

    /// The highest-priority pending interrupt's IIR identification (bits 3:0), or iirNoInt.
    private var interruptID: UInt8 {
        if ier & UART16550.ierRLSI != 0 && lsrErrors != 0 { return UART16550.iirRLSI }
        if ier & UART16550.ierRDI != 0 && !rx.isEmpty {
            // Below the trigger level the data would be reported by the character timeout.
            return fifoEnabled && rx.count < rxTrigger ? UART16550.iirTimeout : UART16550.iirRDI
        }
        if ier & UART16550.ierTHRI != 0 && thrInterrupt { return UART16550.iirTHRI }
        if ier & UART16550.ierMSI != 0 && msrDeltas != 0 { return UART16550.iirMSI }
        return UART16550.iirNoInt
    }

    private func updateIRQ() {
        let level = interruptID != UART16550.iirNoInt
        if level != irqLevel {
            irqLevel = level
            irq(level)
        }
    }

    private func receive(_ byte: UInt8) {
        if rx.count < rxCapacity {
            rx.append(byte)
        } else {
            lsrErrors |= UART16550.lsrOE
        }
    }

    private func setMCR(_ v: UInt8) {
        let before = modemInputs
        mcr = v & 0x1f
        let after = modemInputs
        let changed = before ^ after
        if changed & 0x10 != 0 { msrDeltas |= 0x01 }                  // DCTS
        if changed & 0x20 != 0 { msrDeltas |= 0x02 }                  // DDSR
        if before & 0x40 != 0 && after & 0x40 == 0 { msrDeltas |= 0x04 } // TERI
        if changed & 0x80 != 0 { msrDeltas |= 0x08 }                  // DDCD
    }

    // MARK: MMIO

    public func read(_ offset: UInt64, size: Int) -> UInt64 {
        guard isValidAccessSize(size), offset < 8 else { return 0 }
        let v: UInt8
        switch offset {
        case 0:
            if dlab { v = dll } else {
                v = rx.isEmpty ? 0 : rx.removeFirst()
            }
        case 1:
            v = dlab ? dlm : ier
        case 2:
            let id = interruptID
            if id == UART16550.iirTHRI { thrInterrupt = false }
            v = id | (fifoEnabled ? UART16550.iirFIFO : 0)
        case 3:
            v = lcr
        case 4:
            v = mcr
        case 5:
            v = lsr
            lsrErrors = 0
        case 6:
            v = modemInputs | msrDeltas
            msrDeltas = 0
        default:
            v = scr
        }
        updateIRQ()
        return UInt64(v)
    }

    public func write(_ offset: UInt64, size: Int, value: UInt64) {
        guard isValidAccessSize(size), offset < 8 else { return }
        let b = UInt8(truncatingIfNeeded: value)
        switch offset {
        case 0:
            if dlab { dll = b; break }
            if loopback { receive(b) } else { output(b) }
            // The byte leaves THR at once, so THR is empty again: a new THRE interrupt is due.
            thrInterrupt = true
        case 1:
            if dlab { dlm = b; break }
            let old = ier
            ier = b & 0x0f
            if ier & UART16550.ierTHRI == 0 {
                thrInterrupt = false
            } else if old & UART16550.ierTHRI == 0 {
                thrInterrupt = true   // THR is always empty here
            }
        case 2:
            let enable = b & 0x01 != 0
            if enable != fifoEnabled {
                rx.removeAll()
                fifoEnabled = enable
            }
            if b & 0x02 != 0 { rx.removeAll() }
            rxTrigger = [1, 4, 8, 14][Int(b >> 6)]
        case 3:
            lcr = b
        case 4:
            setMCR(b)
        case 5, 6:
            break   // LSR/MSR are read-only (factory test writes ignored)
        default:
            scr = b
        }
        updateIRQ()
    }

    // MARK: State

    public func saveState(_ w: inout StateWriter) {
        w.section("uart16550", version: 1) { w in
            w.blob(rx)
            for r in [ier, lcr, mcr, scr, dll, dlm] { w.u8(r) }
            w.bool(fifoEnabled)
            w.u8(UInt8(rxTrigger))
            w.u8(lsrErrors)
            w.u8(msrDeltas)
            w.bool(thrInterrupt)
        }
    }

    public func loadState(_ r: inout StateReader) throws {
        let s = try r.section("uart16550", versions: 1...1) { r, _ in
            let rx = try r.blob(max: UART16550.fifoSize)
            let ier = try r.u8(), lcr = try r.u8(), mcr = try r.u8()
            let scr = try r.u8(), dll = try r.u8(), dlm = try r.u8()
            let fifo = try r.bool()
            let trig = Int(try r.u8())
            guard [1, 4, 8, 14].contains(trig) else { throw StateError("UART: bad RX trigger level \(trig)") }
            guard fifo || rx.count <= 1 else { throw StateError("UART: \(rx.count) bytes in a disabled FIFO") }
            let errs = try r.u8(), deltas = try r.u8()
            let thr = try r.bool()
            return (rx, ier, lcr, mcr, scr, dll, dlm, fifo, trig, errs, deltas, thr)
        }
        rx = s.0; ier = s.1 & 0x0f; lcr = s.2; mcr = s.3 & 0x1f; scr = s.4; dll = s.5; dlm = s.6
        fifoEnabled = s.7; rxTrigger = s.8
        lsrErrors = s.9 & UART16550.lsrErrorBits; msrDeltas = s.10 & 0x0f; thrInterrupt = s.11
        irqLevel = interruptID != UART16550.iirNoInt
        irq(irqLevel)
    }
}
