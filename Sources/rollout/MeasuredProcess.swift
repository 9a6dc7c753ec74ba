import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process run to completion and measured from outside: wall time from spawn to exit and its peak resident
/// memory as the kernel reports it (`wait4`), the same way for `rollout` and for the floors it is compared with.
struct MeasuredProcess {
    var status: Int32
    var wallSeconds: Double
    var peakResidentBytes: Int
    var output: Data
    /// The last line the process wrote to its standard error (for reports of a failure).
    var lastErrorLine: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `executable` with `arguments`; its standard output is collected (through a file: no pipe to drain) or,
    /// with `discardingOutput`, sent to /dev/null; of its standard error only the last line is kept.
    static func run(_ executable: String, _ arguments: [String], scratchDirectory: String,
                    discardingOutput: Bool = false) throws -> MeasuredProcess {
        let outputPath = discardingOutput ? "/dev/null"
            : scratchDirectory + "/measured-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).out"
        let errorPath = scratchDirectory + "/measured-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).err"
        defer {
            if !discardingOutput { unlink(outputPath) }
            unlink(errorPath)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let start = DispatchTime.now()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw Failure(description: "cannot start \(executable): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw Failure(description: "waiting for \(executable) failed") }
        }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let exited = status & 0x7f == 0
        return MeasuredProcess(status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), wallSeconds: wall,
                               peakResidentBytes: Int(usage.ru_maxrss) * 1024,
                               output: discardingOutput ? Data() : FileManager.default.contents(atPath: outputPath) ?? Data(),
                               lastErrorLine: String(decoding: FileManager.default.contents(atPath: errorPath) ?? Data(),
                                                     as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "")
    }

    /// The path of the executable `name` on `PATH` (or in the usual system directories); nil when not installed.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                                                                          "/usr/bin", "/sbin", "/bin"]
        return directories.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
