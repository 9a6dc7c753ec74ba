import Foundation
@testable import HTTPTransport
import Testing

@testable import FleetAWS

/// The order in which a profile's settings are tried, as botocore (the AWS CLI) tries them.
@Suite("Profile credentials order")
struct ProfileCredentialsSourceTests {
    static let role = "arn:aws:iam::123456789012:role/deployer"

    @Test("a profile's role_arn + source_profile comes before the web identity variables")
    func roleBeforeWebIdentity() async throws {
        let moto = try await MotoServer.ready()
        var environment = try CredentialsChainTests.files(config: """
            [default]
            role_arn = \(Self.role)
            source_profile = base
            [profile base]
            aws_access_key_id = AKIDBASE0002
            aws_secret_access_key = s
            """)
        environment["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/oidc"
        environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = try TemporaryFile.make(contents: Data("t".utf8))
        let transport = CapturingTransport()
        _ = try await CredentialsTesting.chain(environment, stsURL: moto.endpoint, transport: transport).credentials()
        #expect(transport.requests.map { $0.formValue("Action") } == ["AssumeRole"])
        #expect(transport.requests.first?.formValue("RoleArn") == Self.role)
    }

    @Test("SSO comes before the profile's static keys, static keys before credential_process")
    func ssoAndSourceKeys() async throws {
        let files = try SharedConfigFiles.load(environment: try CredentialsChainTests.files(
            credentials: "[both]\naws_access_key_id = K\naws_secret_access_key = S\n",
            config: """
            [profile both]
            sso_start_url = https://x/start
            sso_region = us-east-1
            sso_account_id = 1
            sso_role_name = R
            credential_process = /bin/false
            """), profile: "both")
        let context = CredentialsContext(environment: [:], explicitProfile: true, transport: CredentialsTesting.transport,
                                         metadataTransport: CredentialsTesting.transport)
        let names = try ProfileCredentialsSource(files: files, required: true, context: context).sources().map(\.name)
        #expect(names.count == 3)
        #expect(names[0].hasPrefix("SSO") && names[1].hasPrefix("static keys") && names[2].hasPrefix("credential_process"),
                "\(names)")
    }

    @Test("a profile with nothing usable lets the chain go on; a named profile that is missing is an error")
    func fallThroughAndMissing() async throws {
        let regionOnly = try CredentialsChainTests.files(config: "[default]\nregion = eu-west-1\n")
        let message = await CredentialsTesting.failure { _ = try await CredentialsTesting.chain(regionOnly).credentials() }
        #expect(message.contains("no credentials found") && message.contains("profile default"), "\(message)")

        var missing = regionOnly
        missing["AWS_PROFILE"] = "absent"
        missing["AWS_ROLE_ARN"] = Self.role
        missing["AWS_WEB_IDENTITY_TOKEN_FILE"] = try TemporaryFile.make(contents: Data("t".utf8))
        let missingMessage = await CredentialsTesting.failure {
            _ = try await CredentialsTesting.chain(missing, stsURL: "http://127.0.0.1:9").credentials()
        }
        #expect(missingMessage.contains("profile absent not found"), "\(missingMessage)")
    }
}
