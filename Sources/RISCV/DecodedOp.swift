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
    /// Zihintpause's PAUSE and Zawrs's WRS.NTO/WRS.STO: a spin-wait hint; the hart yields its time slice.
    case pause
    /// A FENCE that orders earlier stores before later loads (predecessor W, successor R): x86-64's TSO
    /// does not, so with harts on several host threads it is an MFENCE; on one thread, nothing.
    case fenceStoreLoad
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
    // Zfhmin
    case flh, fsh, fmvXH, fmvHX, fcvtSH, fcvtHS, fcvtDH, fcvtHD
    // Zfh (arithmetic; loads, stores, moves and conversions to S and D are Zfhmin's)
    case fmaH, faddH, fsubH, fmulH, fdivH, fsqrtH, fsgnjH, fsgnjnH, fsgnjxH, fminH, fmaxH
    case fcvtWH, fcvtWUH, fcvtLH, fcvtLUH, fclassH, feqH, fltH, fleH, fcvtHW, fcvtHWU, fcvtHL, fcvtHLU
    // Zfa (FLI: rs1 is the table index)
    case fliS, fliD, fminmS, fmaxmS, fminmD, fmaxmD, froundS, froundnxS, froundD, froundnxD, fcvtmodWD
    case fleqS, fltqS, fleqD, fltqD
    case fliH, fminmH, fmaxmH, froundH, froundnxH, fleqH, fltqH
    // Hypervisor loads/stores: aux = size/sign code, see Hart.hypervisorAccess
    case hlv, hlvx, hsv
    // Bit manipulation (Zba, Zbb, Zbc, Zbs) and integer conditional zero (Zicond). Immediate forms
    // (rori, roriw, slliUW, bclri, bexti, binvi, bseti) take their shift amount from imm.
    case andn, orn, xnor, clz, clzw, ctz, ctzw, cpop, cpopw, max, maxu, min, minu, sextB, sextH, zextH
    case rol, rolw, ror, rori, roriw, rorw, orcB, rev8
    case sh1add, sh2add, sh3add, sh1addUW, sh2addUW, sh3addUW, addUW, slliUW
    case clmul, clmulh, clmulr
    case bclr, bclri, bext, bexti, binv, binvi, bset, bseti
    case czeroEqz, czeroNez
    /// Cache-block operations (Zicbom, Zicboz): aux = 0 inval, 1 clean, 2 flush, 4 zero; imm = raw instruction.
    case cbo
    /// A vector instruction (V: OP-V, and LOAD-FP/STORE-FP with a vector width); imm = raw instruction.
    case vector
    /// A 32-bit instruction whose halves lie on different pages: fetched and decoded on every execution.
    case crossPage
    /// The first slot of a JIT-compiled block (imm = block index; never produced by the decoder).
    case jit
}

/// The optional extensions a hart implements beyond RV64GC (and H, which has its own switch): the
/// decoder treats an instruction of a missing extension as illegal.
public struct Extensions: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let zba = Extensions(rawValue: 1 << 0)
    public static let zbb = Extensions(rawValue: 1 << 1)
    public static let zbc = Extensions(rawValue: 1 << 2)
    public static let zbs = Extensions(rawValue: 1 << 3)
    public static let zicond = Extensions(rawValue: 1 << 4)
    public static let zcb = Extensions(rawValue: 1 << 5)
    /// Zimop and Zcmop: the may-be-operations (they write 0 to rd; compressed ones do nothing).
    public static let zimop = Extensions(rawValue: 1 << 6)
    public static let zicbom = Extensions(rawValue: 1 << 7)
    public static let zicboz = Extensions(rawValue: 1 << 8)
    public static let zawrs = Extensions(rawValue: 1 << 9)
    public static let svinval = Extensions(rawValue: 1 << 10)
    /// Svpbmt: PTE bits 62:61 choose a memory type (menvcfg/henvcfg.PBMTE).
    public static let svpbmt = Extensions(rawValue: 1 << 11)
    /// Svnapot: PTE bit 63 marks a 64 KiB naturally aligned mapping.
    public static let svnapot = Extensions(rawValue: 1 << 12)
    /// Zfhmin: half-precision loads, stores, moves and conversions.
    public static let zfhmin = Extensions(rawValue: 1 << 13)
    /// Zfa: FLI, FMINM/FMAXM, FROUND/FROUNDNX, FCVTMOD.W.D, FLEQ/FLTQ (single and double).
    public static let zfa = Extensions(rawValue: 1 << 14)
    /// Zfh: half-precision arithmetic, comparisons and integer conversions (implies Zfhmin; with Zfa,
    /// Zfa's half-precision forms).
    public static let zfh = Extensions(rawValue: 1 << 15)
    /// Svade: a PTE whose A bit (or, for a store, D bit) needs setting raises a page fault. Without
    /// Svade or Svadu (the rv64gc model) the walk sets them, as before either was ratified.
    public static let svade = Extensions(rawValue: 1 << 16)
    /// Svadu: menvcfg.ADUE (S-mode and G-stage) and henvcfg.ADUE (VS-stage) turn hardware A/D updating on.
    public static let svadu = Extensions(rawValue: 1 << 17)
    /// Smstateen/Ssstateen: mstateen0-3, hstateen0-3 and sstateen0-3 gate less-privileged access to
    /// sstateen/hstateen (SE) and senvcfg/henvcfg (ENVCFG).
    public static let smstateen = Extensions(rawValue: 1 << 18)
    /// Pointer masking for S/HS-mode (Smnpm: menvcfg.PMM) and for U, VS and VU-mode (Ssnpm:
    /// senvcfg.PMM, henvcfg.PMM, hstatus.HUPMM): data addresses ignore their upper 7 or 16 bits.
    public static let smnpm = Extensions(rawValue: 1 << 19)
    public static let ssnpm = Extensions(rawValue: 1 << 20)
    /// The vector extension V 1.0 (VLEN from `Hart.vlenb`, ELEN 64), with Zvfhmin (half-precision
    /// conversions), Zvbb (vector basic bit manipulation) and Zvkt (data-independent timing: nothing to do).
    public static let v = Extensions(rawValue: 1 << 21)
    public static let zvfhmin = Extensions(rawValue: 1 << 22)
    public static let zvbb = Extensions(rawValue: 1 << 23)
    public static let zvkt = Extensions(rawValue: 1 << 24)
    /// Sscofpmf: mhpmevent mode filters and overflow (OF, LCOFI), scountovf.
    public static let sscofpmf = Extensions(rawValue: 1 << 25)
    public static let none: Extensions = []
    public static let all: Extensions = [.zba, .zbb, .zbc, .zbs, .zicond, .zcb, .zimop, .zicbom, .zicboz, .zawrs, .svinval, .svpbmt, .svnapot,
                                         .zfhmin, .zfa, .zfh, .svade, .svadu, .smstateen, .smnpm, .ssnpm,
                                         .v, .zvfhmin, .zvbb, .zvkt, .sscofpmf]
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
