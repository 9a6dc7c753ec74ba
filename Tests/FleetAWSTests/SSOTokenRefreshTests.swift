import Foundation
@testable import HTTPTransport
import Testing

@testable import FleetAWS

/// Renewal of `sso_session` tokens with SSO OIDC CreateToken (refresh_token grant), against the loopback portal,
/// which also answers CreateToken (`fake_sso_portal.py --oidc`): the renewed token is used, written back into the
/// cache file, and a failed or impossible renewal asks for `aws sso login` without showing any secret.
@Suite("SSO token renewal (loopback OIDC)")
struct SSOTokenRefreshTests {
    static let staleToken = "stale-access-token-secret"
    static let clientId = "client-id-1"
    static let clientSecret = "client-secret-value"
    static let refreshToken = "refresh-token-secret"
    /// Every secret the tests hand out or the fake mints (minted ones end in a number: the prefix is enough).
    static let secrets = [staleToken, clientSecret, refreshToken, "revoked-refresh-secret", "rotated-refresh-token",
                          "refreshed-access-token", SSOCredentialsSourceTests.accessToken]

    /// The portal and CreateToken on one loopback port, accepting the registration above and `refreshToken`.
    static func portal(expiresIn: Int = 3600) throws -> LoopbackServer {
        try LoopbackServer(script: "fake_sso_portal.py",
                           arguments: [SSOCredentialsSourceTests.accessToken, "--oidc", clientId, clientSecret,
                                       refreshToken, "--expires-in", String(expiresIn)])
    }

    /// Writes the cache file an `sso_session` login leaves (token, refresh token, registration, and a field rollout
    /// does not know), returning its path.
    @discardableResult
    static func cacheRenewable(_ environment: [String: String], key: String = "corp", token: String = staleToken,
                               expiresAt: Date, refreshToken: String? = SSOTokenRefreshTests.refreshToken,
                               registrationExpiresAt: Date = Date().addingTimeInterval(30 * 86_400)) throws -> String {
        var document: [String: Any] = [
            "startUrl": "https://corp.awsapps.com/start", "region": "eu-west-1", "accessToken": token,
            "expiresAt": expiresAt.ISO8601Format(), "clientId": clientId, "clientSecret": clientSecret,
            "registrationExpiresAt": registrationExpiresAt.ISO8601Format(), "futureField": ["kept": true],
        ]
        if let refreshToken { document["refreshToken"] = refreshToken }
        let data = try JSONSerialization.data(withJSONObject: document, options: [.withoutEscapingSlashes])
        return try CredentialsTesting.write(String(decoding: data, as: UTF8.self),
                                            to: environment["HOME"]! + "/.aws/sso/cache",
                                            SSOCredentialsSource.sha1Hex(key) + ".json")
    }

    static func readJSON(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func createTokenRequests(_ transport: CapturingTransport) -> [HTTPRequest] {
        transport.requests.filter { $0.path == "/token" }
    }

    static func jsonBody(_ request: HTTPRequest) -> [String: String] {
        (try? JSONSerialization.jsonObject(with: Data(request.bodyText.utf8)) as? [String: String]) ?? [:]
    }

    @Test("an expired token is renewed: GetRoleCredentials gets the new token, the file is rewritten (0600, other fields kept), the rotated refresh token is used next")
    func expiredTokenRenewed() async throws {
        let portal = try Self.portal()
        let url = "http://127.0.0.1:\(portal.port)"
        let environment = try CredentialsChainTests.files(config: SSOCredentialsSourceTests.config)
        let registration = Date().addingTimeInterval(30 * 86_400)
        let path = try Self.cacheRenewable(environment, expiresAt: Date().addingTimeInterval(-60),
                                           registrationExpiresAt: registration)
        let transport = CapturingTransport()
        let clock = TestClock(Date())
        let chain = try CredentialsTesting.chain(environment, profile: "dev", ssoURL: url, ssoOIDCURL: url,
                                                 transport: transport, now: clock.now)

        let credentials = try await chain.credentials()
        #expect(credentials.accessKeyId == "ASIASSO1")
        let requests = transport.requests
        try #require(requests.count == 2, "CreateToken, then GetRoleCredentials: \(requests.map(\.path))")
        #expect(requests[0].method == "POST" && requests[0].path == "/token")
        #expect(Self.jsonBody(requests[0]) == ["grantType": "refresh_token", "clientId": Self.clientId,
                                               "clientSecret": Self.clientSecret, "refreshToken": Self.refreshToken])
        #expect(requests[1].path == "/federation/credentials")
        #expect(requests[1].headers["x-amz-sso_bearer_token"] == "refreshed-access-token-1")

