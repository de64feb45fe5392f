import Foundation
import Machine
import GuestImages
import XCTest

/// End-to-end virtio tests: Debian's kernel under the release `matryoshka` binary loads
/// virtio_mmio and the device drivers from the initramfs and uses the devices.
/// Prerequisites as in BootTests (guest images, release binary) plus mkfs.ext4 (e2fsprogs)
/// and xz; missing ones skip the tests, or fail them under CI=true.
final class VirtioBootTests: XCTestCase {
    static let timeout: TimeInterval = 150

    /// Modules (in load order) each test puts into its initramfs.
    static let blockModules = ["virtio_mmio", "virtio_blk", "crc16", "mbcache", "jbd2", "crc32c_generic", "ext4"]

    static let initPrologue = """
        #!/bin/sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        for m in $(cat /modules.list); do insmod /lib/modules/$m.ko || echo "MATRYOSHKA-INSMOD-FAILED $m"; done

        """

    // MARK: Tests

    func testExt4DiskPersistsAcrossBoots() throws {
        let env = try prerequisites(needMkfs: true)
        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let disk = dir + "/disk.img"
        try makeExt4(disk, env: env)
        let payload = "matryoshka-\(UInt32.random(in: 0...UInt32.max))"

        let writer = try initrd(dir, "write", modules: Self.blockModules, env: env, script: """
            mkdir -p /mnt
            mount -t ext4 /dev/vda /mnt && echo MATRYOSHKA-MOUNTED
            echo \(payload) > /mnt/hello.txt
            sync
            umount /mnt && echo MATRYOSHKA-UNMOUNTED
            poweroff -f
            """)
        let first = try run(env, initrd: writer, extra: ["--disk", disk])
        XCTAssertTrue(first.output.contains("MATRYOSHKA-MOUNTED"), "first boot did not mount the disk:\n\(tail(first.output))")
        XCTAssertTrue(first.output.contains("MATRYOSHKA-UNMOUNTED"), "first boot did not unmount cleanly:\n\(tail(first.output))")
        XCTAssertEqual(first.status, 0, tail(first.output))

        let reader = try initrd(dir, "read", modules: Self.blockModules, env: env, script: """
            mkdir -p /mnt
            mount -t ext4 /dev/vda /mnt && echo "MATRYOSHKA-READBACK=$(cat /mnt/hello.txt)"
            umount /mnt
            poweroff -f
            """)
        let second = try run(env, initrd: reader, extra: ["--disk", disk + ",format=raw"])
        XCTAssertTrue(second.output.contains("MATRYOSHKA-READBACK=\(payload)"), "second boot did not read the file back:\n\(tail(second.output))")
        XCTAssertEqual(second.status, 0, tail(second.output))
    }

