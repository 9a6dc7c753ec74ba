import Foundation

/// When each SSO token cache file was last renewed or tried, so that a token is renewed at most once every
/// `intervalSeconds` (30 s, as the AWS SDKs do), however often credentials are asked for while it fails.
/// One per credentials chain (held by its `CredentialsContext`, which outlives the per-load sources).
package final class SSOTokenRefreshThrottle: @unchecked Sendable {
    package static let intervalSeconds: TimeInterval = 30

    private let lock = NSLock()
    private var lastAttempt: [String: Date] = [:]

    package init() {}

    /// True, and the attempt recorded, when `path` was not tried in the last `intervalSeconds` before `now`.
    func mayAttempt(_ path: String, now: Date) -> Bool {
        lock.withLock {
            if let last = lastAttempt[path], now.timeIntervalSince(last) < SSOTokenRefreshThrottle.intervalSeconds,
               now >= last
            {
                return false
            }
            lastAttempt[path] = now
            return true
        }
    }
}
