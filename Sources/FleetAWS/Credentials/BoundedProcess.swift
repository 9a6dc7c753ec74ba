import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program without a shell, for at most a given time and keeping at most a given amount of its output: the
/// first `stdoutBytesMax` bytes of stdout (more kills it) and the last `stderrTailBytes` of stderr. stdin is
/// `/dev/null`. The waiting happens on a dedicated thread, never on the cooperative pool.
package enum BoundedProcess {
    package struct Outcome: Sendable {
        /// The exit status, or the signal number when `signaled`.
        package var status: Int32
        package var signaled: Bool
        package var stdout: Data
        package var stderrTail: Data
        /// Killed because it outlived the time allowed.
        package var timedOut: Bool
        /// Killed because it printed more than `stdoutBytesMax` on stdout.
        package var stdoutTooLarge: Bool
    }

    package static func run(executable: String, arguments: [String], timeoutSeconds: Double, stdoutBytesMax: Int,
                            stderrTailBytes: Int) async throws -> Outcome {
        precondition(timeoutSeconds > 0 && stdoutBytesMax > 0 && stderrTailBytes >= 0, "bounds must be positive")
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    try runBlocking(executable: executable, arguments: arguments, timeoutSeconds: timeoutSeconds,
                                    stdoutBytesMax: stdoutBytesMax, stderrTailBytes: stderrTailBytes)
                })
            }.start()
        }
    }

    private static func runBlocking(executable: String, arguments: [String], timeoutSeconds: Double,
                                    stdoutBytesMax: Int, stderrTailBytes: Int) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        let deadline = ProcessInfo.processInfo.systemUptime + timeoutSeconds
        try process.run()
        // Our copies of the write ends must go, or the pipes never reach end-of-file.
        try? stdoutPipe.fileHandleForWriting.close()
        try? stderrPipe.fileHandleForWriting.close()

        let stdoutFD = stdoutPipe.fileHandleForReading.fileDescriptor
        let stderrFD = stderrPipe.fileHandleForReading.fileDescriptor
        var openFDs = [stdoutFD, stderrFD]
        var stdout = Data()
        var stderr = Data()
        var timedOut = false
        var stdoutTooLarge = false
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        reading: while !openFDs.isEmpty {
            let remaining = deadline - ProcessInfo.processInfo.systemUptime
            guard remaining > 0 else { timedOut = true; break }
            var polled = openFDs.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&polled, nfds_t(polled.count), Int32(min(remaining * 1000, 1000).rounded(.up)))
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            for entry in polled where entry.revents != 0 {
                let count = chunk.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                guard count > 0 else {
                    openFDs.removeAll { $0 == entry.fd }
                    continue
                }
                if entry.fd == stdoutFD {
                    stdout.append(contentsOf: chunk[0..<count])
                    if stdout.count > stdoutBytesMax {
                        stdoutTooLarge = true
                        break reading
                    }
                } else {
                    stderr.append(contentsOf: chunk[0..<count])
                    if stderr.count > 2 * max(stderrTailBytes, 1024) { stderr = Data(stderr.suffix(stderrTailBytes)) }
                }
            }
        }
        // A program that closed its output but keeps running still gets only the time left.
        if !timedOut && !stdoutTooLarge {
            let remaining = max(0, deadline - ProcessInfo.processInfo.systemUptime)
            if exited.wait(timeout: .now() + remaining) == .timedOut {
                timedOut = true
            } else {
                exited.signal()
            }
        }
        if (timedOut || stdoutTooLarge) && process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        exited.wait()
        return Outcome(status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
                       stdout: stdout, stderrTail: Data(stderr.suffix(stderrTailBytes)), timedOut: timedOut,
                       stdoutTooLarge: stdoutTooLarge)
    }
}
