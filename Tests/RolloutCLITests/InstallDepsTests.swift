import Foundation
import Testing

/// `.ci/install-deps` on a machine that has nothing: `dpkg` reports every package missing, and `apt-get`, `sudo`,
/// `python3` and `id` are recording fakes on PATH, so the script's calls can be checked as root and as a user with
/// sudo without touching the machine.
@Suite struct InstallDepsTests {
    /// A scratch directory of fakes; every fake appends one line per call to `calls.log`.
    struct FakeMachine {
        let directory: String
        var log: String { directory + "/calls.log" }

        /// - Parameters:
        ///   - uid: what `id -u` prints.
        ///   - packagesMissing: `dpkg -s` fails for every package.
        ///   - pythonReady: the Python modules import (and moto is 5.2.1).
        init(uid: Int, packagesMissing: Bool, pythonReady: Bool) throws {
            directory = try temporaryDirectory()
            let bin = directory + "/bin"
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            try write("id", """
                if [ "$1" = "-u" ]; then echo \(uid); exit 0; fi
                exec /usr/bin/id "$@"
                """)
            try write("dpkg", """
                echo "dpkg $*" >> "$LOG"
                exit \(packagesMissing ? 1 : 0)
                """)
            // Records the environment variable that matters and the arguments; fails if run as a non-root user
            // without sudo (the fake sudo sets FAKE_ROOT).
            try write("apt-get", """
                echo "apt-get [root=${FAKE_ROOT:-no} frontend=${DEBIAN_FRONTEND:-unset}] $*" >> "$LOG"
                if [ "$(id -u)" != "0" ] && [ "${FAKE_ROOT:-no}" != "yes" ]; then echo "apt-get: permission denied" >&2; exit 100; fi
                exit 0
                """)
            try write("sudo", """
                echo "sudo $1" >> "$LOG"
                FAKE_ROOT=yes exec "$@"
                """)
            try write("python3", """
                echo "python3 $*" >> "$LOG"
                case "$1 $2" in
                  "-c import moto, boto3, flask, flask_cors, cryptography, jsonschema, yaml, check_jsonschema") exit \(pythonReady ? 0 : 1) ;;
                  "-c import moto; print(moto.__version__)") echo 5.2.1; exit 0 ;;
                  "-m pip") if [ "$3" = "--version" ]; then exit 1; fi; exit 0 ;;
                esac
                exit 0
                """)
        }

        private func write(_ name: String, _ body: String) throws {
            let path = directory + "/bin/" + name
            try ("#!/bin/bash\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            guard chmod(path, 0o755) == 0 else { throw CLITestError("chmod \(path) failed") }
        }

        /// Runs the real script with the fakes first on PATH; returns its status, stderr and the recorded calls.
        func runInstallDeps() throws -> (status: Int32, stderr: String, calls: [String]) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [repositoryRoot + "/.ci/install-deps"]
            var environment = ProcessInfo.processInfo.environment
            environment["PATH"] = directory + "/bin:/usr/bin:/bin"
            environment["LOG"] = log
            environment["DEBIAN_FRONTEND"] = nil
            environment["FAKE_ROOT"] = nil
            process.environment = environment
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let calls = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
                .split(separator: "\n").map(String.init)
            return (process.terminationStatus, stderr, calls)
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    static let libraries = "libsqlite3-dev libcurl4-openssl-dev libssl-dev pkg-config systemd prometheus chromium postgresql"

    @Test(arguments: [0, 1000])
    func installsEverythingOnAnEmptyMachine(uid: Int) throws {
        let machine = try FakeMachine(uid: uid, packagesMissing: true, pythonReady: false)
        defer { machine.remove() }
        let result = try machine.runInstallDeps()
        #expect(result.status == 0, "install-deps failed as uid \(uid): \(result.stderr)")
        let root = uid == 0 ? "no" : "yes"
        let aptCalls = result.calls.filter { $0.hasPrefix("apt-get") }
        #expect(aptCalls == [
            "apt-get [root=\(root) frontend=unset] update -qq",
            "apt-get [root=\(root) frontend=noninteractive] install -y -qq \(Self.libraries)",
            "apt-get [root=\(root) frontend=noninteractive] install -y -qq python3-pip",
        ], "uid \(uid): \(result.calls)")
        let sudoCalls = result.calls.filter { $0.hasPrefix("sudo") }
        #expect(sudoCalls.count == (uid == 0 ? 0 : 3), "sudo used as uid \(uid): \(sudoCalls)")
        #expect(result.calls.contains { $0.hasPrefix("python3 -m pip install -q moto==5.2.1 boto3") },
                "\(result.calls)")
        // Every library was asked about.
        for package in Self.libraries.split(separator: " ") {
            #expect(result.calls.contains("dpkg -s \(package)"))
        }
    }

    @Test func installsNothingWhenEverythingIsThere() throws {
        let machine = try FakeMachine(uid: 1000, packagesMissing: false, pythonReady: true)
        defer { machine.remove() }
        let result = try machine.runInstallDeps()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.calls.contains { $0.hasPrefix("apt-get") || $0.hasPrefix("sudo") }, "\(result.calls)")
        #expect(!result.calls.contains { $0.contains("pip install") }, "\(result.calls)")
    }
}
