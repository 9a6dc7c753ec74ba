import Engine
import Foundation
@testable import HTTPTransport
import RolloutCore
import StoreSQLite
import Testing

@testable import FleetAWS

/// A device by where the plan put it, `wave-2 #1` (rank in its stage's sorted cohort): the same in every world,
/// whatever the random thing names, so runs in different worlds compare.
struct DevicePosition: Hashable, Comparable, CustomStringConvertible {
    var stage: String
    var rank: Int

    static func < (lhs: DevicePosition, rhs: DevicePosition) -> Bool {
        (lhs.stage, lhs.rank) < (rhs.stage, rhs.rank)
    }

    var description: String { "\(stage) #\(rank)" }
}

/// What a run did on AWS, in terms free of the world's names: equal for two runs that ended the same way.
struct RolloutOutcome: Equatable, CustomStringConvertible {
    var phase: RolloutPhase
    var stageStatuses: [StageStatus]
    var stageDevices: [Int?]
    /// Per job, by stage name (the job id without the rollout id): how many times AWS created it.
    var createdOnAWS: [String: Int]
    /// Per stage job: `things:<n>` (targets by ARN) or `group:<n>` (a thing group and its executions).
    var stageTargets: [String]
    /// Temporary thing groups still present after the run.
    var temporaryGroupsLeft: Int
    var rollbackTargets: [DevicePosition]

    var description: String {
        "\(phase.rawValue) \(stageStatuses.map(\.rawValue)) devices \(stageDevices.map { $0 ?? -1 }) created \(createdOnAWS.sorted { $0.key < $1.key }) "
            + "targets \(stageTargets) groups left \(temporaryGroupsLeft) rollback \(rollbackTargets)"
    }
}

/// One run of a failure-handling plan in its own world, optionally through the lost-answer proxy.
struct ScenarioRun {
    typealias World = RunEndToEndTests.World

    let world: World
    let rollout: InProcessRollout
    let proxy: LostAnswerProxy?

    /// The outcome gate of both plans; every stage job's `abortConfig` follows from it.
    static let outcomeGates = "{failedMaxPercent: 5, rejectedMaxPercent: 10, timedOutMaxPercent: 20, executedMin: 2}"

    /// `outcomeGates` as AWS abort criteria: the share at which AWS stops the job is the gate's maximum + 0.01.
    static let expectedAbortCriteria: Set<String> = ["FAILED CANCEL 5.01 2", "REJECTED CANCEL 10.01 2",
                                                      "TIMED_OUT CANCEL 20.01 2"]

    /// A canary of 3, then everyone else in one wave (more than 100 devices: a temporary thing group).
    static func completingPlan(_ world: World) -> String {
        plan(world, waves: ["{percent: 100, bake: 1s}"], job: "{inProgressTimeout: 5m}")
    }

    /// A canary of 3, 40%, then 100%, whose last wave breaks its gate (see `brokenGatePlay`).
    static func brokenGatePlan(_ world: World, cancelForce: Bool) -> String {
        plan(world, waves: ["{percent: 40, bake: 1s}", "{percent: 100, bake: 1s}"],
             job: "{inProgressTimeout: 5m, cancelForce: \(cancelForce)}")
    }

    static func plan(_ world: World, waves: [String], job: String) -> String {
        """
        name: \(world.prefix)
        release: {firmware: sensor-fw, version: 2.1.0, artifact: fw-2.1.0.bin}
        rollback: {version: 2.0.3, artifact: fw-2.0.3.bin}
        fleet: {thingGroup: \(world.group)}
        canary: {devices: 3, bake: 1s}
        waves:
        \(waves.map { "  - \($0)" }.joined(separator: "\n"))
        gates:
          jobOutcomes: \(outcomeGates)
        job: \(job)
        aws: {bucket: \(world.bucket), region: us-east-1}

        """
    }

