import Engine
import Foundation
import HTTPTransport
import RolloutCore
import RolloutText

/// A plain `http(s)://` URL from a plan, turned into an `HTTPRequest`, with masked forms for messages.
struct PlainHTTPTarget: Sendable {
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    /// The URL as the plan wrote it (for the masked forms only; requests use the parts below).
    var text: String
    var scheme: String
    var host: String
    var port: Int?
    var path: String
    var query: [QueryItem]
    var basicAuthorization: String?
    /// Parts of the URL that may be secret (query, user info), masked in every message.
    var secrets: [String] = []

    init(_ text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw Invalid(description: "not a URL")
        }
        guard scheme == "http" || scheme == "https" else {
            throw Invalid(description: "URL scheme `\(scheme)` is not supported (http or https)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw Invalid(description: "URL has no host")
        }
        self.text = text
        self.scheme = scheme
        self.host = host
        self.port = components.port
        self.path = components.path.isEmpty ? "/" : components.path
        self.query = (components.queryItems ?? []).map { QueryItem($0.name, $0.value ?? "") }
        secrets = [components.percentEncodedQuery, components.query, components.percentEncodedUser,
                   components.percentEncodedPassword, components.user, components.password]
            .compactMap { $0 }.filter { !$0.isEmpty }
        if let user = components.user {
            basicAuthorization = "Basic " + Data("\(user):\(components.password ?? "")".utf8).base64EncodedString()
        }
    }

    func request(method: String, body: Data? = nil) -> HTTPRequest {
        var request = HTTPRequest(method: method, scheme: scheme, host: host, port: port, path: path, query: query,
                                  body: body.map { .data($0) } ?? .empty)
        request.headers["User-Agent"] = "rollout"
        if let basicAuthorization { request.headers["Authorization"] = basicAuthorization }
        return request
    }

    /// The URL with user info and query values masked, for a metric source's messages.
    var shown: String {
        CredentialRedaction.url(text)
    }

    /// Scheme, host and port, the path masked: a webhook's path may be its secret.
    var shownAsWebhook: String {
        CredentialRedaction.webhookURL(text)
    }

    /// A transport failure in words, with the secret parts of the URL masked (curl's messages may quote it).
    func describe(_ error: TransportError, hidingPath: Bool = false) -> String {
        let kind: String
        switch error.kind {
        case .timeout: kind = "timed out"
        case .connection: kind = "could not connect"
        case .answerLost: kind = "the connection broke before a complete answer"
        case .responseTooLarge: kind = "response too large"
        case .bodyRead: kind = "request body could not be sent"
        case .setup: kind = "request could not be made"
        }
        var detail = error.message
        for secret in secrets + (hidingPath && path.count > 1 ? [path] : []) {
            detail = detail.replacingOccurrences(of: secret, with: CredentialRedaction.mask)
        }
        return "\(kind) (\(CredentialRedaction.text(detail)))"
    }
}
