import CCrypto
import Foundation

/// Incremental SHA-256 over OpenSSL's EVP digest API, so a 500 MB image can be hashed while it streams.
package struct SHA256Digest: ~Copyable {
    private let context: OpaquePointer

    package init() {
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed: out of memory") }
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else { fatalError("EVP_DigestInit_ex(SHA-256) failed") }
        self.context = context
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, let base = bytes.baseAddress else { return }
        let ok = EVP_DigestUpdate(context, base, bytes.count)
        precondition(ok == 1, "EVP_DigestUpdate failed")
    }

    package mutating func update(_ data: Data) {
        data.withUnsafeBytes { update($0) }
    }

    /// The 32-byte digest; the hasher cannot be used afterwards.
    package consuming func finalize() -> Data {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = EVP_DigestFinal_ex(context, &output, &length)
        precondition(ok == 1 && length == 32, "EVP_DigestFinal_ex failed")
        return Data(output.prefix(Int(length)))
    }

    package static func hash(_ data: Data) -> Data {
        var digest = SHA256Digest()
        digest.update(data)
        return digest.finalize()
    }

    package static func hash(_ string: String) -> Data {
        hash(Data(string.utf8))
    }

    /// Hashes a file in 1 MiB chunks; returns the digest and the number of bytes read.
    package static func hashFile(atPath path: String) throws -> (digest: Data, size: Int64) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FileReadError(path: path, reason: "cannot open for reading")
        }
        defer { try? handle.close() }
        var digest = SHA256Digest()
        var size: Int64 = 0
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            size += Int64(chunk.count)
            digest.update(chunk)
        }
        return (digest.finalize(), size)
    }
}

/// HMAC-SHA256 (one shot), used to derive SigV4 signing keys and signatures.
package enum HMACSHA256 {
    package static func authenticate(_ message: Data, key: Data) -> Data {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { messageBytes in
                HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                     messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBytes.count,
                     &output, &length)
            }
        }
        precondition(result != nil && length == 32, "HMAC-SHA256 failed")
        return Data(output.prefix(Int(length)))
    }

    package static func authenticate(_ message: String, key: Data) -> Data {
        authenticate(Data(message.utf8), key: key)
    }
}

/// A local file could not be read.
package struct FileReadError: Error, Sendable, CustomStringConvertible {
    package var path: String
    package var reason: String

    package var description: String { "\(path): \(reason)" }
}

extension Data {
    /// Lowercase hexadecimal, as SigV4 and the job document use it.
    package var lowercaseHex: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var bytes = [UInt8]()
        bytes.reserveCapacity(count * 2)
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses lowercase or uppercase hexadecimal; nil when malformed.
    package init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(utf8.count / 2)
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 65...70: return c - 55
            case 97...102: return c - 87
            default: return nil
            }
        }
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.init(bytes)
    }
}
