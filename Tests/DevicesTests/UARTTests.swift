import XCTest
import Foundation
import Platform
import RISCV
import Devices
import Backends

final class UARTTests: XCTestCase {
    final class Wires {
        var irq = false
        var irqCalls = 0
        var out: [UInt8] = []
    }
    func make() -> (UART16550, Wires) {
        let w = Wires()
        let u = UART16550(irq: { w.irq = $0; w.irqCalls += 1 }, output: { w.out.append($0) })
        return (u, w)
    }
    // Register offsets.
    let RBR: UInt64 = 0, IER: UInt64 = 1, IIR: UInt64 = 2, FCR: UInt64 = 2, LCR: UInt64 = 3
    let MCR: UInt64 = 4, LSR: UInt64 = 5, MSR: UInt64 = 6, SCR: UInt64 = 7
    func r(_ u: UART16550, _ o: UInt64) -> UInt8 { UInt8(u.read(o, size: 1)) }
    func w(_ u: UART16550, _ o: UInt64, _ v: UInt8) { u.write(o, size: 1, value: UInt64(v)) }

    /// The existence and loopback checks of Linux's 8250 autoconfig().
    func testLinuxAutoconfigProbe() {
        let (u, wires) = make()
        let scratch = r(u, IER)
        w(u, IER, 0)
        XCTAssertEqual(r(u, IER) & 0x0f, 0)
        w(u, IER, 0x0f)
        XCTAssertEqual(r(u, IER) & 0x0f, 0x0f)
        w(u, IER, scratch)

        let saveMCR = r(u, MCR)
        w(u, MCR, 0x10 | 0x08 | 0x02)       // LOOP | OUT2 | RTS
        XCTAssertEqual(r(u, MSR) & 0xf0, 0x90, "DCD | CTS in loopback")
        w(u, MCR, saveMCR)

        w(u, LCR, 0xbf)
        w(u, 2, 0)                           // EFR (really FCR) := 0
        w(u, LCR, 0)
        w(u, FCR, 0x01)
        XCTAssertEqual(r(u, IIR) >> 6, 3, "16550A FIFO signature")
        w(u, FCR, 0)
        XCTAssertEqual(r(u, IIR) >> 6, 0)
        XCTAssertTrue(wires.out.isEmpty)

        w(u, SCR, 0xa5)
        XCTAssertEqual(r(u, SCR), 0xa5)
    }

    func testLoopbackTransmitAndModemLines() {
        let (u, wires) = make()
        w(u, FCR, 0x07)
        w(u, MCR, 0x10)
        XCTAssertEqual(r(u, MSR) & 0xf0, 0)
        for b: UInt8 in [1, 2, 3] { w(u, RBR, b) }
        XCTAssertTrue(wires.out.isEmpty, "loopback does not reach the outside")
        XCTAssertEqual(r(u, LSR) & 1, 1)
        XCTAssertEqual([r(u, RBR), r(u, RBR), r(u, RBR)], [1, 2, 3])
        XCTAssertEqual(r(u, LSR) & 1, 0)

        // DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD with delta bits.
        _ = r(u, MSR)
        w(u, MCR, 0x1f)
        XCTAssertEqual(r(u, MSR), 0xf0 | 0x0b)
        XCTAssertEqual(r(u, MSR), 0xf0, "deltas clear on read")
        w(u, MCR, 0x10)
        XCTAssertEqual(r(u, MSR), 0x0f, "RI trailing edge sets TERI")

        // Modem status interrupt.
        w(u, IER, 0x08)
        XCTAssertFalse(wires.irq)
        w(u, MCR, 0x12)
        XCTAssertTrue(wires.irq)
        XCTAssertEqual(r(u, IIR) & 0x0f, 0x00)
        _ = r(u, MSR)
        XCTAssertFalse(wires.irq)
        XCTAssertEqual(r(u, IIR) & 0x0f, 0x01)

        // Leaving loopback: output reaches the host, modem inputs idle high.
        w(u, MCR, 0x0b)
        w(u, RBR, 0x41)
        XCTAssertEqual(wires.out, [0x41])
        XCTAssertEqual(r(u, MSR) & 0xf0, 0xb0)
    }

