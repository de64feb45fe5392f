import Platform
// The vector extension V 1.0 (unprivileged spec ch. 31, "V" Standard Extension for Vector Operations).
// Interpreted: the decoder caches one `.vector` op holding the raw instruction, and each execution
// loops over the elements. A register group vN..vN+EMUL-1 is contiguous in `vreg`, so element i of
// the group starting at vN sits at byte N*VLENB + i*EEW/8, little-endian (§31.4.5).
// Masked-off and tail elements are left undisturbed, which both agnostic settings allow (§31.3.4.3).

/// The fields of a vector instruction (OP-V, or LOAD-FP/STORE-FP with a vector width).
public struct VInst: Sendable {
    public let raw: UInt32
    public init(raw: UInt32) { self.raw = raw }
    /// vd, rd, or vs3 (the data of a store).
    @inline(__always) public var vd: Int { Int(raw >> 7 & 31) }
    /// vs1, rs1, or a 5-bit immediate.
    @inline(__always) public var vs1: Int { Int(raw >> 15 & 31) }
    @inline(__always) public var vs2: Int { Int(raw >> 20 & 31) }
    @inline(__always) public var funct3: UInt32 { raw >> 12 & 7 }
    @inline(__always) public var funct6: UInt32 { raw >> 26 }
    /// vm = 0: the instruction is masked by v0.
    @inline(__always) public var masked: Bool { raw >> 25 & 1 == 0 }
    /// The 5-bit immediate of OPIVI forms, sign-extended.
    @inline(__always) public var simm5: Int64 { Int64(Int32(bitPattern: raw << 12) >> 27) }
    /// The 5-bit immediate of OPIVI forms, zero-extended.
    @inline(__always) public var uimm5: UInt64 { UInt64(raw >> 15 & 31) }
}

/// OP-V minor opcodes (funct3, §31.10.1).
public enum VFunct3 {
    public static let opivv: UInt32 = 0, opfvv: UInt32 = 1, opmvv: UInt32 = 2, opivi: UInt32 = 3
    public static let opivx: UInt32 = 4, opfvf: UInt32 = 5, opmvx: UInt32 = 6, opcfg: UInt32 = 7
}

extension Hart {
    /// The largest VLEN `--vlen` accepts (bits): `vreg` is sized for it.
    public static let maxVLEN = 1024

    // MARK: State

    /// V is present and mstatus.VS (and, under V=1, vsstatus.VS) is not Off (§31.3.2, H §"vsstatus").
    var vectorEnabled: Bool {
        extensions.contains(.v) && mstatus & MStatus.vs != 0 && (!virt || vsstatus & MStatus.vs != 0)
    }
    func markVectorDirty() {
        mstatus |= MStatus.vs | MStatus.sd
        if virt { vsstatus |= MStatus.vs | MStatus.sd }
    }
    @inline(__always) var vill: Bool { vtype >> 63 != 0 }
    /// SEW in bytes (1, 2, 4 or 8) under the current vtype.
    @inline(__always) var vsewBytes: Int { 1 << Int(vtype >> 3 & 7) }
    /// log2 of LMUL under the current vtype: -3...3.
    @inline(__always) var vlmulLog2: Int { let l = Int(vtype & 7); return l >= 4 ? l - 8 : l }
    /// VLMAX = LMUL * VLEN / SEW for the given element width (bytes) and log2 of the group size.
    @inline(__always) func vlmax(sewBytes: Int, lmulLog2: Int) -> Int {
        lmulLog2 >= 0 ? (vlenb << lmulLog2) / sewBytes : (vlenb >> -lmulLog2) / sewBytes
    }
    /// Registers in a group of 2^emulLog2 (a fractional group still takes one register).
    @inline(__always) static func vRegs(_ emulLog2: Int) -> Int { emulLog2 > 0 ? 1 << emulLog2 : 1 }
    /// A group of 2^emulLog2 registers starts at a multiple of its size (§31.3.4.2); EMUL above 8 is reserved.
    @inline(__always) static func vAligned(_ reg: Int, _ emulLog2: Int) -> Bool {
        emulLog2 <= 3 && (emulLog2 <= 0 || reg & ((1 << emulLog2) - 1) == 0)
    }
    /// Whether register ranges [a, a+aRegs) and [b, b+bRegs) share a register.
    @inline(__always) static func vOverlap(_ a: Int, _ aRegs: Int, _ b: Int, _ bRegs: Int) -> Bool {
        a < b + bRegs && b < a + aRegs
    }

