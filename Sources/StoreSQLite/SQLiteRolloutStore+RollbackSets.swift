import Engine
import Foundation
import RolloutCore

/// The rollback set of a rollout: one row, its device ids as one blob (`DeviceIdBlob`), written once.
extension SQLiteRolloutStore {
    package func rollbackSet(rolloutId: String) throws -> [String]? {
        try perform("reading the rollback set of rollout \(rolloutId)") { db in
            try Self.readRollbackSet(rolloutId: rolloutId, db)
        }
    }

    package func keepRollbackSet(rolloutId: String, devices: [String]) throws -> [String] {
        let blob = DeviceIdBlob.encode(DeviceIdList(devices))
        return try perform("keeping the rollback set of rollout \(rolloutId)") { db in
            try db.immediateTransaction {
                // First write wins: a set kept by an earlier attempt is the one every retry asks for.
                try blob.withUnsafeBytes { bytes in
                    try db.withStatement("""
                        INSERT INTO rollback_sets (rollout_id, device_count, device_ids) VALUES (?1, ?2, ?3)
                        ON CONFLICT (rollout_id) DO NOTHING
                        """) { statement in
                        try statement.bind(1, rolloutId)
                        try statement.bind(2, devices.count)
                        try statement.bindBlobNoCopy(3, bytes)  // `withStatement` unbinds before `bytes` goes away
                        try statement.run()
                    }
                }
                guard let kept = try Self.readRollbackSet(rolloutId: rolloutId, db) else {
                    throw StoreError.database("the rollback set of rollout \(rolloutId) was not kept")
                }
                return kept
            }
        }
    }

    private static func readRollbackSet(rolloutId: String, _ db: SQLiteConnection) throws -> [String]? {
        try db.withStatement("SELECT device_count, device_ids FROM rollback_sets WHERE rollout_id = ?1") { statement in
            try statement.bind(1, rolloutId)
            guard try statement.step() else { return nil }
            let count = statement.int(0)
            guard let ids = statement.withBytes(1, { DeviceIdBlob.decode($0, count: count) }) else {
                throw StoreError.database("the rollback set of rollout \(rolloutId) is corrupt: \(count) devices expected")
            }
            return Array(ids)
        }
    }
}
