import Foundation

/// Where a service answers: `https://iot.eu-west-1.amazonaws.com`, or an override such as `http://127.0.0.1:5000`.
package struct HTTPEndpoint: Sendable, Equatable, CustomStringConvertible {
    package var scheme: String
    package var host: String
    package var port: Int?
    /// Path prefix of the override (usually empty), without a trailing `/`.
    package var basePath: String

    package init(scheme: String = "https", host: String, port: Int? = nil, basePath: String = "") {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath.hasSuffix("/") ? String(basePath.dropLast()) : basePath
    }

    /// Parses `http(s)://host[:port][/path]`; nil when it is not such a URL.
    package init?(url: String) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { return nil }
        self.init(scheme: scheme, host: host, port: components.port, basePath: components.percentEncodedPath)
    }

    package var description: String {
        var text = "\(scheme)://\(host)"
        if let port { text += ":\(port)" }
        return text + basePath
    }
}
