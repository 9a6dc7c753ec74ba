/// A submitted plan names local files outside the worker's artifact directories (see `ArtifactPolicy`).
public struct ArtifactPolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One refused plan field. A file outside and a path that does not resolve are refused alike, in the same
    /// words: a caller must learn nothing about files outside the directories (not even whether they exist).
    public struct Violation: Sendable, Equatable, CustomStringConvertible {
        /// The plan field, e.g. `release.artifact`.
        public var field: String
        /// The path as the plan names it (never the resolved one: a caller must not learn where links lead).
        public var path: String

        public init(field: String, path: String) {
            self.field = field
            self.path = path
        }

        public var description: String {
            "\(field): `\(path)` is not a file under the allowed artifact directories"
        }
    }

    public var violations: [Violation]
    /// The directories local artifacts may lie in (empty: only `s3://` artifacts are accepted).
    public var allowedDirectories: [String]

    public init(violations: [Violation], allowedDirectories: [String]) {
        precondition(!violations.isEmpty, "an ArtifactPolicyError needs at least one violation")
        self.violations = violations
        self.allowedDirectories = allowedDirectories
    }

    /// Where local artifacts may be, in words.
    public var allowedText: String {
        allowedDirectories.isEmpty
            ? "this worker accepts only s3:// artifacts (no --artifacts-dir is configured)"
            : "local artifacts must lie under " + allowedDirectories.joined(separator: ", ") + " (--artifacts-dir)"
    }

    public var description: String {
        violations.map(\.description).joined(separator: "; ") + "; " + allowedText
    }
}
