import Hummingbird
import NodalService

/// Every route but `/api/v1/health` needs `Authorization: Bearer <token>` when the server has a
/// token. Unknown paths need it too, so a client without the token learns nothing about routes.
struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    static var openPaths: Set<String> { [ServerRoutes.prefix + "/health"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.openPaths.contains(request.uri.path) { return try await next(request, context) }
        let failure: String
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                if Self.constantTimeEqual(Array(parts[1].trimmingSpaces().utf8), Array(token.utf8)) {
                    return try await next(request, context)
                }
                failure = "the bearer token is not this server's"
            } else {
                failure = "the Authorization header must be 'Bearer <token>'"
            }
        } else {
            failure = "this server needs a token: send 'Authorization: Bearer <token>'"
        }
        var headers: HTTPFields = [:]
        headers[.wwwAuthenticate] = "Bearer"
        return .error(ServiceError(status: 401, code: "UNAUTHORIZED", failure, field: "Authorization"), headers: headers)
    }

    /// Compares every byte whatever the first difference, so the time taken says nothing about
    /// how much of a guess was right (only, at most, its length).
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: lhs.count ^ rhs.count)
        if lhs.count != rhs.count { difference |= 1 }
        for index in 0..<max(lhs.count, rhs.count) {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            difference |= left ^ right
        }
        return difference == 0
    }
}
