import NodalJSON
import CNodal

/// `org.nodal.runs.v1` (include/nodal.h, "Runs"): a node submits flows stored as blobs as
/// sub-runs of its run, reads their status and cancels them, with Stepflow's `runs/submit` and
/// `runs/get` requests and replies.
///
/// The engine does the work (`ExtensionHost`); this is the C side: the checks, the request's JSON,
/// the waits and the reply kept in the call's arena. A wait parks the calling thread on the run,
/// never a cooperative thread and never under the call slot's lock, and the blocking-call pool
/// starts a thread in its place (`BlockingCallPool.withCompensation`), so the sub-run's own pooled
/// calls run even when every pool thread is waiting.
enum RunsExtension {
    nonisolated(unsafe) static let table: UnsafeMutablePointer<nodal_runs> = {
        let table = UnsafeMutablePointer<nodal_runs>.allocate(capacity: 1)
        table.initialize(to: nodal_runs())
        table.pointee.struct_size = UInt32(MemoryLayout<nodal_runs>.size)
        // Each: thread, any thread of the call; ownership, `request` borrowed and the reply the
        // call's until it ends. Returns OK (a run status), ERROR ({code, message}) or INVALID (a
        // NULL pointer, a size above PTRDIFF_MAX, a call not in flight; the reply untouched).
        table.pointee.submit = { call, request, length, reply, replyLength in
            serve(call, request, length, reply, replyLength, function: "submit", submit)
        }
        table.pointee.get = { call, request, length, reply, replyLength in
            serve(call, request, length, reply, replyLength, function: "get", get)
        }
        table.pointee.cancel = { call, request, length, reply, replyLength in
            serve(call, request, length, reply, replyLength, function: "cancel", cancel)
        }
        return table
    }()

    /// What the three functions share: the checks, parsing the request, and keeping the reply.
    private static func serve(
        _ call: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ length: Int,
        _ reply: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ replyLength: UnsafeMutablePointer<Int>?,
        function: String, _ body: (ExtensionCall, CallerRun, JSONObject) throws(ExtensionError) -> JSON
    ) -> nodal_status {
        guard let request, let reply, let replyLength, length >= 0, let live = ExtensionCall.live(call) else { return NODAL_INVALID }
        let answer: JSON
        let status: nodal_status
        do throws(ExtensionError) {
            let run = try live.requireRun(function)
            let parsed: JSON
            do {
                parsed = try JSON(parsing: UnsafeRawBufferPointer(start: request, count: length))
            } catch let error {
                throw ExtensionError.invalidRequest(function, "the request is not JSON: \(error)")
            }
            guard case .object(let object) = parsed else {
                throw ExtensionError.invalidRequest(function, "the request must be a JSON object, not \(parsed.typeName)")
            }
            answer = try body(live, run, object)
            status = NODAL_OK
        } catch {
            answer = error.json
            status = NODAL_ERROR
        }
        guard let kept = ExtensionCall.keep(answer.serializedBytes(), in: call) else { return NODAL_INVALID }
        reply.pointee = kept.pointer
        replyLength.pointee = kept.count
        return status
    }

    private static func submit(_ live: ExtensionCall, _ run: CallerRun, _ request: JSONObject) throws(ExtensionError) -> JSON {
        // Refused before anything starts.
        if case .bool(true)? = request["wait"] {
            if live.nonBlocking { throw waitRefused(live, "submit") }
            if run.pool.isPoolThread, run.pool.blockedThreadCount >= run.pool.maxBlockedThreads { throw tooManyWaits("submit", run.pool) }
        }
        let host = run.host
        let submitted = run.pool.blockingWait { () async -> Result<(runID: String, wait: Bool), ExtensionError> in
            do throws(ExtensionError) {
                return .success(try await host.submitRun(.object(request), caller: run))
            } catch {
                return .failure(error)
            }
        }
        let (runID, wait) = try submitted.get()
        if wait {
            do throws(ExtensionError) {
                try waitFor(runID, live, run, "submit")
            } catch {
                // The reply is an error, so nothing may be left running (the header's rule).
                _ = host.cancelRun(id: runID, caller: run)
                throw error
            }
        }
        guard let status = host.runStatus(id: runID, caller: run, includeResults: wait, order: .byIndex) else {
            throw ExtensionError("RUN_NOT_FOUND", "submit: run \(runID) was forgotten before its status was read")
        }
        return status
    }

