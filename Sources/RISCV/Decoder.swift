import Platform
// Instruction decoding (unprivileged ISA chapters 2-16, RVC chapter "C" Standard Extension).
// Decoding happens once per instruction per code page; the result is cached as a DOp.

@inline(__always) private func bits(_ i: UInt32, _ hi: UInt32, _ lo: UInt32) -> UInt32 {
    (i >> lo) & ((1 << (hi - lo + 1)) - 1)
}
@inline(__always) private func sext(_ v: UInt32, _ width: UInt32) -> Int32 {
    let s = 32 - width
    return Int32(bitPattern: v << s) >> s
}
/// Integer destination register with x0 rewritten to the scratch slot 32.
@inline(__always) private func xd(_ r: UInt32) -> UInt8 { r == 0 ? 32 : UInt8(r) }

public enum Decoder {
    /// Whether the instruction beginning with halfword `lo` is 32 bits long.
    @inline(__always) public static func isLong(_ lo: UInt16) -> Bool { lo & 3 == 3 }

    public static func decode(_ inst: UInt32, hypervisor: Bool = true, ext: Extensions = .all) -> DOp {
        if inst & 3 != 3 { return decodeCompressed(UInt16(truncatingIfNeeded: inst), ext: ext) }
        let illegal = DOp(.illegal, imm: Int32(bitPattern: inst))
        let opcode = inst & 0x7f
        let rd = bits(inst, 11, 7), rs1 = bits(inst, 19, 15), rs2 = bits(inst, 24, 20)
        let f3 = bits(inst, 14, 12), f7 = bits(inst, 31, 25)
        let immI = sext(inst >> 20, 12)
        let immS = sext((bits(inst, 31, 25) << 5) | bits(inst, 11, 7), 12)
        let r1 = UInt8(rs1), r2 = UInt8(rs2)
        func iType(_ op: Op) -> DOp { DOp(op, rd: xd(rd), rs1: r1, imm: immI) }
        func rType(_ op: Op) -> DOp { DOp(op, rd: xd(rd), rs1: r1, rs2: r2) }

        switch opcode {
        case 0x37: return DOp(.lui, rd: xd(rd), imm: Int32(bitPattern: inst & 0xffff_f000))
        case 0x17: return DOp(.auipc, rd: xd(rd), imm: Int32(bitPattern: inst & 0xffff_f000))
        case 0x6f:
            let imm = (bits(inst, 31, 31) << 20) | (bits(inst, 19, 12) << 12) | (bits(inst, 20, 20) << 11) | (bits(inst, 30, 21) << 1)
            return DOp(.jal, rd: xd(rd), imm: sext(imm, 21))
        case 0x67: return f3 == 0 ? iType(.jalr) : illegal
        case 0x63:
            let imm = (bits(inst, 31, 31) << 12) | (bits(inst, 7, 7) << 11) | (bits(inst, 30, 25) << 5) | (bits(inst, 11, 8) << 1)
            let ops: [Op?] = [.beq, .bne, nil, nil, .blt, .bge, .bltu, .bgeu]
            guard let op = ops[Int(f3)] else { return illegal }
            return DOp(op, rs1: r1, rs2: r2, imm: sext(imm, 13))
        case 0x03:
            let ops: [Op?] = [.lb, .lh, .lw, .ld, .lbu, .lhu, .lwu, nil]
            guard let op = ops[Int(f3)] else { return illegal }
            return iType(op)
        case 0x23:
            let ops: [Op?] = [.sb, .sh, .sw, .sd, nil, nil, nil, nil]
            guard let op = ops[Int(f3)] else { return illegal }
            return DOp(op, rs1: r1, rs2: r2, imm: immS)
        case 0x13:
            let sh = Int32(bits(inst, 25, 20)), top = bits(inst, 31, 26)
            let f12 = inst >> 20
            func shiftImm(_ op: Op, _ e: Extensions) -> DOp { ext.contains(e) ? DOp(op, rd: xd(rd), rs1: r1, imm: sh) : illegal }
            func unary(_ op: Op, _ e: Extensions) -> DOp { ext.contains(e) ? DOp(op, rd: xd(rd), rs1: r1) : illegal }
            switch f3 {
            case 0: return iType(.addi)
            case 1:
                switch top {
                case 0: return DOp(.slli, rd: xd(rd), rs1: r1, imm: sh)
                case 0x0a: return shiftImm(.bseti, .zbs)
                case 0x12: return shiftImm(.bclri, .zbs)
                case 0x1a: return shiftImm(.binvi, .zbs)
                default: break
                }
                switch f12 {
                case 0x600: return unary(.clz, .zbb)
                case 0x601: return unary(.ctz, .zbb)
                case 0x602: return unary(.cpop, .zbb)
                case 0x604: return unary(.sextB, .zbb)
                case 0x605: return unary(.sextH, .zbb)
                default: return illegal
                }
            case 2: return iType(.slti)
            case 3: return iType(.sltiu)
            case 4: return iType(.xori)
            case 5:
                if top == 0 { return DOp(.srli, rd: xd(rd), rs1: r1, imm: sh) }
                if top == 0x10 { return DOp(.srai, rd: xd(rd), rs1: r1, imm: sh) }
                if top == 0x12 { return shiftImm(.bexti, .zbs) }
                if top == 0x18 { return shiftImm(.rori, .zbb) }
                if f12 == 0x287 { return unary(.orcB, .zbb) }
                if f12 == 0x6b8 { return unary(.rev8, .zbb) }
                return illegal
            case 6: return iType(.ori)
            default: return iType(.andi)
            }
        case 0x1b:
            let sh = Int32(bits(inst, 24, 20))
            switch (f3, f7) {
            case (0, _): return iType(.addiw)
            case (1, 0): return DOp(.slliw, rd: xd(rd), rs1: r1, imm: sh)
            case (5, 0): return DOp(.srliw, rd: xd(rd), rs1: r1, imm: sh)
            case (5, 0x20): return DOp(.sraiw, rd: xd(rd), rs1: r1, imm: sh)
            case (5, 0x30) where ext.contains(.zbb): return DOp(.roriw, rd: xd(rd), rs1: r1, imm: sh)
            case (1, 0x04), (1, 0x05):
                // slli.uw: a 6-bit shift amount (bits 25:20).
                return ext.contains(.zba) ? DOp(.slliUW, rd: xd(rd), rs1: r1, imm: Int32(bits(inst, 25, 20))) : illegal
            case (1, 0x30) where ext.contains(.zbb):
                switch rs2 {
                case 0: return DOp(.clzw, rd: xd(rd), rs1: r1)
                case 1: return DOp(.ctzw, rd: xd(rd), rs1: r1)
                case 2: return DOp(.cpopw, rd: xd(rd), rs1: r1)
                default: return illegal
                }
            default: return illegal
            }
        case 0x33:
            switch (f7, f3) {
            case (0, 0): return rType(.add)
            case (0x20, 0): return rType(.sub)
            case (0, 1): return rType(.sll)
            case (0, 2): return rType(.slt)
            case (0, 3): return rType(.sltu)
            case (0, 4): return rType(.xor)
            case (0, 5): return rType(.srl)
            case (0x20, 5): return rType(.sra)
            case (0, 6): return rType(.or)
            case (0, 7): return rType(.and)
            case (1, _): return rType([Op.mul, .mulh, .mulhsu, .mulhu, .div, .divu, .rem, .remu][Int(f3)])
            case (0x20, 7) where ext.contains(.zbb): return rType(.andn)
            case (0x20, 6) where ext.contains(.zbb): return rType(.orn)
            case (0x20, 4) where ext.contains(.zbb): return rType(.xnor)
            case (0x05, 4) where ext.contains(.zbb): return rType(.min)
            case (0x05, 5) where ext.contains(.zbb): return rType(.minu)
            case (0x05, 6) where ext.contains(.zbb): return rType(.max)
            case (0x05, 7) where ext.contains(.zbb): return rType(.maxu)
            case (0x05, 1) where ext.contains(.zbc): return rType(.clmul)
            case (0x05, 2) where ext.contains(.zbc): return rType(.clmulr)
            case (0x05, 3) where ext.contains(.zbc): return rType(.clmulh)
            case (0x30, 1) where ext.contains(.zbb): return rType(.rol)
            case (0x30, 5) where ext.contains(.zbb): return rType(.ror)
            case (0x10, 2) where ext.contains(.zba): return rType(.sh1add)
            case (0x10, 4) where ext.contains(.zba): return rType(.sh2add)
            case (0x10, 6) where ext.contains(.zba): return rType(.sh3add)
            case (0x14, 1) where ext.contains(.zbs): return rType(.bset)
            case (0x24, 1) where ext.contains(.zbs): return rType(.bclr)
            case (0x24, 5) where ext.contains(.zbs): return rType(.bext)
            case (0x34, 1) where ext.contains(.zbs): return rType(.binv)
            case (0x07, 5) where ext.contains(.zicond): return rType(.czeroEqz)
            case (0x07, 7) where ext.contains(.zicond): return rType(.czeroNez)
            default: return illegal
            }
        case 0x3b:
            switch (f7, f3) {
            case (0, 0): return rType(.addw)
            case (0x20, 0): return rType(.subw)
            case (0, 1): return rType(.sllw)
            case (0, 5): return rType(.srlw)
            case (0x20, 5): return rType(.sraw)
            case (1, 0): return rType(.mulw)
            case (1, 4): return rType(.divw)
            case (1, 5): return rType(.divuw)
            case (1, 6): return rType(.remw)
            case (1, 7): return rType(.remuw)
            case (0x04, 0) where ext.contains(.zba): return rType(.addUW)
            case (0x04, 4) where ext.contains(.zbb) && rs2 == 0: return DOp(.zextH, rd: xd(rd), rs1: r1)
            case (0x10, 2) where ext.contains(.zba): return rType(.sh1addUW)
            case (0x10, 4) where ext.contains(.zba): return rType(.sh2addUW)
            case (0x10, 6) where ext.contains(.zba): return rType(.sh3addUW)
            case (0x30, 1) where ext.contains(.zbb): return rType(.rolw)
            case (0x30, 5) where ext.contains(.zbb): return rType(.rorw)
            default: return illegal
            }
        case 0x0f:
            // PAUSE (Zihintpause) is FENCE with pred = W, succ = 0, fm = 0, rs1 = rd = 0: a HINT, also
            // meaningful without the extension (a spinning hart lets the others run).
            if inst == 0x0100_000f { return DOp(.pause) }
            // FENCE: pred in bits 27:24 (I O R W), succ in 23:20; FENCE.TSO (fm = 8) does not order W before R.
            if f3 == 0 { return inst >> 24 & 1 != 0 && inst >> 21 & 1 != 0 && inst >> 28 != 8 ? DOp(.fenceStoreLoad) : DOp(.fence) }
            if f3 == 1 { return DOp(.fenceI) }
            // Zicbom/Zicboz (CMO spec §"Instructions"): rd = 0, the operation in imm[11:0].
            if f3 == 2 && rd == 0 {
                let fn = inst >> 20
                if fn <= 2 && ext.contains(.zicbom) || fn == 4 && ext.contains(.zicboz) {
                    return DOp(.cbo, rs1: r1, imm: Int32(bitPattern: inst), aux: UInt8(fn))
                }
            }
            return illegal
        case 0x73:
            return decodeSystem(inst, rd: rd, rs1: rs1, rs2: rs2, f3: f3, f7: f7, hypervisor: hypervisor, ext: ext) ?? illegal
        case 0x2f:
            guard f3 == 2 || f3 == 3 else { return illegal }
            let wide = f3 == 3
            let f5 = bits(inst, 31, 27)
            switch f5 {
            case 0b00010: return rs2 == 0 ? rType(wide ? .lrD : .lrW) : illegal
            case 0b00011: return rType(wide ? .scD : .scW)
            default:
                let table: [UInt32: AMOFunc] = [0b00001: .swap, 0b00000: .add, 0b00100: .xor, 0b01100: .and,
                                                0b01000: .or, 0b10000: .min, 0b10100: .max, 0b11000: .minu, 0b11100: .maxu]
                guard let fn = table[f5] else { return illegal }
                return DOp(wide ? .amoD : .amoW, rd: xd(rd), rs1: r1, rs2: r2, aux: fn.rawValue)
            }
        case 0x07:
            if f3 == 1 && ext.contains(.zfhmin) { return DOp(.flh, rd: UInt8(rd), rs1: r1, imm: immI) }
            if f3 == 2 { return DOp(.flw, rd: UInt8(rd), rs1: r1, imm: immI) }
            if f3 == 3 { return DOp(.fld, rd: UInt8(rd), rs1: r1, imm: immI) }
            if (f3 == 0 || f3 >= 5) && ext.contains(.v) { return DOp(.vector, imm: Int32(bitPattern: inst)) }
            return illegal
        case 0x27:
            if f3 == 1 && ext.contains(.zfhmin) { return DOp(.fsh, rs1: r1, rs2: r2, imm: immS) }
            if f3 == 2 { return DOp(.fsw, rs1: r1, rs2: r2, imm: immS) }
            if f3 == 3 { return DOp(.fsd, rs1: r1, rs2: r2, imm: immS) }
            if (f3 == 0 || f3 >= 5) && ext.contains(.v) { return DOp(.vector, imm: Int32(bitPattern: inst)) }
            return illegal
        case 0x57: return ext.contains(.v) ? DOp(.vector, imm: Int32(bitPattern: inst)) : illegal
        case 0x43, 0x47, 0x4b, 0x4f:
            let fmt = bits(inst, 26, 25)
            guard fmt <= 1 || (fmt == 2 && ext.contains(.zfh)), f3 != 5, f3 != 6 else { return illegal }
            return DOp(fmt == 0 ? .fmaS : fmt == 1 ? .fmaD : .fmaH, rd: UInt8(rd), rs1: r1, rs2: r2, imm: Int32(bitPattern: inst),
                       rs3: UInt8(bits(inst, 31, 27)), rm: UInt8(f3), aux: UInt8((opcode - 0x43) >> 2))
        case 0x53:
            // OP-FP ops carry the raw instruction in imm (unused otherwise) for mtval on illegal-instruction traps.
            guard var d = decodeOpFP(inst, rd: rd, rs1: rs1, rs2: rs2, f3: f3, f7: f7, half: ext.contains(.zfhmin), zfh: ext.contains(.zfh),
                                      zfa: ext.contains(.zfa)) else { return illegal }
            d.imm = Int32(bitPattern: inst)
            return d
        default:
            return illegal
        }
    }

