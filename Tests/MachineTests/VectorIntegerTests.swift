import XCTest
import Foundation
import Machine

/// Vector integer arithmetic, compares, merges, fixed-point (against QEMU 7.2) and Zvbb (against the
/// spec's definitions computed here: QEMU 7.2 has no Zvbb).
extension VectorDifferentialTests {
    /// Single-width, carry, compare, merge/move, widening, narrowing and extension instructions, masked
    /// and not, with vsetvli in between.
    func testIntegerArithmeticMatchesQEMU() throws {
        for seed: UInt64 in 1...6 {
            try compareVectorBlocks(seed: 0x1a7 &+ seed, blocks: 40, what: "integer arithmetic, seed \(seed)") { v in
                var s = "    " + v.vset()
                for _ in 0..<12 {
                    let line: String
                    switch v.below(16) {
                    case 0: line = v.vset()
                    case 1...3: let (n, f) = VectorGenerator.intSingleOps.randomElement(&v.g); line = v.intSingle(n, f)
                    case 4: let (n, f) = VectorGenerator.intMulAddOps.randomElement(&v.g); line = v.intSingle(n, f, mulAdd: true)
                    case 5: line = v.intCarry()
                    case 6, 7: line = v.intCompare()
                    case 8: line = v.intMerge()
                    case 9, 10: line = v.intWidening()
                    case 11: line = v.intNarrowing(VectorGenerator.narrowOps)
                    case 12: line = v.intExtension()
                    case 13: let (n, f) = VectorGenerator.fixedPointOps.randomElement(&v.g); line = v.intSingle(n, f)
                    case 14:                                           // resuming at a nonzero vstart
                        let (n, f) = VectorGenerator.intSingleOps.randomElement(&v.g)
                        line = v.withVstart(v.below(3) == 0 ? v.intCompare() : v.intSingle(n, f))
                    default: let (n, f) = VectorGenerator.intSingleOps.randomElement(&v.g); line = v.intSingle(n, f)
                    }
                    s += "    " + line
                }
                return s
            }
        }
    }

    /// Saturating add/subtract, averaging add/subtract, vsmul, scaling shifts and vnclip(u), under every
    /// vxrm (the harness sets a random one per block; csrwi vxrm changes it within blocks).
    func testFixedPointMatchesQEMU() throws {
        for seed: UInt64 in 1...6 {
            try compareVectorBlocks(seed: 0xf1d &+ seed, blocks: 40, what: "fixed point, seed \(seed)") { v in
                var s = "    " + v.vset()
                for _ in 0..<12 {
                    let line: String
                    switch v.below(10) {
                    case 0: line = v.vset()
                    case 1: line = "csrwi vxrm, \(v.below(4))\n"
                    case 2: line = v.intNarrowing([("vnclipu", "VXI"), ("vnclip", "VXI")])
                    case 3: line = v.intMerge()
                    default: let (n, f) = VectorGenerator.fixedPointOps.randomElement(&v.g); line = v.intSingle(n, f)
                    }
                    s += "    " + line
                }
                return s
            }
        }
    }

