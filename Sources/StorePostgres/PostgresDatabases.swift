import Engine
import Foundation
import Logging
import PostgresNIO

/// Whole databases on a server, for `rollout bench --postgres`: the scratch databases it fills, copies (a template
/// copy is a file copy on the server, far faster than filling again) and drops.
package enum PostgresDatabases {
    /// Creates database `name` on the server of `location` (connecting to `location`'s database), as a copy of
    /// `template` when given (which nobody may be connected to). Names are the bench's own: lowercase letters,
    /// digits and `_`.
    package static func create(_ name: String, on location: PostgresLocation, template: String? = nil) throws {
        precondition(isPlainName(name) && (template.map(isPlainName) ?? true), "a plain database name")
        let copy = template.map { " TEMPLATE \($0)" } ?? ""
        try run("CREATE DATABASE \(name)\(copy)", "creating database \(name)", on: location)
    }

    /// Drops database `name` if it exists, closing other sessions on it first.
    package static func drop(_ name: String, on location: PostgresLocation) throws {
        precondition(isPlainName(name), "a plain database name")
        try run("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", "dropping database \(name)", on: location)
    }

    /// `location` with database `name` instead of its own.
    package static func location(_ location: PostgresLocation, database name: String) -> PostgresLocation {
        var changed = location
        changed.database = name
        return changed
    }

    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 63 && name.first?.isLetter == true
            && name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "_" }
    }

    private static func run(_ statement: String, _ doing: String, on location: PostgresLocation) throws {
        let session = PostgresSession(location: location, password: try PostgresRolloutStore.password(location),
                                      purpose: "bench", logger: Logger(label: "rollout.postgres"))
        defer { session.close() }
        try session.run(PostgresQuery(unsafeSQL: statement), doing)
    }
}
