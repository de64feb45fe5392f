// swift-tools-version:6.0
import PackageDescription

// Modules import only downward:
//   Platform (guest RAM, time base, bus protocol, host events; not RISC-V specific)
//   RISCV (the hart)            Devices (device models)
//   Backends (disk formats, network backends: host side of the devices)
//   Machine (the virt board, device tree, loaders, built-in SBI, run loop)
//   VMM (a running VM: lifecycle, console, signals)     GuestImages (fetching guest software)
//   matryoshka (the CLI)
let package = Package(
    name: "Matryoshka",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "matryoshka", targets: ["matryoshka"]),
        .library(name: "MatryoshkaVMM", targets: ["VMM"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CHostAtomics", path: "Sources/CHostAtomics"),
        .target(name: "Platform", dependencies: ["CHostAtomics"]),
        .target(name: "RISCV", dependencies: ["Platform"]),
        .target(name: "Devices", dependencies: ["Platform", "RISCV"]),
        .systemLibrary(name: "CSlirp", path: "Sources/CSlirp"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(name: "Backends", dependencies: ["Platform", "Devices", "CSlirp", "CZlib",
                                                 .product(name: "Logging", package: "swift-log")]),
        .target(name: "Machine", dependencies: ["Platform", "RISCV", "Devices", "Backends",
                                                .product(name: "Logging", package: "swift-log")]),
        .target(name: "VMM", dependencies: ["Platform", "RISCV", "Devices", "Backends", "Machine", "CZlib",
                                            .product(name: "Logging", package: "swift-log"),
                                            .product(name: "Hummingbird", package: "hummingbird"),
                                            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                            .product(name: "NIOCore", package: "swift-nio"),
                                            .product(name: "NIOPosix", package: "swift-nio"),
                                            .product(name: "NIOHTTP1", package: "swift-nio"),
                                            .product(name: "NIOTLS", package: "swift-nio"),
                                            .product(name: "NIOSSL", package: "swift-nio-ssl")]),
        .target(name: "GuestImages", dependencies: [.product(name: "Logging", package: "swift-log")]),
        .executableTarget(name: "matryoshka", dependencies: [
            "VMM", "Machine", "GuestImages",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["static-link"], linkerSettings: [
            // Start-up is most of `run --restore`'s latency (issue 9), so the release executable links
            // everything but glibc statically and binds almost no symbols at load time:
            // - the Swift runtime and Foundation (-static-stdlib; Foundation's own static dependencies are
            //   named, modules built without -static-stdlib do not list them): ~13 ms -> ~7 ms;
            // - libstdc++, libgcc_s and zlib from their archives: static-link/ holds linker scripts by
            //   their shared names that point at the .a files, because the toolchain's own -lstdc++
            //   comes before any flag given here: ~1 ms less, 1800 relocations fewer;
            // - no --export-dynamic (which -static-stdlib asks for): the runtime's start-up dladdr
            //   otherwise scans 30 000 exported symbols (~0.5 ms).
            .unsafeFlags(["-static-stdlib", "-lCoreFoundation", "-l_FoundationICU", "-l_FoundationCShims",
                          "-l_FoundationCollections", "-lswiftSynchronization", "-lstdc++",
                          "-L", Context.packageDirectory + "/Sources/matryoshka/static-link",
                          "-Xlinker", "-no-pie", "-Xlinker", "--no-export-dynamic"], .when(configuration: .release)),
        ]),
        .testTarget(name: "RISCVTests", dependencies: ["Platform", "RISCV"]),
        .testTarget(name: "DevicesTests", dependencies: ["Platform", "Devices", "Backends", "RISCV"]),
        .testTarget(name: "MachineTests", dependencies: ["Machine", "Devices", "RISCV", "Platform"]),
        .testTarget(name: "BootTests", dependencies: ["VMM", "Machine", "GuestImages"]),
    ],
    swiftLanguageModes: [.v5]
)