    /// Reserved encodings and illegal register groups of the integer family trap on both sides alike
    /// (one program per case: the trap ends the run). Zvbb (absent from QEMU 7.2) is switched off here.
    func testIntegerIllegalEncodingsTrapAsQEMU() throws {
        typealias E = VectorGenerator
        let cases: [(String, String, UInt32)] = [
            ("misaligned vd at m2", "e8, m2", E.encode(0x00, vm: 1, vs2: 2, vs1: 4, f3: 0, vd: 1)),
            ("vwadd.vv at e64", "e64, m1", E.encode(0x31, vm: 1, vs2: 4, vs1: 6, f3: 2, vd: 2)),
            ("vwadd.vv at m8", "e8, m8", E.encode(0x31, vm: 1, vs2: 8, vs1: 16, f3: 2, vd: 0)),
            ("vadc with vm=1", "e8, m1", E.encode(0x10, vm: 1, vs2: 2, vs1: 3, f3: 0, vd: 4)),
            ("vmv.v.v with vs2 != 0", "e16, m1", E.encode(0x17, vm: 1, vs2: 5, vs1: 3, f3: 0, vd: 4)),
            ("masked vadd writing v0", "e32, m1", E.encode(0x00, vm: 0, vs2: 2, vs1: 3, f3: 0, vd: 0)),
            ("vmerge writing v0", "e32, m1", E.encode(0x17, vm: 0, vs2: 2, vs1: 3, f3: 0, vd: 0)),
            ("vnsrl vd on the high half of vs2", "e8, m1", E.encode(0x2c, vm: 1, vs2: 2, vs1: 1, f3: 0, vd: 3)),
            ("vwadd vd on the low half source", "e8, m1", E.encode(0x31, vm: 1, vs2: 2, vs1: 6, f3: 2, vd: 2)),
            ("vwadd fractional overlap", "e8, mf2", E.encode(0x31, vm: 1, vs2: 3, vs1: 6, f3: 2, vd: 3)),
            ("vmseq vd inside vs2 not lowest", "e8, m2", E.encode(0x18, vm: 1, vs2: 2, vs1: 4, f3: 0, vd: 3)),
            ("vmsltu.vi", "e8, m1", E.encode(0x1a, vm: 1, vs2: 2, vs1: 5, f3: 3, vd: 1)),
            ("vzext.vf8 at e32", "e32, m1", E.encode(0x12, vm: 1, vs2: 2, vs1: 2, f3: 2, vd: 4)),
            ("vsext.vf2 vd == vs2", "e16, m1", E.encode(0x12, vm: 1, vs2: 4, vs1: 7, f3: 2, vd: 4)),
            ("vwmaccus.vv", "e8, m1", E.encode(0x3e, vm: 1, vs2: 2, vs1: 4, f3: 2, vd: 6)),
            ("vandn.vv without Zvbb", "e8, m1", E.encode(0x01, vm: 1, vs2: 2, vs1: 4, f3: 0, vd: 6)),
        ]
        for (what, vtype, word) in cases {
            var v = VectorGenerator(g: RNG(s: UInt64(word) | 1))
            let source = VectorProgram.program(blocks: 1, generator: &v) { v in
                var s = "    " + v.vset()
                s += "    " + v.intSingle("vadd", "vxi")
                s += "    li t2, 5\n    vsetvli x0, t2, \(vtype), tu, mu\n    .word 0x\(String(word, radix: 16))\n"
                return s
            }
            let elf = try compile(source, march: "rv64gcv")
            let expected = try qemuTranscript(elf, cpu: VectorProgram.qemuCPU)
            let actual = try matryoshkaTranscript(elf, cpu: "max,zvbb=off", jit: true)
            XCTAssertTrue(expected.hasPrefix("T\n0000000000000002\n"), "\(what): QEMU did not take an illegal-instruction trap:\n\(expected.prefix(200))")
            VectorProgram.assertSame(expected, actual, what, source: source)
        }
        // vill set: every arithmetic instruction is illegal.
        var v = VectorGenerator(g: RNG(s: 77))
        let source = VectorProgram.program(blocks: 1, generator: &v) { _ in
            "    li t1, 0x100\n    vsetvl x0, x0, t1\n    vadd.vv v1, v2, v3\n"
        }
        let elf = try compile(source, march: "rv64gcv")
        VectorProgram.assertSame(try qemuTranscript(elf, cpu: VectorProgram.qemuCPU), try matryoshkaTranscript(elf, cpu: "max", jit: true),
                                 "vadd with vill", source: source)
    }

