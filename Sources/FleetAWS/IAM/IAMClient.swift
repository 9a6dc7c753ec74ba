import Foundation
import HTTPTransport

/// The read-only IAM calls preflight makes: does a role exist, and may a principal perform a list of actions.
package struct IAMClient: Sendable {
    package let client: AWSClient
    static let version = "2010-05-08"

    package init(client: AWSClient) {
        precondition(client.service == "iam", "IAMClient needs an iam AWSClient")
        self.client = client
    }

    /// The role's ARN (with its path); throws `NoSuchEntity` (404) when there is no such role.
    package func roleArn(name: String) async throws -> String {
        let request = QueryRequest.make(endpoint: client.endpoint, action: "GetRole", version: IAMClient.version,
                                        parameters: [("RoleName", name)])
        let text = String(decoding: try await client.send(request, operation: "GetRole").body, as: UTF8.self)
        guard let arn = XMLText.firstElement("Arn", in: text) else {
            throw AWSError(code: "InvalidResponse", message: "GetRole answered without an Arn", status: 200,
                           operation: "GetRole")
        }
        return arn
    }

    /// IAM's decision for each of `actions` on `resourceArn` by the identity policies of `principalArn`
    /// (`allowed`, `implicitDeny`, `explicitDeny`), in the order asked.
    package func simulate(principalArn: String, actions: [String], resourceArn: String) async throws -> [SimulatedDecision] {
        precondition(!actions.isEmpty && actions.count <= 100, "1…100 actions per simulation")
        let parameters = [("PolicySourceArn", principalArn)] + QueryRequest.list("ActionNames", actions)
            + QueryRequest.list("ResourceArns", [resourceArn])
        let request = QueryRequest.make(endpoint: client.endpoint, action: "SimulatePrincipalPolicy",
                                        version: IAMClient.version, parameters: parameters)
        let text = String(decoding: try await client.send(request, operation: "SimulatePrincipalPolicy").body, as: UTF8.self)
        return try IAMClient.decisions(in: text, asked: actions)
    }

    /// `EvalActionName` and `EvalDecision` occur once per evaluation result (resource-specific results use other
    /// element names), so the two lists pair up in order.
    static func decisions(in text: String, asked: [String]) throws -> [SimulatedDecision] {
        let names = XMLText.allElements("EvalActionName", in: text)
        let decisions = XMLText.allElements("EvalDecision", in: text)
        guard names.count == decisions.count, Set(names) == Set(asked) else {
            throw AWSError(code: "InvalidResponse",
                           message: "SimulatePrincipalPolicy answered \(names.count) results for \(asked.count) actions",
                           status: 200, operation: "SimulatePrincipalPolicy")
        }
        return zip(names, decisions).map { SimulatedDecision(action: $0.0, decision: $0.1) }
    }
}

/// One action's simulated decision.
package struct SimulatedDecision: Sendable, Equatable {
    package var action: String
    /// `allowed`, `implicitDeny` or `explicitDeny`.
    package var decision: String

    package var isAllowed: Bool { decision == "allowed" }
}