    private static func decodeSystem(_ inst: UInt32, rd: UInt32, rs1: UInt32, rs2: UInt32, f3: UInt32, f7: UInt32, hypervisor: Bool,
                                     ext: Extensions) -> DOp? {
        switch f3 {
        case 0:
            switch inst {
            case 0x0000_0073: return DOp(.ecall)
            case 0x0010_0073: return DOp(.ebreak)
            case 0x3020_0073: return DOp(.mret)
            case 0x1020_0073: return DOp(.sret)
            case 0x1050_0073: return DOp(.wfi)
            // Zawrs: WRS.NTO and WRS.STO. The stall may end at once (it "may terminate for implementation-
            // specific reasons"): both retire and yield the hart's time slice, as PAUSE does.
            case 0x00d0_0073 where ext.contains(.zawrs), 0x01d0_0073 where ext.contains(.zawrs): return DOp(.pause)
            // Svinval: SFENCE.W.INVAL and SFENCE.INVAL.IR only order; aux 1 marks them (no TLB work).
            case 0x1800_0073 where ext.contains(.svinval), 0x1810_0073 where ext.contains(.svinval):
                return DOp(.sfenceVMA, imm: Int32(bitPattern: inst), aux: 1)
            default: break
            }
            guard rd == 0 else { return nil }
            switch f7 {
            case 0x09: return DOp(.sfenceVMA, rs1: UInt8(rs1), rs2: UInt8(rs2), imm: Int32(bitPattern: inst))
            case 0x11 where hypervisor: return DOp(.hfenceVVMA, rs1: UInt8(rs1), rs2: UInt8(rs2), imm: Int32(bitPattern: inst))
            case 0x31 where hypervisor: return DOp(.hfenceGVMA, rs1: UInt8(rs1), rs2: UInt8(rs2), imm: Int32(bitPattern: inst))
            // Svinval: SINVAL.VMA, HINVAL.VVMA, HINVAL.GVMA act as the matching fences (same permission checks).
            case 0x0b where ext.contains(.svinval): return DOp(.sfenceVMA, rs1: UInt8(rs1), rs2: UInt8(rs2), imm: Int32(bitPattern: inst))
            case 0x13 where hypervisor && ext.contains(.svinval): return DOp(.hfenceVVMA, rs1: UInt8(rs1), rs2: UInt8(rs2), imm: Int32(bitPattern: inst))
            case 0x33 where hypervisor && ext.contains(.svinval): return DOp(.hfenceGVMA, rs1: UInt8(rs1), rs2: UInt8(rs2), imm: Int32(bitPattern: inst))
            default: return nil
            }
        case 4 where ext.contains(.zimop) && inst >> 31 == 1 && bits(inst, 29, 28) == 0
                    && (bits(inst, 25, 22) == 0b0111 || bits(inst, 25, 25) == 1):
            // Zimop: MOP.R.n (bits 25:22 = 0111) and MOP.RR.n (bit 25 = 1) write 0 to rd.
            return DOp(.addi, rd: xd(rd), rs1: 0)
        case 4:
            // Hypervisor virtual-machine loads and stores (H extension §"Hypervisor Virtual-Machine Load and Store").
            guard hypervisor else { return nil }
            let f7n = f7
            // funct7 encodes width (bits 31:30 = 0b01 .. ) : HLV.B 0x30, HLV.H 0x32, HLV.W 0x34, HLV.D 0x36; rs2 selects U/X.
            // HSV.B 0x31, HSV.H 0x33, HSV.W 0x35, HSV.D 0x37 (rd = 0).
            let size = (f7n >> 1) & 3
            guard f7n >> 3 == 0b0110 else { return nil }
            if f7n & 1 == 1 {
                guard rd == 0 else { return nil }
                return DOp(.hsv, rs1: UInt8(rs1), rs2: UInt8(rs2), imm: Int32(bitPattern: inst), aux: UInt8(size))
            }
            switch rs2 {
            case 0: return DOp(.hlv, rd: xd(rd), rs1: UInt8(rs1), imm: Int32(bitPattern: inst), aux: UInt8(size) | 4)  // signed
            case 1:
                guard size != 3 else { return nil }
                return DOp(.hlv, rd: xd(rd), rs1: UInt8(rs1), imm: Int32(bitPattern: inst), aux: UInt8(size))  // unsigned
            case 3:
                guard size == 1 || size == 2 else { return nil }
                return DOp(.hlvx, rd: xd(rd), rs1: UInt8(rs1), imm: Int32(bitPattern: inst), aux: UInt8(size))
            default: return nil
            }
        case 1, 2, 3, 5, 6, 7:
            let ops: [Op] = [.illegal, .csrrw, .csrrs, .csrrc, .illegal, .csrrwi, .csrrsi, .csrrci]
            return DOp(ops[Int(f3)], rd: xd(rd), rs1: UInt8(rs1), imm: Int32(inst >> 20))
        default: return nil
        }
    }

