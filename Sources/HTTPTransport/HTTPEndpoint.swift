import Foundation

/// Where a service answers: `https://iot.eu-west-1.amazonaws.com`, or an override such as `http://127.0.0.1:5000`.
public struct HTTPEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int?
    /// Path prefix of the override (usually empty), without a trailing `/`.
    public var basePath: String

    public init(scheme: String = "https", host: String, port: Int? = nil, basePath: String = "") {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath.hasSuffix("/") ? String(basePath.dropLast()) : basePath
    }

    /// Parses `http(s)://host[:port][/path]`; nil when it is not such a URL.
    public init?(url: String) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { return nil }
        self.init(scheme: scheme, host: host, port: components.port, basePath: components.percentEncodedPath)
    }

    public var description: String {
        var text = "\(scheme)://\(host)"
        if let port { text += ":\(port)" }
        return text + basePath
    }
}
