import Platform
/// Operations after decoding. One case per executable behaviour; compressed instructions map onto
/// the same cases with `len == 2`. UInt8-backed so a `switch` compiles to one jump table.
public enum Op: UInt8, Sendable {
    case undecoded = 0, illegal
    case lui, auipc, jal, jalr, beq, bne, blt, bge, bltu, bgeu
    case lb, lh, lw, ld, lbu, lhu, lwu, sb, sh, sw, sd
    case addi, slti, sltiu, xori, ori, andi, slli, srli, srai
    case add, sub, sll, slt, sltu, xor, srl, sra, or, and
    case addiw, slliw, srliw, sraiw, addw, subw, sllw, srlw, sraw
    case mul, mulh, mulhsu, mulhu, div, divu, rem, remu, mulw, divw, divuw, remw, remuw
    case fence, fenceI, ecall, ebreak, mret, sret, wfi, sfenceVMA, hfenceVVMA, hfenceGVMA
    case csrrw, csrrs, csrrc, csrrwi, csrrsi, csrrci
    case lrW, scW, lrD, scD
    case amoW, amoD  // aux = AMO function (see AMOFunc)
    case flw, fld, fsw, fsd
    case fmaS, fmaD   // aux = 0 FMADD, 1 FMSUB, 2 FNMSUB, 3 FNMADD
    case faddS, fsubS, fmulS, fdivS, fsqrtS, fsgnjS, fsgnjnS, fsgnjxS, fminS, fmaxS
    case fcvtWS, fcvtWUS, fcvtLS, fcvtLUS, fmvXW, fclassS, feqS, fltS, fleS
    case fcvtSW, fcvtSWU, fcvtSL, fcvtSLU, fmvWX
    case faddD, fsubD, fmulD, fdivD, fsqrtD, fsgnjD, fsgnjnD, fsgnjxD, fminD, fmaxD
    case fcvtWD, fcvtWUD, fcvtLD, fcvtLUD, fmvXD, fclassD, feqD, fltD, fleD
    case fcvtDW, fcvtDWU, fcvtDL, fcvtDLU, fmvDX, fcvtSD, fcvtDS
    // Hypervisor loads/stores: aux = size/sign code, see Hart.hypervisorAccess
    case hlv, hlvx, hsv
    /// A 32-bit instruction whose halves lie on different pages: fetched and decoded on every execution.
    case crossPage
    /// The first slot of a JIT-compiled block (imm = block index; never produced by the decoder).
    case jit
}

public enum AMOFunc: UInt8 { case swap, add, xor, and, or, min, max, minu, maxu }

/// A pre-decoded instruction: 12 bytes, trivially copyable.
/// Integer destinations x0 are rewritten to the scratch register 32 so the executor never tests rd != 0.
public struct DOp: Sendable {
    public var op: Op
    public var rd: UInt8
    public var rs1: UInt8
    public var rs2: UInt8
    public var imm: Int32
    public var rs3: UInt8
    public var rm: UInt8
    public var len: UInt8
    public var aux: UInt8

    @inline(__always)
    public init(_ op: Op, rd: UInt8 = 0, rs1: UInt8 = 0, rs2: UInt8 = 0, imm: Int32 = 0, rs3: UInt8 = 0, rm: UInt8 = 0, len: UInt8 = 4, aux: UInt8 = 0) {
        self.op = op; self.rd = rd; self.rs1 = rs1; self.rs2 = rs2; self.imm = imm
        self.rs3 = rs3; self.rm = rm; self.len = len; self.aux = aux
    }
    public static let empty = DOp(.undecoded)
}
