import Engine
import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO

/// One PostgreSQL connection used from blocking code: the store's port is synchronous (the engine calls it from a
/// thread of its own), so each query waits on its `EventLoopFuture` there, never on Swift's cooperative pool.
///
/// Connects on first use and again after the connection was lost (a database restart): the call that finds it lost
/// fails with `StoreError.database`, the next one reconnects. Every query is bounded by `queryTimeoutSeconds`
/// (the connection is closed when it runs out, failing the query): a hung server never hangs the worker.
/// Errors keep the server's SQLSTATE and message, never a query's bound values (a plan may be in them).
/// Not thread-safe: its owner serializes calls.
final class PostgresSession: @unchecked Sendable {
    static let queryTimeoutSeconds: Int64 = 30
    static let connectTimeoutSeconds: Int64 = 10

    let location: PostgresLocation
    let purpose: String
    private let password: String?
    private let logger: Logger
    private var connection: PostgresConnection?
    private static let connectionIds = Locked(0)

    init(location: PostgresLocation, password: String?, purpose: String, logger: Logger) {
        self.location = location
        self.password = password
        self.purpose = purpose
        self.logger = logger
    }

    deinit {
        close()  // a connection must be closed before it goes away (never released on an event loop: no `wait` there)
    }

    /// The open connection, connecting first when there is none (or it was lost).
    func open() throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        connection = nil
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: password,
            database: location.database, tls: try Self.tls(location.tls))
        configuration.options.connectTimeout = .seconds(Self.connectTimeoutSeconds)
        let id = Self.connectionIds.withLock { counter -> Int in
            counter += 1
            return counter
        }
        // The future-returning connect: waiting on it needs only the event loop, never Swift's cooperative pool
        // (whose few threads may be the very ones blocked here).
        let eventLoop = PostgresConnection.defaultEventLoopGroup.any()
        do {
            let made = try PostgresConnection.connect(on: eventLoop, configuration: configuration, id: id,
                                                      logger: logger).wait()
            connection = made
            return made
        } catch {
            throw StoreError.database("cannot connect to \(location) (\(purpose)): \(Self.describe(error))")
        }
    }

    /// Runs `query`, returning its rows and the number of rows it changed (UPDATE, DELETE, INSERT).
    @discardableResult
    func run(_ query: PostgresQuery, _ doing: @autoclosure () -> String) throws -> (rows: [PostgresRow], changed: Int) {
        let connection = try open()
        let timeout = connection.eventLoop.scheduleTask(in: .seconds(Self.queryTimeoutSeconds)) {
            connection.close().whenComplete { _ in }
        }
        defer { timeout.cancel() }
        do {
            let result = try connection.query(query, logger: logger).wait()
            return (result.rows, result.metadata.rows ?? 0)
        } catch {
            if connection.isClosed { self.connection = nil }
            throw StoreError.database("\(Self.describe(error)) while \(doing()) (\(location))")
        }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws. A COMMIT whose answer
    /// was lost leaves the outcome unknown: the error says so, and the caller reads the rollout again.
    func transaction<T>(_ doing: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
        try run("BEGIN", "beginning a transaction for \(doing())")
        let value: T
        do {
            value = try body()
        } catch {
            if let connection, !connection.isClosed {
                _ = try? run("ROLLBACK", "rolling back \(doing())")
            }
            throw error
        }
        try run("COMMIT", "committing \(doing()) (its outcome is unknown if the answer was lost)")
        return value
    }

    /// Closes the connection now (a graceful stop, or a test that restarts the server).
    func close() {
        try? connection?.close().wait()
        connection = nil
    }

    /// What went wrong, for an operator: PostgreSQL's SQLSTATE and message, or the connection's failure. Never the
    /// query's bound values.
    static func describe(_ error: any Error) -> String {
        if let error = error as? StoreError { return error.description }
        guard let psql = error as? PSQLError else { return String(describing: error) }
        if let info = psql.serverInfo, let message = info[.message] {
            let state = info[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return "PostgreSQL: \(message)\(state)"
        }
        if let underlying = psql.underlying { return "\(psql.code): \(underlying)" }
        return "\(psql.code)"
    }

    static func tls(_ mode: PostgresLocation.TLSMode) throws -> PostgresConnection.Configuration.TLS {
        switch mode {
        case .disable:
            return .disable
        case .prefer, .require:
            // libpq's meanings: encrypted when offered (prefer) or always (require), the certificate unchecked.
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            let context = try NIOSSLContext(configuration: configuration)
            return mode == .prefer ? .prefer(context) : .require(context)
        case .verifyFull:
            return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }
}
