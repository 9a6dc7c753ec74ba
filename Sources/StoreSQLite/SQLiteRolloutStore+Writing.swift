import Engine
import Foundation
import RolloutCore

/// The writes of a commit: event, state, outbox, verdicts and cohorts, inside the caller's transaction.
extension SQLiteRolloutStore {
    /// The body of every commit, inside the caller's transaction. Throws before writing anything when the
    /// rollout moved on (`conflict`) or does not exist; any later failure rolls the whole transaction back.
    func write(_ commit: StoreCommit, stateJSON: Data, _ db: SQLiteConnection) throws {
        let id = commit.rolloutId
        let found = try db.withStatement("SELECT event_count FROM rollouts WHERE id = ?1") { statement in
            try statement.bind(1, id)
            return try statement.step() ? statement.int(0) : nil
        }
        guard let found else { throw StoreError.notFound(rolloutId: id) }
        guard found == commit.expectedEventCount else {
            throw StoreError.conflict(rolloutId: id, expected: commit.expectedEventCount, found: found)
        }

        let eventJSON = try json.encode(commit.event.event, "event \(commit.event.sequence) of rollout \(id)")
        try db.withStatement("INSERT INTO events (rollout_id, seq, at, kind, json) VALUES (?1, ?2, ?3, ?4, ?5)") { statement in
            try statement.bind(1, id)
            try statement.bind(2, commit.event.sequence)
            try statement.bind(3, commit.event.at)
            try statement.bind(4, commit.event.event.kind)
            try statement.bind(5, json: eventJSON)
            try statement.run()
        }

        try db.withStatement("""
            UPDATE rollouts SET state_json = ?2, event_count = ?3, display_phase = ?4, due_at = ?5, updated_at = ?6,
                purge_at = ?7
            WHERE id = ?1
            """) { statement in
            try statement.bind(1, id)
            try statement.bind(2, json: stateJSON)
            try statement.bind(3, commit.state.eventCount)
            try statement.bind(4, commit.state.displayPhase.rawValue)
            try statement.bind(5, commit.state.dueAt)
            try statement.bind(6, commit.state.updatedAt)
            try statement.bind(7, commit.state.purgeDueAt)
            try statement.run()
        }

        // The completed effect first: an effect this very event queues again must end up pending.
        if let key = commit.completedEffectKey {
            try db.withStatement("UPDATE effects SET status = ?3 WHERE rollout_id = ?1 AND key = ?2") { statement in
                try statement.bind(1, id)
                try statement.bind(2, key)
                try statement.bind(3, commit.completedEffectStatus.rawValue)
                try statement.run()
            }
        }

        if !commit.effects.isEmpty {
            let lastQueued = try db.withStatement(
                "SELECT coalesce(max(queued_seq), 0) FROM effects WHERE rollout_id = ?1"
            ) { statement in
                try statement.bind(1, id)
                return try statement.step() ? statement.int(0) : 0
            }
            for (offset, record) in commit.effects.enumerated() {
                let effectJSON = try json.encode(record.effect, "effect \(record.key) of rollout \(id)")
                try db.withStatement("""
                    INSERT INTO effects (rollout_id, key, kind, json, status, attempts, next_attempt_at, last_error,
                                         queued_seq)
                    VALUES (?1, ?2, ?3, ?4, 'pending', 0, NULL, NULL, ?5)
                    ON CONFLICT (rollout_id, key) DO UPDATE SET
                        kind = excluded.kind, json = excluded.json, status = 'pending', attempts = 0,
                        next_attempt_at = NULL, last_error = NULL, queued_seq = excluded.queued_seq
                    """) { statement in
                    try statement.bind(1, id)
                    try statement.bind(2, record.key)
                    try statement.bind(3, record.effect.kind)
                    try statement.bind(4, json: effectJSON)
                    try statement.bind(5, lastQueued + 1 + offset)
                    try statement.run()
                }
            }
        }

        for verdict in commit.verdicts {
            let evaluationJSON = try json.encode(verdict.evaluation, "verdict of \(verdict.stage) of rollout \(id)")
            try db.withStatement("""
                INSERT INTO verdicts (rollout_id, stage, at, verdict, json) VALUES (?1, ?2, ?3, ?4, ?5)
                """) { statement in
                try statement.bind(1, id)
                try statement.bind(2, verdict.stage)
                try statement.bind(3, verdict.at)
                try statement.bind(4, verdict.evaluation.verdict.rawValue)
                try statement.bind(5, json: evaluationJSON)
                try statement.run()
            }
        }

        if let cohorts = commit.cohorts {
            try writeCohorts(cohorts, rolloutId: id, db)
        }
    }

    func writeCohorts(_ cohorts: CohortAssignment, rolloutId: String, _ db: SQLiteConnection) throws {
        let sizesJSON = try json.encode(cohorts.stageSizes, "stage sizes of rollout \(rolloutId)")
        let blob = DeviceIdBlob.encode(cohorts.deviceIds)
        try blob.withUnsafeBytes { bytes in
            try db.withStatement("""
                INSERT INTO cohorts (rollout_id, device_count, device_ids, stage_sizes_json, eligible_count)
                VALUES (?1, ?2, ?3, ?4, ?5)
                ON CONFLICT (rollout_id) DO UPDATE SET
                    device_count = excluded.device_count, device_ids = excluded.device_ids,
                    stage_sizes_json = excluded.stage_sizes_json, eligible_count = excluded.eligible_count
                """) { statement in
                try statement.bind(1, rolloutId)
                try statement.bind(2, cohorts.deviceIds.count)
                try statement.bindBlobNoCopy(3, bytes)  // `withStatement` resets (unbinds) before `bytes` goes away
                try statement.bind(4, json: sizesJSON)
                try statement.bind(5, cohorts.eligibleCount)
                try statement.run()
            }
        }
    }
}
