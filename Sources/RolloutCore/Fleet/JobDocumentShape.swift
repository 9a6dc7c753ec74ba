import Foundation

/// The shape of the job document a plan's devices expect (`job.document`).
package enum JobDocumentShape: Codable, Equatable, Sendable {
    /// The AWS IoT OTA guides' firmware-update document (`JobDocument`'s fields; the default).
    case awsOTA
    /// The nRF Asset Tracker's FOTA document: `operation: app_fw_update`, `size`, `filename`,
    /// `location {protocol, host, path}`, `fwversion`.
    case nrfFOTA
    /// A JSON template of the plan's own, read when the plan was loaded (`path` for messages), with placeholders.
    case template(path: String, text: String)

    /// `aws-ota`, `nrf-fota` or the template's path.
    package var name: String {
        switch self {
        case .awsOTA: return "aws-ota"
        case .nrfFOTA: return "nrf-fota"
        case .template(let path, _): return path
        }
    }
}
