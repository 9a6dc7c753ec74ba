import Foundation

/// The `${…}` placeholders a metric query, URL or CloudWatch dimension may use, and their expansion.
///
/// Placeholders: `${stage}` (the stage's name), `${rolloutId}`, `${version}` (the release's version). Pure.
package enum MetricQueryTemplate {
    package static let placeholders = ["stage", "rolloutId", "version"]

    /// The values of one measurement.
    package struct Values: Equatable, Sendable {
        package var stage: String
        package var rolloutId: String
        package var version: String
        /// Where the window this measurement covers began: the gate's previous measurement in the stage, else the
        /// bake's start. Not a placeholder: sources that read events rather than a state (an alarm's history, so
        /// that an alarm that went off and back between two measurements is still seen) look back to it.
        package var windowStart: Date?

        package init(stage: String, rolloutId: String, version: String, windowStart: Date? = nil) {
            self.stage = stage
            self.rolloutId = rolloutId
            self.version = version
            self.windowStart = windowStart
        }

        func value(of name: String) -> String? {
            switch name {
            case "stage": return stage
            case "rolloutId": return rolloutId
            case "version": return version
            default: return nil
            }
        }
    }

    /// Names inside `${…}` that are not placeholders (and `${` left open, as the name `${`), in order of appearance.
    package static func unknownPlaceholders(in text: String) -> [String] {
        var unknown: [String] = []
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                unknown.append("${")
                break
            }
            let name = String(rest[start.upperBound..<end])
            if !placeholders.contains(name) { unknown.append(name) }
            rest = rest[rest.index(after: end)...]
        }
        return unknown
    }

    /// `text` with every known placeholder replaced by `escape(value)`; unknown ones are left as written.
    package static func expand(_ text: String, _ values: Values, escape: (String) -> String = { $0 }) -> String {
        guard text.contains("${") else { return text }
        var result = text
        for name in placeholders {
            if let value = values.value(of: name) { result = result.replacingOccurrences(of: "${\(name)}", with: escape(value)) }
        }
        return result
    }

    /// A value inside a PromQL string literal: backslashes and both quote kinds escaped.
    package static func promQLEscaped(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "'", with: "\\'")
    }

    /// What can be checked of PromQL without a server: not empty, strings closed, brackets balanced and matched.
    /// Nil when nothing is wrong, else the problem in words.
    package static func promQLProblem(_ query: String) -> String? {
        if query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return "the query is empty" }
        if query.utf8.count > 8_192 { return "the query is longer than 8,192 bytes" }
        var stack: [Character] = []
        var quote: Character?
        var escaped = false
        var inComment = false
        let pairs: [Character: Character] = [")": "(", "]": "[", "}": "{"]
        for character in query {
            if inComment {
                if character == "\n" { inComment = false }
                continue
            }
            if let open = quote {
                if escaped { escaped = false } else if character == "\\" && open != "`" { escaped = true } else if character == open {
                    quote = nil
                }
                continue
            }
            switch character {
            case "\"", "'", "`": quote = character
            case "(", "[", "{": stack.append(character)
            case ")", "]", "}":
                guard stack.last == pairs[character] else { return "`\(character)` without its opening bracket" }
                stack.removeLast()
            case "#":
                inComment = true  // the rest of the line is a comment
            default: break
            }
        }
        if let quote { return "a string opened with \(quote) is not closed" }
        if let open = stack.last { return "`\(open)` is not closed" }
        return nil
    }
}
