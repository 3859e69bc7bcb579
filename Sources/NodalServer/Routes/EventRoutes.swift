import Hummingbird
import NodalService

extension ServerRoutes {
    /// `GET /runs/{runId}/events`: the run's journal, then live events, as server-sent events.
    static func events(_ service: any RunAPI, keepalive: Duration, clock: any Clock<Duration>) -> [ServerRoute] {
        [
            ServerRoute(.get, "/runs/{runId}/events") { request async throws(ServiceError) in
                let subscription = try eventSubscription(request)
                let events = try await service.events(runID: request.path("runId"), subscription)
                return EventStream.response(events, keepalive: keepalive, clock: clock)
            }
        ]
    }

    /// A reconnecting client's `Last-Event-ID` wins over `since`: it is the last event it saw,
    /// while `since` stays whatever the URL first said.
    static func eventSubscription(_ request: RouteRequest) throws(ServiceError) -> EventSubscription {
        let query = try request.query()
        // The document says at most 19 digits (every such number fits in 64 bits): a longer one is
        // refused even when it would fit, so that what the document allows and what is taken agree.
        if let text = try query.string("since"), text.utf8.count > 19 {
            throw .invalidField("since", "'since' must be a whole number of at most 19 digits, not '\(text.prefix(40))'")
        }
        var after = try query.uint64("since")
        if let lastEventID = request.request.headers[.lastEventID] {
            guard let sequence = QueryParameters.unsigned(lastEventID.trimmingSpaces()) else {
                throw .invalidField("Last-Event-ID", "the Last-Event-ID header must be an event's id (a whole number up to \(UInt64.max)), not '\(lastEventID.prefix(40))'")
            }
            after = sequence
        }
        let types = try query.enumerationList("eventTypes", SpecEnums.statusEventTypes).compactMap { SpecEnums.specified($0) }
        return EventSubscription(
            after: after, types: Set(types), includeSubRuns: try query.bool("includeSubRuns") ?? false,
            includeResults: try query.bool("includeResults") ?? false)
    }
}

extension String {
    func trimmingSpaces() -> String { self[...].trimmingSpaces() }
}
