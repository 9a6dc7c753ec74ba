extension JobDocument {
    /// The document of a deploying stage: install the release.
    package static func forStage(rolloutId: String, stage: String, release: StagedArtifact,
                                previousVersion: String?, rollback: StagedArtifact? = nil) -> JobDocument {
        var document = JobDocument(version: release.version, previousVersion: previousVersion, firmwareUrl: release.url,
                                   checksum: release.sha256Hex, size: release.sizeBytes,
                                   signature: release.signatureBase64, rolloutId: rolloutId, stage: stage)
        document.rollbackVersion = rollback?.version
        document.rollbackUrl = rollback?.url
        return document
    }

    /// The rollback document: put the previous firmware back.
    package static func forRollback(rolloutId: String, rollback: StagedArtifact, releaseVersion: String) -> JobDocument {
        JobDocument(operation: "firmwareUpdate", version: rollback.version, previousVersion: releaseVersion,
                    firmwareUrl: rollback.url, checksum: rollback.sha256Hex, size: rollback.sizeBytes,
                    signature: rollback.signatureBase64, rolloutId: rolloutId, stage: "rollback")
    }
}
