import Engine
import Foundation
import HTTPTransport
import RolloutCore
import RolloutText

/// The `Notifier` of the worker: POSTs each notification as JSON (sorted keys: `kind`, `phase`, `rolloutId`,
/// `stage`, `text`; `text` makes it a valid Slack incoming-webhook message) to every target.
///
/// One attempt per target per call: when any target answers non-2xx or cannot be reached, `send` throws and the
/// engine tries again later, a bounded number of times, then drops the notification (it never blocks a rollout).
/// A retry goes to every target again, so a target that did answer may see the message twice (at least once).
/// Errors name the webhook's scheme, host and port only (`CredentialRedaction.webhookURL`): a Slack webhook URL's
/// path is its secret.
package struct WebhookNotifier: Notifier {
    let transport: any HTTPTransport

    /// - Parameter transport: nil for a libcurl transport (5 s to connect, 10 s per request, 64 KB answers at most).
    package init(transport: (any HTTPTransport)? = nil) {
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

    package static func encode(_ notification: RolloutNotification) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(Payload(kind: notification.kind.rawValue, rolloutId: notification.rolloutId,
                                          stage: notification.stage, phase: notification.phase.rawValue,
                                          text: CredentialRedaction.text(RolloutText.notification(notification))))
    }

    package func send(_ notification: RolloutNotification, to targets: [WebhookTarget]) async throws {
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
