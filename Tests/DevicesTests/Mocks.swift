import XCTest
import Platform
import RISCV
import Devices
import Backends

final class MockHart: InterruptTarget {
    var mip: UInt64 = 0
    var calls = 0
    func setInterruptLevel(_ mask: UInt64, _ level: Bool) {
        calls += 1
        if level { mip |= mask } else { mip &= ~mask }
    }
    func has(_ bit: UInt64) -> Bool { mip & bit != 0 }
}

final class RAMDevice: MMIODevice {
    var bytes: [UInt8]
    init(size: Int) { bytes = Array(repeating: 0, count: size) }
    func read(_ offset: UInt64, size: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<size { v |= UInt64(bytes[Int(offset) + i]) << UInt64(8 * i) }
        return v
    }
    func write(_ offset: UInt64, size: Int, value: UInt64) {
        for i in 0..<size { bytes[Int(offset) + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * i)) }
    }
}

/// Deterministic PRNG for fuzz-style tests.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

func saved(_ d: Stateful) -> [UInt8] {
    var w = StateWriter()
    d.saveState(&w)
    return w.bytes
}

func load(_ d: Stateful, _ bytes: [UInt8]) throws {
    var r = StateReader(bytes)
    try d.loadState(&r)
    XCTAssertTrue(r.atEnd)
}

/// Every strict prefix of a saved state must be rejected with StateError.
func assertTruncationsThrow(_ make: () -> Stateful, _ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
    for n in 0..<bytes.count {
        let d = make()
        var r = StateReader(Array(bytes.prefix(n)))
        XCTAssertThrowsError(try d.loadState(&r), "prefix of \(n) bytes loaded", file: file, line: line) {
            XCTAssertTrue($0 is StateError, file: file, line: line)
        }
    }
}

/// Random corruption must throw or load, never trap; afterwards the device must still work.
func corruptionDoesNotTrap(_ make: () -> Stateful & MMIODevice, _ bytes: [UInt8], span: UInt64) {
    var rng = SplitMix(state: 42)
    for _ in 0..<300 {
        var b = bytes
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let i = Int.random(in: 0..<b.count, using: &rng)
            b[i] = UInt8.random(in: 0...255, using: &rng)
        }
        let d = make()
        var r = StateReader(b)
        _ = try? d.loadState(&r)
        for _ in 0..<20 {
            let off = UInt64.random(in: 0..<span, using: &rng)
            let size = [1, 2, 4, 8].randomElement(using: &rng)!
            _ = d.read(off, size: size)
            d.write(off, size: size, value: rng.next())
        }
    }
}

/// Random accesses of every size (including invalid ones) at any offset must not trap.
func fuzzAccesses(_ d: MMIODevice, span: UInt64, count: Int = 20000, seed: UInt64 = 1) {
    var rng = SplitMix(state: seed)
    for i in 0..<count {
        let off: UInt64 = i % 4 == 0 ? rng.next() : UInt64.random(in: 0..<span, using: &rng)
        let size = [1, 2, 4, 8, 3, 0, 16].randomElement(using: &rng)!
        if rng.next() & 1 == 0 { _ = d.read(off, size: size) } else { d.write(off, size: size, value: rng.next()) }
    }
}
