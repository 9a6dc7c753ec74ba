import CCrypto
import Foundation
import HTTPTransport

/// IAM Identity Center (SSO) profiles, with the token `aws sso login` cached: `sso_session` (settings in an
/// `[sso-session NAME]` section) or the legacy `sso_start_url` + `sso_region` in the profile, and in both cases
/// `sso_account_id` + `sso_role_name`. The token is read from `~/.aws/sso/cache/<SHA-1 hex>.json` (of the session
/// name, or of the start URL for legacy profiles) on every load and exchanged at the portal's GetRoleCredentials.
/// rollout never logs in nor refreshes the token itself: when it is missing or expired, the message says to run
/// `aws sso login`.
package struct SSOCredentialsSource: AWSCredentialsSource {
    package var name: String { "SSO (profile \(profile))" }
    /// A cached token file is a few KB.
    static let cacheFileBytesMax = 1 << 20

    /// The profile that holds the SSO settings (the one to name in `aws sso login --profile`).
    let profile: String
    let settings: SSOSettings
    let context: CredentialsContext

    package init(profile: String, settings: SSOSettings, context: CredentialsContext) {
        self.profile = profile
        self.settings = settings
        self.context = context
    }

    /// Where the portal answers: the override (`AWS_ENDPOINT_URL_SSO`), else `portal.sso.<sso_region>.amazonaws.com`.
    var endpoint: HTTPEndpoint {
        context.ssoEndpointOverride
            ?? HTTPEndpoint(host: "portal.sso.\(settings.region).amazonaws.com\(AWSConfiguration.dnsSuffix(settings.region))")
    }

    /// `~/.aws/sso/cache/<SHA-1 hex of the session name, or of the start URL>.json`.
    var cachePath: String {
        let key = settings.sessionName ?? settings.startURL
        return context.home + "/.aws/sso/cache/" + SSOCredentialsSource.sha1Hex(key) + ".json"
    }

    private var loginHint: String { "run `aws sso login --profile \(profile)`" }

    package func loadCredentials() async throws -> AWSCredentials? {
        let token = try cachedToken()
        let request = HTTPRequest(method: "GET", endpoint: endpoint, path: "/federation/credentials",
                                  query: [QueryItem("account_id", settings.accountId),
                                          QueryItem("role_name", settings.roleName)],
                                  headers: ["x-amz-sso_bearer_token": token, "Accept": "application/json"])
        let response: HTTPResponse
        do {
            response = try await UnsignedRequestSender.send(request, operation: "GetRoleCredentials",
                                                            transport: context.transport, retry: context.retry)
        } catch let error as AWSError where error.status == 401 || error.code == "UnauthorizedException" {
            throw CredentialsError("profile \(profile): the SSO portal refused the cached token (\(error.code)): \(loginHint)")
        } catch {
            throw CredentialsError("profile \(profile): SSO GetRoleCredentials for account \(settings.accountId), role \(settings.roleName) failed: \(error)")
        }
        let answer: RoleCredentialsAnswer
        do {
            answer = try JSONDecoder().decode(RoleCredentialsAnswer.self, from: response.body)
        } catch {
            throw CredentialsError("profile \(profile): the SSO portal answered something that is not role credentials")
        }
        let role = answer.roleCredentials
        guard let keyId = role.accessKeyId, let secret = role.secretAccessKey, let sessionToken = role.sessionToken,
              let expirationMilliseconds = role.expiration
        else {
            throw CredentialsError("profile \(profile): the SSO portal answered incomplete role credentials")
        }
        return AWSCredentials(accessKeyId: keyId, secretAccessKey: secret, sessionToken: sessionToken,
                              expiration: Date(timeIntervalSince1970: Double(expirationMilliseconds) / 1000),
                              source: "SSO \(settings.roleName)@\(settings.accountId), profile \(profile)",
                              accountId: settings.accountId)
    }

    /// The access token `aws sso login` cached, if present and not expired.
    private func cachedToken() throws -> String {
        let path = cachePath
        guard FileManager.default.fileExists(atPath: path) else {
            throw CredentialsError("profile \(profile): no cached SSO token (\(path)): \(loginHint)")
        }
        guard let handle = FileHandle(forReadingAtPath: path),
              let data = try? handle.read(upToCount: SSOCredentialsSource.cacheFileBytesMax)
        else {
            throw CredentialsError("profile \(profile): cannot read the cached SSO token \(path)")
        }
        try? handle.close()
        guard let cached = try? JSONDecoder().decode(CachedToken.self, from: data), let token = cached.accessToken,
              !token.isEmpty, let expiresAtText = cached.expiresAt
        else {
            throw CredentialsError("profile \(profile): the cached SSO token \(path) is unreadable: \(loginHint)")
        }
        // Older CLIs wrote `2024-01-01T00:00:00UTC`.
        let normalized = expiresAtText.hasSuffix("UTC") ? String(expiresAtText.dropLast(3)) + "Z" : expiresAtText
        guard let expiresAt = TemporaryCredentialsDocument.parseDate(normalized) else {
            throw CredentialsError("profile \(profile): the cached SSO token \(path) has an unreadable expiresAt: \(loginHint)")
        }
        guard expiresAt > context.now() else {
            throw CredentialsError("profile \(profile): the cached SSO token expired at \(expiresAt.ISO8601Format()): \(loginHint)")
        }
        return token
    }

    /// Lowercase hex SHA-1 of `text`'s UTF-8 (the CLI's cache file name; not a security use).
    static func sha1Hex(_ text: String) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let bytes = Array(text.utf8)
        let ok = bytes.withUnsafeBytes { input in
            EVP_Digest(input.baseAddress, input.count, &digest, &length, EVP_sha1(), nil)
        }
        precondition(ok == 1 && length == 20, "EVP_Digest(SHA-1) failed")
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }
}

/// What an SSO profile resolved to (from the profile, or from its `[sso-session]` section).
package struct SSOSettings: Sendable, Equatable {
    /// The `sso_session` name; nil for a legacy profile (the cache is then keyed by the start URL).
    package var sessionName: String?
    package var startURL: String
    package var region: String
    package var accountId: String
    package var roleName: String

    package init(sessionName: String?, startURL: String, region: String, accountId: String, roleName: String) {
        self.sessionName = sessionName
        self.startURL = startURL
        self.region = region
        self.accountId = accountId
        self.roleName = roleName
    }
}

/// `~/.aws/sso/cache/*.json` (only the fields used).
private struct CachedToken: Decodable {
    var accessToken: String?
    var expiresAt: String?
}

/// GetRoleCredentials' answer.
private struct RoleCredentialsAnswer: Decodable {
    struct RoleCredentials: Decodable {
        var accessKeyId: String?
        var secretAccessKey: String?
        var sessionToken: String?
        /// Milliseconds since 1970.
        var expiration: Int64?
    }

    var roleCredentials: RoleCredentials
}
