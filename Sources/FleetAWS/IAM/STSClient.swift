import Foundation
import HTTPTransport

/// The one STS call preflight makes: who the credentials are.
package struct STSClient: Sendable {
    package let client: AWSClient

    package init(client: AWSClient) {
        precondition(client.service == "sts", "STSClient needs an sts AWSClient")
        self.client = client
    }

    /// The caller's ARN and account (`GetCallerIdentity` needs no permission).
    package func callerIdentity() async throws -> CallerIdentity {
        let request = QueryRequest.make(endpoint: client.endpoint, action: "GetCallerIdentity", version: "2011-06-15")
        let text = String(decoding: try await client.send(request, operation: "GetCallerIdentity").body, as: UTF8.self)
        guard let arn = XMLText.firstElement("Arn", in: text), let account = XMLText.firstElement("Account", in: text) else {
            throw AWSError(code: "InvalidResponse", message: "GetCallerIdentity answered without Arn and Account",
                           status: 200, operation: "GetCallerIdentity")
        }
        return CallerIdentity(arn: arn, account: account)
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
