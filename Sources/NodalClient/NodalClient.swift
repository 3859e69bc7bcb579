public import AsyncHTTPClient
public import NodalJSON
import FoundationEssentials

/// A client of a Nodal server (`nodal serve`), or of any server with Stepflow's REST API: store a
/// flow, start runs of it over one or many inputs, and follow them through `RemoteRun` handles.
///
/// Every call throws a `NodalClientError` (or `CancellationError` when its task is cancelled):
/// `.transport` when the server cannot be reached, `.server(status:)` with the server's error
/// body when it refuses, `.invalidReply` when the reply is not the API's.
public final class NodalClient: Sendable {
    let connection: Connection

    /// - Parameter baseURL: the server, e.g. `http://127.0.0.1:7837`, with or without `/api/v1`.
    /// - Parameter token: sent as `Authorization: Bearer TOKEN` (a server bound beyond loopback
    ///   asks for one).
    /// - Parameter httpClient: the AsyncHTTPClient to send with (its timeouts and pool apply).
    public convenience init(baseURL: String, token: String? = nil, httpClient: HTTPClient = .shared) {
        self.init(baseURL: baseURL, token: token, transport: HTTPClientTransport(client: httpClient, maxReplyBytes: 256 << 20))
    }

    package init(baseURL: String, token: String? = nil, transport: any ClientTransport) {
        connection = Connection(root: APIRoot(baseURL), token: token, transport: transport)
    }

    /// The API root calls go to (`.../api/v1`); nil when the base URL is not an http(s) URL.
    public var apiRoot: String? { connection.root.root }

    // MARK: Flows

    /// Stores a flow (`POST /flows`) and returns its id, the blob id runs name it by. A flow the
    /// server refuses to store (fatal diagnostics) throws `.flowRejected` with the reply as body.
    public func storeFlow(_ flow: JSON) async throws -> String {
        let reply = try await connection.call("POST", ["flows"], body: ["flow": flow])
        let flowID = try ReplyReader(reply, "reply to POST /flows").string("flowId")
        if reply["stored"]?.boolValue == false {
            let fatal = (reply["diagnostics"]?["diagnostics"]?.arrayValue ?? [])
                // The level's name, or its number (1 fatal, 2 error) from a server that writes enums so.
                .filter { ["DIAGNOSTIC_LEVEL_FATAL", "DIAGNOSTIC_LEVEL_ERROR"].contains($0["level"]?.stringValue ?? "") || [1, 2].contains($0["level"]?.intValue ?? 0) }
                .compactMap { diagnostic in diagnostic["formatted"]?.stringValue.map { text in diagnostic["path"]?.stringValue.map { "\($0): \(text)" } ?? text } }
            throw NodalClientError(.flowRejected, "the server did not store the flow" + (fatal.isEmpty ? "" : ": " + fatal.joined(separator: "; ")), body: reply)
        }
        return flowID
    }

    /// The stored flow (`GET /flows/{flowId}`).
    public func flow(id: String) async throws -> JSON {
        try ReplyReader(try await connection.call("GET", ["flows", id]), "reply to GET /flows/{flowId}").object("flow")
    }

    // MARK: Runs

    /// Starts a run of a stored flow over `inputs`, one item each (`POST /runs`). With
    /// `options.wait` the server answers once the run ended (or its wait ran out) and the
    /// handle's `lastResults` holds the item results.
    public func startRun(flowID: String, inputs: [JSON], options: RunStartOptions = RunStartOptions()) async throws -> RemoteRun {
        var body: JSONObject = ["flowId": .string(flowID), "input": .array(inputs)]
        if let overrides = options.overrides { body["overrides"] = .object(overrides) }
        if let variables = options.variables { body["variables"] = .object(variables) }
        if let maxConcurrency = options.maxConcurrency { body["maxConcurrency"] = .int(maxConcurrency) }
        var timeout = Connection.callTimeout
        if options.wait {
            body["wait"] = true
            // The spec types it a string (proto3's JSON for 64 bits); a number is what Stepflow's
            // own server accepts, and proto3's readers take numbers too.
            if let wait = options.timeout {
                body["timeoutSecs"] = .int(Int(wait.wholeSecondsRoundedUp))
                timeout = wait + Connection.callTimeout
            } else {
                timeout = .seconds(300) + Connection.callTimeout
            }
        }
        let reply = try await connection.call("POST", ["runs"], body: .object(body), timeout: timeout)
        let run = try RunReply(reply, "reply to POST /runs")
        return RemoteRun(id: run.summary.runID, connection: connection, summary: run.summary, results: run.results)
    }