    /// In the last wave, ranks 0 and 1 take the job at once and never report (in progress when it is cancelled),
    /// ranks 2 and 3 fail at once (the gate breaks as soon as both did), and the rest would only start after 30 s: they
    /// are still QUEUED when the job is cancelled. Every earlier stage succeeds. Nothing depends on timing but the
    /// 30 s margin, so the rollback set is known in advance (`brokenGateRollbackSet`).
    static var brokenGatePlay: [[String: Any]] { [
        ["job": "-wave-2$", "first": 2, "status": "IN_PROGRESS", "startMs": [0, 0]],
        ["job": "-wave-2$", "first": 4, "status": "FAILED", "startMs": [0, 0]],
        ["job": "-wave-2$", "status": "SUCCEEDED", "startMs": [30_000, 30_000]],
    ] }

    /// Every device of the canary and wave 1, and the two that were installing in wave 2.
    static func brokenGateRollbackSet(stageDevices: [Int]) -> [DevicePosition] {
        (0..<stageDevices[0]).map { DevicePosition(stage: "canary", rank: $0) }
            + (0..<stageDevices[1]).map { DevicePosition(stage: "wave-1", rank: $0) }
            + [DevicePosition(stage: "wave-2", rank: 0), DevicePosition(stage: "wave-2", rank: 1)]
    }

    /// Makes a world of `things` devices playing `play`, starts the proxy when `proxyRules` is given, and submits the
    /// plan with the AWS fleet pointed at the proxy or straight at moto. Through the proxy, the fleet gets a transport
    /// of its own with one thread: one curl handle keeping one connection alive, so only the first request on each new
    /// connection (the very first, and a resend after a dropped answer) is not on a kept-alive one, and a `dropAnswer`
    /// rule fires on the first request it names, or the next.
    static func start(_ tag: String, things: Int, plan: (World) -> String, play: [[String: Any]] = [],
                      proxyRules: [LostAnswerProxy.Rule]? = nil) async throws -> ScenarioRun {
        let world = try await World.make(tag, things: things)
        try await world.moto.play(jobPrefix: world.prefix, rules: play)
        var proxy: LostAnswerProxy?
        var configuration = try world.moto.configuration(retry: InProcessRollout.awsRetry())
        if let proxyRules {
            let started = try await LostAnswerProxy.start(upstream: world.moto, rules: proxyRules)
            configuration = try world.moto.configuration(
                endpoint: started.endpoint, retry: InProcessRollout.awsRetry(),
                transport: CurlTransport(options: .init(connectTimeoutSeconds: 5, totalTimeoutSeconds: 60,
                                                        threadCount: 1)))
            proxy = started
        }
        let rollout = try await InProcessRollout.submit(world, planText: plan(world), configuration: configuration)
        return ScenarioRun(world: world, rollout: rollout, proxy: proxy)
    }

    func finish() async {
        try? await world.moto.stopPlaying(jobPrefix: world.prefix)
        world.remove()
    }

    // MARK: - Reading back (boto3 and the device layer: clients independent of the one under test)

    /// What AWS holds for the run's jobs, read in one boto3 batch.
    func snapshot(_ state: RolloutState) async throws -> AWSJobsSnapshot {
        var jobIds = state.stages.filter { $0.jobCreatedAt != nil }.map(\.jobId)
        if let rollback = state.rollback, rollback.jobCreatedAt != nil { jobIds.append(rollback.jobId) }
        var calls: [(service: String, method: String, params: [String: Any])] = []
        for jobId in jobIds {
            calls.append(("iot", "describe_job", ["jobId": jobId]))
            calls.append(("iot", "list_job_executions_for_job", ["jobId": jobId, "maxResults": 250]))
            calls.append(("iot", "describe_thing_group", ["thingGroupName": AWSFleet.temporaryGroupName(jobId: jobId)]))
        }
        let answers = try await world.moto.boto3Batch(calls)
        var snapshot = AWSJobsSnapshot()
        for (index, jobId) in jobIds.enumerated() {
            let (described, listed, group) = (answers[3 * index], answers[3 * index + 1], answers[3 * index + 2])
            snapshot.jobs[jobId] = try #require(described["job"] as? [String: Any], "describe_job \(jobId): \(described)")
            try #require(listed["nextToken"] == nil, "\(jobId) has more than one page of executions")
            var records: [String: AWSJobsSnapshot.Execution] = [:]
            for summary in listed["executionSummaries"] as? [[String: Any]] ?? [] {
                let details = summary["jobExecutionSummary"] as? [String: Any] ?? [:]
                records[IoTClient.thingName(fromArn: summary["thingArn"] as? String ?? "")] =
                    AWSJobsSnapshot.Execution(status: details["status"] as? String ?? "?",
                                              started: details["startedAt"] != nil)
            }
            snapshot.executions[jobId] = records
            if group["error"] == nil { snapshot.jobsWithTemporaryGroup.insert(jobId) }
        }
        return snapshot
    }

