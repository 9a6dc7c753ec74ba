import Engine
import Foundation
@testable import HTTPTransport
import RolloutCore
import Testing

@testable import FleetAWS

/// `rollout preflight` against moto + the device layer (whose IAM policy simulation stands in for AWS's, which moto
/// lacks): a ready plan, a missing bucket, a crowded device, a full job quota, a stale ring set.
@Suite("rollout preflight on moto")
struct PreflightMotoTests {
    typealias World = RunEndToEndTests.World

    /// A plan of the world: canary 3, then everyone; optional presigning role; another bucket when given.
    static func plan(_ world: World, bucket: String? = nil, roleArn: String? = nil,
                     awsExtra: String = "") throws -> (RolloutPlan, String) {
        let role = (roleArn.map { ", presignedUrlRoleArn: \"\($0)\"" } ?? "") + awsExtra
        let text = """
            name: \(world.prefix)
            release: {firmware: sensor-fw, version: 2.1.0, artifact: fw-2.1.0.bin}
            rollback: {version: 2.0.3, artifact: fw-2.0.3.bin}
            fleet: {thingGroup: \(world.group)}
            canary: {devices: 3, bake: 30m}
            waves:
              - {percent: 100, bake: 1h}
            job: {maxPerMinute: 100}
            aws: {bucket: \(bucket ?? world.bucket), region: us-east-1\(role)}

            """
        return (try PlanFile.load(atPath: try world.writePlan(text)).plan, text)
    }

    /// An IAM user allowed every IoT and S3 action and to pass roles, and a configuration signing as that user.
    static func allowedUser(_ world: World, denying denied: [String] = []) async throws -> AWSConfiguration {
        let user = "\(world.prefix)-deployer"
        let deny = denied.isEmpty ? ""
            : #", {"Effect": "Deny", "Action": ["# + denied.map { "\"\($0)\"" }.joined(separator: ", ") + #"], "Resource": "*"}"#
        let policy = #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["iot:*", "s3:*", "iam:PassRole"], "Resource": "*"}"#
            + deny + "]}"
        let answers = try await world.moto.boto3Batch([
            ("iam", "create_user", ["UserName": user]),
            ("iam", "put_user_policy", ["UserName": user, "PolicyName": "rollout", "PolicyDocument": policy]),
            ("iam", "create_access_key", ["UserName": user]),
        ])
        let key = try #require(answers[2]["AccessKey"] as? [String: Any], "\(answers)")
        var configuration = try AWSConfiguration.resolve(
            endpointURL: world.moto.endpoint,
            environment: ["AWS_REGION": world.moto.region, "AWS_ACCESS_KEY_ID": try #require(key["AccessKeyId"] as? String),
                          "AWS_SECRET_ACCESS_KEY": try #require(key["SecretAccessKey"] as? String),
                          "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"],
            transport: MotoServer.sharedTransport,
            retry: RetryPolicy(maxAttempts: 3, baseDelaySeconds: 0.001, maxDelaySeconds: 0.01, random: SeededRandom(seed: 1)))
        configuration.groupAddRatePerSecond = nil
        return configuration
    }

    static func role(_ world: World) async throws -> String {
        let trust = #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#
        let answer = try await world.moto.boto3("iam", "create_role", ["RoleName": "\(world.prefix)-presign",
                                                                      "AssumeRolePolicyDocument": trust])
        return try #require((answer["Role"] as? [String: Any])?["Arn"] as? String, "\(answer)")
    }

    static func finding(_ report: PreflightReport, _ check: String) throws -> PreflightFinding {
        try #require(report.findings.first { $0.check == check }, "no \(check) finding in \(report.findings)")
    }

    static func describe(_ report: PreflightReport) -> String {
        report.findings.map { "\($0.status.rawValue) \($0.check) \($0.resource): \($0.summary)" }.joined(separator: "\n")
    }

