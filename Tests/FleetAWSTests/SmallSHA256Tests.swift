import Foundation
@testable import HTTPTransport
import Testing

@Suite("SHA-256 and HMAC on small inputs")
struct SmallSHA256Tests {
    /// Sizes around SHA-256's 64-byte block and its 56-byte padding limit.
    static let sizes = [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]

    static func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    }

    @Test(arguments: sizes)
    func hashIsSHA256(count: Int) {
        let input = Self.bytes(count)
        #expect(input.withUnsafeBytes(SmallSHA256.hash) == [UInt8](SHA256Digest.hash(Data(input))))
    }

    /// Keys shorter than, as long as and longer than a block (a long key is hashed first).
    @Test(arguments: [0, 20, 64, 65, 200])
    func hmacIsHMACSHA256(keyCount: Int) {
        let key = Self.bytes(keyCount).map { $0 ^ 0xA5 }
        let prepared = HMACSHA256Key(key: key)
        for count in Self.sizes {
            let message = Self.bytes(count)
            #expect(prepared.authenticate(message) == [UInt8](HMACSHA256.authenticate(Data(message), key: Data(key))))
        }
    }

    @Test func lowercaseHex() {
        #expect(String(decoding: [0x00, 0x0f, 0xa0, 0xff].lowercaseHexBytes, as: UTF8.self) == "000fa0ff")
    }
}
