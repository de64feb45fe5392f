import Foundation
import GuestImages
import XCTest

/// ocf:matryoshka:vm in a real two-node Pacemaker/Corosync cluster on this machine (ocf/cluster-test.sh:
/// namespaces joined by veth, fencing on), and ocf-tester on the agent. The guest computes an LCG
/// forever and prints its state: every value printed on any node, before and after a live migration,
/// a kill -9, a restart through snapshot_dir and a fencing failover, must be the right one.
final class ClusterTests: XCTestCase {
    static let step = 500

    static func guestScript() -> String {
        """
        #!/bin/sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        i=1
        s=7
        while true; do
            s=$(( (s * 1103515245 + i) % 2147483647 ))
            if [ $((i % \(step))) -eq 0 ]; then echo "PROGRESS $i s=$s"; fi
            i=$((i + 1))
        done
        """
    }

    func requireClusterTools() throws -> (binary: String, repo: String) {
        let binary = try requireBinary()
        guard GuestImages.isFetched else { try missing("guest images not fetched: run `matryoshka images fetch`") }
        guard getuid() == 0 else { try missing("the cluster test needs root (namespaces, corosync, pacemaker)") }
        for tool in ["corosync", "pacemakerd", "crm", "crm_mon", "crm_resource", "ocf-tester", "xmllint", "nsenter", "unshare", "ip"]
        where VirtioBootTests.findTool(tool) == nil {
            try missing("\(tool) not found: install corosync, pacemaker, pacemaker-cli-utils, crmsh, resource-agents, libxml2-utils, util-linux and iproute2 (scripts/setup-host)")
        }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        return (binary, repo)
    }