    func testFIFOAndOverrun() {
        let (u, _) = make()
        w(u, FCR, 0x01)
        w(u, MCR, 0x10)
        for i in 0..<20 { w(u, RBR, UInt8(i)) }
        let lsr = r(u, LSR)
        XCTAssertEqual(lsr & 0x03, 0x03, "DR and OE")
        XCTAssertEqual(r(u, LSR) & 0x02, 0, "OE clears on read")
        var got: [UInt8] = []
        while r(u, LSR) & 1 != 0 { got.append(r(u, RBR)) }
        XCTAssertEqual(got, (0..<16).map { UInt8($0) }, "16-byte FIFO keeps the oldest bytes")

        // FIFOs disabled: one holding register.
        w(u, FCR, 0x00)
        w(u, RBR, 7); w(u, RBR, 8)
        XCTAssertEqual(r(u, LSR) & 0x03, 0x03)
        XCTAssertEqual(r(u, RBR), 7)
        XCTAssertEqual(r(u, LSR) & 1, 0)

        // FCR bit 1 clears the RX FIFO.
        w(u, FCR, 0x01)
        w(u, RBR, 9)
        w(u, FCR, 0x03)
        XCTAssertEqual(r(u, LSR) & 1, 0)
    }

    func testDivisorLatch() {
        let (u, wires) = make()
        w(u, IER, 0x05)
        w(u, LCR, 0x83)
        w(u, 0, 0x01); w(u, 1, 0x02)
        XCTAssertEqual(r(u, 0), 0x01)
        XCTAssertEqual(r(u, 1), 0x02)
        w(u, LCR, 0x03)
        XCTAssertEqual(r(u, IER), 0x05)
        XCTAssertEqual(r(u, LCR), 0x03)
        XCTAssertTrue(wires.out.isEmpty, "DLL writes are not transmitted")
    }

    func testTHREInterrupt() {
        let (u, wires) = make()
        XCTAssertEqual(r(u, LSR) & 0x60, 0x60, "THRE and TEMT at reset")
        XCTAssertEqual(r(u, IIR) & 0x0f, 0x01)
        w(u, IER, 0x02)
        XCTAssertTrue(wires.irq, "enabling ETBEI with an empty THR interrupts")
        XCTAssertEqual(r(u, IIR) & 0x0f, 0x02)
        XCTAssertFalse(wires.irq, "reading IIR clears THRE when it is the reported source")
        XCTAssertEqual(r(u, IIR) & 0x0f, 0x01)

        w(u, RBR, 0x55)                      // transmit: THR empties again at once
        XCTAssertEqual(wires.out, [0x55])
        XCTAssertTrue(wires.irq)

        // Linux's UART_BUG_THRE test: re-enabling ETBEI must re-assert THRE.
        w(u, IER, 0)
        XCTAssertFalse(wires.irq)
        w(u, IER, 0x02)
        XCTAssertTrue(wires.irq)
        XCTAssertEqual(r(u, IIR) & 0x0f, 0x02)
        w(u, IER, 0)
        w(u, IER, 0x02)
        XCTAssertEqual(r(u, IIR) & 0x0f, 0x02)

        // Writing IER again with ETBEI already set does not re-raise a cleared THRE.
        w(u, IER, 0x02)
        XCTAssertEqual(r(u, IIR) & 0x0f, 0x01)
    }

    func testInterruptPriorities() {
        let (u, wires) = make()
        w(u, FCR, 0xc1)                      // FIFO, trigger 14
        w(u, MCR, 0x10)
        w(u, IER, 0x0f)
        // THRE pending (just enabled) + modem delta.
        w(u, MCR, 0x12)
        XCTAssertEqual(r(u, IIR), 0xc0 | 0x02, "THRE outranks modem status")
        XCTAssertEqual(r(u, IIR) & 0x0f, 0x00, "then modem status")
        _ = r(u, MSR)
        // One byte below the trigger level: character timeout identification.
        w(u, RBR, 1)
        XCTAssertEqual(r(u, IIR) & 0x0f, 0x0c)
        for i in 0..<13 { w(u, RBR, UInt8(i)) }
        XCTAssertEqual(r(u, IIR) & 0x0f, 0x04, "at trigger level: received data available")
        for i in 0..<5 { w(u, RBR, UInt8(i)) }   // overrun
        XCTAssertEqual(r(u, IIR) & 0x0f, 0x06, "line status is the highest priority")
        XCTAssertEqual(r(u, IIR) & 0x0f, 0x06, "reading IIR does not clear line status")
        _ = r(u, LSR)
        XCTAssertEqual(r(u, IIR) & 0x0f, 0x04)
        while r(u, LSR) & 1 != 0 { _ = r(u, RBR) }
        XCTAssertTrue(wires.irq, "THRE re-armed by the loopback transmits")
        XCTAssertEqual(r(u, IIR) & 0x0f, 0x02)
        XCTAssertFalse(wires.irq)
    }

