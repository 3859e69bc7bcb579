package import Hummingbird
package import NodalJSON
package import NodalService

/// One operation the server answers, named by its method and its path as the OpenAPI document
/// writes it (relative to `/api/v1`, parameters in braces). The router is built from these, and
/// so are the 405 answers' `Allow` and the test that holds the document to the routes.
package struct ServerRoute: Sendable {
    package typealias Handler = @Sendable (RouteRequest) async throws(ServiceError) -> Response

    package let method: HTTPRequest.Method
    package let path: String
    let handler: Handler

    package init(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        self.method = method
        self.path = path
        self.handler = handler
    }

    /// The names in braces, in order.
    package var parameterNames: [String] {
        path.split(separator: "/").filter { $0.first == "{" && $0.last == "}" }.map { String($0.dropFirst().dropLast()) }
    }

    /// Whether a request path (relative to `/api/v1`) is this route's path, whatever the method.
    package func matches(_ requestPath: some StringProtocol) -> Bool {
        let template = path.split(separator: "/")
        let segments = requestPath.split(separator: "/")
        guard template.count == segments.count else { return false }
        return zip(template, segments).allSatisfy { pattern, segment in pattern.first == "{" || pattern == segment }
    }
}

/// What a handler reads from its request: decoded path parameters, the query, the body.
package struct RouteRequest: Sendable {
    package let request: Request
    package let configuration: ServerConfiguration
    private let pathParameters: [String: String]

    init(request: Request, configuration: ServerConfiguration, pathParameters: [String: String]) {
        self.request = request
        self.configuration = configuration
        self.pathParameters = pathParameters
    }

    /// A path parameter the route declares (present by construction of the route).
    package func path(_ name: String) -> String { pathParameters[name] ?? "" }

    package func query() throws(ServiceError) -> QueryParameters { try QueryParameters(request.uri.query) }

    /// The body as a JSON object, within `configuration.maxBodyBytes`.
    package func object() async throws(ServiceError) -> JSON {
        try await RequestBodyReader.object(of: request, limit: configuration.maxBodyBytes)
    }
}
