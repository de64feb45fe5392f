import Devices

// Turning a `--disk` or `--net` spec into the host backend that serves it.

extension DiskSpec {
    /// Opens the image named by this spec.
    public func open() throws -> BlockBackend {
        switch format {
        case "raw": return try RawFileBackend(path: path, readOnly: readOnly)
        case "qcow2": return try Qcow2Backend(path: path, readOnly: readOnly)
        case "auto":
            return isQcow2Image(path: path) ? try Qcow2Backend(path: path, readOnly: readOnly)
                                            : try RawFileBackend(path: path, readOnly: readOnly)
        default: throw BlockError("\(path): unsupported disk format '\(format)'")
        }
    }
}

extension NetSpec {
    /// Creates the backend this spec describes.
    public func openBackend() throws -> NetBackend {
        switch mode {
        case .user: return try SlirpBackend(hostForwards: hostForwards)
        case .tap(let name): return try TapBackend(name: name)
        }
    }
}
