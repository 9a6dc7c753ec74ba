import Foundation
import HTTPTransport

/// SigV4 for requests the AWS adapter does not send itself (a Prometheus query to Amazon Managed Service for
/// Prometheus), with the fleet's credential chain: temporary credentials are refreshed by the chain.
package struct AWSRequestSigner: HTTPRequestSigner {
    let credentials: any AWSCredentialsProvider
    let now: @Sendable () -> Date

    package init(credentials: any AWSCredentialsProvider, now: @escaping @Sendable () -> Date = { Date() }) {
        self.credentials = credentials
        self.now = now
    }

    package func sign(_ request: inout HTTPRequest, service: String, region: String) async throws {
        let credentials = try await self.credentials.credentials()
        SigV4Signer(service: service, region: region).sign(&request, credentials: credentials, date: now())
    }
}
