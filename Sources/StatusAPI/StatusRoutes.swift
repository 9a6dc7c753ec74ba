import Engine
import Foundation
import Hummingbird
import RolloutCore

/// The handlers of every route. They only await the service (its methods are async and cheap), so nothing here
/// blocks Hummingbird's event loops.
///
/// Read bodies are kept under the read model's revisions (`ResponseCache`): a detail, a list entry or a page section
/// is encoded once per change of its rollout, and a whole list or page once per change of any; an unchanged
/// answer is the same bytes again, without a copy.
struct StatusRoutes: Sendable {
    let service: any RolloutService
    let configuration: StatusServerConfiguration
    /// Resolved once: the configured directories, canonical (validated to exist by the configuration).
    let artifactPolicy: ArtifactPolicy
    /// `GET /v1/rollouts/{id}` bodies, by rollout id and revision.
    let detailBodies = ResponseCache<String, UInt64, ByteBuffer>()
    /// One rollout's summary as the list writes it, by rollout id and revision.
    let summaryBodies = ResponseCache<String, UInt64, ByteBuffer>()
    /// Whole `GET /v1/rollouts` bodies, by filter and the read model's revision.
    let listBodies = ResponseCache<ListFilter, UInt64, ByteBuffer>(entriesMax: 64)
    /// One rollout's section of the status page, by rollout id and revision.
    let pageSections = ResponseCache<String, UInt64, String>()
    /// The status page, by the read model's revision and the second it shows as "rendered".
    let pages = ResponseCache<Int, PageVersion, ByteBuffer>(entriesMax: RolloutPhase.allCases.count + 1)
    /// `/metrics` bodies, by the numbers they show.
    let metricsBodies = ResponseCache<Int, WorkerMetrics, ByteBuffer>(entriesMax: 1)

    struct ListFilter: Hashable, Sendable {
        var phase: RolloutPhase?
        var limit: Int
    }

