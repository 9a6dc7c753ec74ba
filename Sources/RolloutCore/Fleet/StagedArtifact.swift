/// Where a firmware image was put and what it is; recorded in the rollout's event log.
package struct StagedArtifact: Codable, Sendable, Equatable {
    package var version: String
    /// URL devices download from (on AWS the presigned-URL placeholder is built from bucket and key).
    package var url: String
    package var bucket: String?
    package var key: String?
    package var sha256Hex: String
    package var sizeBytes: Int64
    /// Base64 DER ECDSA signature over the image, when the plan names a signing key.
    package var signatureBase64: String?

    package init(version: String, url: String, bucket: String? = nil, key: String? = nil, sha256Hex: String,
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
