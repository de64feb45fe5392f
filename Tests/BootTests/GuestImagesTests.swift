import Foundation
import GuestImages
import XCTest

/// Where guest packages come from and that apt's checks cannot be skipped.
///
/// The mirror tests read sample sources files and need nothing. The apt tests need apt, Debian's
/// archive keyring and the network (the host's mirror, once per run: the suite's InRelease, its
/// riscv64 Packages.xz and one small .deb). From those they build a local `file:` archive, and
/// tampered copies of it, so each check runs against known bytes. Without the prerequisites the apt
/// tests are skipped, except under CI=true, where they fail.
final class GuestImagesTests: XCTestCase {
    // MARK: Mirror detection

    func testMirrorFromDeb822SourcesSkipsSecurityDisabledAndForeignArchives() throws {
        let etc = try makeDirectory()
        try write(etc + "/sources.list.d/aaa-other.sources", """
            # Not Debian: another distribution's archive comes first in name order.
            Types: deb
            URIs: http://other.example/ubuntu
            Suites: noble noble-updates
            Components: main
            Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg
            """)
        try write(etc + "/sources.list.d/debian.sources", """
            Types: deb
            URIs: http://security.example/debian-security
            Suites: bookworm-security
            Components: main
            Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

            Types: deb
            URIs: http://disabled.example/debian
            Suites: bookworm
            Components: main
            Enabled: no

            # Source packages only.
            Types: deb-src
            URIs: http://sources.example/debian
            Suites: bookworm
            Components: main

            Types: deb
            # A comment inside a stanza.
            URIs: http://mirror.example/debian/
            Suites: bookworm bookworm-updates
            Components: main
            Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
            """)
        try write(etc + "/sources.list.d/zzz.sources", """
            Types: deb
            URIs: http://later.example/debian
            Suites: trixie
            Components: main
            """)
        try write(etc + "/sources.list.d/ignored.list.disabled", "deb http://ignored.example/debian bookworm main\n")
        let mirror = try DebianMirror.find(option: nil, environment: [:], aptConfigDirectory: etc)
        XCTAssertEqual(mirror.url, "http://mirror.example/debian")
        XCTAssertEqual(mirror.origin, etc + "/sources.list.d/debian.sources")
    }

    func testMirrorFromOneLineSourcesList() throws {
        let etc = try makeDirectory()
        try write(etc + "/sources.list", """
            # deb http://commented.example/debian bookworm main
            deb cdrom:[Debian GNU/Linux 12.5.0 _Bookworm_ - Official amd64 DVD Binary-1]/ bookworm contrib main
            deb-src http://sources.example/debian bookworm main
            deb http://security.example/debian-security bookworm-security main
            deb [ arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg ] http://mirror.example/debian/ bookworm main # a comment
            deb http://later.example/debian bookworm main
            """)
        // sources.list comes before sources.list.d, as apt reads them.
        try write(etc + "/sources.list.d/other.sources", "Types: deb\nURIs: http://parts.example/debian\nSuites: trixie\n")
        let mirror = try DebianMirror.find(option: nil, environment: [:], aptConfigDirectory: etc)
        XCTAssertEqual(mirror.url, "http://mirror.example/debian")
        XCTAssertEqual(mirror.origin, etc + "/sources.list")

        let entries = DebianMirror.parseOneLine("deb [signed-by=/k.gpg arch=riscv64] file:/srv/archive trixie main\n")
        XCTAssertEqual(entries, [DebianMirror.SourceEntry(types: ["deb"], uris: ["file:/srv/archive"], suites: ["trixie"],
                                                           signedBy: "/k.gpg", enabled: true, file: "")])
    }

    func testMirrorOptionThenEnvironmentThenSources() throws {
        let etc = try makeDirectory()
        try write(etc + "/sources.list", "deb http://mirror.example/debian bookworm main\n")
        let environment = [DebianMirror.environmentVariable: "http://variable.example/debian"]
        XCTAssertEqual(try DebianMirror.find(option: "http://option.example/debian/", environment: environment, aptConfigDirectory: etc),
                       DebianMirror(url: "http://option.example/debian", origin: "--mirror"))
        XCTAssertEqual(try DebianMirror.find(option: nil, environment: environment, aptConfigDirectory: etc),
                       DebianMirror(url: "http://variable.example/debian", origin: "$" + DebianMirror.environmentVariable))
        XCTAssertEqual(try DebianMirror.find(option: nil, environment: [DebianMirror.legacyEnvironmentVariable: "file:/srv/debian"],
                                             aptConfigDirectory: etc).url, "file:/srv/debian")
        XCTAssertEqual(try DebianMirror.find(option: nil, environment: [DebianMirror.environmentVariable: ""],
                                             aptConfigDirectory: etc).url, "http://mirror.example/debian")
    }

