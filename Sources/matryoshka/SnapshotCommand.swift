import ArgumentParser
import Foundation
import VMM

/// `matryoshka snapshot info FILE`: what a state file holds, without restoring it.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Inspect snapshot state files (create and load them with `ctl snapshot` or `run --restore`).",
        subcommands: [Info.self])

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a state file's sections and metadata (machine config, disks, memory file, Diff parent) as JSON.",
            discussion: "The file is checked as a restore checks it (magic, format version, every section's CRC-64); exit status 2 when it is refused.")

        @Argument(help: ArgumentHelp("The snapshot state file (snapshot_path).", valueName: "file"))
        var file: String

        func run() throws {
            do {
                print(try SnapshotInfo.json(path: file))
            } catch {
                FileHandle.standardError.write(Data("matryoshka: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
    }
}
