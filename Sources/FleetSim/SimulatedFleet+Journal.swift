import Engine
import Foundation
import RolloutCore

/// The simulated fleet's own persistence: the fleet is the outside world, so it outlives a worker that is killed.
/// Every job creation and cancellation is appended (and flushed) to a journal file; a new process replays it and
/// finds the same jobs, with the same devices and outcomes (they derive from the seed).
extension SimulatedFleet {
    struct JournalEntry: Codable {
        var operation: String
        var devices: Int?
        var seed: UInt64?
        var jobId: String?
        var rolloutId: String?
        var stage: String?
        var version: String?
        var checksum: String?
        var settings: JobSettings?
        /// Target device indices as little-endian Int32s, base64 (a JSON array of 500,000 numbers is slow).
        var targets: String?
        var at: Double?
        var force: Bool?
        /// `cancelExecution`: the device.
        var thing: String?
    }

    package struct JournalError: Error, CustomStringConvertible {
        package var description: String
    }

    /// Replays `path` (if it exists) and appends every later job creation and cancellation to it.
    /// Refuses a journal written for another population or seed.
    package func attachJournal(path: String) throws {
        if let data = FileManager.default.contents(atPath: path) {
            let decoder = JSONDecoder()
            var lineNumber = 0
            for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                lineNumber += 1
                guard lineNumber <= 1_000_000 else { break }
                // A line cut short by a crash is the last one: ignore it.
                guard let entry = try? decoder.decode(JournalEntry.self, from: Data(line)) else { continue }
                try replay(entry, path: path)
            }
            if let last = data.last, last != UInt8(ascii: "\n") {
                // Cut the line a crash left unfinished, or the next entry would be appended to it and lost with it.
                let kept = data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
                guard let handle = FileHandle(forWritingAtPath: path) else {
                    throw JournalError(description: "cannot write the simulated fleet's journal \(path)")
                }
                defer { try? handle.close() }
                try handle.truncate(atOffset: UInt64(kept))
                try handle.synchronize()
            }
        } else {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw JournalError(description: "cannot create the simulated fleet's journal \(path)")
            }
            try appendToJournal(JournalEntry(operation: "fleet", devices: population.count, seed: seed), path: path)
        }
        journalWriteLock.withLock {
            journalOffset = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?
                .map { $0.uint64Value } ?? 0
        }
        setJournal(path: path)
    }

    private func replay(_ entry: JournalEntry, path: String) throws {
        switch entry.operation {
        case "fleet":
            guard entry.devices == population.count, entry.seed == seed else {
                throw JournalError(description: "\(path) belongs to a simulated fleet of \(entry.devices ?? 0) devices with "
                                   + "seed \(entry.seed ?? 0); this one has \(population.count) devices and seed \(seed)")
            }
        case "create":
            guard let jobId = entry.jobId, let rolloutId = entry.rolloutId, let stage = entry.stage,
                  let version = entry.version, let checksum = entry.checksum, let settings = entry.settings,
                  let encoded = entry.targets, let targets = Self.decodeTargets(encoded), let at = entry.at else { return }
            let document = JobDocument(version: version, previousVersion: nil, firmwareUrl: "", checksum: checksum, size: 0,
                                       signature: nil, rolloutId: rolloutId, stage: stage)
            let request = JobRequest(rolloutId: rolloutId, jobId: jobId, stage: stage,
                                     targets: .devices([]), document: document, settings: settings)
            restoreJob(request: request, targets: targets, createdAt: Date(timeIntervalSince1970: at))
        case "fill":
            guard let jobId = entry.jobId, let at = entry.at else { return }
            restoreFill(jobId: jobId, at: Date(timeIntervalSince1970: at))
        case "cancel":
            guard let jobId = entry.jobId, let at = entry.at else { return }
            restoreCancel(jobId: jobId, at: Date(timeIntervalSince1970: at), force: entry.force ?? false)
        case "purge":
            guard let jobId = entry.jobId else { return }
            _ = lock.withLock { forgetJob(jobId) }
        case "cancelExecution":
            guard let jobId = entry.jobId, let thing = entry.thing, let at = entry.at else { return }
            restoreDeviceCancel(jobId: jobId, thing: thing, at: Date(timeIntervalSince1970: at), force: entry.force ?? false)
        default:
            return
        }
    }

    static func encodeTargets(_ targets: [Int32]) -> String {
        // A closure, not `\.littleEndian`: a key path costs a lookup per element (a million per large job).
        targets.map { $0.littleEndian }.withUnsafeBytes { Data($0) }.base64EncodedString()
    }

    static func decodeTargets(_ text: String) -> [Int32]? {
        guard let data = Data(base64Encoded: text), data.count % 4 == 0 else { return nil }
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
        }
    }

    func appendToJournal(_ entry: JournalEntry, path: String) throws {
        try journalTransaction(path: path) { handle in try append(entry, to: handle) }
    }

    /// Runs `body` holding the journal's file lock, after replaying what other processes appended since this one
    /// last looked: several workers on one database share one simulated fleet through its journal, and a job's
    /// creation is checked and recorded under the lock (as AWS refuses a second CreateJob of one id).
    func journalTransaction<T>(path: String, _ body: (FileHandle) throws -> T) throws -> T {
        try journalWriteLock.withLock {
            guard let handle = FileHandle(forUpdatingAtPath: path) else {
                throw JournalError(description: "cannot write the simulated fleet's journal \(path)")
            }
            defer { try? handle.close() }
            guard flock(handle.fileDescriptor, LOCK_EX) == 0 else {
                throw JournalError(description: "cannot lock the simulated fleet's journal \(path) (errno \(errno))")
            }
            defer { flock(handle.fileDescriptor, LOCK_UN) }
            try catchUp(handle, path: path)
            return try body(handle)
        }
    }

    /// Replays the complete lines past `journalOffset` (another process's entries).
    private func catchUp(_ handle: FileHandle, path: String) throws {
        let end = try handle.seekToEnd()
        guard end > journalOffset else { return }
        try handle.seek(toOffset: journalOffset)
        guard let data = try handle.read(upToCount: Int(end - journalOffset)),
              let last = data.lastIndex(of: UInt8(ascii: "\n")) else { return }
        let decoder = JSONDecoder()
        for line in data[...last].split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            guard let entry = try? decoder.decode(JournalEntry.self, from: Data(line)) else { continue }
            try replay(entry, path: path)
        }
        journalOffset += UInt64(last - data.startIndex + 1)
    }

    /// Appends one entry (under `journalTransaction`) and moves `journalOffset` past it: this process's own entries
    /// are never replayed.
    func append(_ entry: JournalEntry, to handle: FileHandle) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let line = try encoder.encode(entry) + Data("\n".utf8)
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
        try handle.synchronize()
        journalOffset = try handle.offset()
    }

    /// Replays other processes' entries now (a fleet call about a job another worker may have made or cancelled).
    func catchUpJournal() throws {
        guard let path = lock.withLock({ journalPath }) else { return }
        try journalTransaction(path: path) { _ in }
    }
}

extension SimulatedFleet {
    /// Population size and seed recorded in an existing journal, so a restarted worker rebuilds the same fleet.
    package static func journalHeader(path: String) -> (devices: Int, seed: UInt64)? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: 4096),
              let line = data.split(separator: UInt8(ascii: "\n")).first,
              let entry = try? JSONDecoder().decode(JournalEntry.self, from: Data(line)),
              entry.operation == "fleet", let devices = entry.devices, let seed = entry.seed else { return nil }
        return (devices, seed)
    }
}
