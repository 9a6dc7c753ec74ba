import Foundation
@testable import HTTPTransport
import Testing

@testable import FleetAWS

/// STS AssumeRoleWithWebIdentity on moto: the environment variables EKS and GitHub Actions set, and profiles.
@Suite("Web identity credentials (moto STS)")
struct WebIdentityCredentialsSourceTests {
    static let role = "arn:aws:iam::123456789012:role/ci-deployer"

    @Test("AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_SESSION_NAME: unsigned call with the file's token")
    func environmentVariables() async throws {
        let moto = try await MotoServer.ready()
        let token = "eyJhbGciOiJSUzI1NiJ9.oidc-token-one.signature"
        var environment = try CredentialsChainTests.files()
        environment["AWS_ROLE_ARN"] = Self.role
        environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = try TemporaryFile.make(contents: Data((token + "\n").utf8))
        environment["AWS_ROLE_SESSION_NAME"] = "gha-run-42"
        let transport = CapturingTransport()
        let credentials = try await CredentialsTesting.chain(environment, stsURL: moto.endpoint, transport: transport)
            .credentials()
        #expect(credentials.accessKeyId.hasPrefix("ASIA") && credentials.sessionToken != nil)
        #expect(credentials.expiration != nil && credentials.source.contains(Self.role))
        let request = try #require(transport.requests.first)
        #expect(request.formValue("Action") == "AssumeRoleWithWebIdentity")
        #expect(request.formValue("WebIdentityToken") == token, "trimmed token from the file")
        #expect(request.formValue("RoleSessionName") == "gha-run-42")
        #expect(request.headers["Authorization"] == nil, "AssumeRoleWithWebIdentity is unsigned")
    }

    @Test("a profile's role_arn + web_identity_token_file; --profile ignores the environment's variables")
    func profile() async throws {
        let moto = try await MotoServer.ready()
        let directory = try TemporaryFile.makeDirectory()
        try CredentialsTesting.write("profile-token", to: directory, "token")
        var environment = try CredentialsChainTests.files(config: """
            [profile oidc]
            role_arn = \(Self.role)
            web_identity_token_file = \(directory)/token
            role_session_name = from-profile
            """)
        environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = directory + "/absent"
        environment["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/from-environment"
        let transport = CapturingTransport()
        _ = try await CredentialsTesting.chain(environment, profile: "oidc", stsURL: moto.endpoint, transport: transport)
            .credentials()
        let request = try #require(transport.requests.first)
        #expect(request.formValue("WebIdentityToken") == "profile-token")
        #expect(request.formValue("RoleArn") == Self.role)
        #expect(request.formValue("RoleSessionName") == "from-profile")

        // Selected through AWS_PROFILE instead, each variable overrides the profile's setting (as in the AWS CLI).
        environment["AWS_PROFILE"] = "oidc"
        environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = nil
        _ = try await CredentialsTesting.chain(environment, stsURL: moto.endpoint, transport: transport).credentials()
        #expect(transport.requests.last?.formValue("RoleArn") == "arn:aws:iam::123456789012:role/from-environment")
        #expect(transport.requests.last?.formValue("WebIdentityToken") == "profile-token")
    }

    @Test("the token file is read again at every refresh (the platform rotates it)")
    func tokenRotation() async throws {
        let moto = try await MotoServer.ready()
        let directory = try TemporaryFile.makeDirectory()
        let tokenFile = try CredentialsTesting.write("token-before", to: directory, "token")
        var environment = try CredentialsChainTests.files()
        environment["AWS_ROLE_ARN"] = Self.role
        environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = tokenFile
        let clock = TestClock(Date())
        let transport = CapturingTransport()
        let chain = try CredentialsTesting.chain(environment, stsURL: moto.endpoint, transport: transport, now: clock.now)
        let first = try await chain.credentials()
        try CredentialsTesting.write("token-after", to: directory, "token")
        clock.advance(by: 3600 - 200)
        let second = try await chain.credentials()
        #expect(second.accessKeyId != first.accessKeyId)
        #expect(transport.requests.map { $0.formValue("WebIdentityToken") } == ["token-before", "token-after"])
    }

    @Test("environment keys come before web identity; web identity before the profile's static keys")
    func order() async throws {
        let moto = try await MotoServer.ready()
        var environment = try CredentialsChainTests.files(
            credentials: "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = file-secret\n")
        environment["AWS_ROLE_ARN"] = Self.role
        environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = try TemporaryFile.make(contents: Data("t".utf8))
        #expect(try await CredentialsTesting.chain(environment, stsURL: moto.endpoint).credentials().accessKeyId
            .hasPrefix("ASIA"))
        environment["AWS_ACCESS_KEY_ID"] = "ENVKEY"
        environment["AWS_SECRET_ACCESS_KEY"] = "env-secret"
        #expect(try await CredentialsTesting.chain(environment, stsURL: moto.endpoint).credentials().accessKeyId == "ENVKEY")
    }

