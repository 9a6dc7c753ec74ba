import Engine
import HTTPTransport

/// Turns what the AWS layer throws into the engine's `FleetError`.
///
/// - `LimitExceededException` (a quota used up: concurrent or active jobs on CreateJob, …) → `.capacity`: the effect
///   waits for a slot rather than failing.
/// - Retryable AWS answers and transport failures (already retried by `AWSClient`) → `.retryable`.
/// - 404 / `ResourceNotFoundException` / `NoSuchKey` / `NoSuchBucket` → `.notFound`.
/// - 409 / `ResourceAlreadyExistsException` / `VersionConflictException` → `.conflict`.
/// - Any other 4xx, checksum mismatches, unreadable files, bad keys → `.permanent("Code: message")`.
enum FleetErrorMapping {
    static let notFoundCodes: Set<String> = ["ResourceNotFoundException", "NoSuchKey", "NoSuchBucket", "NotFound",
                                             "NoSuchVersion"]
    static let conflictCodes: Set<String> = ["ResourceAlreadyExistsException", "VersionConflictException",
                                             "ConflictException", "Conflict"]

    static func map(_ error: Error, context: String) -> FleetError {
        switch error {
        case let error as FleetError:
            return error
        case let error as AWSError:
            let text = "\(context): \(error.code): \(error.message)"
            if error.isLimitExceeded { return .capacity(capacityWait(error, detail: text)) }
            if error.isRetryable { return .retryable(text, retryAfterSeconds: error.retryAfterSeconds) }
            if notFoundCodes.contains(error.code) || error.status == 404 { return .notFound(text) }
            if conflictCodes.contains(error.code) || error.status == 409 { return .conflict(text) }
            return .permanent(text)
        case let error as TransportError:
            let text = "\(context): \(error)"
            return error.isRetryable ? .retryable(text, retryAfterSeconds: nil) : .permanent(text)
        case let error as CredentialsError:
            // An unreachable container/IMDS endpoint may come back; a missing configuration will not.
            let text = "\(context): \(error)"
            return error.message.contains("unreachable") ? .retryable(text, retryAfterSeconds: nil) : .permanent(text)
        case is CancellationError:
            return .retryable("\(context): cancelled", retryAfterSeconds: nil)
        default:
            return .permanent("\(context): \(error)")
        }
    }

    /// What a used-up quota waits for, and what a person can run meanwhile, by the operation AWS refused.
    static func capacityWait(_ error: AWSError, detail: String) -> FleetCapacityWait {
        switch error.operation {
        case "CreateJob":
            return FleetCapacityWait(
                resource: .jobSlot, detail: detail,
                remedy: "the account's concurrent or active jobs are at their quota; it frees as jobs finish rolling out "
                    + "(`aws iot list-jobs --status IN_PROGRESS` lists them), or raise it "
                    + "(`aws service-quotas request-service-quota-increase --service-code iot --quota-code L-FBF5CD89 "
                    + "--desired-value N`)",
                retryAfterSeconds: error.retryAfterSeconds)
        case let operation:
            let name = operation ?? "AWS"
            return FleetCapacityWait(
                resource: .quota(name), detail: detail,
                remedy: "an AWS quota of the account is used up; see `aws service-quotas list-service-quotas "
                    + "--service-code iot` and free or raise it",
                retryAfterSeconds: error.retryAfterSeconds)
        }
    }

    static func isNotFound(_ error: Error) -> Bool {
        guard let error = error as? AWSError else { return false }
        return notFoundCodes.contains(error.code) || error.status == 404
    }

    static func isAlreadyExists(_ error: Error) -> Bool {
        guard let error = error as? AWSError else { return false }
        return error.code == "ResourceAlreadyExistsException" || error.status == 409
    }
}
