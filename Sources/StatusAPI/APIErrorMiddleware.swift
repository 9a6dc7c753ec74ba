import Foundation
import Hummingbird
import Logging
import RolloutCore

/// Turns every error (ours, the service's, Hummingbird's "no route") into a JSON error with a stable `code`.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = APIError.from(error)
            if apiError.status.code >= 500 {
                context.logger.error("request failed", metadata: [
                    "path": "\(request.uri.path)", "error": "\(CredentialRedaction.text("\(error)"))",
                ])
            }
            return try apiError.response(from: request, context: context)
        }
    }
}
