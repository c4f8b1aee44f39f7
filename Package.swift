// swift-tools-version:6.1
import PackageDescription

// Layering (one way): CZlib -> RemoteSupportCore -> RemoteSupportC (the C ABI, libremotesupport.so).
// Examples and tests sit on top and use the products.
let package = Package(
    name: "RemoteSupport",
    products: [
        .library(name: "RemoteSupportCore", targets: ["RemoteSupportCore"]),
        // libremotesupport.so: the C library, declared by Include/remotesupport.h.
        .library(name: "remotesupport", type: .dynamic, targets: ["RemoteSupportC"]),
        .executable(name: "rs-serve-frames", targets: ["ServeFrames"]),
        .executable(name: "codec-bench", targets: ["codec-bench"]),
        .executable(name: "store-bench", targets: ["store-bench"]),
        .executable(name: "protocol-bench", targets: ["protocol-bench"]),
        // The broker as a library (embeddable) and as the `rs-broker` server.
        .library(name: "RemoteSupportBroker", targets: ["RemoteSupportBroker"]),
        .executable(name: "rs-broker", targets: ["rs-broker"]),
        .executable(name: "broker-bench", targets: ["broker-bench"]),
        .executable(name: "rs-client", targets: ["rs-client"]),
        .executable(name: "rs-viewer", targets: ["rs-viewer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // The tile codec, pixel formats, RFB messages and image parsing, and the product's rules (Domain/:
        // agents, links, connection IDs, sessions, audit): no IO, no threads, no clock.
        .target(
            name: "RemoteSupportCore",
            dependencies: [
                "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // The core's ParallelFor on libdispatch: where hosts get threads for the encoder from.
        .target(
            name: "RemoteSupportDispatch",
            dependencies: ["RemoteSupportCore"]
        ),
        // The hand-written C header, as a module the C layer imports so each declaration exists once.
        .systemLibrary(
            name: "CRemoteSupport",
            path: "Include"
        ),
        // The C ABI: thin @c functions over the core. Exports only rs_* (exports.map).
        .target(
            name: "RemoteSupportC",
            dependencies: ["RemoteSupportCore", "RemoteSupportDispatch", "CRemoteSupport"],
            exclude: ["exports.map"],
            linkerSettings: [
                .unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/RemoteSupportC/exports.map"])
            ]
        ),
        // rs-serve-frames: serves PPM frames over RFB 3.8 to any VNC viewer.
        .executableTarget(
            name: "ServeFrames",
            dependencies: [
                "RemoteSupportCore",
                "RemoteSupportDispatch",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/ServeFrames",
            exclude: ["demo"]
        ),
        // codec-bench: encode/decode throughput and bytes on a folder of frames, beside zlib and memcmp.
        .executableTarget(
            name: "codec-bench",
            dependencies: ["RemoteSupportCore", "RemoteSupportDispatch", "CZlib"],
            path: "Benchmarks/CodecBench"
        ),
        // The product's durable state behind one interface (SupportStore), and SupportDesk: the rules of
        // the core carried out against a store, a clock and rate limiters.
        .target(
            name: "RemoteSupportStore",
            dependencies: ["RemoteSupportCore"]
        ),
        // SupportStore on SQLite (GRDB): the embedded default.
        .target(
            name: "RemoteSupportSQLite",
            dependencies: ["RemoteSupportStore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // SupportStore on PostgreSQL (postgres-nio): for several broker nodes.
        .target(
            name: "RemoteSupportPostgres",
            dependencies: ["RemoteSupportStore", .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
        // store-crash-writer: the durability test's writer (Tests/Durability/run.sh SIGKILLs it).
        .executableTarget(
            name: "store-crash-writer",
            dependencies: ["RemoteSupportStore", "RemoteSupportSQLite", "RemoteSupportPostgres"],
            path: "Tests/Durability",
            exclude: ["run.sh"]
        ),
        .testTarget(
            name: "RemoteSupportStoreTests",
            dependencies: ["RemoteSupportStore", "RemoteSupportSQLite", "RemoteSupportPostgres"]
        ),
        // SMTP delivery (STARTTLS, AUTH) for invitation e-mails: SwiftNIO + swift-nio-ssl.
        .target(
            name: "RemoteSupportMail",
            dependencies: [
                "RemoteSupportStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .testTarget(
            name: "RemoteSupportMailTests",
            dependencies: ["RemoteSupportMail", "RemoteSupportStore", "RemoteSupportSQLite"]
        ),
        // store-bench: password hash cost, connection-ID issue/join rates and listing 10,000 sessions per store.
        .executableTarget(
            name: "store-bench",
            dependencies: ["RemoteSupportStore", "RemoteSupportSQLite", "RemoteSupportPostgres",
                           .product(name: "Crypto", package: "swift-crypto")],
            path: "Benchmarks/StoreBench"
        ),
        // protocol-bench: framing, encryption and the whole relayed path in memory, beside memcpy of the same
        // bytes, and the bytes on the wire per message kind.
        .executableTarget(
            name: "protocol-bench",
            dependencies: ["RemoteSupportCore", .product(name: "Crypto", package: "swift-crypto")],
            path: "Benchmarks/ProtocolBench"
        ),
        // The broker: accounts and links over an HTTP JSON API, the wire protocol over WebSocket and TCP(+TLS),
        // the live lobby, pairing and the relay with backpressure, webhooks, metrics. Hummingbird + SwiftNIO.
        .target(
            name: "RemoteSupportBroker",
            dependencies: [
                "RemoteSupportCore", "RemoteSupportStore", "RemoteSupportSQLite", "RemoteSupportPostgres", "RemoteSupportMail",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            resources: [.copy("Resources")]
        ),
        // rs-broker: the broker server (flags, environment, config file).
        .executableTarget(
            name: "rs-broker",
            dependencies: [
                "RemoteSupportBroker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/BrokerServer"
        ),
        // broker-bench: rs-broker's relay throughput and round trips beside nginx and websockify, idle
        // connections' memory, lobby latency (Benchmarks/BrokerBench/run.sh drives it).
        .executableTarget(
            name: "broker-bench",
            dependencies: [
                "RemoteSupportCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/BrokerBench",
            exclude: ["run.sh"]
        ),
        // A peer's state machine on a real connection to a broker (WebSocket or TCP, TLS; SwiftNIO): what
        // the end user's and the agent's programs run on. No server, no broker.
        .target(
            name: "RemoteSupportClient",
            dependencies: [
                "RemoteSupportCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Xlib, XShm and XTest (the end user's screen and input on X11), and SDL2 (the viewer's window).
        .systemLibrary(name: "CX11", pkgConfig: "x11 xext xtst", providers: [.apt(["libx11-dev", "libxext-dev", "libxtst-dev"])]),
        .systemLibrary(name: "CSDL2", pkgConfig: "sdl2", providers: [.apt(["libsdl2-dev"])]),
        // rs-client: the end user's side (join by link or code, consent, share the screen, apply input).
        .executableTarget(
            name: "rs-client",
            dependencies: [
                "RemoteSupportCore", "RemoteSupportClient", "CX11",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/EndUserClient"
        ),
        // rs-viewer: the agent's side (log in, the lobby, connect, a window or a headless framebuffer file).
        .executableTarget(
            name: "rs-viewer",
            dependencies: [
                "RemoteSupportCore", "RemoteSupportClient", "CSDL2",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/AgentViewer"
        ),
        .testTarget(
            name: "RemoteSupportBrokerTests",
            dependencies: [
                "RemoteSupportBroker", "RemoteSupportCore", "RemoteSupportStore", "RemoteSupportSQLite",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "RemoteSupportCoreTests",
            dependencies: ["RemoteSupportCore"]
        ),
        .testTarget(
            name: "RemoteSupportCTests",
            dependencies: ["RemoteSupportC", "CRemoteSupport"]
        ),
    ]
)