    /// Zfh's OP-FP instructions (fmt = H) and, with Zfa, Zfa's half-precision forms; nil for the rest.
    private static func decodeZfh(rd: UInt32, rs1: UInt32, rs2: UInt32, f3: UInt32, f7: UInt32, zfa: Bool,
                                  arith: (Op) -> DOp?, toInt: (Op) -> DOp?, fromInt: (Op) -> DOp?) -> DOp? {
        let d = UInt8(rd), r1 = UInt8(rs1), r2 = UInt8(rs2)
        switch f7 {
        case 0x02: return arith(.faddH)
        case 0x06: return arith(.fsubH)
        case 0x0a: return arith(.fmulH)
        case 0x0e: return arith(.fdivH)
        case 0x2e: return rs2 == 0 ? arith(.fsqrtH) : nil
        case 0x12: return f3 < 3 ? DOp([.fsgnjH, .fsgnjnH, .fsgnjxH][Int(f3)], rd: d, rs1: r1, rs2: r2) : nil
        case 0x16: return f3 < 2 || (f3 < 4 && zfa) ? DOp([.fminH, .fmaxH, .fminmH, .fmaxmH][Int(f3)], rd: d, rs1: r1, rs2: r2) : nil
        case 0x22 where zfa && (rs2 == 4 || rs2 == 5): return arith(rs2 == 4 ? .froundH : .froundnxH)
        case 0x52:
            let s: [Op] = [.fleH, .fltH, .feqH, .illegal, .fleqH, .fltqH]
            return f3 < 3 || (zfa && (f3 == 4 || f3 == 5)) ? DOp(s[Int(f3)], rd: xd(rd), rs1: r1, rs2: r2) : nil
        case 0x62: return rs2 < 4 ? toInt([.fcvtWH, .fcvtWUH, .fcvtLH, .fcvtLUH][Int(rs2)]) : nil
        case 0x6a: return rs2 < 4 ? fromInt([.fcvtHW, .fcvtHWU, .fcvtHL, .fcvtHLU][Int(rs2)]) : nil
        case 0x72 where f3 == 1: return rs2 == 0 ? DOp(.fclassH, rd: xd(rd), rs1: r1) : nil
        case 0x7a where zfa && rs2 == 1: return f3 == 0 ? DOp(.fliH, rd: d, rs1: r1) : nil
        default: return nil
        }
    }

