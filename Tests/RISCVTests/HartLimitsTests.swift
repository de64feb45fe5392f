import XCTest
import Foundation
import Platform
import RISCV

/// Answers loads and stores at one device address only.
final class OneRegisterBus: PhysicalBus {
    let address: UInt64
    var value: UInt64 = 0x1234
    init(address: UInt64) { self.address = address }
    func load(_ addr: UInt64, size: Int) -> UInt64? { addr == address ? value : nil }
    func store(_ addr: UInt64, size: Int, value: UInt64) -> Bool {
        guard addr == address else { return false }
        self.value = value
        return true
    }
}

/// Bounds on `Hart.run` (every trap uses a step), counter writes, unmapped-access accounting and the cost
/// of a large RAM.
final class HartLimitsTests: XCTestCase {
    static let base: UInt64 = 0x8000_0000
    static let device: UInt64 = 0x1000_0000
    // Encodings
    static let illegal: UInt32 = 0x0000_0000
    static let nop: UInt32 = 0x0000_0013
    static let mret: UInt32 = 0x3020_0073
    static let wfi: UInt32 = 0x1050_0073
    static func addi(_ rd: UInt32, _ rs1: UInt32, _ imm: Int32) -> UInt32 {
        (UInt32(bitPattern: imm) & 0xfff) << 20 | rs1 << 15 | rd << 7 | 0x13
    }
    static func csr(_ n: UInt32, _ rs1: UInt32, _ f3: UInt32, _ rd: UInt32) -> UInt32 {
        n << 20 | rs1 << 15 | f3 << 12 | rd << 7 | 0x73
    }
    static func csrr(_ rd: UInt32, _ n: UInt32) -> UInt32 { csr(n, 0, 2, rd) }       // csrrs rd, n, x0
    static func csrwi(_ n: UInt32, _ v: UInt32) -> UInt32 { csr(n, v, 5, 0) }        // csrrwi x0, n, v
    static func csrw(_ n: UInt32, _ rs1: UInt32) -> UInt32 { csr(n, rs1, 1, 0) }     // csrrw x0, n, rs1
    static func ld(_ rd: UInt32, _ rs1: UInt32, _ imm: Int32) -> UInt32 {
        (UInt32(bitPattern: imm) & 0xfff) << 20 | rs1 << 15 | 3 << 12 | rd << 7 | 0x03
    }
    static func sd(_ rs2: UInt32, _ rs1: UInt32, _ imm: Int32) -> UInt32 {
        let u = UInt32(bitPattern: imm) & 0xfff
        return (u >> 5) << 25 | rs2 << 20 | rs1 << 15 | 3 << 12 | (u & 31) << 7 | 0x23
    }

