import Foundation
import StatusAPI
import Testing

/// Plans submitted over HTTP may name local files only under the configured artifact directories, on the real file
/// system (symlinks and `..` resolved), through a real server and worker.
@Suite("artifact directories of submitted plans")
struct ArtifactDirectoriesTests {
    /// `allowed/` holds firmware and a key; `outside/` holds a file next to it; `allowed/escape.bin` links out;
    /// `allowed/inner.bin` links to a file inside.
    struct Files {
        let root: String
        var allowed: String { root + "/allowed" }
        var outside: String { root + "/outside" }

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("artifacts-\(UUID().uuidString)").path
            let manager = FileManager.default
            try manager.createDirectory(atPath: root + "/allowed/keys", withIntermediateDirectories: true)
            try manager.createDirectory(atPath: root + "/outside", withIntermediateDirectories: true)
            try Data(repeating: 0x11, count: 512).write(to: URL(fileURLWithPath: root + "/allowed/fw-2.1.0.bin"))
            try Data(repeating: 0x22, count: 512).write(to: URL(fileURLWithPath: root + "/allowed/fw-2.0.3.bin"))
            try Data("not a key".utf8).write(to: URL(fileURLWithPath: root + "/allowed/keys/release.pem"))
            try Data("secret".utf8).write(to: URL(fileURLWithPath: root + "/outside/secret.bin"))
            try manager.createSymbolicLink(atPath: root + "/allowed/escape.bin", withDestinationPath: root + "/outside/secret.bin")
            try manager.createSymbolicLink(atPath: root + "/allowed/inner.bin", withDestinationPath: "fw-2.1.0.bin")
        }

