import Foundation

/// `~/.aws/credentials` and `~/.aws/config` for one profile, located as the AWS CLI does:
/// `AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`, `AWS_PROFILE` (else `default`), `~` from `HOME`.
package struct SharedConfigFiles: Sendable, Equatable {
    package var profile: String
    package var credentialsPath: String
    package var configPath: String
    /// Keys of `[profile]` in the credentials file.
    package var credentialsSection: [String: String]?
    /// Keys of `[profile <name>]` (or `[default]`) in the config file.
    package var configSection: [String: String]?

    package static func load(environment: [String: String], profile explicitProfile: String? = nil) throws
        -> SharedConfigFiles
    {
        let home = environment["HOME"] ?? NSHomeDirectory()
        func expand(_ path: String) -> String {
            path == "~" ? home : path.hasPrefix("~/") ? home + path.dropFirst(1) : path
        }
        let profile = explicitProfile ?? environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let credentialsPath = expand(environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials")
        let configPath = expand(environment["AWS_CONFIG_FILE"] ?? "~/.aws/config")
        let credentialsFile = try INIFile.load(path: credentialsPath)
        let configFile = try INIFile.load(path: configPath)
        let configSection = profile == "default"
            ? (configFile?.sections["default"] ?? configFile?.sections["profile default"])
            : configFile?.sections["profile \(profile)"]
        return SharedConfigFiles(profile: profile, credentialsPath: credentialsPath, configPath: configPath,
                                 credentialsSection: credentialsFile?.sections[profile], configSection: configSection)
    }

    /// The value of `key` for the profile: credentials file first, then config file.
    package func value(_ key: String) -> String? {
        credentialsSection?[key.lowercased()] ?? configSection?[key.lowercased()]
    }

    package var region: String? {
        configSection?["region"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Static keys of the profile in the shared credentials or config file.
package struct SharedFileCredentialsSource: AWSCredentialsSource {
    package var name: String { "shared config files (profile \(files.profile))" }
    private let files: SharedConfigFiles
    /// True when the profile was asked for explicitly (`--profile`, `AWS_PROFILE`): then it must exist.
    private let profileRequired: Bool

    package init(files: SharedConfigFiles, profileRequired: Bool) {
        self.files = files
        self.profileRequired = profileRequired
    }

    package func loadCredentials() async throws -> AWSCredentials? {
        let keyId = files.value("aws_access_key_id")
        let secret = files.value("aws_secret_access_key")
        switch (keyId, secret) {
        case (let keyId?, let secret?):
            let token = files.value("aws_session_token").flatMap { $0.isEmpty ? nil : $0 }
            return AWSCredentials(accessKeyId: keyId, secretAccessKey: secret, sessionToken: token,
                                  source: "shared config files, profile \(files.profile)",
                                  accountId: files.value("aws_account_id").flatMap { $0.isEmpty ? nil : $0 })
        case (nil, nil):
            if files.credentialsSection == nil && files.configSection == nil {
                if profileRequired {
                    throw CredentialsError("profile \(files.profile) not found in \(files.credentialsPath) or \(files.configPath)")
                }
                return nil
            }
            if files.value("role_arn") != nil || files.value("sso_session") != nil || files.value("sso_start_url") != nil
                || files.value("credential_process") != nil || files.value("web_identity_token_file") != nil
            {
                throw CredentialsError("profile \(files.profile) uses role_arn / SSO / credential_process, which rollout does not support: export keys (e.g. `aws configure export-credentials --format env`)")
            }
            return nil
        default:
            throw CredentialsError("profile \(files.profile) has only one of aws_access_key_id / aws_secret_access_key")
        }
    }
}
