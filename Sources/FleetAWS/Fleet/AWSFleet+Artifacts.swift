import Engine
import Foundation
import HTTPTransport
import Logging
import RolloutCore

/// Artifacts: content-addressed uploads (skipped when S3 already holds the digest), `s3://` artifacts hashed in place.
extension AWSFleet {
    package func stageArtifact(_ artifact: ArtifactRequest) async throws -> StagedArtifact {
        try await mapped("artifact \(artifact.location)") {
            let aws = try requireSettings(artifact.aws)
            let region = aws.region ?? configuration.region
            let s3 = configuration.s3Client(region: region)
            let signingKey = try artifact.signingKeyPath.map {
                try FirmwareSigning.readFile($0, what: "signing key")
            }
            let bucket: String
            let key: String
            let digest: String
            let size: Int64
            var signature: Data?
            switch artifact.location {
            case .file(let path):
                let hashed = try await BlockingIO.run { try SHA256Digest.hashFile(atPath: path) }
                digest = hashed.digest.lowercaseHex
                size = hashed.size
                bucket = aws.bucket
                key = AWSFleet.firmwareKey(firmware: artifact.firmware, version: artifact.version, digest: digest)
                let existing = try await s3.headObject(bucket: bucket, key: key)
                if let existing, existing.knownSHA256Hex == digest, existing.size == size {
                    logger.info("artifact s3://\(bucket)/\(key) already staged")
                } else {
                    try await s3.putObject(bucket: bucket, key: key, filePath: path, size: size, sha256: hashed.digest,
                                           contentType: "application/octet-stream", metadata: ["sha256": digest])
                    logger.info("uploaded \(path) to s3://\(bucket)/\(key) (\(size) bytes)")
                }
                if let signingKey {
                    signature = try await BlockingIO.run {
                        let signer = try FirmwareSigner(privateKeyPEM: signingKey)
                        try FirmwareSigning.forEachChunk(ofFile: path) { signer.update($0) }
                        return try signer.finish()
                    }
                }
            case .s3(let sourceBucket, let sourceKey):
                bucket = sourceBucket
                key = sourceKey
                guard let metadata = try await s3.headObject(bucket: bucket, key: key) else {
                    throw FleetError.notFound("s3://\(bucket)/\(key)")
                }
                size = metadata.size
                if let known = metadata.knownSHA256Hex, signingKey == nil {
                    digest = known
                } else {
                    let hasher = StreamingDigest(signingKeyPEM: signingKey)
                    _ = try await s3.streamObject(bucket: bucket, key: key, size: size) { try hasher.update($0) }
                    let result = try hasher.finish()
                    digest = result.sha256Hex
                    signature = result.signature
                    if let known = metadata.knownSHA256Hex, known != digest {
                        throw FleetError.permanent("s3://\(bucket)/\(key) reads as SHA-256 \(digest) but is labelled \(known)")
                    }
                }
            }
            return StagedArtifact(version: artifact.version, url: AWSFleet.deviceURL(bucket: bucket, key: key,
                                                                                        region: region, settings: aws),
                                  bucket: bucket, key: key, sha256Hex: digest, sizeBytes: size,
                                  signatureBase64: signature?.base64EncodedString())
        }
    }

    /// Where an uploaded image lives in the bucket: content-addressed, so the same image is uploaded once.
    package static func firmwareKey(firmware: String, version: String, digest: String) -> String {
        "firmware/\(firmware)/\(version)/\(digest).bin"
    }

    /// With a presigning role: the placeholder IoT replaces by a presigned URL,
    /// `${aws:iot:s3-presigned-url:https://s3.<region>.amazonaws.com/<bucket>/<key>}`; without one, the plain URL.
    package static func deviceURL(bucket: String, key: String, region: String, settings: AWSPlanSettings) -> String {
        let plain = "https://s3.\(region).amazonaws.com\(AWSConfiguration.dnsSuffix(region))/\(bucket)/\(URIEncoding.encode(key, encodeSlash: false))"
        return settings.presignedUrlRoleArn == nil ? plain : "${aws:iot:s3-presigned-url:\(plain)}"
    }
}

/// SHA-256 and (optionally) an ECDSA signature over the same stream of chunks.
final class StreamingDigest: @unchecked Sendable {
    private var digest: SHA256Digest? = SHA256Digest()
    private let signingKeyPEM: Data?
    private var signer: FirmwareSigner?

    init(signingKeyPEM: Data?) {
        self.signingKeyPEM = signingKeyPEM
    }

    func update(_ chunk: Data) throws {
        if signer == nil, let signingKeyPEM {
            signer = try FirmwareSigner(privateKeyPEM: signingKeyPEM)
        }
        digest?.update(chunk)
        signer?.update(chunk)
    }

    func finish() throws -> (sha256Hex: String, signature: Data?) {
        if signer == nil, let signingKeyPEM {
            signer = try FirmwareSigner(privateKeyPEM: signingKeyPEM)
        }
        let finished = digest.take()!
        return (finished.finalize().lowercaseHex, try signer?.finish())
    }
}

/// Blocking file reads (hashing, signing a 500 MB image) off the cooperative pool.
enum BlockingIO {
    static let pool = BlockingThreadPool<Void>(name: "rollout-fileio", threadCount: 2) { () }

    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.run { _ in try work() }
    }
}