        func remove() {
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    static let token = "artifacts-token-\(UUID().uuidString)"

    /// Each plan on a fleet group of its own (one live rollout per release and fleet).
    static func plan(_ name: String, release: String, rollback: String = "s3://fw-bucket/fw/2.0.3.bin",
                     signingKey: String? = nil) -> String {
        """
        name: \(name)
        release: {firmware: fw, version: 2.1.0, artifact: "\(release)"\(signingKey.map { ", signingKey: \"\($0)\"" } ?? "")}
        rollback: {version: 2.0.3, artifact: "\(rollback)"}
        fleet: {thingGroup: \(name)}
        canary: {devices: 10, bake: 30d}
        """
    }

    func start(_ files: Files?, harness: WorkerHarness) async throws -> TestServer {
        try await TestServer.start(service: harness.worker, configuration: StatusServerConfiguration(
            host: "127.0.0.1", port: 0, token: Self.token, artifactDirectories: files.map { [$0.allowed] } ?? []))
    }

    @Test("files under the directory pass, through a relative path too; s3:// passes")
    func accepted() async throws {
        let files = try Files()
        defer { files.remove() }
        let harness = try await WorkerHarness()
        let server = try await start(files, harness: harness)
        let checker = try RepositoryFiles.openAPIChecker()

        let plans = [
            Self.plan("art-local", release: files.allowed + "/fw-2.1.0.bin", rollback: files.allowed + "/fw-2.0.3.bin"),
            Self.plan("art-inner-link", release: files.allowed + "/inner.bin"),
            Self.plan("art-s3", release: "s3://fw-bucket/fw/2.1.0.bin"),
        ]
        for plan in plans {
            let response = try await server.client.checked("POST", "/v1/rollouts", body: plan, checker: checker)
            #expect(response.status == 201, "\(response.text)")
        }
        // `rollout submit` sends the plan's directory: relative paths resolve against it.
        let baseDirectory = files.allowed.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let relative = try await server.client.checked(
            "POST", "/v1/rollouts?file=plan.yaml&baseDirectory=\(baseDirectory)",
            body: Self.plan("art-relative", release: "fw-2.1.0.bin", signingKey: "keys/release.pem"), checker: checker)
        #expect(relative.status == 201, "\(relative.text)")

        await server.stop()
        await harness.stop()
    }

    @Test("outside, `..` out, a symlink out, a missing file outside, a base directory outside: 400 naming the field")
    func refused() async throws {
        let files = try Files()
        defer { files.remove() }
        let harness = try await WorkerHarness()
        let server = try await start(files, harness: harness)
        let checker = try RepositoryFiles.openAPIChecker()
        let canonicalAllowed = try #require(CanonicalPath.directory(files.allowed))

        let cases: [(plan: String, query: String, field: String)] = [
            (Self.plan("art-outside", release: files.outside + "/secret.bin"), "", "release.artifact"),
            (Self.plan("art-dotdot", release: files.allowed + "/../outside/secret.bin"), "", "release.artifact"),
            (Self.plan("art-symlink", release: files.allowed + "/escape.bin"), "", "release.artifact"),
            (Self.plan("art-rollback", release: "s3://fw-bucket/fw/2.1.0.bin", rollback: files.outside + "/secret.bin"),
             "", "rollback.artifact"),
            (Self.plan("art-key", release: files.allowed + "/fw-2.1.0.bin", signingKey: files.outside + "/secret.bin"),
             "", "release.signingKey"),
            // Whether this file exists is not revealed: the answer is the same as for any file outside.
            (Self.plan("art-missing", release: "/etc/no-such-file-\(UUID().uuidString)"), "", "release.artifact"),
            (Self.plan("art-base", release: "secret.bin"),
             "?baseDirectory=\(files.outside.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")",
             "release.artifact"),
        ]
        var messages: [String: String] = [:]
        for (plan, query, field) in cases {
            let response = try await server.client.checked("POST", "/v1/rollouts\(query)", documentedAs: "/v1/rollouts",
                                                           body: plan, checker: checker)
            #expect(response.status == 400, "\(field): \(response.text)")
            let error = try response.jsonValue()
            #expect(error["code"]?.string == "artifact_not_allowed")
            let message = error["message"]?.string ?? ""
            #expect(message.contains(field) && message.contains(canonicalAllowed), "\(message)")
            #expect(error["issues"]?.array?.compactMap { $0["field"]?.string } == [field])
            #expect(!message.contains("does not exist"))
            messages[String(plan.prefix(while: { $0 != "\n" }))] = message
        }
        #expect(messages["name: art-missing"] == messages["name: art-outside"],
                "a missing file outside is refused in the same words as an existing one")
        #expect(try await server.client.get("/v1/rollouts").jsonValue()["rollouts"]?.array?.isEmpty == true,
                "no refused plan became a rollout")

        // Inside the directory, a missing file is the plan's own problem, reported as before.
        let missing = try await server.client.checked(
            "POST", "/v1/rollouts", body: Self.plan("art-missing-inside", release: files.allowed + "/nope.bin"), checker: checker)
        #expect(missing.status == 400)
        #expect(try missing.jsonValue()["code"]?.string == "invalid_plan")

        await server.stop()
        await harness.stop()
    }

    @Test("without artifact directories only s3:// artifacts are accepted")
    func s3Only() async throws {
        let files = try Files()
        defer { files.remove() }
        let harness = try await WorkerHarness()
        let server = try await start(nil, harness: harness)
        let checker = try RepositoryFiles.openAPIChecker()

        let local = try await server.client.checked("POST", "/v1/rollouts", body: Self.plan("art-none", release: files.allowed + "/fw-2.1.0.bin"),
                                                    checker: checker)
        #expect(local.status == 400)
        #expect(try local.jsonValue()["code"]?.string == "artifact_not_allowed")
        #expect(try local.jsonValue()["message"]?.string?.contains("only s3:// artifacts") == true)
        let s3 = try await server.client.checked("POST", "/v1/rollouts", body: Self.plan("art-s3-only", release: "s3://fw-bucket/fw/2.1.0.bin"),
                                                 checker: checker)
        #expect(s3.status == 201)

        await server.stop()
        await harness.stop()
    }
}