    /// Zvbb under Matryoshka against the spec's definitions (§"Zvbb"): vandn, vbrev, vbrev8, vrev8,
    /// vclz, vctz, vcpop.v, vrol, vror (.vi with a 6-bit immediate), vwsll; masked and with random vl
    /// (masked-off and tail elements stay zero). Sources are v1 (vs2), v31 (vs1), v0 (mask), t3 (rs1).
    func testZvbbMatchesSpec() throws {
        for seed: UInt64 in 1...4 {
            var g = RNG(s: 0x2bb0 &+ seed &* 0x9e37_79b9)
            func bytes16() -> [UInt8] { (0..<16).map { _ in UInt8(truncatingIfNeeded: QEMUDifferentialTests.randomValue(&g) >> UInt64(8 * g.below(8))) } }
            let v1 = bytes16(), v31 = bytes16(), v0 = bytes16()
            var body = "    li t2, -1\n    vsetvli x0, t2, e8, m1, tu, mu\n"
            for (r, b) in [(1, v1), (31, v31), (0, v0)] {
                for (k, byte) in b.enumerated() { body += "    li t0, \(byte)\n    sb t0, \(k)(s0)\n" }
                body += "    vle8.v v\(r), (s0)\n"
            }
            var expected: [(reg: Int, bytes: [UInt8], what: String)] = []
            for vd in 2...29 {
                let kind = g.below(16)                     // 0-5 unary, 6-7 vandn, 8-9 vrol, 10-12 vror, 13-15 vwsll
                let wide = kind >= 13
                let sewBytes = 1 << g.below(wide ? 3 : 4)
                let vlmax = wide ? 8 / sewBytes : 16 / sewBytes
                let vl = g.below(vlmax + 2) > vlmax ? vlmax : g.below(vlmax + 1)
                let masked = g.below(3) == 0
                let form = kind < 6 ? 0 : g.below(kind >= 10 ? 3 : 2)   // 0 .vv, 1 .vx, 2 .vi
                let scalar = QEMUDifferentialTests.randomValue(&g)
                let imm = g.below(kind >= 13 ? 32 : 64)
                let unary = [8, 9, 10, 12, 13, 14][min(kind, 5)]
                let f6: UInt32 = kind < 6 ? 0x12 : kind < 8 ? 0x01 : kind < 10 ? 0x15 : kind < 13 ? (form == 2 ? 0x14 | UInt32(imm >> 5) : 0x14) : 0x35
                let f3: UInt32 = kind < 6 ? 2 : [0, 4, 3][form]
                let vs1 = kind < 6 ? unary : [31, 28, imm & 31][form]
                let word = VectorGenerator.encode(f6, vm: masked ? 0 : 1, vs2: 1, vs1: vs1, f3: f3, vd: vd)
                body += "    vsetvli x0, t2, e8, m1, tu, mu\n    vmv.v.i v\(vd), 0\n"
                body += "    li t3, 0x\(String(scalar, radix: 16))\n    li t4, \(vl)\n"
                body += "    vsetvli x0, t4, e\(8 * sewBytes), \(wide ? "mf2" : "m1"), tu, mu\n    .word 0x\(String(word, radix: 16))\n"
                // The expected register by the spec definitions, element by element.
                var out = [UInt8](repeating: 0, count: 16)
                let bits = 8 * sewBytes
                func element(_ b: [UInt8], _ i: Int, _ n: Int) -> UInt64 { (0..<n).reduce(0) { $0 | UInt64(b[i * n + $1]) << (8 * $1) } }
                for i in 0..<vl where !masked || v0[i / 8] >> (i % 8) & 1 != 0 {
                    let a = element(v1, i, sewBytes)
                    let b = [element(v31, i, sewBytes), scalar & (bits == 64 ? .max : (1 << bits) - 1), UInt64(imm)][form]
                    let r = ZvbbReference.apply(kind: kind, unary: unary, a: a, b: b, bits: bits)
                    let n = wide ? 2 * sewBytes : sewBytes
                    for k in 0..<n { out[i * n + k] = UInt8(truncatingIfNeeded: r >> (8 * k)) }
                }
                expected.append((vd, out, "word 0x\(String(word, radix: 16)) (kind \(kind), form \(form), e\(bits), vl \(vl), masked \(masked), scalar 0x\(String(scalar, radix: 16)), imm \(imm))"))
            }
            var v = VectorGenerator(g: RNG(s: seed))
            let source = VectorProgram.program(blocks: 1, generator: &v) { _ in body }
            let elf = try compile(source, march: "rv64gcv")
            let lines = try matryoshkaTranscript(elf, cpu: "max", jit: true).split(separator: "\n")
            guard lines.count == VectorProgram.linesPerBlock else { XCTFail("Zvbb seed \(seed): \(lines.prefix(5))"); continue }
            for (reg, bytes, what) in expected {
                let lo = UInt64(lines[65 + 2 * reg], radix: 16) ?? 0, hi = UInt64(lines[66 + 2 * reg], radix: 16) ?? 0
                let got = (0..<16).map { UInt8(truncatingIfNeeded: ($0 < 8 ? lo : hi) >> (8 * ($0 % 8))) }
                XCTAssertEqual(got, bytes, "Zvbb seed \(seed), v\(reg): \(what)")
            }
        }
    }
}

