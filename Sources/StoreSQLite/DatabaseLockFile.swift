import Engine
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The single-writer guard: an exclusive `flock` on `<database>.lock`, held for the lifetime of this object.
///
/// `flock` locks belong to the open file description, so a second `open` + `flock` conflicts even inside the
/// same process, and the kernel drops the lock when the process dies (no stale lock after a crash). The file
/// holds the holder's pid so the refusal can name it. It is never deleted: unlinking a lock file lets two
/// processes lock two different files of the same name.
final class DatabaseLockFile {
    /// Longest pid text read back from a lock file.
    static let pidBytesMax = 32

    let path: String
    private let descriptor: Int32

    /// Takes the lock without waiting. Throws `StoreError.locked` naming the holder when another worker has it.
    init(databasePath: String) throws {
        let path = databasePath + ".lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError.database("cannot open lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let lockErrno = errno
            let holder = Self.readPid(descriptor)
            close(descriptor)
            if lockErrno == EWOULDBLOCK {
                let who = holder.map { "pid \($0)" } ?? "pid unknown"
                throw StoreError.locked("database \(databasePath) is in use by another rollout worker (\(who))")
            }
            throw StoreError.database("cannot lock \(path): \(String(cString: strerror(lockErrno)))")
        }
        let pidText = Array("\(getpid())\n".utf8)
        let written = pidText.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        if ftruncate(descriptor, off_t(pidText.count)) != 0 || written != pidText.count {
            // The lock itself is held; only the courtesy pid is missing. Not worth refusing to run.
            _ = ftruncate(descriptor, 0)
        }
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)  // releases the lock
    }

    /// The pid written by the holder, if the file holds one.
    private static func readPid(_ descriptor: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: pidBytesMax)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Int32(text)
    }
}
