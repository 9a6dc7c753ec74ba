import Engine
import Foundation
import RolloutCore
import Testing
import PostgresTestSupport
@testable import StorePostgres
@testable import StoreSQLite

/// The stores every contract test runs against.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
    case memory
    case sqliteInMemory
    case sqliteFile
    /// A database of its own on the tests' PostgreSQL server (`PostgresTestServer`).
    case postgres

    var testDescription: String { rawValue }

    /// Opens a fresh, empty store of this kind for the duration of `body`.
    func withStore<T>(_ body: (any RolloutStore) throws -> T) throws -> T {
        switch self {
        case .memory:
            return try body(MemoryRolloutStore())
        case .sqliteInMemory:
            return try body(SQLiteRolloutStore(path: SQLiteRolloutStore.memoryPath, role: .worker))
        case .sqliteFile:
            return try withTemporaryDirectory { directory in
                try body(SQLiteRolloutStore(path: directory.file("rollout.db"), role: .worker))
            }
        case .postgres:
            let store = try PostgresRolloutStore(location: PostgresLocation(url: PostgresTestServer.shared.freshDatabase()))
            defer { store.close() }
            return try body(store)
        }
    }
}

/// A directory removed with everything in it when `body` returns.
struct TemporaryDirectory {
    let path: String

    func file(_ name: String) -> String {
        (path as NSString).appendingPathComponent(name)
    }
}

