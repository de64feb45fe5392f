// Bit manipulation (Zba, Zbb, Zbc, Zbs; unprivileged spec chapter "B" Extension) and Zicond.
// One function per definition in the spec's pseudocode; `a` is rs1, `b` rs2 (or the shift amount).

@inline(__always) private func sx(_ v: UInt64, _ bits: UInt64) -> UInt64 {
    UInt64(bitPattern: Int64(bitPattern: v << (64 - bits)) >> Int64(64 - bits))
}

/// Carry-less multiply: the low (clmul), high (clmulh) or bits 126:63 (clmulr) of the 128-bit product.
@inline(never) func carrylessMultiply(_ a: UInt64, _ b: UInt64) -> (low: UInt64, high: UInt64) {
    var lo: UInt64 = 0, hi: UInt64 = 0
    var m = b
    while m != 0 {
        let i = UInt64(m.trailingZeroBitCount)
        lo ^= a << i
        if i != 0 { hi ^= a >> (64 - i) }
        m &= m &- 1
    }
    return (lo, hi)
}

extension Hart {
    /// The result of a bit-manipulation or conditional-zero op on rs1 = `a`, rs2 = `b`, immediate `imm`.
    /// Not inlined: a second switch inside the interpreter's loop costs the other instructions' registers
    /// (the JIT runs these ops where they are hot).
    @inline(never)
    static func bitManip(_ op: Op, _ a: UInt64, _ b: UInt64, _ imm: Int32) -> UInt64 {
        let shamt = UInt64(imm) & 63
        switch op {
        case .andn: return a & ~b
        case .orn: return a | ~b
        case .xnor: return ~(a ^ b)
        case .clz: return UInt64(a.leadingZeroBitCount)
        case .clzw: return UInt64(UInt32(truncatingIfNeeded: a).leadingZeroBitCount)
        case .ctz: return UInt64(a.trailingZeroBitCount)
        case .ctzw: return UInt64(UInt32(truncatingIfNeeded: a).trailingZeroBitCount)
        case .cpop: return UInt64(a.nonzeroBitCount)
        case .cpopw: return UInt64(UInt32(truncatingIfNeeded: a).nonzeroBitCount)
        case .max: return Int64(bitPattern: a) < Int64(bitPattern: b) ? b : a
        case .maxu: return a < b ? b : a
        case .min: return Int64(bitPattern: a) < Int64(bitPattern: b) ? a : b
        case .minu: return a < b ? a : b
        case .sextB: return sx(a, 8)
        case .sextH: return sx(a, 16)
        case .zextH: return a & 0xffff
        case .rol: let s = b & 63; return a << s | a >> ((64 - s) & 63)
        case .ror: let s = b & 63; return a >> s | a << ((64 - s) & 63)
        case .rori: return a >> shamt | a << ((64 - shamt) & 63)
        case .rolw, .rorw, .roriw:
            let w = UInt32(truncatingIfNeeded: a)
            var s = UInt32(truncatingIfNeeded: op == .roriw ? shamt : b) & 31
            if op == .rolw { s = (32 - s) & 31 }
            return sx(UInt64(w >> s | w << ((32 - s) & 31)), 32)
        case .orcB:
            var r: UInt64 = 0
            for i in stride(from: UInt64(0), to: 64, by: 8) where (a >> i) & 0xff != 0 { r |= 0xff << i }
            return r
        case .rev8: return a.byteSwapped
        case .sh1add: return b &+ (a << 1)
        case .sh2add: return b &+ (a << 2)
        case .sh3add: return b &+ (a << 3)
        case .sh1addUW: return b &+ ((a & 0xffff_ffff) << 1)
        case .sh2addUW: return b &+ ((a & 0xffff_ffff) << 2)
        case .sh3addUW: return b &+ ((a & 0xffff_ffff) << 3)
        case .addUW: return b &+ (a & 0xffff_ffff)
        case .slliUW: return (a & 0xffff_ffff) << shamt
        case .clmul: return carrylessMultiply(a, b).low
        case .clmulh: return carrylessMultiply(a, b).high
        case .clmulr: let p = carrylessMultiply(a, b); return p.low >> 63 | p.high << 1
        case .bclr: return a & ~(1 << (b & 63))
        case .bclri: return a & ~(1 << shamt)
        case .bext: return (a >> (b & 63)) & 1
        case .bexti: return (a >> shamt) & 1
        case .binv: return a ^ (1 << (b & 63))
        case .binvi: return a ^ (1 << shamt)
        case .bset: return a | (1 << (b & 63))
        case .bseti: return a | (1 << shamt)
        case .czeroEqz: return b == 0 ? 0 : a
        case .czeroNez: return b != 0 ? 0 : a
        default: return 0
        }
    }
}
