import Foundation
import Logging

/// apt with a directory of its own: Debian `suite` for `architecture` from one mirror, checked
/// against Debian's archive keyring. apt does all resolution and verification: `apt-get update`
/// checks the InRelease signature and the index hashes, `apt-get download` /
/// `apt-get install --download-only` check each .deb against the signed index.
///
/// The host's apt configuration and state are neither read nor changed: `APT_CONFIG` points at
/// `configFile`, which sets `Dir` to `directory` (only the host's proxy settings are copied in).
///
/// Nothing apt fetched in an earlier run is reused, because apt does not check its own caches again:
/// `update` starts from empty lists (an index edited after an earlier update would otherwise be used
/// as it is), and downloads go into an emptied directory (apt takes a cached .deb of the right
/// size without checking its hash).
///
/// An instance holds an exclusive lock on `directory` (`lockFile`) until it is released.
public final class PrivateApt {
    /// apt's `Dir`: etc/apt, var/lib/apt/lists, var/cache/apt, var/lib/dpkg (a status of its own).
    public let directory: String
    public let mirror: String
    public let suite: String
    public let architecture: String
    /// The keyring the suite's InRelease must be signed with.
    public let keyring: String
    /// `apt-get update` attempts: a mirror in the middle of a sync serves an index that does not
    /// match its InRelease for a while.
    public var updateAttempts = 3
    public var retryDelay: TimeInterval = 5
    /// True once `update` succeeded in this instance.
    public private(set) var isUpdated = false

    public var configFile: String { directory + "/etc/apt/apt.conf" }
    public var sourcesFile: String { directory + "/etc/apt/sources.list" }
    public var listsDirectory: String { directory + "/var/lib/apt/lists" }
    public var statusFile: String { directory + "/var/lib/dpkg/status" }
    public var lockFile: String { directory + "/matryoshka.lock" }
    /// The environment apt runs with (added to the process's own).
    public var environment: [String: String] { ["APT_CONFIG": configFile] }

    private var lockDescriptor: Int32 = -1
    private static let logger = Logger(label: "matryoshka.images.apt")

    /// Sets up `directory` (creating it), writes the configuration and sources, and takes the lock
    /// (waiting, with a progress line, while another process holds it).
    public init(directory: String, mirror: String, suite: String = GuestImages.suite, architecture: String = "riscv64",
                keyring: String? = nil, progress: (String) -> Void = { _ in }) throws {
        for tool in ["apt-get", "apt-cache", "apt-config"] where GuestImages.findExecutable(tool) == nil {
            throw GuestImageError(GuestImages.missingToolMessage(tool))
        }
        self.directory = directory
        self.mirror = mirror
        self.suite = suite
        self.architecture = architecture
        self.keyring = try keyring ?? GuestImages.archiveKeyring()
        for value in [directory, mirror, suite, architecture, self.keyring] where value.contains("\"") || value.contains("\n") {
            throw GuestImageError("'\(value)' cannot be used in apt's configuration (it holds a quote or a line break): "
                                  + "choose another cache directory (MATRYOSHKA_CACHE) or mirror")
        }
        for dir in ["etc/apt/apt.conf.d", "etc/apt/sources.list.d", "etc/apt/preferences.d", "etc/apt/trusted.gpg.d",
                    "var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg"] {
            try GuestImages.makeDirectory(directory + "/" + dir)
        }
        try takeLock(progress: progress)
        try GuestImages.writeFile(configFile, configuration())
        // A local archive through apt's copy method: like file:, but the .debs are copied into the
        // download directory (file: would leave them where they are) and checked there.
        let uri = mirror.hasPrefix("file:") ? "copy:" + mirror.dropFirst("file:".count) : mirror
        try GuestImages.writeFile(sourcesFile, "deb [signed-by=\(self.keyring)] \(uri) \(suite) main\n")
        try GuestImages.writeFile(statusFile, "")
    }

