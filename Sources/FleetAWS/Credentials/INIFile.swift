import Foundation

/// The AWS CLI's `~/.aws/credentials` and `~/.aws/config` format: `[section]` headers, `key = value` lines,
/// `#`/`;` comment lines. Indented lines (nested settings such as `s3 =` blocks) are skipped.
package struct INIFile: Sendable, Equatable {
    /// Section name → lowercased key → value.
    package var sections: [String: [String: String]]

    package init(sections: [String: [String: String]] = [:]) {
        self.sections = sections
    }

    package init(text: String) {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = String(rawLine)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if trimmed.hasPrefix("[") {
                guard let close = trimmed.firstIndex(of: "]") else { current = nil; continue }
                let name = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
                    .trimmingCharacters(in: .whitespaces)
                current = name
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard let section = current, line.first != " ", line.first != "\t" else { continue }
            guard let equals = trimmed.firstIndex(of: "=") else { continue }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            // An inline comment needs whitespace before `#` or `;` (values may contain both otherwise).
            for marker in [" #", " ;", "\t#", "\t;"] {
                if let range = value.range(of: marker) {
                    value = value[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                }
            }
            sections[section, default: [:]][key] = value
        }
        self.sections = sections
    }

    /// Reads `path`; nil when the file does not exist.
    package static func load(path: String) throws -> INIFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CredentialsError("cannot read \(path)")
        }
        return INIFile(text: String(decoding: data, as: UTF8.self))
    }
}
