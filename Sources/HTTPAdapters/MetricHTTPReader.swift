import Foundation
import HTTPTransport
import RolloutCore
import RolloutText

/// The HTTP GET that every HTTP metric source makes: credentials by reference (`MetricAuth`), bounded attempts,
/// a response size limit, and reasons with the URL's secrets masked.
///
/// Time-outs, connection failures, 429 and 5xx are tried again after a short pause (doubled each time); other
/// answers are returned as they are (a Prometheus error comes as JSON with a 4xx). Credentials are read at every
/// measurement, so a rotated token file is picked up without a restart.
struct MetricHTTPReader: Sendable {
    let options: HTTPMetricSource.Options
    let transport: any HTTPTransport
    let signer: (any HTTPRequestSigner)?
    let environment: @Sendable (String) -> String?
    let secrets: MetricSecretPolicy

    /// What was asked (for the measurement's `input`) and what came back, or why nothing did.
    struct Answer {
        var shown: String
        var result: Result<HTTPResponse, MetricReadError>
    }

    func get(_ urlText: String, query extra: [QueryItem] = [], gate: MetricGate,
             headers: [(String, String)] = []) async -> Answer {
        let target: PlainHTTPTarget
        do {
            target = try PlainHTTPTarget(urlText)
        } catch {
            return Answer(shown: CredentialRedaction.url(urlText), result: .failure(MetricReadError(message: "\(error)")))
        }
        var request = target.request(method: "GET")
        request.query += extra
        for (name, value) in headers { request.headers[name] = value }
        let shown = "GET " + target.shown
        var lastProblem = "no attempt made"
        for attempt in 1...options.attempts {
            if attempt > 1 {
                let delay = options.retryDelaySeconds * pow(2, Double(attempt - 2))
                try? await Task.sleep(nanoseconds: UInt64(max(0, delay) * 1_000_000_000))
            }
            var signed = request
            if let problem = await authorize(&signed, gate.auth) {
                return Answer(shown: shown, result: .failure(MetricReadError(message: problem)))
            }
            let response: HTTPResponse
            do {
                response = try await transport.send(signed)
            } catch let error as TransportError {
                lastProblem = target.describe(error)
                if error.isRetryable { continue }
                break
            } catch {
                lastProblem = "request failed: \(type(of: error))"
                break
            }
            if response.body.count > options.maxResponseBytes {
                lastProblem = "response larger than \(options.maxResponseBytes) bytes"
                break
            }
            if response.status == 429 || response.status >= 500 {
                lastProblem = "HTTP \(response.status)"
                continue
            }
            return Answer(shown: shown, result: .success(response))
        }
        let tries = options.attempts == 1 ? "" : " (\(options.attempts) attempts at most)"
        return Answer(shown: shown, result: .failure(MetricReadError(message: "\(lastProblem)\(tries)")))
    }

    /// Adds the gate's credentials to `request`; the problem in words (naming files and variables, never values).
    func authorize(_ request: inout HTTPRequest, _ auth: MetricAuth?) async -> String? {
        guard let auth else { return nil }
        if let path = auth.bearerTokenFile {
            switch readSecretFile(path, what: "bearer token") {
            case .success(let token): request.headers["Authorization"] = "Bearer \(token)"
            case .failure(let problem): return problem.message
            }
        }
        if let name = auth.bearerTokenEnv {
            guard secrets.permitsVariable(name) else { return refusal(ofVariable: name) }
            guard let token = environment(name), !token.isEmpty else { return "environment variable \(name) (bearer token) is not set" }
            request.headers["Authorization"] = "Bearer \(token)"
        }
        if let user = auth.basicUsername {
            var password = ""
            if let path = auth.basicPasswordFile {
                switch readSecretFile(path, what: "password") {
                case .success(let text): password = text
                case .failure(let problem): return problem.message
                }
            } else if let name = auth.basicPasswordEnv {
                guard secrets.permitsVariable(name) else { return refusal(ofVariable: name) }
                guard let text = environment(name), !text.isEmpty else { return "environment variable \(name) (password) is not set" }
                password = text
            }
            request.headers["Authorization"] = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        }
        if let region = auth.sigV4Region {
            guard let signer else { return "SigV4 signing needs AWS credentials, and this worker has none configured" }
            do {
                try await signer.sign(&request, service: auth.sigV4Service ?? "aps", region: region)
            } catch {
                return "could not sign the request: \(error)"
            }
        }
        return nil
    }

    func refusal(ofVariable name: String) -> String {
        "environment variable \(name) may not be read: metric credentials come from variables named "
            + "\(MetricSecretPolicy.environmentPrefix)… only"
    }

    /// A secret file's content, trimmed; at most 64 KiB; only inside the policy's directories.
    func readSecretFile(_ path: String, what: String) -> Result<String, MetricReadError> {
        guard secrets.permitsFile(path) else {
            return .failure(MetricReadError(message: secrets.refusal(ofFile: path, what: what)))
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            return .failure(MetricReadError(message: "cannot read the \(what) file \(path)"))
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: 65_537)) ?? Data()
        guard data.count <= 65_536 else {
            return .failure(MetricReadError(message: "the \(what) file \(path) is larger than 64 KiB"))
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return .failure(MetricReadError(message: "the \(what) file \(path) is empty")) }
        return .success(text)
    }
}