    func testNoMirrorIsAnErrorSayingHowToPassOne() throws {
        let empty = try makeDirectory()
        XCTAssertThrowsError(try DebianMirror.find(option: nil, environment: [:], aptConfigDirectory: empty)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(empty), "the error should name where it looked: \(message)")
            XCTAssertTrue(message.contains("--mirror URL") && message.contains(DebianMirror.environmentVariable + "=URL"),
                          "the error should say how to pass a mirror: \(message)")
        }
        // Sources that name no Debian archive (only security updates, another distribution).
        let etc = try makeDirectory()
        try write(etc + "/sources.list", """
            deb http://security.example/debian-security bookworm-security main
            deb [signed-by=/usr/share/keyrings/ubuntu-archive-keyring.gpg] http://other.example/ubuntu noble main
            """)
        XCTAssertThrowsError(try DebianMirror.find(option: nil, environment: [:], aptConfigDirectory: etc)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(etc + "/sources.list") && message.contains("http://other.example/ubuntu noble"),
                          "the error should name the file and what it found: \(message)")
            XCTAssertTrue(message.contains("--mirror URL"), "the error should say how to pass a mirror: \(message)")
        }
    }

    func testMirrorOptionMustBeAnArchiveURL() throws {
        for bad in ["mirror.example/debian", "", "cdrom:/media", "http://a b"] {
            XCTAssertThrowsError(try DebianMirror.find(option: bad, environment: [:], aptConfigDirectory: "/nonexistent"),
                                 "'\(bad)' should be refused") { error in
                XCTAssertTrue("\(error)".contains("--mirror") && "\(error)".contains("dists/ and pool/"), "\(error)")
            }
        }
        XCTAssertThrowsError(try DebianMirror.find(option: nil, environment: [DebianMirror.environmentVariable: "nonsense"],
                                                   aptConfigDirectory: "/nonexistent")) { error in
            XCTAssertTrue("\(error)".contains("$" + DebianMirror.environmentVariable), "\(error)")
        }
    }

    // MARK: apt: cached files are not trusted

    /// An index edited in the private lists directory after an update (a tampered InRelease, a
    /// tampered Packages list) is not used: the next fetch's update starts from empty lists, and
    /// even a download without an explicit update gets a fresh, checked index.
    func testTamperedCachedIndexIsDownloadedAndCheckedAgain() throws {
        let fixture = try requireFixture()
        let dir = try makeDirectory()
        var apt: PrivateApt? = try PrivateApt(directory: dir, mirror: fixture.mirrorURL)
        try apt!.update(progress: { _ in })
        let lists = try FileManager.default.contentsOfDirectory(atPath: apt!.listsDirectory)
        guard let packagesName = lists.first(where: { $0.contains("_Packages") }),
              let inReleaseName = lists.first(where: { $0.hasSuffix("_InRelease") }) else {
            return XCTFail("no Packages list or InRelease in \(apt!.listsDirectory): \(lists)")
        }
        let packagesFile = apt!.listsDirectory + "/" + packagesName
        let inReleaseFile = apt!.listsDirectory + "/" + inReleaseName
        let packages = try Data(contentsOf: URL(fileURLWithPath: packagesFile))
        let inRelease = try Data(contentsOf: URL(fileURLWithPath: inReleaseFile))
        apt = nil  // releases the lock, as the end of one `images fetch` does

        // The next fetch (a new instance) updates.
        try flipByte(in: packagesFile, at: packages.count / 2)
        try flipByte(in: inReleaseFile, at: inRelease.count / 3)
        let next = try PrivateApt(directory: dir, mirror: fixture.mirrorURL)
        try next.update(progress: { _ in })
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: packagesFile)), packages, "the tampered Packages list was kept")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: inReleaseFile)), inRelease, "the tampered InRelease was kept")
        next.release()

        // A download needs an update in this instance first.
        try flipByte(in: packagesFile, at: packages.count / 2)
        let third = try PrivateApt(directory: dir, mirror: fixture.mirrorURL)
        let debs = try third.download(["hello"], into: dir + "/debs", progress: { _ in })
        XCTAssertTrue(third.isUpdated)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: packagesFile)), packages, "download used the tampered Packages list")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: debs[0])), fixture.helloDeb)
    }

    /// A .deb edited in the download directory is not taken (apt itself would take a cached .deb of
    /// the right size without checking it): the next download fetches and checks it again.
    func testTamperedCachedDebIsDownloadedAgain() throws {
        let fixture = try requireFixture()
        let dir = try makeDirectory()
        let apt = try PrivateApt(directory: dir, mirror: fixture.mirrorURL)
        let debs = try apt.download(["hello"], into: dir + "/debs", progress: { _ in })
        XCTAssertEqual(debs.count, 1)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: debs[0])), fixture.helloDeb)
        try flipByte(in: debs[0], at: fixture.helloDeb.count / 2)
        try Data("not a package".utf8).write(to: URL(fileURLWithPath: dir + "/debs/stray_1_riscv64.deb"))

        let again = try apt.download(["hello"], into: dir + "/debs", progress: { _ in })
        XCTAssertEqual(again, debs)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: again[0])), fixture.helloDeb, "the tampered .deb was kept")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/debs/stray_1_riscv64.deb"))

        // The same for a closure download (the nested images' path).
        let closure = try apt.downloadClosure(of: ["hello"], assumingInstalled: ["libc6"], into: dir + "/closure", progress: { _ in })
        try flipByte(in: closure[0], at: fixture.helloDeb.count / 2)
        let closureAgain = try apt.downloadClosure(of: ["hello"], assumingInstalled: ["libc6"], into: dir + "/closure", progress: { _ in })
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: closureAgain[0])), fixture.helloDeb, "the tampered .deb was kept")
    }

    // MARK: apt: what cannot be verified is an error

    func testInReleaseWithBadSignatureIsAnError() throws {
        let fixture = try requireFixture()
        let archive = try fixture.tamperedCopy(at: "dists/\(GuestImages.suite)/InRelease", replacing: "riscv64", with: "riscv65")
        let dir = try makeDirectory()
        let apt = try PrivateApt(directory: dir, mirror: "file://" + archive)
        let started = Date()
        XCTAssertThrowsError(try apt.update(progress: { _ in })) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("file://" + archive) && message.contains("InRelease"), "should name the mirror and file: \(message)")
            XCTAssertTrue(message.contains("BADSIG") || message.contains("not signed"), "should say the signature is bad: \(message)")
            XCTAssertTrue(message.contains("--mirror URL"), "should say what to do: \(message)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 4, "a bad signature is not worth retrying")
        XCTAssertFalse(apt.isUpdated)
        XCTAssertEqual(try listFiles(apt.listsDirectory), [], "nothing from an unverified index may stay")
        // And nothing can be downloaded from it.
        XCTAssertThrowsError(try apt.download(["hello"], into: dir + "/debs", progress: { _ in }))
        XCTAssertEqual(try listFiles(dir + "/debs"), [])
    }

    func testPackagesIndexNotMatchingInReleaseIsAnError() throws {
        let fixture = try requireFixture()
        let archive = try fixture.tamperedCopy(at: "dists/\(GuestImages.suite)/main/binary-riscv64/Packages.xz")
        let dir = try makeDirectory()
        let apt = try PrivateApt(directory: dir, mirror: "file://" + archive)
        apt.retryDelay = 0
        var lines: [String] = []
        XCTAssertThrowsError(try apt.update(progress: { lines.append($0) })) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("Hash Sum mismatch") && message.contains("Packages"), "should name the index and the mismatch: \(message)")
            XCTAssertTrue(message.contains("sync") && message.contains("--mirror URL"), "should say what to do: \(message)")
        }
        XCTAssertEqual(lines.filter { $0.contains("retrying") }.count, apt.updateAttempts - 1, "a mismatch (a mirror sync?) is retried: \(lines)")
        XCTAssertEqual(try listFiles(apt.listsDirectory), [], "nothing from an unverified index may stay")
    }

    func testDebNotMatchingTheIndexIsAnError() throws {
        let fixture = try requireFixture()
        let archive = try fixture.tamperedCopy(at: fixture.helloPoolPath)
        let dir = try makeDirectory()
        let apt = try PrivateApt(directory: dir, mirror: "file://" + archive)
        try apt.update(progress: { _ in })
        XCTAssertThrowsError(try apt.download(["hello"], into: dir + "/debs", progress: { _ in })) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("hello") && message.contains("Hash Sum mismatch"), "should name the package and the mismatch: \(message)")
            XCTAssertTrue(message.contains(dir + "/debs") && message.contains("--mirror URL"), "should name the directory and what to do: \(message)")
        }
        XCTAssertEqual(try listFiles(dir + "/debs"), [], "a .deb that failed its check may not stay")
        XCTAssertThrowsError(try apt.downloadClosure(of: ["hello"], assumingInstalled: ["libc6"], into: dir + "/closure", progress: { _ in })) { error in
            XCTAssertTrue("\(error)".contains("Hash Sum mismatch"), "\(error)")
        }
    }

    /// apt resolves the closure; packages assumed installed are left out with what only they need.
    func testClosureLeavesOutPackagesAssumedInstalled() throws {
        let fixture = try requireFixture()
        let dir = try makeDirectory()
        let apt = try PrivateApt(directory: dir, mirror: fixture.realMirror)
        let all = try apt.downloadClosure(of: ["hello"], assumingInstalled: [], into: dir + "/all", progress: { _ in })
        let names = Set(all.map { String(($0 as NSString).lastPathComponent.split(separator: "_")[0]) })
        XCTAssertTrue(names.isSuperset(of: ["hello", "libc6"]), "hello's closure: \(names)")
        let trimmed = try apt.downloadClosure(of: ["hello"], assumingInstalled: ["libc6"], into: dir + "/trimmed", progress: { _ in })
        XCTAssertEqual(trimmed.map { ($0 as NSString).lastPathComponent }, [(fixture.helloPoolPath as NSString).lastPathComponent],
                       "with libc6 assumed installed, hello needs nothing else")
    }

    /// `matryoshka images fetch --mirror` with an archive whose signature is bad fails and says so.
    func testFetchCommandFailsOnUnverifiableMirror() throws {
        let fixture = try requireFixture()
        let binary = BootTests.matryoshkaBinary
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            try missing("matryoshka binary not found at \(binary): run `swift build -c release` or set MATRYOSHKA_BIN")
        }
        let archive = try fixture.tamperedCopy(at: "dists/\(GuestImages.suite)/InRelease", replacing: "riscv64", with: "riscv65")
        let cache = try makeDirectory()
        let result = try BootTests.launch(binary, ["images", "fetch", "--mirror", "file://" + archive], timeout: 60,
                                          environment: ["MATRYOSHKA_CACHE": cache])
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.output.contains("error: apt could not download or verify") && result.output.contains("InRelease"), result.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: cache + "/Image"), result.output)
    }

    // MARK: Fixture

    struct Fixture {
        /// The host's mirror.
        var realMirror: String
        /// A local copy of the suite's signed InRelease, riscv64 Packages.xz and hello's .deb.
        var archive: String
        var helloPoolPath: String
        var helloDeb: Data
        var mirrorURL: String { "file://" + archive }

        /// A copy of the local archive with one byte of `path` flipped, or `old` replaced by `new`.
        func tamperedCopy(at path: String, replacing old: String? = nil, with new: String = "") throws -> String {
            let copy = GuestImagesTests.fixtureDirectory + "/archive-\(UUID().uuidString)"
            try FileManager.default.copyItem(atPath: archive, toPath: copy)
            let file = copy + "/" + path
            if let old {
                let text = try String(contentsOfFile: file, encoding: .utf8)
                guard let range = text.range(of: old) else { throw GuestImageError("\(old) not in \(file)") }
                try text.replacingCharacters(in: range, with: new).write(toFile: file, atomically: true, encoding: .utf8)
            } else {
                let size = try Data(contentsOf: URL(fileURLWithPath: file)).count
                try GuestImagesTests.flipByte(in: file, at: size / 2)
            }
            return copy
        }
    }

    static let fixtureDirectory = FileManager.default.temporaryDirectory
        .appendingPathComponent("matryoshka-guestimages-\(getpid())").path
    nonisolated(unsafe) static var fixtureResult: Result<Fixture, Error>?

    override class func tearDown() {
        try? FileManager.default.removeItem(atPath: fixtureDirectory)
        super.tearDown()
    }

    private func requireFixture() throws -> Fixture {
        if Self.fixtureResult == nil {
            Self.fixtureResult = Result { try Self.makeFixture() }
        }
        switch Self.fixtureResult! {
        case .success(let fixture): return fixture
        case .failure(let error):
            try missing("the apt tests need apt, \(GuestImages.suite)'s InRelease from the host's mirror and the network: \(error)")
        }
    }

    /// One update from the host's mirror; the local archive gets its InRelease (as apt verified it),
    /// the Packages.xz it lists (downloaded with apt's helper against the listed SHA256) and hello.
    private static func makeFixture() throws -> Fixture {
        let fm = FileManager.default
        let suite = GuestImages.suite
        let mirror = try DebianMirror.find().url
        let dir = fixtureDirectory
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let apt = try PrivateApt(directory: dir + "/apt", mirror: mirror)
        try apt.update(progress: { _ in })
        let archive = dir + "/archive"
        let dists = archive + "/dists/" + suite
        try fm.createDirectory(atPath: dists + "/main/binary-riscv64", withIntermediateDirectories: true)
        guard let inRelease = try fm.contentsOfDirectory(atPath: apt.listsDirectory).first(where: { $0.hasSuffix("_InRelease") }) else {
            throw GuestImageError("no InRelease in \(apt.listsDirectory) after apt-get update")
        }
        try fm.copyItem(atPath: apt.listsDirectory + "/" + inRelease, toPath: dists + "/InRelease")
        let releaseText = try String(contentsOfFile: dists + "/InRelease", encoding: .utf8)
        let sha256Section = releaseText.components(separatedBy: "\nSHA256:\n").last ?? ""
        guard let line = sha256Section.split(separator: "\n").first(where: { $0.hasSuffix(" main/binary-riscv64/Packages.xz") }),
              let hash = line.split(separator: " ").first else {
            throw GuestImageError("main/binary-riscv64/Packages.xz is not listed in \(dists)/InRelease")
        }
        let helper = ["/usr/lib/apt/apt-helper", "/usr/libexec/apt/apt-helper"].first { fm.isExecutableFile(atPath: $0) }
        guard let helper else { throw GuestImageError("apt-helper not found") }
        try runTool([helper, "download-file", "\(mirror)/dists/\(suite)/main/binary-riscv64/Packages.xz",
                     dists + "/main/binary-riscv64/Packages.xz", "SHA256:\(hash)"], environment: apt.environment)
        let shown = try apt.aptCache(["show", "--no-all-versions", "hello"])
        guard let filename = shown.split(separator: "\n").first(where: { $0.hasPrefix("Filename: ") })?.dropFirst("Filename: ".count) else {
            throw GuestImageError("no Filename for hello in apt-cache show:\n\(shown)")
        }
        let debs = try apt.download(["hello"], into: dir + "/hello", progress: { _ in })
        let pool = archive + "/" + filename
        try fm.createDirectory(atPath: (pool as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try fm.copyItem(atPath: debs[0], toPath: pool)
        return Fixture(realMirror: mirror, archive: archive, helloPoolPath: String(filename),
                       helloDeb: try Data(contentsOf: URL(fileURLWithPath: pool)))
    }

    // MARK: Helpers

    private func makeDirectory() throws -> String {
        let dir = Self.fixtureDirectory + "/test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    private func write(_ path: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try (text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    private func listFiles(_ dir: String) throws -> [String] {
        guard FileManager.default.fileExists(atPath: dir) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0 != "lock" && $0 != "partial" && $0 != "auxfiles" }.sorted()
    }

    static func flipByte(in path: String, at offset: Int) throws {
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        data[offset] ^= 0x01
        try data.write(to: URL(fileURLWithPath: path))
    }

    private func flipByte(in path: String, at offset: Int) throws {
        try Self.flipByte(in: path, at: offset)
    }

    private static func runTool(_ args: [String], environment: [String: String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: args[0])
        process.arguments = Array(args.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw GuestImageError("\(args.joined(separator: " ")) failed:\n\(String(decoding: output, as: UTF8.self))")
        }
    }
}
