/// A submitted plan names local files outside the worker's artifact directories (see `ArtifactPolicy`).
package struct ArtifactPolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One refused plan field. A file outside and a path that does not resolve are refused alike, in the same
    /// words: a caller must learn nothing about files outside the directories (not even whether they exist).
    package struct Violation: Sendable, Equatable, CustomStringConvertible {
        /// The plan field, e.g. `release.artifact`.
        package var field: String
        /// The path as the plan names it (never the resolved one: a caller must not learn where links lead).
        package var path: String

        package init(field: String, path: String) {
            self.field = field
            self.path = path
        }

        package var description: String {
            "\(field): `\(path)` is not a file under the allowed artifact directories"
        }
    }

    package var violations: [Violation]
    /// The directories local artifacts may lie in (empty: only `s3://` artifacts are accepted).
    package var allowedDirectories: [String]

    package init(violations: [Violation], allowedDirectories: [String]) {
        precondition(!violations.isEmpty, "an ArtifactPolicyError needs at least one violation")
        self.violations = violations
        self.allowedDirectories = allowedDirectories
    }

    /// Where local artifacts may be, in words.
    package var allowedText: String {
        allowedDirectories.isEmpty
            ? "this worker accepts only s3:// artifacts (no --artifacts-dir is configured)"
            : "local artifacts must lie under " + allowedDirectories.joined(separator: ", ") + " (--artifacts-dir)"
    }

    package var description: String {
        violations.map(\.description).joined(separator: "; ") + "; " + allowedText
    }
}
