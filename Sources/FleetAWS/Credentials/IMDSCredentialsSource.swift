import Foundation
import HTTPTransport

/// EC2 instance profile credentials over IMDSv2: `PUT /latest/api/token`, then the role name, then its credentials.
/// Skipped when `AWS_EC2_METADATA_DISABLED=true`. The base URL is injectable (`AWS_EC2_METADATA_SERVICE_ENDPOINT`
/// or the initializer), so tests use a loopback server; give it a transport with short time-outs (off EC2 the
/// address does not answer).
package struct IMDSCredentialsSource: AWSCredentialsSource {
    package let name = "EC2 instance metadata (IMDSv2)"
    package static let defaultBaseURL = "http://169.254.169.254"

    private let base: HTTPEndpoint?
    private let disabled: Bool
    private let transport: any HTTPTransport

    package init(environment: [String: String], transport: any HTTPTransport, baseURL: String? = nil) {
        let url = baseURL ?? environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? IMDSCredentialsSource.defaultBaseURL
        self.base = HTTPEndpoint(url: url)
        self.disabled = environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true"
        self.transport = transport
    }

    package func loadCredentials() async throws -> AWSCredentials? {
        guard !disabled else { return nil }
        guard let base else { throw CredentialsError("AWS_EC2_METADATA_SERVICE_ENDPOINT is not a URL") }
        let tokenResponse: HTTPResponse
        do {
            tokenResponse = try await transport.send(HTTPRequest(
                method: "PUT", endpoint: base, path: "/latest/api/token",
                headers: ["X-aws-ec2-metadata-token-ttl-seconds": "21600", "Content-Type": "text/plain"]))
        } catch {
            // Not on EC2 (or IMDS blocked): this source is simply not available.
            return nil
        }
        guard tokenResponse.isSuccess else {
            if tokenResponse.status == 403 { throw CredentialsError("IMDS is disabled on this instance (HTTP 403)") }
            return nil
        }
        let token = String(decoding: tokenResponse.body, as: UTF8.self)
        let tokenHeaders: HTTPHeaders = ["X-aws-ec2-metadata-token": token]
        let rolesResponse = try await get("/latest/meta-data/iam/security-credentials/", base: base, headers: tokenHeaders)
        guard rolesResponse.isSuccess else {
            if rolesResponse.status == 404 { return nil }  // no instance profile attached
            throw CredentialsError("IMDS role lookup answered HTTP \(rolesResponse.status)")
        }
        guard let role = String(decoding: rolesResponse.body, as: UTF8.self)
            .split(whereSeparator: \.isNewline).first.map(String.init), !role.isEmpty
        else { return nil }
        let credentialsResponse = try await get("/latest/meta-data/iam/security-credentials/\(role)", base: base,
                                                headers: tokenHeaders)
        guard credentialsResponse.isSuccess else {
            throw CredentialsError("IMDS credentials for role \(role) answered HTTP \(credentialsResponse.status)")
        }
        return try TemporaryCredentialsDocument.decode(credentialsResponse.body, source: "imds")
    }

    private func get(_ path: String, base: HTTPEndpoint, headers: HTTPHeaders) async throws -> HTTPResponse {
        do {
            return try await transport.send(HTTPRequest(method: "GET", endpoint: base, path: path, headers: headers))
        } catch {
            throw CredentialsError("IMDS unreachable after the token was issued: \(error)")
        }
    }
}
