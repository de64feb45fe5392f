import Foundation
import Machine

/// A whole machine as JSON, in Firecracker's `--config-file` shapes (`boot-source`, `machine-config`,
/// `drives`, `network-interfaces`, `entropy`) plus what Matryoshka adds: `machine-config.hypervisor`, `.cpu`, `.aia`,
/// `machine-config.firmware` and `console`. Unknown keys are errors, so a typo never passes silently.
public enum VMConfigFile {
    static let topKeys: Set<String> = ["boot-source", "machine-config", "drives", "network-interfaces", "entropy", "console"]
    static let keys: [String: Set<String>] = [
        "boot-source": ["kernel_image_path", "initrd_path", "boot_args"],
        "machine-config": ["vcpu_count", "mem_size_mib", "track_dirty_pages", "smt", "hypervisor", "firmware", "cpu", "aia"],
        "drives": ["drive_id", "path_on_host", "is_root_device", "is_read_only", "format", "cache_type"],
        "network-interfaces": ["iface_id", "guest_mac", "host_dev_name", "user", "hostfwd"],
        "console": ["type"],
        "entropy": ["rate_limiter"],
    ]

    public struct Error: Swift.Error, CustomStringConvertible { public let description: String }

    /// Parses a config file's bytes (`path` for messages) into a machine config.
    public static func parse(_ data: Data, path: String) throws -> MachineConfig {
        func bad(_ m: String) -> Error { Error(description: "\(path): \(m)") }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw bad("not a JSON object (see the README for the config-file format)")
        }
        for k in root.keys where !topKeys.contains(k) { throw bad("unknown key '\(k)' (known: \(topKeys.sorted().joined(separator: ", ")))") }
        func object(_ v: Any?, _ what: String) throws -> [String: Any] {
            guard let o = v as? [String: Any] else { throw bad("'\(what)' must be an object") }
            for k in o.keys where !(keys[what]?.contains(k) ?? true) {
                throw bad("unknown key '\(k)' in '\(what)' (known: \(keys[what]!.sorted().joined(separator: ", ")))")
            }
            return o
        }
        func string(_ o: [String: Any], _ k: String, _ what: String) throws -> String? {
            guard let v = o[k] else { return nil }
            guard let s = v as? String else { throw bad("'\(what).\(k)' must be a string") }
            return s
        }
        func int(_ o: [String: Any], _ k: String, _ what: String) throws -> Int? {
            guard let v = o[k] else { return nil }
            guard let n = v as? NSNumber, String(cString: n.objCType) != "c", n.doubleValue == Double(n.intValue) else {
                throw bad("'\(what).\(k)' must be an integer")
            }
            return n.intValue
        }
        func bool(_ o: [String: Any], _ k: String, _ what: String) throws -> Bool? {
            guard let v = o[k] else { return nil }
            guard let n = v as? NSNumber, String(cString: n.objCType) == "c" else { throw bad("'\(what).\(k)' must be true or false") }
            return n.boolValue
        }
        var c = MachineConfig()
        let boot = try object(root["boot-source"], "boot-source")
        guard let kernel = try string(boot, "kernel_image_path", "boot-source") else { throw bad("'boot-source.kernel_image_path' is required") }
        c.kernelPath = kernel
        c.initrdPath = try string(boot, "initrd_path", "boot-source")
        if let args = try string(boot, "boot_args", "boot-source") { c.bootargs = args }
        if let mc = root["machine-config"] {
            let m = try object(mc, "machine-config")
            if let n = try int(m, "vcpu_count", "machine-config") { c.harts = n }
            if let mib = try int(m, "mem_size_mib", "machine-config") {
                guard mib > 0 else { throw bad("'machine-config.mem_size_mib' must be positive") }
                c.memorySize = UInt64(mib) << 20
            }
            if let h = try bool(m, "hypervisor", "machine-config") { c.hypervisor = h }
            if let cpu = try string(m, "cpu", "machine-config") {
                do { _ = try CPUModel.extensions(cpu) } catch { throw bad("'machine-config.cpu': \(error)") }
                c.cpu = cpu
            }
            if let aia = try string(m, "aia", "machine-config") {
                guard let mode = AIAMode(rawValue: aia) else {
                    throw bad("'machine-config.aia' is '\(aia)': use \(AIAMode.allCases.map(\.rawValue).joined(separator: " or "))")
                }
                c.aia = mode
            }
            _ = try bool(m, "track_dirty_pages", "machine-config")   // always available here
            if let smt = try bool(m, "smt", "machine-config"), smt { throw bad("'machine-config.smt' is not supported") }
            if let fw = try string(m, "firmware", "machine-config") {
                c.firmware = fw == "builtin" ? .builtin : (fw == "none" ? .none : .file(fw))
            }
        }
        if let drives = root["drives"] {
            guard let list = drives as? [Any] else { throw bad("'drives' must be an array") }
            var roots: [DiskSpec] = [], others: [DiskSpec] = []
            for d in list {
                let o = try object(d, "drives")
                guard let p = try string(o, "path_on_host", "drives") else { throw bad("every drive needs 'path_on_host'") }
                var spec = DiskSpec(path: p)
                spec.readOnly = try bool(o, "is_read_only", "drives") ?? false
                if let f = try string(o, "format", "drives") {
                    guard ["raw", "qcow2", "auto"].contains(f) else { throw bad("drive \(p): format must be raw or qcow2") }
                    spec.format = f
                }
                // Firecracker puts the root device first (/dev/vda).
                if try bool(o, "is_root_device", "drives") ?? false { roots.append(spec) } else { others.append(spec) }
            }
            guard roots.count <= 1 else { throw bad("only one drive can have is_root_device") }
            c.disks = roots + others
        }
        if let nets = root["network-interfaces"] {
            guard let list = nets as? [Any] else { throw bad("'network-interfaces' must be an array") }
            for n in list {
                let o = try object(n, "network-interfaces")
                var spec: NetSpec
                if let tap = try string(o, "host_dev_name", "network-interfaces") {
                    spec = NetSpec(mode: .tap(tap))
                } else {
                    spec = NetSpec(mode: .user)
                    var forwards: [String] = []
                    if let u = o["user"] { guard u is [String: Any] else { throw bad("'network-interfaces.user' must be an object") } }
                    if let f = o["hostfwd"] {
                        guard let l = f as? [String] else { throw bad("'network-interfaces.hostfwd' must be an array of strings") }
                        forwards = l
                    }
                    do { spec.hostForwards = try forwards.map { try HostForward.parse($0) } } catch { throw bad("\(error)") }
                }
                if let mac = try string(o, "guest_mac", "network-interfaces") {
                    do { spec.mac = try NetSpec.parse("user,mac=\(mac)").mac } catch { throw bad("\(error)") }
                }
                c.net.append(spec)
            }
        }
        if root["entropy"] != nil { _ = try object(root["entropy"], "entropy"); c.rng = true }
        if let con = root["console"] {
            let o = try object(con, "console")
            switch try string(o, "type", "console") ?? "uart" {
            case "uart": c.virtioConsole = false
            case "virtio": c.virtioConsole = true
            case let t: throw bad("'console.type' must be uart or virtio, not '\(t)'")
            }
        }
        return c
    }

    /// The config in the same shapes (`GET /vm`).
    public static func render(_ c: MachineConfig) -> [String: Any] {
        var boot: [String: Any] = ["boot_args": c.bootargs]
        if let k = c.kernelPath { boot["kernel_image_path"] = k }
        if let i = c.initrdPath { boot["initrd_path"] = i }
        let firmware: String
        switch c.firmware { case .builtin: firmware = "builtin"; case .none: firmware = "none"; case .file(let p): firmware = p }
        var machine: [String: Any] = ["vcpu_count": c.harts, "mem_size_mib": Int(c.memorySize >> 20), "track_dirty_pages": true,
                                      "hypervisor": c.hypervisor, "firmware": firmware]
        if let cpu = c.cpu { machine["cpu"] = cpu }
        if c.aia != .none { machine["aia"] = c.aia.rawValue }
        var out: [String: Any] = [
            "boot-source": boot,
            "machine-config": machine,
            "drives": c.disks.enumerated().map { i, d in
                ["drive_id": "drive\(i)", "path_on_host": d.path, "is_root_device": i == 0, "is_read_only": d.readOnly, "format": d.format] as [String: Any]
            },
            "network-interfaces": c.net.enumerated().map { i, n -> [String: Any] in
                var o: [String: Any] = ["iface_id": "eth\(i)", "guest_mac": n.mac.map { String(format: "%02x", $0) }.joined(separator: ":")]
                if case .tap(let name) = n.mode { o["host_dev_name"] = name } else {
                    o["user"] = [String: Any]()
                    o["hostfwd"] = n.hostForwards.map { f in
                        "\(f.udp ? "udp" : "tcp"):\(f.hostAddress):\(f.hostPort)-\(f.guestAddress):\(f.guestPort)"
                    }
                }
                return o
            },
            "console": ["type": c.virtioConsole ? "virtio" : "uart"],
        ]
        if c.rng { out["entropy"] = [String: Any]() }
        return out
    }
}
