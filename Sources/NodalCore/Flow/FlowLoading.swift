import NodalJSON
/// What reading a flow knows beyond its own text: the folders its sub-flow files may come from,
/// the files being read (to refuse a sub-flow that includes itself), and the chain of flows it is
/// nested in (to bound nesting). Set for the outermost flow read and seen by every sub-flow read
/// inside it.
struct FlowLoading: Sendable {
    /// Real paths: the outermost flow's folder (the working directory for a flow without a file)
    /// first, then the folders the configuration allows.
    var roots: [String]
    /// Real paths of the flow files being read, outermost first.
    var files: [String] = []
    /// The flows this one is nested in, outermost first ("sub-flow b.yaml (step 'b')", "eval step 'x'").
    var nesting: [String] = []
    /// Refuse keys Nodal does not know instead of ignoring them with a warning.
    var strict = false

    @TaskLocal static var current: FlowLoading?

    init(file: String?, configuration: NodalConfig?, nesting: [String] = [], strict: Bool = false) {
        let base = file.map(FileSystem.directoryName) ?? FileSystem.currentDirectory
        let baseReal = FileSystem.realPath(base) ?? FileSystem.lexicallyNormalized(FileSystem.join(FileSystem.currentDirectory, base))
        roots = [baseReal] + (configuration?.allowedFileFolders ?? []).compactMap { FileSystem.realPath($0) }
        self.nesting = nesting
        self.strict = strict
    }

    /// Runs `body` (which reads a flow) with a loading context: the current one when this read is
    /// inside another (a sub-flow), else a new one for `file` and `configuration`.
    static func reading<T>(
        file: String?, configuration: NodalConfig?, nesting: [String]? = nil, strict: Bool = false, _ body: () throws(FlowError) -> T
    ) throws(FlowError) -> T {
        if current != nil, nesting == nil { return try body() }
        let context = FlowLoading(file: file, configuration: configuration, nesting: nesting ?? [], strict: strict)
        let result = $current.withValue(context) { Result { () throws(FlowError) in try body() } }
        return try result.get()
    }

    /// The error for a chain one level too deep, naming it (shortened in the middle when long).
    static func tooDeep(_ chain: [String]) -> String {
        let shown = chain.count <= 8
            ? chain
            : Array(chain.prefix(4)) + ["... (\(chain.count - 8) more)"] + Array(chain.suffix(4))
        return "flows are nested more than \(Limits.nesting) deep (sub-flows, eval, map and iterate together): \(shown.joined(separator: " -> "))"
    }
}
