import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `rollout bench --api`: the worker's read endpoints under wrk while it runs many simulated rollouts, each beside
/// nginx serving the very bytes the worker answered, with the same wrk settings, one right after the other.
extension BenchCommand {
    /// What wrk reports.
    struct LoadResult {
        var requestsPerSecond: Double
        var p50: String
        var p99: String
    }

    func benchAPI(executable: String, directory: String, rollouts: Int, seconds: Int) async throws {
        guard let wrk = MeasuredProcess.which("wrk") else {
            print("HTTP API: not measured (wrk is not installed; Debian: apt-get install wrk)")
            return
        }
        // The bench plan names `firmware.bin` in `directory`: the worker may read it only from an --artifacts-dir.
        let worker = try BenchWorker(executable: executable, database: directory + "/api.db",
                                     extra: ["--time-scale", "10", "--devices", "10000", "--seed", "1",
                                             "--artifacts-dir", directory])
        defer { worker.stop() }
        _ = try await worker.waitUntilReady(since: Date())
        var firstId = ""
        for index in 0..<rollouts {
            let answer = try await worker.client.send(
                "POST", "/v1/rollouts?file=bench-\(index).yaml&baseDirectory=\(directory)",
                body: Data(Self.planText(index).utf8), contentType: "application/yaml")
            if index == 0 { firstId = (answer as? [String: Any])?["id"] as? String ?? "" }
        }
        let endpoints = [("GET /v1/rollouts/{id}", "/v1/rollouts/\(firstId)"), ("GET /v1/rollouts", "/v1/rollouts"),
                         ("GET /metrics", "/metrics"), ("GET / (status page)", "/")]
        // The very bytes the worker answers, for nginx to serve.
        var bodies: [String: (contentType: String, body: Data)] = [:]
        for (_, path) in endpoints {
            bodies[path] = try await Self.fetch(worker.url + path)
        }
        let nginx: BenchFloor.Nginx?
        var nginxMissing = ""
        do {
            nginx = try await BenchFloor.Nginx(bodies: bodies, directory: directory, port: try BenchWorker.freePort())
        } catch {
            nginx = nil
            nginxMissing = "\(error)"
        }
        defer { nginx?.stop() }
        print("HTTP API, wrk -t2 -c16 -d\(seconds)s, \(rollouts) rollouts in the worker (time-scale 10, 10,000 devices):")
        for (name, path) in endpoints {
            let ours = try Self.load(wrk: wrk, url: worker.url + path, seconds: seconds)
            var line = "  \(name.padding(toLength: 22, withPad: " ", startingAt: 0)) "
                + "\(String(format: "%6.1f", Double(bodies[path]?.body.count ?? 0) / 1024)) KB: "
                + "\(BenchText.rate(ours.requestsPerSecond)) req/s (p50 \(ours.p50), p99 \(ours.p99))"
            if let nginx {
                let floor = try Self.load(wrk: wrk, url: "http://127.0.0.1:\(nginx.port)\(path)", seconds: seconds)
                line += " | nginx \(BenchText.rate(floor.requestsPerSecond)) req/s → "
                    + "\(BenchText.ratio(ours.requestsPerSecond / max(floor.requestsPerSecond, 1))) nginx"
            } else {
                line += " | nginx: not available (\(nginxMissing))"
            }
            print(line)
        }
        let list = try await worker.client.send("GET", "/v1/rollouts?limit=1000")
        let running = ((list as? [String: Any])?["rollouts"] as? [[String: Any]] ?? [])
            .filter { !["completed", "rolledBack", "aborted", "failed"].contains($0["phase"] as? String ?? "") }.count
        print("  (\(running) of \(rollouts) rollouts still running at the end)")
    }

    /// Rollout `index` of the bench: its own release version, since a worker runs one rollout per release and fleet.
    static func planText(_ index: Int) -> String {
        benchPlan.replacingOccurrences(of: "name: bench-canary-3-waves", with: "name: bench-\(index)")
            .replacingOccurrences(of: "version: 2.0.0", with: "version: 2.0.\(index)")
    }

    /// The body and content type of a GET.
    static func fetch(_ url: String) async throws -> (contentType: String, body: Data) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        let type = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Type") ?? "application/octet-stream"
        return (type, data)
    }

    /// Runs wrk against `url`; its requests per second and latency percentiles.
    static func load(wrk: String, url: String, seconds: Int) throws -> LoadResult {
        let run = try MeasuredProcess.run(wrk, ["-t2", "-c16", "-d\(seconds)s", "--latency", url],
                                          scratchDirectory: NSTemporaryDirectory())
        let text = String(decoding: run.output, as: UTF8.self)
        func value(after label: String) -> String {
            text.split(separator: "\n").first { $0.contains(label) }.map {
                String($0).replacingOccurrences(of: label, with: "").trimmingCharacters(in: .whitespaces)
            } ?? "?"
        }
        guard let rate = Double(value(after: "Requests/sec:")) else {
            throw ValidationError("wrk gave no rate for \(url): \(text)")
        }
        // A rate of errors is no measure of the read path.
        guard !text.contains("Non-2xx") else { throw ValidationError("\(url) answered errors under load: \(text)") }
        return LoadResult(requestsPerSecond: rate, p50: value(after: "50%"), p99: value(after: "99%"))
    }
}