    /// A handle on a run by its id, without asking the server anything (`refresh()` does).
    public func run(id: String) -> RemoteRun {
        RemoteRun(id: id, connection: connection)
    }

    /// Runs newest first, filtered (`GET /runs`).
    public func listRuns(_ query: RunListQuery = RunListQuery()) async throws -> [RunSummary] {
        let reply = try await connection.call("GET", ["runs"], query: query.queryItems)
        // proto3's JSON leaves an empty list out.
        let runs = reply["runs"] == nil ? [] : try ReplyReader(reply, "reply to GET /runs").array("runs")
        var summaries: [RunSummary] = []
        for run in runs { summaries.append(try RunSummary(json: run)) }
        return summaries
    }

    // MARK: Blobs

    /// Stores JSON as a blob (`POST /blobs`) and returns its content-addressed id.
    public func putBlob(_ json: JSON) async throws -> String {
        let reply = try await connection.call("POST", ["blobs"], body: ["jsonData": json, "blobType": "data"])
        return try ReplyReader(reply, "reply to POST /blobs").string("blobId")
    }

    /// Stores bytes as a blob (sent base64-encoded as `rawData`) and returns its id.
    public func putBlob(bytes: [UInt8], contentType: String? = nil, filename: String? = nil) async throws -> String {
        var body: JSONObject = ["rawData": .string(Data(bytes).base64EncodedString()), "blobType": "binary"]
        if let contentType { body["contentType"] = .string(contentType) }
        if let filename { body["filename"] = .string(filename) }
        let reply = try await connection.call("POST", ["blobs"], body: .object(body))
        return try ReplyReader(reply, "reply to POST /blobs").string("blobId")
    }

    /// A stored blob (`GET /blobs/{blobId}`).
    public func blob(id: String) async throws -> Blob {
        let reply = try await connection.call("GET", ["blobs", id])
        _ = try ReplyReader(reply, "reply to GET /blobs/{blobId}")
        let content: Blob.Content
        if let raw = reply["rawData"]?.stringValue {
            guard let bytes = Data(base64Encoded: raw) else {
                throw NodalClientError(.invalidReply, "blob \(id): rawData is not base64", body: reply)
            }
            content = .bytes(Array(bytes))
        } else if let json = reply["jsonData"] {
            content = .json(json)
        } else {
            throw NodalClientError(.invalidReply, "blob \(id): the reply has neither jsonData nor rawData", body: reply)
        }
        return Blob(
            id: reply["blobId"]?.stringValue ?? id, content: content, blobType: reply["blobType"]?.stringValue,
            contentType: reply["contentType"]?.stringValue, filename: reply["filename"]?.stringValue)
    }

    // MARK: The server

    /// `GET /health`: `{status, timestamp, build}`.
    public func health() async throws -> JSON {
        try await connection.call("GET", ["health"])
    }

    /// `GET /components`: `{components: [{path, plugin, componentId, description, inputSchema,
    /// outputSchema}], complete, failedPlugins}`.
    public func components(excludeSchemas: Bool = false) async throws -> JSON {
        try await connection.call("GET", ["components"], query: excludeSchemas ? [("excludeSchemas", "true")] : [])
    }
}

/// `{summary, results?}`, the reply of starting, waiting on, cancelling or resuming a run.
struct RunReply {
    var summary: RunSummary
    var results: [ItemResult]?

    init(_ reply: JSON, _ what: String) throws(NodalClientError) {
        summary = try RunSummary(json: try ReplyReader(reply, what).object("summary"))
        if let list = reply["results"]?.arrayValue {
            var results: [ItemResult] = []
            for item in list { results.append(try ItemResult(json: item)) }
            self.results = results
        }
    }
}
