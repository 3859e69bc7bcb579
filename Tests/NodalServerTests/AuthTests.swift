import Hummingbird
import HummingbirdTesting
import NodalJSON
import NodalServer
import Testing

/// With a token, every route but health needs `Authorization: Bearer <token>`.
@Suite struct AuthTests {
    static let configuration = ServerConfiguration(token: "s3cret-token")

    @Test func requestsWithoutTheTokenAre401WithTheChallenge() async throws {
        let service = FakeRunAPI()
        try await withRouter(service, configuration: Self.configuration) { client in
            let cases: [(HTTPRequest.Method, String, HTTPFields)] = [
                (.get, "/api/v1/runs", [:]),
                (.post, "/api/v1/runs", [.authorization: "Bearer wrong"]),
                (.get, "/api/v1/openapi.json", [.authorization: "Bearer s3cret-toke"]),
                (.get, "/api/v1/runs/r1/events", [.authorization: "Bearer s3cret-token-and-more"]),
                (.post, "/api/v1/jsonrpc", [.authorization: "Basic czNjcmV0LXRva2Vu"]),
                (.get, "/api/v1/flows/f", [.authorization: "s3cret-token"]),
                // Unknown routes too: a client without the token learns nothing about routes.
                (.get, "/api/v1/nope", [:]),
                (.put, "/api/v1/runs", [:]),
            ]
            for (method, uri, headers) in cases {
                let response = try await client.send(method, uri, json: method == .post ? "{}" : nil, headers: headers)
                #expect(response.status == .unauthorized, "\(method) \(uri)")
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
                #expect(response.json["error"] == "UNAUTHORIZED")
                #expect(response.json["field"] == "Authorization")
            }
        }
        #expect(service.calls.isEmpty)
    }

    @Test func theTokenOpensEveryRouteAndHealthNeedsNone() async throws {
        let service = FakeRunAPI()
        try await withRouter(service, configuration: Self.configuration) { client in
            #expect(try await client.send(.get, "/api/v1/health").status == .ok)
            for authorization in ["Bearer s3cret-token", "bearer s3cret-token", "Bearer  s3cret-token "] {
                let response = try await client.send(.get, "/api/v1/runs/r1", headers: [.authorization: authorization])
                #expect(response.status == .ok, "\(authorization)")
            }
        }
        #expect(service.calls.map(\.method) == ["health", "run", "run", "run"])
    }

    @Test func withoutATokenNothingIsChecked() async throws {
        let response = try await withRouter { client in try await client.send(.get, "/api/v1/runs/r1") }
        #expect(response.status == .ok)
    }
}
