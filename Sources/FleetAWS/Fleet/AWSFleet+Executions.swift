import Engine
import Foundation
import RolloutCore

/// One device's execution: DescribeJobExecution and CancelJobExecution (`rollout device`).
extension AWSFleet {
    package func execution(jobId: String, thing: String) async throws -> DeviceExecution? {
        try await mapped("execution of job \(jobId) on \(thing)") {
            do {
                let execution = try await configuration.iotClient().describeJobExecution(jobId: jobId, thing: thing)
                return AWSFleet.deviceExecution(execution, jobId: jobId)
            } catch let error where FleetErrorMapping.isNotFound(error) {
                return nil
            }
        }
    }

    /// Reads the execution first: one that is over, absent, or (without `force`) already installing is left as it
    /// is (AWS refuses to cancel those without force, and a repeat after a lost answer must succeed).
    package func cancelExecution(jobId: String, thing: String, force: Bool) async throws {
        try await mapped("cancel of job \(jobId) on \(thing)") {
            let iot = configuration.iotClient()
            let current: IoTJobExecution
            do {
                current = try await iot.describeJobExecution(jobId: jobId, thing: thing)
            } catch let error where FleetErrorMapping.isNotFound(error) {
                return
            }
            switch current.status.flatMap(ExecutionStatus.init(rawValue:)) {
            case .queued?: break
            case .inProgress? where force: break
            default:
                logger.info("execution of job \(jobId) on \(thing) is \(current.status ?? "unknown"); not cancelled")
                return
            }
            do {
                try await iot.cancelJobExecution(jobId: jobId, thing: thing, force: force)
                logger.info("cancelled the execution of job \(jobId) on \(thing)\(force ? " (forced)" : "")")
            } catch let error where FleetErrorMapping.isNotFound(error) {
                return
            } catch let error as AWSError where !error.isRetryable {
                // The device moved meanwhile (InvalidStateTransition): done, unless it is still waiting to start.
                let now = try? await iot.describeJobExecution(jobId: jobId, thing: thing)
                if now?.status != ExecutionStatus.queued.rawValue { return }
                throw error
            }
        }
    }

    static func deviceExecution(_ execution: IoTJobExecution, jobId: String) -> DeviceExecution {
        func date(_ seconds: Double?) -> Date? { seconds.map(Date.init(timeIntervalSince1970:)) }
        let details = (execution.statusDetails?.detailsMap ?? [:]).sorted { $0.key < $1.key }.prefix(10)
        return DeviceExecution(jobId: execution.jobId ?? jobId,
                               status: execution.status.flatMap(ExecutionStatus.init(rawValue:)) ?? .queued,
                               statusDetails: Dictionary(uniqueKeysWithValues: details.map { ($0.key, $0.value) }),
                               versionNumber: execution.versionNumber.map { Int($0) }, queuedAt: date(execution.queuedAt),
                               startedAt: date(execution.startedAt), lastUpdatedAt: date(execution.lastUpdatedAt))
    }
}
