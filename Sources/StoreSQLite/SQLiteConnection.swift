import CSQLite
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One sqlite3 connection and its prepared statements, each prepared once and reused.
///
/// Not thread-safe: its owner (`SQLiteRolloutStore`) serializes every call with a lock. Opened in
/// `SQLITE_OPEN_NOMUTEX` mode for that reason.
final class SQLiteConnection {
    /// Statement texts are a fixed set plus one per size of a phase filter; the cap catches a leak
    /// (a statement built from data instead of parameters).
    static let statementsCachedMax = 64

    let path: String
    private let handle: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]

    /// Opens `path`; `create` also creates a missing file, readable and writable by its owner only (0600: it holds
    /// the plans). SQLite gives the `-wal` and `-shm` files it makes beside it the same mode. Throws `SQLiteError`.
    init(path: String, create: Bool, busyTimeoutMilliseconds: Int32) throws {
        var flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
        if create {
            flags |= SQLITE_OPEN_CREATE
            if path != ":memory:" { try Self.createOwnerOnlyFile(path) }
        }
        var opened: OpaquePointer?
        let code = sqlite3_open_v2(path, &opened, flags, nil)
        guard code == SQLITE_OK, let opened else {
            let error = SQLiteError(database: opened, code: code, context: "opening \(path)")
            sqlite3_close_v2(opened)  // a handle is returned even on failure
            throw error
        }
        self.path = path
        self.handle = opened
        sqlite3_extended_result_codes(opened, 1)
        sqlite3_busy_timeout(opened, busyTimeoutMilliseconds)
    }

    /// Creates `path` empty with mode 0600 unless it exists (SQLite takes an empty file for a new database).
    /// Created here rather than by SQLite, which would use 0644 less the umask; no umask change, which is
    /// process-wide and would race with other threads creating files.
    static func createOwnerOnlyFile(_ path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            close(descriptor)
            return
        }
        let error = errno
        guard error == EEXIST else {
            var failure = SQLiteError(database: nil, code: SQLITE_CANTOPEN, context: "creating \(path)")
            failure.message = String(cString: strerror(error))
            throw failure
        }
    }

    deinit {
        statements.removeAll()  // finalize every statement before closing
        sqlite3_close_v2(handle)
    }

    /// Runs SQL that returns no rows (pragmas, DDL, transaction control), possibly several statements.
    func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard code == SQLITE_OK else {
            var error = SQLiteError(database: handle, code: code, context: "in `\(SQLiteError.abbreviate(sql))`")
            if let message { error.message = String(cString: message) }
            throw error
        }
    }

    /// Reads the single text value a pragma or query returns (e.g. `PRAGMA journal_mode=WAL`).
    func scalarText(_ sql: String) throws -> String? {
        try withStatement(sql) { statement in
            try statement.step() ? statement.optionalText(0) : nil
        }
    }

    /// Lends the cached statement for `sql` (preparing it on first use) and resets it afterwards,
    /// so a statement never keeps a read transaction or a large parameter alive between calls.
    func withStatement<T>(_ sql: String, _ body: (SQLiteStatement) throws -> T) throws -> T {
        let statement: SQLiteStatement
        if let cached = statements[sql] {
            statement = cached
        } else {
            precondition(statements.count < Self.statementsCachedMax, "too many distinct statements cached")
            statement = try SQLiteStatement(sql: sql, database: handle)
            statements[sql] = statement
        }
        defer { statement.reset() }
        return try body(statement)
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction (the write lock is taken up front, so the transaction
    /// never fails half-way on a lock upgrade); commits when it returns, rolls back when it throws.
    func immediateTransaction<T>(_ body: () throws -> T) throws -> T {
        precondition(isAutocommit, "transactions do not nest")
        // Cached statements rather than `execute`, which parses the SQL again on every commit.
        try withStatement("BEGIN IMMEDIATE") { try $0.run() }
        do {
            let result = try body()
            try withStatement("COMMIT") { try $0.run() }
            return result
        } catch {
            if !isAutocommit {
                // A failed ROLLBACK leaves nothing better to do: SQLite rolls back when the connection closes.
                try? execute("ROLLBACK")
            }
            throw error
        }
    }

    /// Closing will not copy the write-ahead log into the database file: for a database about to be deleted.
    func skipCheckpointOnClose() {
        rollout_sqlite3_no_checkpoint_on_close(handle, 1)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int {
        Int(sqlite3_changes64(handle))
    }

    /// False inside an open transaction.
    var isAutocommit: Bool {
        sqlite3_get_autocommit(handle) != 0
    }
}