    func makeHart(ramSize: UInt64 = 1 << 20, bus: PhysicalBus = NullBus(), program: [UInt32], at addr: UInt64 = base) -> Hart {
        let ram = try! GuestRAM(base: HartLimitsTests.base, size: ramSize)
        let h = Hart(id: 0, ram: ram, bus: bus, time: TimeBase(), code: CodeCache(ram: ram))
        load(h, program, at: addr)
        h.reset(pc: addr)
        return h
    }
    func load(_ h: Hart, _ program: [UInt32], at addr: UInt64) {
        h.ram.copyIn(addr, program.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } })
    }

    // MARK: Every path returns within the budget

    func testTrapStormOutsideRAMReturnsWithinBudget() {
        let h = makeHart(program: [HartLimitsTests.illegal])
        XCTAssertTrue(h.csrWrite(CSR.mtvec, 0))   // nothing there: fetch access faults at pc 0 forever
        XCTAssertEqual(h.run(1000), 1000)
        XCTAssertEqual(h.trapsTaken, 1000)
        XCTAssertEqual(h.instret, 0)
        XCTAssertEqual(h.mcause, Cause.fetchAccess)
        XCTAssertEqual(h.pc, 0)
        XCTAssertEqual(h.unmappedAccesses, 999, "every fetch at pc 0 finds nothing")
        XCTAssertEqual(h.lastUnmappedAddress, 0)
        XCTAssertEqual(h.run(1), 1)
        XCTAssertEqual(h.trapsTaken, 1001)
        XCTAssertEqual(h.run(0), 0)
    }

    /// PAUSE (and Zawrs's WRS.NTO/STO) retire and end the slice: a spinning hart hands the host thread
    /// to the others. A plain FENCE does not.
    func testPauseYieldsTheSlice() {
        let pause: UInt32 = 0x0100_000f, fence: UInt32 = 0x0ff0_000f, wrsNTO: UInt32 = 0x00d0_0073
        let jumpBack: UInt32 = 0xff5f_f06f   // jal x0, -12: loop over the three instructions before it
        for hint in [pause, wrsNTO] {
            let h = makeHart(program: [HartLimitsTests.addi(5, 5, 1), hint, HartLimitsTests.nop, jumpBack])
            XCTAssertEqual(h.run(1000), 2, "addi and the hint retire, then the slice ends")
            XCTAssertEqual(h.x[5], 1)
            XCTAssertEqual(h.pc, HartLimitsTests.base + 8)
            XCTAssertEqual(h.run(1000), 4, "the rest of the loop, the next addi and the hint")
            XCTAssertEqual(h.x[5], 2)
        }
        let h = makeHart(program: [HartLimitsTests.addi(5, 5, 1), fence, HartLimitsTests.nop, 0xff5f_f06f])
        XCTAssertEqual(h.run(1000), 1000, "FENCE is no hint")
    }

    func testTrapStormInRAMReturnsWithinBudget() {
        let h = makeHart(program: [HartLimitsTests.illegal])
        XCTAssertTrue(h.csrWrite(CSR.mtvec, HartLimitsTests.base))   // the handler is the illegal instruction
        for jit in [true, false] {
            h.code.jitEnabled = jit
            let before = h.trapsTaken
            XCTAssertEqual(h.run(500), 500)
            XCTAssertEqual(h.trapsTaken - before, 500)
        }
        XCTAssertEqual(h.instret, 0)
        XCTAssertEqual(h.mcause, Cause.illegal)
        XCTAssertEqual(h.unmappedAccesses, 0)
    }

    func testBudgetCountsInstructionsAndTraps() {
        // Three addi, then an illegal instruction whose handler is the start again: 4 steps a round.
        let a = HartLimitsTests.addi(10, 10, 1)
        let h = makeHart(program: [a, a, a, HartLimitsTests.illegal])
        XCTAssertTrue(h.csrWrite(CSR.mtvec, HartLimitsTests.base))
        XCTAssertEqual(h.run(10), 10)
        XCTAssertEqual(h.instret, 8)
        XCTAssertEqual(h.trapsTaken, 2)
        XCTAssertEqual(h.x[10], 8)
    }

    func testInterruptStormReturnsWithinBudget() {
        // The handler is an mret that returns with interrupts enabled again: the timer interrupt (a level
        // that nothing clears) is taken again at once. Each round is one interrupt and one mret.
        let h = makeHart(program: [HartLimitsTests.mret])
        XCTAssertTrue(h.csrWrite(CSR.mtvec, HartLimitsTests.base))
        XCTAssertTrue(h.csrWrite(CSR.mie, IRQ.mtip))
        XCTAssertTrue(h.csrWrite(CSR.mstatus, MStatus.mie | MStatus.mpp))   // MPP = M: mret stays in M
        h.setInterruptLevel(IRQ.mtip, true)
        XCTAssertEqual(h.run(100), 100)
        XCTAssertEqual(h.trapsTaken, 50)
        XCTAssertEqual(h.instret, 50)
        XCTAssertEqual(h.mcause, Cause.interruptBit | 7)
        // And with the handler outside RAM: one interrupt, then fetch faults (MIE is clear in the handler).
        XCTAssertTrue(h.csrWrite(CSR.mtvec, 0))
        XCTAssertTrue(h.csrWrite(CSR.mstatus, MStatus.mie))
        XCTAssertEqual(h.run(100), 100)
        XCTAssertEqual(h.trapsTaken, 150)
        XCTAssertEqual(h.mcause, Cause.fetchAccess)
    }

    func testWFIReturns() {
        let h = makeHart(program: [HartLimitsTests.wfi, HartLimitsTests.nop])
        XCTAssertEqual(h.run(1000), 1)
        XCTAssertTrue(h.waitingForInterrupt)
        XCTAssertEqual(h.run(1000), 0, "waiting: no progress, back at once")
        XCTAssertEqual(h.trapsTaken, 0)
    }

    // MARK: minstret / mcycle writes

    func testCounterWritesAreReadBackExactly() {
        typealias T = HartLimitsTests
        let big: UInt64 = 0x7edc_ba98_7654_3210
        let program: [UInt32] = [
            T.csrwi(0xb02, 0), T.csrr(10, 0xb02),      // csrwi minstret, 0; csrr a0, minstret
            T.csrwi(0xb00, 0), T.csrr(11, 0xb00),      // csrwi mcycle, 0; csrr a1, mcycle
            T.csrw(0xb02, 5), T.csrr(12, 0xb02),       // csrw minstret, t0; csrr a2, minstret
            T.csrr(13, 0xc02),                         // csrr a3, instret
            T.nop, T.nop, T.csrr(14, 0xb02),           // two more retired: a4 = big + 4
            T.csrw(0xb00, 5), T.csrr(15, 0xc00),       // csrw mcycle, t0; csrr a5, cycle
            T.illegal,
        ]
        for stepwise in [false, true] {
            let h = makeHart(program: program)
            h.x[5] = big
            if stepwise {
                for _ in 0..<12 { XCTAssertEqual(h.run(1), 1) }
            } else {
                XCTAssertEqual(h.run(12), 12)
            }
            XCTAssertEqual(h.x[10], 0, "minstret after writing 0 (stepwise \(stepwise))")
            XCTAssertEqual(h.x[11], 0, "mcycle after writing 0")
            XCTAssertEqual(h.x[12], big, "minstret after writing big")
            XCTAssertEqual(h.x[13], big + 1, "instret one instruction later")
            XCTAssertEqual(h.x[14], big + 4)
            XCTAssertEqual(h.x[15], big)
            XCTAssertEqual(h.pc, HartLimitsTests.base + 48)
        }
        // Written from outside an instruction (the machine, a debugger), the next read sees the value too.
        let h = makeHart(program: [])
        XCTAssertTrue(h.csrWrite(CSR.minstret, 42))
        XCTAssertEqual(h.csrRead(CSR.minstret), 42)
        XCTAssertTrue(h.csrWrite(CSR.mcycle, 7))
        XCTAssertEqual(h.csrRead(CSR.mcycle), 7)
        // RV64: no high halves.
        for n: UInt16 in [0xb80, 0xb82, 0xc80, 0xc81, 0xc82] {
            XCTAssertNil(h.csrRead(n), "CSR 0x\(String(n, radix: 16))")
            XCTAssertFalse(h.csrWrite(n, 0), "CSR 0x\(String(n, radix: 16))")
        }
    }

    func testTrappingSystemInstructionsDoNotRetire() {
        // An ecall whose handler is the two nops after it.
        let h = makeHart(program: [0x0000_0073, HartLimitsTests.nop, HartLimitsTests.nop])
        XCTAssertTrue(h.csrWrite(CSR.mtvec, HartLimitsTests.base + 4))
        XCTAssertEqual(h.run(3), 3)   // the ecall's trap, then two nops
        XCTAssertEqual(h.trapsTaken, 1)
        XCTAssertEqual(h.instret, 2)
        XCTAssertEqual(h.mcause, Cause.ecallM)
    }

    // MARK: Unmapped physical accesses

    func testUnmappedAccessesAreCounted() {
        typealias T = HartLimitsTests
        let bus = OneRegisterBus(address: T.device)
        // ld a0, 0(t0); sd a0, 8(t1); ld a1, 0(t2) (the device: answered); sd a1, 0(t2); ld a2, 0(s0)
        let h = makeHart(bus: bus, program: [T.ld(10, 5, 0), T.sd(10, 6, 8), T.ld(11, 7, 0), T.sd(11, 7, 0), T.ld(12, 8, 0)])
        XCTAssertTrue(h.csrWrite(CSR.mtvec, HartLimitsTests.base + 4))   // the next instruction
        h.x[5] = 0x4000_0000; h.x[6] = 0x5000_0000; h.x[7] = T.device; h.x[8] = T.base + 0x100
        XCTAssertEqual(h.run(1), 1)
        XCTAssertEqual(h.mcause, Cause.loadAccess)
        XCTAssertEqual(h.unmappedAccesses, 1)
        XCTAssertEqual(h.lastUnmappedAddress, 0x4000_0000)
        XCTAssertTrue(h.csrWrite(CSR.mtvec, HartLimitsTests.base + 8))
        XCTAssertEqual(h.run(1), 1)
        XCTAssertEqual(h.mcause, Cause.storeAccess)
        XCTAssertEqual(h.unmappedAccesses, 2)
        XCTAssertEqual(h.lastUnmappedAddress, 0x5000_0008)
        XCTAssertEqual(h.run(3), 3, "device and RAM accesses do not fault")
        XCTAssertEqual(h.x[11], 0x1234)
        XCTAssertEqual(h.unmappedAccesses, 2)
        XCTAssertEqual(h.trapsTaken, 2)
    }

    func testUnmappedPageTableIsCounted() {
        // M-mode with MPRV (MPP = S): data accesses go through an Sv39 root table outside RAM.
        let h = makeHart(program: [HartLimitsTests.ld(10, 0, 0), HartLimitsTests.nop])
        XCTAssertTrue(h.csrWrite(CSR.pmpaddr0, (1 << 54) - 1))
        XCTAssertTrue(h.csrWrite(CSR.pmpcfg0, 0x1f))
        XCTAssertTrue(h.csrWrite(CSR.satp, 8 << 60 | 0x4000_0000 >> 12))
        XCTAssertTrue(h.csrWrite(CSR.mstatus, MStatus.mprv | 1 << MStatus.mppShift))
        XCTAssertTrue(h.csrWrite(CSR.mtvec, HartLimitsTests.base + 4))
        XCTAssertEqual(h.run(1), 1)
        XCTAssertEqual(h.mcause, Cause.loadAccess)
        XCTAssertEqual(h.unmappedAccesses, 1)
        XCTAssertEqual(h.lastUnmappedAddress, 0x4000_0000)
    }

    // MARK: A large RAM costs nothing up front

    static func residentBytes() -> Int? {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count >= 2, let pages = Int(fields[1]) else { return nil }
        return pages * Int(getpagesize())
    }

    func testHugeRAMAndCodeCacheAreLazy() throws {
        guard let before = HartLimitsTests.residentBytes() else { throw XCTSkip("needs /proc/self/statm") }
        let size: UInt64 = 64 << 30
        let ram = try GuestRAM(base: HartLimitsTests.base, size: size)
        let code = CodeCache(ram: ram)
        let h = Hart(id: 0, ram: ram, bus: NullBus(), time: TimeBase(), code: code)
        let created = HartLimitsTests.residentBytes()! - before
        // Run code on the last page of RAM: the tables are indexed there too.
        let last = HartLimitsTests.base + size - 4096
        let a = HartLimitsTests.addi(10, 10, 1)
        load(h, [a, a, a, HartLimitsTests.illegal], at: last)
        h.reset(pc: last)
        XCTAssertTrue(h.csrWrite(CSR.mtvec, last))
        XCTAssertEqual(h.run(40), 40)
        XCTAssertEqual(h.x[10], 30)
        // Code written after it was decoded is seen, and a whole-cache invalidation visits only code pages.
        load(h, [HartLimitsTests.addi(10, 10, 2)], at: last)
        XCTAssertEqual(h.run(4), 4)
        XCTAssertEqual(h.x[10], 30 + 2 + 1 + 1)
        code.jitEnabled = false   // invalidateAll
        XCTAssertEqual(h.run(4), 4)
        let used = HartLimitsTests.residentBytes()! - before
        print("64 GiB RAM + code cache + hart: \(created >> 10) KiB resident after creation, \(used >> 10) KiB after running")
        // Eager per-page tables would be 17 bytes per page: 272 MiB here.
        XCTAssertLessThan(created, 32 << 20)
        XCTAssertLessThan(used, 48 << 20)
    }
}
