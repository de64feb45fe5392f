import ArgumentParser
import Foundation
import VMM

/// `matryoshka standby`: the hot standby of a VM run with `--standby` (or given one by PUT /ha).
struct Standby: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stand by for a protected VM: receive it and its checkpoints, and take over when its primary dies.",
        discussion: """
            Prints nothing of the guest until it takes over; then runs it as `matryoshka run` would (its console \
            on this process's output, its API on --api-socket). The primary's disks are copied into the files given \
            with --disk (one per primary disk, in order; created or overwritten) and kept in step at each checkpoint. \
            Exits 0 without taking over when the primary turns HA off or its VM ends; 1 when the primary is lost \
            before the first checkpoint.
            """)

    @Option(help: ArgumentHelp("Where the primary connects: unix:PATH or tcp:HOST:PORT.", valueName: "url"))
    var listen: String
    @Option(help: ArgumentHelp("This side's copy of the primary's next disk (raw; created or overwritten); repeatable, in the primary's disk order.", valueName: "path"))
    var disk: [String] = []
    @Option(help: ArgumentHelp("Silence from the primary that counts as its death (default: 3 checkpoint intervals + 500 ms).", valueName: "ms"))
    var timeoutMs: Double?
    @Option(help: ArgumentHelp("Require TLS on a tcp: listener, with ca-cert.pem, server-cert.pem and server-key.pem from this directory.", valueName: "dir"))
    var tlsDir: String?
    @Option(help: ArgumentHelp("Serve the control API on this Unix socket (GET /ha while standing by; everything once it has taken over).", valueName: "path"))
    var apiSocket: String?
    @Flag(help: "Print execution statistics on exit.")
    var stats = false

    func run() throws {
        if let t = timeoutMs, t <= 0 { throw ExitCode(fail("--timeout-ms must be positive", status: 2)) }
        let host = VMHost()
        let monitor = StandbyMonitor()
        host.standbyStatus = { monitor.current }
        var server: APIServer?
        if let apiSocket {
            let s = APIServer(socketPath: apiSocket, host: host)
            do { try s.start() } catch { throw ExitCode(fail("\(error)", status: 2)) }
            server = s
        }
        let outcome: StandbyOutcome
        do {
            outcome = try VirtualMachine.standby(StandbyOptions(listen: listen, disks: disk, timeoutMs: timeoutMs, tlsDir: tlsDir), monitor: monitor) {
                FileHandle.standardError.write(Data("matryoshka: standing by on \(listen)\n".utf8))
            }
        } catch {
            server?.stop()
            throw ExitCode(fail("standby: \(error)", status: 1))
        }
        switch outcome {
        case .stoodDown(let why):
            server?.stop()
            FileHandle.standardError.write(Data("matryoshka: standby stood down: \(why)\n".utf8))
            throw ExitCode(0)
        case .tookOver(let vm, let checkpoint):
            FileHandle.standardError.write(Data("matryoshka: took over from checkpoint \(checkpoint)\n".utf8))
            host.adopt(vm, event: "TookOver")
            var options = GuestRunOptions()
            options.stats = stats
            throw ExitCode(runVM(vm, options: options, apiSocket: nil, server: server, startPaused: false))
        }
    }
}