func withTemporaryDirectory<T>(_ body: (TemporaryDirectory) throws -> T) throws -> T {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("rollout-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(TemporaryDirectory(path: path))
}

enum Fixtures {
    /// Instants with sub-millisecond fractions, as a wall clock gives: they must survive the store exactly.
    static let start = Date(timeIntervalSince1970: 1_767_225_600.123_456_7)

    static func plan(name: String = "sensor") -> RolloutPlan {
        RolloutPlan(
            name: name,
            release: Release(firmware: "sensor-fw", version: "2.1.0", artifact: .file(path: "firmware/sensor-2.1.0.bin")),
            rollback: RollbackTarget(version: "2.0.0", artifact: .s3(bucket: "fw", key: "sensor-2.0.0.bin")),
            fleet: FleetSelection(selector: ["rev": ["A", "B"]], exclude: ["lab-1"]),
            canary: StageSpec(name: "canary", target: .devices(2), bakeDurationSeconds: 600),
            waves: [
                StageSpec(name: "wave-1", target: .percent(50), bakeDurationSeconds: 900),
                StageSpec(name: "wave-2", target: .percent(100), bakeDurationSeconds: 1200),
            ],
            gates: GateSet(jobOutcomes: OutcomeGate(executedMin: 1)),
            schedule: Schedule(),
            onFailure: .rollback,
            job: JobSettings(),
            notifications: [WebhookTarget(url: "https://hooks.example.com/rollout")])
    }

    static func artifact(_ version: String) -> StagedArtifact {
        StagedArtifact(version: version, url: "https://fw.example.com/\(version).bin", sha256Hex: String(repeating: "ab", count: 32),
                       sizeBytes: 1_048_576)
    }

    /// `count` device ids of 12 characters: `dev-` and 8 hex digits.
    static func deviceIds(_ count: Int) -> [String] {
        (0..<count).map { index in
            let hex = String(index, radix: 16)
            return "dev-" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex
        }
    }

    static func cohorts(sizes: [Int]) -> CohortAssignment {
        let total = sizes.reduce(0, +)
        return CohortAssignment(deviceIds: DeviceIdList(deviceIds(total)), stageSizes: sizes, eligibleCount: total + 1)
    }

    /// A state built by hand (not by the state machine), for tests that need precise control.
    static func state(id: String, eventCount: Int, phase: RolloutPhase = .preparing, createdAt: Date = start,
                      paused: Bool = false) -> RolloutState {
        var state = RolloutState(rolloutId: id, stageNames: ["canary", "wave-1"], createdAt: createdAt)
        state.eventCount = eventCount
        state.phase = phase
        state.updatedAt = createdAt.addingTimeInterval(Double(eventCount) * 1.000_25)
        state.dueAt = phase.isTerminal ? nil : state.updatedAt.addingTimeInterval(30.5)
        if paused {
            state.pause = PauseInfo(kind: .requested, since: state.updatedAt, by: "alice", note: "freeze")
        }
        return state
    }

    static func evaluation(_ verdict: Verdict) -> GateEvaluation {
        GateEvaluation(verdict: verdict, results: [
            GateResult(gate: "failed", verdict: verdict, observed: 1.5, limit: 5, reason: "failed 1.5% of 200 executed"),
        ])
    }

    /// The next commit for a rollout at `eventCount` events, built by hand.
    static func commit(id: String, after eventCount: Int, event: RolloutEvent = .timerFired,
                       phase: RolloutPhase = .preparing, createdAt: Date = start, paused: Bool = false,
                       effects: [EffectRecord] = [], verdicts: [VerdictRecord] = [], completing key: String? = nil,
                       status: EffectStatus = .done, cohorts: CohortAssignment? = nil) -> StoreCommit {
        let state = state(id: id, eventCount: eventCount + 1, phase: phase, createdAt: createdAt, paused: paused)
        return StoreCommit(rolloutId: id, expectedEventCount: eventCount,
                           event: RolloutEventRecord(sequence: eventCount + 1, at: state.updatedAt, event: event),
                           state: state, effects: effects, verdicts: verdicts, completedEffectKey: key,
                           completedEffectStatus: status, cohorts: cohorts)
    }

    /// Creates a rollout by hand with `submitted` as its first event.
    @discardableResult
    static func create(_ store: any RolloutStore, id: String, createdAt: Date = start,
                       effects: [EffectRecord] = []) throws -> StoreCommit {
        let first = commit(id: id, after: 0, event: .submitted, createdAt: createdAt, effects: effects)
        let created = try store.create(NewRollout(id: id, plan: plan(), planSource: "name: sensor\n", fleetKind: "simulated"),
                                       commit: first)
        precondition(created, "fixture rollout \(id) is new")
        return first
    }

    static func notify(_ key: String) -> EffectRecord {
        EffectRecord(key: key, effect: .notify(RolloutNotification(rolloutId: "r", stage: nil, phase: .preparing,
                                                                   fact: .started(firmware: "fw", version: key))))
    }
}

/// Drives the real state machine the way the engine does, producing the commits a real rollout makes.
struct RolloutScript {
    let id: String
    let plan: RolloutPlan
    private(set) var state: RolloutState
    private(set) var now: Date
    private(set) var records: [RolloutEventRecord] = []
    private(set) var verdicts: [VerdictRecord] = []

    /// The rollout and its first commit (`submitted`).
    init(id: String, plan: RolloutPlan = Fixtures.plan(), start: Date = Fixtures.start) {
        self.id = id
        self.plan = plan
        self.now = start
        self.state = RolloutStateMachine.initialState(rolloutId: id, plan: plan, at: start)
    }

    var newRollout: NewRollout {
        NewRollout(id: id, plan: plan, planSource: "name: \(plan.name)\n# source\n", fleetKind: "simulated")
    }

    /// Applies `event` `seconds` after the previous one and returns the commit that records it.
    mutating func next(_ event: RolloutEvent, after seconds: Double, completing key: String? = nil,
                       cohorts: CohortAssignment? = nil) -> StoreCommit {
        now = now.addingTimeInterval(seconds)
        let transition = RolloutStateMachine.apply(event, to: state, plan: plan, at: now)
        precondition(transition.state != state, "script events change the state (so a replay reproduces it)")
        let record = RolloutEventRecord(sequence: transition.state.eventCount, at: now, event: event)
        let commit = StoreCommit(rolloutId: id, expectedEventCount: state.eventCount, event: record,
                                 state: transition.state, effects: transition.effects, verdicts: transition.verdicts,
                                 completedEffectKey: key, cohorts: cohorts)
        state = transition.state
        records.append(record)
        verdicts.append(contentsOf: transition.verdicts)
        return commit
    }

    /// A whole successful rollout of `Fixtures.plan()` on 10 devices: submitted … completed.
    static func completedRollout(id: String) -> (script: RolloutScript, commits: [StoreCommit]) {
        var script = RolloutScript(id: id)
        var commits = [script.next(.submitted, after: 0)]
        let prepared = PreparedRollout(eligibleDevices: 10, stageSizes: [2, 3, 5], release: Fixtures.artifact("2.1.0"),
                                       rollback: Fixtures.artifact("2.0.0"))
        commits.append(script.next(.prepared(prepared), after: 1.250_3, completing: "prepare",
                                   cohorts: Fixtures.cohorts(sizes: [2, 3, 5])))
        for (stage, size) in [2, 3, 5].enumerated() {
            let name = script.plan.stages[stage].name
            commits.append(script.next(.jobCreated(stage: stage), after: 0.731_9, completing: "create-job:\(name)"))
            let bake = Double(script.plan.stages[stage].bakeDurationSeconds)
            // Evidence during the bake (a `wait` verdict), then after it (a `pass`).
            commits.append(script.next(.progressObserved(stage: stage, progress: JobProgress(inProgress: size), metrics: [
                "crash-rate": MetricReading(value: 0.012_5), "latency": MetricReading(error: "timed out"),
            ]), after: 30.000_4))
            commits.append(script.next(.progressObserved(stage: stage, progress: JobProgress(succeeded: size, jobDone: true),
                                                         metrics: [:]), after: bake))
        }
        return (script, commits)
    }
}