    func testHostInputAndRXInterrupt() {
        let (u, wires) = make()
        w(u, FCR, 0x01)
        w(u, IER, 0x01)
        XCTAssertFalse(u.hasPendingInput)
        u.enqueueInput(Array("hello, world! this is more than sixteen bytes".utf8))
        XCTAssertTrue(u.hasPendingInput)
        XCTAssertFalse(wires.irq, "nothing moves before service()")
        u.service()
        XCTAssertTrue(wires.irq)
        XCTAssertTrue(u.hasPendingInput, "FIFO holds only 16 bytes; the rest waits")
        XCTAssertEqual(r(u, IIR) & 0x0f, 0x04)
        var got: [UInt8] = []
        while u.hasPendingInput || r(u, LSR) & 1 != 0 {
            u.service()
            while r(u, LSR) & 1 != 0 { got.append(r(u, RBR)) }
        }
        XCTAssertEqual(String(decoding: got, as: UTF8.self), "hello, world! this is more than sixteen bytes")
        XCTAssertEqual(r(u, LSR) & 0x02, 0, "host input never overruns")
        XCTAssertFalse(wires.irq)
    }

    func testEnqueueFromAnotherThread() {
        let (u, _) = make()
        w(u, FCR, 0x01)
        let t = Thread { for i in 0..<1000 { u.enqueueInput([UInt8(i & 0x7f)]) } }
        t.start()
        var got: [UInt8] = []
        let deadline = Date().addingTimeInterval(10)
        while got.count < 1000 && Date() < deadline {
            u.service()
            while r(u, LSR) & 1 != 0 { got.append(r(u, RBR)) }
        }
        XCTAssertEqual(got, (0..<1000).map { UInt8($0 & 0x7f) })
    }

    func testWideAccesses() {
        let (u, wires) = make()
        u.write(7, size: 4, value: 0x1234_5678)
        XCTAssertEqual(u.read(7, size: 8), 0x78)
        u.write(0, size: 8, value: 0x4142)
        XCTAssertEqual(wires.out, [0x42])
        XCTAssertEqual(u.read(0x80, size: 4), 0)
    }

    func testStateRoundTrip() throws {
        let (u, _) = make()
        w(u, FCR, 0x81)
        w(u, LCR, 0x80); w(u, 0, 3); w(u, 1, 0); w(u, LCR, 0x03)
        w(u, IER, 0x07)
        w(u, MCR, 0x1b)
        w(u, SCR, 0x5a)
        for b in Array("abc".utf8) { w(u, RBR, b) }
        let s = saved(u)
        let (u2, wires2) = make()
        try load(u2, s)
        XCTAssertTrue(wires2.irq)
        XCTAssertEqual(saved(u2), s)
        XCTAssertEqual(r(u2, SCR), 0x5a)
        XCTAssertEqual(r(u2, LCR), 0x03)
        XCTAssertEqual(r(u2, IIR), 0xc0 | 0x0c)
        XCTAssertEqual([r(u2, RBR), r(u2, RBR), r(u2, RBR)], Array("abc".utf8))
        assertTruncationsThrow({ make().0 }, s)
        corruptionDoesNotTrap({ make().0 }, s, span: 0x100)
    }

    func testReset() {
        let (u, wires) = make()
        w(u, FCR, 0x01); w(u, IER, 0x03); w(u, MCR, 0x10); w(u, RBR, 1)
        XCTAssertTrue(wires.irq)
        u.reset()
        XCTAssertFalse(wires.irq)
        XCTAssertEqual(r(u, IER), 0)
        XCTAssertEqual(r(u, MCR), 0)
        XCTAssertEqual(r(u, LSR), 0x60)
        XCTAssertEqual(r(u, IIR), 0x01)
    }

    func testFuzzNoTrap() {
        let (u, _) = make()
        u.enqueueInput(Array(repeating: 0x61, count: 100))
        fuzzAccesses(u, span: 0x100)
        u.service()
        fuzzAccesses(u, span: 16, seed: 9)
    }
}
