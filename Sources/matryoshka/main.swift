import ArgumentParser
import Foundation
import Logging
import Machine
import VMM

struct Matryoshka: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matryoshka",
        abstract: "A RISC-V (RV64GC) virtual machine monitor that boots Linux.",
        subcommands: [Run.self, Standby.self, Ctl.self, Images.self, Demo.self, SnapshotCommand.self],
        defaultSubcommand: nil)
}

LoggingSystem.bootstrap { label in
    var h = StreamLogHandler.standardError(label: label)
    let level = getenv("MATRYOSHKA_LOG").flatMap { Logger.Level(rawValue: String(cString: $0)) } ?? .notice
    h.logLevel = level
    return h
}
if let restore = fastRestoreRequest(CommandLine.arguments) {
    exit(restoreAndRun(restore))
}
Matryoshka.main()
