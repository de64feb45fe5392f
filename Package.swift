// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Matryoshka",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "matryoshka", targets: ["matryoshka"]),
        .library(name: "MatryoshkaVMM", targets: ["VMM"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .target(name: "RISCV"),
        .systemLibrary(name: "CSlirp", path: "Sources/CSlirp", providers: [.apt(["libslirp-dev"])]),
        .target(name: "Devices", dependencies: ["RISCV", "CSlirp"]),
        .target(name: "Machine", dependencies: ["RISCV", "Devices", .product(name: "Logging", package: "swift-log")]),
        .target(name: "VMM", dependencies: ["Machine", "Devices", "RISCV", .product(name: "Logging", package: "swift-log")]),
        .executableTarget(name: "matryoshka", dependencies: [
            "VMM", "Machine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "RISCVTests", dependencies: ["RISCV"]),
        .testTarget(name: "DevicesTests", dependencies: ["Devices", "RISCV"]),
        .testTarget(name: "MachineTests", dependencies: ["Machine", "Devices", "RISCV"]),
        .testTarget(name: "BootTests", dependencies: ["VMM", "Machine"]),
    ],
    swiftLanguageModes: [.v5]
)
