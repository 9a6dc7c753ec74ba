import Engine
import Foundation
import Logging
@testable import StatusAPI

/// A real `StatusServer` on a loopback address (127.0.0.1 unless told otherwise) with a free port, and a client
/// pointed at it.
struct TestServer {
    let port: Int
    let client: HTTPTestClient
    let task: Task<Void, any Error>

    static let quietLogger = Logger(label: "status-api-test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Starts the server and returns once it listens.
    static func start(service: any RolloutService, token: String? = nil,
                      bodyBytesMax: Int = StatusServerConfiguration.bodyBytesMaxDefault) async throws -> TestServer {
        try await start(service: service, configuration: StatusServerConfiguration(
            host: "127.0.0.1", port: 0, token: token, bodyBytesMax: bodyBytesMax))
    }

    /// Starts a server with `configuration` (its port should be 0); the client carries the configuration's token.
    static func start(service: any RolloutService, configuration: StatusServerConfiguration,
                      logger: Logger = quietLogger) async throws -> TestServer {
        let token = configuration.token
        let host = configuration.host
        let server = StatusServer(service: service, configuration: configuration, logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task {
            defer { continuation.finish() }
            try await server.run(onRunning: { port in continuation.yield(port) })
        }
        for await port in ports {
            return TestServer(port: port, client: HTTPTestClient(port: port, token: token, host: host), task: task)
        }
        _ = try await task.value  // it ended before listening: surface why
        throw HTTPTestClient.Failure("the server stopped before it listened")
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }
}

/// Polls `condition` up to `attempts` times, `intervalMilliseconds` apart; returns the last value it produced.
func poll<T>(attempts: Int = 200, intervalMilliseconds: UInt64 = 50, _ what: String,
             _ body: () async throws -> T?) async throws -> T {
    for _ in 0..<attempts {
        if let value = try await body() { return value }
        try await Task.sleep(nanoseconds: intervalMilliseconds * 1_000_000)
    }
    throw HTTPTestClient.Failure("gave up waiting for \(what) after \(attempts) attempts")
}
