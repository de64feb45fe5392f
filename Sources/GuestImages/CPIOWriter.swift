import Foundation

/// Builds a cpio archive in the "newc" (SVR4, no CRC) format that the Linux
/// kernel unpacks as an initramfs. Entries are appended in order; parents must
/// be added before their children. Call `finish()` to append the trailer.
public struct CPIOWriter {
    public private(set) var data = Data()
    private var nextInode: UInt32 = 1
    private var finished = false

    public static let typeDirectory: UInt32 = 0o040000
    public static let typeRegular: UInt32 = 0o100000
    public static let typeSymlink: UInt32 = 0o120000
    public static let typeCharDevice: UInt32 = 0o020000

    public init() {}

    public mutating func addDirectory(_ path: String, mode: UInt32 = 0o755) {
        appendEntry(name: path, mode: Self.typeDirectory | (mode & 0o7777), nlink: 2, body: Data())
    }

    public mutating func addFile(_ path: String, contents: Data, mode: UInt32 = 0o644) {
        appendEntry(name: path, mode: Self.typeRegular | (mode & 0o7777), nlink: 1, body: contents)
    }

    public mutating func addSymlink(_ path: String, target: String) {
        appendEntry(name: path, mode: Self.typeSymlink | 0o777, nlink: 1, body: Data(target.utf8))
    }

    public mutating func addCharDevice(_ path: String, major: UInt32, minor: UInt32, mode: UInt32 = 0o600) {
        appendEntry(name: path, mode: Self.typeCharDevice | (mode & 0o7777), nlink: 1, body: Data(),
                    rdevMajor: major, rdevMinor: minor)
    }

    /// Appends the `TRAILER!!!` record and returns the archive bytes.
    public mutating func finish() -> Data {
        if !finished {
            appendEntry(name: "TRAILER!!!", mode: 0, nlink: 1, body: Data(), inode: 0)
            finished = true
        }
        return data
    }

    private mutating func appendEntry(name rawName: String, mode: UInt32, nlink: UInt32, body: Data,
                                      rdevMajor: UInt32 = 0, rdevMinor: UInt32 = 0, inode: UInt32? = nil) {
        precondition(!finished, "CPIOWriter: entry added after finish()")
        // The kernel wants relative names ("bin/sh"), without a leading slash.
        var name = rawName
        while name.hasPrefix("/") { name.removeFirst() }
        if name.isEmpty { name = "." }
        let ino: UInt32
        if let inode { ino = inode } else { ino = nextInode; nextInode += 1 }
        let nameBytes = Data(name.utf8) + Data([0])
        let fields: [UInt32] = [
            ino, mode, 0 /* uid */, 0 /* gid */, nlink, 0 /* mtime: reproducible */,
            UInt32(body.count), 0, 0 /* dev major/minor */, rdevMajor, rdevMinor,
            UInt32(nameBytes.count), 0 /* check */,
        ]
        var header = "070701"
        for f in fields {
            let hex = String(f, radix: 16, uppercase: true)
            header += String(repeating: "0", count: 8 - hex.count) + hex
        }
        data.append(Data(header.utf8))
        data.append(nameBytes)
        pad()
        data.append(body)
        pad()
    }

    private mutating func pad() {
        let rem = data.count % 4
        if rem != 0 { data.append(Data(repeating: 0, count: 4 - rem)) }
    }
}
