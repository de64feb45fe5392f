import XCTest
import Foundation
import Machine

/// Vector floating point (V 1.0 §31.13, §31.14.3, §31.16) against QEMU 7.2, and Zvfhmin's two
/// conversions (not in QEMU 7.2) against Swift's Float16.
extension VectorDifferentialTests {
    /// Seeds per random test: 5, or VECTOR_FP_SEEDS for a longer hunt.
    static var fpSeeds: UInt64 { ProcessInfo.processInfo.environment["VECTOR_FP_SEEDS"].flatMap { UInt64($0) } ?? 5 }

    /// Single-width and widening arithmetic, fused multiply-adds, sqrt and the estimates, min/max, sign
    /// injection, compares and vfclass, SEW 32 and 64, masked and not, with frm changed inside blocks.
    func testFloatArithmeticMatchesQEMU() throws {
        for seed in 1...VectorDifferentialTests.fpSeeds {
            try compareVectorBlocks(seed: seed, blocks: 30, what: "vector FP arithmetic, seed \(seed)") { v in
                var s = "    " + v.fpVset()
                s += v.fpFill()
                for _ in 0..<14 {
                    switch v.below(12) {
                    case 0: s += "    " + v.fpVset() + v.fpFill()
                    case 1: s += "    fsrmi x0, \(v.below(5))\n"
                    case 2, 3: s += v.fpWidening()
                    default: s += v.fpArithmetic()
                    }
                }
                return s
            }
        }
    }

    /// Integer <-> FP conversions, single-width, widening and narrowing, with the rtz and rod forms.
    func testFloatConversionsMatchQEMU() throws {
        for seed in 1...VectorDifferentialTests.fpSeeds {
            try compareRTZBlocks(seed: seed, blocks: 30, what: "vector FP conversions, seed \(seed)") { v in
                var s = "    " + v.fpVset()
                s += v.fpFill()
                for _ in 0..<14 {
                    switch v.below(10) {
                    case 0: s += "    " + v.fpVset() + v.fpFill()
                    case 1: s += "    fsrmi x0, \(v.below(5))\n"
                    case 2: s += "    " + v.vset(minSEW: 16, maxSEW: 64)
                    default: s += v.fpConversion()
                    }
                }
                return s
            }
        }
    }

    /// vfrec7 and vfrsqrt7 over every table index, both exponent parities, subnormal inputs (which
    /// vfrec7 may overflow, by frm), outputs that come out subnormal, and the special values.
    func testFloatEstimatesMatchQEMU() throws {
        var g = RNG(s: 0xe57)
        var block = 0
        try compareVectorBlocks(seed: 11, blocks: 24, what: "vfrec7/vfrsqrt7") { v in
            let single = block % 2 == 0, count = single ? 32 : 16, (fb, eb) = single ? (23, 8) : (52, 11)
            var words: [UInt64] = []
            for k in 0..<count {
                let index = UInt64((block / 2 * count + k) % 128)
                let maxExp = (1 << eb) - 1
                let exp = [0, 0, 1, 2, maxExp - 2, maxExp - 1, maxExp - 3, maxExp / 2, maxExp / 2 + 1, 1 + g.below(maxExp - 1)][g.below(10)]
                var sig = index << UInt64(fb - 7) | g.next() & ((1 << UInt64(fb - 7)) - 1)
                if exp == 0 { sig >>= UInt64(g.below(fb)) }   // subnormal, with some leading zeros
                var bits = UInt64(exp) << UInt64(fb) | sig | (g.below(4) == 0 ? 1 << UInt64(fb + eb) : 0)
                if g.below(16) == 0 { bits = [0, 1 << UInt64(fb + eb), UInt64(maxExp) << UInt64(fb), UInt64(maxExp) << UInt64(fb) | 1, UInt64(maxExp) << UInt64(fb) | 1 << UInt64(fb - 1)][g.below(5)] }
                words.append(bits)
            }
            let data = single ? ".word " + words.map { "0x" + String($0, radix: 16) }.joined(separator: ", ")
                              : ".dword " + words.map { "0x" + String($0, radix: 16) }.joined(separator: ", ")
            let e = single ? 32 : 64
            block += 1
            return "    fsrmi x0, \(v.below(5))\n    j 2f\n    .align 3\n0:  \(data)\n2:  la t0, 0b\n    li t1, \(count)\n    vsetvli x0, t1, e\(e), m8, tu, mu\n"
                + "    vle\(e).v v8, (t0)\n    vfrec7.v v16, v8\n    vfrsqrt7.v v24, v8\n"
        }
    }

