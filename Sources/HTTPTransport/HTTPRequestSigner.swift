/// Signs a request for a service that authenticates by signature (SigV4 for Amazon Managed Service for
/// Prometheus). The AWS adapter provides one; metric sources take it without knowing AWS.
package protocol HTTPRequestSigner: Sendable {
    /// Signs `request` in place for `service` in `region`; throws when no credentials can be had (the message must
    /// name no secret).
    func sign(_ request: inout HTTPRequest, service: String, region: String) async throws
}
