import NodalCore
import FoundationEssentials
public import NodalJSON

/// `POST /runs/{id}/resume` (Nodal's): answers the items of a run that wait at an interrupt.
extension RunService {
    public func resumeRun(id: String, _ request: JSON) async throws(ServiceError) -> JSON {
        let object = try RequestFields.object(request, known: ["values", "value", "itemIndex", "wait", "timeoutSecs"], what: "request")
        let wait = try RequestFields.flag(object, "wait") ?? false
        let timeout = try RequestFields.timeout(object, maximum: limits.maxWait)
        let itemIndex = try RequestFields.count(object, "itemIndex", minimum: 0)
        let values: [String: JSON]?
        switch object["values"] {
        case nil, .null?: values = nil
        case .object(let given)?:
            guard !given.isEmpty else { throw .invalidField("values", "'values' must give at least one key's value") }
            values = Dictionary(given.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        case let other?: throw .invalidField("values", "'values' must be an object of key to value, not \(other.typeName)")
        }
        let value = object["value"]
        if values != nil && value != nil { throw .invalidField("value", "give either 'value' or 'values', not both") }
        if values == nil && value == nil {
            throw .invalidField("values", "the request needs 'values' ({key: value} for the keys the run waits for) or 'value'")
        }
        try refuseIfShuttingDown()
        let found = try await findRun(id)
        let live: LiveRun?
        var paused: [(index: Int, key: String)]
        let itemCount: Int
        switch found {
        case .live(let run):
            live = run
            paused = run.pausedItems
            itemCount = run.itemCount
        case .stored(let record) where queue != nil && record.status == .paused:
            // A queued run's paused items, as the store has them.
            live = nil
            paused = try await storedView(record).items.compactMap { item in
                guard item.phase == .paused, let key = item.outcome?.pause?.key else { return nil }
                return (item.index, key)
            }
            itemCount = record.itemCount
        case .stored:
            live = nil
            paused = []
            itemCount = 0
        }
        guard !paused.isEmpty else {
            throw ServiceError(status: 409, code: "RUN_NOT_PAUSED", "run \(id) waits for no answer (no item of it is paused)", field: "runId")
        }
        if let itemIndex {
            guard itemIndex < itemCount else {
                throw .invalidField("itemIndex", "'itemIndex' must be from 0 to \(itemCount - 1), not \(itemIndex)")
            }
            paused = paused.filter { $0.index == itemIndex }
            guard !paused.isEmpty else {
                throw ServiceError(status: 409, code: "RUN_NOT_PAUSED", "item \(itemIndex) of run \(id) is not waiting for an answer", field: "itemIndex")
            }
        }
        let waitedFor = Set(paused.map(\.key))
        var answers: [(index: Int, key: String, value: JSON)] = []
        if let value {
            guard waitedFor.count == 1 else {
                throw .invalidField("value", "the paused items wait for different keys (\(waitedFor.sorted().joined(separator: ", "))): answer with 'values'")
            }
            answers = paused.map { ($0.index, $0.key, value) }
        } else if let values {
            for key in values.keys.sorted() where !waitedFor.contains(key) {
                throw .invalidField("values.\(RequestFields.shown(key))", "run \(id) waits for no value for '\(RequestFields.shown(key))' (it waits for: \(waitedFor.sorted().joined(separator: ", ")))")
            }
            answers = paused.compactMap { item in values[item.key].map { (item.index, item.key, $0) } }
        }
        guard let run = live else {
            // Queued: the store takes each answered item out of `paused`, so of two resumes one gets it.
            var byItem: [Int: [String: JSON]] = [:]
            for answer in answers { byItem[answer.index, default: [:]][answer.key] = answer.value }
            let queued: [Int]
            do {
                queued = try await queue!.resumeQueuedItems(runID: id, answers: byItem, now: Date().roundedForStore)
            } catch {
                throw Self.storeFailed("resume run \(id)", error)
            }
            guard !queued.isEmpty else {
                throw ServiceError(status: 409, code: "RUN_NOT_PAUSED", "run \(id) was answered by another resume first", field: "runId")
            }
            guard wait else { return ["summary": RunShapes.summary(try await view(of: try await findRun(id), itemsToo: false).header)] }
            return try await settledReply(runID: id, within: timeout ?? limits.defaultWait)
        }
        // Taking an item out of `paused` is the claim on its answer: of two resumes, one gets it.
        let taken = answers.filter { run.itemStarting($0.index) }
        guard !taken.isEmpty else {
            throw ServiceError(status: 409, code: "RUN_NOT_PAUSED", "run \(id) was answered by another resume first", field: "runId")
        }
        let record = run.record(lastSequence: run.journal.events.last?.sequence)
        await run.writes.run { [store] in try? await store.putServiceRun(record) }
        for answer in taken {
            track { [self] in await runItem(run, answer.index, resume: true, values: [answer.key: answer.value]) }
        }
        guard wait else { return ["summary": RunShapes.summary(run.header)] }
        await settled(run, within: timeout ?? limits.defaultWait)
        let view = run.view
        var reply: JSONObject = ["summary": RunShapes.summary(view.header)]
        if view.header.status != .running { reply["results"] = RunShapes.items(view, byCompletion: false) }
        return .object(reply)
    }
}
