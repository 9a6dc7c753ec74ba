import CCrypto
import Foundation
import HTTPTransport

/// IAM Identity Center (SSO) profiles, with the token `aws sso login` cached: `sso_session` (settings in an
/// `[sso-session NAME]` section) or the legacy `sso_start_url` + `sso_region` in the profile, and in both cases
/// `sso_account_id` + `sso_role_name`. The token is read from `~/.aws/sso/cache/<SHA-1 hex>.json` (of the session
/// name, or of the start URL for legacy profiles) on every load and exchanged at the portal's GetRoleCredentials.
///
/// As the AWS CLI and SDKs do, an `sso_session` token that expires within `refreshWindowSeconds` (5 minutes) is
/// renewed with SSO OIDC CreateToken when its file holds a refresh token and an unexpired client registration, at
/// most once every 30 s (`SSOTokenRefreshThrottle`); the renewed token is written back into the same file. A failed
/// renewal keeps a token that is still valid. rollout never logs in: when the token is missing, or expired and
/// not renewable (always so for legacy profiles, which have no refresh token), the message says to run
/// `aws sso login`.
package struct SSOCredentialsSource: AWSCredentialsSource {
    package var name: String { "SSO (profile \(profile))" }
    /// A token expiring within this many seconds is renewed (when it can be).
    package static let refreshWindowSeconds: TimeInterval = 300

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
        let token = try await accessToken()
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
            throw CredentialsError("profile \(profile): SSO GetRoleCredentials for account \(settings.accountId), role \(settings.roleName) failed: \(CredentialsError.summary(of: error))")
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

    /// The access token to present to the portal: the cached one, renewed first when it expires within
    /// `refreshWindowSeconds` and can be renewed.
    private func accessToken() async throws -> String {
        let cached = try readCache()
        let now = context.now()
        guard cached.expiresAt.timeIntervalSince(now) <= SSOCredentialsSource.refreshWindowSeconds else {
            return cached.accessToken
        }
        let expired = cached.expiresAt <= now
        let expiry = "the cached SSO token expired at \(cached.expiresAt.ISO8601Format())"
        func usable(orExplain reason: String) throws -> String {
            guard expired else { return cached.accessToken }
            throw CredentialsError("profile \(profile): \(expiry)\(reason): \(loginHint)")
        }
        // Legacy start-URL logins have no refresh token; the SDKs renew `sso_session` tokens only.
        guard settings.sessionName != nil else { return try usable(orExplain: "") }
        guard cached.hasRefreshGrant, let refreshToken = cached.refreshToken, let clientId = cached.clientId,
              let clientSecret = cached.clientSecret
        else {
            return try usable(orExplain: " and its file holds no refresh token")
        }
        if let registrationExpiresAt = cached.registrationExpiresAt, registrationExpiresAt <= now {
            return try usable(orExplain: " and its client registration expired at \(registrationExpiresAt.ISO8601Format())")
        }
        guard context.ssoRefreshThrottle.mayAttempt(cached.path, now: now) else {
            return try usable(orExplain: " and renewing it was last tried less than \(Int(SSOTokenRefreshThrottle.intervalSeconds)) s ago")
        }
        let renewed: SSOOIDCClient.Token
        do {
            renewed = try await SSOOIDCClient(region: settings.region, context: context)
                .refresh(clientId: clientId, clientSecret: clientSecret, refreshToken: refreshToken)
        } catch let error as CredentialsError {
            // Another process (the AWS CLI, another rollout) may have renewed it meanwhile with the same refresh token.
            if let reread = try? readCache(), reread.accessToken != cached.accessToken, reread.expiresAt > context.now() {
                return reread.accessToken
            }
            return try usable(orExplain: " and could not be renewed: \(error.message)")
        }
        let expiresAt = context.now().addingTimeInterval(TimeInterval(renewed.expiresInSeconds))
        do {
            _ = try cached.writingRenewal(accessToken: renewed.accessToken, expiresAt: expiresAt,
                                          refreshToken: renewed.refreshToken)
        } catch let error as CredentialsError {
            throw CredentialsError("profile \(profile): renewed the SSO token, but \(error.message)")
        }
        return renewed.accessToken
    }

    /// The token file `aws sso login` wrote; its problems are reported with the profile and the login hint.
    private func readCache() throws -> SSOTokenCacheFile {
        do {
            return try SSOTokenCacheFile.read(cachePath)
        } catch let error as CredentialsError {
            throw CredentialsError("profile \(profile): \(error.message): \(loginHint)")
        }
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
