import Foundation
import Hummingbird

/// Applies the `AccessPolicy` to every request before it reaches a route (so no route can forget it); refusals
/// are thrown as `APIError`s, which `APIErrorMiddleware` answers as JSON.
struct AccessControlMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: AccessPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response {
        let need = AccessPolicy.assessNeed(method: request.method, path: request.uri.path)
        switch policy.decide(need, authorization: request.headers[.authorization]) {
        case .allowed:
            return try await next(request, context)
        case .unauthorized(let message):
            throw APIError(.unauthorized, code: "unauthorized", message: message)
        case .forbidden(let message):
            throw APIError(.forbidden, code: "forbidden", message: message)
        }
    }
}
