import Platform
/// CSR numbers (privileged spec, table "Currently allocated RISC-V ... CSR addresses").
public enum CSR {
    public static let fflags: UInt16 = 0x001, frm: UInt16 = 0x002, fcsr: UInt16 = 0x003
    public static let cycle: UInt16 = 0xc00, time: UInt16 = 0xc01, instret: UInt16 = 0xc02
    public static let sstatus: UInt16 = 0x100, sie: UInt16 = 0x104, stvec: UInt16 = 0x105, scounteren: UInt16 = 0x106
    public static let senvcfg: UInt16 = 0x10a, sscratch: UInt16 = 0x140, sepc: UInt16 = 0x141, scause: UInt16 = 0x142
    public static let stval: UInt16 = 0x143, sip: UInt16 = 0x144, stimecmp: UInt16 = 0x14d, satp: UInt16 = 0x180
    public static let hstatus: UInt16 = 0x600, hedeleg: UInt16 = 0x602, hideleg: UInt16 = 0x603, hie: UInt16 = 0x604
    public static let mstateen0: UInt16 = 0x30c, hstateen0: UInt16 = 0x60c, sstateen0: UInt16 = 0x10c
    public static let htimedelta: UInt16 = 0x605, hcounteren: UInt16 = 0x606, hgeie: UInt16 = 0x607, henvcfg: UInt16 = 0x60a
    public static let htval: UInt16 = 0x643, hip: UInt16 = 0x644, hvip: UInt16 = 0x645, htinst: UInt16 = 0x64a
    public static let hgatp: UInt16 = 0x680, hgeip: UInt16 = 0xe12
    public static let vsstatus: UInt16 = 0x200, vsie: UInt16 = 0x204, vstvec: UInt16 = 0x205, vsscratch: UInt16 = 0x240
    public static let vsepc: UInt16 = 0x241, vscause: UInt16 = 0x242, vstval: UInt16 = 0x243, vsip: UInt16 = 0x244
    public static let vstimecmp: UInt16 = 0x24d, vsatp: UInt16 = 0x280
    public static let mvendorid: UInt16 = 0xf11, marchid: UInt16 = 0xf12, mimpid: UInt16 = 0xf13, mhartid: UInt16 = 0xf14
    public static let mconfigptr: UInt16 = 0xf15
    public static let mstatus: UInt16 = 0x300, misa: UInt16 = 0x301, medeleg: UInt16 = 0x302, mideleg: UInt16 = 0x303
    public static let mie: UInt16 = 0x304, mtvec: UInt16 = 0x305, mcounteren: UInt16 = 0x306, menvcfg: UInt16 = 0x30a
    public static let mcountinhibit: UInt16 = 0x320, mscratch: UInt16 = 0x340, mepc: UInt16 = 0x341, mcause: UInt16 = 0x342
    public static let mtval: UInt16 = 0x343, mip: UInt16 = 0x344, mtinst: UInt16 = 0x34a, mtval2: UInt16 = 0x34b
    public static let pmpcfg0: UInt16 = 0x3a0, pmpaddr0: UInt16 = 0x3b0
    public static let mcycle: UInt16 = 0xb00, minstret: UInt16 = 0xb02
}

/// mstatus bits (privileged spec §3.1.6).
public enum MStatus {
    public static let sie: UInt64 = 1 << 1, mie: UInt64 = 1 << 3, spie: UInt64 = 1 << 5, ube: UInt64 = 1 << 6
    public static let mpie: UInt64 = 1 << 7, spp: UInt64 = 1 << 8, vs: UInt64 = 3 << 9, mpp: UInt64 = 3 << 11
    public static let fs: UInt64 = 3 << 13, xs: UInt64 = 3 << 15, mprv: UInt64 = 1 << 17, sum: UInt64 = 1 << 18
    public static let mxr: UInt64 = 1 << 19, tvm: UInt64 = 1 << 20, tw: UInt64 = 1 << 21, tsr: UInt64 = 1 << 22
    public static let uxl: UInt64 = 3 << 32, sxl: UInt64 = 3 << 34, sbe: UInt64 = 1 << 36, mbe: UInt64 = 1 << 37
    public static let gva: UInt64 = 1 << 38, mpv: UInt64 = 1 << 39, sd: UInt64 = 1 << 63
    public static let fsShift: UInt64 = 13, mppShift: UInt64 = 11
}

/// hstatus bits (H extension §"Hypervisor Status Register").
public enum HStatus {
    public static let vsbe: UInt64 = 1 << 5, gva: UInt64 = 1 << 6, spv: UInt64 = 1 << 7, spvp: UInt64 = 1 << 8
    public static let hu: UInt64 = 1 << 9, vgein: UInt64 = 0x3f << 12, vtvm: UInt64 = 1 << 20, vtw: UInt64 = 1 << 21
    public static let vtsr: UInt64 = 1 << 22, vsxl: UInt64 = 3 << 32
}

/// Synchronous exception causes (privileged spec table "mcause values").
public enum Cause {
    public static let fetchMisaligned: UInt64 = 0, fetchAccess: UInt64 = 1, illegal: UInt64 = 2, breakpoint: UInt64 = 3
    public static let loadMisaligned: UInt64 = 4, loadAccess: UInt64 = 5, storeMisaligned: UInt64 = 6, storeAccess: UInt64 = 7
    public static let ecallU: UInt64 = 8, ecallS: UInt64 = 9, ecallVS: UInt64 = 10, ecallM: UInt64 = 11
    public static let fetchPage: UInt64 = 12, loadPage: UInt64 = 13, storePage: UInt64 = 15
    public static let fetchGuestPage: UInt64 = 20, loadGuestPage: UInt64 = 21, virtualInstruction: UInt64 = 22
    public static let storeGuestPage: UInt64 = 23
    public static let interruptBit: UInt64 = 1 << 63
}

/// Privilege levels as encoded in mstatus.MPP.
public enum Priv {
    public static let user: UInt8 = 0, supervisor: UInt8 = 1, machine: UInt8 = 3
}
