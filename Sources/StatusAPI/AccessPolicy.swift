import Foundation
import Hummingbird

/// Who may call what, decided from the method, the path and the `Authorization` header alone (pure).
///
/// - `/healthz` and `/readyz` are open: probes carry no token and reveal nothing.
/// - Reads (GET, HEAD) need a token when `readsRequireToken` (the worker listens beyond loopback, or a read-only token
///   is configured): the write token or the read-only token.
/// - Everything else changes state and needs the write token when one is configured; the read-only token is
///   recognised and refused with 403, so a client learns it holds the wrong token rather than a bad one.
struct AccessPolicy: Sendable {
    enum Need: Equatable, Sendable {
        case nothing, read, write
    }

    enum Decision: Equatable, Sendable {
        case allowed
        /// No token, or one this worker does not know: 401.
        case unauthorized(String)
        /// The read-only token on a state-changing call: 403.
        case forbidden(String)
    }

    static let openPaths: Set<String> = ["/healthz", "/readyz"]

    let writeToken: BearerToken?
    let readToken: BearerToken?
    let readsRequireToken: Bool

    init(configuration: StatusServerConfiguration) {
        writeToken = configuration.token.map(BearerToken.init)
        readToken = configuration.readToken.map(BearerToken.init)
        readsRequireToken = configuration.readsRequireToken
    }

    static func assessNeed(method: HTTPRequest.Method, path: String) -> Need {
        if openPaths.contains(path) && (method == .get || method == .head) { return .nothing }
        return method == .get || method == .head ? .read : .write
    }

    func decide(_ need: Need, authorization header: String?) -> Decision {
        switch need {
        case .nothing:
            return .allowed
        case .read:
            guard readsRequireToken else { return .allowed }
            if writeToken?.accepts(authorizationHeader: header) == true || readToken?.accepts(authorizationHeader: header) == true {
                return .allowed
            }
            return .unauthorized("reading needs a token on this worker: send `Authorization: Bearer <token>` "
                                 + "with the read-only token or the write token")
        case .write:
            guard let writeToken else { return .allowed }
            if writeToken.accepts(authorizationHeader: header) { return .allowed }
            if readToken?.accepts(authorizationHeader: header) == true {
                return .forbidden("this call changes state and the read-only token cannot: send the write token "
                                  + "(the worker's --token-file or ROLLOUT_TOKEN)")
            }
            return .unauthorized("this call changes state: send `Authorization: Bearer <token>` with the write token")
        }
    }
}
