import Platform
import Devices

// The machine config in a snapshot's metadata, as a versioned binary section. Why not JSON (its
// Codable form, which config files and the API use): a restore reads it in every new process, and
// JSONDecoder's first use there costs more than a millisecond of runtime set-up, a sixth of issue
// 9's 10 ms restore budget.

extension MachineConfig {
    public func save(_ w: inout StateWriter) {
        w.section("config", version: 2) { w in
            w.u64(memorySize)
            w.u64(UInt64(harts))
            switch firmware {
            case .builtin: w.u8(0)
            case .file(let path): w.u8(1); w.string(path)
            case .none: w.u8(2)
            }
            w.optionalString(kernelPath)
            w.optionalString(initrdPath)
            w.string(bootargs)
            w.u64(UInt64(disks.count))
            for d in disks { w.string(d.path); w.string(d.format); w.bool(d.readOnly) }
            w.bool(rng)
            w.bool(virtioConsole)
            w.bool(hypervisor)
            w.u64(UInt64(net.count))
            for n in net {
                switch n.mode {
                case .user: w.u8(0)
                case .tap(let name): w.u8(1); w.string(name)
                }
                w.blob(n.mac)
                w.u64(UInt64(n.hostForwards.count))
                for f in n.hostForwards {
                    w.bool(f.udp); w.string(f.hostAddress); w.u32(UInt32(f.hostPort))
                    w.string(f.guestAddress); w.u32(UInt32(f.guestPort))
                }
            }
            w.optionalString(cpu)
            // Version 2: --aia.
            w.string(aia.rawValue)
        }
    }

    public static func load(_ r: inout StateReader) throws -> MachineConfig {
        try r.section("config", versions: 1...2) { r, version in
            var c = MachineConfig()
            c.memorySize = try r.u64()
            c.harts = Int(try r.count(max: 1 << 16))
            switch try r.u8() {
            case 0: c.firmware = .builtin
            case 1: c.firmware = .file(try r.string())
            case 2: c.firmware = .none
            case let k: throw StateError("unknown firmware kind \(k)")
            }
            c.kernelPath = try r.optionalString()
            c.initrdPath = try r.optionalString()
            c.bootargs = try r.string()
            for _ in 0..<(try r.count(max: 64)) {
                c.disks.append(DiskSpec(path: try r.string(), format: try r.string(), readOnly: try r.bool()))
            }
            c.rng = try r.bool()
            c.virtioConsole = try r.bool()
            c.hypervisor = try r.bool()
            for _ in 0..<(try r.count(max: 64)) {
                let mode: NetSpec.Mode
                switch try r.u8() {
                case 0: mode = .user
                case 1: mode = .tap(try r.string())
                case let k: throw StateError("unknown network backend kind \(k)")
                }
                var n = NetSpec(mode: mode, mac: try r.blob(max: 6))
                for _ in 0..<(try r.count(max: 1024)) {
                    let udp = try r.bool(), hostAddress = try r.string(), hostPort = try r.port()
                    n.hostForwards.append(HostForward(udp: udp, hostAddress: hostAddress, hostPort: hostPort,
                                                      guestAddress: try r.string(), guestPort: try r.port()))
                }
                c.net.append(n)
            }
            c.cpu = try r.optionalString()
            if version >= 2 {
                let name = try r.string()
                guard let mode = AIAMode(rawValue: name) else { throw StateError("unknown interrupt-controller setting '\(name)' (--aia): this build knows \(AIAMode.allCases.map(\.rawValue).joined(separator: ", "))") }
                c.aia = mode
            }
            return c
        }
    }
}

extension DiskIdentity {
    public func save(_ w: inout StateWriter) {
        w.string(path); w.u64(size); w.i64(mtimeNanos); w.u64(fingerprint)
    }
    public static func load(_ r: inout StateReader) throws -> DiskIdentity {
        DiskIdentity(path: try r.string(), size: try r.u64(), mtimeNanos: try r.i64(), fingerprint: try r.u64())
    }
}

extension StateWriter {
    public mutating func optionalString(_ s: String?) {
        bool(s != nil)
        if let s { string(s) }
    }
}

extension StateReader {
    public mutating func optionalString() throws -> String? { try bool() ? try string() : nil }
    mutating func port() throws -> UInt16 {
        let v = try u32()
        guard let p = UInt16(exactly: v) else { throw StateError("port \(v) out of range") }
        return p
    }
}