/// Zvbb's instructions by their definitions, bit by bit (kinds as in `testZvbbMatchesSpec`).
enum ZvbbReference {
    static func bit(_ v: UInt64, _ i: Int) -> UInt64 { v >> UInt64(i) & 1 }
    static func apply(kind: Int, unary: Int, a: UInt64, b: UInt64, bits: Int) -> UInt64 {
        var r: UInt64 = 0
        switch kind {
        case 0..<6:
            switch unary {
            case 8: for i in 0..<bits { r |= bit(a, i) << UInt64(i / 8 * 8 + 7 - i % 8) }           // vbrev8
            case 9: for i in 0..<bits { r |= bit(a, i) << UInt64((bits / 8 - 1 - i / 8) * 8 + i % 8) } // vrev8
            case 10: for i in 0..<bits { r |= bit(a, i) << UInt64(bits - 1 - i) }                    // vbrev
            case 12: var n = 0; while n < bits && bit(a, bits - 1 - n) == 0 { n += 1 }; r = UInt64(n) // vclz
            case 13: var n = 0; while n < bits && bit(a, n) == 0 { n += 1 }; r = UInt64(n)            // vctz
            default: for i in 0..<bits { r += bit(a, i) }                                           // vcpop.v
            }
        case 6, 7: r = a & ~b
        case 8, 9: let n = Int(b % UInt64(bits)); for i in 0..<bits { r |= bit(a, i) << UInt64((i + n) % bits) }
        case 10..<13: let n = Int(b % UInt64(bits)); for i in 0..<bits { r |= bit(a, (i + n) % bits) << UInt64(i) }
        default: let n = Int(b % UInt64(2 * bits)); for i in 0..<bits where i + n < 2 * bits { r |= bit(a, i) << UInt64(i + n) }
        }
        return r
    }
}

extension Array {
    fileprivate func randomElement(_ g: inout JITDifferentialTests.RNG) -> Element { self[g.below(count)] }
}

/// Generators of legal integer instructions under the vtype `vset()` chose last.
extension VectorGenerator {
    /// (mnemonic, forms): v .vv, x .vx, i .vi with a signed immediate, u .vi with an unsigned one.
    static let intSingleOps: [(String, String)] = [
        ("vadd", "vxi"), ("vsub", "vx"), ("vrsub", "xi"), ("vminu", "vx"), ("vmin", "vx"), ("vmaxu", "vx"), ("vmax", "vx"),
        ("vand", "vxi"), ("vor", "vxi"), ("vxor", "vxi"), ("vsll", "vxu"), ("vsrl", "vxu"), ("vsra", "vxu"),
        ("vmul", "vx"), ("vmulh", "vx"), ("vmulhu", "vx"), ("vmulhsu", "vx"),
        ("vdivu", "vx"), ("vdiv", "vx"), ("vremu", "vx"), ("vrem", "vx"),
    ]
    /// vd, vs1/rs1, vs2 operand order.
    static let intMulAddOps: [(String, String)] = [("vmacc", "vx"), ("vnmsac", "vx"), ("vmadd", "vx"), ("vnmsub", "vx")]
    static let fixedPointOps: [(String, String)] = [
        ("vsaddu", "vxi"), ("vsadd", "vxi"), ("vssubu", "vx"), ("vssub", "vx"), ("vaaddu", "vx"), ("vaadd", "vx"),
        ("vasubu", "vx"), ("vasub", "vx"), ("vsmul", "vx"), ("vssrl", "vxu"), ("vssra", "vxu"),
    ]
    /// V .wv, X .wx, I .wi (unsigned immediate).
    static let narrowOps: [(String, String)] = [("vnsrl", "VXI"), ("vnsra", "VXI"), ("vnclipu", "VXI"), ("vnclip", "VXI")]

    /// An OP-V word.
    static func encode(_ f6: UInt32, vm: UInt32, vs2: Int, vs1: Int, f3: UInt32, vd: Int) -> UInt32 {
        f6 << 26 | vm << 25 | UInt32(vs2) << 20 | UInt32(vs1) << 15 | f3 << 12 | UInt32(vd) << 7 | 0x57
    }

    /// A scalar register, x0 an eighth of the time (zero divisors, shifts by zero).
    mutating func xOrZero() -> String { below(8) == 0 ? "x0" : x() }

    mutating func intSingle(_ name: String, _ forms: String, mulAdd: Bool = false) -> String {
        let form = Array(forms)[below(forms.count)]
        let m = mask()
        let vd = reg(notV0: !m.isEmpty), vs2 = reg()
        switch form {
        case "v":
            let vs1 = reg()
            return mulAdd ? "\(name).vv v\(vd), v\(vs1), v\(vs2)\(m)\n" : "\(name).vv v\(vd), v\(vs2), v\(vs1)\(m)\n"
        case "x": return mulAdd ? "\(name).vx v\(vd), \(xOrZero()), v\(vs2)\(m)\n" : "\(name).vx v\(vd), v\(vs2), \(xOrZero())\(m)\n"
        case "i": return "\(name).vi v\(vd), v\(vs2), \(below(32) - 16)\(m)\n"
        default: return "\(name).vi v\(vd), v\(vs2), \(below(32))\(m)\n"
        }
    }

