import Foundation
import HTTPTransport

/// STS: who the credentials are (preflight), and the temporary credentials of a role (the credential chain).
package struct STSClient: Sendable {
    static let version = "2011-06-15"

    package let client: AWSClient

    package init(client: AWSClient) {
        precondition(client.service == "sts", "STSClient needs an sts AWSClient")
        self.client = client
    }

    /// The caller's ARN and account (`GetCallerIdentity` needs no permission).
    package func callerIdentity() async throws -> CallerIdentity {
        let request = QueryRequest.make(endpoint: client.endpoint, action: "GetCallerIdentity", version: STSClient.version)
        let text = String(decoding: try await client.send(request, operation: "GetCallerIdentity").body, as: UTF8.self)
        guard let arn = XMLText.firstElement("Arn", in: text), let account = XMLText.firstElement("Account", in: text) else {
            throw AWSError(code: "InvalidResponse", message: "GetCallerIdentity answered without Arn and Account",
                           status: 200, operation: "GetCallerIdentity")
        }
        return CallerIdentity(arn: arn, account: account)
    }

    /// `AssumeRole`, signed with this client's credentials (the profile's source): the role's temporary
    /// credentials, labelled `source`.
    package func assumeRole(roleArn: String, sessionName: String, externalId: String? = nil,
                            durationSeconds: Int? = nil, source: String) async throws -> AWSCredentials {
        var parameters = [("RoleArn", roleArn), ("RoleSessionName", sessionName)]
        if let externalId { parameters.append(("ExternalId", externalId)) }
        if let durationSeconds { parameters.append(("DurationSeconds", String(durationSeconds))) }
        let request = QueryRequest.make(endpoint: client.endpoint, action: "AssumeRole", version: STSClient.version,
                                        parameters: parameters)
        let response = try await client.send(request, operation: "AssumeRole")
        return try STSClient.temporaryCredentials(in: response, operation: "AssumeRole", source: source)
    }

    /// `AssumeRoleWithWebIdentity`: unsigned (the OIDC token is the proof), so it needs no client credentials.
    /// `IDPCommunicationError` (the identity provider was slow to answer STS) is retried like throttling.
    package static func assumeRoleWithWebIdentity(endpoint: HTTPEndpoint, transport: any HTTPTransport,
                                                  retry: RetryPolicy, roleArn: String, sessionName: String,
                                                  webIdentityToken: String, source: String) async throws
        -> AWSCredentials
    {
        let request = QueryRequest.make(endpoint: endpoint, action: "AssumeRoleWithWebIdentity", version: version,
                                        parameters: [("RoleArn", roleArn), ("RoleSessionName", sessionName),
                                                     ("WebIdentityToken", webIdentityToken)])
        let response = try await UnsignedRequestSender.send(request, operation: "AssumeRoleWithWebIdentity",
                                                            transport: transport, retry: retry,
                                                            retryableCodes: ["IDPCommunicationError"])
        return try temporaryCredentials(in: response, operation: "AssumeRoleWithWebIdentity", source: source)
    }

    /// The `<Credentials>` of an AssumeRole* answer, with the account taken from `<AssumedRoleUser><Arn>`.
    static func temporaryCredentials(in response: HTTPResponse, operation: String, source: String) throws
        -> AWSCredentials
    {
        let text = String(decoding: response.body.prefix(1 << 20), as: UTF8.self)
        guard let block = XMLText.firstElement("Credentials", in: text, raw: true),
              let keyId = XMLText.firstElement("AccessKeyId", in: block),
              let secret = XMLText.firstElement("SecretAccessKey", in: block),
              let token = XMLText.firstElement("SessionToken", in: block),
              let expirationText = XMLText.firstElement("Expiration", in: block),
              let expiration = TemporaryCredentialsDocument.parseDate(expirationText.trimmingCharacters(in: .whitespaces))
        else {
            throw AWSError(code: "InvalidResponse", message: "\(operation) answered without complete credentials",
                           status: response.status, operation: operation)
        }
        let account = XMLText.firstElement("AssumedRoleUser", in: text, raw: true)
            .flatMap { XMLText.firstElement("Arn", in: $0) }
            .flatMap(accountId(inArn:))
        return AWSCredentials(accessKeyId: keyId, secretAccessKey: secret, sessionToken: token,
                              expiration: expiration, source: source, accountId: account)
    }

    /// The account field of an ARN (`arn:aws:sts::123456789012:assumed-role/…` → `123456789012`), if it has one.
    static func accountId(inArn arn: String) -> String? {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, !parts[4].isEmpty else { return nil }
        return String(parts[4])
    }
}

/// Who signed the request.
package struct CallerIdentity: Sendable, Equatable {
    /// `arn:aws:iam::<account>:user/<name>`, `arn:aws:sts::<account>:assumed-role/<role>/<session>`, `…:root`, …
    package var arn: String
    package var account: String

    package init(arn: String, account: String) {
        self.arn = arn
        self.account = account
    }

    /// The IAM principal whose policies IAM can simulate: a user, or the role behind an assumed-role session
    /// (its path, unknown from the session ARN, is left out: `IAMClient.roleArn` finds the real one). Nil for the
    /// account root and federated users, whose permissions IAM cannot simulate.
    package var simulatablePrincipal: SimulatablePrincipal? {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        let partition = parts[1]
        let resource = parts[5]
        if resource.hasPrefix("user/") { return .user(arn: arn) }
        if resource.hasPrefix("role/") { return .role(name: String(resource.split(separator: "/").last ?? ""), arn: arn) }
        if resource.hasPrefix("assumed-role/") {
            let pieces = resource.split(separator: "/")
            guard pieces.count >= 2 else { return nil }
            return .role(name: String(pieces[1]), arn: "arn:\(partition):iam::\(account):role/\(pieces[1])")
        }
        return nil
    }
}

/// A principal `SimulatePrincipalPolicy` accepts.
package enum SimulatablePrincipal: Sendable, Equatable {
    case user(arn: String)
    /// A role by name, with its ARN as far as it is known (path left out when it came from a session).
    case role(name: String, arn: String)
}
