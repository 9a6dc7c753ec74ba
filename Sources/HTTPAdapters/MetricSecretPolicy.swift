import Foundation

/// Where a plan's metric credentials may be read from, so a submitted plan cannot make the worker send its own
/// secrets (its AWS keys, its API token) to a URL of the plan's choosing: files only inside the secret directories
/// (symbolic links and `..` resolved first), environment variables only with the `ROLLOUT_` prefix.
///
/// The directories: `/run/secrets` (Docker, Kubernetes), `$CREDENTIALS_DIRECTORY` (systemd `LoadCredential=`), and
/// any listed in `$ROLLOUT_SECRETS_DIRS` (separated by `:`). A file outside them is refused with the same message
/// whether it exists or not.
package struct MetricSecretPolicy: Sendable, Equatable {
    /// Canonical directories, without a trailing `/`.
    package var directories: [String]
    package static let environmentPrefix = "ROLLOUT_"

    package init(directories: [String]) {
        self.directories = directories.map(Self.canonical).filter { !$0.isEmpty && $0 != "/" }
    }

    /// The policy of this process's environment.
    package static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        -> MetricSecretPolicy {
        var directories = ["/run/secrets"]
        if let systemd = environment["CREDENTIALS_DIRECTORY"], !systemd.isEmpty { directories.append(systemd) }
        directories += (environment["ROLLOUT_SECRETS_DIRS"] ?? "").split(separator: ":").map(String.init)
        return MetricSecretPolicy(directories: directories)
    }

    /// Whether `path` (after resolving links and `..`) lies inside one of the directories.
    package func permitsFile(_ path: String) -> Bool {
        let resolved = Self.canonical(path)
        return directories.contains { resolved.hasPrefix($0 + "/") }
    }

    package func permitsVariable(_ name: String) -> Bool {
        name.hasPrefix(Self.environmentPrefix) && name.count > Self.environmentPrefix.count
    }

    /// Why `path` may not be read, in words that do not depend on whether it exists.
    package func refusal(ofFile path: String, what: String) -> String {
        "the \(what) file \(path) is outside the directories metric credentials are read from ("
            + (directories.isEmpty ? "none" : directories.joined(separator: ", ")) + "; add one with ROLLOUT_SECRETS_DIRS)"
    }

    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