    /// A mask destination: one of the sources' first register now and then, else clear of them all.
    mutating func maskDest(_ sources: [Int]) -> Int {
        if below(4) == 0 { return sources[below(sources.count)] }
        return reg(emulLog2: 0, avoid: sources.map { ($0, groupRegs) })
    }

    /// vadc/vsbc (v0 carry in, vd not v0) and vmadc/vmsbc (mask out, with or without carry in).
    mutating func intCarry() -> String {
        let vs2 = reg(), vs1 = reg()
        let sc = xOrZero(), imm = below(32) - 16
        switch below(4) {
        case 0:
            let vd = reg(notV0: true)
            return ["vadc.vvm v\(vd), v\(vs2), v\(vs1), v0", "vadc.vxm v\(vd), v\(vs2), \(sc), v0", "vadc.vim v\(vd), v\(vs2), \(imm), v0"][below(3)] + "\n"
        case 1:
            let vd = reg(notV0: true)
            return ["vsbc.vvm v\(vd), v\(vs2), v\(vs1), v0", "vsbc.vxm v\(vd), v\(vs2), \(sc), v0"][below(2)] + "\n"
        case 2:
            let c = below(2) == 0 ? ", v0" : ""
            switch below(3) {
            case 0: let vd = maskDest([vs2, vs1]); return "vmadc.vv\(c.isEmpty ? "" : "m") v\(vd), v\(vs2), v\(vs1)\(c)\n"
            case 1: let vd = maskDest([vs2]); return "vmadc.vx\(c.isEmpty ? "" : "m") v\(vd), v\(vs2), \(sc)\(c)\n"
            default: let vd = maskDest([vs2]); return "vmadc.vi\(c.isEmpty ? "" : "m") v\(vd), v\(vs2), \(imm)\(c)\n"
            }
        default:
            let c = below(2) == 0 ? ", v0" : ""
            if below(2) == 0 { let vd = maskDest([vs2, vs1]); return "vmsbc.vv\(c.isEmpty ? "" : "m") v\(vd), v\(vs2), v\(vs1)\(c)\n" }
            let vd = maskDest([vs2]); return "vmsbc.vx\(c.isEmpty ? "" : "m") v\(vd), v\(vs2), \(sc)\(c)\n"
        }
    }

    /// `op` resumed at a random vstart in 1..<VLMAX, vl set to VLMAX first (QEMU 7.2 leaves vstart
    /// alone and updates nothing when vstart >= vl, where the spec resets it: avoided here).
    mutating func withVstart(_ op: String) -> String {
        let vlmax = (lmulLog2 >= 0 ? 16 << lmulLog2 : 16 >> -lmulLog2) / (sew / 8)
        guard vlmax >= 2 else { return op }
        return "vsetvli t0, x0, e\(sew), \(VectorProgram.lmuls[lmulLog2 + 3]), tu, mu\n    csrwi vstart, \(1 + below(min(vlmax - 1, 31)))\n    " + op
    }

    mutating func intCompare() -> String {
        let ops: [(String, String)] = [("vmseq", "vxi"), ("vmsne", "vxi"), ("vmsltu", "vx"), ("vmslt", "vx"), ("vmsleu", "vxi"),
                                       ("vmsle", "vxi"), ("vmsgtu", "xi"), ("vmsgt", "xi")]
        let (name, forms) = ops[below(ops.count)]
        let form = Array(forms)[below(forms.count)]
        let m = mask(), vs2 = reg()
        switch form {
        case "v": let vs1 = reg(), vd = maskDest([vs2, vs1]); return "\(name).vv v\(vd), v\(vs2), v\(vs1)\(m)\n"
        case "x": let vd = maskDest([vs2]); return "\(name).vx v\(vd), v\(vs2), \(xOrZero())\(m)\n"
        default: let vd = maskDest([vs2]); return "\(name).vi v\(vd), v\(vs2), \(below(32) - 16)\(m)\n"
        }
    }

