#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Platform
import RISCV

/// Goldfish RTC: nanoseconds since the Unix epoch, from the host's realtime clock plus an offset.
///   0x00 TIME_LOW (read latches TIME_HIGH)   0x04 TIME_HIGH
///   0x08 ALARM_LOW (write arms the alarm)     0x0c ALARM_HIGH
///   0x10 IRQ_ENABLED  0x14 CLEAR_ALARM  0x18 ALARM_STATUS  0x1c CLEAR_INTERRUPT
public final class GoldfishRTC: MMIODevice, Stateful {
    public static let size: UInt64 = 0x1000

    private let irq: (Bool) -> Void
    private let clock: () -> UInt64

    private var offset: Int64 = 0          // guest time = host realtime + offset
    private var timeHighLatch: UInt32 = 0
    private var alarm: UInt64 = 0
    private var alarmArmed = false
    private var irqEnabled = false
    private var irqPending = false
    private var irqLevel = false

    /// `clock` returns host wall-clock nanoseconds (injectable for tests).
    public init(irq: @escaping (Bool) -> Void, clock: @escaping () -> UInt64 = GoldfishRTC.hostRealtimeNanos) {
        self.irq = irq
        self.clock = clock
    }

    public static func hostRealtimeNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Current guest time in nanoseconds since the epoch.
    public var now: UInt64 { clock() &+ UInt64(bitPattern: offset) }

    /// The armed alarm's guest time (ns since the epoch), or nil.
    public var alarmDeadline: UInt64? { alarmArmed ? alarm : nil }

    /// Machine reset: the alarm is disarmed and interrupts disabled; the time of day is kept.
    public func reset() {
        alarm = 0; alarmArmed = false
        irqEnabled = false; irqPending = false
        timeHighLatch = 0
        updateIRQ()
    }

    /// Fires the alarm if it is due.
    public func update() {
        if alarmArmed && now >= alarm {
            alarmArmed = false
            irqPending = true
        }
        updateIRQ()
    }

    private func updateIRQ() {
        let level = irqPending && irqEnabled
        if level != irqLevel {
            irqLevel = level
            irq(level)
        }
    }

    private func setTime(_ t: UInt64) {
        offset = Int64(bitPattern: t &- clock())
    }

    private func reg(_ off: UInt64, sideEffects: Bool) -> UInt32 {
        switch off {
        case 0x00:
            let t = now
            if sideEffects { timeHighLatch = UInt32(truncatingIfNeeded: t >> 32) }
            return UInt32(truncatingIfNeeded: t)
        case 0x04: return timeHighLatch
        case 0x08: return UInt32(truncatingIfNeeded: alarm)
        case 0x0c: return UInt32(truncatingIfNeeded: alarm >> 32)
        case 0x10: return irqEnabled ? 1 : 0
        case 0x18: return alarmArmed ? 1 : 0
        default: return 0
        }
    }

    private func setReg(_ off: UInt64, _ v: UInt32) {
        switch off {
        case 0x00: setTime(now & 0xffff_ffff_0000_0000 | UInt64(v))
        case 0x04: setTime(now & 0x0000_0000_ffff_ffff | UInt64(v) << 32)
        case 0x08:
            alarm = alarm & 0xffff_ffff_0000_0000 | UInt64(v)
            alarmArmed = true
            update()   // an alarm in the past fires at once
        case 0x0c: alarm = alarm & 0x0000_0000_ffff_ffff | UInt64(v) << 32
        case 0x10:
            irqEnabled = v & 1 != 0
            updateIRQ()
        case 0x14: alarmArmed = false
        case 0x1c:
            irqPending = false
            updateIRQ()
        default: break
        }
    }

    public func read(_ offset: UInt64, size: Int) -> UInt64 {
        guard offset < GoldfishRTC.size else { return 0 }
        return readRegs32(offset, size: size) { reg($0, sideEffects: true) }
    }

    public func write(_ offset: UInt64, size: Int, value: UInt64) {
        guard offset < GoldfishRTC.size else { return }
        writeRegs32(offset, size: size, value: value,
                    peek: { reg($0, sideEffects: false) }, { setReg($0, $1) })
    }

    public func saveState(_ w: inout StateWriter) {
        w.section("goldfish-rtc", version: 1) { w in
            w.i64(offset)
            w.u32(timeHighLatch)
            w.u64(alarm)
            w.bool(alarmArmed)
            w.bool(irqEnabled)
            w.bool(irqPending)
        }
    }

    public func loadState(_ r: inout StateReader) throws {
        let s = try r.section("goldfish-rtc", versions: 1...1) { r, _ in
            (try r.i64(), try r.u32(), try r.u64(), try r.bool(), try r.bool(), try r.bool())
        }
        (offset, timeHighLatch, alarm, alarmArmed, irqEnabled, irqPending) = s
        irqLevel = irqPending && irqEnabled
        irq(irqLevel)
    }
}
