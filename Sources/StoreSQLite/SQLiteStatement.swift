import CSQLite
import Foundation

/// A prepared statement, cached by its connection and reused: bind, step, read columns, then `reset`.
///
/// Not thread-safe; the connection's owner serializes every use. Column and parameter indexes follow SQLite:
/// parameters are 1-based, result columns 0-based.
final class SQLiteStatement {
    let sql: String
    private let handle: OpaquePointer
    /// The connection's handle, for error messages (the connection outlives its statements).
    private let database: OpaquePointer

    init(sql: String, database: OpaquePointer) throws {
        var prepared: OpaquePointer?
        // The tail points into the C string, which lives only inside `withCString`: it is read there. (Read after
        // the call, from Swift's temporary bridged copy, it was freed memory: a precondition failed at random.)
        let (code, tailIsBlank) = sql.withCString { text -> (Int32, Bool) in
            var tail: UnsafePointer<CChar>?
            let code = sqlite3_prepare_v3(database, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, &tail)
            return (code, tail.map { String(cString: $0).allSatisfy(\.isWhitespace) } ?? true)
        }
        guard code == SQLITE_OK, let prepared else {
            sqlite3_finalize(prepared)
            throw SQLiteError(database: database, code: code, context: "preparing `\(SQLiteError.abbreviate(sql))`")
        }
        // One statement per text: a tail would be silently ignored by `step`.
        precondition(tailIsBlank, "a cached statement holds exactly one SQL statement")
        self.sql = sql
        self.handle = prepared
        self.database = database
    }

    deinit {
        sqlite3_finalize(handle)
    }

    // MARK: binding

    func bind(_ index: Int32, _ value: String) throws {
        var text = value
        let code = text.withUTF8 { bytes -> Int32 in
            precondition(bytes.count <= Int(Int32.max), "text parameter too large")
            guard let base = bytes.baseAddress, bytes.count > 0 else {
                return rollout_sqlite3_bind_text_transient(handle, index, "", 0)
            }
            return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                rollout_sqlite3_bind_text_transient(handle, index, $0, Int32(bytes.count))
            }
        }
        try check(code, "binding parameter \(index)")
    }

    func bind(_ index: Int32, _ value: String?) throws {
        if let value { try bind(index, value) } else { try bindNull(index) }
    }

    func bind(_ index: Int32, _ value: Int) throws {
        try check(sqlite3_bind_int64(handle, index, Int64(value)), "binding parameter \(index)")
    }

    func bind(_ index: Int32, _ value: Double) throws {
        try check(sqlite3_bind_double(handle, index, value), "binding parameter \(index)")
    }

    /// Instants are stored as REAL seconds since Foundation's reference date (2001-01-01 UTC): exactly the
    /// `Double` a `Date` holds, so they round-trip bit for bit.
    func bind(_ index: Int32, _ value: Date) throws {
        try bind(index, value.timeIntervalSinceReferenceDate)
    }

    func bind(_ index: Int32, _ value: Date?) throws {
        if let value { try bind(index, value) } else { try bindNull(index) }
    }

    func bind(_ index: Int32, json: Data) throws {
        let code = json.withUnsafeBytes { bytes -> Int32 in
            precondition(bytes.count <= Int(Int32.max), "JSON parameter too large")
            guard let base = bytes.baseAddress, bytes.count > 0 else {
                return rollout_sqlite3_bind_text_transient(handle, index, "", 0)
            }
            return rollout_sqlite3_bind_text_transient(handle, index, base.assumingMemoryBound(to: CChar.self),
                                                       Int32(bytes.count))
        }
        try check(code, "binding parameter \(index)")
    }

    /// Binds `bytes` WITHOUT copying them (SQLITE_STATIC): the caller keeps them alive and unchanged until the
    /// statement is reset. Used for multi-megabyte cohort blobs.
    func bindBlobNoCopy(_ index: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        // A zero-length blob with a nil pointer would be bound as NULL; any non-nil address will do.
        let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        try check(sqlite3_bind_blob64(handle, index, base, sqlite3_uint64(bytes.count), nil), "binding parameter \(index)")
    }

    func bindNull(_ index: Int32) throws {
        try check(sqlite3_bind_null(handle, index), "binding parameter \(index)")
    }

    // MARK: stepping

    /// Runs one step: true when a row is available, false when the statement is done.
    func step() throws -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteError(database: database, code: code, context: "in `\(SQLiteError.abbreviate(sql))`")
        }
    }

    /// Steps a statement that returns no row.
    func run() throws {
        let hasRow = try step()
        precondition(!hasRow, "`\(SQLiteError.abbreviate(sql))` returned a row; read it with step()")
    }

    /// Makes the statement ready for its next use and releases its parameters (large blobs included).
    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    // MARK: columns

    func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    func int(_ column: Int32) -> Int {
        Int(sqlite3_column_int64(handle, column))
    }

    func double(_ column: Int32) -> Double {
        sqlite3_column_double(handle, column)
    }

    func date(_ column: Int32) -> Date {
        Date(timeIntervalSinceReferenceDate: double(column))
    }

    func optionalDate(_ column: Int32) -> Date? {
        isNull(column) ? nil : date(column)
    }

    func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    func optionalText(_ column: Int32) -> String? {
        isNull(column) ? nil : text(column)
    }

    /// The column's bytes as `Data` (a copy), for JSON decoding.
    func data(_ column: Int32) -> Data {
        withBytes(column) { Data($0) }
    }

    /// Lends the column's bytes without copying; valid only inside `body`.
    func withBytes<T>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        // sqlite3_column_blob then sqlite3_column_bytes, in that order (SQLite's documented safe sequence).
        let base = sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        guard let base, count > 0 else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    // MARK: errors

    private func check(_ code: Int32, _ doing: String) throws {
        guard code == SQLITE_OK else {
            throw SQLiteError(database: database, code: code, context: "\(doing) of `\(SQLiteError.abbreviate(sql))`")
        }
    }
}