    deinit { release() }

    /// Gives up the lock (also done when the instance goes away).
    public func release() {
        if lockDescriptor >= 0 {
            close(lockDescriptor)
            lockDescriptor = -1
        }
    }

    private func takeLock(progress: (String) -> Void) throws {
        let fd = open(lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw GuestImageError("cannot open \(lockFile): \(String(cString: strerror(errno))) (set MATRYOSHKA_CACHE to a writable directory)")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            progress("waiting for another matryoshka that is fetching into \(directory) (lock \(lockFile))")
            while flock(fd, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    let reason = String(cString: strerror(errno))
                    close(fd)
                    throw GuestImageError("cannot lock \(lockFile): \(reason)")
                }
            }
        }
        lockDescriptor = fd
    }

    /// The private apt.conf. Settings that would let apt accept an unsigned or weakly signed index
    /// or an unauthenticated package are pinned off.
    private func configuration() -> String {
        var lines = [
            "// Written by matryoshka (images fetch): apt for Debian \(suite) \(architecture) guest packages.",
            "// APT_CONFIG points here, so the host's apt configuration is not read and its state not touched.",
            "Dir \"\(directory)/\";",
            "Dir::State::status \"\(statusFile)\";",
            "APT::Architecture \"\(architecture)\";",
            "APT::Architectures { \"\(architecture)\"; };",
            "APT::Sandbox::User \"root\";",  // apt's _apt user may not be able to enter a home directory
            "APT::Install-Recommends \"false\";",
            "APT::Install-Suggests \"false\";",
            "APT::Get::AllowUnauthenticated \"false\";",
            "Acquire::AllowInsecureRepositories \"false\";",
            "Acquire::AllowDowngradeToInsecureRepositories \"false\";",
            "Acquire::AllowWeakRepositories \"false\";",
            "Acquire::Languages \"none\";",
            "Acquire::GzipIndexes \"true\";",
            "Acquire::Retries \"3\";",
        ]
        lines += Self.hostProxySettings()
        return lines.joined(separator: "\n") + "\n"
    }

    /// `Acquire::…::Proxy` lines of the host's apt configuration (the environment's `http_proxy`
    /// reaches apt anyway).
    static func hostProxySettings() -> [String] {
        guard let dump = try? GuestImages.run(["apt-config", "dump"], environment: ["APT_CONFIG": ""]) else { return [] }
        return dump.split(separator: "\n").map(String.init).filter { line in
            guard line.hasPrefix("Acquire::"), let space = line.firstIndex(of: " ") else { return false }
            let key = line[..<space].lowercased()
            return key.hasSuffix("::proxy") || key.hasSuffix("::proxy-auto-detect")
        }
    }

    // MARK: Operations

    /// `apt-get update` from empty lists: downloads the InRelease, checks its signature against
    /// `keyring`, downloads the index and checks it against the InRelease. Any failure or warning
    /// (`--error-on=any`) is an error, and no index is left for later commands.
    public func update(progress: (String) -> Void) throws {
        isUpdated = false
        try clearLists()
        progress("apt-get update: \(suite) \(architecture) from \(mirror) (InRelease checked against \(keyring))")
        var attempt = 1
        while true {
            do {
                try apt(["apt-get", "--error-on=any", "update"], progress: progress)
                isUpdated = true
                return
            } catch let error as GuestImageError {
                try? clearLists()
                if error.message.contains("--error-on") && error.message.contains("not understood") {
                    throw GuestImageError("\(error.message)\napt 2.2 or newer is needed (for `apt-get update --error-on=any`): "
                                          + "upgrade apt, or set MATRYOSHKA_CACHE to a directory holding the images")
                }
                let signature = ["signature", "NO_PUBKEY", "not signed", "EXPKEYSIG", "BADSIG"].contains { error.message.contains($0) }
                if signature || attempt >= updateAttempts {
                    throw GuestImageError("""
                        apt could not download or verify the \(suite) \(architecture) index from \(mirror) \
                        (signed InRelease, then the Packages index it lists); nothing from it is used.
                        \(error.message)
                        To fix it: \(signature
                            ? "the mirror's InRelease is not signed by a key in \(keyring): use another mirror, or update the debian-archive-keyring package"
                            : "if the mirror is in the middle of a sync (Hash Sum mismatch), run the fetch again in a few minutes; otherwise check the network or use another mirror"); \
                        \(DebianMirror.howToPassOne). apt's files are in \(directory).
                        """)
                }
                progress("  apt-get update failed (attempt \(attempt) of \(updateAttempts)); retrying in \(Int(retryDelay)) s")
                attempt += 1
                if retryDelay > 0 { Thread.sleep(forTimeInterval: retryDelay) }
                try clearLists()
            }
        }
    }

    /// `update` unless this instance has already done it.
    public func updateIfNeeded(progress: (String) -> Void) throws {
        if !isUpdated { try update(progress: progress) }
    }

    /// Downloads exactly `packages` (no dependencies; apt picks the candidate version) into `directory`,
    /// which is emptied first. apt checks each file against the SHA256 in the signed index. Returns
    /// the .deb paths, in the order of `packages`.
    public func download(_ packages: [String], into destination: String, progress: (String) -> Void) throws -> [String] {
        try updateIfNeeded(progress: progress)
        try emptyDirectory(destination)
        progress("apt-get download \(packages.joined(separator: " "))")
        do {
            try apt(["apt-get", "download"] + packages, cwd: destination, progress: progress)
        } catch let error as GuestImageError {
            try? emptyDirectory(destination)
            throw downloadError(error, packages: packages, destination: destination)
        }
        let debs = try debFiles(in: destination)
        return try packages.map { name in
            guard let deb = debs.last(where: { ($0 as NSString).lastPathComponent.hasPrefix(name + "_") }) else {
                throw GuestImageError("apt-get download did not leave \(destination)/\(name)_*.deb: run the fetch again")
            }
            return deb
        }
    }

    /// Downloads `roots` and everything they depend on (Depends and Pre-Depends; apt picks the
    /// alternatives and versions) into `destination`, which is emptied first. The packages in
    /// `assumingInstalled` are entered in the private dpkg status as installed (their candidate
    /// versions, without dependencies), so apt leaves them and whatever only they need out.
    /// apt checks each .deb against the signed index. Returns the .deb paths, sorted.
    public func downloadClosure(of roots: [String], assumingInstalled: Set<String>, into destination: String,
                                progress: (String) -> Void) throws -> [String] {
        try updateIfNeeded(progress: progress)
        try writeStatus(assumingInstalled: assumingInstalled, progress: progress)
        try emptyDirectory(destination)
        try GuestImages.makeDirectory(destination + "/partial")
        progress("apt-get install --download-only \(roots.joined(separator: " ")) (dependencies resolved by apt)")
        do {
            try apt(["apt-get", "install", "--download-only", "--yes", "--no-install-recommends",
                     "-o", "Dir::Cache::archives=\(destination)/"] + roots, progress: progress)
        } catch let error as GuestImageError {
            try? emptyDirectory(destination)
            throw downloadError(error, packages: roots, destination: destination)
        }
        let debs = try debFiles(in: destination)
        for root in roots where !debs.contains(where: { ($0 as NSString).lastPathComponent.hasPrefix(root + "_") }) {
            throw GuestImageError("apt-get install --download-only did not leave \(destination)/\(root)_*.deb: run the fetch again")
        }
        return debs
    }

    /// Runs `apt-cache ARGS` with the private configuration and returns its standard output.
    public func aptCache(_ arguments: [String]) throws -> String {
        String(decoding: try GuestImages.runData(["apt-cache"] + arguments, environment: environment), as: UTF8.self)
    }

    // MARK: Helpers

    /// The private dpkg status: `packages` as installed, with the Package, Version, Architecture,
    /// Multi-Arch, Provides and Essential fields apt-cache shows for their candidates.
    private func writeStatus(assumingInstalled packages: Set<String>, progress: (String) -> Void) throws {
        guard !packages.isEmpty else { return try GuestImages.writeFile(statusFile, "") }
        let names = packages.sorted()
        let shown: String
        do {
            shown = try aptCache(["show", "--no-all-versions"] + names)
        } catch let error as GuestImageError {
            throw GuestImageError("apt-cache show \(names.joined(separator: " ")) failed (for the private dpkg status \(statusFile)):\n\(error.message)")
        }
        let keep = ["Package:", "Version:", "Architecture:", "Multi-Arch:", "Provides:", "Essential:"]
        var stanzas: [String] = []
        for stanza in shown.components(separatedBy: "\n\n") {
            let fields = stanza.split(separator: "\n").filter { line in keep.contains { line.hasPrefix($0) } }
            guard fields.first?.hasPrefix("Package:") == true else { continue }
            stanzas.append((fields + ["Status: install ok installed"]).joined(separator: "\n"))
        }
        let found = Set(stanzas.compactMap { $0.split(separator: "\n").first?.dropFirst("Package:".count).trimmingCharacters(in: .whitespaces) })
        for name in names where !found.contains(name) {
            progress("  note: \(name) is not in \(suite) \(architecture); apt will resolve what needs it")
        }
        try GuestImages.writeFile(statusFile, stanzas.joined(separator: "\n\n") + "\n")
    }

    /// Runs an apt tool with the private configuration; its fetch lines go to `progress`.
    private func apt(_ arguments: [String], cwd: String? = nil, progress: (String) -> Void) throws {
        try withoutActuallyEscaping(progress) { progress in
            _ = try GuestImages.runData(arguments, cwd: cwd, environment: environment, mergeStderr: true) { line in
                if ["Get:", "Err:", "Fetched ", "W:", "E:"].contains(where: { line.hasPrefix($0) }) {
                    progress("  " + line)
                }
            }
        }
    }

    private func downloadError(_ error: GuestImageError, packages: [String], destination: String) -> GuestImageError {
        GuestImageError("""
            apt could not download or verify \(packages.joined(separator: " ")) from \(mirror) into \(destination); \
            nothing was kept.
            \(error.message)
            To fix it: run the fetch again (it updates the index first: a mirror in the middle of a sync can \
            miss a package or serve one that does not match its index for a while); if it keeps failing, \
            \(DebianMirror.howToPassOne).
            """)
    }

    /// Deletes the downloaded lists and apt's binary caches built from them.
    private func clearLists() throws {
        let fm = FileManager.default
        let lists = listsDirectory
        for name in (try? fm.contentsOfDirectory(atPath: lists)) ?? [] where name != "lock" && name != "partial" {
            try removeItem(lists + "/" + name)
        }
        for name in (try? fm.contentsOfDirectory(atPath: lists + "/partial")) ?? [] {
            try removeItem(lists + "/partial/" + name)
        }
        for name in ["pkgcache.bin", "srcpkgcache.bin"] where fm.fileExists(atPath: directory + "/var/cache/apt/" + name) {
            try removeItem(directory + "/var/cache/apt/" + name)
        }
    }

    private func emptyDirectory(_ path: String) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: path) { try removeItem(path) }
        try GuestImages.makeDirectory(path)
    }

    private func removeItem(_ path: String) throws {
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw GuestImageError("cannot delete \(path): \(error.localizedDescription) (check its permissions, or set MATRYOSHKA_CACHE to another directory)")
        }
    }

    private func debFiles(in path: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path)
                .filter { $0.hasSuffix(".deb") }.sorted().map { path + "/" + $0 }
        } catch {
            throw GuestImageError("cannot list \(path): \(error.localizedDescription)")
        }
    }
}
