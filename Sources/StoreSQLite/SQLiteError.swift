import CSQLite

/// A failed SQLite call, before the store says what it was doing (see `SQLiteRolloutStore.perform`).
struct SQLiteError: Error, CustomStringConvertible {
    /// The (extended) result code.
    var code: Int32
    /// SQLite's own message (`sqlite3_errmsg`).
    var message: String
    /// Which call failed: the statement, the pragma.
    var context: String

    init(database: OpaquePointer?, code: Int32, context: String) {
        self.code = code
        if let database, sqlite3_errcode(database) & 0xff == code & 0xff {
            self.message = String(cString: sqlite3_errmsg(database))
        } else {
            self.message = String(cString: sqlite3_errstr(code))
        }
        self.context = context
    }

    var description: String { "\(message) (sqlite error \(code), \(context))" }

    /// Statement text on one line, shortened for messages.
    static func abbreviate(_ sql: String) -> String {
        let flat = sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return flat.count <= 80 ? flat : String(flat.prefix(77)) + "..."
    }
}
