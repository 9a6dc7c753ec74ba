import CCrypto

/// SHA-256 and HMAC-SHA256 of small inputs on contexts kept on the stack: no allocation and no provider lookup per
/// call (OpenSSL's EVP layer costs about a microsecond a call for those), for SigV4, which hashes and signs a few
/// hundred bytes per request. Streams and files go through `SHA256Digest`.
package enum SmallSHA256 {
    package static let digestCount = 32

    /// The digest of `bytes`.
    package static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var context = SHA256_CTX()
        rollout_sha256_init(&context)
        rollout_sha256_update(&context, bytes.baseAddress, bytes.count)
        return finish(&context)
    }

    static func finish(_ context: inout SHA256_CTX) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: digestCount) { buffer, initialized in
            rollout_sha256_final(&context, buffer.baseAddress)
            initialized = digestCount
        }
    }
}

/// An HMAC-SHA256 key with its padded inner and outer states computed once: authenticating a message then hashes
/// the message and one digest, nothing more (SigV4 signs every request with the same derived key all day).
package struct HMACSHA256Key: @unchecked Sendable {
    private var inner = SHA256_CTX()
    private var outer = SHA256_CTX()

    package init(key: [UInt8]) {
        let blockCount = 64
        var block = key.count > blockCount ? key.withUnsafeBytes(SmallSHA256.hash) : key
        block += [UInt8](repeating: 0, count: blockCount - block.count)
        let innerPad = block.map { $0 ^ 0x36 }
        let outerPad = block.map { $0 ^ 0x5c }
        rollout_sha256_init(&inner)
        innerPad.withUnsafeBytes { rollout_sha256_update(&inner, $0.baseAddress, $0.count) }
        rollout_sha256_init(&outer)
        outerPad.withUnsafeBytes { rollout_sha256_update(&outer, $0.baseAddress, $0.count) }
    }

    /// HMAC-SHA256(key, `message`).
    package func authenticate(_ message: UnsafeRawBufferPointer) -> [UInt8] {
        var context = inner
        rollout_sha256_update(&context, message.baseAddress, message.count)
        var innerDigest = SmallSHA256.finish(&context)
        context = outer
        innerDigest.withUnsafeBytes { rollout_sha256_update(&context, $0.baseAddress, $0.count) }
        innerDigest = SmallSHA256.finish(&context)
        return innerDigest
    }

    package func authenticate(_ message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes(authenticate)
    }
}

extension [UInt8] {
    /// Lowercase hexadecimal, as SigV4 writes digests and signatures (a concrete type: no generic iteration).
    package var lowercaseHexBytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count * 2) { hex, initialized in
            for (index, byte) in enumerated() {
                hex[2 * index] = hexDigit(byte >> 4)
                hex[2 * index + 1] = hexDigit(byte & 0x0F)
            }
            initialized = count * 2
        }
    }
}

@inline(__always)
private func hexDigit(_ value: UInt8) -> UInt8 {
    value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
}
