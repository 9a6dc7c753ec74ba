import Foundation

/// libpq's password file (`~/.pgpass`, or `PGPASSFILE`): lines `host:port:database:user:password`, `*` matching
/// anything, `\:` and `\\` escaping, `#` comments. As libpq, a file that its group or others may read is ignored.
enum PgPassFile {
    /// Lines read at most; a longer file is not a password file.
    static let linesMax = 10_000

    static func password(path: String, host: String, port: Int, database: String, user: String) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let permissions = (attributes[.posixPermissions] as? NSNumber)?.intValue,
              permissions & 0o077 == 0,
              let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20,
              let text = String(data: data, encoding: .utf8) else { return nil }
        for line in text.split(whereSeparator: \.isNewline).prefix(linesMax) {
            guard !line.hasPrefix("#"), let fields = fields(of: Substring(line)), fields.count == 5 else { continue }
            let wanted = [host, String(port), database, user]
            if zip(fields, wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }

    /// The colon-separated fields of `line` with escapes resolved (nil for a line ending in a lone backslash).
    static func fields(of line: Substring) -> [String]? {
        var fields: [String] = []
        var current = ""
        var escaped = false
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == ":" && fields.count < 4 {
                fields.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        guard !escaped else { return nil }
        fields.append(current)
        return fields
    }
}
