import Foundation
import Testing

/// The deploy files as an operator installs them: the systemd unit passes `systemd-analyze verify` (with its
/// ExecStart pointed at the binary under test) and hands the service its token through LoadCredential=, since the
/// dynamic user it runs as can neither own nor read a root-only file under /etc.
@Suite struct DeployFilesTests {
    static let unitPath = "\(repositoryRoot)/deploy/systemd/rollout-worker.service"

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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["verify", "--man=no", copy]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = errors
        try process.run()
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(!output.contains(copy), "systemd-analyze complains about the unit: \(output)")
    }
}
