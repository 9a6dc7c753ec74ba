/// Which local files a plan submitted to a worker may name: only files under the directories the worker is
/// configured with (`rollout worker --artifacts-dir`).
///
/// A plan sent over HTTP names files that the worker then reads: it hashes the artifacts (their hash and size are
/// shown), uploads them on AWS, signs with the key file, and fills in the job document template. Without a bound, anyone allowed to submit could make
/// the worker read, and publish, any file it can read. `s3://` artifacts are not the worker's files and always pass.
///
/// Pure: paths are compared after `canonicalPath`, which the caller provides (absolute, `.` and `..` resolved,
/// symlinks followed: neither `..` nor a symlink leads out of a directory). The allowed directories must already be
/// canonical.
package struct ArtifactPolicy: Sendable, Equatable {
    /// Canonical absolute directories; empty: only `s3://` artifacts are accepted.
    package var allowedDirectories: [String]

    package init(allowedDirectories: [String] = []) {
        self.allowedDirectories = allowedDirectories
    }

    /// The local files `plan` names that this policy refuses, by plan field, in the order the plan lists them.
    /// - Parameter canonicalPath: the canonical form of a path, nil when it cannot be resolved.
    package func assessViolations(in plan: RolloutPlan, canonicalPath: (String) -> String?)
        -> [ArtifactPolicyError.Violation] {
        var named: [(field: String, path: String)] = []
        if case .file(let path) = plan.release.artifact { named.append(("release.artifact", path)) }
        if let key = plan.release.signingKeyPath { named.append(("release.signingKey", key)) }
        if case .file(let path) = plan.rollback?.artifact { named.append(("rollback.artifact", path)) }
        if case .template(let path, _) = plan.job.document { named.append(("job.document.template", path)) }
        return named.compactMap { field, path in
            // A path that does not resolve cannot be shown to stay inside: refused like one that leaves.
            guard let canonical = canonicalPath(path), permits(canonical) else {
                return ArtifactPolicyError.Violation(field: field, path: path)
            }
            return nil
        }
    }

    /// Throws when `assessViolations` finds any.
    package func check(_ plan: RolloutPlan, canonicalPath: (String) -> String?) throws(ArtifactPolicyError) {
        let violations = assessViolations(in: plan, canonicalPath: canonicalPath)
        guard violations.isEmpty else {
            throw ArtifactPolicyError(violations: violations, allowedDirectories: allowedDirectories)
        }
    }

    /// True when the canonical `path` lies inside one of the allowed directories (a directory itself is no file).
    /// Compared by whole path components: `/srv/fw` does not contain `/srv/fw-old/x`.
    package func permits(_ path: String) -> Bool {
        allowedDirectories.contains { directory in
            let prefix = directory.hasSuffix("/") ? directory : directory + "/"
            return path.hasPrefix(prefix) && path.count > prefix.count
        }
    }
}
