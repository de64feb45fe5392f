import Foundation
import GuestImages
import VMM
import XCTest

/// `run --config-file`: Firecracker's config-file shapes describe the machine; options beside the
/// file must agree with it; `GET /vm` answers in the same shapes, so its config boots the same VM.
final class ConfigFileTests: XCTestCase {
    var dir = ""
    var binary = ""
    var initrd = ""

    static let initScript = """
        #!/bin/sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t devtmpfs devtmpfs /dev
        letters=$(sed -n 's/^isa[[:space:]]*: rv64\\([a-z]*\\).*/\\1/p' /proc/cpuinfo | head -n 1)
        case "$letters" in *h*) hv=yes ;; *) hv=no ;; esac
        echo "CONFIG-RESULT cpus=$(grep -c '^processor' /proc/cpuinfo) mem=$(sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo) hv=$hv letters=$letters"
        mount -t sysfs sysfs /sys
        if ls /sys/firmware/devicetree/base/soc | grep -q virtio_mmio; then echo "CONFIG-DISK present"; fi
        sleep 1
        poweroff -f
        """

    override func setUpWithError() throws {
        binary = try requireBinary()
        guard GuestImages.isFetched else { try missing("guest images not fetched: run `matryoshka images fetch`") }
        dir = try BootTests.makeTemporaryDirectory()
        initrd = dir + "/cfg.cpio.gz"
        try GuestImages.buildInitramfs(init: Self.initScript, extraFiles: [], to: initrd)
    }
    override func tearDownWithError() throws {
        if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
    }

    func write(_ object: [String: Any], _ name: String) throws -> String {
        let path = dir + "/" + name
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: path))
        return path
    }

    var config: [String: Any] {
        ["boot-source": ["kernel_image_path": GuestImages.kernelPath, "initrd_path": initrd, "boot_args": "console=ttyS0 panic=-1"],
         "machine-config": ["vcpu_count": 2, "mem_size_mib": 192, "hypervisor": false],
         "drives": [["drive_id": "rootfs", "path_on_host": dir + "/disk.raw", "is_root_device": true, "is_read_only": false]]]
    }

    func testConfigFileBootsTheDescribedMachine() throws {
        FileManager.default.createFile(atPath: dir + "/disk.raw", contents: Data(count: 4 << 20))
        let file = try write(config, "vm.json")
        let socket = dir + "/api.sock"
        let vm = try GuestProcess(binary, ["run", "--config-file", file, "--api-socket", socket], dir: dir)
        XCTAssertTrue(vm.waitFor("CONFIG-RESULT", timeout: 120), vm.tail)
        // GET /vm reports the config in the same shapes.
        let info = try APIClient(socketPath: socket).request("GET", "/vm")
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(info.body)) as? [String: Any])
        let cfg = try XCTUnwrap(o["config"] as? [String: Any])
        let mc = try XCTUnwrap(cfg["machine-config"] as? [String: Any])
        XCTAssertEqual(mc["vcpu_count"] as? Int, 2)
        XCTAssertEqual(mc["mem_size_mib"] as? Int, 192)
        XCTAssertEqual(mc["hypervisor"] as? Bool, false)
        XCTAssertEqual(vm.waitForExit(timeout: 60), 0, vm.tail)
        let line = try XCTUnwrap(vm.output.split(separator: "\n").first { $0.contains("CONFIG-RESULT") })
        let f = BootTests.parseFields(String(line))
        XCTAssertEqual(f["cpus"], "2", String(line))
        XCTAssertEqual(f["hv"], "no", "hypervisor: false must hide H: \(line)")
        let kib = Int(f["mem"] ?? "") ?? 0
        XCTAssertTrue(kib > 100_000 && kib <= 192 * 1024, "MemTotal \(kib) kB for a 192 MiB machine")
        XCTAssertTrue(vm.output.contains("CONFIG-DISK present"), vm.tail)

        // The config GET /vm printed is itself a config file for the same machine.
        let again = try write(cfg, "again.json")
        let r = try BootTests.launch(binary, ["run", "--config-file", again], timeout: 120)
        XCTAssertEqual(r.status, 0, r.output)
        let line2 = r.output.split(separator: "\n").first { $0.contains("CONFIG-RESULT") }.map(String.init) ?? ""
        let f2 = BootTests.parseFields(line2)
        for k in ["cpus", "mem", "hv", "letters"] { XCTAssertEqual(f2[k], f[k], "\(k): same machine from GET /vm's config:\n\(line2)") }
        XCTAssertTrue(r.output.contains("CONFIG-DISK present"), r.output)
    }

    func testOptionsThatContradictTheFileAreRefused() throws {
        FileManager.default.createFile(atPath: dir + "/disk.raw", contents: Data(count: 4 << 20))
        let file = try write(config, "vm.json")
        for (args, names) in [(["--cpus", "4"], "--cpus"), (["--memory", "1G"], "--memory"), (["--kernel", "/bin/true"], "--kernel"),
                              (["--hypervisor"], "--hypervisor")] {
            let r = try BootTests.launch(binary, ["run", "--config-file", file] + args, timeout: 30)
            XCTAssertEqual(r.status, 2, "\(args): \(r.output)")
            XCTAssertTrue(r.output.contains(names) && r.output.contains("contradicts"), "\(args): \(r.output)")
        }
        // Agreeing options are fine (and the machine boots).
        let ok = try BootTests.launch(binary, ["run", "--config-file", file, "--cpus", "2", "--memory", "192M"], timeout: 120)
        XCTAssertEqual(ok.status, 0, ok.output)
        // Typos and wrong types are errors that name the key.
        var typo = config
        typo["machine-config"] = ["vcpu_cuont": 2]
        let t = try BootTests.launch(binary, ["run", "--config-file", try write(typo, "typo.json")], timeout: 30)
        XCTAssertEqual(t.status, 2, t.output)
        XCTAssertTrue(t.output.contains("vcpu_cuont"), t.output)
        var wrong = config
        wrong["machine-config"] = ["vcpu_count": "two"]
        let w = try BootTests.launch(binary, ["run", "--config-file", try write(wrong, "wrong.json")], timeout: 30)
        XCTAssertEqual(w.status, 2, w.output)
        XCTAssertTrue(w.output.contains("vcpu_count"), w.output)
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: dir + "/bad.json"))
        let b = try BootTests.launch(binary, ["run", "--config-file", dir + "/bad.json"], timeout: 30)
        XCTAssertEqual(b.status, 2, b.output)
    }
}