    struct PageVersion: Equatable, Sendable {
        var revision: UInt64
        var second: Int64
    }

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
        router.get("/") { request, _ in try await statusPage(request) }
        router.get("/rollouts/:id") { _, context in try await rolloutPage(try rolloutId(context)) }
        router.get("/v1/rollouts") { request, _ in try await list(request) }
        router.post("/v1/rollouts") { request, _ in try await submit(request) }
        router.get("/v1/rollouts/:id") { _, context in try await detail(try rolloutId(context)) }
        router.get("/v1/rollouts/:id/events") { request, context in try await events(request, id: try rolloutId(context)) }
        for verb in ControlVerb.allCases {
            router.post("/v1/rollouts/:id/\(verb.rawValue)") { request, context in
                try await control(verb, request: request, id: try rolloutId(context))
            }
        }
        router.get("/v1/rollouts/:id/devices/:thing") { _, context in
            JSONResponse.make(try await service.device(rolloutId: try rolloutId(context), thing: try thing(context)))
        }
        for cancel in [false, true] {
            router.post("/v1/rollouts/:id/devices/:thing/\(cancel ? "cancel" : "exclude")") { request, context in
                try await deviceCommand(cancel: cancel, request: request, id: try rolloutId(context),
                                        thing: try thing(context))
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
        let metrics = await service.metrics()
        let body = metricsBodies.value(for: 0, version: metrics) { ByteBuffer(string: PrometheusExposition.render(metrics)) }
        return Response(status: .ok, headers: [.contentType: PrometheusExposition.contentType],
                        body: ResponseBody(byteBuffer: body))
    }

    func statusPage(_ request: Request) async throws -> Response {
        let now = Date()
        var filter: RolloutPhase?
        if let text = request.uri.queryParameters["phase"], !text.isEmpty {
            guard let phase = RolloutPhase(rawValue: String(text)) else {
                throw APIError.badRequest("unknown phase `\(String(text).prefix(40))`")
            }
            filter = phase
        }
        let key = filter.flatMap { RolloutPhase.allCases.firstIndex(of: $0).map { $0 + 1 } } ?? 0
        // The page shows when it was rendered, to the second: the same second and revision give the same page.
        let second = Int64(now.timeIntervalSince1970.rounded(.down))
        let version = service.readRevision().map { PageVersion(revision: $0, second: second) }
        if let version, let page = pages.cached(key, version: version) { return Self.page(page) }
        let items = try await service.listing(phase: nil, limit: configuration.pageRolloutsMax)
        let entries = items.map { item in
            let section = item.revision == 0 ? StatusPage.section(item.rollout)
                : pageSections.value(for: item.rollout.id, version: item.revision) { StatusPage.section(item.rollout) }
            return StatusPage.Entry(phase: item.rollout.state.displayPhase, section: section)
        }
        let page = ByteBuffer(string: StatusPage.render(entries: entries, refreshSeconds: configuration.pageRefreshSeconds,
                                                        now: now, filter: filter))
        if let version { pages.keep(page, for: key, version: version) }
        return Self.page(page)
    }

    /// One rollout's page: its bars, what it waits for, the legal commands, verdicts, the timeline, the plan.
    func rolloutPage(_ id: String) async throws -> Response {
        guard let detail = try await service.rollout(id: id) else { throw APIError.notFound("no rollout \(id)") }
        let events = try await service.events(rolloutId: id, afterSequence: max(0, detail.rollout.state.eventCount - 200),
                                              limit: 200)
        return Self.page(ByteBuffer(string: RolloutPage.render(detail, events: events,
                                                               refreshSeconds: configuration.pageRefreshSeconds,
                                                               now: Date())))
    }

    static func page(_ body: ByteBuffer) -> Response {
        Response(status: .ok, headers: [.contentType: StatusPage.contentType, .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: body))
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
        let filter = ListFilter(phase: phase, limit: limit)
        // Read before the listing: a change after this makes the next request build the list again.
        let revision = service.readRevision()
        if let revision, let body = listBodies.cached(filter, version: revision) { return JSONResponse.bytes(body) }
        let items = try await service.listing(phase: phase, limit: limit).prefix(limit)
        // `{"rollouts":[…]}` from each rollout's summary, encoded once per change of that rollout: the same bytes as
        // encoding the whole list (compact JSON nests documents unchanged).
        var body = ByteBuffer()
        body.writeString(#"{"rollouts":["#)
        for (index, item) in items.enumerated() {
            let encode = { JSONResponse.body(RolloutSummary(item.rollout)).map { ByteBuffer(bytes: $0) } }
            guard let summary = item.revision == 0 ? encode() : summaryBodies.value(for: item.rollout.id,
                                                                                  version: item.revision, make: encode) else {
                return JSONResponse.make(["rollouts": items.map { RolloutSummary($0.rollout) }])  // answers the error
            }
            if index > 0 { body.writeString(",") }
            body.writeImmutableBuffer(summary)
        }
        body.writeString("]}")
        if let revision { listBodies.keep(body, for: filter, version: revision) }
        return JSONResponse.bytes(body)
    }

    func detail(_ id: String) async throws -> Response {
        if let revision = service.revision(ofRollout: id), revision != 0,
           let body = detailBodies.cached(id, version: revision) {
            return JSONResponse.bytes(body)
        }
        guard let detail = try await service.rollout(id: id) else { throw APIError.notFound("no rollout \(id)") }
        let encode = { JSONResponse.body(RolloutDetailDocument(detail)).map { ByteBuffer(bytes: $0) } }
        guard let body = detail.revision == 0 ? encode() : detailBodies.value(for: id, version: detail.revision,
                                                                              make: encode) else {
            return JSONResponse.make(RolloutDetailDocument(detail))  // answers the error
        }
        return JSONResponse.bytes(body)
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
        let supersede = request.uri.queryParameters["supersede"].map(String.init) == "true"
        let result = try await service.submit(planSource: text, fileName: fileName, baseDirectory: baseDirectory,
                                              supersede: supersede)
        var response = JSONResponse.make(SubmitResponse(result), status: result.created ? .created : .ok)
        response.headers[.location] = "/v1/rollouts/\(result.rolloutId)"
        return response
    }

    /// `exclude` or `cancel` of one device; the body as the control verbs', plus `force` for cancel.
    func deviceCommand(cancel: Bool, request: Request, id: String, thing: String) async throws -> Response {
        let body = try DeviceCommandBody.parse(try await collectBody(request))
        let by = body?.by.flatMap { $0.isEmpty ? nil : $0 } ?? ControlVerb.byDefault
        let reason = body?.reason.flatMap { $0.isEmpty ? nil : $0 }
        if let problem = ControlVerb.problem(by: by, reason: reason ?? "") { throw APIError.badRequest(problem) }
        if !cancel, body?.force != nil { throw APIError.badRequest("`force` applies to cancel only") }
        let state = try await service.excludeDevice(rolloutId: id, thing: thing, cancel: cancel,
                                                    force: body?.force ?? false, by: by, reason: reason)
        return JSONResponse.make(CommandResult(command: cancel ? "cancel" : "exclude", state: state), status: .accepted)
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

    func thing(_ context: BasicRequestContext) throws -> String {
        guard let thing = context.parameters.get("thing"), !thing.isEmpty else { throw APIError.notFound("no thing name") }
        return thing
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
