import Platform
#if canImport(Glibc)
import Glibc
#endif

// A template JIT for hot straight-line integer code: a block of RV64I/M ops (up to a control transfer,
// an op it does not translate, or the end of the page) becomes x86-64 code that works directly on the
// hart's register array and does loads/stores through the same software TLB as the interpreter.
// Guest registers stay in memory, so a block can stop before any instruction and the interpreter picks
// up exactly there: a TLB miss simply ends the block ("precise exits"); traps, CSRs, FP, atomics and
// division are always interpreted.
//
// Blocks are entered through one trampoline (`JIT.enter`) that saves the callee-saved registers and
// keeps the chain budget in rbp while blocks jump from one to the next; a block's `ret` goes back to
// it. In blocks: rdi = register array (x0..x32), rsi = JITContext, rbp = budget, rax/rcx/rdx scratch,
// r8..r11, rbx and r12..r15 the register cache. Nothing is called.

/// Shared with generated code; offsets are baked into it.
struct JITContext {
    var tlbLoad: UnsafeMutablePointer<TLBEntry>    // +0
    var tlbStore: UnsafeMutablePointer<TLBEntry>   // +8
    var exitPC: UInt64 = 0                         // +16: where the interpreter continues
    var budget: Int64 = 0                          // +24: blocks subtract what they ran; chained blocks
                                                   // run while it stays positive
    var tlbFetch: UnsafeMutablePointer<FetchEntry> // +32: the fetch TLB slot of the running privilege
}

typealias JITBlockFunction = @convention(c) (UnsafeMutablePointer<UInt64>, UnsafeMutableRawPointer) -> Void
/// The trampoline: (registers, context, block).
typealias JITEnterFunction = @convention(c) (UnsafeMutablePointer<UInt64>, UnsafeMutableRawPointer, JITBlockFunction) -> Void

struct JITBlock {
    var code: JITBlockFunction
    /// The virtual address the block was translated at: its code holds absolute pcs, so it only runs there
    /// (a physical page can be mapped at several addresses, e.g. Linux's early identity map).
    var va: UInt64
    /// The op the block's first slot held; run by the interpreter when the block exits at once.
    var original: DOp
}

/// x86-64 machine-code emitter for the few instruction forms the templates need.
struct X86Emitter {
    var bytes: [UInt8] = []
    enum R: UInt8 { case rax = 0, rcx = 1, rdx = 2, rsi = 6, rdi = 7 }