    private static func get(_ live: ExtensionCall, _ run: CallerRun, _ request: JSONObject) throws(ExtensionError) -> JSON {
        try checkKeys(request, known: ["runId", "wait", "includeResults", "resultOrder", "observability"], function: "get")
        let runID = try self.runID(request, function: "get")
        let wait = try flag(request, "wait", function: "get")
        let includeResults = try flag(request, "includeResults", function: "get")
        let order: ResultOrder
        switch request["resultOrder"] {
        case nil, .null?: order = .byIndex
        case .string(let text)?:
            guard let known = ResultOrder(rawValue: text) else {
                throw ExtensionError.invalidRequest("get", "'resultOrder' must be \"byIndex\" or \"byCompletion\", not \"\(shown(text))\"")
            }
            order = known
        case let other?:
            throw ExtensionError.invalidRequest("get", "'resultOrder' must be \"byIndex\" or \"byCompletion\", not \(other.typeName)")
        }
        if wait && live.nonBlocking { throw waitRefused(live, "get") }
        guard run.host.runStatus(id: runID, caller: run, includeResults: false, order: order) != nil else { throw notFound(runID, "get") }
        if wait { try waitFor(runID, live, run, "get") }
        guard let status = run.host.runStatus(id: runID, caller: run, includeResults: includeResults, order: order) else {
            throw notFound(runID, "get")
        }
        return status
    }

    private static func cancel(_ live: ExtensionCall, _ run: CallerRun, _ request: JSONObject) throws(ExtensionError) -> JSON {
        try checkKeys(request, known: ["runId", "observability"], function: "cancel")
        let runID = try self.runID(request, function: "cancel")
        guard run.host.cancelRun(id: runID, caller: run), let status = run.host.runStatus(id: runID, caller: run, includeResults: false, order: .byIndex) else {
            throw notFound(runID, "cancel")
        }
        return status
    }

    /// Parks the calling thread until the run is done or the call is told to stop (the run
    /// canceled, the step's timeout), with a pool thread started in its place meanwhile.
    private static func waitFor(_ runID: String, _ live: ExtensionCall, _ run: CallerRun, _ function: String) throws(ExtensionError) {
        // The call's token may be the step's own (a timeout) under the run's: a cancel of the run
        // raises the run's, which the step's does not hear of, so both are watched.
        var tokens = [run.cancellation]
        if let token = live.cancellation, token !== run.cancellation { tokens.append(token) }
        guard run.pool.withCompensation({ run.host.waitForRun(id: runID, caller: run, orUntilCancelled: tokens) }) != nil else {
            throw tooManyWaits(function, run.pool)
        }
    }

    private static func tooManyWaits(_ function: String, _ pool: BlockingCallPool) -> ExtensionError {
        ExtensionError(
            "TOO_MANY_WAITS",
            "\(function): \(pool.maxBlockedThreads) plugin calls of this engine wait on runs already (each holds a thread); submit with \"wait\": false and read the status later, or lower the maxConcurrency of the runs that fan out")
    }

    static func waitRefused(_ live: ExtensionCall, _ function: String) -> ExtensionError {
        ExtensionError(
            "WAIT_NOT_ALLOWED",
            "\(function): node \(live.nodeID) is NODAL_NODE_NON_BLOCKING, so it runs on the scheduler's thread and may not wait on a run; submit with \"wait\": false and read the status later, or drop the flag")
    }

    private static func notFound(_ runID: String, _ function: String) -> ExtensionError {
        ExtensionError("RUN_NOT_FOUND", "\(function): no run '\(shown(runID))' was started through the runs extension of this engine (or it was forgotten: the engine keeps the last \(SubRunLimits.finishedRunsKept) finished ones)")
    }

    private static func runID(_ request: JSONObject, function: String) throws(ExtensionError) -> String {
        switch request["runId"] {
        case .string(let id)?: return id
        case nil, .null?: throw ExtensionError.invalidRequest(function, "the request needs 'runId': the id submit replied with")
        case let other?: throw ExtensionError.invalidRequest(function, "'runId' must be a string, not \(other.typeName)")
        }
    }

    static func flag(_ request: JSONObject, _ key: String, function: String) throws(ExtensionError) -> Bool {
        switch request[key] {
        case nil, .null?: return false
        case .bool(let value)?: return value
        case let other?: throw ExtensionError.invalidRequest(function, "'\(key)' must be true or false, not \(other.typeName)")
        }
    }

    /// Text of the request as a refusal shows it: escaped, and cut to its first 64 characters
    /// (a plugin may send a megabyte where an id goes; the message goes into logs and replies).
    static func shown(_ text: String) -> String {
        guard text.count > 64 else { return DisplayText.escaped(text) }
        return "\(DisplayText.escaped(String(text.prefix(64))))… (\(text.utf8.count) bytes)"
    }

    static func checkKeys(_ request: JSONObject, known: [String], function: String) throws(ExtensionError) {
        for key in request.keys where !known.contains(key) {
            throw ExtensionError.invalidRequest(function, "unknown field '\(shown(key))' (known: \(known.joined(separator: ", ")))")
        }
    }
}

/// How many finished sub-runs an engine remembers for `get` (older ones are forgotten; their
/// items stay in the store).
enum SubRunLimits {
    static let finishedRunsKept = 10_000
}
