/// What a device receives in a job: compatible with the firmware-update documents of the AWS IoT guides.
///
/// Encoded with sorted keys so the same rollout always produces byte-identical documents (and S3 keys).
public struct JobDocument: Codable, Equatable, Sendable {
    public var operation: String
    public var version: String
    public var previousVersion: String?
    /// On AWS: `${aws:iot:s3-presigned-url:https://s3.<region>.amazonaws.com/<bucket>/<key>}`.
    public var firmwareUrl: String
    public var checksumAlgorithm: String
    public var checksum: String
    public var size: Int64
    public var signature: String?
    public var signatureAlgorithm: String?
    public var rolloutId: String
    public var stage: String

    public init(operation: String = "firmwareUpdate", version: String, previousVersion: String?, firmwareUrl: String,
                checksum: String, size: Int64, signature: String?, rolloutId: String, stage: String) {
        self.operation = operation
        self.version = version
        self.previousVersion = previousVersion
        self.firmwareUrl = firmwareUrl
        self.checksumAlgorithm = "SHA256"
        self.checksum = checksum
        self.size = size
        self.signature = signature
        self.signatureAlgorithm = signature == nil ? nil : "ECDSA-P256-SHA256"
        self.rolloutId = rolloutId
        self.stage = stage
    }
}