    mutating func emit(_ b: UInt8...) { bytes.append(contentsOf: b) }
    mutating func imm32(_ v: Int32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func imm64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    static func disp(_ reg: UInt8) -> Int32 { Int32(reg) * 8 }

    // Write-through register cache: nine host registers hold copies of guest registers this block has
    // read or written. Every write still goes to the register array, so an exit anywhere needs no spill; reads
    // of a cached register skip the load, which would otherwise wait on the store of the instruction
    // before it (store-to-load forwarding sits on the critical path of every dependent pair). A block
    // starts with an empty cache; templates only update it on paths every execution takes.
    /// Host registers of the cache slots (x86 numbers: r8..r11, rbx, r12..r15).
    static let slotHost: [UInt8] = [8, 9, 10, 11, 3, 12, 13, 14, 15]
    var slotReg = [UInt8](repeating: 0xff, count: X86Emitter.slotHost.count)
    var slotUse = [Int](repeating: 0, count: X86Emitter.slotHost.count)
    var clock = 0

    func slot(of reg: UInt8) -> Int? { slotReg.firstIndex(of: reg) }
    mutating func touch(_ s: Int) { clock += 1; slotUse[s] = clock }
    /// The slot for `reg`: its own, or the least recently used one.
    mutating func claim(_ reg: UInt8) -> Int {
        let s = slot(of: reg) ?? slotUse.indices.min { slotUse[$0] < slotUse[$1] }!
        slotReg[s] = reg
        touch(s)
        return s
    }
    /// mov slot, r
    mutating func movToSlot(_ s: Int, _ r: R) {
        let h = X86Emitter.slotHost[s]
        emit(0x48 | h >> 3, 0x89, 0xC0 | (r.rawValue << 3) | (h & 7))
    }
    /// <opcode> rax (eax), slot: the register form of aluMem/imulMem.
    mutating func opSlot(_ opcode: [UInt8], _ s: Int, wide: Bool) {
        let h = X86Emitter.slotHost[s]
        emit((wide ? 0x48 : 0x40) | h >> 3); bytes += opcode; emit(0xC0 | (h & 7))
    }

    /// mov r64, x[reg]
    mutating func loadX(_ r: R, _ reg: UInt8) {
        if let s = slot(of: reg) {
            touch(s)
            let h = X86Emitter.slotHost[s]
            emit(0x48 | (h >> 3) << 2, 0x89, 0xC0 | (h & 7) << 3 | r.rawValue)  // mov r, slot
            return
        }
        emit(0x48, 0x8B, 0x87 | (r.rawValue << 3)); imm32(X86Emitter.disp(reg))
        movToSlot(claim(reg), r)
    }
    /// x[reg] = r64 (the array, and the cache)
    mutating func storeX(_ reg: UInt8, _ r: R) {
        emit(0x48, 0x89, 0x87 | (r.rawValue << 3)); imm32(X86Emitter.disp(reg))
        movToSlot(claim(reg), r)
    }
    /// <op> rax, x[reg]  (64-bit, or 32-bit when wide == false)
    mutating func aluMem(_ opcode: UInt8, _ reg: UInt8, wide: Bool = true) {
        if let s = slot(of: reg) {
            touch(s)
            opSlot([opcode], s, wide: wide); return                           // <op> rax, slot
        }
        if wide { emit(0x48) }
        emit(opcode, 0x87); imm32(X86Emitter.disp(reg))
    }
    mutating func imulMem(_ reg: UInt8, wide: Bool = true) {
        if let s = slot(of: reg) {
            touch(s)
            opSlot([0x0F, 0xAF], s, wide: wide); return                       // imul rax, slot
        }
        if wide { emit(0x48) }
        emit(0x0F, 0xAF, 0x87); imm32(X86Emitter.disp(reg))
    }
    mutating func movsxdRaxEax() { emit(0x48, 0x63, 0xC0) }
    /// mov eax, [rdi + 8*reg]: the low word, zero-extended.
    mutating func loadLowWord(_ reg: UInt8) { emit(0x8B, 0x87); imm32(X86Emitter.disp(reg)) }
    mutating func notRax() { emit(0x48, 0xF7, 0xD0) }
    mutating func movRaxImm64(_ v: UInt64) { emit(0x48, 0xB8); imm64(v) }
    /// Writes exitPC, counts what ran and returns.
    mutating func exit(pc: UInt64, executed: Int) {
        movRaxImm64(pc)
        emit(0x48, 0x89, 0x46, 0x10)                  // mov [rsi+16], rax
        subBudget(executed)
        emit(0xC3)                                     // ret
    }
    mutating func subBudget(_ n: Int) { emit(0x48, 0x81, 0xED); imm32(Int32(n)) }   // sub rbp, imm32 (sets the flags)
    mutating func jmp() -> Int { emit(0xE9); let at = bytes.count; imm32(0); return at }
    /// Leaves the block for the constant `pc`. When `pc` is on the same page, the exit can later be
    /// patched into a direct jump to the block translated there (while the chain budget lasts): the
    /// returned offset is the `jmp rel32` to patch, initially aimed at the plain exit.
    mutating func chainableExit(pc: UInt64, executed: Int) -> Int {
        subBudget(executed)
        let toPlain = jcc(0x8E)                                  // jle plain
        let site = jmp()
        patch(toPlain, to: bytes.count)
        patch(site, to: bytes.count)
        movRaxImm64(pc)
        emit(0x48, 0x89, 0x46, 0x10)                            // mov [rsi+16], rax
        emit(0xC3)
        return site
    }
    /// Leaves the block for the pc in rax, going straight on to the block translated there when the
    /// fetch TLB maps it and that block was translated for this very address (QEMU's
    /// lookup-and-goto): calls, returns and jumps to other pages then stay in translated code.
    /// Otherwise (or when the chain budget is spent) returns to the interpreter with exitPC = rax.
    mutating func lookupExit(executed: Int, blocks: UnsafeMutablePointer<JITBlock>) {
        emit(0x48, 0x89, 0x46, 0x10)                            // mov [rsi+16], rax
        subBudget(executed)
        var outs = [jcc(0x8E)]                                  // jle out
        emit(0x48, 0x89, 0xC2)                                  // mov rdx, rax
        emit(0x48, 0xC1, 0xEA, 0x0C)                            // shr rdx, 12
        emit(0x81, 0xE2); imm32(Int32(Hart.tlbSize - 1))        // and edx, tlbMask
        emit(0x48, 0xC1, 0xE2, UInt8(MemoryLayout<FetchEntry>.stride.trailingZeroBitCount))  // shl rdx, log2(stride)
        emit(0x48, 0x03, 0x56, UInt8(MemoryLayout<JITContext>.offset(of: \.tlbFetch)!))  // add rdx, [rsi+tlbFetch]
        emit(0x48, 0x89, 0xC1)                                  // mov rcx, rax
        emit(0x48, 0x81, 0xE1); imm32(-4096)                    // and rcx, ~0xfff
        emit(0x48, 0x3B, 0x0A)                                  // cmp rcx, [rdx]   (tag)
        outs.append(jcc(0x85))                                  // jne out
        emit(0x48, 0x8B, 0x52, UInt8(MemoryLayout<FetchEntry>.offset(of: \.ops)!))  // mov rdx, [rdx+ops]
        emit(0x89, 0xC1)                                        // mov ecx, eax
        emit(0x81, 0xE1); imm32(0xffe)                          // and ecx, 0xffe
        emit(0xD1, 0xE9)                                        // shr ecx, 1      (slot)
        emit(0x48, 0x6B, 0xC9, UInt8(MemoryLayout<DOp>.stride)) // imul rcx, rcx, stride
        emit(0x48, 0x01, 0xCA)                                  // add rdx, rcx    (&ops[slot])
        emit(0x80, 0x7A, UInt8(MemoryLayout<DOp>.offset(of: \.op)!), Op.jit.rawValue)  // cmp byte [rdx+op], .jit
        outs.append(jcc(0x85))                                  // jne out
        emit(0x48, 0x63, 0x4A, UInt8(MemoryLayout<DOp>.offset(of: \.imm)!))  // movsxd rcx, dword [rdx+imm]
        emit(0x48, 0x69, 0xC9); imm32(Int32(MemoryLayout<JITBlock>.stride))   // imul rcx, rcx, stride
        emit(0x48, 0xBA); imm64(UInt64(UInt(bitPattern: blocks)))            // mov rdx, blocks
        emit(0x48, 0x01, 0xD1)                                  // add rcx, rdx    (&blocks[index])
        emit(0x48, 0x3B, 0x41, UInt8(MemoryLayout<JITBlock>.offset(of: \.va)!))  // cmp rax, [rcx+va]
        outs.append(jcc(0x85))                                  // jne out
        emit(0xFF, 0x61, UInt8(MemoryLayout<JITBlock>.offset(of: \.code)!))      // jmp [rcx+code]
        for o in outs { patch(o, to: bytes.count) }
        emit(0xC3)                                              // out: ret
    }
    /// Emits `jcc rel32` (cc = 0x80...0x8F) and returns the offset of the rel32 to patch.
    mutating func jcc(_ cc: UInt8) -> Int { emit(0x0F, cc); let at = bytes.count; imm32(0); return at }
    mutating func patch(_ at: Int, to target: Int) {
        let rel = Int32(target - (at + 4))
        withUnsafeBytes(of: rel.littleEndian) { for i in 0..<4 { bytes[at + i] = $0[i] } }
    }
}

public final class JIT {
    /// Harts on several host threads: FENCEs that order stores before loads end the block (the
    /// interpreter issues an MFENCE).
    public var strongFences = false
    static let codeSize = 64 << 20
    static let maxBlockOps = 64
    static let hotThreshold: UInt8 = 4
    /// POPCNT (x86-64-v2) for cpop/cpopw; without it they stay interpreted.
    static let hostHasPopcnt: Bool = {
        guard let f = fopen("/proc/cpuinfo", "r") else { return false }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 8192)
        while fgets(&line, Int32(line.count), f) != nil {
            let text = String(cString: line)
            if text.hasPrefix("flags") { return text.split(whereSeparator: \.isWhitespace).contains("popcnt") }
        }
        return false
    }()

