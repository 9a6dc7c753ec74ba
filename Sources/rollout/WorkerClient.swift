import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Options every command that talks to a worker shares.
struct ServerOptions: ParsableArguments {
    @Option(help: "The worker's URL (or ROLLOUT_SERVER).")
    var server: String?

    @Option(help: "File holding the bearer token (or ROLLOUT_TOKEN).")
    var tokenFile: String?

    func client() throws -> WorkerClient {
        let environment = ProcessInfo.processInfo.environment
        let base = server ?? environment["ROLLOUT_SERVER"] ?? "http://127.0.0.1:8080"
        guard let url = URL(string: base), url.scheme == "http" || url.scheme == "https" else {
            throw ValidationError("--server must be an http:// or https:// URL, found `\(base)`")
        }
        var token = environment["ROLLOUT_TOKEN"]
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ValidationError("cannot read the token file \(tokenFile)")
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return WorkerClient(base: url, token: token)
    }
}

/// A small client of the worker's HTTP API.
struct WorkerClient {
    let base: URL
    let token: String?

    struct Failure: Error, CustomStringConvertible {
        var status: Int
        var code: String
        var message: String
        var description: String { "\(message) (HTTP \(status), \(code))" }
    }

    /// Sends a request; returns the decoded JSON object of a 2xx answer, throws `Failure` otherwise.
    func send(_ method: String, _ path: String, body: Data? = nil, contentType: String = "application/json") async throws -> Any {
        // `path` may carry an already encoded query: join it to the base as text.
        let baseText = base.absoluteString.hasSuffix("/") ? String(base.absoluteString.dropLast()) : base.absoluteString
        guard let url = URL(string: baseText + path) else {
            throw Failure(status: 0, code: "bad_url", message: "cannot form a URL from \(baseText) and \(path)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = body
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw Failure(status: 0, code: "unreachable", message: "cannot reach the worker at \(base): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let object = (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) ?? [:]
        guard (200..<300).contains(status) else {
            let error = object as? [String: Any]
            var message = error?["message"] as? String ?? String(decoding: data.prefix(500), as: UTF8.self)
            if let issues = error?["issues"] as? [[String: Any]] {
                message += "\n" + issues.map { issue in
                    // Line 0: a problem with no place in the text (e.g. an artifact outside the worker's directories).
                    let line = issue["line"] as? Int ?? 0
                    let place = line > 0 ? "\(issue["file"] ?? ""):\(line):\(issue["column"] ?? 0)" : "\(issue["file"] ?? "")"
                    return "\(place): \(issue["field"] ?? ""): \(issue["message"] ?? "")"
                }.joined(separator: "\n")
            }
            throw Failure(status: status, code: error?["code"] as? String ?? "http_\(status)", message: message)
        }
        return object
    }
}

extension WorkerClient.Failure {
    /// Exit code for a failed API call: 65 for a plan the worker refused (invalid, or naming local files outside its
    /// artifact directories), 4 for an illegal transition, else 1.
    var exitCode: ExitCode {
        switch code {
        case "invalid_plan", "artifact_not_allowed": return ExitCode(ExitStatus.invalidInput)
        case "illegal_transition", "release_already_rolling_out": return ExitCode(ExitStatus.pausedOrAborted)
        default: return ExitCode(ExitStatus.otherError)
        }
    }
}
