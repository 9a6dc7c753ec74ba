import Foundation
@testable import HTTPTransport
import Testing

@testable import FleetAWS

/// SSO profiles with the token `aws sso login` cached, against a loopback stand-in for the portal
/// (`fake_sso_portal.py`: moto has none).
@Suite("SSO credentials (loopback portal)")
struct SSOCredentialsSourceTests {
    static let accessToken = "sso-access-token-secret"

    static let config = """
        [profile dev]
        sso_session = corp
        sso_account_id = 123456789012
        sso_role_name = Deployer
        region = eu-west-1

        [sso-session corp]
        sso_start_url = https://corp.awsapps.com/start
        sso_region = eu-west-1
        sso_registration_scopes = sso:account:access

        [profile legacy]
        sso_start_url = https://legacy.awsapps.com/start
        sso_region = us-west-2
        sso_account_id = 210987654321
        sso_role_name = ReadOnly
        """

    /// Writes the cache file `aws sso login` would for `key` (session name or start URL) under the environment's HOME.
    static func cacheToken(_ environment: [String: String], key: String, token: String = accessToken,
                           expiresAt: Date = Date().addingTimeInterval(8 * 3600)) throws {
        let document = #"{"startUrl": "x", "region": "eu-west-1", "accessToken": "\#(token)", "expiresAt": "\#(expiresAt.ISO8601Format())"}"#
        try CredentialsTesting.write(document, to: environment["HOME"]! + "/.aws/sso/cache",
                                     SSOCredentialsSource.sha1Hex(key) + ".json")
    }

