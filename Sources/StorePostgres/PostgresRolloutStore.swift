import Engine
import Foundation
import Logging
import NIOCore
import PostgresNIO
import RolloutCore

/// `RolloutStore` on PostgreSQL, for several workers sharing one database (`--db postgres://…`).
///
/// The same contract as `SQLiteRolloutStore` (one transaction per commit; `conflict` when the rollout moved on), plus
/// fencing: a commit that carries a `LeaseFence` writes only while the rollout's `lease_owner` and `lease_epoch` are
/// still the fence's, else throws `StoreError.fenced` without writing. Every commit and creation sends
/// `NOTIFY rollout_changed, '<id> <event count>'` in its own transaction (delivered only if it commits), which is how
/// the owner of a rollout hears of a command recorded by another worker (`PostgresLeases`).
///
/// Calls are serialized by one lock around one connection (the engine makes them from its own thread, one at a time).
package final class PostgresRolloutStore: RolloutStore, @unchecked Sendable {
    /// The channel of change notifications; the payload is `<rollout id> <event count>`.
    package static let changeChannel = "rollout_changed"
    /// Rows one query may return: `limit`s are capped to it.
    package static let rowsPerQueryMax = 1 << 20

    package let location: PostgresLocation
    private let session: PostgresSession
    private let lock = NSLock()
    /// Used under `lock` only (not thread-safe).
    let json = StoreJSON()

    /// Connects (reading the password from `PGPASSWORD`, `password_file` or `.pgpass`) and, when `migrate`, brings
    /// the schema up to date; a reader (`migrate: false`) refuses a database this build cannot read.
    package init(location: PostgresLocation, migrate: Bool = true, logger: Logger = Logger(label: "rollout.postgres")) throws {
        self.location = location
        self.session = PostgresSession(location: location, password: try Self.password(location), purpose: "store",
                                       logger: logger)
        try lock.withLock {
            if migrate {
                try PostgresSchema.migrate(session)
            } else if try PostgresSchema.version(session) != PostgresSchema.latestVersion {
                throw StoreError.database("database \(location) has no rollout schema of this build's version "
                                          + "\(PostgresSchema.latestVersion): start a rollout worker of this build once")
            }
        }
    }

    static func password(_ location: PostgresLocation) throws -> String? {
        do {
            return try location.password()
        } catch let error as PostgresLocationError {
            throw StoreError.database(error.description)
        }
    }

    /// Closes the connection (a later call connects again).
    package func close() {
        lock.withLock { session.close() }
    }

    /// The schema version of the database.
    package func schemaVersion() throws -> Int {
        try perform { try PostgresSchema.version($0) }
    }

    // MARK: RolloutStore

    package func create(_ rollout: NewRollout, commit: StoreCommit) throws -> Bool {
        precondition(commit.rolloutId == rollout.id, "the first commit belongs to the new rollout")
        precondition(commit.expectedEventCount == 0, "a new rollout has no event yet")
        commit.validate()
        return try perform { db in
            let planJSON = try text(json.encode(rollout.plan, "plan of rollout \(rollout.id)"))
            let stateJSON = try text(json.encode(commit.state, "state of rollout \(rollout.id)"))
            return try db.transaction("creating rollout \(rollout.id)") {
                let state = commit.state
                let inserted = try db.run("""
                    INSERT INTO rollouts (id, plan_json, plan_source, fleet_kind, state_json, event_count, display_phase,
                                          due_at, created_at, updated_at)
                    VALUES (\(rollout.id), \(planJSON), \(rollout.planSource), \(rollout.fleetKind), \(stateJSON), 0,
                            \(state.displayPhase.rawValue), \(state.dueAt?.timeIntervalSinceReferenceDate),
                            \(state.createdAt.timeIntervalSinceReferenceDate), \(state.updatedAt.timeIntervalSinceReferenceDate))
                    ON CONFLICT (id) DO NOTHING
                    """, "creating rollout \(rollout.id)").changed == 1
                guard inserted else { return false }
                try write(commit, stateJSON: stateJSON, db)
                return true
            }
        }
    }

    package func rollout(id: String) throws -> StoredRollout? {
        try perform { db in
            let rows = try db.run("""
                SELECT id, plan_json, plan_source, fleet_kind, state_json, event_count FROM rollouts WHERE id = \(id)
                """, "reading rollout \(id)").rows
            return try rows.first.map { try Self.encoded($0).decode(json) }
        }
    }

    package func rollouts(phases: Set<RolloutPhase>?, limit: Int) throws -> [StoredRollout] {
        precondition(limit > 0, "limit must be positive")
        let names = phases.map { $0.map(\.rawValue).sorted() }
        if names?.isEmpty == true { return [] }
        let rowsMax = min(limit, Self.rowsPerQueryMax)
        let rows = try perform { db in
            if let names {
                return try db.run("""
                    SELECT id, plan_json, plan_source, fleet_kind, state_json, event_count FROM rollouts
                    WHERE display_phase = ANY(\(names)) ORDER BY created_at DESC, created_order DESC LIMIT \(rowsMax)
                    """, "listing rollouts").rows
            }
            return try db.run("""
                SELECT id, plan_json, plan_source, fleet_kind, state_json, event_count FROM rollouts
                ORDER BY created_at DESC, created_order DESC LIMIT \(rowsMax)
                """, "listing rollouts").rows
        }
        return try EncodedRollout.decodeAll(rows.map(Self.encoded))
    }

    package func rollouts(ids: [String]) throws -> [StoredRollout] {
        guard !ids.isEmpty else { return [] }
        let rows = try perform { db in
            try db.run("""
                SELECT id, plan_json, plan_source, fleet_kind, state_json, event_count FROM rollouts WHERE id = ANY(\(ids))
                """, "reading \(ids.count) rollouts").rows
        }
        return try EncodedRollout.decodeAll(rows.map(Self.encoded))
    }

    package func pendingEffectKeys(rolloutIds ids: [String]) throws -> [String: Set<String>] {
        guard !ids.isEmpty else { return [:] }
        let rows = try perform { db in
            try db.run("SELECT rollout_id, key FROM effects WHERE status = 'pending' AND rollout_id = ANY(\(ids))",
                       "reading pending effect keys of \(ids.count) rollouts").rows
        }
        var keys: [String: Set<String>] = [:]
        for row in rows {
            let (id, key) = try row.decode((String, String).self)
            keys[id, default: []].insert(key)
        }
        return keys
    }

    package func activeRolloutIds() throws -> [String] {
        try perform { db in
            try db.run("""
                SELECT id FROM rollouts r
                WHERE r.display_phase = ANY(\(Self.livePhases))
                   OR EXISTS (SELECT 1 FROM effects e WHERE e.rollout_id = r.id AND e.status = 'pending')
                ORDER BY created_at, created_order LIMIT \(Self.rowsPerQueryMax)
                """, "listing active rollouts").rows.map { try $0.decode(String.self) }
        }
    }

    package func commit(_ commit: StoreCommit) throws {
        commit.validate()
        try perform { db in
            let stateJSON = try text(json.encode(commit.state, "state of rollout \(commit.rolloutId)"))
            try db.transaction("event \(commit.event.sequence) (\(commit.event.event.kind)) of rollout \(commit.rolloutId)") {
                try write(commit, stateJSON: stateJSON, db)
            }
        }
    }

    package func pendingEffects(rolloutId: String) throws -> [PendingEffect] {
        try perform { db in
            try db.run("""
                SELECT key, json, attempts, next_attempt_at, last_error FROM effects
                WHERE rollout_id = \(rolloutId) AND status = 'pending' ORDER BY queued_seq
                """, "reading pending effects of rollout \(rolloutId)").rows.map { row in
            let (key, effectJSON, attempts, nextAttemptAt, lastError) =
                try row.decode((String, String, Int, Double?, String?).self)
            let effect = try json.decode(Effect.self, from: Data(effectJSON.utf8), "effect \(key) of rollout \(rolloutId)")
            return PendingEffect(record: EffectRecord(key: key, effect: effect), attempts: attempts,
                                 nextAttemptAt: nextAttemptAt.map(Date.init(timeIntervalSinceReferenceDate:)),
                                 lastError: lastError)
            }
        }
    }

    package func pendingEffectKeys() throws -> [String: Set<String>] {
        let rows = try perform { db in
            try db.run("SELECT rollout_id, key FROM effects WHERE status = 'pending'", "reading pending effect keys").rows
        }
        var keys: [String: Set<String>] = [:]
        for row in rows {
            let (id, key) = try row.decode((String, String).self)
            keys[id, default: []].insert(key)
        }
        return keys
    }

    package func deferEffect(rolloutId: String, key: String, attempts: Int, nextAttemptAt: Date, lastError: String,
                             fence: LeaseFence?) throws {
        precondition(attempts >= 0, "attempts are never negative")
        try perform { db in
            let changed = try db.run("""
                UPDATE effects e SET attempts = \(attempts), next_attempt_at = \(nextAttemptAt.timeIntervalSinceReferenceDate),
                    last_error = \(lastError)
                WHERE e.rollout_id = \(rolloutId) AND e.key = \(key)
                  AND (\(fence == nil) OR EXISTS (SELECT 1 FROM rollouts r WHERE r.id = e.rollout_id
                       AND r.lease_owner = \(fence?.owner) AND r.lease_epoch = \(fence?.epoch) FOR SHARE))
                """, "deferring effect \(key) of rollout \(rolloutId)").changed
            if changed != 1 { try effectRefusal(rolloutId: rolloutId, key: key, fence: fence, doing: "defer", db) }
        }
    }

    package func finishEffect(rolloutId: String, key: String, status: EffectStatus, fence: LeaseFence?) throws {
        precondition(status != .pending, "an effect finishes as done, skipped or failed")
        try perform { db in
            let changed = try db.run("""
                UPDATE effects e SET status = \(status.rawValue)
                WHERE e.rollout_id = \(rolloutId) AND e.key = \(key)
                  AND (\(fence == nil) OR EXISTS (SELECT 1 FROM rollouts r WHERE r.id = e.rollout_id
                       AND r.lease_owner = \(fence?.owner) AND r.lease_epoch = \(fence?.epoch) FOR SHARE))
                """, "finishing effect \(key) of rollout \(rolloutId)").changed
            if changed != 1 { try effectRefusal(rolloutId: rolloutId, key: key, fence: fence, doing: "finish", db) }
        }
    }

    package func events(rolloutId: String, afterSequence: Int, limit: Int) throws -> [RolloutEventRecord] {
        precondition(afterSequence >= 0, "sequences start at 1")
        precondition(limit > 0, "limit must be positive")
        let rowsMax = min(limit, Self.rowsPerQueryMax)
        return try perform { db in
            try db.run("""
                SELECT seq, at, json FROM events WHERE rollout_id = \(rolloutId) AND seq > \(afterSequence)
                ORDER BY seq LIMIT \(rowsMax)
                """, "reading events of rollout \(rolloutId)").rows.map { row in
            let (sequence, at, eventJSON) = try row.decode((Int, Double, String).self)
            let event = try json.decode(RolloutEvent.self, from: Data(eventJSON.utf8), "event \(sequence) of rollout \(rolloutId)")
                return RolloutEventRecord(sequence: sequence, at: Date(timeIntervalSinceReferenceDate: at), event: event)
            }
        }
    }

    package func verdicts(rolloutId: String) throws -> [VerdictRecord] {
        try perform { db in
            try db.run("SELECT stage, at, json FROM verdicts WHERE rollout_id = \(rolloutId) ORDER BY id LIMIT \(Self.rowsPerQueryMax)",
                       "reading verdicts of rollout \(rolloutId)").rows.map { row in
            let (stage, at, evaluationJSON) = try row.decode((String, Double, String).self)
            let evaluation = try json.decode(GateEvaluation.self, from: Data(evaluationJSON.utf8),
                                             "verdict of \(stage) of rollout \(rolloutId)")
                return VerdictRecord(stage: stage, at: Date(timeIntervalSinceReferenceDate: at), evaluation: evaluation)
            }
        }
    }

    package func cohorts(rolloutId: String) throws -> CohortAssignment? {
        try perform { db in
            let rows = try db.run("""
                SELECT device_count, device_ids, stage_sizes_json, eligible_count FROM cohorts WHERE rollout_id = \(rolloutId)
                """, "reading cohorts of rollout \(rolloutId)").rows
            guard let row = rows.first else { return nil }
            let (count, blob, sizesJSON, eligible) = try row.decode((Int, ByteBuffer, String, Int).self)
            let sizes = try json.decode([Int].self, from: Data(sizesJSON.utf8), "stage sizes of rollout \(rolloutId)")
            let ids = blob.withUnsafeReadableBytes { DeviceIdBlob.decode($0, count: count) }
            guard let ids, sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == count else {
                throw StoreError.database("cohorts of rollout \(rolloutId) are corrupt: \(count) devices expected")
            }
            return CohortAssignment(deviceIds: ids, stageSizes: sizes, eligibleCount: eligible)
        }
    }

    package func rolloutsDueForPurge(at now: Date, fleetKind: String, limit: Int) throws -> [StoredRollout] {
        precondition(limit > 0, "limit must be positive")
        let rowsMax = min(limit, Self.rowsPerQueryMax)
        let rows = try perform { db in
            try db.run("""
                SELECT id, plan_json, plan_source, fleet_kind, state_json, event_count FROM rollouts
                WHERE purge_at IS NOT NULL AND purge_at <= \(now.timeIntervalSinceReferenceDate) AND fleet_kind = \(fleetKind)
                ORDER BY purge_at, created_order LIMIT \(rowsMax)
                """, "listing rollouts due for purging").rows
        }
        return try EncodedRollout.decodeAll(rows.map(Self.encoded))
    }

    package func rollbackSet(rolloutId: String) throws -> [String]? {
        try perform { try readRollbackSet(rolloutId: rolloutId, $0) }
    }

    package func keepRollbackSet(rolloutId: String, devices: [String]) throws -> [String] {
        let blob = Data(DeviceIdBlob.encode(DeviceIdList(devices)))
        return try perform { db in
            try db.transaction("keeping the rollback set of rollout \(rolloutId)") {
                // First write wins: a set kept by an earlier attempt is the one every retry asks for.
                try db.run("""
                    INSERT INTO rollback_sets (rollout_id, device_count, device_ids) VALUES (\(rolloutId), \(devices.count), \(blob))
                    ON CONFLICT (rollout_id) DO NOTHING
                    """, "keeping the rollback set of rollout \(rolloutId)")
                guard let kept = try readRollbackSet(rolloutId: rolloutId, db) else {
                    throw StoreError.database("the rollback set of rollout \(rolloutId) was not kept")
                }
                return kept
            }
        }
    }

    package func latestInstant() throws -> Date? {
        let rows = try perform { db in
            try db.run("SELECT max(updated_at) FROM rollouts", "reading the latest instant").rows
        }
        return try rows.first.flatMap { try $0.decode(Double?.self) }.map(Date.init(timeIntervalSinceReferenceDate:))
    }

    // MARK: plumbing

    private func readRollbackSet(rolloutId: String, _ db: PostgresSession) throws -> [String]? {
        let rows = try db.run("SELECT device_count, device_ids FROM rollback_sets WHERE rollout_id = \(rolloutId)",
                              "reading the rollback set of rollout \(rolloutId)").rows
        guard let row = rows.first else { return nil }
        let (count, blob) = try row.decode((Int, ByteBuffer).self)
        guard let ids = blob.withUnsafeReadableBytes({ DeviceIdBlob.decode($0, count: count) }) else {
            throw StoreError.database("the rollback set of rollout \(rolloutId) is corrupt: \(count) devices expected")
        }
        return Array(ids)
    }

    /// Runs `body` with the session under the store's lock; a row that cannot be decoded is a `StoreError`.
    /// Why an effect's row was not updated: the lease was lost (`fenced`; the rollout's row is read under the same
    /// share lock the update took) or the effect does not exist.
    private func effectRefusal(rolloutId: String, key: String, fence: LeaseFence?, doing: String,
                               _ db: PostgresSession) throws -> Never {
        if let fence {
            let rows = try db.run("""
                SELECT lease_owner, lease_epoch FROM rollouts WHERE id = \(rolloutId)
                """, "reading the lease of rollout \(rolloutId)").rows
            if let row = rows.first {
                let (owner, epoch) = try row.decode((String?, Int64).self)
                if owner != fence.owner || epoch != fence.epoch { throw StoreError.fenced(fence) }
            }
        }
        throw StoreError.database("rollout \(rolloutId) has no effect \(key) to \(doing)")
    }

    func perform<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        try lock.withLock {
            do {
                return try body(session)
            } catch let error as PostgresDecodingError {
                throw StoreError.database("a row of \(location) cannot be read: \(error.code)")
            }
        }
    }

    static func encoded(_ row: PostgresRow) throws -> EncodedRollout {
        let (id, planJSON, planSource, fleetKind, stateJSON, eventCount) =
            try row.decode((String, String, String, String, String, Int).self)
        return EncodedRollout(id: id, planJSON: Data(planJSON.utf8), planSource: planSource, fleetKind: fleetKind,
                              stateJSON: Data(stateJSON.utf8), eventCount: eventCount)
    }

    func text(_ data: Data) -> String {
        String(decoding: data, as: UTF8.self)
    }

    /// Every phase a rollout is still driven in (constants, not data).
    static let livePhases = RolloutPhase.allCases.filter { !$0.isTerminal }.map(\.rawValue)
}
