import ArgumentParser
import Foundation
import GuestImages

/// `matryoshka images …`: the guest software cache (Debian riscv64 kernel, OpenSBI, busybox).
struct Images: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "Fetch and locate guest images (Debian trixie riscv64 kernel, OpenSBI, busybox, initramfs).",
        discussion: """
            The cache lives in $MATRYOSHKA_CACHE, else $XDG_CACHE_HOME/matryoshka, else ~/.cache/matryoshka.
            Packages come from the Debian archive given with `fetch --mirror URL` or $MATRYOSHKA_MIRROR, \
            else the first Debian archive in the host's apt sources (/etc/apt/sources.list, \
            /etc/apt/sources.list.d/*.list and *.sources). apt (with a private configuration in the \
            cache) checks the archive's signed InRelease against Debian's archive keyring and every \
            download against it; anything it cannot verify is an error.
            """,
        subcommands: [Fetch.self, Path.self, Initramfs.self]
    )

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download the guest packages with a private apt configuration and build the default initramfs.")

        @Flag(help: "Also build the nested-virtualization images (qemu-system-riscv on an L1 disk; for `matryoshka demo nested`).")
        var nested = false

        @Option(help: ArgumentHelp(
            "The Debian archive to download from: the URL of the directory holding dists/ and pool/ (default: $MATRYOSHKA_MIRROR, else the host's apt sources).",
            valueName: "url"))
        var mirror: String?

        func run() throws {
            do {
                let progress: (String) -> Void = { line in
                    FileHandle.standardError.write(Data(("images: " + line + "\n").utf8))
                }
                try GuestImages.fetch(mirror: mirror, nested: nested, progress: progress)
            } catch let error as GuestImageError {
                FileHandle.standardError.write(Data(("error: " + error.message + "\n").utf8))
                throw ExitCode.failure
            }
        }
    }

    struct Path: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the cache paths (NAME=PATH lines).")

        @Argument(help: "Print only this path: cache, kernel, firmware, busybox, modules, initramfs, nested-disk, nested-initramfs or nested-l2-initramfs.")
        var name: String?

        func run() throws {
            let paths: [(String, String)] = [
                ("cache", GuestImages.cacheDirectory),
                ("kernel", GuestImages.kernelPath),
                ("firmware", GuestImages.firmwarePath),
                ("busybox", GuestImages.busyboxPath),
                ("modules", GuestImages.modulesDirectory),
                ("initramfs", GuestImages.initramfsPath),
                ("nested-disk", GuestImages.nestedDiskPath),
                ("nested-initramfs", GuestImages.nestedInitramfsPath),
                ("nested-l2-initramfs", GuestImages.nestedL2InitramfsPath),
            ]
            if let name {
                guard let match = paths.first(where: { $0.0 == name }) else {
                    throw ValidationError("unknown name '\(name)'; use one of: \(paths.map(\.0).joined(separator: ", "))")
                }
                print(match.1)
            } else {
                for (key, value) in paths { print("\(key)=\(value)") }
            }
        }
    }

    /// Hidden helper for scripts: build a busybox initramfs with a custom /init.
    struct Initramfs: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a busybox initramfs with a custom /init.", shouldDisplay: false)

        @Option(help: "Host file holding the /init script.")
        var `init`: String

        @Option(name: .customLong("add"), help: "GUEST:HOST[:MODE] (octal mode, default 755); repeatable.")
        var add: [String] = []

        @Option(help: "Output path (gzip-compressed when it ends in .gz).")
        var out: String

        func run() throws {
            guard let script = try? String(contentsOfFile: `init`, encoding: .utf8) else {
                throw ValidationError("cannot read init script \(`init`)")
            }
            var extra: [(guestPath: String, hostPath: String, mode: UInt32)] = []
            for spec in add {
                let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw ValidationError("--add expects GUEST:HOST[:MODE], got '\(spec)'")
                }
                var mode: UInt32 = 0o755
                if parts.count == 3 {
                    guard let m = UInt32(parts[2], radix: 8) else {
                        throw ValidationError("--add mode must be octal, got '\(parts[2])' in '\(spec)'")
                    }
                    mode = m
                }
                extra.append((guestPath: parts[0], hostPath: parts[1], mode: mode))
            }
            do {
                try GuestImages.buildInitramfs(init: script, extraFiles: extra, to: out)
            } catch let error as GuestImageError {
                FileHandle.standardError.write(Data(("error: " + error.message + "\n").utf8))
                throw ExitCode.failure
            }
        }
    }
}
