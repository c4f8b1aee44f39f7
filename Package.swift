// swift-tools-version:6.1
import PackageDescription

// Layering (one way): CZlib -> RemoteSupportCore -> RemoteSupportC (the C ABI, libremotesupport.so).
// Examples and tests sit on top and use the products.
let package = Package(
    name: "RemoteSupport",
    products: [
        .library(name: "RemoteSupportCore", targets: ["RemoteSupportCore"]),
    ],
    dependencies: [
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // The tile codec, pixel formats and image parsing: no IO, no threads, no clock.
        .target(
            name: "RemoteSupportCore",
            dependencies: ["CZlib"]
        ),
        .testTarget(
            name: "RemoteSupportCoreTests",
            dependencies: ["RemoteSupportCore"]
        ),
    ]
)
