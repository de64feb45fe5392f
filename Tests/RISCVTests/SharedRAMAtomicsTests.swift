import Dispatch
import Foundation
import Platform
import Synchronization
import RISCV
import XCTest

/// Harts on separate host threads over one RAM, truly in parallel (the CI machine has 2 cores): AMOs
/// and LR/SC loops must count exactly, as the A extension requires, while a plain load/add/store loop
/// over the same kind of counter loses updates (which shows the threads really raced).
final class SharedRAMAtomicsTests: XCTestCase {
    static let base: UInt64 = 0x8000_0000
    static let counter = base + 0x1000

    static func amo(_ f5: UInt32, rd: UInt32, rs1: UInt32, rs2: UInt32) -> UInt32 {
        f5 << 27 | rs2 << 20 | rs1 << 15 | 3 << 12 | rd << 7 | 0x2f
    }
    static func addi(_ rd: UInt32, _ rs1: UInt32, _ imm: Int32) -> UInt32 {
        (UInt32(bitPattern: imm) & 0xfff) << 20 | rs1 << 15 | rd << 7 | 0x13
    }
    static func bnez(_ rs1: UInt32, _ offset: Int32) -> UInt32 {
        let i = UInt32(bitPattern: offset)
        return (i >> 12 & 1) << 31 | (i >> 5 & 0x3f) << 25 | rs1 << 15 | 1 << 12 | (i >> 1 & 0xf) << 8 | (i >> 11 & 1) << 7 | 0x63
    }
    static let spin: UInt32 = 0x0000_006f   // j .

    /// amoadd.d x0, t0, (a0); count down a1.
    static let amoLoop = [amo(0, rd: 0, rs1: 10, rs2: 5), addi(11, 11, -1), bnez(11, -8), spin]
    /// lr.d t1, (a0); addi t1, t1, 1; sc.d t2, t1, (a0); bnez t2, retry; count down a1.
    static let lrscLoop = [amo(2, rd: 6, rs1: 10, rs2: 0), addi(6, 6, 1), amo(3, rd: 7, rs1: 10, rs2: 6), bnez(7, -12),
                           addi(11, 11, -1), bnez(11, -20), spin]
    /// ld t1, 0(a0); addi t1, t1, 1; sd t1, 0(a0): not atomic.
    static let plainLoop: [UInt32] = [0x0005_3303, addi(6, 6, 1), 0x0065_3023, addi(11, 11, -1), bnez(11, -16), spin]

    /// Runs `program` on `harts` harts, each on its own thread, `iterations` times each; returns the counter.
    func race(_ program: [UInt32], harts: Int, iterations: UInt64) throws -> UInt64 {
        let ram = try GuestRAM(base: Self.base, size: 1 << 20)
        ram.copyIn(Self.base, program.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } })
        let all = (0..<harts).map { i -> Hart in
            // Each hart its own code cache: the shared-cache path is the single-thread run loop's.
            let h = Hart(id: i, ram: ram, bus: NullBus(), time: TimeBase(), code: CodeCache(ram: ram))
            h.reset(pc: Self.base)
            h.x[10] = Self.counter; h.x[11] = iterations; h.x[5] = 1
            return h
        }
        // One host thread per hart (harts may outnumber the host's cores), released together.
        let ready = Atomic<Int>(0)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) let harts = all
        for i in 0..<harts.count {
            let thread = Thread {
                let h = harts[i]
                ready.add(1, ordering: .sequentiallyConsistent)
                while ready.load(ordering: .sequentiallyConsistent) < harts.count { sched_yield() }
                var rounds = 0
                while h.x[11] != 0 && rounds < 20_000 { _ = h.run(50_000); rounds += 1 }
                done.signal()
            }
            thread.start()
        }
        for _ in 0..<harts.count { done.wait() }
        for h in all where h.x[11] != 0 {
            XCTFail("hart \(h.id) did not finish: pc 0x\(String(h.pc, radix: 16)), a1 \(h.x[11]), traps \(h.trapsTaken), mcause \(h.mcause)")
        }
        return ram.read(Self.counter, as: UInt64.self) ?? 0
    }

    func testAMOsAreAtomicAcrossHostThreads() throws {
        let n: UInt64 = 2_000_000
        XCTAssertEqual(try race(Self.amoLoop, harts: 2, iterations: n), 2 * n)
        XCTAssertEqual(try race(Self.amoLoop, harts: 4, iterations: n / 2), 2 * n)
    }

    func testLRSCIsAtomicAcrossHostThreads() throws {
        let n: UInt64 = 1_000_000
        XCTAssertEqual(try race(Self.lrscLoop, harts: 2, iterations: n), 2 * n)
        XCTAssertEqual(try race(Self.lrscLoop, harts: 3, iterations: n / 2), 3 * n / 2)
    }

    func testPlainStoresRaceAcrossHostThreads() throws {
        // Long enough (~0.1 s of translated code) that the two threads surely overlap on a busy host.
        let n: UInt64 = 20_000_000
        XCTAssertLessThan(try race(Self.plainLoop, harts: 2, iterations: n), 2 * n,
                          "a load/add/store loop on two host threads should lose updates; if it never does, the atomics tests prove nothing")
    }
}
