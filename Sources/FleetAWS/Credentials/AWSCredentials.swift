import Foundation

/// An access key pair (and session token) for signing. Never prints its secrets: `description`, `debugDescription`
/// and the mirror show the access key id's last 4 characters only.
package struct AWSCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    package var accessKeyId: String
    package var secretAccessKey: String
    package var sessionToken: String?
    /// When temporary credentials stop working; nil for long-term keys.
    package var expiration: Date?
    /// Where they came from (`environment`, `shared credentials file, profile default`, `container`, `imds`, …).
    package var source: String
    /// The account the keys belong to, when the source names it (`AWS_ACCOUNT_ID`, a profile's `aws_account_id`):
    /// request budgets are then kept per account and region rather than per region.
    package var accountId: String?

    package init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil,
                source: String = "static", accountId: String? = nil) {
        self.accountId = accountId
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
        self.source = source
    }

    /// `****WXYZ`: enough to tell keys apart in logs, not enough to use one.
    package var redactedAccessKeyId: String {
        "****" + String(accessKeyId.suffix(4))
    }

    package var description: String {
        var text = "AWSCredentials(accessKeyId: \(redactedAccessKeyId), source: \(source)"
        if sessionToken != nil { text += ", sessionToken: <redacted>" }
        if let expiration { text += ", expiration: \(expiration.ISO8601Format())" }
        return text + ")"
    }

    package var debugDescription: String { description }

    package var customMirror: Mirror {
        Mirror(self, children: ["accessKeyId": redactedAccessKeyId, "source": source,
                                "expiration": expiration as Any], displayStyle: .struct)
    }

    /// True when the credentials expire within `margin` seconds of `now`.
    package func expires(within margin: TimeInterval, of now: Date) -> Bool {
        guard let expiration else { return false }
        return expiration.timeIntervalSince(now) <= margin
    }
}
