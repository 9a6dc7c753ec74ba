import Foundation
import RolloutCore

/// The devices and their job service: AWS IoT Jobs + S3 (`FleetAWS`) or the simulated fleet (`FleetSim`).
///
/// Every verb is idempotent: the engine may call it again after a crash with the same arguments,
/// and the second call must succeed without doing the work twice (deterministic job ids, content-addressed keys).
/// Errors thrown are `FleetError`, so the engine can tell retryable from permanent failures.
///
/// The verbs are `nonisolated(nonsending)`: an implementation that declares them so (the simulated fleet, whose calls
/// take microseconds) runs on the engine's own thread, without a hop to the cooperative pool and back per call;
/// one that does not (AWS: network calls) runs on the pool, as any async function.
package protocol Fleet: Sendable {
    /// `sim` or `aws`; shown to users and stored with the rollout.
    var kind: String { get }

    /// Every device of `selection` that the rollout may target (selector and exclusions applied), in a stable order.
    nonisolated(nonsending) func inventory(_ selection: FleetSelection) async throws -> DeviceInventory

    /// The ids of the members of an existing thing group.
    nonisolated(nonsending) func groupMembers(_ group: String) async throws -> [String]

    /// The fleet's ring set (`<group>-ring-NN` groups made by `rollout rings sync`) and each member's ring, or nil
    /// when the fleet has none.
    nonisolated(nonsending) func ringMembership(fleetGroup: String) async throws -> RingMembership?

    /// Makes a firmware image available to devices (uploads it to its content-addressed key); returns where it is
    /// and its digest. Skips the upload when an object with the same SHA-256 is already there.
    nonisolated(nonsending) func stageArtifact(_ artifact: ArtifactRequest) async throws -> StagedArtifact

    /// Creates the job for a stage. If a job with `request.jobId` already exists and matches, adopts it;
    /// if it exists and differs, throws `FleetError.conflict`.
    nonisolated(nonsending) func createJob(_ request: JobRequest) async throws

    /// Execution counts of a job (O(1) on AWS: `DescribeJob.jobProcessDetails`).
    nonisolated(nonsending) func jobProgress(jobId: String) async throws -> JobProgress

    /// The devices whose execution of `jobId` has one of `statuses` (paginated on AWS).
    nonisolated(nonsending) func devices(jobId: String, statuses: Set<ExecutionStatus>) async throws -> [String]

    /// The rollback set of a stage's job: devices whose execution succeeded, is in progress, timed out (a device
    /// that went silent mid-install may have written the image), or was cancelled after it started (a forced
    /// cancel stops a device mid-install: it may hold a half-written image). On AWS: SUCCEEDED, IN_PROGRESS,
    /// TIMED_OUT, and CANCELED executions with a `startedAt`. The same set whether the cancel was forced or not.
    nonisolated(nonsending) func devicesThatMayHoldFirmware(jobId: String) async throws -> [String]

    /// Cancels a job; cancelling a job that is already cancelled or completed succeeds.
    nonisolated(nonsending) func cancelJob(jobId: String, reason: String, force: Bool) async throws

    /// One device's execution of a job; nil when the job has none for it (or the job does not exist).
    nonisolated(nonsending) func execution(jobId: String, thing: String) async throws -> DeviceExecution?

    /// Cancels one device's execution (`force`: also while it installs). An execution that is already over, or
    /// absent, counts as cancelled: the call succeeds.
    nonisolated(nonsending) func cancelExecution(jobId: String, thing: String, force: Bool) async throws

    /// Removes what the rollout created for a stage beyond the job itself (temporary thing groups). Idempotent.
    nonisolated(nonsending) func cleanUp(rolloutId: String, jobId: String) async throws

    /// Deletes an ended rollout's jobs and their job-document copies (`aws.retention`, `rollout cleanup
    /// --older-than`), a bounded number at a time (`JobDeletion`); returns true once every one is gone. Called again
    /// until then. Firmware objects are kept (content-addressed, maybe shared). Idempotent.
    nonisolated(nonsending) func purgeJobs(rolloutId: String, jobIds: [String], aws: AWSPlanSettings?) async throws -> Bool

    /// What `cleanUp` would remove for a job, as names people recognise (`thing group rollout-…`): for
    /// `rollout cleanup`, which lists and removes what older versions left behind. Read-only.
    nonisolated(nonsending) func temporaryResources(rolloutId: String, jobId: String) async throws -> [String]

    /// Calls, throttled answers and budget use per API since start, for `/metrics` (empty when the fleet keeps
    /// no budget).
    func apiUsage() -> [FleetAPIUsage]

    /// Several workers share the account's API quotas: from now on this worker uses `1/workers` of each rate, so
    /// that together they stay within it. Called after every coordination round (workers come and go).
    func shareAPIBudget(among workers: Int)
}

