import Foundation

/// The Debian archive the guest packages come from. Nothing in Matryoshka names an archive host:
/// the URL is given (`--mirror`, `$MATRYOSHKA_MIRROR`) or read from the host's own apt sources.
public struct DebianMirror: Sendable, Equatable {
    /// The archive's base URL: the directory that holds `dists/` and `pool/`.
    public let url: String
    /// Where the URL came from (an option, a variable or a sources file), for progress lines.
    public let origin: String

    public init(url: String, origin: String) {
        self.url = url
        self.origin = origin
    }

    /// The environment variable that names the mirror when `--mirror` is not given.
    public static let environmentVariable = "MATRYOSHKA_MIRROR"
    /// The variable's older name, still read.
    public static let legacyEnvironmentVariable = "MATRYOSHKA_DEBIAN_MIRROR"

    /// How to pass a mirror, for error messages.
    static var howToPassOne: String {
        "pass a Debian archive (the URL of the directory holding dists/ and pool/; it must carry "
            + "\(GuestImages.suite) for riscv64) with `matryoshka images fetch --mirror URL` "
            + "or the environment variable \(environmentVariable)=URL"
    }

    /// One `deb` / `deb-src` entry of an apt sources file (either format).
    public struct SourceEntry: Sendable, Equatable {
        public var types: [String] = []
        public var uris: [String] = []
        public var suites: [String] = []
        /// The `Signed-By` / `signed-by=` value (a keyring path or fingerprints), empty if none.
        public var signedBy = ""
        public var enabled = true
        /// The file the entry was read from.
        public var file = ""

        public init(types: [String] = [], uris: [String] = [], suites: [String] = [], signedBy: String = "",
                    enabled: Bool = true, file: String = "") {
            self.types = types
            self.uris = uris
            self.suites = suites
            self.signedBy = signedBy
            self.enabled = enabled
            self.file = file
        }
    }