    let code: UnsafeMutableRawPointer
    var used = 0
    /// The trampoline at the start of the code buffer.
    let enter: JITEnterFunction
    let trampolineSize: Int
    var blocks: UnsafeMutablePointer<JITBlock>
    var blockCount = 0
    var blockCapacity = 1 << 16
    /// Unpatched chain jumps per RAM page: (absolute address of the rel32, target virtual address).
    var pendingChains: [Int: [(site: UnsafeMutableRawPointer, target: UInt64)]] = [:]
    public private(set) var chainedExits = 0
    public private(set) var compiledBlocks = 0
    public private(set) var flushes = 0

    public static var isAvailable: Bool {
        #if arch(x86_64)
        return true
        #else
        return false
        #endif
    }

    init?() {
        guard JIT.isAvailable else { return nil }
        // lookupExit indexes the fetch TLB with a shift.
        precondition(MemoryLayout<FetchEntry>.stride.nonzeroBitCount == 1)
        let p = mmap(nil, JIT.codeSize, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let p, p != MAP_FAILED else { return nil }
        code = p
        blocks = .allocate(capacity: blockCapacity)
        var t = X86Emitter()
        t.emit(0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57)   // push rbx, rbp, r12..r15
        let budget = UInt8(MemoryLayout<JITContext>.offset(of: \.budget)!)
        t.emit(0x48, 0x8B, 0x6E, budget)                                     // mov rbp, [rsi+budget]
        t.emit(0xFF, 0xD2)                                                   // call rdx
        t.emit(0x48, 0x89, 0x6E, budget)                                     // mov [rsi+budget], rbp
        t.emit(0x41, 0x5F, 0x41, 0x5E, 0x41, 0x5D, 0x41, 0x5C, 0x5D, 0x5B)   // pop r15..r12, rbp, rbx
        t.emit(0xC3)
        t.bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        enter = unsafeBitCast(p, to: JITEnterFunction.self)
        trampolineSize = (t.bytes.count + 15) & ~15
        used = trampolineSize
    }
    deinit {
        munmap(code, JIT.codeSize)
        blocks.deinitialize(count: blockCount)
        blocks.deallocate()
    }

    /// The block at `ops[slot]` was reached at another virtual address: put the original op back and let
    /// the slot become hot again so it is translated for the new address.
    func unlink(ops: UnsafeMutablePointer<DOp>, slot: Int, ramPage: Int, original: DOp, cache: CodeCache) {
        ops[slot] = original
        cache.hotness(ramPage: ramPage)[slot] = 0
    }

    /// The page's ops were discarded (code written): its blocks are unreachable, forget their chain sites.
    func pageInvalidated(_ ramPage: Int) {
        pendingChains[ramPage] = nil
    }

    static func patch(site: UnsafeMutableRawPointer, to target: UnsafeRawPointer) {
        let rel = Int32(truncatingIfNeeded: Int(bitPattern: target) - (Int(bitPattern: site) + 4))
        site.storeBytes(of: rel.littleEndian, as: Int32.self)
    }

    /// Forgets every block (code buffer or block table full). The code cache is invalidated so no
    /// `.jit` op survives.
    func flush(_ cache: CodeCache) {
        cache.invalidateAll()
        blocks.deinitialize(count: blockCount)
        blockCount = 0
        used = trampolineSize
        cache.resetAllHotness()
        pendingChains.removeAll()
        flushes += 1
    }

    /// Whether the op can be part of a block (control transfers end it, but are included).
    static let excluded: Set<String> = Set((getenv("MATRYOSHKA_JIT_EXCLUDE").map { String(cString: $0) } ?? "").split(separator: ",").map(String.init))
    static func translatable(_ op: Op) -> Bool {
        if !excluded.isEmpty && excluded.contains("\(op)") { return false }
        switch op {
        case .lui, .auipc, .jal, .jalr, .beq, .bne, .blt, .bge, .bltu, .bgeu,
             .lb, .lh, .lw, .ld, .lbu, .lhu, .lwu, .sb, .sh, .sw, .sd,
             .addi, .slti, .sltiu, .xori, .ori, .andi, .slli, .srli, .srai,
             .add, .sub, .sll, .slt, .sltu, .xor, .srl, .sra, .or, .and,
             .addiw, .slliw, .srliw, .sraiw, .addw, .subw, .sllw, .srlw, .sraw, .mul, .mulw, .fence,
             .mulh, .mulhu, .mulhsu, .div, .divu, .rem, .remu, .divw, .divuw, .remw, .remuw,
             .andn, .orn, .xnor, .sh1add, .sh2add, .sh3add, .sh1addUW, .sh2addUW, .sh3addUW, .addUW, .slliUW,
             .zextH, .sextB, .sextH, .min, .max, .minu, .maxu, .rev8, .rol, .ror, .rori, .rolw, .rorw, .roriw,
             .bset, .bclr, .binv, .bext, .bseti, .bclri, .binvi, .bexti, .czeroEqz, .czeroNez,
             .clz, .clzw, .ctz, .ctzw, .orcB:
            return true
        case .cpop, .cpopw:
            return JIT.hostHasPopcnt
        default:
            return false
        }
    }

    /// Compiles the block starting at `va` whose page's host memory and ops are given, and installs a
    /// `.jit` op in its first slot. Returns false when nothing worth compiling was found.
    func compile(va: UInt64, ops: UnsafeMutablePointer<DOp>, host: UnsafeRawPointer, cache: CodeCache, ramPage: Int,
                 ext: Extensions) -> Bool {
        var offset = Int(va & 0xfff)
        var pc = va
        var a = X86Emitter()
        var stubs: [(at: Int, pc: UInt64, executed: Int)] = []
        var chainSites: [(at: Int, target: UInt64)] = []
        let pageVA = va & ~0xfff
        func exitTo(_ target: UInt64, _ executed: Int) {
            if target & ~0xfff == pageVA { chainSites.append((a.chainableExit(pc: target, executed: executed), target)) }
            else { a.movRaxImm64(target); a.lookupExit(executed: executed, blocks: blocks) }
        }
        var count = 0
        var ended = false
        cache.markHasCode(ramPage: ramPage)
        while count < JIT.maxBlockOps && offset < 4096 {
            let lo = host.load(fromByteOffset: offset, as: UInt16.self)
            let d: DOp
            if Decoder.isLong(lo) {
                if offset > 4092 { break }   // straddles the page end
                d = Decoder.decode(host.loadUnaligned(fromByteOffset: offset, as: UInt32.self), hypervisor: false, ext: ext)
            } else {
                d = Decoder.decodeCompressed(lo, ext: ext)
            }
            if !(d.op == .fenceStoreLoad ? !strongFences : JIT.translatable(d.op)) { break }
            // Cache the decoded op too, so an exit into the middle of the block interprets without decoding.
            if ops[offset >> 1].op == .undecoded { ops[offset >> 1] = d }
            let next = pc &+ UInt64(d.len)
            let imm = d.imm
            switch d.op {
            case .lui:
                a.emit(0x48, 0xC7, 0xC0); a.imm32(imm); a.storeX(d.rd, .rax)
            case .auipc:
                a.movRaxImm64(pc &+ UInt64(bitPattern: Int64(imm))); a.storeX(d.rd, .rax)
            case .addi: a.loadX(.rax, d.rs1); a.emit(0x48, 0x05); a.imm32(imm); a.storeX(d.rd, .rax)
            case .xori: a.loadX(.rax, d.rs1); a.emit(0x48, 0x35); a.imm32(imm); a.storeX(d.rd, .rax)
            case .ori: a.loadX(.rax, d.rs1); a.emit(0x48, 0x0D); a.imm32(imm); a.storeX(d.rd, .rax)
            case .andi: a.loadX(.rax, d.rs1); a.emit(0x48, 0x25); a.imm32(imm); a.storeX(d.rd, .rax)
            case .slli: a.loadX(.rax, d.rs1); a.emit(0x48, 0xC1, 0xE0, UInt8(imm & 63)); a.storeX(d.rd, .rax)
            case .srli: a.loadX(.rax, d.rs1); a.emit(0x48, 0xC1, 0xE8, UInt8(imm & 63)); a.storeX(d.rd, .rax)
            case .srai: a.loadX(.rax, d.rs1); a.emit(0x48, 0xC1, 0xF8, UInt8(imm & 63)); a.storeX(d.rd, .rax)
            case .slti, .sltiu:
                a.loadX(.rax, d.rs1); a.emit(0x48, 0x3D); a.imm32(imm)          // cmp rax, imm32
                a.emit(0x0F, d.op == .slti ? 0x9C : 0x92, 0xC0)                  // setl / setb al
                a.emit(0x0F, 0xB6, 0xC0); a.storeX(d.rd, .rax)                   // movzx eax, al
            case .addiw: a.loadX(.rax, d.rs1); a.emit(0x05); a.imm32(imm); a.movsxdRaxEax(); a.storeX(d.rd, .rax)
            case .slliw: a.loadX(.rax, d.rs1); a.emit(0xC1, 0xE0, UInt8(imm & 31)); a.movsxdRaxEax(); a.storeX(d.rd, .rax)
            case .srliw: a.loadX(.rax, d.rs1); a.emit(0xC1, 0xE8, UInt8(imm & 31)); a.movsxdRaxEax(); a.storeX(d.rd, .rax)
            case .sraiw: a.loadX(.rax, d.rs1); a.emit(0xC1, 0xF8, UInt8(imm & 31)); a.movsxdRaxEax(); a.storeX(d.rd, .rax)
            case .add: a.loadX(.rax, d.rs1); a.aluMem(0x03, d.rs2); a.storeX(d.rd, .rax)
            case .sub: a.loadX(.rax, d.rs1); a.aluMem(0x2B, d.rs2); a.storeX(d.rd, .rax)
            case .and: a.loadX(.rax, d.rs1); a.aluMem(0x23, d.rs2); a.storeX(d.rd, .rax)
            case .or: a.loadX(.rax, d.rs1); a.aluMem(0x0B, d.rs2); a.storeX(d.rd, .rax)
            case .xor: a.loadX(.rax, d.rs1); a.aluMem(0x33, d.rs2); a.storeX(d.rd, .rax)
            case .mul: a.loadX(.rax, d.rs1); a.imulMem(d.rs2); a.storeX(d.rd, .rax)
            case .addw: a.loadX(.rax, d.rs1); a.aluMem(0x03, d.rs2, wide: false); a.movsxdRaxEax(); a.storeX(d.rd, .rax)
            case .subw: a.loadX(.rax, d.rs1); a.aluMem(0x2B, d.rs2, wide: false); a.movsxdRaxEax(); a.storeX(d.rd, .rax)
            case .mulw: a.loadX(.rax, d.rs1); a.imulMem(d.rs2, wide: false); a.movsxdRaxEax(); a.storeX(d.rd, .rax)
            case .sll, .srl, .sra, .sllw, .srlw, .sraw:
                a.loadX(.rcx, d.rs2); a.loadX(.rax, d.rs1)
                let wide = d.op == .sll || d.op == .srl || d.op == .sra
                let ext: UInt8 = (d.op == .sll || d.op == .sllw) ? 0xE0 : ((d.op == .srl || d.op == .srlw) ? 0xE8 : 0xF8)
                if wide { a.emit(0x48) }
                a.emit(0xD3, ext)                                                // shift rax/eax by cl
                if !wide { a.movsxdRaxEax() }
                a.storeX(d.rd, .rax)
            case .slt, .sltu:
                a.loadX(.rax, d.rs1); a.aluMem(0x3B, d.rs2)                       // cmp rax, [x+rs2]
                a.emit(0x0F, d.op == .slt ? 0x9C : 0x92, 0xC0); a.emit(0x0F, 0xB6, 0xC0); a.storeX(d.rd, .rax)
            case .fence, .fenceStoreLoad:
                break   // .fenceStoreLoad only gets here on one host thread (strongFences off): TSO orders the rest
            // Bit manipulation (Zba, Zbb, Zbs) and Zicond; rax = result unless noted.
            case .andn, .orn:
                a.loadX(.rax, d.rs2); a.notRax(); a.aluMem(d.op == .andn ? 0x23 : 0x0B, d.rs1); a.storeX(d.rd, .rax)
            case .xnor:
                a.loadX(.rax, d.rs1); a.aluMem(0x33, d.rs2); a.notRax(); a.storeX(d.rd, .rax)
            case .sh1add, .sh2add, .sh3add, .sh1addUW, .sh2addUW, .sh3addUW, .addUW, .slliUW:
                let shift: UInt8
                switch d.op {
                case .sh1add, .sh1addUW: shift = 1
                case .sh2add, .sh2addUW: shift = 2
                case .sh3add, .sh3addUW: shift = 3
                case .slliUW: shift = UInt8(imm & 63)
                default: shift = 0
                }
                if d.op == .sh1add || d.op == .sh2add || d.op == .sh3add { a.loadX(.rax, d.rs1) } else { a.loadLowWord(d.rs1) }
                if shift != 0 { a.emit(0x48, 0xC1, 0xE0, shift) }                // shl rax, shift
                if d.op != .slliUW { a.aluMem(0x03, d.rs2) }                      // add rax, [x+rs2]
                a.storeX(d.rd, .rax)
            case .zextH: a.emit(0x0F, 0xB7, 0x87); a.imm32(X86Emitter.disp(d.rs1)); a.storeX(d.rd, .rax)        // movzx eax, word
            case .sextB: a.emit(0x48, 0x0F, 0xBE, 0x87); a.imm32(X86Emitter.disp(d.rs1)); a.storeX(d.rd, .rax)  // movsx rax, byte
            case .sextH: a.emit(0x48, 0x0F, 0xBF, 0x87); a.imm32(X86Emitter.disp(d.rs1)); a.storeX(d.rd, .rax)  // movsx rax, word
            case .min, .max, .minu, .maxu:
                a.loadX(.rax, d.rs1); a.loadX(.rcx, d.rs2)
                a.emit(0x48, 0x39, 0xC8)                                          // cmp rax, rcx
                let cc: UInt8 = d.op == .min ? 0x4F : (d.op == .max ? 0x4C : (d.op == .minu ? 0x47 : 0x42))  // cmovg/l/a/b
                a.emit(0x48, 0x0F, cc, 0xC1)                                      // rax = rcx when rs2 wins
                a.storeX(d.rd, .rax)
            case .rev8: a.loadX(.rax, d.rs1); a.emit(0x48, 0x0F, 0xC8); a.storeX(d.rd, .rax)                    // bswap rax
            case .rori: a.loadX(.rax, d.rs1); a.emit(0x48, 0xC1, 0xC8, UInt8(imm & 63)); a.storeX(d.rd, .rax)
            case .roriw: a.loadLowWord(d.rs1); a.emit(0xC1, 0xC8, UInt8(imm & 31)); a.movsxdRaxEax(); a.storeX(d.rd, .rax)
            case .rol, .ror, .rolw, .rorw:
                a.loadX(.rcx, d.rs2); a.loadX(.rax, d.rs1)
                let wide = d.op == .rol || d.op == .ror
                if wide { a.emit(0x48) }
                a.emit(0xD3, d.op == .rol || d.op == .rolw ? 0xC0 : 0xC8)        // rol/ror rax (eax), cl
                if !wide { a.movsxdRaxEax() }
                a.storeX(d.rd, .rax)
            case .bset, .bclr, .binv:
                a.loadX(.rcx, d.rs2); a.loadX(.rax, d.rs1)
                a.emit(0x48, 0x0F, d.op == .bset ? 0xAB : (d.op == .bclr ? 0xB3 : 0xBB), 0xC8)  // bts/btr/btc rax, rcx
                a.storeX(d.rd, .rax)
            case .bseti, .bclri, .binvi:
                a.loadX(.rax, d.rs1)
                a.emit(0x48, 0x0F, 0xBA, d.op == .bseti ? 0xE8 : (d.op == .bclri ? 0xF0 : 0xF8), UInt8(imm & 63))
                a.storeX(d.rd, .rax)
            case .bext:
                a.loadX(.rcx, d.rs2); a.loadX(.rax, d.rs1)
                a.emit(0x48, 0xD3, 0xE8); a.emit(0x83, 0xE0, 0x01)               // shr rax, cl; and eax, 1
                a.storeX(d.rd, .rax)
            case .bexti:
                a.loadX(.rax, d.rs1)
                a.emit(0x48, 0xC1, 0xE8, UInt8(imm & 63)); a.emit(0x83, 0xE0, 0x01)
                a.storeX(d.rd, .rax)
            case .czeroEqz, .czeroNez:
                a.loadX(.rax, d.rs1); a.emit(0x31, 0xC9)                           // xor ecx, ecx
                a.emit(0x48, 0x83, 0xBF); a.imm32(X86Emitter.disp(d.rs2)); a.emit(0x00)  // cmp qword [x+rs2], 0
                a.emit(0x48, 0x0F, d.op == .czeroEqz ? 0x44 : 0x45, 0xC1)         // cmove/cmovne rax, rcx
                a.storeX(d.rd, .rax)
            case .clz:
                // 63 - bsr, with a zero input counted as bsr = -1.
                a.loadX(.rax, d.rs1); a.emit(0x48, 0xC7, 0xC1); a.imm32(-1)      // mov rcx, -1
                a.emit(0x48, 0x0F, 0xBD, 0xC0); a.emit(0x48, 0x0F, 0x44, 0xC1)    // bsr rax, rax; cmovz rax, rcx
                a.emit(0xB9); a.imm32(63); a.emit(0x48, 0x29, 0xC1)              // mov ecx, 63; sub rcx, rax
                a.storeX(d.rd, .rcx)
            case .clzw:
                a.loadLowWord(d.rs1); a.emit(0xB9); a.imm32(-1)                    // mov ecx, -1
                a.emit(0x0F, 0xBD, 0xC0); a.emit(0x0F, 0x44, 0xC1)                 // bsr eax, eax; cmovz eax, ecx
                a.emit(0xB9); a.imm32(31); a.emit(0x29, 0xC1)                     // mov ecx, 31; sub ecx, eax
                a.storeX(d.rd, .rcx)
            case .ctz, .ctzw:
                let wide = d.op == .ctz
                if wide { a.loadX(.rax, d.rs1) } else { a.loadLowWord(d.rs1) }
                a.emit(0xB9); a.imm32(wide ? 64 : 32)                             // mov ecx, 64 (32)
                if wide { a.emit(0x48) }
                a.emit(0x0F, 0xBC, 0xC0)                                          // bsf rax (eax), rax (eax)
                if wide { a.emit(0x48) }
                a.emit(0x0F, 0x44, 0xC1)                                          // cmovz: a zero input counts all bits
                a.storeX(d.rd, .rax)
            case .cpop, .cpopw:
                if d.op == .cpop { a.loadX(.rax, d.rs1); a.emit(0xF3, 0x48, 0x0F, 0xB8, 0xC0) }   // popcnt rax, rax
                else { a.loadLowWord(d.rs1); a.emit(0xF3, 0x0F, 0xB8, 0xC0) }                     // popcnt eax, eax
                a.storeX(d.rd, .rax)
            case .orcB:
                // SSE2: bytes equal to zero become 0xff, then everything is inverted.
                a.loadX(.rax, d.rs1)
                a.emit(0x66, 0x48, 0x0F, 0x6E, 0xC0)                              // movq xmm0, rax
                a.emit(0x66, 0x0F, 0xEF, 0xC9)                                    // pxor xmm1, xmm1
                a.emit(0x66, 0x0F, 0x74, 0xC1)                                    // pcmpeqb xmm0, xmm1
                a.emit(0x66, 0x48, 0x0F, 0x7E, 0xC0)                              // movq rax, xmm0
                a.notRax(); a.storeX(d.rd, .rax)
            case .mulhu, .mulh, .mulhsu:
                a.loadX(.rax, d.rs1)
                a.emit(0x48, 0xF7, d.op == .mulh ? 0xAF : 0xA7); a.imm32(X86Emitter.disp(d.rs2))  // (i)mul qword [x+rs2]
                if d.op == .mulhsu {
                    // signed x unsigned: the unsigned high half, minus rs2 when rs1 is negative
                    a.loadX(.rax, d.rs1)
                    a.emit(0x48, 0x85, 0xC0)                                      // test rax, rax
                    let positive = a.jcc(0x89)                                    // jns
                    a.emit(0x48, 0x2B, 0x97); a.imm32(X86Emitter.disp(d.rs2))     // sub rdx, [x+rs2]
                    a.patch(positive, to: a.bytes.count)
                }
                a.storeX(d.rd, .rdx)
            case .div, .divu, .rem, .remu, .divw, .divuw, .remw, .remuw:
                // RISC-V never traps on division: x/0 = all ones, x%0 = x, MIN/-1 = MIN, MIN%-1 = 0.
                let wide = d.op == .div || d.op == .divu || d.op == .rem || d.op == .remu
                let signed = d.op == .div || d.op == .rem || d.op == .divw || d.op == .remw
                let isRem = d.op == .rem || d.op == .remu || d.op == .remw || d.op == .remuw
                let w: [UInt8] = wide ? [0x48] : []
                a.loadX(.rcx, d.rs2); a.loadX(.rax, d.rs1)
                a.bytes += w; a.emit(0x85, 0xC9)                                  // test rcx, rcx
                let byZero = a.jcc(0x84)
                var overflow = -1
                if signed {
                    a.bytes += w; a.emit(0x83, 0xF9, 0xFF)                        // cmp rcx, -1
                    let notMinusOne = a.jcc(0x85)
                    if wide { a.emit(0x48, 0xBA); a.imm64(1 << 63); a.emit(0x48, 0x39, 0xD0) }  // cmp rax, INT64_MIN
                    else { a.emit(0x3D); a.imm32(Int32.min) }                      // cmp eax, INT32_MIN
                    overflow = a.jcc(0x84)
                    a.patch(notMinusOne, to: a.bytes.count)
                    a.bytes += w; a.emit(0x99)                                    // cqo / cdq
                    a.bytes += w; a.emit(0xF7, 0xF9)                              // idiv rcx / ecx
                } else {
                    a.emit(0x31, 0xD2)                                            // xor edx, edx
                    a.bytes += w; a.emit(0xF7, 0xF1)                              // div rcx / ecx
                }
                if isRem { if wide { a.emit(0x48, 0x89, 0xD0) } else { a.emit(0x48, 0x63, 0xC2) } }  // rax = rdx (sign-extended)
                else if !wide { a.movsxdRaxEax() }
                let done = a.jmp()
                a.patch(byZero, to: a.bytes.count)
                if isRem { if !wide { a.movsxdRaxEax() } }                         // x % 0 = x
                else { a.emit(0x48, 0xC7, 0xC0); a.imm32(-1) }                   // x / 0 = -1
                if signed {
                    let done2 = a.jmp()
                    a.patch(overflow, to: a.bytes.count)
                    if isRem { a.emit(0x31, 0xC0) }                               // MIN % -1 = 0
                    else if !wide { a.movsxdRaxEax() }                            // MIN / -1 = MIN
                    a.patch(done2, to: a.bytes.count)
                }
                a.patch(done, to: a.bytes.count)
                a.storeX(d.rd, .rax)
            case .lb, .lh, .lw, .ld, .lbu, .lhu, .lwu, .sb, .sh, .sw, .sd:
                let isStore = d.op == .sb || d.op == .sh || d.op == .sw || d.op == .sd
                let size: Int32
                switch d.op { case .lb, .lbu, .sb: size = 1; case .lh, .lhu, .sh: size = 2; case .lw, .lwu, .sw: size = 4; default: size = 8 }
                a.loadX(.rax, d.rs1); a.emit(0x48, 0x05); a.imm32(imm)           // rax = va
                a.emit(0x48, 0x89, 0xC2)                                         // mov rdx, rax
                a.emit(0x48, 0xC1, 0xEA, 0x0C)                                   // shr rdx, 12
                a.emit(0x81, 0xE2); a.imm32(Int32(Hart.tlbSize - 1))                 // and edx, tlbMask
                a.emit(0x48, 0xC1, 0xE2, 0x04)                                   // shl rdx, 4
                if isStore { a.emit(0x48, 0x03, 0x56, 0x08) } else { a.emit(0x48, 0x03, 0x16) }  // add rdx, [rsi+8] / [rsi]
                a.emit(0x48, 0x89, 0xC1)                                         // mov rcx, rax
                a.emit(0x48, 0x81, 0xE1); a.imm32(~(0xfff ^ (size - 1)))         // and rcx, tag mask
                a.emit(0x48, 0x3B, 0x0A)                                         // cmp rcx, [rdx]
                stubs.append((a.jcc(0x85), pc, count))                           // jne miss
                a.emit(0x48, 0x03, 0x42, 0x08)                                   // add rax, [rdx+8]
                switch d.op {
                case .lb: a.emit(0x48, 0x0F, 0xBE, 0x00)
                case .lbu: a.emit(0x0F, 0xB6, 0x00)
                case .lh: a.emit(0x48, 0x0F, 0xBF, 0x00)
                case .lhu: a.emit(0x0F, 0xB7, 0x00)
                case .lw: a.emit(0x48, 0x63, 0x00)
                case .lwu: a.emit(0x8B, 0x00)
                case .ld: a.emit(0x48, 0x8B, 0x00)
                default:
                    a.loadX(.rcx, d.rs2)
                    switch d.op {
                    case .sb: a.emit(0x88, 0x08)
                    case .sh: a.emit(0x66, 0x89, 0x08)
                    case .sw: a.emit(0x89, 0x08)
                    default: a.emit(0x48, 0x89, 0x08)
                    }
                }
                if !isStore { a.storeX(d.rd, .rax) }
            case .jal:
                count += 1
                a.movRaxImm64(next); a.storeX(d.rd, .rax)
                exitTo(pc &+ UInt64(bitPattern: Int64(imm)), count)
                ended = true
            case .jalr:
                count += 1
                a.loadX(.rax, d.rs1); a.emit(0x48, 0x05); a.imm32(imm)
                a.emit(0x48, 0x83, 0xE0, 0xFE)                                   // and rax, -2
                a.emit(0x48, 0xB9); a.imm64(next); a.storeX(d.rd, .rcx)          // rd = next (rax keeps the target)
                a.lookupExit(executed: count, blocks: blocks)
                ended = true
            case .beq, .bne, .blt, .bge, .bltu, .bgeu:
                count += 1
                a.loadX(.rax, d.rs1); a.aluMem(0x3B, d.rs2)                       // cmp rax, [x+rs2]
                let cc: UInt8
                switch d.op { case .beq: cc = 0x84; case .bne: cc = 0x85; case .blt: cc = 0x8C; case .bge: cc = 0x8D; case .bltu: cc = 0x82; default: cc = 0x83 }
                let taken = a.jcc(cc)
                exitTo(next, count)
                a.patch(taken, to: a.bytes.count)
                exitTo(pc &+ UInt64(bitPattern: Int64(imm)), count)
                ended = true
            default:
                break
            }
            if ended { break }
            count += 1
            pc = next
            offset += Int(d.len)
        }
        guard count >= 1 else { return false }
        if !ended { exitTo(pc, count) }
        for s in stubs {
            a.patch(s.at, to: a.bytes.count)
            a.exit(pc: s.pc, executed: s.executed)
        }
        if used + a.bytes.count > JIT.codeSize || blockCount == blockCapacity {
            flush(cache)
            return false
        }
        let dst = code + used
        a.bytes.withUnsafeBytes { dst.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        used += (a.bytes.count + 15) & ~15
        let slot = Int(va & 0xfff) >> 1
        let original = ops[slot]
        guard original.op != .undecoded else { return false }
        // Chain: jumps to this block itself, to blocks already on this page, and older jumps waiting for it.
        for c in chainSites {
            let site = dst + c.at
            if c.target == va {
                JIT.patch(site: site, to: dst); chainedExits += 1
            } else if ops[Int(c.target & 0xfff) >> 1].op == .jit,
                      blocks[Int(ops[Int(c.target & 0xfff) >> 1].imm)].va == c.target {
                JIT.patch(site: site, to: unsafeBitCast(blocks[Int(ops[Int(c.target & 0xfff) >> 1].imm)].code, to: UnsafeRawPointer.self))
                chainedExits += 1
            } else {
                pendingChains[ramPage, default: []].append((site, c.target))
            }
        }
        if var waiting = pendingChains[ramPage] {
            waiting.removeAll { w in
                guard w.target == va else { return false }
                JIT.patch(site: w.site, to: dst); chainedExits += 1
                return true
            }
            pendingChains[ramPage] = waiting
        }
        blocks.advanced(by: blockCount).initialize(to: JITBlock(code: unsafeBitCast(dst, to: JITBlockFunction.self), va: va, original: original))
        var j = original
        j.op = .jit
        j.imm = Int32(blockCount)
        ops[slot] = j
        blockCount += 1
        compiledBlocks += 1
        return true
    }
}