    @Test("AWSConfiguration.resolve sends web identity to AWS_ENDPOINT_URL_STS")
    func throughConfiguration() async throws {
        let moto = try await MotoServer.ready()
        let transport = CapturingTransport()
        let configuration = try AWSConfiguration.resolve(
            environment: ["HOME": "/nonexistent", "AWS_REGION": "eu-west-3", "AWS_EC2_METADATA_DISABLED": "true",
                          "AWS_ROLE_ARN": Self.role, "AWS_ENDPOINT_URL_STS": moto.endpoint,
                          "AWS_WEB_IDENTITY_TOKEN_FILE": try TemporaryFile.make(contents: Data("tok".utf8))],
            transport: transport, retry: CredentialsTesting.retry)
        let credentials = try await configuration.credentials.credentials()
        #expect(credentials.accessKeyId.hasPrefix("ASIA"))
        #expect(transport.requests.first?.port == moto.port)
    }

    @Test("broken set-ups fail clearly: no role, unreadable or empty token file, no region")
    func brokenSetups() async throws {
        var environment = try CredentialsChainTests.files()
        environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = try TemporaryFile.make(contents: Data("t".utf8))
        let noRole = await CredentialsTesting.failure {
            _ = try await CredentialsTesting.chain(environment, stsURL: "http://127.0.0.1:9").credentials()
        }
        #expect(noRole.contains("AWS_ROLE_ARN"), "\(noRole)")
        environment["AWS_ROLE_ARN"] = Self.role
        environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = "/nonexistent/token"
        let unreadable = await CredentialsTesting.failure {
            _ = try await CredentialsTesting.chain(environment, stsURL: "http://127.0.0.1:9").credentials()
        }
        #expect(unreadable.contains("/nonexistent/token"), "\(unreadable)")
        environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = try TemporaryFile.make(contents: Data(" \n".utf8))
        let empty = await CredentialsTesting.failure {
            _ = try await CredentialsTesting.chain(environment, stsURL: "http://127.0.0.1:9").credentials()
        }
        #expect(empty.contains("is empty"), "\(empty)")
        environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = try TemporaryFile.make(contents: Data("t".utf8))
        let noRegion = await CredentialsTesting.failure {
            _ = try await CredentialsChain.standard(environment: environment, transport: CredentialsTesting.transport,
                                                    metadataTransport: CredentialsTesting.transport).credentials()
        }
        #expect(noRegion.contains("needs a region"), "\(noRegion)")
    }

    @Test("IDPCommunicationError is retried; InvalidIdentityToken fails without quoting the token")
    func stsErrors() async throws {
        let token = "secret-oidc-token-value"
        var environment = try CredentialsChainTests.files()
        environment["AWS_ROLE_ARN"] = Self.role
        environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = try TemporaryFile.make(contents: Data(token.utf8))
        func error(_ code: String) -> ScriptedTransport.Step {
            .respond(HTTPResponse(status: 400, body: Data("""
                <ErrorResponse><Error><Code>\(code)</Code><Message>\(code) happened for \(token)</Message></Error></ErrorResponse>
                """.utf8)))
        }
        let answer = """
            <AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>\
            <AccessKeyId>ASIARETRIED1</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken>\
            <Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser>\
            <Arn>arn:aws:sts::210987654321:assumed-role/ci-deployer/x</Arn></AssumedRoleUser>\
            </AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>
            """
        let retried = ScriptedTransport([error("IDPCommunicationError"),
                                         .respond(HTTPResponse(status: 200, body: Data(answer.utf8)))])
        let credentials = try await CredentialsTesting.chain(environment, stsURL: "http://127.0.0.1:9", transport: retried)
            .credentials()
        #expect(credentials.accessKeyId == "ASIARETRIED1" && credentials.accountId == "210987654321")
        #expect(retried.requests.count == 2)

        let refused = ScriptedTransport([error("InvalidIdentityToken")])
        let message = await CredentialsTesting.failure {
            _ = try await CredentialsTesting.chain(environment, stsURL: "http://127.0.0.1:9", transport: refused)
                .credentials()
        }
        #expect(message.contains("InvalidIdentityToken") && message.contains(Self.role), "\(message)")
        #expect(refused.requests.count == 1, "not retried")
        CredentialsTesting.expectNoSecret(in: message, [token])
    }
}