    mutating func intMerge() -> String {
        let vs2 = reg(), vs1 = reg(), vd = reg(notV0: true)
        switch below(6) {
        case 0: return "vmerge.vvm v\(vd), v\(vs2), v\(vs1), v0\n"
        case 1: return "vmerge.vxm v\(vd), v\(vs2), \(xOrZero()), v0\n"
        case 2: return "vmerge.vim v\(vd), v\(vs2), \(below(32) - 16), v0\n"
        case 3: return "vmv.v.v v\(reg()), v\(vs1)\n"
        case 4: return "vmv.v.x v\(reg()), \(xOrZero())\n"
        default: return "vmv.v.i v\(reg()), \(below(32) - 16)\n"
        }
    }

    /// A vsetvli to SEW <= 32 and LMUL <= 4 first when the current vtype leaves no room to widen.
    mutating func narrowVtype() -> String {
        sew <= 32 && lmulLog2 <= 2 ? "" : vset(maxSEW: 32, maxLMULLog2: 2) + "    "
    }
    /// A SEW source for a 2*SEW destination at `vd`: its highest half now and then (legal when LMUL >= 1).
    mutating func narrowSource(_ vd: Int) -> Int {
        if lmulLog2 >= 0 && below(4) == 0 { return vd + groupRegs }
        return reg(avoid: [(vd, lmulLog2 + 1 > 0 ? 1 << (lmulLog2 + 1) : 1)])
    }

    mutating func intWidening() -> String {
        var s = narrowVtype()
        let ops: [(String, String)] = [("vwaddu", "vxVX"), ("vwadd", "vxVX"), ("vwsubu", "vxVX"), ("vwsub", "vxVX"), ("vwmulu", "vx"),
                                       ("vwmulsu", "vx"), ("vwmul", "vx"), ("vwmaccu", "vx"), ("vwmacc", "vx"), ("vwmaccsu", "vx"), ("vwmaccus", "x")]
        let (name, forms) = ops[below(ops.count)]
        let form = Array(forms)[below(forms.count)]
        let m = mask()
        let vd = reg(emulLog2: lmulLog2 + 1, notV0: !m.isEmpty)
        let mulAdd = name.hasPrefix("vwmacc")
        switch form {
        case "v":
            let vs2 = narrowSource(vd), vs1 = narrowSource(vd)
            s += mulAdd ? "\(name).vv v\(vd), v\(vs1), v\(vs2)\(m)\n" : "\(name).vv v\(vd), v\(vs2), v\(vs1)\(m)\n"
        case "x":
            let vs2 = narrowSource(vd)
            s += mulAdd ? "\(name).vx v\(vd), \(xOrZero()), v\(vs2)\(m)\n" : "\(name).vx v\(vd), v\(vs2), \(xOrZero())\(m)\n"
        case "V": s += "\(name).wv v\(vd), v\(reg(emulLog2: lmulLog2 + 1)), v\(narrowSource(vd))\(m)\n"
        default: s += "\(name).wx v\(vd), v\(reg(emulLog2: lmulLog2 + 1)), \(xOrZero())\(m)\n"
        }
        return s
    }

    mutating func intNarrowing(_ ops: [(String, String)]) -> String {
        var s = narrowVtype()
        let (name, forms) = ops[below(ops.count)]
        let form = Array(forms)[below(forms.count)]
        let m = mask()
        let vs2 = reg(emulLog2: lmulLog2 + 1)
        let vd = below(3) == 0 && (m.isEmpty || vs2 != 0) ? vs2 : reg(notV0: !m.isEmpty, avoid: [(vs2, lmulLog2 + 1 > 0 ? 1 << (lmulLog2 + 1) : 1)])
        switch form {
        case "V": s += "\(name).wv v\(vd), v\(vs2), v\(reg())\(m)\n"
        case "X": s += "\(name).wx v\(vd), v\(vs2), \(xOrZero())\(m)\n"
        default: s += "\(name).wi v\(vd), v\(vs2), \(below(32))\(m)\n"
        }
        return s
    }

    mutating func intExtension() -> String {
        let k = 1 + below(3)
        guard sew >> k >= 8 else { return "" }
        let m = mask()
        let vd = reg(notV0: !m.isEmpty)
        let srcLog = lmulLog2 - k, srcRegs = srcLog > 0 ? 1 << srcLog : 1
        let vs2 = srcLog >= 0 && below(3) == 0 ? vd + groupRegs - srcRegs : reg(emulLog2: srcLog, avoid: [(vd, groupRegs)])
        return "\(below(2) == 0 ? "vzext" : "vsext").vf\(1 << k) v\(vd), v\(vs2)\(m)\n"
    }
}
