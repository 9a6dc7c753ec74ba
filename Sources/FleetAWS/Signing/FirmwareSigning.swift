import CCrypto
import Foundation

/// ECDSA P-256 / SHA-256 signatures of firmware images (DER, carried base64 in the job document), over OpenSSL EVP.
/// Files are read in 1 MiB chunks, so any size signs in bounded memory.
package enum FirmwareSigning {
    package static let algorithm = "ECDSA-P256-SHA256"

    /// Signs the file with a PEM private key (PKCS#8 or SEC1 `EC PRIVATE KEY`); returns the DER signature.
    package static func sign(filePath: String, privateKeyPEMPath: String) throws -> Data {
        let signer = try FirmwareSigner(privateKeyPEM: try readFile(privateKeyPEMPath, what: "private key"))
        try forEachChunk(ofFile: filePath) { signer.update($0) }
        return try signer.finish()
    }

    /// True when `signature` (DER) is a valid signature of the file by the PEM public key's owner.
    package static func verify(filePath: String, signature: Data, publicKeyPEM: Data) throws -> Bool {
        let key = try loadKey(publicKeyPEM, isPrivate: false)
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { throw FirmwareSigningError("out of memory") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, EVP_sha256(), nil, key) == 1 else {
            throw FirmwareSigningError("cannot start verification: \(openSSLError())")
        }
        try forEachChunk(ofFile: filePath) { chunk in
            chunk.withUnsafeBytes { _ = EVP_DigestVerifyUpdate(context, $0.baseAddress, $0.count) }
        }
        let result = signature.withUnsafeBytes { raw in
            EVP_DigestVerifyFinal(context, raw.baseAddress?.assumingMemoryBound(to: UInt8.self), raw.count)
        }
        ERR_clear_error()
        return result == 1
    }

    /// A new P-256 key pair as PEM: PKCS#8 private key and SubjectPublicKeyInfo public key.
    package static func generateKeyPair() throws -> (privateKeyPEM: Data, publicKeyPEM: Data) {
        guard let key = rollout_evp_ec_generate_p256() else {
            throw FirmwareSigningError("key generation failed: \(openSSLError())")
        }
        defer { EVP_PKEY_free(key) }
        let privatePEM = try withMemoryBIO { bio in PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil) == 1 }
        let publicPEM = try withMemoryBIO { bio in PEM_write_bio_PUBKEY(bio, key) == 1 }
        return (privatePEM, publicPEM)
    }

    /// The PEM public key of a PEM private key.
    package static func publicKeyPEM(ofPrivateKeyPEM pem: Data) throws -> Data {
        let key = try loadKey(pem, isPrivate: true)
        defer { EVP_PKEY_free(key) }
        return try withMemoryBIO { bio in PEM_write_bio_PUBKEY(bio, key) == 1 }
    }

    // MARK: - OpenSSL plumbing

    /// Parses a PEM key and checks that it is an EC key on P-256.
    static func loadKey(_ pem: Data, isPrivate: Bool) throws -> OpaquePointer {
        let key: OpaquePointer? = pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return isPrivate ? PEM_read_bio_PrivateKey(bio, nil, nil, nil) : PEM_read_bio_PUBKEY(bio, nil, nil, nil)
        }
        guard let key else {
            throw FirmwareSigningError("not a PEM \(isPrivate ? "private" : "public") key: \(openSSLError())")
        }
        var nameBuffer = [CChar](repeating: 0, count: 64)
        var nameLength = 0
        let isEC = EVP_PKEY_get_base_id(key) == EVP_PKEY_EC
        let hasGroup = isEC && EVP_PKEY_get_group_name(key, &nameBuffer, nameBuffer.count, &nameLength) == 1
        let group = String(decoding: nameBuffer.prefix(nameLength).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard hasGroup, group == "prime256v1" || group == "P-256" else {
            EVP_PKEY_free(key)
            throw FirmwareSigningError("the key must be an EC P-256 key (found \(isEC ? "EC \(group)" : "a non-EC key"))")
        }
        return key
    }

    static func withMemoryBIO(_ write: (OpaquePointer) -> Bool) throws -> Data {
        guard let bio = BIO_new(BIO_s_mem()) else { throw FirmwareSigningError("out of memory") }
        defer { BIO_free(bio) }
        guard write(bio) else { throw FirmwareSigningError("PEM encoding failed: \(openSSLError())") }
        var pointer: UnsafeMutablePointer<CChar>?
        let length = rollout_bio_get_mem_data(bio, &pointer)
        guard let pointer, length > 0 else { throw FirmwareSigningError("PEM encoding produced nothing") }
        return Data(bytes: pointer, count: length)
    }

    static func openSSLError() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return "unknown OpenSSL error" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func readFile(_ path: String, what: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FirmwareSigningError("cannot read \(what) \(path)")
        }
        return data
    }

    static func forEachChunk(ofFile path: String, _ body: (Data) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FirmwareSigningError("cannot read firmware \(path)")
        }
        defer { try? handle.close() }
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { return }
            try body(chunk)
        }
    }
}

/// Incremental ECDSA P-256 signer: feed the image chunk by chunk (from a file or an S3 range read), then `finish`.
package final class FirmwareSigner {
    private let key: OpaquePointer
    private let context: OpaquePointer

    package init(privateKeyPEM: Data) throws {
        key = try FirmwareSigning.loadKey(privateKeyPEM, isPrivate: true)
        guard let context = EVP_MD_CTX_new() else {
            EVP_PKEY_free(key)
            throw FirmwareSigningError("out of memory")
        }
        self.context = context
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key) == 1 else {
            throw FirmwareSigningError("cannot start signing: \(FirmwareSigning.openSSLError())")
        }
    }

    deinit {
        EVP_MD_CTX_free(context)
        EVP_PKEY_free(key)
    }

    package func update(_ data: Data) {
        data.withUnsafeBytes { raw in
            guard raw.count > 0 else { return }
            let ok = EVP_DigestSignUpdate(context, raw.baseAddress, raw.count)
            precondition(ok == 1, "EVP_DigestSignUpdate failed")
        }
    }

    /// The DER signature; the signer cannot be fed afterwards.
    package func finish() throws -> Data {
        var length = 0
        guard EVP_DigestSignFinal(context, nil, &length) == 1 else {
            throw FirmwareSigningError("signing failed: \(FirmwareSigning.openSSLError())")
        }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSignFinal(context, &signature, &length) == 1 else {
            throw FirmwareSigningError("signing failed: \(FirmwareSigning.openSSLError())")
        }
        return Data(signature.prefix(length))
    }
}

/// Signing or verification could not be done (unreadable key or file, wrong key type).
package struct FirmwareSigningError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String

    package init(_ message: String) {
        self.message = message
    }

    package var description: String { message }
}
