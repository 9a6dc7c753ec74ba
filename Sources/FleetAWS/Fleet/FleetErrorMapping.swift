import Engine
import HTTPTransport

/// Turns what the AWS layer throws into the engine's `FleetError`.
///
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

    static func isNotFound(_ error: Error) -> Bool {
        guard let error = error as? AWSError else { return false }
        return notFoundCodes.contains(error.code) || error.status == 404
    }

    static func isAlreadyExists(_ error: Error) -> Bool {
        guard let error = error as? AWSError else { return false }
        return error.code == "ResourceAlreadyExistsException" || error.status == 409
    }
}