    func outcome(_ state: RolloutState, _ snapshot: AWSJobsSnapshot) async throws -> RolloutOutcome {
        let rolloutId = rollout.rolloutId
        var created: [String: Int] = [:]
        for (jobId, record) in try await world.moto.createJobCalls(prefix: rolloutId) {
            created[String(jobId.dropFirst(rolloutId.count + 1))] = record.created
        }
        var targets: [String] = []
        for stage in state.stages where stage.jobCreatedAt != nil {
            let arns = snapshot.jobs[stage.jobId]?["targets"] as? [String] ?? []
            targets.append(arns.contains { $0.contains(":thinggroup/") }
                ? "group:\(snapshot.executions[stage.jobId]?.count ?? 0)" : "things:\(arns.count)")
        }
        var rollbackTargets: [DevicePosition] = []
        if let rollback = state.rollback, let job = snapshot.jobs[rollback.jobId] {
            rollbackTargets = try positions(RunEndToEndTests.targetThings(job), state: state)
        }
        return RolloutOutcome(phase: state.phase, stageStatuses: state.stages.map(\.status),
                              stageDevices: state.stages.map(\.devices), createdOnAWS: created, stageTargets: targets,
                              temporaryGroupsLeft: snapshot.jobsWithTemporaryGroup.count,
                              rollbackTargets: rollbackTargets)
    }

    /// Where each device sits in the plan; a device outside every cohort fails the test.
    func positions(_ devices: [String], state: RolloutState) throws -> [DevicePosition] {
        let cohorts = try #require(try rollout.store.cohorts(rolloutId: rollout.rolloutId))
        var rankOf: [String: DevicePosition] = [:]
        for (index, stage) in state.stages.enumerated() {
            for (rank, device) in cohorts.devices(ofStage: index).sorted().enumerated() {
                rankOf[device] = DevicePosition(stage: stage.name, rank: rank)
            }
        }
        return try devices.map { try #require(rankOf[$0], "\($0) is in no stage") }.sorted()
    }
}

/// A run's jobs as AWS shows them after the run.
struct AWSJobsSnapshot {
    struct Execution: Equatable, CustomStringConvertible {
        var status: String
        /// Has a `startedAt`: a device took the job.
        var started: Bool

        var description: String { "\(status)\(started ? " (started)" : "")" }
    }

    /// `DescribeJob`'s `job`, per job id.
    var jobs: [String: [String: Any]] = [:]
    /// Per job id: thing name → execution.
    var executions: [String: [String: Execution]] = [:]
    /// Jobs whose temporary thing group still exists.
    var jobsWithTemporaryGroup: Set<String> = []

    /// A job's `abortConfig`, one `FAILURE_TYPE ACTION threshold min` line per criterion (empty: none).
    func abortCriteria(_ jobId: String) -> Set<String> {
        let criteria = (jobs[jobId]?["abortConfig"] as? [String: Any])?["criteriaList"] as? [[String: Any]] ?? []
        return Set(criteria.map { criterion in
            let threshold = (criterion["thresholdPercentage"] as? Double).map { String(format: "%.2f", $0) } ?? "?"
            return "\(criterion["failureType"] as? String ?? "?") \(criterion["action"] as? String ?? "?") \(threshold) "
                + "\(criterion["minNumberOfExecutedThings"] as? Int ?? -1)"
        })
    }
}
