import Platform
import RISCV

public struct LoadError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// What a kernel file turned out to be and where it was placed.
public struct LoadedKernel {
    public var entry: UInt64
    public var start: UInt64
    public var end: UInt64
    public var format: String
}

/// Loads Linux RISC-V Image files (Documentation/arch/riscv/boot-image-header.rst, with or without the
/// EFI stub's PE header) and ELF64 RISC-V executables into guest RAM.
public enum KernelLoader {
    static let imageMagic: [UInt8] = Array("RISCV\0\0\0".utf8)
    static let imageMagic2: [UInt8] = Array("RSC\u{05}".utf8)

    static func u16(_ b: [UInt8], _ o: Int) -> UInt64 { UInt64(b[o]) | UInt64(b[o + 1]) << 8 }
    static func u32(_ b: [UInt8], _ o: Int) -> UInt64 { u16(b, o) | u16(b, o + 2) << 16 }
    static func u64(_ b: [UInt8], _ o: Int) -> UInt64 { u32(b, o) | u32(b, o + 4) << 32 }

    public static func isELF(_ b: [UInt8]) -> Bool { b.count >= 4 && b[0] == 0x7f && b[1] == 0x45 && b[2] == 0x4c && b[3] == 0x46 }
    public static func isImage(_ b: [UInt8]) -> Bool {
        b.count >= 64 && Array(b[48..<56]) == imageMagic && Array(b[56..<60]) == imageMagic2
    }

    /// Loads `bytes` (named `path` in messages). `defaultBase` is where an Image goes when its header
    /// gives no text offset.
    public static func load(_ bytes: [UInt8], path: String, into ram: GuestRAM, imageBase: UInt64) throws -> LoadedKernel {
        if isImage(bytes) { return try loadImage(bytes, path: path, ram: ram, base: imageBase) }
        if isELF(bytes) { return try loadELF(bytes, path: path, ram: ram) }
        throw LoadError("\(path): not a RISC-V Linux Image (no \"RISCV\" magic at offset 48) or ELF file; pass the kernel's Image (e.g. /boot/vmlinux-* from Debian's linux-image-riscv64) or a vmlinux ELF")
    }

    static func loadImage(_ b: [UInt8], path: String, ram: GuestRAM, base: UInt64) throws -> LoadedKernel {
        let imageSize = u64(b, 16)
        guard u64(b, 8) <= ram.size else {
            throw LoadError("\(path): Image header text_offset \(u64(b, 8)) is beyond guest RAM")
        }
        let start = base
        let span = max(UInt64(b.count), imageSize)
        guard ram.contains(start, span) else {
            throw LoadError("\(path): kernel needs \(span >> 20) MiB at 0x\(String(start, radix: 16)); give the guest more memory with --memory")
        }
        ram.copyIn(start, b)
        return LoadedKernel(entry: start, start: start, end: start + span, format: "Image")
    }

    static func loadELF(_ b: [UInt8], path: String, ram: GuestRAM) throws -> LoadedKernel {
        guard b.count >= 64, b[4] == 2, b[5] == 1 else { throw LoadError("\(path): only little-endian ELF64 is supported") }
        guard u16(b, 18) == 243 else { throw LoadError("\(path): ELF machine \(u16(b, 18)) is not RISC-V (243)") }
        let entry = u64(b, 24), phoff = u64(b, 32), phentsize = u16(b, 54), phnum = u16(b, 56)
        guard phentsize >= 56, phoff < UInt64(b.count), phnum < 1024,
              phoff + phnum * phentsize <= UInt64(b.count) else {
            throw LoadError("\(path): truncated or corrupt ELF program header table")
        }
        var lo = UInt64.max, hi: UInt64 = 0
        var entryPhys: UInt64? = nil
        for i in 0..<Int(phnum) {
            let o = Int(phoff) + i * Int(phentsize)
            guard u32(b, o) == 1 else { continue }  // PT_LOAD
            let off = u64(b, o + 8), vaddr = u64(b, o + 16), paddr = u64(b, o + 24)
            let filesz = u64(b, o + 32), memsz = u64(b, o + 40)
            guard filesz <= memsz, off <= UInt64(b.count), filesz <= UInt64(b.count) - off else {
                throw LoadError("\(path): segment \(i) lies outside the file (truncated ELF?)")
            }
            guard ram.contains(paddr, memsz) else {
                throw LoadError("\(path): segment \(i) at physical 0x\(String(paddr, radix: 16)) (+\(memsz)) is outside guest RAM; give the guest more memory with --memory or link it at 0x80000000+")
            }
            b.withUnsafeBytes { raw in
                _ = ram.copyIn(paddr, UnsafeRawBufferPointer(rebasing: raw[Int(off)..<Int(off + filesz)]))
            }
            if memsz > filesz { ram.hostPointer(paddr + filesz, memsz - filesz)!.initializeMemory(as: UInt8.self, repeating: 0, count: Int(memsz - filesz)) }
            lo = min(lo, paddr); hi = max(hi, paddr + memsz)
            if entry >= vaddr && entry - vaddr < memsz { entryPhys = paddr + (entry - vaddr) }
        }
        guard lo < hi else { throw LoadError("\(path): ELF has no loadable segments") }
        return LoadedKernel(entry: entryPhys ?? entry, start: lo, end: hi, format: "ELF")
    }
}