    /// As `compareVectorBlocks`, with QEMU running the source's rtz conversions as `rtzForQEMU` rewrites them.
    func compareRTZBlocks(seed: UInt64, blocks: Int, what: String, body: (inout VectorGenerator) -> String) throws {
        var v = VectorGenerator(g: RNG(s: seed &* 0x9e37_79b9_7f4a_7c15 | 1))
        let source = VectorProgram.program(blocks: blocks, generator: &v, body: body)
        let expected = try qemuTranscript(try compile(VectorDifferentialTests.rtzForQEMU(source), march: "rv64gcv"), cpu: VectorProgram.qemuCPU)
        XCTAssertEqual(expected.split(separator: "\n").count, blocks * VectorProgram.linesPerBlock,
                       "\(what): QEMU's transcript is incomplete:\n\(expected.suffix(800))")
        let actual = try matryoshkaTranscript(try compile(source, march: "rv64gcv"), cpu: "max", jit: true)
        VectorProgram.assertSame(expected, actual, what, source: source)
    }

    /// "fsrmi t6, 1; fsrm t6; vfXcvt.rtz.Y" (the rtz form under the block's frm) becomes
    /// "fsrmi t6, 1; vfXcvt.Y; fsrm t6" (the plain form under RTZ): the same registers, flags and frm after.
    static func rtzForQEMU(_ source: String) -> String {
        var lines = source.components(separatedBy: "\n")
        var i = 0
        while i + 2 < lines.count {
            if lines[i] == "    fsrmi t6, 1" && lines[i + 1] == "    fsrm t6" && lines[i + 2].contains(".rtz.") {
                lines[i + 1] = lines[i + 2].replacingOccurrences(of: ".rtz.", with: ".")
                lines[i + 2] = "    fsrm t6"
                i += 3
            } else {
                i += 1
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Reductions (ordered, unordered, min/max, widening), vfmv.f.s/vfmv.s.f, vfmv.v.f, vfmerge and
    /// the slides with an f register.
    func testFloatReductionsAndMovesMatchQEMU() throws {
        for seed in 1...VectorDifferentialTests.fpSeeds {
            try compareVectorBlocks(seed: seed, blocks: 30, what: "vector FP reductions and moves, seed \(seed)") { v in
                var s = "    " + v.fpVset()
                s += v.fpFill()
                for _ in 0..<14 {
                    switch v.below(10) {
                    case 0: s += "    " + v.fpVset() + v.fpFill()
                    case 1: s += "    fsrmi x0, \(v.below(5))\n"
                    default: s += v.fpReductionOrMove()
                    }
                }
                return s
            }
        }
    }

    /// Reserved encodings trap alike (the transcript is then the trap's): FP at SEW 8, a reserved frm,
    /// FS off, misaligned or overlapping groups, a masked destination v0, vfmv.v.f with vs2 != 0.
    /// (Not SEW 16: QEMU 7.2 executes all of Zvfh there, Matryoshka has only Zvfhmin.)
    func testFloatIllegalEncodingsTrapLikeQEMU() throws {
        let cases: [(String, String)] = [
            ("SEW 8", "vsetivli x0, 4, e8, m1, tu, mu\n    vfadd.vv v1, v2, v3\n"),
            ("frm 5", "vsetivli x0, 4, e32, m1, tu, mu\n    fsrmi x0, 5\n    vfmul.vf v1, v2, f3\n"),
            ("FS off", "vsetivli x0, 4, e64, m1, tu, mu\n    li t0, 0x6000\n    csrc mstatus, t0\n    vfsqrt.v v1, v2\n"),
            ("vfwadd odd vd", "vsetivli x0, 4, e32, m1, tu, mu\n    vfwadd.vv v3, v4, v6\n"),
            ("vfwadd at e64", "vsetivli x0, 2, e64, m1, tu, mu\n    vfwadd.vf v2, v4, f1\n"),
            ("vfslide1up vd = vs2", "vsetivli x0, 4, e32, m1, tu, mu\n    vfslide1up.vf v2, v2, f2\n"),
            ("vfncvt vd mid-source", "vsetivli x0, 4, e32, m2, tu, mu\n    vfncvt.f.f.w v6, v4\n"),
            ("masked vd v0", "vsetivli x0, 4, e32, m1, tu, mu\n    vfadd.vv v0, v4, v5, v0.t\n"),
            ("reduction vs2 misaligned", "vsetivli x0, 4, e64, m2, tu, mu\n    vfredosum.vs v1, v3, v2\n"),
            ("vfmv.v.f vs2 != 0", "vsetivli x0, 4, e32, m1, tu, mu\n    .word 0x5e1150d7\n"),
        ]
        for (what, body) in cases {
            var v = VectorGenerator(g: RNG(s: 7))
            let source = VectorProgram.program(blocks: 1, generator: &v) { _ in "    " + body }
            let elf = try compile(source, march: "rv64gcv")
            let expected = try qemuTranscript(elf, cpu: VectorProgram.qemuCPU)
            XCTAssertTrue(expected.hasPrefix("T\n0000000000000002\n"), "\(what): QEMU did not take an illegal-instruction trap: \(expected.prefix(60))")
            let actual = try matryoshkaTranscript(elf, cpu: "max,zvfhmin=off", jit: true)
            VectorProgram.assertSame(expected, actual, "illegal: \(what)", source: source)
        }
    }

    /// Zvfhmin (Matryoshka only, QEMU 7.2 lacks it): vfwcvt.f.f.v from e16 and vfncvt.f.f.w to e16 against
    /// Swift's Float16 conversions, with the flags of fcvt.s.h / fcvt.h.s.
    func testZvfhminConversions() throws {
        let halves: [UInt16] = [0x3c00, 0xc000, 0x0001, 0x83ff, 0x7c00, 0xfc00, 0x7e00, 0x7d00, 0x0000, 0x8000, 0x7bff, 0x3555, 0x0400, 0xfe01, 0x1234, 0xabcd]
        let singles: [Float] = [1, -2.5, 70000, -65520, 65519, 1e-8, -3e-5, 1.0 / 3, 6.1e-5, .infinity, 0, -0.0, 2049, 0.1, 5.96e-8, 2.98e-8]
        var singleBits = singles.map { $0.bitPattern }
        singleBits[13] = 0x7f80_0001   // a signaling NaN
        singleBits[14] = 0xffc0_1234   // a quiet NaN
        let data = ".half " + halves.map { "0x" + String($0, radix: 16) }.joined(separator: ", ") + "\n    .align 2\n"
            + "1: .word " + singleBits.map { "0x" + String($0, radix: 16) }.joined(separator: ", ") + "\n"
        // Block 1 widens 16 halves (e16, m2) into v8-v11; blocks 2 and 3 narrow 16 singles (e16, m2 from
        // v16-v19) into v4-v5 under RNE and RTZ. fflags starts at 0 (frm from the csrw).
        var program = VectorGenerator(g: RNG(s: 1))
        var block = 0
        let source = VectorProgram.program(blocks: 3, generator: &program) { _ in
            block += 1
            let rm = block == 3 ? 1 : 0
            var s = "    j 2f\n    .align 3\n0:  \(data)2:  li t0, \(rm << 5)\n    csrw fcsr, t0\n    vsetivli x0, 16, e16, m2, tu, mu\n"
            s += block == 1 ? "    la t0, 0b\n    vle16.v v4, (t0)\n    vfwcvt.f.f.v v8, v4\n"
                            : "    la t0, 1b\n    vsetivli x0, 16, e32, m4, tu, mu\n    vle32.v v16, (t0)\n    vsetivli x0, 16, e16, m2, tu, mu\n    vfncvt.f.f.w v4, v16\n"
            return s
        }
        let elf = try compile(source, march: "rv64gcv")
        let lines = try matryoshkaTranscript(elf, cpu: "max", jit: true).split(separator: "\n").map { UInt64($0, radix: 16) ?? 0 }
        XCTAssertEqual(lines.count, 3 * VectorProgram.linesPerBlock)
        guard lines.count == 3 * VectorProgram.linesPerBlock else { return }
        func element(_ blockIndex: Int, _ reg: Int, _ i: Int, _ bytes: Int) -> UInt64 {
            let byte = i * bytes, line = blockIndex * VectorProgram.linesPerBlock + 65 + 2 * reg + byte / 8
            return lines[line] >> UInt64(8 * (byte % 8)) & (bytes == 8 ? ~0 : (1 << UInt64(8 * bytes)) - 1)
        }
        func fflags(_ blockIndex: Int) -> UInt64 { lines[blockIndex * VectorProgram.linesPerBlock + 32] }

        // Widening is exact: NaNs become the canonical NaN, a signaling one raises invalid.
        var expectedFlags: UInt64 = 0
        for (i, h) in halves.enumerated() {
            let x = Float16(bitPattern: h)
            let want: UInt32 = x.isNaN ? 0x7fc0_0000 : Float(x).bitPattern
            if x.isSignalingNaN { expectedFlags |= 0x10 }
            XCTAssertEqual(element(0, 8, i, 4), UInt64(want), "vfwcvt.f.f.v of 0x\(String(h, radix: 16))")
        }
        XCTAssertEqual(fflags(0), expectedFlags, "vfwcvt.f.f.v fflags")

        // Narrowing: the host's Float16(Float) rounds to nearest even; RTZ steps back toward zero when the
        // host rounded away. Flags: NX when inexact, OF when a finite value overflows, UF when the result is
        // tiny (subnormal or zero, tininess after rounding) and inexact, NV for a signaling NaN.
        for (b, rtz) in [(1, false), (2, true)] {
            var flags: UInt64 = 0
            for (i, bits) in singleBits.enumerated() {
                let x = Float(bitPattern: bits)
                var want: UInt16
                if x.isNaN {
                    want = 0x7e00
                    if x.isSignalingNaN { flags |= 0x10 }
                } else {
                    var h = Float16(x)
                    if rtz && Float(h).magnitude > x.magnitude { h = h > 0 ? h.nextDown : h.nextUp }
                    if rtz && h.isInfinite && x.isFinite { h = x > 0 ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude }
                    want = h.bitPattern
                    if Float(h) != x {
                        flags |= 1
                        // Overflow: the value rounded with an unbounded exponent exceeds the largest half.
                        if x.isFinite && (rtz ? x.magnitude >= 65536 : h.isInfinite) { flags |= 4 }
                        if x.magnitude < Float(Float16.leastNormalMagnitude) { flags |= 2 }   // no input is near the boundary
                    }
                }
                XCTAssertEqual(element(b, 4, i, 2), UInt64(want), "vfncvt.f.f.w \(rtz ? "rtz" : "rne") of \(x) (0x\(String(bits, radix: 16)))")
            }
            XCTAssertEqual(fflags(b), flags, "vfncvt.f.f.w \(rtz ? "rtz" : "rne") fflags")
        }

        // Without Zvfhmin, e16 vfwcvt.f.f.v is illegal.
        let off = try matryoshkaTranscript(elf, cpu: "max,zvfhmin=off", jit: true)
        XCTAssertTrue(off.hasPrefix("T\n0000000000000002"), "vfwcvt.f.f.v at e16 without Zvfhmin: \(off.prefix(80))")
    }
}

/// FP instruction generators: SEW 32 or 64 (the FP widths of QEMU's rv64 without Zfh), aligned groups,
/// masked destinations not v0, widening and narrowing groups that do not overlap their sources.
extension VectorGenerator {
    /// A vsetvli with SEW 32 or 64.
    mutating func fpVset() -> String { vset(minSEW: 32) }

    /// Fills two or three groups with FP values: a splat of an f register, values shifted in by
    /// vfslide1down, a merge under v0, or integers converted.
    mutating func fpFill() -> String {
        guard sew >= 32 else { return "" }
        var s = ""
        for _ in 0..<(2 + below(2)) {
            let r = reg(notV0: true)
            s += "    vfmv.v.f v\(r), \(f())\n"
            for _ in 0..<below(5) { s += "    vfslide1down.vf v\(r), v\(r), \(f())\n" }
            switch below(3) {
            case 0: s += "    vfmerge.vfm v\(r), v\(r), \(f()), v0\n"
            case 1: s += "    vfcvt.f.x.v v\(reg(notV0: true)), v\(reg())\n"
            default: break
            }
        }
        return s
    }

    /// A random operand suffix: ", v0.t" or nothing, and a destination that respects it.
    mutating func fpDest(emulLog2: Int? = nil, avoid: [(Int, Int)] = []) -> (Int, String) {
        let m = mask()
        return (reg(emulLog2: emulLog2, notV0: !m.isEmpty, avoid: avoid), m)
    }

    mutating func fpArithmetic() -> String {
        guard sew >= 32 else { return "" }
        let vs2 = reg(), vs1 = reg()
        let (vd, m) = fpDest()
        switch below(6) {
        case 0:
            let op = ["vfadd", "vfsub", "vfmul", "vfdiv", "vfmin", "vfmax", "vfsgnj", "vfsgnjn", "vfsgnjx"][below(9)]
            return "    \(op).vv v\(vd), v\(vs2), v\(vs1)\(m)\n"
        case 1:
            let op = ["vfadd", "vfsub", "vfrsub", "vfmul", "vfdiv", "vfrdiv", "vfmin", "vfmax", "vfsgnj", "vfsgnjn", "vfsgnjx"][below(11)]
            return "    \(op).vf v\(vd), v\(vs2), \(f())\(m)\n"
        case 2:
            let op = ["vfmacc", "vfnmacc", "vfmsac", "vfnmsac", "vfmadd", "vfnmadd", "vfmsub", "vfnmsub"][below(8)]
            return below(2) == 0 ? "    \(op).vv v\(vd), v\(vs1), v\(vs2)\(m)\n" : "    \(op).vf v\(vd), \(f()), v\(vs2)\(m)\n"
        case 3:
            let op = ["vfsqrt.v", "vfrsqrt7.v", "vfrec7.v", "vfclass.v"][below(4)]
            return "    \(op) v\(vd), v\(vs2)\(m)\n"
        default:
            // Compares write a mask register: not overlapping the sources (v0 allowed even when masked).
            let vdm = reg(emulLog2: 0, avoid: [(vs2, groupRegs), (vs1, groupRegs)])
            if below(2) == 0 {
                return "    \(["vmfeq", "vmfne", "vmflt", "vmfle"][below(4)]).vv v\(vdm), v\(vs2), v\(vs1)\(mask())\n"
            }
            return "    \(["vmfeq", "vmfne", "vmflt", "vmfle", "vmfgt", "vmfge"][below(6)]).vf v\(vdm), v\(vs2), \(f())\(mask())\n"
        }
    }

    /// Widening arithmetic (SEW 32, LMUL <= 4), after switching to such a vtype when needed.
    mutating func fpWidening() -> String {
        var s = ""
        if sew != 32 || lmulLog2 > 2 { s = "    " + vset(minSEW: 32, maxSEW: 32, maxLMULLog2: 2) + fpFill() }
        let wide = lmulLog2 + 1, n = groupRegs
        let vs2 = reg(), vs1 = reg(), ws2 = reg(emulLog2: wide)
        let (vd, m) = fpDest(emulLog2: wide, avoid: [(vs2, n), (vs1, n)])
        switch below(5) {
        case 0: s += "    \(["vfwadd", "vfwsub", "vfwmul"][below(3)]).vv v\(vd), v\(vs2), v\(vs1)\(m)\n"
        case 1: s += "    \(["vfwadd", "vfwsub", "vfwmul"][below(3)]).vf v\(vd), v\(vs2), \(f())\(m)\n"
        case 2: s += "    \(["vfwadd", "vfwsub"][below(2)]).wv v\(vd), v\(ws2), v\(vs1)\(m)\n"
        case 3: s += "    \(["vfwadd", "vfwsub"][below(2)]).wf v\(vd), v\(ws2), \(f())\(m)\n"
        default:
            let op = ["vfwmacc", "vfwnmacc", "vfwmsac", "vfwnmsac"][below(4)]
            s += below(2) == 0 ? "    \(op).vv v\(vd), v\(vs1), v\(vs2)\(m)\n" : "    \(op).vf v\(vd), \(f()), v\(vs2)\(m)\n"
        }
        return s
    }

    /// A conversion legal at the current SEW and LMUL (none at SEW 8).
    mutating func fpConversion() -> String {
        let n = groupRegs, wide = lmulLog2 + 1
        switch below(3) {
        case 0:
            guard sew >= 32 else { return "" }
            let (vd, m) = fpDest()
            let op = ["vfcvt.xu.f.v", "vfcvt.x.f.v", "vfcvt.f.xu.v", "vfcvt.f.x.v", "vfcvt.rtz.xu.f.v", "vfcvt.rtz.x.f.v"][below(6)]
            return VectorGenerator.fpConversionLine(op, "v\(vd), v\(reg())\(m)")
        case 1:
            guard lmulLog2 <= 2, sew == 32 || sew == 16 else { return "" }
            let vs2 = reg()
            let (vd, m) = fpDest(emulLog2: wide, avoid: [(vs2, n)])
            // At e16: the integer-to-single ones, and Zvfhmin's half-to-single (QEMU 7.2 has all of
            // Zvfh at e16, Matryoshka "max" only Zvfhmin).
            let ops = sew == 32 ? ["vfwcvt.xu.f.v", "vfwcvt.x.f.v", "vfwcvt.f.xu.v", "vfwcvt.f.x.v", "vfwcvt.f.f.v", "vfwcvt.rtz.xu.f.v", "vfwcvt.rtz.x.f.v"]
                                : ["vfwcvt.f.xu.v", "vfwcvt.f.x.v", "vfwcvt.f.f.v"]
            return VectorGenerator.fpConversionLine(ops[below(ops.count)], "v\(vd), v\(vs2)\(m)")
        default:
            guard lmulLog2 <= 2, sew == 32 || sew == 16 else { return "" }
            let vs2 = reg(emulLog2: wide)
            var (vd, m) = fpDest(avoid: [(vs2, 2 * n)])
            // The destination may also be the start of the source (the one overlap allowed).
            if below(3) == 0 && (m.isEmpty || vs2 != 0) { vd = vs2 }
            let ops = sew == 32 ? ["vfncvt.xu.f.w", "vfncvt.x.f.w", "vfncvt.f.xu.w", "vfncvt.f.x.w", "vfncvt.f.f.w", "vfncvt.rod.f.f.w", "vfncvt.rtz.xu.f.w", "vfncvt.rtz.x.f.w"]
                                : ["vfncvt.xu.f.w", "vfncvt.x.f.w", "vfncvt.rtz.xu.f.w", "vfncvt.rtz.x.f.w", "vfncvt.f.f.w"]
            return VectorGenerator.fpConversionLine(ops[below(ops.count)], "v\(vd), v\(vs2)\(m)")
        }
    }

    /// QEMU 7.2 aborts translating the rtz conversions (decode_save_opc: "ctx->insn_start != NULL"), so an
    /// rtz conversion runs (under Matryoshka) after frm is set to RTZ and back again, which
    /// `VectorDifferentialTests.rtzForQEMU` rewrites into the non-rtz conversion under frm = RTZ for QEMU.
    static func fpConversionLine(_ op: String, _ operands: String) -> String {
        op.contains(".rtz.") ? "    fsrmi t6, 1\n    fsrm t6\n    \(op) \(operands)\n" : "    \(op) \(operands)\n"
    }

    mutating func fpReductionOrMove() -> String {
        guard sew >= 32 else { return "" }
        switch below(8) {
        case 0, 1:
            let op = ["vfredusum", "vfredosum", "vfredmin", "vfredmax"][below(4)]
            return "    \(op).vs v\(below(32)), v\(reg()), v\(below(32))\(mask())\n"
        case 2:
            guard sew == 32 else { return "" }
            return "    \(["vfwredusum", "vfwredosum"][below(2)]).vs v\(below(32)), v\(reg()), v\(below(32))\(mask())\n"
        case 3: return "    vfmv.f.s \(f()), v\(below(32))\n"
        case 4: return "    vfmv.s.f v\(below(32)), \(f())\n"
        case 5: return below(2) == 0 ? "    vfmv.v.f v\(reg()), \(f())\n" : "    vfmerge.vfm v\(reg(notV0: true)), v\(reg()), \(f()), v0\n"
        default:
            let vs2 = reg()
            if below(2) == 0 {
                let (vd, m) = fpDest(avoid: [(vs2, groupRegs)])
                return "    vfslide1up.vf v\(vd), v\(vs2), \(f())\(m)\n"
            }
            let (vd, m) = fpDest()
            return "    vfslide1down.vf v\(vd), v\(vs2), \(f())\(m)\n"
        }
    }
}
