import Foundation
@testable import HTTPTransport
import Testing

@testable import FleetAWS

@Suite("SigV4 signing keys")
struct SigningKeysTests {
    /// The derivation as AWS documents it, one HMAC at a time.
    static func documented(secret: String, day: String, region: String, service: String) -> [UInt8] {
        var key = Data("AWS4\(secret)".utf8)
        for part in [day, region, service, "aws4_request"] { key = HMACSHA256.authenticate(part, key: key) }
        return [UInt8](key)
    }

    @Test func derivedAsDocumented() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        #expect(SigningKeys.derive(secret: secret, day: "20150830", region: "us-east-1", service: "iam")
                == Self.documented(secret: secret, day: "20150830", region: "us-east-1", service: "iam"))
        // AWS's published example key (Signature Version 4 documentation, "Deriving the signing key").
        let hex = String(decoding: SigningKeys.derive(secret: secret, day: "20150830", region: "us-east-1",
                                                      service: "iam").lowercaseHexBytes, as: UTF8.self)
        #expect(hex == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
    }

    /// A cached key signs as a freshly derived one, for each scope, also after the cache started over.
    @Test func cachedKeysSignAsFreshOnes() {
        let keys = SigningKeys()
        let message = Array("AWS4-HMAC-SHA256\n20260105T120000Z\nscope\nhash".utf8)
        for round in 0..<2 {
            for index in 0..<(SigningKeys.keysMax + 5) {
                let secret = "secret-\(index)"
                let expected = HMACSHA256Key(key: Self.documented(secret: secret, day: "20260105", region: "eu-west-1",
                                                                  service: "iot")).authenticate(message)
                let key = keys.key(secret: secret, day: "20260105", region: "eu-west-1", service: "iot")
                #expect(key.authenticate(message) == expected, "round \(round), key \(index)")
            }
        }
    }
}
