import Foundation

/// A parsed Debian `Packages` index (one suite, one architecture): what `downloadDirect` and the
/// nested-image builder need to pick .deb files and check them, without apt's database.
struct DebianPackageIndex {
    /// The fields of one package stanza that the image builders use.
    struct Package {
        var name = ""
        var version = ""
        var filename = ""
        var sha256 = ""
        var size = 0
        var depends = ""
        var preDepends = ""
        var provides = ""
    }

    /// Package name -> stanza (the last one wins if the index lists a name twice).
    private(set) var packages: [String: Package] = [:]
    /// Virtual package name -> real packages that provide it, in index order.
    private(set) var providers: [String: [String]] = [:]

    subscript(name: String) -> Package? { packages[name] }

    /// Parses the text of a `Packages` file. Works on bytes: the riscv64 index is ~55 MB and
    /// String-level splitting of it takes several seconds.
    init(data: Data) {
        data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            let count = bytes.count
            var current = Package()
            var lineStart = 0
            while lineStart <= count {
                var lineEnd = lineStart
                while lineEnd < count && bytes[lineEnd] != 0x0A { lineEnd += 1 }
                if lineEnd == lineStart {
                    // A blank line (or the end of the data) closes the stanza.
                    if !current.name.isEmpty { add(current) }
                    current = Package()
                } else if bytes[lineStart] != 0x20 && bytes[lineStart] != 0x09 {
                    // "Key: value"; continuation lines (leading blank) only occur in fields we skip.
                    var colon = lineStart
                    while colon < lineEnd && bytes[colon] != 0x3A { colon += 1 }
                    if colon < lineEnd {
                        let key = String(decoding: UnsafeBufferPointer(rebasing: bytes[lineStart..<colon]), as: UTF8.self)
                        var valueStart = colon + 1
                        while valueStart < lineEnd && bytes[valueStart] == 0x20 { valueStart += 1 }
                        func value() -> String {
                            String(decoding: UnsafeBufferPointer(rebasing: bytes[valueStart..<lineEnd]), as: UTF8.self)
                        }
                        switch key {
                        case "Package": current.name = value()
                        case "Version": current.version = value()
                        case "Filename": current.filename = value()
                        case "SHA256": current.sha256 = value()
                        case "Size": current.size = Int(value()) ?? 0
                        case "Depends": current.depends = value()
                        case "Pre-Depends": current.preDepends = value()
                        case "Provides": current.provides = value()
                        default: break
                        }
                    }
                }
                lineStart = lineEnd + 1
            }
            if !current.name.isEmpty { add(current) }
        }
    }

    private mutating func add(_ package: Package) {
        packages[package.name] = package
        for provided in Self.relationNames(package.provides) {
            providers[provided, default: []].append(package.name)
        }
    }

    /// Loads an xz-compressed index (`Packages.xz`).
    static func load(packagesXZ path: String) throws -> DebianPackageIndex {
        DebianPackageIndex(data: try GuestImages.runData(["xz", "-dc", path]))
    }

    /// The names in a comma-separated relation field ("a (>= 1), b:any | c"), one per clause,
    /// first alternative only. Used for Provides, which has no alternatives.
    private static func relationNames(_ field: String) -> [String] {
        field.split(separator: ",").compactMap { clause in
            clause.split(separator: "|").first.flatMap(packageName)
        }
    }

    /// "libfoo:any (>= 1.2)" -> "libfoo".
    private static func packageName<S: StringProtocol>(_ text: S) -> String? {
        let word = text.trimmingCharacters(in: .whitespaces).split(separator: " ").first
        guard let name = word?.split(separator: ":").first, !name.isEmpty else { return nil }
        return String(name)
    }

    /// The packages `roots` need at run time: the closure over Depends and Pre-Depends, taking in
    /// each clause the first alternative that exists as a package or is provided by one (versions are
    /// not compared: one suite holds one version of each package). Packages in `skipping` are left
    /// out together with their own dependencies. Returns the packages in discovery order and the
    /// clauses nothing in the index satisfies.
    func dependencyClosure(of roots: [String], skipping: Set<String>) -> (packages: [Package], unsatisfied: [String]) {
        var pending = roots.reversed() as [String]
        var seen: Set<String> = []
        var result: [Package] = []
        var unsatisfied: [String] = []
        while let name = pending.popLast() {
            guard seen.insert(name).inserted else { continue }
            guard let package = packages[name] else {
                unsatisfied.append(name)
                continue
            }
            result.append(package)
            for clause in (package.depends + "," + package.preDepends).split(separator: ",") {
                let alternatives = clause.split(separator: "|").compactMap(Self.packageName)
                guard !alternatives.isEmpty else { continue }
                let chosen = alternatives.lazy.compactMap { alt -> String? in
                    if packages[alt] != nil { return alt }
                    return providers[alt]?.first
                }.first
                guard let chosen else {
                    unsatisfied.append(clause.trimmingCharacters(in: .whitespaces))
                    continue
                }
                if !skipping.contains(chosen) { pending.append(chosen) }
            }
        }
        return (result, unsatisfied)
    }
}
