// swift-tools-version:6.2
import PackageDescription

// Arrows point down only: rollout → adapters (StoreSQLite, FleetSim, FleetAWS, StatusAPI) → Engine → RolloutCore.
// Adapters never import each other.
let package = Package(
    name: "rollout",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rollout", targets: ["rollout"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        // Already in the graph through Hummingbird; the worker runs its loop and the HTTP server as Services.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        // Already in the graph through SwiftNIO; its Heap orders the driver's wake-ups.
        .package(url: "https://github.com/apple/swift-collections", exact: "1.6.0"),
        // PostgreSQL's wire protocol (SCRAM, LISTEN/NOTIFY, binary binds) for several workers on one database.
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        // Already in the graph through postgres-nio: its TLS context (sslmode) and event-loop futures.
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.25.0"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),

        .target(name: "RolloutCore", dependencies: [
            .product(name: "Yams", package: "Yams"),
        ]),
        // Sentences for people, made from the core's facts at the edges (CLI, API, webhooks, logs).
        .target(name: "RolloutText", dependencies: ["RolloutCore"]),
        .target(name: "Engine", dependencies: [
            "RolloutCore", "RolloutText",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "HeapModule", package: "swift-collections"),
        ]),
        .target(name: "StoreSQLite", dependencies: ["Engine", "RolloutCore", "CSQLite"]),
        // Several workers on one PostgreSQL: the store, leases with fencing epochs, LISTEN/NOTIFY wake-ups.
        .target(name: "StorePostgres", dependencies: [
            "Engine", "RolloutCore",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "FleetSim", dependencies: ["Engine", "RolloutCore", "RolloutText",
                                                 .product(name: "Yams", package: "Yams")]),
        // HTTP over libcurl on dedicated threads (and SHA-256/HMAC over OpenSSL): shared by the adapters below.
        .target(name: "HTTPTransport", dependencies: ["CCurl", "CCrypto"]),
        // The webhook notifier and the HTTP metric source: the engine's Notifier and MetricSource over plain HTTP.
        .target(name: "HTTPAdapters", dependencies: [
            "Engine", "RolloutCore", "RolloutText", "HTTPTransport",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "FleetAWS", dependencies: [
            "Engine", "RolloutCore", "RolloutText", "HTTPTransport", "CCrypto",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "StatusAPI", dependencies: [
            "Engine", "RolloutCore", "RolloutText",
            .product(name: "Hummingbird", package: "hummingbird"),
        ], resources: [.embedInCode("Resources/openapi.json")]),
        .executableTarget(name: "rollout", dependencies: [
            "RolloutCore", "RolloutText", "Engine", "StoreSQLite", "StorePostgres", "FleetSim", "FleetAWS", "HTTPAdapters", "StatusAPI",
            "HTTPTransport",  // the request type `bench --sigv4` signs
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        .testTarget(name: "RolloutCoreTests", dependencies: ["RolloutCore"]),
        .testTarget(name: "RolloutTextTests", dependencies: ["RolloutText", "RolloutCore"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "RolloutCore", "FleetSim", "StoreSQLite"]),
        // The store contract runs against memory, SQLite and a private PostgreSQL server the tests start.
        .testTarget(name: "StoreTests", dependencies: ["StoreSQLite", "StorePostgres", "Engine", "RolloutCore",
                                                      "PostgresTestSupport"]),
        // A private PostgreSQL server for the tests (initdb + pg_ctl on loopback), shared by the test targets.
        .target(name: "PostgresTestSupport", path: "Tests/PostgresTestSupport"),
        .testTarget(name: "FleetSimTests", dependencies: ["FleetSim", "Engine", "RolloutCore"]),
        // Also tests HTTPTransport and HTTPAdapters: they share its loopback servers and moto support.
        .testTarget(name: "FleetAWSTests", dependencies: ["FleetAWS", "FleetSim", "HTTPTransport", "HTTPAdapters", "Engine",
                                                         "RolloutCore", "RolloutText", "StoreSQLite", "StorePostgres",
                                                         "PostgresTestSupport"],
                    exclude: ["Support/moto_device_layer.py", "Support/boto3_call.py", "Support/botocore_sign.py",
                              "Support/fake_metadata_server.py", "Support/lost_answer_proxy.py",
                              "Support/fake_sso_portal.py", "Support/prometheus_harness.py"]),
        // Runs the built `rollout` executable (exit codes, output, a worker killed with SIGKILL and restarted).
        .testTarget(name: "RolloutCLITests", dependencies: ["RolloutCore", "Engine", "StoreSQLite", "StorePostgres",
                                                           "PostgresTestSupport"]),
        // FleetAWS for its HTTP metric source and webhook notifier, whose failures must reach no response or log unmasked.
        .testTarget(name: "StatusAPITests", dependencies: ["StatusAPI", "Engine", "RolloutCore", "FleetSim", "StoreSQLite",
                                                           "HTTPAdapters"],
                    exclude: ["Screenshots"]),
    ]
)
