import Foundation
import GuestImages
import VMM
import XCTest

/// Snapshots with disks: clones of one snapshot run side by side on qcow2 overlays of their own and
/// draw different random numbers (the VM generation ID makes the guest reseed); a snapshot taken
/// while the guest writes a filesystem restores into a guest that finishes and leaves it clean.
/// Oracles: qemu-img check on the overlays, e2fsck and debugfs on the disk contents.
final class CloneTests: XCTestCase {
    var dir = ""
    var env = VirtioBootTests.Env(binary: "", mkfs: nil)
    let virtio = VirtioBootTests(name: "helper", testClosure: { _ in })

    override func setUpWithError() throws {
        env = try virtio.prerequisites(needMkfs: true)
        for tool in ["qemu-img", "e2fsck", "debugfs"] where VirtioBootTests.findTool(tool) == nil {
            try missing("\(tool) not found: install qemu-utils and e2fsprogs")
        }
        dir = try BootTests.makeTemporaryDirectory()
    }
    override func tearDownWithError() throws {
        if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
    }

    @discardableResult
    func tool(_ name: String, _ args: [String]) throws -> (status: Int32, output: String) {
        try GuestProcess.capture(VirtioBootTests.findTool(name)!, args)
    }

    func field(_ output: String, _ key: String) -> String? {
        output.split(whereSeparator: \.isNewline).last { $0.hasPrefix(key + " ") }
            .map { String($0.dropFirst(key.count + 1)).trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    func testClonesDivergeAndKeepTheirOwnDisks() throws {
        let disk = dir + "/base.img"
        try virtio.makeExt4(disk, env: env)
        let initrd = try virtio.initrd(dir, "clone", modules: VirtioBootTests.blockModules, env: env, script: """
            mount -t ext4 /dev/vda /mnt
            if ls /sys/bus/platform/drivers/vmgenid/ | grep -q vmgenid; then echo "VMGENID-BOUND yes"; else echo "VMGENID-BOUND no"; fi
            echo "CLONE-READY"
            i=0; while [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done
            r=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n')
            echo "CLONE-RANDOM $r"
            echo "$r" > /mnt/who
            umount /mnt
            echo "CLONE-DONE"
            poweroff -f
            """)
        let socket = dir + "/api.sock"
        let source = try GuestProcess(env.binary, virtio.args(env, initrd: initrd, extra: ["--disk", disk, "--api-socket", socket]), dir: dir)
        XCTAssertTrue(source.waitFor("CLONE-READY", timeout: 120), source.tail)
        XCTAssertTrue(source.output.contains("VMGENID-BOUND yes"), "Linux did not bind the vmgenid device:\n\(source.tail)")
        let c = APIClient(socketPath: socket)
        XCTAssertEqual(try c.request("PATCH", "/vm", json: ["state": "Paused"]).status, 204)
        let r = try c.request("PUT", "/snapshot/create", json: ["snapshot_path": dir + "/s.snap", "mem_file_path": dir + "/s.mem"])
        XCTAssertEqual(r.status, 204, r.text)
        source.kill9()
        let baseBefore = try Data(contentsOf: URL(fileURLWithPath: disk))

        // Two clones side by side.
        let clones = try (0..<2).map { i in
            try GuestProcess(env.binary, ["run", "--restore", dir + "/s.snap", "--clone", "--clone-dir", dir], dir: dir, name: "clone\(i)")
        }
        var randoms: [String] = []
        for (i, vm) in clones.enumerated() {
            XCTAssertEqual(vm.waitForExit(timeout: 120), 0, "clone \(i):\n\(vm.tail)")
            XCTAssertTrue(vm.output.contains("CLONE-DONE"), "clone \(i):\n\(vm.tail)")
            XCTAssertFalse(vm.output.contains("Linux version"), "clone \(i) booted instead of resuming")
            // The guest kernel's own word that it saw the new generation ID (drivers/char/random.c).
            XCTAssertTrue(vm.output.contains("crng reseeded due to virtual machine fork"), "clone \(i) did not reseed:\n\(vm.tail)")
            let random = try XCTUnwrap(field(vm.output, "CLONE-RANDOM"), vm.tail)
            randoms.append(random)
            let overlay = try XCTUnwrap(field(vm.output, "matryoshka: clone disk 0:"), "clone \(i) named no overlay:\n\(vm.tail)")
            let check = try tool("qemu-img", ["check", overlay])
            XCTAssertEqual(check.status, 0, "qemu-img check \(overlay): \(check.output)")
            let info = try tool("qemu-img", ["info", overlay])
            XCTAssertTrue(info.output.contains(disk), "overlay's backing file: \(info.output)")
            let raw = dir + "/clone\(i).raw"
            XCTAssertEqual(try tool("qemu-img", ["convert", "-O", "raw", overlay, raw]).status, 0)
            let fsck = try tool("e2fsck", ["-fn", raw])
            XCTAssertEqual(fsck.status, 0, "e2fsck of clone \(i)'s disk: \(fsck.output)")
            let who = try tool("debugfs", ["-R", "cat /who", raw])
            XCTAssertTrue(who.output.contains(random), "clone \(i)'s disk holds \(who.output), not its own \(random)")
        }
        XCTAssertEqual(randoms.count, 2)
        XCTAssertNotEqual(randoms.first, randoms.last, "two clones drew the same random numbers: the guest did not reseed")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: disk)), baseBefore, "a clone wrote to the shared base disk")
        // A plain restore is the same generation: no reseed.
        let plain = try GuestProcess(env.binary, ["run", "--restore", dir + "/s.snap"], dir: dir, name: "plain")
        XCTAssertEqual(plain.waitForExit(timeout: 120), 0, plain.tail)
        XCTAssertTrue(plain.output.contains("CLONE-DONE"), plain.tail)
        XCTAssertFalse(plain.output.contains("virtual machine fork"), "a plain restore announced a fork:\n\(plain.tail)")
    }

    func testSnapshotDuringDiskWritesLeavesACleanFilesystem() throws {
        let disk = dir + "/disk.img"
        try virtio.makeExt4(disk, env: env)
        let initrd = try virtio.initrd(dir, "writer", modules: VirtioBootTests.blockModules, env: env, script: """
            mount -t ext4 /dev/vda /mnt
            i=0
            while [ $i -lt 40 ]; do
                dd if=/dev/urandom of=/mnt/f$i bs=64k count=8 conv=fsync 2>/dev/null
                md5sum /mnt/f$i | cut -d' ' -f1 > /mnt/f$i.md5
                echo "WROTE $i"
                i=$((i+1))
            done
            bad=0
            for f in /mnt/f*.md5; do d=${f%.md5}; [ "$(md5sum $d | cut -d' ' -f1)" = "$(cat $f)" ] || bad=$((bad+1)); done
            echo "VERIFY bad=$bad files=$(ls /mnt/f*.md5 | wc -l)"
            umount /mnt
            poweroff -f
            """)
        let socket = dir + "/api.sock"
        let source = try GuestProcess(env.binary, virtio.args(env, initrd: initrd, extra: ["--disk", disk, "--api-socket", socket]), dir: dir)
        XCTAssertTrue(source.waitFor("WROTE 10", timeout: 120), source.tail)
        let c = APIClient(socketPath: socket)
        XCTAssertEqual(try c.request("PATCH", "/vm", json: ["state": "Paused"]).status, 204)
        let r = try c.request("PUT", "/snapshot/create", json: ["snapshot_path": dir + "/w.snap", "mem_file_path": dir + "/w.mem"])
        XCTAssertEqual(r.status, 204, r.text)
        source.kill9()
        XCTAssertFalse(source.output.contains("VERIFY"), "the writes ended before the snapshot")
        let restored = try GuestProcess(env.binary, ["run", "--restore", dir + "/w.snap"], dir: dir, name: "restored")
        XCTAssertEqual(restored.waitForExit(timeout: 180), 0, restored.tail)
        XCTAssertTrue(restored.output.contains("VERIFY bad=0 files=40"), "restored guest's own check:\n\(restored.tail)")
        let fsck = try tool("e2fsck", ["-fn", disk])
        XCTAssertEqual(fsck.status, 0, "e2fsck after the restored guest finished: \(fsck.output)")
    }

    /// A clone's NIC has a MAC of its own. A running driver keeps the MAC it read at probe (virtio has no
    /// way to push a new one), so the guest rebinds virtio_net after the restore, as a clone-aware guest
    /// does on the generation-ID change, and reads the device's new MAC.
    func testClonesGetTheirOwnMAC() throws {
        let initrd = try virtio.initrd(dir, "mac", modules: VirtioBootTests.netModules, env: env, script: """
            echo "MAC-BEFORE $(cat /sys/class/net/eth0/address)"
            echo "CLONE-READY"
            i=0; while [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done
            d=$(basename $(readlink /sys/class/net/eth0/device))
            echo $d > /sys/bus/virtio/drivers/virtio_net/unbind
            echo $d > /sys/bus/virtio/drivers/virtio_net/bind
            n=0; while [ ! -e /sys/class/net/eth0/address ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done
            echo "MAC-AFTER $(cat /sys/class/net/eth0/address)"
            poweroff -f
            """)
        let socket = dir + "/api.sock"
        let source = try GuestProcess(env.binary, virtio.args(env, initrd: initrd, extra: ["--net", "user", "--api-socket", socket]), dir: dir)
        XCTAssertTrue(source.waitFor("CLONE-READY", timeout: 120), source.tail)
        let original = try XCTUnwrap(field(source.output, "MAC-BEFORE"), source.tail)
        let c = APIClient(socketPath: socket)
        XCTAssertEqual(try c.request("PATCH", "/vm", json: ["state": "Paused"]).status, 204)
        XCTAssertEqual(try c.request("PUT", "/snapshot/create", json: ["snapshot_path": dir + "/m.snap", "mem_file_path": dir + "/m.mem"]).status, 204)
        source.kill9()
        var macs: [String] = []
        for i in 0..<2 {
            let vm = try GuestProcess(env.binary, ["run", "--restore", dir + "/m.snap", "--clone"], dir: dir, name: "macclone\(i)")
            XCTAssertEqual(vm.waitForExit(timeout: 120), 0, vm.tail)
            macs.append(try XCTUnwrap(field(vm.output, "MAC-AFTER"), vm.tail))
        }
        XCTAssertTrue(macs.allSatisfy { $0.hasPrefix("52:54:00:") && $0 != original }, "clone MACs \(macs), original \(original)")
        XCTAssertNotEqual(macs[0], macs[1], "two clones got the same MAC")
        // A plain restore keeps the original.
        let plain = try GuestProcess(env.binary, ["run", "--restore", dir + "/m.snap"], dir: dir, name: "plain")
        XCTAssertEqual(plain.waitForExit(timeout: 120), 0, plain.tail)
        XCTAssertEqual(field(plain.output, "MAC-AFTER"), original, plain.tail)
    }
}
