import Foundation

/// Where a PostgreSQL database is and how to reach it, from a `--db postgres://user@host:port/database` URL.
///
/// The password never travels in the URL (it would show in process lists, shell history and logs): it comes from
/// `PGPASSWORD`, else the file named by `?password_file=` (a secret mounted by the platform), else libpq's password
/// file (`PGPASSFILE`, default `~/.pgpass`, ignored unless private to its owner, as libpq does). `sslmode` follows
/// libpq's meanings: `disable`, `prefer` (the default: TLS when offered, unverified), `require` (TLS, unverified),
/// `verify-full` (TLS with the certificate checked against the system's roots and the host name).
package struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    package enum TLSMode: String, Sendable, Equatable, CaseIterable {
        case disable, prefer, require, verifyFull = "verify-full"
    }

    package var host: String
    package var port: Int
    package var user: String
    package var database: String
    package var tls: TLSMode
    package var passwordFile: String?

    /// True for `postgres://` and `postgresql://` addresses; anything else given as `--db` is an SQLite path.
    package static func isPostgresURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    package init(host: String, port: Int = 5432, user: String, database: String, tls: TLSMode = .prefer,
                passwordFile: String? = nil) {
        self.host = host
        self.port = port
        self.user = user
        self.database = database
        self.tls = tls
        self.passwordFile = passwordFile
    }

    /// Parses `postgres://user@host[:port]/database[?sslmode=…&password_file=…]`.
    package init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard Self.isPostgresURL(text), let components = URLComponents(string: text) else {
            throw PostgresLocationError("--db \(Self.redacted(text)): expected postgres://user@host:port/database")
        }
        guard components.password == nil else {
            throw PostgresLocationError("--db: the URL carries a password; give it in PGPASSWORD, a ~/.pgpass line or "
                                        + "?password_file=PATH instead (a URL shows in process lists and logs)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw PostgresLocationError("--db \(text): no host (expected postgres://user@host:port/database)")
        }
        let user = components.user ?? environment["PGUSER"] ?? environment["USER"] ?? ""
        guard !user.isEmpty else {
            throw PostgresLocationError("--db \(text): no user (expected postgres://user@host:port/database, or PGUSER)")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw PostgresLocationError("--db \(text): expected one database name after the host, as in "
                                        + "postgres://\(user)@\(host)/rollout")
        }
        var tls = TLSMode.prefer
        var passwordFile: String?
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw PostgresLocationError("--db \(text): sslmode must be one of "
                                                + TLSMode.allCases.map(\.rawValue).joined(separator: ", "))
                }
                tls = mode
            case "password_file":
                guard let path = item.value, !path.isEmpty else {
                    throw PostgresLocationError("--db \(text): password_file needs a path")
                }
                passwordFile = path
            default:
                throw PostgresLocationError("--db \(text): unknown parameter `\(item.name)` (known: sslmode, password_file)")
            }
        }
        self.init(host: host, port: components.port ?? 5432, user: user, database: database, tls: tls,
                  passwordFile: passwordFile)
    }

    /// The password to send, if any: `PGPASSWORD`, else `password_file`, else the first matching `.pgpass` line.
    package func password(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        if let password = environment["PGPASSWORD"], !password.isEmpty { return password }
        if let passwordFile {
            guard let data = FileManager.default.contents(atPath: passwordFile), data.count <= 4096,
                  let text = String(data: data, encoding: .utf8) else {
                throw PostgresLocationError("cannot read the database password file \(passwordFile) (at most 4 KB of text)")
            }
            return text.trimmingCharacters(in: .newlines)
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let path = environment["PGPASSFILE"] ?? home + "/.pgpass"
        return PgPassFile.password(path: path, host: host, port: port, database: database, user: user)
    }

    /// `postgres://user@host:port/database` (never a password: there is none in it).
    package var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    /// `text` without whatever follows a `:` in its user part (for an error about a URL that carried a password).
    static func redacted(_ text: String) -> String {
        guard let at = text.firstIndex(of: "@"), let scheme = text.range(of: "://"), scheme.upperBound < at else {
            return text
        }
        let userPart = text[scheme.upperBound..<at]
        guard let colon = userPart.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }
}

/// A `--db` URL that cannot be used, said for the person who typed it.
package struct PostgresLocationError: Error, Sendable, Equatable, CustomStringConvertible {
    package var description: String

    init(_ description: String) {
        self.description = description
    }
}