    // MARK: Elements

    /// Element `i` (of `bytes` bytes) of the group starting at register `reg`, zero-extended.
    @inline(__always) func vGet(_ reg: Int, _ i: Int, _ bytes: Int) -> UInt64 {
        let p = vreg + (reg &* vlenb &+ i &* bytes)
        switch bytes {
        case 1: return UInt64(p.load(as: UInt8.self))
        case 2: return UInt64(p.loadUnaligned(as: UInt16.self))
        case 4: return UInt64(p.loadUnaligned(as: UInt32.self))
        default: return p.loadUnaligned(as: UInt64.self)
        }
    }
    /// Element `i` of the group at `reg`, sign-extended.
    @inline(__always) func vGetSigned(_ reg: Int, _ i: Int, _ bytes: Int) -> Int64 {
        let shift = UInt64(64 - 8 * bytes)
        return Int64(bitPattern: vGet(reg, i, bytes) << shift) >> shift
    }
    /// Writes the low `bytes` bytes of `value` to element `i` of the group at `reg`.
    @inline(__always) func vSet(_ reg: Int, _ i: Int, _ bytes: Int, _ value: UInt64) {
        let p = vreg + (reg &* vlenb &+ i &* bytes)
        switch bytes {
        case 1: p.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
        case 2: p.storeBytes(of: UInt16(truncatingIfNeeded: value), as: UInt16.self)
        case 4: p.storeBytes(of: UInt32(truncatingIfNeeded: value), as: UInt32.self)
        default: p.storeBytes(of: value, as: UInt64.self)
        }
    }
    /// Bit `i` of mask register `reg` (§31.4.5: bit i of the register, whatever SEW and LMUL).
    @inline(__always) func vMaskBit(_ reg: Int, _ i: Int) -> Bool {
        (vreg + (reg &* vlenb &+ i >> 3)).load(as: UInt8.self) >> UInt8(i & 7) & 1 != 0
    }
    @inline(__always) func vSetMaskBit(_ reg: Int, _ i: Int, _ bit: Bool) {
        let p = vreg + (reg &* vlenb &+ i >> 3)
        let b = p.load(as: UInt8.self), m = UInt8(1) << UInt8(i & 7)
        p.storeBytes(of: bit ? b | m : b & ~m, as: UInt8.self)
    }
    /// Element `i` is active: the instruction is unmasked or v0's bit i is set.
    @inline(__always) func vActive(_ vi: VInst, _ i: Int) -> Bool { !vi.masked || vMaskBit(0, i) }

    /// Takes an illegal-instruction trap for `vi`; returns false (the executors' "trapped").
    func vIllegal(_ vi: VInst) -> Bool {
        trap(cause: Cause.illegal, tval: UInt64(vi.raw))
        return false
    }

    /// The floating-point rounding mode for a vector FP instruction (fcsr.frm; vector FP has no static
    /// rounding mode), or nil when FP is off or frm holds a reserved value: illegal (§31.13).
    func vFloatRoundingMode() -> UInt8? {
        guard fpEnabled else { return nil }
        let rm = UInt8((fcsr >> 5) & 7)
        return rm > 4 ? nil : rm
    }
    /// Accrues FP exception flags into fflags.
    func vAccrueFlags(_ flags: UInt64) {
        if flags != 0 { fcsr |= flags & 0x1f; markFPDirty() }
    }

