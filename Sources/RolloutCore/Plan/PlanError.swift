/// One thing wrong with a plan, located in its file.
public struct PlanIssue: Equatable, Sendable, CustomStringConvertible, Codable {
    public var file: String
    /// 1-based; 0 when the problem has no place in the text (e.g. an empty file).
    public var line: Int
    public var column: Int
    /// Dotted path of the field, e.g. `waves[1].percent`.
    public var field: String
    /// What is wrong and what was expected.
    public var message: String

    public init(file: String, line: Int, column: Int, field: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    public var description: String {
        let place = line > 0 ? "\(file):\(line):\(column)" : file
        return field.isEmpty ? "\(place): \(message)" : "\(place): \(field): \(message)"
    }
}

/// A plan that cannot be used; lists every problem found, not just the first.
public struct PlanError: Error, Equatable, Sendable, CustomStringConvertible {
    public var issues: [PlanIssue]

    public init(issues: [PlanIssue]) {
        precondition(!issues.isEmpty, "a PlanError needs at least one issue")
        self.issues = issues
    }

    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