    private static func decodeOpFP(_ inst: UInt32, rd: UInt32, rs1: UInt32, rs2: UInt32, f3: UInt32, f7: UInt32, half: Bool, zfh: Bool,
                                   zfa: Bool) -> DOp? {
        let d = UInt8(rd), r1 = UInt8(rs1), r2 = UInt8(rs2), rm = UInt8(f3)
        let roundingOK = f3 != 5 && f3 != 6
        func arith(_ op: Op) -> DOp? { roundingOK ? DOp(op, rd: d, rs1: r1, rs2: r2, rm: rm) : nil }
        func toInt(_ op: Op) -> DOp? { roundingOK ? DOp(op, rd: xd(rd), rs1: r1, rm: rm) : nil }
        func fromInt(_ op: Op) -> DOp? { roundingOK ? DOp(op, rd: d, rs1: r1, rm: rm) : nil }
        if zfh, let h = decodeZfh(rd: rd, rs1: rs1, rs2: rs2, f3: f3, f7: f7, zfa: zfa, arith: arith, toInt: toInt, fromInt: fromInt) {
            return h
        }
        switch f7 {
        case 0x00: return arith(.faddS)
        case 0x01: return arith(.faddD)
        case 0x04: return arith(.fsubS)
        case 0x05: return arith(.fsubD)
        case 0x08: return arith(.fmulS)
        case 0x09: return arith(.fmulD)
        case 0x0c: return arith(.fdivS)
        case 0x0d: return arith(.fdivD)
        case 0x2c: return rs2 == 0 ? arith(.fsqrtS) : nil
        case 0x2d: return rs2 == 0 ? arith(.fsqrtD) : nil
        case 0x10, 0x11:
            let s: [Op] = f7 == 0x10 ? [.fsgnjS, .fsgnjnS, .fsgnjxS] : [.fsgnjD, .fsgnjnD, .fsgnjxD]
            return f3 < 3 ? DOp(s[Int(f3)], rd: d, rs1: r1, rs2: r2) : nil
        case 0x14, 0x15:
            let s: [Op] = f7 == 0x14 ? [.fminS, .fmaxS, .fminmS, .fmaxmS] : [.fminD, .fmaxD, .fminmD, .fmaxmD]
            return f3 < 2 || (f3 < 4 && zfa) ? DOp(s[Int(f3)], rd: d, rs1: r1, rs2: r2) : nil
        case 0x20 where zfa && (rs2 == 4 || rs2 == 5): return arith(rs2 == 4 ? .froundS : .froundnxS)
        case 0x21 where zfa && (rs2 == 4 || rs2 == 5): return arith(rs2 == 4 ? .froundD : .froundnxD)
        case 0x20: return rs2 == 1 ? arith(.fcvtSD) : (rs2 == 2 && half ? arith(.fcvtSH) : nil)
        case 0x21: return rs2 == 0 ? arith(.fcvtDS) : (rs2 == 2 && half ? arith(.fcvtDH) : nil)
        case 0x22 where half: return rs2 == 0 ? arith(.fcvtHS) : (rs2 == 1 ? arith(.fcvtHD) : nil)
        case 0x72 where half: return rs2 == 0 && f3 == 0 ? DOp(.fmvXH, rd: xd(rd), rs1: r1) : nil
        case 0x7a where half: return rs2 == 0 && f3 == 0 ? DOp(.fmvHX, rd: d, rs1: r1) : nil
        case 0x50, 0x51:
            let s: [Op] = f7 == 0x50 ? [.fleS, .fltS, .feqS, .illegal, .fleqS, .fltqS] : [.fleD, .fltD, .feqD, .illegal, .fleqD, .fltqD]
            return f3 < 3 || (zfa && (f3 == 4 || f3 == 5)) ? DOp(s[Int(f3)], rd: xd(rd), rs1: r1, rs2: r2) : nil
        case 0x61 where zfa && rs2 == 8:
            return f3 == 1 ? DOp(.fcvtmodWD, rd: xd(rd), rs1: r1, rm: 1) : nil   // rounding mode must be RTZ
        case 0x78 where zfa && rs2 == 1, 0x79 where zfa && rs2 == 1:
            return f3 == 0 ? DOp(f7 == 0x78 ? .fliS : .fliD, rd: d, rs1: r1) : nil
        case 0x60, 0x61:
            guard rs2 < 4 else { return nil }
            let s: [Op] = f7 == 0x60 ? [.fcvtWS, .fcvtWUS, .fcvtLS, .fcvtLUS] : [.fcvtWD, .fcvtWUD, .fcvtLD, .fcvtLUD]
            return toInt(s[Int(rs2)])
        case 0x68, 0x69:
            guard rs2 < 4 else { return nil }
            let s: [Op] = f7 == 0x68 ? [.fcvtSW, .fcvtSWU, .fcvtSL, .fcvtSLU] : [.fcvtDW, .fcvtDWU, .fcvtDL, .fcvtDLU]
            return fromInt(s[Int(rs2)])
        case 0x70, 0x71:
            guard rs2 == 0 else { return nil }
            if f3 == 0 { return DOp(f7 == 0x70 ? .fmvXW : .fmvXD, rd: xd(rd), rs1: r1) }
            if f3 == 1 { return DOp(f7 == 0x70 ? .fclassS : .fclassD, rd: xd(rd), rs1: r1) }
            return nil
        case 0x78, 0x79:
            guard rs2 == 0, f3 == 0 else { return nil }
            return DOp(f7 == 0x78 ? .fmvWX : .fmvDX, rd: d, rs1: r1)
        default: return nil
        }
    }