        let written = try Self.readJSON(path)
        #expect(written["accessToken"] as? String == "refreshed-access-token-1")
        #expect(written["refreshToken"] as? String == "rotated-refresh-token-1")
        let expiresAt = try #require((written["expiresAt"] as? String).flatMap(SSOTokenCacheFile.parseDate))
        #expect(abs(expiresAt.timeIntervalSince(clock.now()) - 3600) < 5, "expiresAt = now + expiresIn")
        #expect(written["clientId"] as? String == Self.clientId)
        #expect(written["clientSecret"] as? String == Self.clientSecret)
        #expect(written["registrationExpiresAt"] as? String == registration.ISO8601Format())
        #expect(written["startUrl"] as? String == "https://corp.awsapps.com/start")
        #expect(written["region"] as? String == "eu-west-1")
        #expect((written["futureField"] as? [String: Bool]) == ["kept": true])
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect(((attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0) & 0o777 == 0o600)
        let directory = (path as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == [(path as NSString).lastPathComponent],
                "no temporary file left behind")

        // An hour later the renewed token is within 5 minutes of expiry: renewed again, with the rotated refresh token.
        clock.advance(by: 3600 - 200)
        #expect(try await chain.credentials().accessKeyId == "ASIASSO2")
        let renewals = Self.createTokenRequests(transport)
        try #require(renewals.count == 2)
        #expect(Self.jsonBody(renewals[1])["refreshToken"] == "rotated-refresh-token-1")
        #expect(transport.requests.last?.headers["x-amz-sso_bearer_token"] == "refreshed-access-token-2")
        #expect(try Self.readJSON(path)["accessToken"] as? String == "refreshed-access-token-2")
        CredentialsTesting.expectNoSecret(in: "\(credentials)", Self.secrets)
    }

    @Test("a token valid for more than 5 minutes is not renewed; one expiring within 5 minutes is, and if that fails the still-valid token is used")
    func renewalWindow() async throws {
        let portal = try Self.portal()
        let url = "http://127.0.0.1:\(portal.port)"
        let environment = try CredentialsChainTests.files(config: SSOCredentialsSourceTests.config)

        let valid = SSOCredentialsSourceTests.accessToken
        try Self.cacheRenewable(environment, token: valid, expiresAt: Date().addingTimeInterval(3600))
        let untouched = CapturingTransport()
        _ = try await CredentialsTesting.chain(environment, profile: "dev", ssoURL: url, ssoOIDCURL: url,
                                               transport: untouched).credentials()
        #expect(Self.createTokenRequests(untouched).isEmpty, "an hour left: no CreateToken")

        let path = try Self.cacheRenewable(environment, token: valid, expiresAt: Date().addingTimeInterval(120))
        let renewing = CapturingTransport()
        _ = try await CredentialsTesting.chain(environment, profile: "dev", ssoURL: url, ssoOIDCURL: url,
                                               transport: renewing).credentials()
        #expect(Self.createTokenRequests(renewing).count == 1, "2 minutes left: renewed")
        #expect(renewing.requests.last?.headers["x-amz-sso_bearer_token"] == "refreshed-access-token-1")
        #expect(try Self.readJSON(path)["accessToken"] as? String == "refreshed-access-token-1")

        try Self.cacheRenewable(environment, token: valid, expiresAt: Date().addingTimeInterval(120),
                                refreshToken: "revoked-refresh-secret")
        let refused = CapturingTransport()
        let credentials = try await CredentialsTesting.chain(environment, profile: "dev", ssoURL: url, ssoOIDCURL: url,
                                                             transport: refused).credentials()
        #expect(Self.createTokenRequests(refused).count == 1, "renewal tried")
        #expect(refused.requests.last?.headers["x-amz-sso_bearer_token"] == valid, "the still-valid token used")
        #expect(credentials.accessKeyId.hasPrefix("ASIASSO"))
        #expect(try Self.readJSON(path)["accessToken"] as? String == valid, "file left as it was")
    }

