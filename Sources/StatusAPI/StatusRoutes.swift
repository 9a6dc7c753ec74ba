import Engine
import Foundation
import Hummingbird
import RolloutCore

/// The handlers of every route. They only await the service (its methods are async and cheap), so nothing here
/// blocks Hummingbird's event loops.
struct StatusRoutes: Sendable {
    let service: any RolloutService
    let configuration: StatusServerConfiguration
    /// Resolved once: the configured directories, canonical (validated to exist by the configuration).
    let artifactPolicy: ArtifactPolicy
    let detailCache = ResponseCache()

    static let listLimitDefault = 100
    static let listLimitMax = 1000

    init(service: any RolloutService, configuration: StatusServerConfiguration) {
        self.service = service
        self.configuration = configuration
        self.artifactPolicy = ArtifactPolicy(
            allowedDirectories: configuration.artifactDirectories.compactMap(CanonicalPath.directory))
    }

    func register(on router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in JSONResponse.make(["status": "ok"]) }
        router.get("/readyz") { _, _ in try await readiness() }
        router.get("/metrics") { _, _ in try await metrics() }
        router.get("/openapi.json") { _, _ in
            JSONResponse.text(configuration.openAPIDocument, contentType: "application/json; charset=utf-8")
        }
        router.get("/") { _, _ in try await statusPage() }
        router.get("/v1/rollouts") { request, _ in try await list(request) }
        router.post("/v1/rollouts") { request, _ in try await submit(request) }
        router.get("/v1/rollouts/:id") { _, context in try await detail(try rolloutId(context)) }
        router.get("/v1/rollouts/:id/events") { request, context in try await events(request, id: try rolloutId(context)) }
        for verb in ControlVerb.allCases {
            router.post("/v1/rollouts/:id/\(verb.rawValue)") { request, context in
                try await control(verb, request: request, id: try rolloutId(context))
            }
        }
    }

    // MARK: probes

    func readiness() async throws -> Response {
        if await service.isReady() {
            return JSONResponse.make(["status": "ready"])
        }
        return JSONResponse.make(["status": "starting"], status: .serviceUnavailable)
    }

    func metrics() async throws -> Response {
        JSONResponse.text(PrometheusExposition.render(await service.metrics()), contentType: PrometheusExposition.contentType)
    }

    func statusPage() async throws -> Response {
        let rollouts = try await service.rollouts(phase: nil, limit: configuration.pageRolloutsMax)
        let html = StatusPage.render(rollouts: rollouts, refreshSeconds: configuration.pageRefreshSeconds, now: Date())
        var response = JSONResponse.text(html, contentType: StatusPage.contentType)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    // MARK: reads

    func list(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        var phase: RolloutPhase?
        if let text = query["phase"], !text.isEmpty {
            guard let parsed = RolloutPhase(rawValue: String(text)) else {
                throw APIError(.badRequest, code: "invalid_parameter", message:
                    "unknown phase `\(text)`; expected one of: \(RolloutPhase.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            phase = parsed
        }
        let limit = try Self.integer(query["limit"], name: "limit", default: Self.listLimitDefault,
                                     range: 1...Self.listLimitMax)
        let rollouts = try await service.rollouts(phase: phase, limit: limit)
        return JSONResponse.make(["rollouts": rollouts.prefix(limit).map(RolloutSummary.init)])
    }

    func detail(_ id: String) async throws -> Response {
        guard let detail = try await service.rollout(id: id) else { throw APIError.notFound("no rollout \(id)") }
        // Everything the document shows changes with one of these.
        let version = "\(detail.rollout.state.eventCount)/\(detail.pendingEffects)/\(detail.verdicts.count)/"
            + "\(detail.nextWakeAt?.timeIntervalSince1970 ?? -1)"
        guard let body = detailCache.body(for: id, version: version, encode: {
            JSONResponse.body(RolloutDetailDocument(detail))
        }) else {
            return JSONResponse.make(RolloutDetailDocument(detail))
        }
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    func events(_ request: Request, id: String) async throws -> Response {
        let query = request.uri.queryParameters
        let after = try Self.integer(query["after"], name: "after", default: 0, range: 0...Int(Int32.max))
        let limit = try Self.integer(query["limit"], name: "limit", default: EventPage.limitDefault,
                                     range: 1...EventPage.limitMax)
        let records = try await service.events(rolloutId: id, afterSequence: after, limit: limit)
        if records.isEmpty, try await service.rollout(id: id) == nil {
            throw APIError.notFound("no rollout \(id)")
        }
        return JSONResponse.make(EventPage(records: Array(records.prefix(limit)), limit: limit))
    }

    // MARK: writes

    func submit(_ request: Request) async throws -> Response {
        let body = try await collectBody(request)
        guard let text = String(data: body, encoding: .utf8) else {
            throw APIError.badRequest("the plan must be UTF-8 text (YAML or JSON)")
        }
        let fileName = request.uri.queryParameters["file"].map(String.init).flatMap { $0.isEmpty ? nil : $0 } ?? "plan.yaml"
        // Relative artifact paths resolve against the submitting client's plan directory when it sends one
        // (client and worker on one machine); otherwise against the worker's working directory.
        let baseDirectory = request.uri.queryParameters["baseDirectory"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        try checkArtifacts(planSource: text, fileName: fileName, baseDirectory: baseDirectory)
        let result = try await service.submit(planSource: text, fileName: fileName, baseDirectory: baseDirectory)
        var response = JSONResponse.make(SubmitResponse(result), status: result.created ? .created : .ok)
        response.headers[.location] = "/v1/rollouts/\(result.rolloutId)"
        return response
    }

    func control(_ verb: ControlVerb, request: Request, id: String) async throws -> Response {
        let body = try ControlVerb.parseBody(try await collectBody(request))
        let command = try verb.command(body: body)
        let state = try await service.command(command, rolloutId: id)
        return JSONResponse.make(CommandResult(verb: verb, state: state), status: .accepted)
    }

    /// Refuses a plan whose local files lie outside the artifact directories, before the service touches the file
    /// system: this parse checks no file's existence, so a refused caller cannot learn which files exist. A plan
    /// that does not parse is refused here with its problems; missing files (inside the directories) are reported
    /// by the service once the rest is valid.
    func checkArtifacts(planSource: String, fileName: String, baseDirectory: String?) throws {
        let plan = try PlanParser.parse(planSource, file: fileName, baseDirectory: baseDirectory)
        do {
            try artifactPolicy.check(plan, canonicalPath: CanonicalPath.resolve)
        } catch {
            throw APIError.artifactNotAllowed(error, file: fileName)
        }
    }

    // MARK: helpers

    /// The body, bounded by `bodyBytesMax` (413 beyond), refused early when Content-Length already says too much.
    func collectBody(_ request: Request) async throws -> Data {
        let limit = configuration.bodyBytesMax
        let tooLarge = APIError(.contentTooLarge, code: "body_too_large",
                                message: "the request body is larger than \(limit) bytes")
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw tooLarge
        }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw tooLarge
        }
    }

    func rolloutId(_ context: BasicRequestContext) throws -> String {
        guard let id = context.parameters.get("id"), !id.isEmpty else { throw APIError.notFound("no rollout id") }
        return id
    }

    static func integer(_ text: Substring?, name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text, !text.isEmpty else { return value }
        guard let parsed = Int(text), range.contains(parsed) else {
            throw APIError(.badRequest, code: "invalid_parameter",
                           message: "`\(name)` must be an integer in \(range.lowerBound)…\(range.upperBound) (got `\(text)`)")
        }
        return parsed
    }
}
