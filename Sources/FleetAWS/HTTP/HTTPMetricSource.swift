import Engine
import Foundation
import RolloutCore
import RolloutText

/// The `MetricSource` of the worker: HTTP GET of a metric gate's URL, then the number at the gate's JSON pointer.
///
/// Each read is bounded: a connect and a total time-out per attempt, a response size limit, and a few attempts
/// (time-outs, connection failures, 429 and 5xx are tried again after a short pause; other answers are not).
/// Whatever goes wrong becomes `MetricReading(error:)` with a reason a person can act on; the reason shows the URL
/// with its user info and query values masked (`CredentialRedaction.url`), never the headers (they may hold tokens).
///
/// A URL with user info (`https://user:password@host/…`) is read with HTTP Basic authentication.
public struct HTTPMetricSource: MetricSource {
    public struct Options: Sendable {
        public var connectTimeoutSeconds: Double
        /// One attempt, answer included.
        public var totalTimeoutSeconds: Double
        public var maxResponseBytes: Int
        /// Tries per read, the first included (1…5).
        public var attempts: Int
        /// Pause before the second attempt; doubled for each further one.
        public var retryDelaySeconds: Double

        public init(connectTimeoutSeconds: Double = 5, totalTimeoutSeconds: Double = 10, maxResponseBytes: Int = 1 << 20,
                    attempts: Int = 3, retryDelaySeconds: Double = 0.5) {
            precondition(attempts >= 1 && attempts <= 5, "attempts must be 1…5")
            precondition(maxResponseBytes > 0, "maxResponseBytes must be positive")
            precondition(connectTimeoutSeconds > 0 && totalTimeoutSeconds > 0, "time-outs must be positive")
            self.connectTimeoutSeconds = connectTimeoutSeconds
            self.totalTimeoutSeconds = totalTimeoutSeconds
            self.maxResponseBytes = maxResponseBytes
            self.attempts = attempts
            self.retryDelaySeconds = retryDelaySeconds
        }
    }

    public let options: Options
    let transport: any HTTPTransport

    /// - Parameter transport: nil for a libcurl transport with `options`' time-outs and size limit (tests inject one).
    public init(options: Options = Options(), transport: (any HTTPTransport)? = nil) {
        self.options = options
        self.transport = transport ?? CurlTransport(options: .init(
            connectTimeoutSeconds: options.connectTimeoutSeconds, totalTimeoutSeconds: options.totalTimeoutSeconds,
            maxResponseBytes: options.maxResponseBytes, threadCount: 2))
    }

    public func read(_ gate: MetricGate, rolloutId: String, stage: String) async -> MetricReading {
        let target: PlainHTTPTarget
        do {
            target = try PlainHTTPTarget(gate.url)
        } catch {
            return MetricReading(error: "\(gate.name): \(error)")
        }
        var request = target.request(method: "GET")
        request.headers["Accept"] = "application/json"
        request.headers["X-Rollout-Id"] = rolloutId
        request.headers["X-Rollout-Stage"] = stage
        let place = "GET \(target.shown)"
        var lastProblem = "no attempt made"
        for attempt in 1...options.attempts {
            if attempt > 1 {
                let delay = options.retryDelaySeconds * pow(2, Double(attempt - 2))
                try? await Task.sleep(nanoseconds: UInt64(max(0, delay) * 1_000_000_000))
            }
            let response: HTTPResponse
            do {
                response = try await transport.send(request)
            } catch let error as TransportError {
                lastProblem = target.describe(error)
                if error.isRetryable { continue }
                break
            } catch {
                lastProblem = "request failed: \(type(of: error))"
                break
            }
            if response.body.count > options.maxResponseBytes {
                lastProblem = "response larger than \(options.maxResponseBytes) bytes"
                break
            }
            guard response.isSuccess else {
                lastProblem = "HTTP \(response.status)"
                if response.status == 429 || response.status >= 500 { continue }
                break
            }
            switch JSONPointer.number(at: gate.pointer, inJSON: response.body) {
            case .success(let value):
                guard value.isFinite else { return MetricReading(error: "\(gate.name): \(place): value is not finite") }
                return MetricReading(value: value)
            case .failure(let problem):
                return MetricReading(error: "\(gate.name): \(place): \(problem.message)")
            }
        }
        let tries = options.attempts == 1 ? "" : " (\(options.attempts) attempts at most)"
        return MetricReading(error: "\(gate.name): \(place): \(lastProblem)\(tries)")
    }
}

