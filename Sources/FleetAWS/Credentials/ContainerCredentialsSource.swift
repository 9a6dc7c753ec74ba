import Foundation
import HTTPTransport

/// ECS / EKS Pod Identity credentials: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (at `http://169.254.170.2`) or
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` (https anywhere, http only to loopback or the container hosts), with
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read on every load) or `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
package struct ContainerCredentialsSource: AWSCredentialsSource {
    package let name = "container credentials endpoint"
    static let relativeBase = "http://169.254.170.2"
    static let allowedHTTPHosts: Set<String> = ["127.0.0.1", "localhost", "::1", "[::1]", "169.254.170.2",
                                                "169.254.170.23", "fd00:ec2::23", "[fd00:ec2::23]"]

    private let environment: [String: String]
    private let transport: any HTTPTransport

    package init(environment: [String: String], transport: any HTTPTransport) {
        self.environment = environment
        self.transport = transport
    }

    /// The endpoint to ask, nil when neither variable is set.
    func endpointURL() throws -> String? {
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            return ContainerCredentialsSource.relativeBase + (relative.hasPrefix("/") ? relative : "/" + relative)
        }
        guard let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty else { return nil }
        guard let components = URLComponents(string: full), let scheme = components.scheme?.lowercased(),
              let host = components.host
        else {
            throw CredentialsError("AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL")
        }
        let loopback = host.hasPrefix("127.") || ContainerCredentialsSource.allowedHTTPHosts.contains(host.lowercased())
        guard scheme == "https" || (scheme == "http" && loopback) else {
            throw CredentialsError("AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback or container host")
        }
        return full
    }

    package func loadCredentials() async throws -> AWSCredentials? {
        guard let url = try endpointURL() else { return nil }
        guard let components = URLComponents(string: url), let host = components.host else {
            throw CredentialsError("container credentials URL is not a URL")
        }
        var headers = HTTPHeaders()
        headers["Accept"] = "application/json"
        if let tokenFile = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], !tokenFile.isEmpty {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                throw CredentialsError("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(tokenFile)")
            }
            headers["Authorization"] = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"], !token.isEmpty {
            headers["Authorization"] = token
        }
        if let value = headers["Authorization"], value.contains("\r") || value.contains("\n") {
            throw CredentialsError("the container authorization token contains a line break")
        }
        let request = HTTPRequest(method: "GET", scheme: components.scheme ?? "http", host: host, port: components.port,
                                  path: components.path.isEmpty ? "/" : components.path,
                                  query: (components.queryItems ?? []).map { QueryItem($0.name, $0.value ?? "") },
                                  headers: headers)
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            throw CredentialsError("container credentials endpoint unreachable: \(error)")
        }
        guard response.isSuccess else {
            throw CredentialsError("container credentials endpoint answered HTTP \(response.status)")
        }
        return try TemporaryCredentialsDocument.decode(response.body, source: "container")
    }
}