    /// The mirror to use: `option` (from `--mirror`), else `$MATRYOSHKA_MIRROR` (or its older name
    /// `$MATRYOSHKA_DEBIAN_MIRROR`), else the first Debian archive in the host's apt sources under
    /// `aptConfigDirectory` (`sources.list`, then `sources.list.d/*.list` and `*.sources` in name
    /// order, as apt reads them). Security-only archives are passed over. Throws when there is none,
    /// saying how to pass one.
    public static func find(option: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            aptConfigDirectory: String = "/etc/apt") throws -> DebianMirror {
        if let option {
            return DebianMirror(url: try validated(option, from: "--mirror"), origin: "--mirror")
        }
        for name in [environmentVariable, legacyEnvironmentVariable] {
            if let value = environment[name], !value.isEmpty {
                return DebianMirror(url: try validated(value, from: "$" + name), origin: "$" + name)
            }
        }
        let files = sourceFiles(in: aptConfigDirectory)
        var entries: [SourceEntry] = []
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            entries += file.hasSuffix(".sources") ? parseDeb822(text, file: file) : parseOneLine(text, file: file)
        }
        let archives = entries.filter { $0.enabled && $0.types.contains("deb") }
        if let entry = archives.first(where: { isDebianArchive($0) && !isSecurityOnly($0) }),
           let url = entry.uris.first(where: isUsableURI) {
            return DebianMirror(url: trimmed(url), origin: entry.file)
        }
        let searched = files.isEmpty
            ? "no apt sources files under \(aptConfigDirectory) (sources.list, sources.list.d/*.list, sources.list.d/*.sources)"
            : "no Debian archive in \(files.joined(separator: ", "))"
        let seen = archives.isEmpty ? "" : " (found only: "
            + archives.map { "\($0.uris.joined(separator: " ")) \($0.suites.joined(separator: " "))" }.joined(separator: "; ") + ")"
        throw GuestImageError("no Debian mirror to fetch the guest packages from: \(searched)\(seen). To fix it, \(howToPassOne).")
    }

    /// The sources files apt reads, in its order.
    static func sourceFiles(in directory: String) -> [String] {
        let fm = FileManager.default
        var files: [String] = []
        if fm.fileExists(atPath: directory + "/sources.list") { files.append(directory + "/sources.list") }
        let parts = directory + "/sources.list.d"
        let names = ((try? fm.contentsOfDirectory(atPath: parts)) ?? [])
            .filter { $0.hasSuffix(".list") || $0.hasSuffix(".sources") }.sorted()
        files += names.map { parts + "/" + $0 }
        return files
    }

    /// Entries of a deb822 `.sources` file: stanzas separated by blank lines, `#` comment lines,
    /// continuation lines (an embedded key under Signed-By) skipped.
    public static func parseDeb822(_ text: String, file: String = "") -> [SourceEntry] {
        var entries: [SourceEntry] = []
        var current = SourceEntry(file: file)
        var hasFields = false
        func close() {
            if hasFields { entries.append(current) }
            current = SourceEntry(file: file)
            hasFields = false
        }
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            let content = line.trimmingCharacters(in: .whitespaces)
            if content.isEmpty { close(); continue }
            if content.hasPrefix("#") || line.first == " " || line.first == "\t" { continue }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            let words = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            hasFields = true
            switch key {
            case "types": current.types = words
            case "uris": current.uris = words
            case "suites": current.suites = words
            case "signed-by": current.signedBy = value
            case "enabled": current.enabled = value.lowercased() != "no"
            default: break
            }
        }
        close()
        return entries
    }

    /// Entries of a one-line-style file (`sources.list`, `*.list`):
    /// `deb [option=value ...] URI SUITE [COMPONENT ...]`, `#` to the end of a line is a comment.
    public static func parseOneLine(_ text: String, file: String = "") -> [SourceEntry] {
        var entries: [SourceEntry] = []
        for rawLine in text.split(separator: "\n") {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let type = words.first, type == "deb" || type == "deb-src" else { continue }
            words.removeFirst()
            var entry = SourceEntry(types: [type], file: file)
            if let first = words.first, first.hasPrefix("[") {
                // Options: "[a=b c=d]" or "[ a=b ]", possibly spread over several words.
                var options: [String] = []
                while !words.isEmpty {
                    let word = words.removeFirst()
                    options.append(word)
                    if word.hasSuffix("]") { break }
                }
                let joined = options.joined(separator: " ").dropFirst().dropLast()
                for option in joined.split(separator: " ") {
                    let pair = option.split(separator: "=", maxSplits: 1).map(String.init)
                    if pair.count == 2, pair[0].lowercased() == "signed-by" { entry.signedBy = pair[1] }
                }
            }
            guard words.count >= 2 else { continue }
            entry.uris = [words[0]]
            entry.suites = [words[1]]
            entries.append(entry)
        }
        return entries
    }

    /// Debian release names and aliases (a suite such as `bookworm-updates` counts by its first part).
    static let debianSuiteNames: Set<String> = [
        "buster", "bullseye", "bookworm", "trixie", "forky", "duke", "sid",
        "oldoldstable", "oldstable", "stable", "testing", "unstable", "experimental", "rc-buggy",
    ]

    /// An entry signed by Debian's archive keyring, or one for a Debian suite.
    static func isDebianArchive(_ entry: SourceEntry) -> Bool {
        if entry.signedBy.contains("debian-archive-keyring") { return true }
        return entry.suites.contains { suite in
            let base = suite.split(separator: "/").first.map { $0.split(separator: "-").first.map(String.init) ?? "" } ?? ""
            return debianSuiteNames.contains(base)
        }
    }

    /// An entry that only serves security updates (`bookworm-security`, `buster/updates`): such an
    /// archive does not carry the suite itself.
    static func isSecurityOnly(_ entry: SourceEntry) -> Bool {
        !entry.suites.isEmpty && entry.suites.allSatisfy { $0.hasSuffix("-security") || $0.hasSuffix("/updates") }
    }

    /// A URI apt can fetch from without a medium: `SCHEME:...`, not `cdrom:`.
    static func isUsableURI(_ uri: String) -> Bool {
        guard let colon = uri.firstIndex(of: ":"), colon != uri.startIndex else { return false }
        let scheme = uri[..<colon].lowercased()
        guard scheme != "cdrom", scheme.first!.isLetter,
              scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }) else { return false }
        return !uri.contains(where: { $0 == " " || $0 == "\t" || $0 == "\"" || $0 == "\n" })
    }

    static func validated(_ url: String, from source: String) throws -> String {
        let value = url.trimmingCharacters(in: .whitespaces)
        guard isUsableURI(value), value.count > value.firstIndex(of: ":")!.utf16Offset(in: value) + 1 else {
            throw GuestImageError("\(source) '\(url)' is not a usable archive URL: give the URL of a Debian archive "
                                  + "(the directory holding dists/ and pool/), such as http://HOST/debian or file:/PATH")
        }
        return trimmed(value)
    }

    private static func trimmed(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") && !url.hasSuffix(":/") && !url.hasSuffix("://") { url.removeLast() }
        return url
    }
}