    @Test("the cache file name is the SHA-1 hex of the session name or start URL, as the AWS CLI names it")
    func cacheKey() {
        #expect(SSOCredentialsSource.sha1Hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(SSOCredentialsSource.sha1Hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    }

    @Test("sso_session profile: cached token → GetRoleCredentials; account, role and expiration from the answer")
    func ssoSession() async throws {
        let portal = try LoopbackServer(script: "fake_sso_portal.py", arguments: [Self.accessToken])
        let environment = try CredentialsChainTests.files(config: Self.config)
        try Self.cacheToken(environment, key: "corp")
        let transport = CapturingTransport()
        let clock = TestClock(Date())
        let chain = try CredentialsTesting.chain(environment, profile: "dev", ssoURL: "http://127.0.0.1:\(portal.port)",
                                                 transport: transport, now: clock.now)
        let credentials = try await chain.credentials()
        #expect(credentials.accessKeyId == "ASIASSO1" && credentials.sessionToken == "sso-session-token")
        #expect(credentials.accountId == "123456789012")
        let expiration = try #require(credentials.expiration)
        #expect(abs(expiration.timeIntervalSinceNow - 3600) < 120, "epoch milliseconds read as a date")
        let request = try #require(transport.requests.first)
        #expect(request.path == "/federation/credentials" && request.method == "GET")
        #expect(Set(request.query) == [QueryItem("account_id", "123456789012"), QueryItem("role_name", "Deployer")])
        #expect(request.headers["Authorization"] == nil)
        #expect(try await chain.credentials().accessKeyId == "ASIASSO1", "cached")
        clock.advance(by: 3600 - 200)
        #expect(try await chain.credentials().accessKeyId == "ASIASSO2", "renewed before expiry")
        CredentialsTesting.expectNoSecret(in: "\(credentials)", ["sso-secret", "sso-session-token", Self.accessToken])
    }

    @Test("legacy sso_start_url profile: the cache is keyed by the start URL; AWS_ENDPOINT_URL_SSO through resolve")
    func legacyThroughConfiguration() async throws {
        let portal = try LoopbackServer(script: "fake_sso_portal.py", arguments: [Self.accessToken])
        var environment = try CredentialsChainTests.files(config: Self.config)
        try Self.cacheToken(environment, key: "https://legacy.awsapps.com/start")
        environment["AWS_PROFILE"] = "legacy"
        environment["AWS_REGION"] = "us-west-2"
        environment["AWS_EC2_METADATA_DISABLED"] = "true"
        environment["AWS_ENDPOINT_URL_SSO"] = "http://127.0.0.1:\(portal.port)"
        let configuration = try AWSConfiguration.resolve(environment: environment, transport: CredentialsTesting.transport,
                                                         retry: CredentialsTesting.retry)
        let credentials = try await configuration.credentials.credentials()
        #expect(credentials.accessKeyId == "ASIASSO1" && credentials.accountId == "210987654321")
    }

    @Test("no cached token, an expired one, or one the portal refuses: run aws sso login --profile X")
    func loginNeeded() async throws {
        let portal = try LoopbackServer(script: "fake_sso_portal.py", arguments: [Self.accessToken])
        let environment = try CredentialsChainTests.files(config: Self.config)
        func message() async -> String {
            await CredentialsTesting.failure {
                _ = try await CredentialsTesting.chain(environment, profile: "dev",
                                                       ssoURL: "http://127.0.0.1:\(portal.port)").credentials()
            }
        }
        let missing = await message()
        #expect(missing.contains("no cached SSO token") && missing.contains("aws sso login --profile dev"), "\(missing)")
        try Self.cacheToken(environment, key: "corp", expiresAt: Date().addingTimeInterval(-60))
        let expired = await message()
        #expect(expired.contains("expired") && expired.contains("aws sso login --profile dev"), "\(expired)")
        try Self.cacheToken(environment, key: "corp", token: "revoked-token-secret")
        let refused = await message()
        #expect(refused.contains("refused") && refused.contains("aws sso login --profile dev"), "\(refused)")
        for text in [missing, expired, refused] {
            CredentialsTesting.expectNoSecret(in: text, [Self.accessToken, "revoked-token-secret"])
        }
    }

    @Test("incomplete SSO profiles are refused with the missing setting named")
    func incomplete() async throws {
        func message(_ config: String) async throws -> String {
            let environment = try CredentialsChainTests.files(config: config)
            return await CredentialsTesting.failure {
                _ = try await CredentialsTesting.chain(environment, profile: "p", ssoURL: "http://127.0.0.1:9")
                    .credentials()
            }
        }
        let noSection = try await message("[profile p]\nsso_session = gone\nsso_account_id = 1\nsso_role_name = R\n")
        #expect(noSection.contains("[sso-session gone]"), "\(noSection)")
        let noRole = try await message("[profile p]\nsso_start_url = https://x/start\nsso_region = us-east-1\nsso_account_id = 1\n")
        #expect(noRole.contains("sso_role_name"), "\(noRole)")
        let conflicting = try await message("""
            [profile p]
            sso_session = s
            sso_region = us-east-1
            sso_account_id = 1
            sso_role_name = R
            [sso-session s]
            sso_start_url = https://x/start
            sso_region = eu-west-1
            """)
        #expect(conflicting.contains("sso_region differs"), "\(conflicting)")
    }

    @Test("an SSO profile can be the source_profile of a role")
    func asRoleSource() async throws {
        let moto = try await MotoServer.ready()
        let portal = try LoopbackServer(script: "fake_sso_portal.py", arguments: [Self.accessToken])
        let environment = try CredentialsChainTests.files(config: Self.config + """

            [profile deploy]
            role_arn = arn:aws:iam::123456789012:role/deployer
            source_profile = dev
            """)
        try Self.cacheToken(environment, key: "corp")
        let transport = CapturingTransport()
        let credentials = try await CredentialsTesting.chain(environment, profile: "deploy", stsURL: moto.endpoint,
                                                             ssoURL: "http://127.0.0.1:\(portal.port)",
                                                             transport: transport).credentials()
        #expect(credentials.accessKeyId.hasPrefix("ASIA") && credentials.source.contains("role/deployer"))
        #expect(transport.requests.count == 2)
        #expect(transport.requests.last?.headers["Authorization"]?.contains("Credential=ASIASSO") == true)
    }
}
