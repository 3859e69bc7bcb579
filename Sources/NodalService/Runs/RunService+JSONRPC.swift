import NodalCore
public import NodalJSON

/// The seed's JSON-RPC methods `runs/submit` and `runs/get` (params in, result out; the server
/// frames them). Runs they start are the same runs `POST /runs` starts.
extension RunService {
    public func submit(_ params: JSON) async throws(ServiceError) -> JSON {
        let object = try RequestFields.object(
            params, known: ["flowId", "inputs", "wait", "maxConcurrency", "overrides", "variables", "observability"], what: "params")
        let wait = try RequestFields.flag(object, "wait") ?? false
        let run = try await begin(try await prepareRun(object, itemsKey: "inputs"))
        if wait { await settled(runID: run.id, within: limits.defaultWait) }
        let view = try await view(of: try await findRun(run.id), itemsToo: wait)
        return RunShapes.rpcStatus(view, includeResults: wait, byCompletion: false)
    }

    public func status(_ params: JSON) async throws(ServiceError) -> JSON {
        let object = try RequestFields.object(params, known: ["runId", "wait", "includeResults", "resultOrder", "observability"], what: "params")
        let runID: String
        switch object["runId"] {
        case .string(let id)?: runID = id
        case nil, .null?: throw .invalidField("runId", "the request needs 'runId': the id runs/submit answered with")
        case let other?: throw .invalidField("runId", "'runId' must be a string, not \(other.typeName)")
        }
        let wait = try RequestFields.flag(object, "wait") ?? false
        let includeResults = try RequestFields.flag(object, "includeResults") ?? false
        let byCompletion: Bool
        switch object["resultOrder"] {
        case nil, .null?, .string("byIndex")?: byCompletion = false
        case .string("byCompletion")?: byCompletion = true
        case .string(let other)?:
            throw .invalidField("resultOrder", "'resultOrder' must be \"byIndex\" or \"byCompletion\", not \"\(RequestFields.shown(other))\"")
        case let other?: throw .invalidField("resultOrder", "'resultOrder' must be \"byIndex\" or \"byCompletion\", not \(other.typeName)")
        }
        if wait { await settled(runID: runID, within: limits.defaultWait) }
        let view = try await view(of: try await findRun(runID))
        return RunShapes.rpcStatus(view, includeResults: includeResults, byCompletion: byCompletion)
    }
}
