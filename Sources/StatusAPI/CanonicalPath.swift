import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Paths as the file system resolves them, for `ArtifactPolicy`: absolute, `.` and `..` resolved, every symlink
/// followed (realpath(3)). A relative path resolves against the process's working directory, as the worker's own
/// reads of that path will.
package enum CanonicalPath {
    /// The canonical path. A path whose last components do not exist yet resolves as its deepest existing ancestor
    /// plus those components, so a missing file is judged by where it would be (inside or outside a directory)
    /// and not refused for being missing, which would tell a caller it is missing. Nil when that cannot be known:
    /// something on the path exists but does not resolve (a dangling link, no permission), or the missing part
    /// holds `.` or `..`.
    package static func resolve(_ path: String) -> String? {
        guard !path.isEmpty else { return nil }
        if let resolved = realPath(path) { return resolved }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var existing = absolute.split(separator: "/").map(String.init)
        var missing: [String] = []
        while !existing.isEmpty {
            guard !exists("/" + existing.joined(separator: "/")) else { return nil }
            missing.insert(existing.removeLast(), at: 0)
            if let base = realPath("/" + existing.joined(separator: "/")) {
                guard !missing.contains(where: { $0 == "." || $0 == ".." }) else { return nil }
                return (base == "/" ? "" : base) + "/" + missing.joined(separator: "/")
            }
        }
        return nil
    }

    /// The canonical path of an existing directory, or nil.
    package static func directory(_ path: String) -> String? {
        guard !path.isEmpty, let resolved = realPath(path) else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), isDirectory.boolValue else {
            return nil
        }
        return resolved
    }

    /// realpath(3): nil unless every component exists and resolves.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// True when something is at `path` itself (a dangling link counts: `lstat` does not follow it).
    static func exists(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0
    }
}
