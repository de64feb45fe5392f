import Foundation
import GuestImages
import XCTest

/// Linux on a qcow2 overlay: the guest writes to an ext4 filesystem whose base image stays
/// untouched; qemu-img must find the overlay consistent, and a second boot reads the data back.
/// Prerequisites: the release binary and guest images (as in BootTests), mkfs.ext4, debugfs,
/// xz, qemu-img. Missing ones skip the test, or fail it under CI=true.
final class Qcow2BootTests: XCTestCase {
    static let timeout: TimeInterval = 150
    static let modules = ["virtio_mmio", "virtio_blk", "crc16", "mbcache", "jbd2", "crc32c_generic", "ext4"]

    func testGuestWritesToQcow2OverlayOnReadOnlyBase() throws {
        let binary = BootTests.matryoshkaBinary
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            try missing("matryoshka binary not found at \(binary): run `swift build -c release` or set MATRYOSHKA_BIN")
        }
        for path in [GuestImages.kernelPath, GuestImages.busyboxPath, GuestImages.modulesDirectory]
        where !FileManager.default.fileExists(atPath: path) {
            try missing("guest image \(path) is missing: run `swift run -c release matryoshka images fetch`")
        }
        let mkfs = try need("mkfs.ext4", "e2fsprogs"), debugfs = try need("debugfs", "e2fsprogs")
        let qemuImg = try need("qemu-img", "qemu-utils")
        _ = try need("xz", "xz-utils")

        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }

        // An ext4 filesystem holding base.txt, turned into a compressed qcow2 base, read-only.
        let content = dir + "/content"
        try FileManager.default.createDirectory(atPath: content, withIntermediateDirectories: true)
        try "from-the-base\n".write(toFile: content + "/base.txt", atomically: true, encoding: .utf8)
        let src = dir + "/src.raw"
        FileManager.default.createFile(atPath: src, contents: nil)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: src))
        try h.truncate(atOffset: 64 << 20)
        try h.close()
        try sh(mkfs, ["-q", "-F", "-d", content, src])
        let base = dir + "/base.qcow2"
        try sh(qemuImg, ["convert", "-c", "-O", "qcow2", src, base])
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: base)
        let baseBytes = try Data(contentsOf: URL(fileURLWithPath: base))
        let overlay = dir + "/overlay.qcow2"
        try sh(qemuImg, ["create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", overlay])

        let payload = "qcow2-\(UInt32.random(in: 0...UInt32.max))"
        let writer = try initrd(dir, "write", """
            mkdir -p /mnt
            mount -t ext4 /dev/vda /mnt && echo MATRYOSHKA-MOUNTED
            echo "MATRYOSHKA-BASE=$(cat /mnt/base.txt)"
            echo \(payload) > /mnt/new.txt
            dd if=/dev/urandom of=/mnt/big.bin bs=64k count=48 2>/dev/null
            echo "MATRYOSHKA-SUM=$(md5sum /mnt/big.bin | cut -d' ' -f1)"
            sync
            umount /mnt && echo MATRYOSHKA-UNMOUNTED
            poweroff -f
            """)
        let first = try boot(binary, writer, disk: overlay)
        XCTAssertTrue(first.output.contains("MATRYOSHKA-MOUNTED"), "first boot did not mount the overlay:\n\(tail(first.output))")
        XCTAssertTrue(first.output.contains("MATRYOSHKA-BASE=from-the-base"), "the base file is not visible:\n\(tail(first.output))")
        XCTAssertTrue(first.output.contains("MATRYOSHKA-UNMOUNTED"), tail(first.output))
        XCTAssertEqual(first.status, 0, tail(first.output))
        let sum = first.output.split(whereSeparator: \.isNewline).last { $0.contains("MATRYOSHKA-SUM=") }
            .map { String($0.split(separator: "=").last ?? "").trimmingCharacters(in: .whitespaces) }

        // The host sees a consistent overlay with the new file, and an unchanged base.
        let check = try sh(qemuImg, ["check", overlay])
        XCTAssertTrue(check.contains("No errors were found"), "qemu-img check:\n\(check)")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: base)), baseBytes, "the base image changed")
        let flat = dir + "/flat.raw"
        try sh(qemuImg, ["convert", "-O", "raw", overlay, flat])
        let catOut = try sh(debugfs, ["-R", "cat /new.txt", flat])   // stderr carries debugfs's banner
        XCTAssertEqual(catOut.split(whereSeparator: \.isNewline).last.map(String.init), payload, catOut)
        if let e2fsck = Self.findTool("e2fsck") { try sh(e2fsck, ["-fn", flat]) }
        // Only the overlay differs from the base, and only by what the guest wrote.
        let cmp = try sh(qemuImg, ["compare", "-F", "qcow2", base, overlay], expect: 1)
        XCTAssertTrue(cmp.contains("Content mismatch"), cmp)

        let reader = try initrd(dir, "read", """
            mkdir -p /mnt
            mount -t ext4 -o ro /dev/vda /mnt && echo "MATRYOSHKA-READBACK=$(cat /mnt/new.txt)"
            echo "MATRYOSHKA-SUM2=$(md5sum /mnt/big.bin | cut -d' ' -f1)"
            umount /mnt
            poweroff -f
            """)
        let second = try boot(binary, reader, disk: overlay + ",format=qcow2,readonly=on")
        XCTAssertTrue(second.output.contains("MATRYOSHKA-READBACK=\(payload)"), "second boot did not read the file back:\n\(tail(second.output))")
        if let sum { XCTAssertTrue(second.output.contains("MATRYOSHKA-SUM2=\(sum)"), "big.bin differs:\n\(tail(second.output))") }
        XCTAssertEqual(second.status, 0, tail(second.output))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: base)), baseBytes, "the base image changed")
        XCTAssertTrue(try sh(qemuImg, ["check", overlay]).contains("No errors were found"))
    }

    // MARK: Helpers

    static func findTool(_ name: String) -> String? {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
            + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        return dirs.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private func need(_ tool: String, _ package: String) throws -> String {
        guard let p = Self.findTool(tool) else { try missing("\(tool) not found: install \(package)") }
        return p
    }

    @discardableResult
    private func sh(_ tool: String, _ args: [String], expect: Int32 = 0, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let (status, out) = try GuestProcess.capture(tool, args)
        XCTAssertEqual(status, expect, "\(tool) \(args.joined(separator: " ")):\n\(out)", file: file, line: line)
        return out
    }

    private func initrd(_ dir: String, _ name: String, _ script: String) throws -> String {
        let modDir = dir + "/modules"
        try FileManager.default.createDirectory(atPath: modDir, withIntermediateDirectories: true)
        var extra: [(guestPath: String, hostPath: String, mode: UInt32)] = []
        for m in Self.modules {
            extra.append((guestPath: "/lib/modules/\(m).ko", hostPath: try VirtioBootTests.module(m, into: modDir), mode: 0o644))
        }
        let list = dir + "/\(name).modules"
        try Self.modules.joined(separator: " ").write(toFile: list, atomically: true, encoding: .utf8)
        extra.append((guestPath: "/modules.list", hostPath: list, mode: 0o644))
        let initScript = """
            #!/bin/sh
            /bin/busybox --install -s /bin
            mount -t proc proc /proc
            mount -t sysfs sysfs /sys
            mount -t devtmpfs devtmpfs /dev
            for m in $(cat /modules.list); do insmod /lib/modules/$m.ko || echo "MATRYOSHKA-INSMOD-FAILED $m"; done
            \(script)

            """
        let out = dir + "/\(name).cpio.gz"
        try GuestImages.buildInitramfs(init: initScript, extraFiles: extra, to: out)
        return out
    }

    private func boot(_ binary: String, _ initrd: String, disk: String) throws -> BootTests.RunResult {
        let r = try BootTests.launch(binary, ["run", "--kernel", GuestImages.kernelPath, "--initrd", initrd,
                                              "--append", "console=ttyS0 panic=-1", "--disk", disk], timeout: Self.timeout)
        XCTAssertFalse(r.timedOut, "no power-off within \(Int(Self.timeout)) s:\n\(tail(r.output))")
        XCTAssertFalse(r.output.contains("MATRYOSHKA-INSMOD-FAILED"), "a module failed to load:\n\(tail(r.output))")
        return r
    }

    private func tail(_ s: String) -> String {
        s.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).suffix(40).joined(separator: "\n")
    }
}
