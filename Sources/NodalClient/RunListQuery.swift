/// The filters and paging of `NodalClient.listRuns` (`GET /runs`); nil leaves a filter out.
public struct RunListQuery: Sendable, Hashable {
    public var status: ExecutionStatus?
    public var flowName: String?
    /// The root run and every run under it.
    public var rootRunID: String?
    /// Direct children of this run.
    public var parentRunID: String?
    /// Only runs that no other run submitted.
    public var rootsOnly: Bool?
    /// At most this deep under the root (0: roots only).
    public var maxDepth: Int?
    public var limit: Int?
    public var offset: Int?

    public init(
        status: ExecutionStatus? = nil, flowName: String? = nil, rootRunID: String? = nil, parentRunID: String? = nil,
        rootsOnly: Bool? = nil, maxDepth: Int? = nil, limit: Int? = nil, offset: Int? = nil
    ) {
        self.status = status
        self.flowName = flowName
        self.rootRunID = rootRunID
        self.parentRunID = parentRunID
        self.rootsOnly = rootsOnly
        self.maxDepth = maxDepth
        self.limit = limit
        self.offset = offset
    }

    var queryItems: [(String, String)] {
        var items: [(String, String)] = []
        if let status { items.append(("status", status.serverValue)) }
        if let flowName { items.append(("flowName", flowName)) }
        if let rootRunID { items.append(("rootRunId", rootRunID)) }
        if let parentRunID { items.append(("parentRunId", parentRunID)) }
        if let rootsOnly { items.append(("rootsOnly", String(rootsOnly))) }
        if let maxDepth { items.append(("maxDepth", String(maxDepth))) }
        if let limit { items.append(("limit", String(limit))) }
        if let offset { items.append(("offset", String(offset))) }
        return items
    }
}