/// The `Notifier` of the worker: POSTs each notification as JSON (sorted keys: `kind`, `phase`, `rolloutId`,
/// `stage`, `text`; `text` makes it a valid Slack incoming-webhook message) to every target.
///
/// One attempt per target per call: when any target answers non-2xx or cannot be reached, `send` throws and the
/// engine tries again later, a bounded number of times, then drops the notification (it never blocks a rollout).
/// A retry goes to every target again, so a target that did answer may see the message twice (at least once).
/// Errors name the webhook's scheme, host and port only (`CredentialRedaction.webhookURL`): a Slack webhook URL's
/// path is its secret.
public struct WebhookNotifier: Notifier {
    let transport: any HTTPTransport

    /// - Parameter transport: nil for a libcurl transport (5 s to connect, 10 s per request, 64 KB answers at most).
    public init(transport: (any HTTPTransport)? = nil) {
        self.transport = transport ?? CurlTransport(options: .init(connectTimeoutSeconds: 5, totalTimeoutSeconds: 10,
                                                                   maxResponseBytes: 64 << 10, threadCount: 2))
    }

    /// What a webhook receives: the notification's kind, ids and phase, and a Slack-compatible `text`, rendered
    /// here, at the edge, from the notification's facts, with credentials masked (`CredentialRedaction.text`):
    /// a chat channel is read by people.
    struct Payload: Encodable {
        var kind: String
        var rolloutId: String
        var stage: String?
        var phase: String
        var text: String
    }

    public static func encode(_ notification: RolloutNotification) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(Payload(kind: notification.kind.rawValue, rolloutId: notification.rolloutId,
                                          stage: notification.stage, phase: notification.phase.rawValue,
                                          text: CredentialRedaction.text(RolloutText.notification(notification))))
    }

    public func send(_ notification: RolloutNotification, to targets: [WebhookTarget]) async throws {
        guard !targets.isEmpty else { return }
        let body = try WebhookNotifier.encode(notification)
        var failures: [String] = []
        var anyRetryable = false
        for (index, target) in targets.enumerated() {
            let name = "webhook \(index + 1) of \(targets.count)"
            let endpoint: PlainHTTPTarget
            do {
                endpoint = try PlainHTTPTarget(target.url)
            } catch {
                failures.append("\(name): \(error)")
                continue
            }
            var request = endpoint.request(method: "POST", body: body)
            request.headers["Content-Type"] = "application/json"
            do {
                let response = try await transport.send(request)
                if !response.isSuccess {
                    failures.append("\(name) (\(endpoint.shownAsWebhook)): HTTP \(response.status)")
                    if response.status == 408 || response.status == 429 || response.status >= 500 { anyRetryable = true }
                }
            } catch let error as TransportError {
                failures.append("\(name) (\(endpoint.shownAsWebhook)): \(endpoint.describe(error, hidingPath: true))")
                anyRetryable = true
            } catch {
                failures.append("\(name) (\(endpoint.shownAsWebhook)): request failed")
                anyRetryable = true
            }
        }
        guard failures.isEmpty else {
            let message = "notification \(notification.kind) not delivered: " + failures.joined(separator: "; ")
            // A 4xx (wrong or revoked URL) will not heal by itself: the engine drops it without retrying.
            throw anyRetryable ? FleetError.retryable(message, retryAfterSeconds: nil) : FleetError.permanent(message)
        }
    }
}

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
