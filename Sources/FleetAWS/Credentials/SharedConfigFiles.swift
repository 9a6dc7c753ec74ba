import Foundation

/// `~/.aws/credentials` and `~/.aws/config`, located as the AWS CLI does: `AWS_SHARED_CREDENTIALS_FILE`,
/// `AWS_CONFIG_FILE`, `AWS_PROFILE` (else `default`), `~` from `HOME`. Holds every profile (a role's
/// `source_profile` names another one) and every `[sso-session NAME]` section.
package struct SharedConfigFiles: Sendable, Equatable {
    /// The selected profile.
    package var profile: String
    package var credentialsPath: String
    package var configPath: String
    package var credentialsFile: INIFile?
    package var configFile: INIFile?

    package init(profile: String, credentialsPath: String, configPath: String, credentialsFile: INIFile?,
                configFile: INIFile?) {
        self.profile = profile
        self.credentialsPath = credentialsPath
        self.configPath = configPath
        self.credentialsFile = credentialsFile
        self.configFile = configFile
    }

    package static func load(environment: [String: String], profile explicitProfile: String? = nil) throws
        -> SharedConfigFiles
    {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let profile = explicitProfile ?? environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let credentialsPath = expand(environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials", home: home)
        let configPath = expand(environment["AWS_CONFIG_FILE"] ?? "~/.aws/config", home: home)
        return SharedConfigFiles(profile: profile, credentialsPath: credentialsPath, configPath: configPath,
                                 credentialsFile: try INIFile.load(path: credentialsPath),
                                 configFile: try INIFile.load(path: configPath))
    }

    /// `~` and `~/…` from `home`, as the AWS CLI expands its file settings.
    package static func expand(_ path: String, home: String) -> String {
        path == "~" ? home : path.hasPrefix("~/") ? home + path.dropFirst(1) : path
    }

    package func credentialsSection(of name: String) -> [String: String]? {
        credentialsFile?.sections[name]
    }

    package func configSection(of name: String) -> [String: String]? {
        name == "default"
            ? (configFile?.sections["default"] ?? configFile?.sections["profile default"])
            : configFile?.sections["profile \(name)"]
    }

    /// True when either file has a section for profile `name`.
    package func hasProfile(_ name: String) -> Bool {
        credentialsSection(of: name) != nil || configSection(of: name) != nil
    }

    /// The value of `key` for profile `name` (the selected one by default): credentials file first, then config
    /// file; empty values count as unset.
    package func value(_ key: String, profile name: String? = nil) -> String? {
        let name = name ?? profile
        let key = key.lowercased()
        let found = credentialsSection(of: name)?[key] ?? configSection(of: name)?[key]
        return found.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Keys of `[sso-session NAME]` in the config file.
    package func ssoSession(_ name: String) -> [String: String]? {
        configFile?.sections["sso-session \(name)"]
    }

    package var region: String? {
        configSection(of: profile)?["region"].flatMap { $0.isEmpty ? nil : $0 }
    }
}
