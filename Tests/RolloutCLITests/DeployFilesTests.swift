import Foundation
import Testing

/// The deploy files as an operator installs them: the systemd unit passes `systemd-analyze verify` (with its
/// ExecStart pointed at the binary under test) and hands the service its token through LoadCredential=, since the
/// dynamic user it runs as can neither own nor read a root-only file under /etc.
@Suite struct DeployFilesTests {
    static let unitPath = "\(repositoryRoot)/deploy/systemd/rollout-worker.service"

    /// Runs a tool to its end; its exit status and what it printed (stdout and stderr together).
    static func runTool(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test func theSystemdUnitReadsItsTokenThroughACredential() throws {
        let unit = try String(contentsOfFile: Self.unitPath, encoding: .utf8)
        let lines = unit.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.contains("DynamicUser=yes"))
        #expect(lines.contains("LoadCredential=token:/etc/rollout/token"))
        let execStart = unit.components(separatedBy: "ExecStart=").dropFirst().first?
            .components(separatedBy: "\n").prefix(2).joined() ?? ""
        #expect(execStart.contains("--token-file %d/token"), "\(execStart)")
        #expect(!execStart.contains("/etc/rollout/token"), "the service cannot read /etc/rollout/token itself")
        #expect(!unit.contains("chown rollout"), "the dynamic user does not exist outside the service")
    }

    @Test func theSystemdUnitVerifies() async throws {
        let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let tool = try #require(analyze, "systemd-analyze is missing: .ci/install-deps installs Debian's systemd package")
        let directory = NSTemporaryDirectory() + "rollout-deploy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let unit = try String(contentsOfFile: Self.unitPath, encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/rollout", with: try rolloutExecutable())
        let copy = directory + "/rollout-worker.service"
        try unit.write(toFile: copy, atomically: true, encoding: .utf8)
        let (status, output) = try Self.runTool(tool, ["verify", "--man=no", copy])
        #expect(status == 0, "\(output)")
        #expect(!output.contains(copy), "systemd-analyze complains about the unit: \(output)")
    }

    @Test("the CI examples are valid GitHub Actions and GitLab CI files (check-jsonschema's vendored schemas)",
          arguments: [("github-actions-release.yml", "vendor.github-workflows"), ("gitlab-ci-release.yml", "vendor.gitlab-ci")])
    func theCIExamplesValidate(file: String, schema: String) throws {
        let (status, text) = try Self.runTool("/usr/bin/env", ["python3", "-m", "check_jsonschema", "--builtin-schema",
                                                               schema, "\(repositoryRoot)/deploy/ci/\(file)"])
        #expect(status == 0, "\(file): \(text) (.ci/install-deps installs check-jsonschema)")
        let contents = try String(contentsOfFile: "\(repositoryRoot)/deploy/ci/\(file)", encoding: .utf8)
        #expect(!contents.contains("git clone"), "the tool comes pinned, not built from source on every tag")
        #expect(contents.contains("sha256sum --check"))
        #expect(contents.contains("PREVIOUS_VERSION"), "the rollback target follows the releases")
    }

    @Test("the container's health check asks /readyz and passes against a ready worker; the context leaves builds out")
    func theContainerHealthCheckAsksReadiness() async throws {
        let containerfile = try String(contentsOfFile: "\(repositoryRoot)/deploy/container/Containerfile", encoding: .utf8)
        let healthcheck = try #require(containerfile.components(separatedBy: "HEALTHCHECK").dropFirst().first)
        let json = try #require(healthcheck.components(separatedBy: "CMD").dropFirst().first)
            .replacingOccurrences(of: "\\\n", with: "")
        let command = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String])
        #expect(command.last?.contains("/readyz") == true, "\(command)")
        let ignore = try String(contentsOfFile: "\(repositoryRoot)/.containerignore", encoding: .utf8)
        #expect(ignore.split(separator: "\n").contains(".build*") || ignore.split(separator: "\n").contains(".build-*"))

        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let worker = try WorkerProcessTests.WorkerProcess(database: "\(directory)/health.db", directory: directory)
        defer { if worker.process.isRunning { _ = worker.terminate() } }
        let server = try await worker.listening()
        let ready = await worker.log.wait(seconds: 60) { $0.contains { $0["message"] as? String == "worker ready" } }
        #expect(ready, "\(worker.log.all.suffix(5))")
        let port = try #require(server.split(separator: ":").last.map(String.init))
        func probe() throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: command[0])
            process.arguments = Array(command.dropFirst()).map { $0.replacingOccurrences(of: "8080", with: port) }
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        #expect(try probe() == 0, "healthy once ready on \(server)")
        _ = worker.terminate()
        #expect(try probe() != 0, "unhealthy once it is gone")
    }
}
