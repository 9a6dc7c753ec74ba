import Engine
import Foundation
import NIOCore
import PostgresNIO
import RolloutCore

/// The writes of a commit, inside the caller's transaction: the rollout's row first (under its row lock, checked
/// against the expected event count and the fence), then the event, the outbox, verdicts and cohorts, and the
/// change notification.
extension PostgresRolloutStore {
    func write(_ commit: StoreCommit, stateJSON: String, _ db: PostgresSession) throws {
        let id = commit.rolloutId
        let state = commit.state
        // Without a fence (a person's command, a submission) the event count alone guards the write.
        let fence = commit.fence
        let updated = try db.run("""
            UPDATE rollouts SET state_json = \(stateJSON), event_count = \(state.eventCount),
                display_phase = \(state.displayPhase.rawValue), due_at = \(state.dueAt?.timeIntervalSinceReferenceDate),
                updated_at = \(state.updatedAt.timeIntervalSinceReferenceDate),
                purge_at = \(state.purgeDueAt?.timeIntervalSinceReferenceDate), changed_at = clock_timestamp()
            WHERE id = \(id) AND event_count = \(commit.expectedEventCount)
              AND (\(fence == nil) OR (lease_owner = \(fence?.owner) AND lease_epoch = \(fence?.epoch)))
            """, "saving rollout \(id)").changed
        if updated != 1 { try refusal(of: commit, db) }

        let eventJSON = try text(json(commit.event.event, "event \(commit.event.sequence) of rollout \(id)"))
        try db.run("""
            INSERT INTO events (rollout_id, seq, at, kind, json)
            VALUES (\(id), \(commit.event.sequence), \(commit.event.at.timeIntervalSinceReferenceDate),
                    \(commit.event.event.kind), \(eventJSON))
            """, "appending event \(commit.event.sequence) of rollout \(id)")

        // The completed effect first: an effect this very event queues again must end up pending.
        if let key = commit.completedEffectKey {
            try db.run("""
                UPDATE effects SET status = \(commit.completedEffectStatus.rawValue) WHERE rollout_id = \(id) AND key = \(key)
                """, "finishing effect \(key) of rollout \(id)")
        }
        if !commit.effects.isEmpty {
            let lastQueued = try db.run("SELECT coalesce(max(queued_seq), 0) FROM effects WHERE rollout_id = \(id)",
                                        "numbering effects of rollout \(id)").rows.first?.decode(Int.self) ?? 0
            for (offset, record) in commit.effects.enumerated() {
                let effectJSON = try text(json(record.effect, "effect \(record.key) of rollout \(id)"))
                try db.run("""
                    INSERT INTO effects (rollout_id, key, kind, json, status, attempts, next_attempt_at, last_error, queued_seq)
                    VALUES (\(id), \(record.key), \(record.effect.kind), \(effectJSON), 'pending', 0, NULL, NULL,
                            \(lastQueued + 1 + offset))
                    ON CONFLICT (rollout_id, key) DO UPDATE SET
                        kind = excluded.kind, json = excluded.json, status = 'pending', attempts = 0,
                        next_attempt_at = NULL, last_error = NULL, queued_seq = excluded.queued_seq
                    """, "queuing effect \(record.key) of rollout \(id)")
            }
        }
        for verdict in commit.verdicts {
            let evaluationJSON = try text(json(verdict.evaluation, "verdict of \(verdict.stage) of rollout \(id)"))
            try db.run("""
                INSERT INTO verdicts (rollout_id, stage, at, verdict, json)
                VALUES (\(id), \(verdict.stage), \(verdict.at.timeIntervalSinceReferenceDate),
                        \(verdict.evaluation.verdict.rawValue), \(evaluationJSON))
                """, "recording a verdict of rollout \(id)")
        }
        if let cohorts = commit.cohorts {
            let sizesJSON = try text(json(cohorts.stageSizes, "stage sizes of rollout \(id)"))
            let blob = Data(DeviceIdBlob.encode(cohorts.deviceIds))
            try db.run("""
                INSERT INTO cohorts (rollout_id, device_count, device_ids, stage_sizes_json, eligible_count)
                VALUES (\(id), \(cohorts.deviceIds.count), \(blob), \(sizesJSON), \(cohorts.eligibleCount))
                ON CONFLICT (rollout_id) DO UPDATE SET
                    device_count = excluded.device_count, device_ids = excluded.device_ids,
                    stage_sizes_json = excluded.stage_sizes_json, eligible_count = excluded.eligible_count
                """, "saving cohorts of rollout \(id)")
        }
        // Delivered to every listening worker when (and only if) this transaction commits.
        try db.run("SELECT pg_notify(\(Self.changeChannel), \(id + " " + String(state.eventCount)))",
                   "announcing the change of rollout \(id)")
    }

    /// Why the rollout's row was not updated: gone, moved on (`conflict`), or leased to someone else (`fenced`).
    private func refusal(of commit: StoreCommit, _ db: PostgresSession) throws -> Never {
        let id = commit.rolloutId
        let rows = try db.run("SELECT event_count, lease_owner, lease_epoch FROM rollouts WHERE id = \(id)",
                              "reading rollout \(id)").rows
        guard let row = rows.first else { throw StoreError.notFound(rolloutId: id) }
        let (found, owner, epoch) = try row.decode((Int, String?, Int64).self)
        if let fence = commit.fence, owner != fence.owner || epoch != fence.epoch {
            throw StoreError.fenced(fence)
        }
        throw StoreError.conflict(rolloutId: id, expected: commit.expectedEventCount, found: found)
    }

    private func json<T: Encodable>(_ value: T, _ what: @autoclosure () -> String) throws -> Data {
        try json.encode(value, what())
    }
}
