/// Where a firmware image was put and what it is; recorded in the rollout's event log.
public struct StagedArtifact: Codable, Sendable, Equatable {
    public var version: String
    /// URL devices download from (on AWS the presigned-URL placeholder is built from bucket and key).
    public var url: String
    public var bucket: String?
    public var key: String?
    public var sha256Hex: String
    public var sizeBytes: Int64
    /// Base64 DER ECDSA signature over the image, when the plan names a signing key.
    public var signatureBase64: String?

    public init(version: String, url: String, bucket: String? = nil, key: String? = nil, sha256Hex: String,
                sizeBytes: Int64, signatureBase64: String? = nil) {
        self.version = version
        self.url = url
        self.bucket = bucket
        self.key = key
        self.sha256Hex = sha256Hex
        self.sizeBytes = sizeBytes
        self.signatureBase64 = signatureBase64
    }
}
