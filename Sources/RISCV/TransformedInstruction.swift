import Platform
// htinst/mtinst for guest-page faults of explicit accesses (H extension §"Transformed Instruction or
// Pseudoinstruction for mtinst or htinst"). A hypervisor emulating MMIO reads the faulting access from
// htinst instead of fetching the guest's instruction with HLVX (Linux KVM does exactly this).

extension Hart {
    /// The transformed form of the load, store, AMO/LR/SC, HLV or HSV at `pc` whose access faulted at
    /// `faultVA`: the instruction with its immediate cleared and rs1 replaced by the offset of `faultVA`
    /// from the access's base address; a compressed instruction is first expanded and then has bit 1
    /// cleared. 0 (allowed by the spec) when the instruction is not in the fetch TLB (reading it must not
    /// trap) or the offset does not fit the 5-bit field.
    func transformedInstruction(faultVA: UInt64) -> UInt64 {
        let e = tlbFetch[fetchSlot * Hart.tlbSize + Int((pc >> 12) & Hart.tlbMask)]
        guard e.tag == pc & ~0xfff else { return 0 }
        let host = UnsafeRawPointer(bitPattern: e.host).unsafelyUnwrapped
        let offset = Int(pc & 0xfff)
        let lo = host.load(fromByteOffset: offset, as: UInt16.self)
        let raw: UInt32
        let base: UInt64
        let compressed = !Decoder.isLong(lo)
        if compressed {
            guard let expanded = Hart.expandCompressedAccess(lo) else { return 0 }
            let d = Decoder.decodeCompressed(lo)
            raw = expanded
            base = x[Int(d.rs1)] &+ simm(d)
        } else {
            guard offset <= 0xffc else { return 0 }
            raw = host.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
            let rs1 = Int((raw >> 15) & 31)
            switch raw & 0x7f {
            case 0x03, 0x07:   // loads: imm[11:0] in 31:20
                base = x[rs1] &+ UInt64(bitPattern: Int64(Int32(bitPattern: raw) >> 20))
            case 0x23, 0x27:   // stores: imm[11:5] in 31:25, imm[4:0] in 11:7
                let imm = Int64(Int32(bitPattern: raw & 0xfe00_0000) >> 20) | Int64((raw >> 7) & 31)
                base = x[rs1] &+ UInt64(bitPattern: imm)
            case 0x2f:         // AMO, LR, SC
                base = x[rs1]
            case 0x73 where (raw >> 12) & 7 == 4:   // HLV, HLVX, HSV
                base = x[rs1]
            default:
                return 0
            }
        }
        let delta = faultVA &- base
        guard delta < 32 else { return 0 }
        var keep: UInt32
        switch raw & 0x7f {
        case 0x03, 0x07: keep = 0x0000_7fff            // funct3, rd, opcode
        case 0x23, 0x27: keep = 0x01f0_707f            // rs2, funct3, opcode
        default: keep = ~UInt32(31 << 15)              // everything but rs1
        }
        var t = (raw & keep) | UInt32(delta) << 15
        if compressed { t &= ~2 }
        return UInt64(t)
    }

    /// The 32-bit load or store a compressed one stands for, immediate and rs1 left zero (they are
    /// replaced anyway); nil for any other compressed instruction.
    static func expandCompressedAccess(_ c: UInt16) -> UInt32? {
        let quadrant = c & 3, funct3 = UInt32(c >> 13)
        // funct3 1/2/3 load (FLD, LW, LD), 5/6/7 store (FSD, SW, SD); width funct3 3, 2, 3.
        let width: UInt32 = funct3 & 3 == 2 ? 2 : 3
        let isFP = funct3 & 3 == 1
        switch (quadrant, funct3) {
        case (0, 1), (0, 2), (0, 3):      // C.FLD, C.LW, C.LD: rd' in 4:2
            let rd = 8 + UInt32((c >> 2) & 7)
            return rd << 7 | width << 12 | (isFP ? 0x07 : 0x03)
        case (0, 5), (0, 6), (0, 7):      // C.FSD, C.SW, C.SD: rs2' in 4:2
            let rs2 = 8 + UInt32((c >> 2) & 7)
            return rs2 << 20 | width << 12 | (isFP ? 0x27 : 0x23)
        case (2, 1), (2, 2), (2, 3):      // C.FLDSP, C.LWSP, C.LDSP: rd in 11:7
            let rd = UInt32((c >> 7) & 31)
            return rd << 7 | width << 12 | (isFP ? 0x07 : 0x03)
        case (2, 5), (2, 6), (2, 7):      // C.FSDSP, C.SWSP, C.SDSP: rs2 in 6:2
            let rs2 = UInt32((c >> 2) & 31)
            return rs2 << 20 | width << 12 | (isFP ? 0x27 : 0x23)
        default:
            return nil
        }
    }
}