    @Test("a ready plan: every check passes (permissions by policy simulation), exit 0, and a timeline per stage")
    func ready() async throws {
        let world = try await World.make("pf-ready", things: 6)
        defer { world.remove() }
        let (plan, text) = try Self.plan(world, roleArn: try await Self.role(world))
        let configuration = try await Self.allowedUser(world)
        let report = await AWSPreflight(configuration: configuration).run(plan: plan, planSource: text, now: Date())
        #expect(report.verdict == .ready, "\(Self.describe(report))")
        #expect(report.exitStatus == 0)
        #expect(Set(report.findings.map(\.check)) == ["bucket", "artifact", "fleet group", "rings", "presigning role",
                                                        "permissions", "job slots", "group membership", "job document"])
        #expect(try Self.finding(report, "fleet group").summary == "6 eligible devices")
        #expect(try Self.finding(report, "permissions").summary.hasPrefix("may perform all"))
        #expect(try Self.finding(report, "permissions").resource == "arn:aws:iam::123456789012:user/\(world.prefix)-deployer")
        #expect(try Self.finding(report, "rings").summary == "no rings (no stage above 100 devices needs them)")
        #expect(report.findings.filter { $0.check == "artifact" }.allSatisfy { $0.summary.contains("uploaded at launch") })
        #expect(report.stages.map(\.devices) == [3, 3])
        #expect(report.stages.map(\.targeting) == [.things, .things])
        #expect(report.stages.allSatisfy { $0.notificationsPerMinute == 100 })
    }

    @Test("aws.retention needs DeleteJob and DeleteObject now, not in 30 days: preflight checks them")
    func retentionPermissions() async throws {
        let world = try await World.make("pf-retention", things: 3)
        defer { world.remove() }
        let (plan, text) = try Self.plan(world, roleArn: try await Self.role(world), awsExtra: ", retention: 30d")
        let configuration = try await Self.allowedUser(world, denying: ["iot:DeleteJob", "s3:DeleteObject"])
        let report = await AWSPreflight(configuration: configuration).run(plan: plan, planSource: text, now: Date())
        let permissions = try Self.finding(report, "permissions")
        #expect(permissions.status != .ok, "\(Self.describe(report))")
        #expect(permissions.summary.contains("iot:DeleteJob") && permissions.summary.contains("s3:DeleteObject"),
                "\(permissions.summary)")
    }

    @Test("a plan whose bucket is missing is blocked, names the bucket and what to run")
    func missingBucket() async throws {
        let world = try await World.make("pf-nobucket", things: 3)
        defer { world.remove() }
        let missing = "\(world.prefix)-missing"
        let (plan, text) = try Self.plan(world, bucket: missing)
        let report = await AWSPreflight(configuration: try world.moto.configuration()).run(plan: plan, planSource: text,
                                                                                          now: Date())
        #expect(report.verdict == .blocked && report.exitStatus == 1, "\(Self.describe(report))")
        let bucket = try Self.finding(report, "bucket")
        #expect(bucket.status == .blocked && bucket.resource == "s3://\(missing)")
        #expect(bucket.remedy?.contains("aws s3 mb s3://\(missing) --region us-east-1") == true)
        #expect(report.findings.filter { $0.check == "artifact" }.allSatisfy { $0.status == .couldNotCheck },
                "artifacts are not looked for in a bucket that does not exist")
    }

    @Test("a device in too many groups and a full job quota are warnings; a caller IAM cannot simulate is listed, exit 2")
    func crowdedDeviceAndFullJobQuota() async throws {
        let world = try await World.make("pf-crowd", things: 105)
        defer { world.remove() }
        var configuration = try world.moto.configuration()
        let iot = configuration.iotClient()
        // thing 0 is in the fleet group and 9 more: 10, the most AWS allows; the rollout would add it to 2 more.
        let crowded = world.things[0]
        for index in 0..<9 {
            let group = "\(world.prefix)-extra-\(index)"
            try await iot.createThingGroup(group)
            try await iot.addThingToThingGroup(thing: crowded, group: group)
        }
        // One job in progress, and an account allowed one concurrent job.
        let arn = try #require(try await iot.describeThing(world.things[1]).thingArn)
        try await iot.createJob("\(world.prefix)-other", IoTCreateJobRequest(targets: [arn], document: "{}"))
        configuration.rateBudgets = AWSRateBudgets(quotas: try AWSQuotas.parse(["ConcurrentJobs=1"]))
        let (plan, text) = try Self.plan(world)

        let report = await AWSPreflight(configuration: configuration,
                                        options: AWSPreflight.Options(membershipSampleMax: 200))
            .run(plan: plan, planSource: text, now: Date())
        #expect(report.verdict == .warnings && report.exitStatus == 2, "\(Self.describe(report))")
        let membership = try Self.finding(report, "group membership")
        #expect(membership.status == .warning)
        #expect(membership.summary.contains("1 of all 105 devices have fewer than 2 free group slots of 10"), "\(membership)")
        #expect(membership.summary.contains("e.g. \(crowded) is in 10"))
        #expect(membership.remedy?.contains("aws iot remove-thing-from-thing-group --thing-name \(crowded)") == true)
        let slots = try Self.finding(report, "job slots")
        #expect(slots.status == .warning && slots.summary.contains("of 1 concurrent jobs"), "\(slots)")
        #expect(slots.summary.hasSuffix("it will wait for a job slot"))
        #expect(slots.remedy?.contains("--aws-quota ConcurrentJobs=N") == true)
        // The default test keys belong to no IAM user: the permissions are listed, not guessed.
        let permissions = try Self.finding(report, "permissions")
        #expect(permissions.status == .couldNotCheck, "\(permissions)")
        #expect(permissions.summary.contains("iot:AddThingToThingGroup, iot:CancelJob, iot:CreateJob"), "\(permissions)")
        #expect(try Self.finding(report, "rings").summary
                    == "no rings (stages above 100 devices will fill temporary groups at 100/s: ~2 s for 102 devices)")
        #expect(report.stages.map(\.targeting) == [.things, .temporaryGroup])
    }

    @Test("rings: a stale set names a device in no ring, a gap names the missing ring, a current set is counted")
    func rings() async throws {
        let world = try await World.make("pf-rings", things: 5)
        defer { world.remove() }
        let configuration = try world.moto.configuration()
        let iot = configuration.iotClient()
        let ring = { (number: Int) in "\(world.group)-ring-\(String(format: "%02d", number))" }
        try await iot.createThingGroup(ring(0))
        try await iot.createThingGroup(ring(1))
        for (index, thing) in world.things.prefix(4).enumerated() {
            try await iot.addThingToThingGroup(thing: thing, group: ring(index % 2))
        }
        let (plan, text) = try Self.plan(world)
        let preflight = AWSPreflight(configuration: configuration)

        let stale = try Self.finding(await preflight.run(plan: plan, planSource: text, now: Date()), "rings")
        #expect(stale.status == .warning && stale.summary.contains("stale ring set"), "\(stale)")
        #expect(stale.summary.contains("1 devices of \(world.group) are in no ring (e.g. \(world.things[4]))"), "\(stale)")

        try await iot.addThingToThingGroup(thing: world.things[4], group: ring(1))
        let current = try Self.finding(await preflight.run(plan: plan, planSource: text, now: Date()), "rings")
        #expect(current.status == .ok, "\(current)")
        #expect(current.summary == "2 rings (\(ring(0)) … \(ring(1))) hold the fleet's 5 devices")

        try await iot.createThingGroup(ring(3))
        let gap = try Self.finding(await preflight.run(plan: plan, planSource: text, now: Date()), "rings")
        #expect(gap.status == .warning && gap.summary.hasSuffix("missing \(ring(2))"), "\(gap)")
    }

    @Test("`rollout preflight --output json` exits 1 for a blocked plan and says why")
    func command() async throws {
        let executable = try RunEndToEndTests.rolloutExecutable()
        let world = try await World.make("pf-cli", things: 3)
        defer { world.remove() }
        _ = try Self.plan(world, bucket: "\(world.prefix)-missing")
        let output = try await TestProcess.run(executable, ["preflight", world.directory + "/plan.yaml", "--endpoint-url",
                                                            world.moto.endpoint, "--output", "json"],
                                               environment: RunEndToEndTests.childEnvironment(world))
        #expect(output.status == 1, "stderr: \(output.stderrText)\nstdout: \(output.stdoutText)")
        let document = try #require(try jsonObject(output.stdout) as? [String: Any])
        let report = try #require(document["report"] as? [String: Any])
        #expect(report["verdict"] as? String == "blocked")
        let findings = report["findings"] as? [[String: Any]] ?? []
        #expect(findings.contains { $0["check"] as? String == "bucket" && $0["status"] as? String == "blocked" })
        #expect((report["stages"] as? [[String: Any]])?.count == 2)

        let text = try await TestProcess.run(executable, ["preflight", world.directory + "/plan.yaml", "--endpoint-url",
                                                          world.moto.endpoint, "--aws-quota", "CreateJobs=3"],
                                             environment: RunEndToEndTests.childEnvironment(world))
        #expect(text.status == 64, "a bad --aws-quota is a usage error: \(text.stderrText)")
        #expect(text.stderrText.contains("unknown name `CreateJobs`"))
    }
}
