import Foundation
import HTTPTransport

/// The AWS Query protocol (IAM, STS): a form-encoded POST of `Action`, `Version` and parameters, answered in XML.
enum QueryRequest {
    /// `POST /` with the parameters form-encoded in the order given (lists as `Name.member.N`).
    static func make(endpoint: HTTPEndpoint, action: String, version: String,
                     parameters: [(String, String)] = []) -> HTTPRequest {
        let pairs = [("Action", action), ("Version", version)] + parameters
        let body = pairs.map { "\(URIEncoding.encode($0.0))=\(URIEncoding.encode($0.1))" }.joined(separator: "&")
        return HTTPRequest(method: "POST", endpoint: endpoint, path: "/",
                           headers: ["Content-Type": "application/x-www-form-urlencoded; charset=utf-8"],
                           body: .data(Data(body.utf8)))
    }

    /// `Name.member.1=…`, `Name.member.2=…` for a list parameter.
    static func list(_ name: String, _ values: [String]) -> [(String, String)] {
        values.enumerated().map { ("\(name).member.\($0.offset + 1)", $0.element) }
    }
}
