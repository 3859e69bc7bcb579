/// The filters and paging of `GET /runs`, as the server read them from the query (types checked
/// there; values checked by the service, which names the parameter when one is refused).
public struct RunQuery: Sendable, Hashable {
    /// `EXECUTION_STATUS_*` as the spec spells it.
    public var status: String?
    public var flowName: String?
    public var rootRunID: String?
    public var parentRunID: String?
    public var rootsOnly: Bool?
    public var maxDepth: Int?
    public var limit: Int?
    public var offset: Int?

    public init(
        status: String? = nil, flowName: String? = nil, rootRunID: String? = nil, parentRunID: String? = nil,
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
}
