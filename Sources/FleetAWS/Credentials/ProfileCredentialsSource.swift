import Foundation

/// The credentials a profile of the shared files defines, in the AWS CLI's (botocore's) order:
/// 1. `role_arn` with `source_profile` or `credential_source`: STS AssumeRole (nothing else is tried then);
/// 2. web identity: `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (+ `AWS_ROLE_SESSION_NAME`), each variable
///    overriding the profile's `web_identity_token_file` / `role_arn` / `role_session_name` (variables ignored with
///    an explicit `--profile`);
/// 3. SSO: `sso_session`, or legacy `sso_start_url`;
/// 4. static keys in the credentials file; 5. `credential_process`; 6. static keys in the config file.
///
/// A `source_profile` is resolved the same way without the environment, and its static keys come before its own
/// `role_arn` (so a profile may name itself as source to keep keys and role together). Cycles are refused, and
/// chains longer than `roleChainDepthMax` roles. The sources are worked out on every load, from the files as read
/// at start.
package struct ProfileCredentialsSource: AWSCredentialsSource {
    /// Roles assumed one after another, at most (AWS's role chaining caps sessions at an hour anyway).
    package static let roleChainDepthMax = 5
    /// `credential_source` values, as the AWS CLI names them.
    package static let credentialSourceNames = ["Environment", "Ec2InstanceMetadata", "EcsContainer"]

    package var name: String {
        path.isEmpty ? "shared config files and web identity (profile \(profile))" : "source profile \(profile)"
    }

    let files: SharedConfigFiles
    let profile: String
    /// Profiles whose role this one is the source of, the selected one first; empty for the selected profile.
    let path: [String]
    /// True when the profile was asked for explicitly (`--profile`, `AWS_PROFILE`): then it must exist.
    let required: Bool
    let context: CredentialsContext

    /// The selected profile (`files.profile`).
    package init(files: SharedConfigFiles, required: Bool, context: CredentialsContext) {
        self.init(files: files, profile: files.profile, path: [], required: required, context: context)
    }

    private init(files: SharedConfigFiles, profile: String, path: [String], required: Bool,
                 context: CredentialsContext) {
        self.files = files
        self.profile = profile
        self.path = path
        self.required = required
        self.context = context
    }

    private var isSourceProfile: Bool { !path.isEmpty }

    package func loadCredentials() async throws -> AWSCredentials? {
        for source in try sources() {
            if let credentials = try await source.loadCredentials() {
                return credentials
            }
        }
        if let parent = path.last {
            throw CredentialsError("profile \(profile), the source_profile of \(parent), has no credentials")
        }
        return nil
    }

    private func value(_ key: String) -> String? {
        files.value(key, profile: profile)
    }

    private func hasStaticKeys(_ name: String) -> Bool {
        files.value("aws_access_key_id", profile: name) != nil
            || files.value("aws_secret_access_key", profile: name) != nil
    }

    /// The sources this profile defines, in order (empty when it defines none).
    func sources() throws -> [any AWSCredentialsSource] {
        if required && !files.hasProfile(profile) {
            throw CredentialsError("profile \(profile) not found in \(files.credentialsPath) or \(files.configPath)")
        }
        if let roleArn = value("role_arn"), value("web_identity_token_file") == nil,
           !isSourceProfile || !hasStaticKeys(profile)
        {
            return [try assumeRole(roleArn)]
        }
        var sources: [any AWSCredentialsSource] = []
        if let webIdentity = try webIdentity() { sources.append(webIdentity) }
        if let sso = try sso() { sources.append(sso) }
        if let keys = ProfileKeysCredentialsSource(files: files, profile: profile, file: .credentials) {
            sources.append(keys)
        }
        if let commandLine = value("credential_process") {
            sources.append(CredentialProcessSource(profile: profile, commandLine: commandLine,
                                                   profileAccountId: value("aws_account_id"), context: context))
        }
        if let keys = ProfileKeysCredentialsSource(files: files, profile: profile, file: .config) {
            sources.append(keys)
        }
        return sources
    }

    private func assumeRole(_ roleArn: String) throws -> AssumeRoleCredentialsSource {
        guard path.count < ProfileCredentialsSource.roleChainDepthMax else {
            throw CredentialsError("profile \(files.profile): more than \(ProfileCredentialsSource.roleChainDepthMax) roles chained through source_profile (\((path + [profile]).joined(separator: " → ")))")
        }
        if value("mfa_serial") != nil {
            throw CredentialsError("profile \(profile) sets mfa_serial: rollout runs unattended and cannot ask for an MFA code; give it a role without an MFA condition, or export temporary credentials (aws configure export-credentials --profile \(profile) --format env)")
        }
        var durationSeconds: Int?
        if let text = value("duration_seconds") {
            guard let seconds = Int(text), AssumeRoleCredentialsSource.durationSecondsRange.contains(seconds) else {
                throw CredentialsError("profile \(profile): duration_seconds must be a whole number of seconds from \(AssumeRoleCredentialsSource.durationSecondsRange.lowerBound) to \(AssumeRoleCredentialsSource.durationSecondsRange.upperBound)")
            }
            durationSeconds = seconds
        }
        let source: any AWSCredentialsSource
        switch (value("source_profile"), value("credential_source")) {
        case (_?, _?):
            throw CredentialsError("profile \(profile) sets both source_profile and credential_source")
        case (nil, nil):
            throw CredentialsError("profile \(profile) sets role_arn but neither source_profile, credential_source nor web_identity_token_file")
        case (nil, let credentialSource?):
            source = try namedSource(credentialSource)
        case (let sourceProfile?, nil):
            source = try sourceProfileSource(sourceProfile)
        }
        return AssumeRoleCredentialsSource(profile: profile, roleArn: roleArn, sessionName: value("role_session_name"),
                                           externalId: value("external_id"), durationSeconds: durationSeconds,
                                           source: source, context: context)
    }

    /// `credential_source`: where the credentials that assume the role come from, outside the files.
    private func namedSource(_ name: String) throws -> any AWSCredentialsSource {
        switch name {
        case "Environment":
            return EnvironmentCredentialsSource(environment: context.environment)
        case "Ec2InstanceMetadata":
            return IMDSCredentialsSource(environment: context.environment, transport: context.metadataTransport,
                                         baseURL: context.imdsBaseURL)
        case "EcsContainer":
            return ContainerCredentialsSource(environment: context.environment, transport: context.transport)
        default:
            throw CredentialsError("profile \(profile): credential_source \(name) is not one of \(ProfileCredentialsSource.credentialSourceNames.joined(separator: ", "))")
        }
    }

    private func sourceProfileSource(_ sourceProfile: String) throws -> any AWSCredentialsSource {
        guard files.hasProfile(sourceProfile) else {
            throw CredentialsError("profile \(profile): its source_profile \(sourceProfile) does not exist in \(files.credentialsPath) or \(files.configPath)")
        }
        let chain = path + [profile]
        if chain.contains(sourceProfile) {
            // Only a profile naming itself, with keys of its own, is not a loop: the keys assume its role.
            guard sourceProfile == profile, hasStaticKeys(profile) else {
                throw CredentialsError("profiles' source_profile settings form a loop: \((chain + [sourceProfile]).joined(separator: " → "))")
            }
        }
        return ProfileCredentialsSource(files: files, profile: sourceProfile, path: chain, required: true,
                                        context: context)
    }

    private func webIdentity() throws -> WebIdentityCredentialsSource? {
        let useEnvironment = !isSourceProfile && !context.explicitProfile
        func environment(_ name: String) -> String? {
            useEnvironment ? context.environment[name].flatMap { $0.isEmpty ? nil : $0 } : nil
        }
        let environmentTokenFile = environment("AWS_WEB_IDENTITY_TOKEN_FILE")
        guard let tokenFile = environmentTokenFile ?? value("web_identity_token_file") else { return nil }
        let origin = environmentTokenFile != nil ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "profile \(profile)"
        guard let roleArn = environment("AWS_ROLE_ARN") ?? value("role_arn") else {
            throw CredentialsError("web identity (\(origin)): a token file is set but no role: set AWS_ROLE_ARN (or role_arn in the profile)")
        }
        return WebIdentityCredentialsSource(origin: origin, roleArn: roleArn, tokenFile: tokenFile,
                                            sessionName: environment("AWS_ROLE_SESSION_NAME") ?? value("role_session_name"),
                                            context: context)
    }

    private func sso() throws -> SSOCredentialsSource? {
        let ssoKeys = ["sso_session", "sso_start_url", "sso_region", "sso_account_id", "sso_role_name"]
        guard ssoKeys.contains(where: { value($0) != nil }) else { return nil }
        func required(_ key: String, _ found: String?) throws -> String {
            guard let found else {
                throw CredentialsError("profile \(profile) is set up for SSO but lacks \(key)")
            }
            return found
        }
        let accountId = try required("sso_account_id", value("sso_account_id"))
        let roleName = try required("sso_role_name", value("sso_role_name"))
        guard let sessionName = value("sso_session") else {
            return SSOCredentialsSource(
                profile: profile,
                settings: SSOSettings(sessionName: nil, startURL: try required("sso_start_url", value("sso_start_url")),
                                      region: try required("sso_region", value("sso_region")),
                                      accountId: accountId, roleName: roleName),
                context: context)
        }
        guard let session = files.ssoSession(sessionName) else {
            throw CredentialsError("profile \(profile) names sso_session \(sessionName), but \(files.configPath) has no [sso-session \(sessionName)] section")
        }
        func sessionValue(_ key: String) throws -> String {
            guard let found = session[key].flatMap({ $0.isEmpty ? nil : $0 }) else {
                throw CredentialsError("[sso-session \(sessionName)] in \(files.configPath) lacks \(key)")
            }
            // The AWS CLI refuses a profile that contradicts its session.
            if let own = value(key), own != found {
                throw CredentialsError("profile \(profile)'s \(key) differs from the one of [sso-session \(sessionName)]")
            }
            return found
        }
        return SSOCredentialsSource(
            profile: profile,
            settings: SSOSettings(sessionName: sessionName, startURL: try sessionValue("sso_start_url"),
                                  region: try sessionValue("sso_region"), accountId: accountId, roleName: roleName),
            context: context)
    }
}
