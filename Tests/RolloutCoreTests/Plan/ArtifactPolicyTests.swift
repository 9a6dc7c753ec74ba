import Testing
@testable import RolloutCore

/// The pure rules, with a file system described by a table (the HTTP tests use the real one).
@Suite struct ArtifactPolicyTests {
    /// Canonical forms: `/srv/fw/link.bin` is a symlink to `/etc/passwd`; `/srv/fw/missing.bin` does not exist.
    static let fileSystem: [String: String] = [
        "/srv/fw/2.1.0.bin": "/srv/fw/2.1.0.bin",
        "/srv/fw/keys/release.pem": "/srv/fw/keys/release.pem",
        "/srv/fw/../fw-old/1.0.bin": "/srv/fw-old/1.0.bin",
        "/srv/fw-old/1.0.bin": "/srv/fw-old/1.0.bin",
        "/srv/fw/link.bin": "/etc/passwd",
        "/etc/passwd": "/etc/passwd",
    ]

    static func plan(release: String, rollback: String? = nil, signingKey: String? = nil) throws -> RolloutPlan {
        var plan = try parsePlan(planText())
        plan.release.artifact = artifact(release)
        plan.release.signingKeyPath = signingKey
        if let rollback { plan.rollback?.artifact = artifact(rollback) }
        return plan
    }

    static func artifact(_ text: String) -> ArtifactLocation {
        text == "s3://b/k" ? .s3(bucket: "b", key: "k") : .file(path: text)
    }

    static func violations(_ plan: RolloutPlan, allowed: [String] = ["/srv/fw"]) -> [ArtifactPolicyError.Violation] {
        ArtifactPolicy(allowedDirectories: allowed).assessViolations(in: plan, canonicalPath: { fileSystem[$0] })
    }

    @Test("files under an allowed directory and s3:// artifacts pass")
    func allowed() throws {
        #expect(Self.violations(try Self.plan(release: "/srv/fw/2.1.0.bin", rollback: "/srv/fw/2.1.0.bin",
                                              signingKey: "/srv/fw/keys/release.pem")).isEmpty)
        #expect(Self.violations(try Self.plan(release: "s3://b/k", rollback: "s3://b/k")).isEmpty)
        #expect(Self.violations(try Self.plan(release: "s3://b/k"), allowed: []).isEmpty, "s3:// needs no directory")
    }

    @Test("every refused field is named, in plan order, with the path as written")
    func refused() throws {
        let plan = try Self.plan(release: "/etc/passwd", rollback: "/srv/fw/../fw-old/1.0.bin", signingKey: "/srv/fw/link.bin")
        #expect(Self.violations(plan) == [
            .init(field: "release.artifact", path: "/etc/passwd"),
            .init(field: "release.signingKey", path: "/srv/fw/link.bin"),
            .init(field: "rollback.artifact", path: "/srv/fw/../fw-old/1.0.bin"),
        ])
    }

    @Test("a job document template is a file the worker reads: held to the same directories")
    func jobDocumentTemplate() throws {
        var plan = try Self.plan(release: "s3://b/k", rollback: "s3://b/k")
        plan.job.document = .template(path: "/etc/passwd", text: "")
        #expect(Self.violations(plan) == [.init(field: "job.document.template", path: "/etc/passwd")])
        plan.job.document = .template(path: "/srv/fw/2.1.0.bin", text: "")
        #expect(Self.violations(plan).isEmpty)
    }

    @Test("a path that does not resolve is refused: where it leads cannot be checked")
    func unresolvable() throws {
        #expect(Self.violations(try Self.plan(release: "/srv/fw/missing.bin", rollback: "s3://b/k"))
                == [.init(field: "release.artifact", path: "/srv/fw/missing.bin")])
    }

    @Test("no directory configured: every local file is refused")
    func noDirectories() throws {
        let found = Self.violations(try Self.plan(release: "/srv/fw/2.1.0.bin", rollback: "s3://b/k"), allowed: [])
        #expect(found.map(\.field) == ["release.artifact"])
    }

    @Test("containment is by whole path components; a directory itself is not a file in it")
    func containment() {
        let policy = ArtifactPolicy(allowedDirectories: ["/srv/fw", "/opt/keys/"])
        #expect(policy.permits("/srv/fw/a.bin"))
        #expect(policy.permits("/srv/fw/sub/a.bin"))
        #expect(policy.permits("/opt/keys/k.pem"))
        #expect(!policy.permits("/srv/fw-old/a.bin"))
        #expect(!policy.permits("/srv/fw"))
        #expect(!policy.permits("/srv/fw/"))
        #expect(!policy.permits("/srv"))
        #expect(ArtifactPolicy(allowedDirectories: ["/"]).permits("/etc/passwd"))
    }

    @Test("the error names every field and the allowed directories, or says only s3:// is accepted")
    func errorText() throws {
        let plan = try Self.plan(release: "/etc/passwd", rollback: "s3://b/k")
        let error = #expect(throws: ArtifactPolicyError.self) {
            try ArtifactPolicy(allowedDirectories: ["/srv/fw", "/srv/keys"]).check(plan, canonicalPath: { Self.fileSystem[$0] })
        }
        #expect(error?.description == "release.artifact: `/etc/passwd` is not a file under the allowed artifact directories; "
                + "local artifacts must lie under /srv/fw, /srv/keys (--artifacts-dir)")
        let none = #expect(throws: ArtifactPolicyError.self) {
            try ArtifactPolicy().check(plan, canonicalPath: { Self.fileSystem[$0] })
        }
        #expect(none?.allowedText.contains("only s3:// artifacts") == true)
    }
}