    func testOCFTesterPasses() throws {
        let (binary, repo) = try requireClusterTools()
        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let install = try GuestProcess.capture(repo + "/ocf/install.sh", [])
        XCTAssertEqual(install.status, 0, install.output)
        let config = dir + "/vm.json"
        try """
            {"boot-source": {"kernel_image_path": "\(GuestImages.kernelPath)", "initrd_path": "\(GuestImages.initramfsPath)", "boot_args": "console=ttyS0 quiet"},
             "machine-config": {"vcpu_count": 1, "mem_size_mib": 128}}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let r = try GuestProcess.capture(VirtioBootTests.findTool("ocf-tester")!, [
            "-n", "ocftest", "-o", "config=" + config, "-o", "binary=" + binary, "-o", "state_dir=" + dir + "/state",
            "-o", "migration_url=unix:" + dir + "/mig-%n.sock", "/usr/lib/ocf/resource.d/matryoshka/vm"])
        print("ClusterTests: ocf-tester:\n\(r.output)")
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("passed all tests"), r.output)
        XCTAssertFalse(r.output.contains("does not conform"), r.output)
        // Exit codes OCF 1.1 defines: a missing binary (5), a missing config parameter (6), stopped (7).
        let agent = "/usr/lib/ocf/resource.d/matryoshka/vm"
        func action(_ a: String, _ env: [String: String]) throws -> Int32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: agent)
            p.arguments = [a]
            var e = ProcessInfo.processInfo.environment
            e["OCF_ROOT"] = "/usr/lib/ocf"; e["OCF_RESOURCE_INSTANCE"] = "codes"
            for (k, v) in env { e[k] = v }
            p.environment = e
            p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
            try p.run(); p.waitUntilExit()
            return p.terminationStatus
        }
        let state = ["OCF_RESKEY_state_dir": dir + "/codes"]
        XCTAssertEqual(try action("validate-all", state.merging(["OCF_RESKEY_config": config, "OCF_RESKEY_binary": dir + "/no-such-binary"]) { $1 }), 5)
        XCTAssertEqual(try action("validate-all", state.merging(["OCF_RESKEY_binary": binary]) { $1 }), 6)
        XCTAssertEqual(try action("monitor", state.merging(["OCF_RESKEY_config": config, "OCF_RESKEY_binary": binary]) { $1 }), 7)
        XCTAssertEqual(try action("stop", state.merging(["OCF_RESKEY_config": config, "OCF_RESKEY_binary": binary]) { $1 }), 0)
        XCTAssertEqual(try action("frobnicate", state), 3)
        let meta = try GuestProcess.capture(agent, ["meta-data"])
        XCTAssertTrue(meta.output.contains("<parameter name=\"migration_url\""), meta.output)
    }

    func testTwoNodeClusterMigratesRecoversAndFailsOver() throws {
        let (binary, repo) = try requireClusterTools()
        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let initrd = dir + "/lcg.cpio.gz"
        try GuestImages.buildInitramfs(init: Self.guestScript(), extraFiles: [], to: initrd)
        let logs = dir + "/logs"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: repo + "/ocf/cluster-test.sh")
        var env = ProcessInfo.processInfo.environment
        env["MATRYOSHKA"] = binary; env["KERNEL"] = GuestImages.kernelPath; env["INITRD"] = initrd; env["CLUSTER_LOGS"] = logs
        p.environment = env
        let out = dir + "/cluster.out"
        FileManager.default.createFile(atPath: out, contents: nil)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        p.standardOutput = h; p.standardError = h
        try p.run()
        let deadline = Date().addingTimeInterval(900)
        while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.5) }
        if p.isRunning { p.interrupt(); Thread.sleep(forTimeInterval: 20); if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        p.waitUntilExit()
        try h.close()
        let output = String(decoding: FileManager.default.contents(atPath: out) ?? Data(), as: UTF8.self)
        print("ClusterTests:\n\(output)")
        XCTAssertEqual(p.terminationStatus, 0, output)
        if p.terminationStatus != 0 {
            // Kept for a look after the test (the test's directory goes away).
            let keep = NSTemporaryDirectory() + "matryoshka-cluster-logs"
            try? FileManager.default.removeItem(atPath: keep)
            try? FileManager.default.copyItem(atPath: dir, toPath: keep)
            print("ClusterTests: logs and the guest's initramfs kept in \(keep)")
        }
        for phase in ["CLUSTER start", "CLUSTER migrate", "CLUSTER kill9-recovery", "CLUSTER snapshot-restart", "CLUSTER fence-failover", "CLUSTER done"] {
            XCTAssertTrue(output.contains(phase), "\(phase) missing:\n\(output)")
        }
        // Every value the guest printed, on any node, is the computation's.
        var files = (try? FileManager.default.contentsOfDirectory(atPath: logs)) ?? []
        files = files.filter { $0.hasSuffix(".log") && !$0.contains("pacemaker") }
        XCTAssertGreaterThanOrEqual(files.count, 4, "console logs missing: \(files)")
        let re = try NSRegularExpression(pattern: "PROGRESS ([0-9]+) s=([0-9]+)")
        var checked = 0
        var expected: [Int: Int64] = [:]
        var s: Int64 = 7, i: Int64 = 0
        for f in files {
            let text = String(decoding: FileManager.default.contents(atPath: logs + "/" + f) ?? Data(), as: UTF8.self)
            let ns = text as NSString
            for m in re.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                let at = Int(ns.substring(with: m.range(at: 1)))!, value = Int64(ns.substring(with: m.range(at: 2)))!
                if expected[at] == nil {
                    while i < Int64(at) { i += 1; s = (s * 1_103_515_245 + i) % 2_147_483_647; if i % Int64(Self.step) == 0 { expected[Int(i)] = s } }
                }
                XCTAssertEqual(value, expected[at], "\(f): PROGRESS \(at) printed a wrong value")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 20, "too few progress lines checked")
        // The restart through snapshot_dir went on from where the guest was, without a boot.
        if let after = FileManager.default.contents(atPath: logs + "/" + (files.first { $0.hasSuffix("-after-restart.log") } ?? "")) {
            let text = String(decoding: after, as: UTF8.self)
            XCTAssertTrue(text.contains("run --restore"), "the restart did not restore from snapshot_dir")
        } else {
            XCTFail("no log after the restart")
        }
    }
}
