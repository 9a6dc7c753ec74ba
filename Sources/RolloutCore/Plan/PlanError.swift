/// One thing wrong with a plan, located in its file.
package struct PlanIssue: Equatable, Sendable, CustomStringConvertible, Codable {
    package var file: String
    /// 1-based; 0 when the problem has no place in the text (e.g. an empty file).
    package var line: Int
    package var column: Int
    /// Dotted path of the field, e.g. `waves[1].percent`.
    package var field: String
    /// What is wrong and what was expected.
    package var message: String

    package init(file: String, line: Int, column: Int, field: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    package var description: String {
        let place = line > 0 ? "\(file):\(line):\(column)" : file
        return field.isEmpty ? "\(place): \(message)" : "\(place): \(field): \(message)"
    }
}

/// A plan that cannot be used; lists every problem found, not just the first.
package struct PlanError: Error, Equatable, Sendable, CustomStringConvertible {
    package var issues: [PlanIssue]

    package init(issues: [PlanIssue]) {
        precondition(!issues.isEmpty, "a PlanError needs at least one issue")
        self.issues = issues
    }

    package var description: String { issues.map(\.description).joined(separator: "\n") }
}
