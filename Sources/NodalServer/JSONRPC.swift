package import NodalJSON
package import NodalService

/// JSON-RPC 2.0 over the run service: `runs/submit` and `runs/get` as the seed gives them, with the
/// protocol's own error objects. Knows nothing of HTTP: it takes the body's bytes and returns
/// the reply to send, or nil when there is none (only notifications).
package struct JSONRPC: Sendable {
    package let service: any RunAPI

    package init(service: any RunAPI) { self.service = service }

    /// The protocol's codes (-32000 is the first of the range it leaves to servers).
    package enum Code {
        package static let parseError = -32700
        package static let invalidRequest = -32600
        package static let methodNotFound = -32601
        package static let invalidParams = -32602
        package static let serverError = -32000
    }

    package static let methods = ["runs/submit", "runs/get"]

    /// Calls of one batch running at once.
    package static let batchConcurrency = 64
    /// Calls in one batch at most: past it the batch is refused whole, before any call runs, so a
    /// small body cannot keep the server busy for minutes (found by the hostile review).
    package static let maxBatchCalls = 1_000

    package func reply(to body: [UInt8]) async -> JSON? {
        let message: JSON
        do {
            message = try JSON(parsing: body)
        } catch {
            return Self.error(id: .null, Code.parseError, "Parse error: \(RequestBodyReader.describe(error, in: body))")
        }
        guard case .array(let batch) = message else { return await reply(toOne: message) }
        if batch.isEmpty { return Self.error(id: .null, Code.invalidRequest, "Invalid Request: the batch is empty") }
        if batch.count > Self.maxBatchCalls {
            return Self.error(id: .null, Code.invalidRequest, "Invalid Request: the batch has \(batch.count) calls, more than the \(Self.maxBatchCalls) one batch may have; send it in parts")
        }
        // A batch's calls run together (a `wait` in one must not hold up the others), up to
        // `batchConcurrency` at a time so a body of many small calls cannot start that many
        // tasks; the replies keep the calls' order, leaving out notifications.
        let replies = await withTaskGroup(of: (Int, JSON?).self) { group in
            var replies = [JSON?](repeating: nil, count: batch.count)
            for (index, call) in batch.enumerated() {
                if index >= Self.batchConcurrency, let (done, reply) = await group.next() { replies[done] = reply }
                group.addTask { (index, await reply(toOne: call)) }
            }
            for await (index, reply) in group { replies[index] = reply }
            return replies.compactMap { $0 }
        }
        guard !replies.isEmpty else { return nil }
        return .array(replies)
    }

    /// One call: checked as the spec says, run, and answered unless it is a notification (no
    /// `id`). A call too malformed to tell is answered with a null id, as the spec asks.
    func reply(toOne call: JSON) async -> JSON? {
        guard case .object(let object) = call else {
            return Self.error(id: .null, Code.invalidRequest, "Invalid Request: a call must be an object, not \(call.typeName)")
        }
        let id = object["id"]
        if let id {
            switch id {
            case .string, .int, .null: break
            // Past 2^53 a JSON number read as a double is no longer the number sent, so the
            // answer's id would not match the call's (JSON-RPC requires it to).
            case .double(let number) where number.rounded() == number && abs(number) >= 9_007_199_254_740_992:
                return Self.error(id: .null, Code.invalidRequest, "Invalid Request: 'id' is a number this server cannot answer exactly (an integer past 2^63, or past 2^53 written with a fraction or exponent); send it as a string", data: ["field": "id"])
            case .double: break
            default: return Self.error(id: .null, Code.invalidRequest, "Invalid Request: 'id' must be a string, a number or null, not \(id.typeName)")
            }
        }
        let replyID = id ?? .null
        guard object["jsonrpc"]?.stringValue == "2.0" else {
            return Self.error(id: replyID, Code.invalidRequest, "Invalid Request: 'jsonrpc' must be \"2.0\"")
        }
        guard case .string(let method)? = object["method"] else {
            return Self.error(id: replyID, Code.invalidRequest, "Invalid Request: 'method' must be a string naming the method")
        }
        let params: JSON
        switch object["params"] {
        case nil: params = .object([:])
        case .object?: params = object["params"]!
        case .array?:
            guard id != nil else { return nil }
            return Self.error(id: replyID, Code.invalidParams, "Invalid params: \(method) takes its parameters by name (an object), not a list", data: ["field": "params"])
        case let other?:
            return Self.error(id: replyID, Code.invalidRequest, "Invalid Request: 'params' must be an object or an array, not \(other.typeName)")
        }
        let outcome: Result<JSON, ServiceError>
        switch method {
        case "runs/submit": outcome = await Self.result { () async throws(ServiceError) in try await service.submit(params) }
        case "runs/get": outcome = await Self.result { () async throws(ServiceError) in try await service.status(params) }
        default:
            // A notification's failure goes unanswered too (`JSON?.none`, not JSON's own null).
            guard id != nil else { return nil }
            return Self.error(id: replyID, Code.methodNotFound, "Method not found: \(method) (this server has \(Self.methods.joined(separator: ", ")))", data: ["method": .string(method)])
        }
        guard id != nil else { return nil }
        switch outcome {
        case .success(let result):
            return ["jsonrpc": "2.0", "result": result, "id": replyID]
        case .failure(let error):
            return Self.error(id: replyID, error)
        }
    }

    private static func result(_ body: () async throws(ServiceError) -> JSON) async -> Result<JSON, ServiceError> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    /// A refusal of the service as an error object: bad parameters are -32602 with the field,
    /// anything else -32000 with the HTTP status the REST API would have answered.
    package static func error(id: JSON, _ error: ServiceError) -> JSON {
        var data: JSONObject = ["status": .int(error.status), "error": .string(error.code)]
        if let field = error.field { data["field"] = .string(field) }
        return self.error(id: id, error.status == 400 ? Code.invalidParams : Code.serverError, error.message, data: data)
    }

    package static func error(id: JSON, _ code: Int, _ message: String, data: JSONObject? = nil) -> JSON {
        var object: JSONObject = ["code": .int(code), "message": .string(message)]
        if let data { object["data"] = .object(data) }
        return ["jsonrpc": "2.0", "error": .object(object), "id": id]
    }
}