    // MARK: Execution

    /// Executes one vector instruction. Returns false after taking a trap.
    @inline(never)
    func executeVector(_ raw: UInt32) -> Bool {
        let vi = VInst(raw: raw)
        guard vectorEnabled else { return vIllegal(vi) }
        let opcode = raw & 0x7f
        let result: Bool?
        if opcode != 0x57 {
            result = executeVectorMemory(vi)
        } else if vi.funct3 == VFunct3.opcfg {
            result = executeVectorConfig(vi)
        } else if vi.funct3 == VFunct3.opfvv || vi.funct3 == VFunct3.opfvf {
            result = executeVectorFloat(vi)
        } else {
            result = executeVectorPermute(vi) ?? executeVectorInteger(vi)
        }
        guard let ok = result else { return vIllegal(vi) }
        if ok {
            vstart = 0
            markVectorDirty()
        }
        return ok
    }

    /// vsetvli, vsetivli and vsetvl (§31.6).
    func executeVectorConfig(_ vi: VInst) -> Bool? {
        let raw = vi.raw, rd = vi.vd, rs1 = vi.vs1
        let newType: UInt64, avl: UInt64
        if raw >> 31 == 0 {                       // vsetvli
            newType = UInt64(raw >> 20 & 0x7ff)
            avl = rs1 != 0 ? x[rs1] : (rd != 0 ? .max : vl)
        } else if raw >> 30 == 3 {                // vsetivli
            newType = UInt64(raw >> 20 & 0x3ff)
            avl = UInt64(rs1)
        } else {                                  // vsetvl
            guard raw >> 25 & 0x3f == 0 else { return nil }
            newType = x[vi.vs2]
            avl = rs1 != 0 ? x[rs1] : (rd != 0 ? .max : vl)
        }
        let sew = Int(newType >> 3 & 7), lmul = Int(newType & 7)
        let lmulLog2 = lmul >= 4 ? lmul - 8 : lmul
        // vill: a reserved field, SEW above ELEN (64), LMUL 4 (reserved), or SEW > LMUL * ELEN.
        if newType >> 8 != 0 || sew > 3 || lmul == 4 || (lmulLog2 < 0 && (8 << sew) > (64 >> -lmulLog2)) {
            vtype = 1 << 63
            vl = 0
        } else {
            vtype = newType
            vl = min(avl, UInt64(vlmax(sewBytes: 1 << sew, lmulLog2: lmulLog2)))
        }
        x[rd == 0 ? 32 : rd] = vl
        return true
    }

    // MARK: CSRs

    /// Reads vstart, vxsat, vxrm, vcsr, vl, vtype or vlenb; nil when V is absent or off (illegal).
    func vectorCSRRead(_ n: UInt16) -> UInt64? {
        guard vectorEnabled else { return nil }
        switch n {
        case 0x008: return vstart
        case 0x009: return vxsat
        case 0x00a: return vxrm
        case 0x00f: return vxrm << 1 | vxsat
        case 0xc20: return vl
        case 0xc21: return vtype
        case 0xc22: return UInt64(vlenb)
        default: return nil
        }
    }
    /// Writes vstart, vxsat, vxrm or vcsr; false when illegal.
    func vectorCSRWrite(_ n: UInt16, _ value: UInt64) -> Bool {
        guard vectorEnabled else { return false }
        switch n {
        case 0x008: vstart = value & UInt64(vlenb * 8 - 1)   // WARL: the bits of the largest element index (VLEN - 1)
        case 0x009: vxsat = value & 1
        case 0x00a: vxrm = value & 3
        case 0x00f: vxrm = value >> 1 & 3; vxsat = value & 1
        default: return false
        }
        markVectorDirty()
        return true
    }
    static func isVectorCSR(_ n: UInt16) -> Bool { (0x008...0x00a).contains(n) || n == 0x00f || (0xc20...0xc22).contains(n) }
}
