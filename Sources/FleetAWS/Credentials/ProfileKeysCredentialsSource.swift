/// Static keys of a profile in one of the two shared files: `aws_access_key_id`, `aws_secret_access_key`,
/// `aws_session_token` (optional), `aws_account_id` (optional). The AWS CLI looks at the credentials file before a
/// `credential_process`, and at the config file after it.
package struct ProfileKeysCredentialsSource: AWSCredentialsSource {
    package enum File: Sendable {
        case credentials
        case config
    }

    package var name: String { "static keys (profile \(profile), \(path))" }
    let profile: String
    let section: [String: String]
    let path: String

    /// Nil when the file has no section for the profile, or the section neither key.
    package init?(files: SharedConfigFiles, profile: String, file: File) {
        let section = file == .credentials ? files.credentialsSection(of: profile) : files.configSection(of: profile)
        guard let section, section["aws_access_key_id"] != nil || section["aws_secret_access_key"] != nil else {
            return nil
        }
        self.profile = profile
        self.section = section
        self.path = file == .credentials ? files.credentialsPath : files.configPath
    }

    package func loadCredentials() async throws -> AWSCredentials? {
        func value(_ key: String) -> String? { section[key].flatMap { $0.isEmpty ? nil : $0 } }
        guard let keyId = value("aws_access_key_id"), let secret = value("aws_secret_access_key") else {
            throw CredentialsError("profile \(profile) in \(path) has only one of aws_access_key_id / aws_secret_access_key")
        }
        return AWSCredentials(accessKeyId: keyId, secretAccessKey: secret, sessionToken: value("aws_session_token"),
                              source: "shared config files, profile \(profile)", accountId: value("aws_account_id"))
    }
}
