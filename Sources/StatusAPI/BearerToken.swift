import Foundation

/// Checks `Authorization: Bearer <token>` without leaking the token through timing.
struct BearerToken: Sendable {
    let secret: [UInt8]

    init(_ token: String) {
        secret = Array(token.utf8)
    }

    /// True when `header` is `Bearer <the token>` (scheme case-insensitive, as RFC 6750 allows).
    func accepts(authorizationHeader header: String?) -> Bool {
        guard let header else { return false }
        let prefix = "bearer "
        guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix else { return false }
        let presented = Array(header.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces).utf8)
        return Self.constantTimeEqual(presented, secret)
    }

    /// Compares every byte of the longer input whatever the first difference; only the lengths' equality leaks.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt(lhs.count ^ rhs.count)
        let length = max(lhs.count, rhs.count)
        for index in 0..<length {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            difference |= UInt(left ^ right)
        }
        return difference == 0
    }
}