extension Fleet {
    package func apiUsage() -> [FleetAPIUsage] { [] }
    /// A fleet that keeps no budget has nothing to share.
    package func shareAPIBudget(among workers: Int) {}
}

/// Devices eligible for a rollout, in a `DeviceIdList` so a million of them stay compact.
package struct DeviceInventory: Sendable, Equatable {
    package var deviceIds: DeviceIdList

    package init(deviceIds: DeviceIdList) {
        self.deviceIds = deviceIds
    }
}

/// A firmware image to make available to devices.
package struct ArtifactRequest: Sendable, Equatable {
    package var rolloutId: String
    package var firmware: String
    package var version: String
    package var location: ArtifactLocation
    /// PEM private key path: when set the staged artifact carries an ECDSA P-256 signature of the image.
    package var signingKeyPath: String?
    /// Bucket and presigning settings from the plan (required by the AWS fleet, ignored by the simulated one).
    package var aws: AWSPlanSettings?

    package init(rolloutId: String, firmware: String, version: String, location: ArtifactLocation,
                signingKeyPath: String? = nil, aws: AWSPlanSettings? = nil) {
        self.aws = aws
        self.rolloutId = rolloutId
        self.firmware = firmware
        self.version = version
        self.location = location
        self.signingKeyPath = signingKeyPath
    }
}

/// Everything the fleet needs to create one stage's job.
package struct JobRequest: Sendable, Equatable {
    package var rolloutId: String
    /// `<rollout id>-<stage>`: 1–64 chars of `[a-zA-Z0-9_-]`.
    package var jobId: String
    package var stage: String
    package var targets: JobTargets
    package var document: JobDocument
    package var settings: JobSettings
    /// Bucket and presigning settings from the plan (required by the AWS fleet, ignored by the simulated one).
    package var aws: AWSPlanSettings?
    /// When the fleet itself stops the job's queued executions (AWS `abortConfig`), even with the worker down.
    package var abortCriteria: [JobAbortCriterion]
    /// Create the job from this AWS IoT job template (its document) instead of `document` (AWS fleet only).
    package var templateArn: String?

    package init(rolloutId: String, jobId: String, stage: String, targets: JobTargets, document: JobDocument,
                settings: JobSettings, aws: AWSPlanSettings? = nil, abortCriteria: [JobAbortCriterion] = []) {
        self.aws = aws
        self.abortCriteria = abortCriteria
        self.rolloutId = rolloutId
        self.jobId = jobId
        self.stage = stage
        self.targets = targets
        self.document = document
        self.settings = settings
    }
}

package enum JobTargets: Sendable, Equatable {
    /// Individual devices (the fleet may put them in a temporary group when there are many).
    case devices(DeviceIdList)
    /// An existing thing group, targeted as a whole.
    case group(String)
    /// Several existing thing groups (ring groups), targeted as a whole: at most 100.
    case groups([String])
}

/// Why a fleet call failed, in terms the engine can act on.
package enum FleetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Throttling, 5xx, time-outs, connection resets: worth another try after `retryAfterSeconds` (if known).
    case retryable(String, retryAfterSeconds: Double?)
    /// A resource with the same deterministic id exists but differs from what was asked.
    case conflict(String)
    /// The thing named does not exist.
    case notFound(String)
    /// Anything else (AWS 4xx with its code and message, bad artifact file, …): another try would fail the same way.
    case permanent(String)
    /// A fleet quota is used up for now (no job slot free, a device in too many groups): the effect waits for
    /// capacity, retried with a capped backoff for as long as it takes, and never fails for it.
    case capacity(FleetCapacityWait)

    package var description: String {
        switch self {
        case .retryable(let message, _): return message
        case .conflict(let message): return "conflict: \(message)"
        case .notFound(let message): return "not found: \(message)"
        case .permanent(let message): return message
        case .capacity(let wait): return wait.description
        }
    }

    /// Another try may succeed: `.retryable` and `.capacity`.
    package var isRetryable: Bool {
        switch self {
        case .retryable, .capacity: return true
        case .conflict, .notFound, .permanent: return false
        }
    }
}
