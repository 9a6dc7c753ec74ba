/// What a device receives in a job: compatible with the firmware-update documents of the AWS IoT guides.
///
/// These are the job's facts; `JobDocumentRenderer` makes the bytes in the plan's shape (`job.document`), this
/// struct's own JSON with sorted keys being the default `aws-ota` shape, so the same rollout always produces
/// byte-identical documents (and S3 keys).
package struct JobDocument: Codable, Equatable, Sendable {
    package var operation: String
    package var version: String
    package var previousVersion: String?
    /// On AWS: `${aws:iot:s3-presigned-url:https://s3.<region>.amazonaws.com/<bucket>/<key>}`.
    package var firmwareUrl: String
    package var checksumAlgorithm: String
    package var checksum: String
    package var size: Int64
    package var signature: String?
    package var signatureAlgorithm: String?
    package var rolloutId: String
    package var stage: String
    /// What a device puts back if this release must go (the AWS OTA guide's `rollbackVersion`/`rollbackUrl`): set in
    /// a stage's document when the plan has a rollback target, absent otherwise (and in the rollback's own).
    package var rollbackVersion: String?
    package var rollbackUrl: String?

    package init(operation: String = "firmwareUpdate", version: String, previousVersion: String?, firmwareUrl: String,
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
