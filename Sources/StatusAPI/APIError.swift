import Engine
import Foundation
import Hummingbird
import RolloutCore

/// An error answered as JSON: `{"code": "...", "message": "...", "issues": [...]}` with a stable `code`.
struct APIError: HTTPResponseError, Encodable {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    /// Plan problems, for `invalid_plan`.
    let issues: [PlanIssue]?

    init(_ status: HTTPResponse.Status, code: String, message: String, issues: [PlanIssue]? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.issues = issues
    }

    enum CodingKeys: String, CodingKey {
        case code, message, issues
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONResponse.make(self, status: status)
        if status == .unauthorized {
            response.headers[.wwwAuthenticate] = #"Bearer realm="rollout""#
        }
        return response
    }

    static func notFound(_ message: String) -> APIError {
        APIError(.notFound, code: "not_found", message: message)
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(.badRequest, code: "invalid_request", message: message)
    }

    /// 400 `artifact_not_allowed`: the message names the fields and the allowed directories; one issue per field.
    static func artifactNotAllowed(_ error: ArtifactPolicyError, file: String) -> APIError {
        let fields = error.violations.map(\.field).joined(separator: ", ")
        return APIError(.badRequest, code: "artifact_not_allowed",
                        message: "\(fields): not a file under the allowed artifact directories; \(error.allowedText)",
                        issues: error.violations.map { violation in
                            PlanIssue(file: file, line: 0, column: 0, field: violation.field,
                                      message: "\(violation.description); \(error.allowedText)")
                        })
    }

    /// Maps whatever a handler or the service threw to the error the client sees.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as PlanError:
            return APIError(.badRequest, code: "invalid_plan",
                            message: "the plan is invalid (\(error.issues.count) problem\(error.issues.count == 1 ? "" : "s"))",
                            issues: error.issues)
        case let error as CommandRejected:
            return APIError(.conflict, code: "illegal_transition", message: error.reason)
        case let error as DeviceLookupError:
            switch error {
            case .invalidName: return .badRequest(error.description)
            case .notInRollout: return APIError(.notFound, code: "device_not_in_rollout", message: error.description)
            }
        case let error as SupersedeConflict:
            return APIError(.conflict, code: "release_already_rolling_out", message: error.description)
        case let error as StoreError:
            switch error {
            case .notFound: return .notFound(error.description)
            case .conflict, .fenced: return APIError(.conflict, code: "conflict", message: error.description)
            case .locked, .database: return APIError(.serviceUnavailable, code: "store_unavailable", message: error.description)
            }
        case let error as any HTTPResponseError:
            return fromStatus(error.status)
        default:
            return APIError(.internalServerError, code: "internal_error", message: "\(error)")
        }
    }

    /// Errors raised by Hummingbird itself (no route, body too large, …).
    static func fromStatus(_ status: HTTPResponse.Status) -> APIError {
        switch status {
        case .notFound: return .notFound("no such resource")
        case .methodNotAllowed: return APIError(status, code: "method_not_allowed", message: "method not allowed here")
        case .contentTooLarge: return APIError(status, code: "body_too_large", message: "the request body is too large")
        case .unauthorized: return APIError(status, code: "unauthorized", message: "a bearer token is required")
        case .forbidden: return APIError(status, code: "forbidden", message: "this token may not make this call")
        case .badRequest: return .badRequest("the request is malformed")
        default:
            let code = status.code < 500 ? "request_failed" : "internal_error"
            return APIError(status, code: code, message: status.reasonPhrase)
        }
    }
}
