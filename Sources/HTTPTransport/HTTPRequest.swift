import Foundation

/// An HTTP request as the AWS clients build it: decoded path and query, so the SigV4 signer and the URL agree
/// on one encoding (`URIEncoding`).
package struct HTTPRequest: Sendable {
    package var method: String
    /// `http` or `https`.
    package var scheme: String
    package var host: String
    /// Nil for the scheme's default port.
    package var port: Int?
    /// The decoded path, starting with `/` (an S3 key may hold spaces, unicode, `+`, …).
    package var path: String
    /// Decoded query items, in the order given (order does not matter to AWS; the signer sorts them).
    package var query: [QueryItem]
    package var headers: HTTPHeaders
    package var body: HTTPBody

    package init(method: String, scheme: String = "https", host: String, port: Int? = nil, path: String = "/",
                query: [QueryItem] = [], headers: HTTPHeaders = HTTPHeaders(), body: HTTPBody = .empty) {
        self.method = method
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path.hasPrefix("/") ? path : "/" + path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// Builds a request for `path` under an endpoint such as `http://127.0.0.1:5000` or `https://iot.eu-west-1.amazonaws.com`.
    package init(method: String, endpoint: HTTPEndpoint, path: String, query: [QueryItem] = [],
                headers: HTTPHeaders = HTTPHeaders(), body: HTTPBody = .empty) {
        self.init(method: method, scheme: endpoint.scheme, host: endpoint.host, port: endpoint.port,
                  path: endpoint.basePath + (path.hasPrefix("/") ? path : "/" + path),
                  query: query, headers: headers, body: body)
    }

    /// `host` or `host:port` (port omitted when it is the scheme's default), as the `Host` header carries it.
    package var hostHeader: String {
        guard let port, port != HTTPRequest.defaultPort(scheme: scheme) else { return host }
        return "\(host):\(port)"
    }

    /// The path as sent: every segment encoded once, `/` kept.
    package var encodedPath: String {
        URIEncoding.encode(path, encodeSlash: false)
    }

    /// The query as sent (items in the order given).
    package var encodedQuery: String {
        query.map { "\(URIEncoding.encode($0.name))=\(URIEncoding.encode($0.value))" }.joined(separator: "&")
    }

    /// The full URL string handed to the transport.
    package var url: String {
        let base = "\(scheme)://\(hostHeader)\(encodedPath)"
        return query.isEmpty ? base : base + "?" + encodedQuery
    }

    static func defaultPort(scheme: String) -> Int {
        scheme.lowercased() == "https" ? 443 : 80
    }
}

/// One `name=value` pair of a query string, decoded.
package struct QueryItem: Sendable, Equatable, Hashable {
    package var name: String
    package var value: String

    package init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// What a request sends: nothing, bytes in memory, or a file streamed from disk (never loaded whole).
package enum HTTPBody: Sendable, Equatable {
    case empty
    case data(Data)
    case file(path: String, size: Int64)

    package var length: Int64 {
        switch self {
        case .empty: return 0
        case .data(let data): return Int64(data.count)
        case .file(_, let size): return size
        }
    }
}

/// Ordered header list with case-insensitive lookup (names keep the case they were given).
package struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    package private(set) var fields: [(name: String, value: String)]

    package init() {
        fields = []
    }

    package init(dictionaryLiteral elements: (String, String)...) {
        fields = elements.map { (name: $0.0, value: $0.1) }
    }

    package init(_ pairs: [(String, String)]) {
        fields = pairs.map { (name: $0.0, value: $0.1) }
    }

    package static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// The first value of `name` (case-insensitive).
    package subscript(name: String) -> String? {
        get {
            fields.first { Self.sameName($0.name, name) }?.value
        }
        set {
            remove(name)
            if let newValue { fields.append((name: name, value: newValue)) }
        }
    }

    package func values(_ name: String) -> [String] {
        fields.filter { Self.sameName($0.name, name) }.map(\.value)
    }

    package mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    package mutating func remove(_ name: String) {
        fields.removeAll { Self.sameName($0.name, name) }
    }

    /// Header names compared ignoring ASCII case (names are ASCII tokens), without lowercasing copies: the signer
    /// looks headers up on every request.
    static func sameName(_ left: String, _ right: String) -> Bool {
        left.utf8.count == right.utf8.count && left.utf8.elementsEqual(right.utf8) { asciiLower($0) == asciiLower($1) }
    }

    @inline(__always)
    static func asciiLower(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    package func contains(_ name: String) -> Bool {
        self[name] != nil
    }

    package func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        fields.makeIterator()
    }
}