    @Test("a refused or unreachable renewal, an expired registration or no refresh token: run aws sso login --profile X, no secret shown")
    func renewalImpossible() async throws {
        let portal = try Self.portal()
        let url = "http://127.0.0.1:\(portal.port)"
        let environment = try CredentialsChainTests.files(config: SSOCredentialsSourceTests.config)
        let expired = Date().addingTimeInterval(-60)
        func message(oidcURL: String = url, transport: CapturingTransport = CapturingTransport()) async -> String {
            await CredentialsTesting.failure {
                _ = try await CredentialsTesting.chain(environment, profile: "dev", ssoURL: url, ssoOIDCURL: oidcURL,
                                                       transport: transport).credentials()
            }
        }
        var texts: [String] = []

        try Self.cacheRenewable(environment, expiresAt: expired, refreshToken: "revoked-refresh-secret")
        let revoked = await message()
        #expect(revoked.contains("could not be renewed") && revoked.contains("InvalidGrantException"), "\(revoked)")
        texts.append(revoked)

        try Self.cacheRenewable(environment, expiresAt: expired, registrationExpiresAt: Date().addingTimeInterval(-1))
        let unregistered = CapturingTransport()
        let registrationExpired = await message(transport: unregistered)
        #expect(registrationExpired.contains("client registration expired"), "\(registrationExpired)")
        #expect(Self.createTokenRequests(unregistered).isEmpty, "an expired registration is not even tried")
        texts.append(registrationExpired)

        try Self.cacheRenewable(environment, expiresAt: expired, refreshToken: nil)
        let noRefreshToken = await message()
        #expect(noRefreshToken.contains("no refresh token"), "\(noRefreshToken)")
        texts.append(noRefreshToken)

        try Self.cacheRenewable(environment, expiresAt: expired)
        let unreachable = await message(oidcURL: "http://127.0.0.1:9")
        #expect(unreachable.contains("could not be renewed"), "\(unreachable)")
        texts.append(unreachable)

        for text in texts {
            #expect(text.contains("expired at") && text.contains("aws sso login --profile dev"), "\(text)")
            CredentialsTesting.expectNoSecret(in: text, Self.secrets)
        }
    }

    @Test("a failed renewal is not tried again within 30 s")
    func renewalThrottled() async throws {
        let portal = try Self.portal()
        let url = "http://127.0.0.1:\(portal.port)"
        let environment = try CredentialsChainTests.files(config: SSOCredentialsSourceTests.config)
        try Self.cacheRenewable(environment, expiresAt: Date().addingTimeInterval(-60),
                                refreshToken: "revoked-refresh-secret")
        let transport = CapturingTransport()
        let clock = TestClock(Date())
        let chain = try CredentialsTesting.chain(environment, profile: "dev", ssoURL: url, ssoOIDCURL: url,
                                                 transport: transport, now: clock.now)
        _ = await CredentialsTesting.failure { _ = try await chain.credentials() }
        #expect(Self.createTokenRequests(transport).count == 1)
        clock.advance(by: 10)
        let throttled = await CredentialsTesting.failure { _ = try await chain.credentials() }
        #expect(throttled.contains("less than 30 s ago") && throttled.contains("aws sso login --profile dev"),
                "\(throttled)")
        #expect(Self.createTokenRequests(transport).count == 1, "not tried again within 30 s")
        clock.advance(by: 25)
        _ = await CredentialsTesting.failure { _ = try await chain.credentials() }
        #expect(Self.createTokenRequests(transport).count == 2, "tried again after 30 s")
        CredentialsTesting.expectNoSecret(in: throttled, Self.secrets)
    }

    @Test("legacy sso_start_url profiles are never renewed, even with a refresh token in the file")
    func legacyNotRenewed() async throws {
        let portal = try Self.portal()
        let url = "http://127.0.0.1:\(portal.port)"
        let environment = try CredentialsChainTests.files(config: SSOCredentialsSourceTests.config)
        try Self.cacheRenewable(environment, key: "https://legacy.awsapps.com/start",
                                expiresAt: Date().addingTimeInterval(-60))
        let transport = CapturingTransport()
        let text = await CredentialsTesting.failure {
            _ = try await CredentialsTesting.chain(environment, profile: "legacy", ssoURL: url, ssoOIDCURL: url,
                                                   transport: transport).credentials()
        }
        #expect(text.contains("expired") && text.contains("aws sso login --profile legacy"), "\(text)")
        #expect(transport.requests.isEmpty, "neither CreateToken nor the portal called")
        CredentialsTesting.expectNoSecret(in: text, Self.secrets)
    }

    @Test("AWS_ENDPOINT_URL_SSO_OIDC moves CreateToken, through AWSConfiguration.resolve")
    func oidcEndpointThroughConfiguration() async throws {
        let portal = try Self.portal()
        var environment = try CredentialsChainTests.files(config: SSOCredentialsSourceTests.config)
        let path = try Self.cacheRenewable(environment, expiresAt: Date().addingTimeInterval(-60))
        environment["AWS_PROFILE"] = "dev"
        environment["AWS_EC2_METADATA_DISABLED"] = "true"
        environment["AWS_ENDPOINT_URL_SSO"] = "http://127.0.0.1:\(portal.port)"
        environment["AWS_ENDPOINT_URL_SSO_OIDC"] = "http://127.0.0.1:\(portal.port)"
        let configuration = try AWSConfiguration.resolve(environment: environment, transport: CredentialsTesting.transport,
                                                         retry: CredentialsTesting.retry)
        #expect(try await configuration.credentials.credentials().accessKeyId == "ASIASSO1")
        #expect(try Self.readJSON(path)["accessToken"] as? String == "refreshed-access-token-1")
    }
}