    func testReadOnlyDiskRejectsWrites() throws {
        let env = try prerequisites(needMkfs: false)
        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let disk = dir + "/ro.img"
        let pattern = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try pattern.write(to: URL(fileURLWithPath: disk))
        let image = try initrd(dir, "ro", modules: ["virtio_mmio", "virtio_blk"], env: env, script: """
            echo "MATRYOSHKA-RO flag=$(cat /sys/block/vda/ro) size=$(cat /sys/block/vda/size)"
            dd if=/dev/zero of=/dev/vda bs=4096 count=1 oflag=direct 2>/dev/null; echo "MATRYOSHKA-DD status=$?"
            echo "MATRYOSHKA-READ $(head -c 4 /dev/vda | od -An -tx1 | tr -d ' \\n')"
            poweroff -f
            """)
        let r = try run(env, initrd: image, extra: ["--disk", disk + ",readonly=on"])
        XCTAssertTrue(r.output.contains("MATRYOSHKA-RO flag=1 size=2048"), tail(r.output))
        let dd = r.output.split(whereSeparator: \.isNewline).last { $0.contains("MATRYOSHKA-DD ") }
        XCTAssertNotNil(dd, tail(r.output))
        XCTAssertFalse(dd?.contains("status=0") ?? true, "a write to a read-only disk succeeded: \(dd ?? "")")
        XCTAssertTrue(r.output.contains("MATRYOSHKA-READ 001f3e5d"), "reads still work:\n\(tail(r.output))")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: disk)), pattern, "the image changed")
        XCTAssertEqual(r.status, 0, tail(r.output))
    }

    func testSecondVMCannotOpenLockedWritableImage() throws {
        let env = try prerequisites(needMkfs: false)
        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let disk = dir + "/shared.img"
        try Data(count: 1 << 20).write(to: URL(fileURLWithPath: disk))
        let image = try initrd(dir, "sleep", modules: [], env: env, script: """
            echo MATRYOSHKA-HOLDING
            sleep 600
            poweroff -f
            """)
        let first = try VM.start(env.binary, args(env, initrd: image, extra: ["--disk", disk]), dir: dir, name: "first")
        defer { first.kill() }
        XCTAssertTrue(first.waitFor("MATRYOSHKA-HOLDING", timeout: Self.timeout), "first VM never came up:\n\(tail(first.output))")

        let second = try BootTests.launch(env.binary, args(env, initrd: image, extra: ["--disk", disk]), timeout: 60)
        XCTAssertFalse(second.timedOut, "the second VM started despite the lock:\n\(tail(second.output))")
        XCTAssertEqual(second.status, 2, second.output)
        XCTAssertTrue(second.output.contains(disk), "the error should name the image: \(second.output)")
        XCTAssertTrue(second.output.contains("locked"), "the error should say it is locked: \(second.output)")
        // Read-only use of an image another VM writes is refused too.
        let third = try BootTests.launch(env.binary, args(env, initrd: image, extra: ["--disk", disk + ",readonly=on"]), timeout: 60)
        XCTAssertEqual(third.status, 2, third.output)
        XCTAssertTrue(first.isRunning, "the first VM should be unaffected")
    }

    func testHWRNGDeliversBytes() throws {
        let env = try prerequisites(needMkfs: false)
        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let image = try initrd(dir, "rng", modules: ["virtio_mmio", "virtio-rng"], env: env, script: """
            echo "MATRYOSHKA-HWRNG current=$(cat /sys/class/misc/hw_random/rng_current)"
            echo "MATRYOSHKA-RNG $(head -c 64 /dev/hwrng | od -An -tx1 | tr -d ' \\n')"
            poweroff -f
            """)
        let r = try run(env, initrd: image, extra: ["--rng"])
        XCTAssertTrue(r.output.contains("MATRYOSHKA-HWRNG current=virtio_rng"), tail(r.output))
        guard let line = r.output.split(whereSeparator: \.isNewline).last(where: { $0.contains("MATRYOSHKA-RNG ") }) else {
            return XCTFail("no RNG output:\n\(tail(r.output))")
        }
        let hex = line.split(separator: " ").last.map(String.init)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        XCTAssertEqual(hex.count, 128, "64 bytes from /dev/hwrng: \(line)")
        XCTAssertGreaterThan(Set(hex).count, 8, "bytes look random: \(hex)")
        XCTAssertEqual(r.status, 0, tail(r.output))
    }

    func testVirtioConsoleInputAndOutput() throws {
        let env = try prerequisites(needMkfs: false)
        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let image = try initrd(dir, "hvc", modules: ["virtio_mmio"], env: env, script: """
            i=0; while [ ! -e /dev/hvc0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
            stty -F /dev/hvc0 -echo 2>/dev/null
            echo "HVC-READY" > /dev/hvc0
            read line < /dev/hvc0
            echo "HVC-GOT=$line" > /dev/hvc0
            poweroff -f
            """)
        let vm = try VM.start(env.binary, args(env, initrd: image, extra: ["--console", "virtio"]), dir: dir, name: "hvc", pipeInput: true)
        defer { vm.kill() }
        XCTAssertTrue(vm.waitFor("HVC-READY", timeout: Self.timeout), "no output on hvc0:\n\(tail(vm.output))")
        vm.send("ping-42\n")
        XCTAssertTrue(vm.waitFor("HVC-GOT=ping-42", timeout: 60), "input did not reach hvc0:\n\(tail(vm.output))")
        XCTAssertEqual(vm.wait(timeout: 60), 0, tail(vm.output))
    }

    /// Board wiring, no guest needed: devices occupy consecutive virtio-mmio slots.
    func testMachineMapsVirtioSlots() throws {
        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let disk = dir + "/wiring.img"
        try Data(count: 1 << 20).write(to: URL(fileURLWithPath: disk))
        var config = MachineConfig()
        config.disks = [try DiskSpec.parse(disk + ",readonly=on")]
        config.rng = true
        config.virtioConsole = true
        let m = try Machine(config: config)
        XCTAssertEqual(m.virtio.count, 3)
        XCTAssertNotNil(m.virtioConsole)
        for (slot, id) in [2, 4, 3].enumerated() {
            let base = 0x1000_1000 + 0x1000 * UInt64(slot)
            XCTAssertEqual(m.bus.load(base, size: 4), 0x7472_6976, "magic in slot \(slot)")
            XCTAssertEqual(m.bus.load(base + 8, size: 4), UInt64(id), "device id in slot \(slot)")
        }
        XCTAssertEqual(m.bus.load(0x1000_1000 + 0x3000 + 8, size: 4), nil, "slot 3 is empty")

        // A writable image held by another user cannot be attached.
        let disk2 = dir + "/wiring2.img"
        try Data(count: 1 << 20).write(to: URL(fileURLWithPath: disk2))
        var locked = MachineConfig()
        locked.disks = [DiskSpec(path: disk2)]
        let holder = try Machine(config: locked)
        XCTAssertThrowsError(try Machine(config: locked)) { XCTAssertTrue("\($0)".contains(disk2), "\($0)") }
        withExtendedLifetime(holder) {}
    }

    // MARK: Helpers

    struct Env { var binary: String; var mkfs: String? }

    func prerequisites(needMkfs: Bool) throws -> Env {
        let binary = BootTests.matryoshkaBinary
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            try missing("matryoshka binary not found at \(binary): run `swift build -c release` or set MATRYOSHKA_BIN")
        }
        for path in [GuestImages.kernelPath, GuestImages.busyboxPath, GuestImages.modulesDirectory]
        where !FileManager.default.fileExists(atPath: path) {
            try missing("guest image \(path) is missing: run `swift run -c release matryoshka images fetch`")
        }
        guard Self.findTool("xz") != nil else { try missing("xz not found (install xz-utils)") }
        var env = Env(binary: binary, mkfs: nil)
        if needMkfs {
            guard let mkfs = Self.findTool("mkfs.ext4") else { try missing("mkfs.ext4 not found: install e2fsprogs") }
            env.mkfs = mkfs
        }
        return env
    }

    static func findTool(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        return dirs.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func makeExt4(_ path: String, env: Env) throws {
        try Data().write(to: URL(fileURLWithPath: path))
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.truncate(atOffset: 64 << 20)
        try h.close()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: env.mkfs!)
        p.arguments = ["-q", "-F", path]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "mkfs.ext4 failed")
    }

    /// The module's .ko: decompressed from the kernel's modules directory into `dir`.
    static func module(_ name: String, into dir: String) throws -> String {
        let out = dir + "/" + name + ".ko"
        if FileManager.default.fileExists(atPath: out) { return out }
        var base = GuestImages.modulesDirectory
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: base) {
            base = target.hasPrefix("/") ? target : GuestImages.cacheDirectory + "/" + target
        }
        base += "/"
        guard let walker = FileManager.default.enumerator(atPath: base) else { XCTFail("cannot list \(base)"); throw XCTSkip("cannot list \(base)") }
        for case let rel as String in walker {
            let file = (rel as NSString).lastPathComponent
            if file == name + ".ko" {
                try FileManager.default.copyItem(atPath: base + rel, toPath: out)
                return out
            }
            if file == name + ".ko.xz" {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: findTool("xz")!)
                p.arguments = ["-dc", base + rel]
                FileManager.default.createFile(atPath: out, contents: nil)
                let h = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
                p.standardOutput = h
                try p.run()
                p.waitUntilExit()
                try h.close()
                guard p.terminationStatus == 0 else { XCTFail("xz -dc \(base + rel) failed"); throw XCTSkip("xz -dc \(base + rel) failed") }
                return out
            }
        }
        XCTFail("kernel module \(name) not found under \(base)")
        throw XCTSkip("module \(name) missing")
    }

    /// Builds an initramfs whose /init loads `modules` and then runs `script`.
    func initrd(_ dir: String, _ name: String, modules: [String], env: Env, script: String) throws -> String {
        let modDir = dir + "/modules"
        try FileManager.default.createDirectory(atPath: modDir, withIntermediateDirectories: true)
        var extra: [(guestPath: String, hostPath: String, mode: UInt32)] = []
        for m in modules {
            extra.append((guestPath: "/lib/modules/\(m).ko", hostPath: try Self.module(m, into: modDir), mode: 0o644))
        }
        let list = dir + "/\(name).modules"
        try modules.joined(separator: " ").write(toFile: list, atomically: true, encoding: .utf8)
        extra.append((guestPath: "/modules.list", hostPath: list, mode: 0o644))
        let out = dir + "/\(name).cpio.gz"
        try GuestImages.buildInitramfs(init: Self.initPrologue + script + "\n", extraFiles: extra, to: out)
        return out
    }

    func args(_ env: Env, initrd: String, extra: [String]) -> [String] {
        ["run", "--kernel", GuestImages.kernelPath, "--initrd", initrd, "--append", "console=ttyS0 panic=-1"] + extra
    }

    func run(_ env: Env, initrd: String, extra: [String]) throws -> BootTests.RunResult {
        let r = try BootTests.launch(env.binary, args(env, initrd: initrd, extra: extra), timeout: Self.timeout)
        XCTAssertFalse(r.timedOut, "no power-off within \(Int(Self.timeout)) s:\n\(tail(r.output))")
        XCTAssertFalse(r.output.contains("MATRYOSHKA-INSMOD-FAILED"), "a module failed to load:\n\(tail(r.output))")
        return r
    }

    func tail(_ s: String) -> String {
        s.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).suffix(40).joined(separator: "\n")
    }

    /// A running matryoshka whose output goes to a file; optionally with a stdin pipe.
    final class VM {
        let process = Process()
        let logPath: String
        var input: Pipe?

        static func start(_ binary: String, _ args: [String], dir: String, name: String, pipeInput: Bool = false) throws -> VM {
            let vm = VM(logPath: dir + "/\(name).log")
            FileManager.default.createFile(atPath: vm.logPath, contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: vm.logPath))
            vm.process.executableURL = URL(fileURLWithPath: binary)
            vm.process.arguments = args
            if pipeInput {
                let p = Pipe()
                vm.input = p
                vm.process.standardInput = p
            } else {
                vm.process.standardInput = FileHandle.nullDevice
            }
            vm.process.standardOutput = log
            vm.process.standardError = log
            try vm.process.run()
            try log.close()
            return vm
        }
        init(logPath: String) { self.logPath = logPath }

        var output: String { String(decoding: FileManager.default.contents(atPath: logPath) ?? Data(), as: UTF8.self) }
        var isRunning: Bool { process.isRunning }

        func waitFor(_ text: String, timeout: TimeInterval) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if output.contains(text) { return true }
                if !process.isRunning { return output.contains(text) }
                Thread.sleep(forTimeInterval: 0.1)
            }
            return false
        }

        func send(_ text: String) { input?.fileHandleForWriting.write(Data(text.utf8)) }

        /// Exit status, or -1 after killing it at the timeout.
        func wait(timeout: TimeInterval) -> Int32 {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(); return -1 }
            return process.terminationStatus
        }

        func kill() {
            guard process.isRunning else { return }
            process.terminate()
            let grace = Date().addingTimeInterval(5)
            while process.isRunning && Date() < grace { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }
}
