import Engine
import Foundation
import Hummingbird
import Logging

/// The worker's HTTP API: health, readiness, Prometheus metrics, rollouts list / detail / events, submit, control
/// verbs, the OpenAPI document and a small HTML status page. See `Sources/StatusAPI/Resources/openapi.json`.
///
/// Run it with `run(onRunning:)`, or put `application()` into a ServiceLifecycle `ServiceGroup` beside the worker
/// (it is a `Service`). Cancelling the task that runs it stops the server.
package struct StatusServer: Sendable {
    package let service: any RolloutService
    package let configuration: StatusServerConfiguration
    let logger: Logger

    package init(service: any RolloutService, configuration: StatusServerConfiguration,
                logger: Logger = Logger(label: "rollout.http")) {
        self.service = service
        self.configuration = configuration
        self.logger = logger
    }

    /// The router with every route, errors answered as JSON.
    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware<BasicRequestContext>())
        router.add(middleware: AccessControlMiddleware<BasicRequestContext>(policy: AccessPolicy(configuration: configuration)))
        StatusRoutes(service: service, configuration: configuration).register(on: router)
        return router
    }

    /// The Hummingbird application (a ServiceLifecycle `Service`). `onRunning` gets the bound port once the
    /// server listens (useful with port 0).
    /// - Throws: `StatusServerConfigurationError` for a configuration that must not run (see `validate()`).
    package func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        throws(StatusServerConfigurationError) -> some ApplicationProtocol {
        try configuration.validate()
        let host = configuration.host == "localhost" ? "127.0.0.1" : configuration.host.trimmingCharacters(in: ["[", "]"])
        let logger = logger
        let port = configuration.port
        return Application(
            router: router(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "rollout"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.info("status API listening", metadata: ["host": "\(host)", "port": "\(bound)"])
                await onRunning(bound)
            },
            logger: logger)
    }

    /// True for the error of a listen address another socket holds (EADDRINUSE). NIO reports it as an `IOError`
    /// whose text carries the system's message; StatusAPI does not import NIO itself, so the text is compared.
    package static func isAddressInUse(_ error: any Error) -> Bool {
        "\(error)".contains(String(cString: strerror(EADDRINUSE)))
    }

    /// Validates the configuration and serves until the surrounding task is cancelled.
    package func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await application(onRunning: onRunning).run()
    }
}