    public static func decodeCompressed(_ c: UInt16, ext: Extensions = .all) -> DOp {
        let i = UInt32(c)
        let illegal = DOp(.illegal, imm: Int32(i), len: 2)
        if c == 0 { return illegal }
        let q = i & 3, f3 = bits(i, 15, 13)
        let rdFull = bits(i, 11, 7), rs2Full = bits(i, 6, 2)
        let rdP = UInt8(bits(i, 4, 2) + 8), rs1P = UInt8(bits(i, 9, 7) + 8)
        var d: DOp
        switch (q, f3) {
        case (0, 0):
            let imm = (bits(i, 12, 11) << 4) | (bits(i, 10, 7) << 6) | (bits(i, 6, 6) << 2) | (bits(i, 5, 5) << 3)
            guard imm != 0 else { return illegal }
            d = DOp(.addi, rd: rdP, rs1: 2, imm: Int32(imm))
        case (0, 1), (0, 3), (0, 5), (0, 7):
            let imm = Int32((bits(i, 12, 10) << 3) | (bits(i, 6, 5) << 6))
            let op: Op = [1: .fld, 3: .ld, 5: .fsd, 7: .sd][f3]!
            d = f3 < 4 ? DOp(op, rd: rdP, rs1: rs1P, imm: imm) : DOp(op, rs1: rs1P, rs2: rdP, imm: imm)
        case (0, 4) where ext.contains(.zcb):
            // Zcb loads and stores: c.lbu, c.lhu, c.lh, c.sb, c.sh (funct6 100000..100011).
            let uimm1 = Int32(bits(i, 5, 5)) << 1
            switch bits(i, 12, 10) {
            case 0: d = DOp(.lbu, rd: rdP, rs1: rs1P, imm: uimm1 | Int32(bits(i, 6, 6)))
            case 1: d = DOp(bits(i, 6, 6) == 0 ? .lhu : .lh, rd: rdP, rs1: rs1P, imm: uimm1)
            case 2: d = DOp(.sb, rs1: rs1P, rs2: rdP, imm: uimm1 | Int32(bits(i, 6, 6)))
            case 3 where bits(i, 6, 6) == 0: d = DOp(.sh, rs1: rs1P, rs2: rdP, imm: uimm1)
            default: return illegal
            }
        case (0, 2), (0, 6):
            let imm = Int32((bits(i, 12, 10) << 3) | (bits(i, 6, 6) << 2) | (bits(i, 5, 5) << 6))
            d = f3 == 2 ? DOp(.lw, rd: rdP, rs1: rs1P, imm: imm) : DOp(.sw, rs1: rs1P, rs2: rdP, imm: imm)
        case (1, 0):
            d = DOp(.addi, rd: xd(rdFull), rs1: UInt8(rdFull), imm: sext((bits(i, 12, 12) << 5) | rs2Full, 6))
        case (1, 1):
            guard rdFull != 0 else { return illegal }
            d = DOp(.addiw, rd: xd(rdFull), rs1: UInt8(rdFull), imm: sext((bits(i, 12, 12) << 5) | rs2Full, 6))
        case (1, 2):
            d = DOp(.addi, rd: xd(rdFull), rs1: 0, imm: sext((bits(i, 12, 12) << 5) | rs2Full, 6))
        case (1, 3):
            if rdFull == 2 {
                let imm = (bits(i, 12, 12) << 9) | (bits(i, 6, 6) << 4) | (bits(i, 5, 5) << 6) | (bits(i, 4, 3) << 7) | (bits(i, 2, 2) << 5)
                guard imm != 0 else { return illegal }
                d = DOp(.addi, rd: 2, rs1: 2, imm: sext(imm, 10))
            } else {
                let imm = (bits(i, 12, 12) << 17) | (rs2Full << 12)
                if imm == 0 {
                    // Zcmop: C.MOP.n (odd rd x1..x15, nzimm 0) does nothing.
                    guard ext.contains(.zimop), rdFull & 1 == 1, rdFull < 16 else { return illegal }
                    d = DOp(.addi, rd: 32, rs1: 0)
                } else {
                    d = DOp(.lui, rd: xd(rdFull), imm: sext(imm, 18))
                }
            }
        case (1, 4):
            let sh = Int32((bits(i, 12, 12) << 5) | rs2Full)
            switch bits(i, 11, 10) {
            case 0: d = DOp(.srli, rd: rs1P, rs1: rs1P, imm: sh)
            case 1: d = DOp(.srai, rd: rs1P, rs1: rs1P, imm: sh)
            case 2: d = DOp(.andi, rd: rs1P, rs1: rs1P, imm: sext((bits(i, 12, 12) << 5) | rs2Full, 6))
            default:
                let sel = bits(i, 6, 5)
                if bits(i, 12, 12) == 0 {
                    d = DOp([Op.sub, .xor, .or, .and][Int(sel)], rd: rs1P, rs1: rs1P, rs2: rdP)
                } else if sel < 2 {
                    d = DOp(sel == 0 ? .subw : .addw, rd: rs1P, rs1: rs1P, rs2: rdP)
                } else if sel == 2 && ext.contains(.zcb) {
                    d = DOp(.mul, rd: rs1P, rs1: rs1P, rs2: rdP)   // c.mul
                } else if sel == 3 && ext.contains(.zcb) {
                    // c.zext.b, c.sext.b, c.zext.h, c.sext.h, c.zext.w, c.not (Zcb; the sign/zero-extending
                    // forms other than c.zext.b need Zbb, c.zext.w needs Zba).
                    switch bits(i, 4, 2) {
                    case 0: d = DOp(.andi, rd: rs1P, rs1: rs1P, imm: 0xff)
                    case 1 where ext.contains(.zbb): d = DOp(.sextB, rd: rs1P, rs1: rs1P)
                    case 2 where ext.contains(.zbb): d = DOp(.zextH, rd: rs1P, rs1: rs1P)
                    case 3 where ext.contains(.zbb): d = DOp(.sextH, rd: rs1P, rs1: rs1P)
                    case 4 where ext.contains(.zba): d = DOp(.addUW, rd: rs1P, rs1: rs1P, rs2: 0)
                    case 5: d = DOp(.xori, rd: rs1P, rs1: rs1P, imm: -1)
                    default: return illegal
                    }
                } else {
                    return illegal
                }
            }
        case (1, 5):
            let imm = (bits(i, 12, 12) << 11) | (bits(i, 11, 11) << 4) | (bits(i, 10, 9) << 8) | (bits(i, 8, 8) << 10)
                | (bits(i, 7, 7) << 6) | (bits(i, 6, 6) << 7) | (bits(i, 5, 3) << 1) | (bits(i, 2, 2) << 5)
            d = DOp(.jal, rd: 32, imm: sext(imm, 12))
        case (1, 6), (1, 7):
            let imm = (bits(i, 12, 12) << 8) | (bits(i, 11, 10) << 3) | (bits(i, 6, 5) << 6) | (bits(i, 4, 3) << 1) | (bits(i, 2, 2) << 5)
            d = DOp(f3 == 6 ? .beq : .bne, rs1: rs1P, rs2: 0, imm: sext(imm, 9))
        case (2, 0):
            d = DOp(.slli, rd: xd(rdFull), rs1: UInt8(rdFull), imm: Int32((bits(i, 12, 12) << 5) | rs2Full))
        case (2, 1), (2, 3):
            let imm = Int32((bits(i, 12, 12) << 5) | (bits(i, 6, 5) << 3) | (bits(i, 4, 2) << 6))
            if f3 == 3 {
                guard rdFull != 0 else { return illegal }
                d = DOp(.ld, rd: xd(rdFull), rs1: 2, imm: imm)
            } else {
                d = DOp(.fld, rd: UInt8(rdFull), rs1: 2, imm: imm)
            }
        case (2, 2):
            guard rdFull != 0 else { return illegal }
            let imm = Int32((bits(i, 12, 12) << 5) | (bits(i, 6, 4) << 2) | (bits(i, 3, 2) << 6))
            d = DOp(.lw, rd: xd(rdFull), rs1: 2, imm: imm)
        case (2, 4):
            if bits(i, 12, 12) == 0 {
                if rs2Full == 0 {
                    guard rdFull != 0 else { return illegal }
                    d = DOp(.jalr, rd: 32, rs1: UInt8(rdFull), imm: 0)
                } else {
                    d = DOp(.add, rd: xd(rdFull), rs1: 0, rs2: UInt8(rs2Full))
                }
            } else {
                if rdFull == 0 && rs2Full == 0 {
                    d = DOp(.ebreak)
                } else if rs2Full == 0 {
                    d = DOp(.jalr, rd: 1, rs1: UInt8(rdFull), imm: 0)
                } else {
                    d = DOp(.add, rd: xd(rdFull), rs1: UInt8(rdFull), rs2: UInt8(rs2Full))
                }
            }
        case (2, 5), (2, 7):
            let imm = Int32((bits(i, 12, 10) << 3) | (bits(i, 9, 7) << 6))
            d = DOp(f3 == 5 ? .fsd : .sd, rs1: 2, rs2: UInt8(rs2Full), imm: imm)
        case (2, 6):
            let imm = Int32((bits(i, 12, 9) << 2) | (bits(i, 8, 7) << 6))
            d = DOp(.sw, rs1: 2, rs2: UInt8(rs2Full), imm: imm)
        default:
            return illegal
        }
        d.len = 2
        return d
    }
}
