import Foundation
import HTTPTransport

/// SigV4 signing keys, derived once per secret, day, region and service (four HMACs) and kept as ready HMAC states,
/// as the AWS SDKs keep them: a worker signs thousands of requests a day with the same key. Bounded.
final class SigningKeys: @unchecked Sendable {
    static let shared = SigningKeys()
    static let keysMax = 64

    private struct Scope: Hashable {
        var secret: String
        var day: String
        var region: String
        var service: String
    }

    private let lock = NSLock()
    private var keys: [Scope: HMACSHA256Key] = [:]

    func key(secret: String, day: String, region: String, service: String) -> HMACSHA256Key {
        let scope = Scope(secret: secret, day: day, region: region, service: service)
        if let known = lock.withLock({ keys[scope] }) { return known }
        let key = HMACSHA256Key(key: Self.derive(secret: secret, day: day, region: region, service: service))
        lock.withLock {
            if keys.count >= Self.keysMax { keys.removeAll() }  // yesterday's keys, or credentials rotated away
            keys[scope] = key
        }
        return key
    }

    /// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request")`.
    static func derive(secret: String, day: String, region: String, service: String) -> [UInt8] {
        var key = Array("AWS4\(secret)".utf8)
        for part in [day, region, service, "aws4_request"] {
            key = HMACSHA256Key(key: key).authenticate(Array(part.utf8))
        }
        return key
    }
}
