import Engine
import Foundation
import RolloutCore
import RolloutText

/// The built-in fleet: seeded devices on a virtual clock, behaving as the scenario says.
///
/// It plays the part of AWS IoT Jobs + S3 for the engine (same `Fleet` port, same idempotency rules: a job id
/// is created once, a second create with the same request adopts it, a different one is a conflict).
package final class SimulatedFleet: Fleet, @unchecked Sendable {
    package let kind = "sim"
    package let seed: UInt64
    package let scenario: SimulationScenario
    package let population: SimulatedPopulation
    let clock: any RolloutClock
    let draw: SeededDraw
    let lock = NSLock()
    /// Serializes journal appends: two jobs created at once (steps of different rollouts run concurrently) would
    /// otherwise both write at the same end offset, and one entry would overwrite the other.
    let journalWriteLock = NSLock()
    /// Bytes of the journal replayed or written by this process (under `journalWriteLock`).
    var journalOffset: UInt64 = 0
    private(set) var jobs: [String: SimulatedJob] = [:]
    private var jobOrder: [String] = []
    private var callCounts: [String: Int] = [:]
    private var groupCache: [String: [String]] = [:]
    private var cleanedUp: Set<String> = []
    private(set) var journalPath: String?
    /// The account's request quotas as AWS enforces them (`scenario.quotas`).
    private var budget: SimulatedAPIBudget
    /// When the fill of each stage's temporary group began (jobs of more than 100 devices without rings).
    var fillsStartedAt: [String: Date] = [:]

    /// Devices per hardware revision and offline devices, counted once (health documents are read on every poll).
    let devicesPerHardware: [Int]
    let offlineCount: Int

    /// Every successful `createJob` that made a new job (not adoptions): what the fleet side saw, for tests.
    package private(set) var jobsCreated: [String] = []
    /// Fleet API calls answered, throttled and failed (for reports and tests).
    package private(set) var callsTotal = 0
    package private(set) var callsThrottled = 0
    /// Calls over the account's quota for their API (`scenario.quotas`): they wait, as the AWS path's budget would.
    package private(set) var callsOverBudget = 0

    package init(devices: Int, seed: UInt64, scenario: SimulationScenario, clock: any RolloutClock) {
        self.seed = seed
        self.scenario = scenario
        self.clock = clock
        self.draw = SeededDraw(seed: seed)
        self.population = SimulatedPopulation(count: devices, scenario: scenario, draw: draw)
        self.budget = SimulatedAPIBudget(quotas: scenario.quotas)
        var perHardware = [Int](repeating: 0, count: population.hardwareNames.count)
        for revision in population.hardware { perHardware[Int(revision)] += 1 }
        devicesPerHardware = perHardware
        offlineCount = population.online.reduce(0) { $0 + ($1 ? 0 : 1) }
    }

    // MARK: Fleet

    package nonisolated(nonsending) func inventory(_ selection: FleetSelection) async throws -> DeviceInventory {
        try apiCall("ListThingsInThingGroup", selection.thingGroup ?? "fleet")
        for attribute in selection.selector.keys where attribute != "hardwareRevision" {
            throw FleetError.permanent("simulated devices have the attribute hardwareRevision only; "
                                       + "the plan selects on `\(attribute)`")
        }
        let acceptedRevisions: Set<UInt8>? = selection.selector["hardwareRevision"].map { names in
            Set(population.hardwareNames.indices.filter { names.contains(population.hardwareNames[$0]) }.map(UInt8.init))
        }
        let excluded = Set(selection.exclude.compactMap { population.index(of: $0) })
        // Kept as device numbers: a million ids take 4 MB, and `createJob` reads the numbers back without parsing.
        var indices: [UInt32] = []
        indices.reserveCapacity(population.count)
        for device in 0..<population.count {
            if let acceptedRevisions, !acceptedRevisions.contains(population.hardware[device]) { continue }
            if !excluded.isEmpty && excluded.contains(device) { continue }
            indices.append(UInt32(device))
        }
        return DeviceInventory(deviceIds: SimulatedPopulation.deviceIds(indices))
    }


    /// The scenario's ring set (`rings: N`): `<fleet>-ring-NN`, each device in the ring its name hashes to.
    package nonisolated(nonsending) func ringMembership(fleetGroup: String) async throws -> RingMembership? {
        try apiCall("ListThingGroups", fleetGroup)
        guard scenario.rings > 0 else { return nil }
        let names = (0..<scenario.rings).map { RingLayout.groupName(fleetGroup: fleetGroup, index: $0, count: scenario.rings) }
        return RingMembership(groupNames: names, listed: nil)
    }

    /// The members of a ring group of the scenario's ring set (`…-ring-NN`), or nil when `name` is not one.
    func ringMembers(_ name: String) throws -> [Int32]? {
        guard scenario.rings > 0, let marker = name.range(of: "-ring-", options: .backwards),
              let ring = Int(name[marker.upperBound...]) else { return nil }
        guard (0..<scenario.rings).contains(ring) else {
            throw FleetError.notFound("thing group `\(name)` (the ring set has \(scenario.rings) rings)")
        }
        var members: [Int32] = []
        for device in 0..<population.count
        where RingLayout.ring(of: SimulatedPopulation.deviceId(device), count: scenario.rings) == ring {
            members.append(Int32(device))
        }
        return members
    }

    package nonisolated(nonsending) func groupMembers(_ group: String) async throws -> [String] {
        try apiCall("ListThingsInThingGroup", group)
        if let cached = lock.withLock({ groupCache[group] }) { return cached }
        guard let size = scenario.groups[group] else {
            throw FleetError.notFound("thing group `\(group)` (the scenario defines: "
                                      + "\(scenario.groups.keys.sorted().joined(separator: ", ")))")
        }
        let purpose = SeededDraw.purpose("group:\(group)")
        let members = (0..<population.count)
            .map { (draw.unit(purpose, UInt64($0)), $0) }
            .sorted { $0.0 < $1.0 }
            .prefix(min(size, population.count))
            .map { SimulatedPopulation.deviceId($0.1) }
        lock.withLock { groupCache[group] = members }
        return members
    }

    package nonisolated(nonsending) func stageArtifact(_ artifact: ArtifactRequest) async throws -> StagedArtifact {
        try apiCall("PutObject", artifact.version)
        let digest: String
        let size: Int64
        let url: String
        switch artifact.location {
        case .file(let path):
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw FleetError.permanent("artifact \(path) cannot be read")
            }
            defer { try? handle.close() }
            var hasher = SHA256()
            var total: Int64 = 0
            // Streamed in 1 MiB blocks; bounded by the file's size.
            while let block = try? handle.read(upToCount: 1 << 20), !block.isEmpty {
                hasher.update(block)
                total += Int64(block.count)
            }
            digest = SHA256.hex(hasher.finalize())
            size = total
            url = "sim://firmware/\(artifact.firmware)/\(artifact.version)/\(digest).bin"
        case .s3(let bucket, let key):
            // No S3 here: the object stands for itself, identified by its location.
            digest = SHA256.hex(SHA256.hash(Array("s3://\(bucket)/\(key)".utf8)))
            size = 0
            url = "sim://s3/\(bucket)/\(key)"
        }
        // Not signed here: signing is the AWS fleet's (OpenSSL); a rehearsal needs the digest only.
        return StagedArtifact(version: artifact.version, url: url, sha256Hex: digest, sizeBytes: size, signatureBase64: nil)
    }

    package nonisolated(nonsending) func createJob(_ request: JobRequest) async throws {
        try apiCall("CreateJob", request.jobId)
        let targets: [Int32]
        switch request.targets {
        case .devices(let ids):
            targets = try deviceIndices(ids)
        case .group(let name):
            let members = try await groupMembers(name)
            targets = members.compactMap { population.index(of: $0).map(Int32.init) }
        case .groups(let names):
            guard names.count <= Self.jobTargetsMax else {
                throw FleetError.permanent("InvalidRequestException: a job targets at most \(Self.jobTargetsMax) groups")
            }
            var members: Set<Int32> = []
            for name in names {
                if let ring = try ringMembers(name) {
                    members.formUnion(ring)
                } else {
                    members.formUnion(try await groupMembers(name).compactMap { population.index(of: $0).map(Int32.init) })
                }
            }
            targets = members.sorted()
        }
        let targetFingerprint = targets.reduce(UInt64(targets.count)) { StableHash.mix($0 ^ UInt64($1)) }
        let documentFingerprint = StableHash.hash(request.document.version, request.document.checksum + request.stage)
        // The same bytes the AWS fleet would send: a template that cannot make them fails here too.
        do {
            // A job made from an AWS job template carries the template's document, which a rehearsal cannot read.
            if request.templateArn == nil { _ = try JobDocumentRenderer.render(request.document, shape: request.settings.document) }
        } catch {
            throw FleetError.permanent("job \(request.jobId): job document: \(error.message)")
        }
        let now = clock.now()
        if case .devices(let ids) = request.targets, ids.count > Self.jobTargetsMax {
            try awaitTemporaryGroupFill(jobId: request.jobId, devices: ids.count, now: now)
        }
        let journalPath: String? = lock.withLock { self.journalPath }
        guard let journalPath else {
            try createJobInMemory()
            return
        }
        do {
            // Checked and recorded under the journal's file lock: of several workers sharing this fleet, one creates.
            try journalTransaction(path: journalPath) { handle in
                guard try createJobInMemory() else { return }
                try append(JournalEntry(
                    operation: "create", jobId: request.jobId, rolloutId: request.rolloutId, stage: request.stage,
                    version: request.document.version, checksum: request.document.checksum, settings: request.settings,
                    targets: Self.encodeTargets(targets), at: now.timeIntervalSince1970), to: handle)
            }
        } catch let error as FleetError {
            throw error
        } catch {
            throw FleetError.retryable("simulated fleet journal: \(error)", retryAfterSeconds: nil)
        }

        @discardableResult
        func createJobInMemory() throws -> Bool {
          try lock.withLock { () throws -> Bool in
            if let existing = jobs[request.jobId] {
                guard existing.targetFingerprint == targetFingerprint,
                      existing.documentFingerprint == documentFingerprint else {
                    throw FleetError.conflict("job \(request.jobId) exists with different targets or document")
                }
                return false  // adopt: the same job, asked for again after a crash
            }
            try checkJobSlot(jobId: request.jobId, now: now)
            let job = SimulatedJob(request: request, targets: targets, population: population, scenario: scenario,
                                   draw: draw, createdAt: now, targetFingerprint: targetFingerprint,
                                   documentFingerprint: documentFingerprint)
            jobs[request.jobId] = job
            jobOrder.append(request.jobId)
            jobsCreated.append(request.jobId)
            return true
          }
        }
    }

    /// The device indices of `ids`: the numbers themselves when the list keeps them (the engine passes on what
    /// `inventory` returned), otherwise each id's bytes parsed. Throws for an id that is not one of ours.
    func deviceIndices(_ ids: DeviceIdList) throws -> [Int32] {
        if let numbers = ids.numbers(in: SimulatedPopulation.numbering) {
            guard let outside = numbers.first(where: { Int($0) >= population.count }) else {
                return numbers.map { Int32($0) }
            }
            throw FleetError.permanent("InvalidRequestException: no simulated device "
                                       + "`\(SimulatedPopulation.deviceId(Int(outside)))`")
        }
        var indices: [Int32] = []
        indices.reserveCapacity(ids.count)
        for position in ids.indices {
            guard let index = ids.withUTF8(at: position, population.index(ofUTF8:)) else {
                throw FleetError.permanent("InvalidRequestException: no simulated device `\(ids[position])`")
            }
            indices.append(Int32(index))
        }
        return indices
    }

    func setJournal(path: String) {
        lock.withLock { journalPath = path }
    }

    /// Recreates a job from the journal (no journal write, not counted as created by this process). The first entry
    /// of a job wins: journals written by older versions may record an adopted job again, later.
    func restoreJob(request: JobRequest, targets: [Int32], createdAt: Date) {
        guard lock.withLock({ jobs[request.jobId] == nil }) else { return }
        let targetFingerprint = targets.reduce(UInt64(targets.count)) { StableHash.mix($0 ^ UInt64($1)) }
        let documentFingerprint = StableHash.hash(request.document.version, request.document.checksum + request.stage)
        let job = SimulatedJob(request: request, targets: targets, population: population, scenario: scenario, draw: draw,
                               createdAt: createdAt, targetFingerprint: targetFingerprint,
                               documentFingerprint: documentFingerprint)
        lock.withLock {
            jobOrder.append(request.jobId)
            jobs[request.jobId] = job
        }
    }

    /// A temporary group's fill that began before a restart goes on from where it was (AWS keeps the group).
    func restoreFill(jobId: String, at: Date) {
        lock.withLock {
            if fillsStartedAt[jobId] == nil { fillsStartedAt[jobId] = at }
        }
    }

    /// Drops a job (under the lock); true when there was one.
    func forgetJob(_ jobId: String) -> Bool {
        guard jobs.removeValue(forKey: jobId) != nil else { return false }
        jobOrder.removeAll { $0 == jobId }
        return true
    }

    func restoreCancel(jobId: String, at: Date, force: Bool) {
        lock.withLock { jobs[jobId]?.cancel(at: at, force: force) }
    }

    package nonisolated(nonsending) func jobProgress(jobId: String) async throws -> JobProgress {
        try apiCall("DescribeJob", jobId)
        guard let job = lock.withLock({ jobs[jobId] }) else { throw FleetError.notFound("job \(jobId)") }
        return job.progress(at: clock.now())
    }

    package nonisolated(nonsending) func devices(jobId: String, statuses: Set<ExecutionStatus>) async throws -> [String] {
        try apiCall("ListJobExecutionsForJob", jobId)
        guard let job = lock.withLock({ jobs[jobId] }) else { throw FleetError.notFound("job \(jobId)") }
        let now = clock.now()
        var result: [String] = []
        for position in job.targets.indices where statuses.contains(job.status(ofPosition: position, at: now)) {
            result.append(SimulatedPopulation.deviceId(Int(job.targets[position])))
        }
        return result
    }

    package nonisolated(nonsending) func devicesThatMayHoldFirmware(jobId: String) async throws -> [String] {
        try apiCall("ListJobExecutionsForJob", jobId)
        guard let job = lock.withLock({ jobs[jobId] }) else { throw FleetError.notFound("job \(jobId)") }
        let now = clock.now()
        var result: [String] = []
        for position in job.targets.indices where job.mayHoldFirmware(position: position, at: now) {
            result.append(SimulatedPopulation.deviceId(Int(job.targets[position])))
        }
        return result
    }

    package nonisolated(nonsending) func cancelJob(jobId: String, reason: String, force: Bool) async throws {
        try apiCall("CancelJob", jobId)
        guard let job = lock.withLock({ jobs[jobId] }) else { throw FleetError.notFound("job \(jobId)") }
        let now = clock.now()
        // Under the fleet's lock: `checkJobSlot` reads `cancelledAt` under it.
        let alreadyCancelled = lock.withLock { () -> Bool in
            let was = job.cancelledAt != nil
            job.cancel(at: now, force: force)
            return was
        }
        if !alreadyCancelled, let journalPath = lock.withLock({ journalPath }) {
            try? appendToJournal(JournalEntry(operation: "cancel", jobId: jobId, at: now.timeIntervalSince1970, force: force),
                                 path: journalPath)
        }
    }

    package nonisolated(nonsending) func cleanUp(rolloutId: String, jobId: String) async throws {
        try apiCall("DeleteThingGroup", jobId)
        _ = lock.withLock { cleanedUp.insert(jobId) }
    }

    /// The simulated fleet keeps no temporary groups: nothing is ever left behind.
    package nonisolated(nonsending) func temporaryResources(rolloutId: String, jobId: String) async throws -> [String] {
        []
    }

    // MARK: what tests and reports read

    /// Jobs in creation order, with their current progress.
    package func jobSummaries() -> [(jobId: String, targets: Int, progress: JobProgress)] {
        let now = clock.now()
        return lock.withLock { jobOrder.map { ($0, jobs[$0]!.targets.count, jobs[$0]!.progress(at: now)) } }
    }

    /// Target devices of a job, sorted.
    package func targets(ofJob jobId: String) -> [String]? {
        lock.withLock { jobs[jobId]?.targets.map { SimulatedPopulation.deviceId(Int($0)) }.sorted() }
    }

    package var cleanedUpJobs: Set<String> { lock.withLock { cleanedUp } }

    /// The jobs of one rollout.
    func jobs(ofRollout rolloutId: String) -> [SimulatedJob] {
        lock.withLock { jobOrder.compactMap { jobs[$0] }.filter { $0.rolloutId == rolloutId } }
    }

    // MARK: faults

    /// Counts the call and, as the scenario says, answers it with throttling or a server error instead.
    /// The decision derives from the seed, the call and how often that call was made, never from wall time.
    func apiCall(_ operation: String, _ subject: String) throws {
        do {
            try catchUpJournal()  // what other workers sharing this fleet did meanwhile
        } catch {
            throw FleetError.retryable("simulated fleet journal: \(error)", retryAfterSeconds: nil)
        }
        let key = "\(operation):\(subject)"
        let now = clock.now()
        let metered = SimulatedAPIBudget.meteredAPI(operation, quotas: scenario.quotas)
        let (attempt, overBudget) = lock.withLock { () -> (Int, Double?) in
            callsTotal += 1
            callCounts[key, default: 0] += 1
            return (callCounts[key]!, metered.flatMap { budget.take($0, at: now) })
        }
        if let overBudget, let metered {
            lock.withLock { callsOverBudget += 1 }
            let rate = scenario.quotas.ratesPerSecond[metered] ?? 0
            throw FleetError.capacity(FleetCapacityWait(
                resource: .quota(metered),
                detail: "\(operation): ThrottlingException: over the account's \(PreflightText.count(rate)) "
                    + "\(metered) calls per second (simulated)",
                remedy: "run fewer rollouts at once, or raise the quota if AWS has (`\(metered)`)",
                retryAfterSeconds: overBudget))
        }
        guard scenario.throttlePercent > 0 || scenario.serverErrorPercent > 0 else { return }
        let unit = draw.unit(SeededDraw.purpose(key), UInt64(attempt)) * 100
        if unit < scenario.throttlePercent {
            lock.withLock { callsThrottled += 1 }
            throw FleetError.retryable("ThrottlingException: Rate exceeded (simulated, \(operation))", retryAfterSeconds: nil)
        }
        if unit < scenario.throttlePercent + scenario.serverErrorPercent {
            throw FleetError.retryable("InternalFailureException: 500 (simulated, \(operation))", retryAfterSeconds: nil)
        }
    }
}
