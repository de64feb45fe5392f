import Foundation
import Logging

/// An error from fetching or building guest images. The message names the file
/// or tool involved and says what to do about it.
public struct GuestImageError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Real guest software for Matryoshka: Debian trixie's riscv64 kernel, OpenSBI,
/// a static busybox, and initramfs images built from them.
///
/// Everything lives in a cache directory outside the repository:
/// `$MATRYOSHKA_CACHE`, else `$XDG_CACHE_HOME/matryoshka`, else `~/.cache/matryoshka`.
/// `fetch` downloads the Debian packages into it with a private apt (`PrivateApt` in `aptDirectory`:
/// the host's apt configuration and state are not touched; apt checks the signed index and every
/// .deb) from the mirror `DebianMirror.find` picks, and creates stable names
/// (`Image`, `fw_dynamic.bin`, `busybox`, `modules`, `initramfs.cpio.gz`).
public struct GuestImages: Sendable {
    /// The Debian suite the guest packages come from.
    public static let suite = "trixie"
    /// Modules copied (decompressed) into the default initramfs under `/lib/modules/`.
    public static let initramfsModules = ["virtio_mmio", "virtio_blk", "failover", "net_failover", "virtio_net", "irqbypass", "kvm"]

    // MARK: Paths

    public static var cacheDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["MATRYOSHKA_CACHE"], !dir.isEmpty { return dir }
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/matryoshka" }
        let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.cache/matryoshka"
    }

    /// The Linux kernel (a flat RISC-V `Image`, loaded at RAM base + 2 MiB).
    public static var kernelPath: String { cacheDirectory + "/Image" }
    /// OpenSBI's `fw_dynamic.bin` (for `--firmware`).
    public static var firmwarePath: String { cacheDirectory + "/fw_dynamic.bin" }
    /// A statically linked riscv64 busybox.
    public static var busyboxPath: String { cacheDirectory + "/busybox" }
    /// The kernel's modules directory (`lib/modules/<version>`), modules are `.ko.xz`.
    public static var modulesDirectory: String { cacheDirectory + "/modules" }
    /// The default initramfs: busybox, an interactive shell on the console, power-off on exit.
    public static var initramfsPath: String { cacheDirectory + "/initramfs.cpio.gz" }
    /// Where the Debian packages are extracted.
    public static var rootDirectory: String { cacheDirectory + "/root" }

    /// True when the kernel, firmware and busybox are all present.
    public static var isFetched: Bool {
        let fm = FileManager.default
        return [kernelPath, firmwarePath, busyboxPath, modulesDirectory].allSatisfy { fm.fileExists(atPath: $0) }
    }

    /// The `/init` of the default initramfs.
    public static let defaultInitScript = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TERM=vt100
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev 2>/dev/null
        mkdir -p /dev/pts /dev/shm
        mount -t devpts devpts /dev/pts
        mount -t tmpfs tmpfs /tmp
        mount -t tmpfs tmpfs /run
        hostname matryoshka
        ip link set lo up 2>/dev/null
        echo
        echo "=== Matryoshka guest: Linux $(uname -r) on $(uname -m) ==="
        echo "    $(grep -c '^processor' /proc/cpuinfo) CPU(s), $(awk '/MemTotal/{print int($2/1024)}' /proc/meminfo) MiB RAM"
        [ -d /lib/modules ] && echo "    modules: $(cd /lib/modules && ls | tr '\\n' ' ')(insmod /lib/modules/NAME.ko)"
        echo "    exit the shell to power off"
        echo
        export PS1='matryoshka:\\w# '
        cd /root
        setsid cttyhack sh -l
        echo "shell exited: powering off"
        sync
        poweroff -f
        """

    // MARK: Fetch

    /// Downloads and extracts the guest packages (idempotent, and instant when they are present),
    /// then builds the default initramfs if it is missing. `progress` receives one line per step.
    /// `mirror` is the Debian archive to use (else `DebianMirror.find`'s choice).
    public static func fetch(mirror: String? = nil, progress: (String) -> Void) throws {
        try fetch(mirror: mirror, nested: false, progress: progress)
    }

    /// `fetch`, then with `nested` also `fetchNested`'s images; one apt session serves both.
    public static func fetch(mirror: String?, nested: Bool, progress: (String) -> Void) throws {
        let session = AptSession(mirror: mirror)
        try fetchBase(session: session, progress: progress)
        if nested { try fetchNested(session: session, progress: progress) }
    }

    /// The private apt of one fetch, set up on first use (the mirror is looked up only then, so an
    /// up-to-date cache needs neither apt nor a mirror).
    final class AptSession {
        let mirrorOption: String?
        private var apt: PrivateApt?
        init(mirror: String?) { mirrorOption = mirror }

        func privateApt(progress: (String) -> Void) throws -> PrivateApt {
            if let apt { return apt }
            let mirror = try DebianMirror.find(option: mirrorOption)
            progress("mirror \(mirror.url) (from \(mirror.origin))")
            let apt = try PrivateApt(directory: aptDirectory, mirror: mirror.url, progress: progress)
            self.apt = apt
            return apt
        }
    }

    /// The private apt directory (`PrivateApt`) shared by the base and the nested images.
    public static var aptDirectory: String { cacheDirectory + "/apt" }

    static func fetchBase(session: AptSession, progress: (String) -> Void) throws {
        let fm = FileManager.default
        let cache = cacheDirectory
        try makeDirectory(cache)

        if isFetched {
            progress("guest packages already present in \(cache)")
        } else {
            let apt = try session.privateApt(progress: progress)
            if isFetched {
                progress("guest packages fetched by another matryoshka meanwhile")
            } else {
                try downloadAndExtract(apt: apt, progress: progress)
                try linkStableNames(progress: progress)
            }
        }

        if fm.fileExists(atPath: initramfsPath) {
            progress("default initramfs already present: \(initramfsPath)")
        } else {
            progress("building default initramfs \(initramfsPath)")
            var extra: [(guestPath: String, hostPath: String, mode: UInt32)] = []
            let modDir = cache + "/initramfs-modules"
            do {
                for path in try decompressedModules(initramfsModules, into: modDir) {
                    let name = (path as NSString).lastPathComponent
                    extra.append((guestPath: "/lib/modules/" + name, hostPath: path, mode: 0o644))
                }
            } catch {
                progress("note: kernel modules left out of the initramfs: \(error)")
            }
            try buildInitramfs(init: defaultInitScript, extraFiles: extra, to: initramfsPath)
        }
        progress("kernel:    \(kernelPath)")
        progress("firmware:  \(firmwarePath)")
        progress("busybox:   \(busyboxPath)")
        progress("modules:   \(modulesDirectory)")
        progress("initramfs: \(initramfsPath)")
    }

    static func missingToolMessage(_ tool: String) -> String {
        """
        \(tool) not found in PATH. Fetching the guest images uses Debian's package tools: install apt \
        and dpkg (they come with Debian and Ubuntu), or set MATRYOSHKA_CACHE to a directory holding \
        Image (a riscv64 Linux kernel), fw_dynamic.bin (OpenSBI), busybox (static riscv64) and \
        modules/ (the kernel's lib/modules/<version>).
        """
    }

    /// Downloads the kernel that linux-image-riscv64 points at, busybox-static and opensbi with apt
    /// (fresh index, fresh downloads, all checked by apt) and extracts them into a new `root`.
    private static func downloadAndExtract(apt: PrivateApt, progress: (String) -> Void) throws {
        let fm = FileManager.default
        guard findExecutable("dpkg-deb") != nil else { throw GuestImageError(missingToolMessage("dpkg-deb")) }
        let cache = cacheDirectory
        try apt.updateIfNeeded(progress: progress)
        let depends: String
        do {
            depends = try apt.aptCache(["depends", "linux-image-riscv64"])
        } catch let error as GuestImageError {
            throw GuestImageError("apt-cache depends linux-image-riscv64 failed (is the mirror \(apt.mirror) a Debian archive with \(suite) riscv64?):\n\(error.message)")
        }
        guard let kernelPackage = depends.split(separator: "\n").lazy
            .map({ $0.trimmingCharacters(in: .whitespaces) })
            .first(where: { $0.hasPrefix("Depends: linux-image-") })?
            .dropFirst("Depends: ".count) else {
            throw GuestImageError("could not find the kernel package that linux-image-riscv64 depends on in \(suite) (from \(apt.mirror)); apt-cache said:\n\(depends)")
        }
        let packages = [String(kernelPackage), "busybox-static", "opensbi"]
        let downloads = cache + "/debs"
        let debs = try apt.download(packages, into: downloads, progress: progress)

        // A fresh tree: the links then point at this kernel and nothing older is left around.
        let root = rootDirectory
        let newRoot = root + ".new"
        try removeIfPresent(newRoot)
        try makeDirectory(newRoot)
        for deb in debs {
            progress("extracting \((deb as NSString).lastPathComponent)")
            _ = try run(["dpkg-deb", "-x", deb, newRoot])
        }
        try removeIfPresent(root)
        do {
            try fm.moveItem(atPath: newRoot, toPath: root)
        } catch {
            throw GuestImageError("cannot rename \(newRoot) to \(root): \(error.localizedDescription)")
        }
        // Built from the previous kernel's modules, if any; rebuilt from this one's.
        try removeIfPresent(cache + "/initramfs-modules")
        try removeIfPresent(initramfsPath)
        // The .debs are extracted; an earlier layout's own index is no longer used.
        try removeIfPresent(downloads)
        try removeIfPresent(aptDirectory + "/direct")
    }

    /// Debian's archive keyring, which signs the suite's InRelease.
    static func archiveKeyring() throws -> String {
        let keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
        guard FileManager.default.fileExists(atPath: keyring) else {
            throw GuestImageError("\(keyring) is missing: install the debian-archive-keyring package (apt-get install debian-archive-keyring)")
        }
        return keyring
    }

    static func removeIfPresent(_ path: String) throws {
        let fm = FileManager.default
        guard fm.fileExists(atPath: path) || (try? fm.destinationOfSymbolicLink(atPath: path)) != nil else { return }
        do {
            try fm.removeItem(atPath: path)
        } catch {
            throw GuestImageError("cannot delete \(path): \(error.localizedDescription) (check its permissions, or set MATRYOSHKA_CACHE to another directory)")
        }
    }

    private static func linkStableNames(progress: (String) -> Void) throws {
        let fm = FileManager.default
        let root = rootDirectory
        let kernels = ((try? fm.contentsOfDirectory(atPath: root + "/boot")) ?? [])
            .filter { $0.hasPrefix("vmlinux-") || $0.hasPrefix("vmlinuz-") }.sorted()
        guard let kernel = kernels.last else {
            throw GuestImageError("no kernel found in \(root)/boot after extraction; delete \(cacheDirectory) and fetch again")
        }
        let version = String(kernel.dropFirst("vmlinux-".count))
        let firmwareCandidates = ["usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin",
                                  "usr/lib/riscv64-linux-gnu/opensbi/qemu/virt/fw_dynamic.bin"]
        guard let firmware = firmwareCandidates.first(where: { fm.fileExists(atPath: root + "/" + $0) }) else {
            throw GuestImageError("OpenSBI fw_dynamic.bin not found under \(root)/usr/lib/riscv64-linux-gnu/opensbi; delete \(cacheDirectory) and fetch again")
        }
        let busyboxCandidates = ["usr/bin/busybox", "bin/busybox"]
        guard let busybox = busyboxCandidates.first(where: { fm.fileExists(atPath: root + "/" + $0) }) else {
            throw GuestImageError("busybox not found in \(root)/usr/bin; delete \(cacheDirectory) and fetch again")
        }
        let modulesCandidates = ["usr/lib/modules/" + version, "lib/modules/" + version]
        guard let modules = modulesCandidates.first(where: { fm.fileExists(atPath: root + "/" + $0) }) else {
            throw GuestImageError("kernel modules for \(version) not found under \(root)/usr/lib/modules; delete \(cacheDirectory) and fetch again")
        }
        for (link, target) in [(kernelPath, "root/boot/" + kernel), (firmwarePath, "root/" + firmware),
                               (busyboxPath, "root/" + busybox), (modulesDirectory, "root/" + modules)] {
            try? fm.removeItem(atPath: link)
            do {
                try fm.createSymbolicLink(atPath: link, withDestinationPath: target)
            } catch {
                throw GuestImageError("cannot create symlink \(link) -> \(target): \(error.localizedDescription)")
            }
        }
        progress("kernel \(version)")
    }

    /// Decompresses the named modules (and nothing else) from `modulesDirectory` into `dir`;
    /// modules the kernel does not have are left out.
    static func decompressedModules(_ names: [String], into dir: String) throws -> [String] {
        let fm = FileManager.default
        guard findExecutable("xz") != nil else {
            throw GuestImageError("xz not found (install xz-utils)")
        }
        try makeDirectory(dir)
        var found: [String: String] = [:]
        var base = modulesDirectory
        if let target = try? fm.destinationOfSymbolicLink(atPath: base) {
            base = target.hasPrefix("/") ? target : cacheDirectory + "/" + target
        }
        base += "/"
        if let walker = fm.enumerator(atPath: base) {
            for case let rel as String in walker {
                let file = (rel as NSString).lastPathComponent
                for name in names where file == name + ".ko.xz" || file == name + ".ko" {
                    found[name] = base + rel
                }
            }
        }
        var out: [String] = []
        for name in names {
            guard let src = found[name] else { continue }
            let dst = dir + "/" + name + ".ko"
            if !fm.fileExists(atPath: dst) {
                if src.hasSuffix(".xz") {
                    let bytes = try runData(["xz", "-dc", src])
                    guard fm.createFile(atPath: dst, contents: bytes) else {
                        throw GuestImageError("cannot write \(dst)")
                    }
                } else {
                    try fm.copyItem(atPath: src, toPath: dst)
                }
            }
            out.append(dst)
        }
        return out
    }

    // MARK: Initramfs

    /// Builds an initramfs holding busybox (`/bin/busybox`, with `/bin/sh` linked to it), the usual
    /// empty directories, `/dev/console`, the given `/init` script and `extraFiles`
    /// (host files copied in with the given permission bits; missing parent directories are created).
    /// The archive is a cpio "newc" image, gzip-compressed when `output` ends in `.gz`.
    /// Busybox comes from `busyboxPath`, so run `fetch` first.
    public static func buildInitramfs(init script: String,
                                      extraFiles: [(guestPath: String, hostPath: String, mode: UInt32)],
                                      to output: String) throws {
        let fm = FileManager.default
        guard let busybox = fm.contents(atPath: busyboxPath) else {
            throw GuestImageError("busybox not found at \(busyboxPath): run `matryoshka images fetch` (or set MATRYOSHKA_CACHE)")
        }
        var cpio = CPIOWriter()
        var dirs: Set<String> = []
        func addDir(_ path: String, mode: UInt32 = 0o755) {
            let comps = path.split(separator: "/")
            var cur = ""
            for c in comps {
                cur += "/" + c
                if dirs.insert(cur).inserted { cpio.addDirectory(cur, mode: cur == "/tmp" ? 0o1777 : mode) }
            }
        }
        for d in ["/bin", "/sbin", "/usr/bin", "/usr/sbin", "/dev", "/proc", "/sys", "/tmp", "/run",
                  "/etc", "/root", "/lib", "/mnt"] { addDir(d) }
        cpio.addCharDevice("/dev/console", major: 5, minor: 1)
        cpio.addCharDevice("/dev/null", major: 1, minor: 3, mode: 0o666)
        cpio.addFile("/bin/busybox", contents: busybox, mode: 0o755)
        cpio.addSymlink("/bin/sh", target: "busybox")
        cpio.addFile("/etc/passwd", contents: Data("root:x:0:0:root:/root:/bin/sh\n".utf8))
        cpio.addFile("/etc/group", contents: Data("root:x:0:\n".utf8))
        var initText = script
        if !initText.hasSuffix("\n") { initText += "\n" }
        cpio.addFile("/init", contents: Data(initText.utf8), mode: 0o755)
        for file in extraFiles {
            guard let bytes = fm.contents(atPath: file.hostPath) else {
                throw GuestImageError("cannot read \(file.hostPath) (for \(file.guestPath) in the initramfs): check that the file exists")
            }
            let guestPath = file.guestPath.hasPrefix("/") ? file.guestPath : "/" + file.guestPath
            let parent = (guestPath as NSString).deletingLastPathComponent
            if parent != "/" { addDir(parent) }
            cpio.addFile(guestPath, contents: bytes, mode: file.mode)
        }
        let archive = cpio.finish()

        let outDir = (output as NSString).deletingLastPathComponent
        if !outDir.isEmpty { try makeDirectory(outDir) }
        let tmp = output + ".tmp-\(getpid())"
        defer { try? fm.removeItem(atPath: tmp) }
        if output.hasSuffix(".gz") {
            guard findExecutable("gzip") != nil else {
                throw GuestImageError("gzip not found, needed for \(output): install gzip, or name the output without .gz for an uncompressed archive")
            }
            try writeData(tmp + ".cpio", archive)
            defer { try? fm.removeItem(atPath: tmp + ".cpio") }
            let gz = try runData(["gzip", "-n", "-6", "-c", tmp + ".cpio"])
            try writeData(tmp, gz)
        } else {
            try writeData(tmp, archive)
        }
        try? fm.removeItem(atPath: output)
        do {
            try fm.moveItem(atPath: tmp, toPath: output)
        } catch {
            throw GuestImageError("cannot write \(output): \(error.localizedDescription)")
        }
    }

    // MARK: Helpers

    static func findExecutable(_ name: String) -> String? {
        if name.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        for dir in dirs {
            let candidate = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw GuestImageError("cannot create directory \(path): \(error.localizedDescription) (set MATRYOSHKA_CACHE to a writable directory)")
        }
    }

    static func writeFile(_ path: String, _ text: String) throws {
        try writeData(path, Data(text.utf8))
    }

    static func writeData(_ path: String, _ data: Data) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw GuestImageError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    static let logger = Logger(label: "matryoshka.images")

    @discardableResult
    static func run(_ args: [String], cwd: String? = nil, environment: [String: String] = [:]) throws -> String {
        String(decoding: try runData(args, cwd: cwd, environment: environment, mergeStderr: true), as: UTF8.self)
    }

    /// Runs a tool found in PATH and returns its standard output; throws with its output on failure.
    /// `environment` entries are added to (or replace) the process's own; `onLine` sees each output
    /// line as it arrives.
    static func runData(_ args: [String], cwd: String? = nil, environment: [String: String] = [:],
                        mergeStderr: Bool = false, onLine: ((String) -> Void)? = nil) throws -> Data {
        guard let exe = findExecutable(args[0]) else {
            throw GuestImageError(missingToolMessage(args[0]))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = Array(args.dropFirst())
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let shownEnvironment = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value) " }.joined()
        logger.debug("running \(shownEnvironment)\(args.joined(separator: " "))\(cwd.map { " in " + $0 } ?? "")")
        process.standardInput = FileHandle.nullDevice
        let out = Pipe()
        process.standardOutput = out
        let errFile = FileManager.default.temporaryDirectory
            .appendingPathComponent("matryoshka-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).err")
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errFile) }
        let errHandle = try FileHandle(forWritingTo: errFile)
        process.standardError = mergeStderr ? out : errHandle
        do {
            try process.run()
        } catch {
            throw GuestImageError("cannot start \(exe): \(error.localizedDescription)")
        }
        var data = Data()
        if let onLine {
            var pending = Data()
            while true {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                data.append(chunk)
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    onLine(line)
                }
            }
            if !pending.isEmpty { onLine(String(decoding: pending, as: UTF8.self)) }
        } else {
            data = out.fileHandleForReading.readDataToEndOfFile()
        }
        process.waitUntilExit()
        try? errHandle.close()
        if process.terminationStatus != 0 {
            let errText = mergeStderr ? String(decoding: data, as: UTF8.self)
                : ((try? String(contentsOf: errFile, encoding: .utf8)) ?? "")
            logger.debug("\(args[0]) failed with status \(process.terminationStatus):\n\(errText)")
            let tail = errText.split(separator: "\n").suffix(15).joined(separator: "\n")
            throw GuestImageError("`\(shownEnvironment)\(args.joined(separator: " "))` failed with status \(process.terminationStatus):\n\(tail)")
        }
        return data
    }
}
