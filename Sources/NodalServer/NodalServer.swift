public import Hummingbird
import HummingbirdCore
import NIOCore
public import Logging
public import NodalService
public import ServiceLifecycle
import NodalJSON

/// The router of `nodal serve`: every operation of `ServerRoutes` under `/api/v1`, behind the
/// error layer (JSON bodies, 404/405) and, when `configuration.token` is set, the bearer check.
///
/// `clock` times the event streams' keepalive comments; tests pass one they move by hand.
public func buildRouter(
    service: any RunAPI, configuration: ServerConfiguration, clock: any Clock<Duration> = ContinuousClock()
) -> Router<BasicRequestContext> {
    let routes = ServerRoutes.all(service: service, configuration: configuration, clock: clock)
    let router = Router(context: BasicRequestContext.self)
    // Added before the routes, so they wrap every route and the not-found responder too.
    router.add(middleware: ErrorMiddleware(routes: routes))
    if let token = configuration.token { router.add(middleware: BearerAuthMiddleware(token: token)) }
    for route in routes {
        router.on(RouterPath(ServerRoutes.prefix + route.path), method: route.method) { request, context -> Response in
            var parameters: [String: String] = [:]
            for name in route.parameterNames {
                let raw = context.parameters.get(name) ?? ""
                guard let decoded = PercentEncoding.decodedString(raw) else {
                    throw ServiceError.invalidField(name, "the path parameter '\(name)' is not valid percent-encoded UTF-8")
                }
                parameters[name] = decoded
            }
            return try await route.handler(RouteRequest(request: request, configuration: configuration, pathParameters: parameters))
        }
    }
    return router
}

/// The server as a Hummingbird application listening where `configuration` says, running
/// `services` (the run service) in its service group: started before the server, shut down
/// after it. `onListening` is called with the host and the port bound (the real one when 0
/// was asked for). Refuses a configuration `problem()` names.
public func buildApplication(
    service: any RunAPI, configuration: ServerConfiguration, services: [any Service] = [], logger: Logger,
    onListening: @escaping @Sendable (_ host: String, _ port: Int) async -> Void = { _, _ in }
) throws(ServerSetupError) -> Application<RouterResponder<BasicRequestContext>> {
    if let problem = configuration.problem() { throw ServerSetupError(problem) }
    let router = buildRouter(service: service, configuration: configuration)
    let host = configuration.host
    return Application(
        router: router,
        server: .http1(configuration: HTTP1Channel.Configuration(
            additionalChannelHandlers: [MalformedRequestHandler()], idleTimeout: TimeAmount(configuration.idleTimeout))),
        configuration: ApplicationConfiguration(address: .hostname(host, port: configuration.port), serverName: nil),
        services: services,
        onServerRunning: { channel in await onListening(host, channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}

/// Runs `service` and the server on it until SIGTERM or SIGINT, then shuts down gracefully: the
/// server stops accepting and finishes (cutting waits and event streams short), then the
/// service drains. Returns once both have stopped.
///
/// `workers` (in-process `RunWorker`s) run beside the service and stop before it: they stop
/// claiming and give back what they hold while the service can still answer.
public func runServer(
    service: some RunAPI & Service, configuration: ServerConfiguration, workers: [any Service] = [], logger: Logger,
    onListening: @escaping @Sendable (_ host: String, _ port: Int) async -> Void = { _, _ in }
) async throws {
    let application = try buildApplication(
        service: service, configuration: configuration, services: [service] + workers, logger: logger, onListening: onListening)
    try await application.runService()  // graceful on SIGTERM and SIGINT
}

/// Why the server cannot start with the configuration it was given.
public struct ServerSetupError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension ServerConfiguration {
    /// `http://HOST:PORT`, brackets around an IPv6 address.
    public static func url(host: String, port: Int) -> String {
        host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
    }
}
