package import NodalService

/// Every operation `nodal serve` answers under `/api/v1`: Stepflow's REST API, Nodal's resume,
/// JSON-RPC and the OpenAPI document.
package enum ServerRoutes {
    /// The prefix every route's path is under.
    package static let prefix = "/api/v1"

    package static func all(service: any RunAPI, configuration: ServerConfiguration, clock: any Clock<Duration>) -> [ServerRoute] {
        flows(service) + runs(service) + events(service, keepalive: configuration.eventKeepalive, clock: clock) + blobs(service)
            + self.service(service, limits: configuration.serviceLimits) + jsonRPC(service)
    }
}
