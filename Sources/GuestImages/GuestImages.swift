import Foundation

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
/// `fetch` downloads the Debian packages into it with a private apt
/// configuration (the host's apt state is not touched) and creates stable names
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

    /// Downloads and extracts the guest packages (idempotent), then builds the
    /// default initramfs if it is missing. `progress` receives one line per step.
    public static func fetch(progress: (String) -> Void) throws {
        let fm = FileManager.default
        let cache = cacheDirectory
        try makeDirectory(cache)

        if isFetched {
            progress("guest packages already present in \(cache)")
        } else {
            try downloadAndExtract(progress: progress)
            try linkStableNames(progress: progress)
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

    private static func downloadAndExtract(progress: (String) -> Void) throws {
        let fm = FileManager.default
        for tool in ["apt-get", "apt-cache", "dpkg-deb"] where findExecutable(tool) == nil {
            throw GuestImageError(missingToolMessage(tool))
        }
        let keyring = try archiveKeyring()
        let cache = cacheDirectory
        let apt = cache + "/apt"
        let debs = cache + "/debs"
        for dir in ["etc/apt/sources.list.d", "etc/apt/preferences.d", "etc/apt/apt.conf.d",
                    "var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg"] {
            try makeDirectory(apt + "/" + dir)
        }
        try makeDirectory(debs)
        let status = apt + "/var/lib/dpkg/status"
        if !fm.fileExists(atPath: status) { _ = fm.createFile(atPath: status, contents: Data()) }
        let mirror = debianMirror()
        try writeFile(apt + "/etc/apt/sources.list",
                      "deb [signed-by=\(keyring)] \(mirror) \(suite) main\n")
        let options = [
            "-o", "Dir=\(apt)", "-o", "Dir::State::status=\(status)",
            "-o", "Dir::Etc::trusted=/etc/apt/trusted.gpg", "-o", "Dir::Etc::trustedparts=/etc/apt/trusted.gpg.d",
            "-o", "APT::Architecture=riscv64", "-o", "APT::Architectures=riscv64",
            "-o", "APT::Sandbox::User=root", "-o", "Debug::NoLocking=1", "-q",
        ]
        progress("apt-get update (\(suite) riscv64 from \(mirror))")
        var packages: [String]
        do {
            try runWithRetries(["apt-get"] + options + ["update"], progress: progress)
            let depends = try run(["apt-cache"] + options + ["depends", "linux-image-riscv64"])
            guard let kernelPackage = depends.split(separator: "\n").lazy
                .map({ $0.trimmingCharacters(in: .whitespaces) })
                .first(where: { $0.hasPrefix("Depends: linux-image-") })?
                .dropFirst("Depends: ".count) else {
                throw GuestImageError("could not find the kernel package that linux-image-riscv64 depends on in \(suite); apt-cache said:\n\(depends)")
            }
            packages = [String(kernelPackage), "busybox-static", "opensbi"]
            progress("downloading \(packages.joined(separator: ", "))")
            _ = try run(["apt-get"] + options + ["download"] + packages, cwd: debs)
        } catch let aptError as GuestImageError {
            // A mirror in the middle of a sync serves a Packages index that does not match its
            // signed Release file, and apt refuses the whole suite. Fall back to reading the
            // index directly and checking each .deb against the SHA256 it lists.
            progress("apt-get failed; downloading directly from the \(suite) Packages index instead")
            progress("  (apt said: \(aptError.message.split(separator: "\n").dropFirst().first ?? ""))")
            packages = try downloadDirect(mirror: mirror, keyring: keyring, into: debs, progress: progress)
        }

        let root = rootDirectory
        try makeDirectory(root)
        let names = try fm.contentsOfDirectory(atPath: debs).filter { $0.hasSuffix(".deb") }.sorted()
        for pkg in packages {
            // Only the newest download of each package (apt names them NAME_VERSION_ARCH.deb).
            guard let deb = names.last(where: { $0.hasPrefix(pkg + "_") }) else {
                throw GuestImageError("apt-get download did not produce \(debs)/\(pkg)_*.deb")
            }
            let marker = root + "/.extracted-" + deb
            if fm.fileExists(atPath: marker) { continue }
            progress("extracting \(deb)")
            _ = try run(["dpkg-deb", "-x", debs + "/" + deb, root])
            _ = fm.createFile(atPath: marker, contents: Data())
        }
    }

    /// Debian's archive keyring, which signs the suite's InRelease.
    static func archiveKeyring() throws -> String {
        let keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
        guard FileManager.default.fileExists(atPath: keyring) else {
            throw GuestImageError("\(keyring) is missing: install the debian-archive-keyring package (apt-get install debian-archive-keyring)")
        }
        return keyring
    }

    private static func runWithRetries(_ args: [String], attempts: Int = 3, progress: (String) -> Void) throws {
        var attempt = 1
        while true {
            do {
                _ = try run(args)
                return
            } catch {
                if attempt >= attempts { throw error }
                progress("  \(args[0]) failed (attempt \(attempt) of \(attempts)); retrying in 5 s")
                attempt += 1
                Thread.sleep(forTimeInterval: 5)
            }
        }
    }

    /// Downloads the kernel, busybox-static and opensbi .debs without apt's index database,
    /// using apt's own downloader (`apt-helper download-file`, which checks the SHA256 from the
    /// Packages index). Returns the package names.
    private static func downloadDirect(mirror: String, keyring: String, into debs: String,
                                       progress: (String) -> Void) throws -> [String] {
        let index = try downloadPackagesIndex(mirror: mirror, keyring: keyring, progress: progress)
        guard let meta = index["linux-image-riscv64"]?.depends,
              let kernel = meta.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) })
                .first(where: { $0.hasPrefix("linux-image-") })?.split(separator: " ").first.map(String.init) else {
            throw GuestImageError("linux-image-riscv64 not found in \(packagesIndexURL(mirror: mirror))")
        }
        let packages = [kernel, "busybox-static", "opensbi"]
        for name in packages {
            guard let package = index[name], !package.filename.isEmpty, !package.sha256.isEmpty else {
                throw GuestImageError("\(name) not found in \(packagesIndexURL(mirror: mirror))")
            }
            try downloadDeb(package, mirror: mirror, into: debs, progress: progress)
        }
        return packages
    }

    /// The Packages index that `downloadPackagesIndex` fetches (kept in the cache).
    static var packagesIndexPath: String { cacheDirectory + "/apt/direct/Packages.xz" }

    private static func packagesIndexURL(mirror: String) -> String {
        "\(mirror)/dists/\(suite)/main/binary-riscv64/Packages.xz"
    }

    static func aptHelper() throws -> String {
        let helper = ["/usr/lib/apt/apt-helper", "/usr/libexec/apt/apt-helper"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        guard let helper else { throw GuestImageError(missingToolMessage("apt-helper (from apt)")) }
        return helper
    }

    /// Downloads the suite's signed InRelease and its riscv64 Packages.xz into the cache
    /// (`packagesIndexPath`), checks both as far as the mirror allows, and parses the index.
    static func downloadPackagesIndex(mirror: String, keyring: String,
                                      progress: (String) -> Void) throws -> DebianPackageIndex {
        let fm = FileManager.default
        let helper = try aptHelper()
        let packagesXZ = packagesIndexPath
        let index = (packagesXZ as NSString).deletingLastPathComponent
        try makeDirectory(index)
        let dists = "\(mirror)/dists/\(suite)"
        _ = try run([helper, "download-file", "\(dists)/InRelease", index + "/InRelease"])
        if findExecutable("gpgv") != nil {
            _ = try run(["gpgv", "--keyring", keyring, index + "/InRelease"])
            progress("  InRelease signature verified")
        }
        try? fm.removeItem(atPath: packagesXZ)
        _ = try run([helper, "download-file", packagesIndexURL(mirror: mirror), packagesXZ])
        let release = (try? String(contentsOfFile: index + "/InRelease", encoding: .utf8)) ?? ""
        let digest = (try? run(["sha256sum", packagesXZ]))?.split(separator: " ").first.map(String.init) ?? "?"
        if release.contains(digest + " ") {
            progress("  Packages.xz matches the signed InRelease")
        } else {
            progress("  warning: Packages.xz does not match the signed InRelease (mirror sync in progress?); .debs are checked against its SHA256 only")
        }
        return try DebianPackageIndex.load(packagesXZ: packagesXZ)
    }

    /// Downloads one .deb into `debs` (skipped when already there) with apt-helper, which
    /// checks it against the SHA256 from the index before it gets its final name.
    static func downloadDeb(_ package: DebianPackageIndex.Package, mirror: String, into debs: String,
                            progress: (String) -> Void) throws {
        let fm = FileManager.default
        let dest = debs + "/" + (package.filename as NSString).lastPathComponent
        if fm.fileExists(atPath: dest) { return }
        let helper = try aptHelper()
        progress("downloading \(package.filename) (\(String(format: "%.1f", Double(package.size) / 1e6)) MB)")
        try? fm.removeItem(atPath: dest + ".part")
        _ = try run([helper, "download-file", "\(mirror)/\(package.filename)", dest + ".part", "SHA256:" + package.sha256])
        do {
            try fm.moveItem(atPath: dest + ".part", toPath: dest)
        } catch {
            throw GuestImageError("cannot rename \(dest).part to \(dest): \(error.localizedDescription)")
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

    static func debianMirror() -> String {
        if let m = ProcessInfo.processInfo.environment["MATRYOSHKA_DEBIAN_MIRROR"], !m.isEmpty { return m }
        if let text = try? String(contentsOfFile: "/etc/apt/sources.list.d/debian.sources", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("URIs:") {
                if let uri = line.split(separator: " ").dropFirst().first, uri.contains("debian"),
                   !uri.contains("security") { return String(uri) }
            }
        }
        if let text = try? String(contentsOfFile: "/etc/apt/sources.list", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("deb ") {
                for word in line.split(separator: " ") where word.hasPrefix("http") && word.contains("debian")
                    && !word.contains("security") { return String(word) }
            }
        }
        return "http://deb.debian.org/debian"
    }

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

    @discardableResult
    static func run(_ args: [String], cwd: String? = nil) throws -> String {
        String(decoding: try runData(args, cwd: cwd, mergeStderr: true), as: UTF8.self)
    }

    /// Runs a tool found in PATH and returns its standard output; throws with its output on failure.
    static func runData(_ args: [String], cwd: String? = nil, mergeStderr: Bool = false) throws -> Data {
        guard let exe = findExecutable(args[0]) else {
            throw GuestImageError(missingToolMessage(args[0]))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = Array(args.dropFirst())
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
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
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try? errHandle.close()
        if process.terminationStatus != 0 {
            let errText = mergeStderr ? String(decoding: data, as: UTF8.self)
                : ((try? String(contentsOf: errFile, encoding: .utf8)) ?? "")
            let tail = errText.split(separator: "\n").suffix(15).joined(separator: "\n")
            throw GuestImageError("`\(args.joined(separator: " "))` failed with status \(process.terminationStatus):\n\(tail)")
        }
        return data
    }
}
