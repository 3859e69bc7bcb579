public import NodalJSON
internal import Yams

extension Flow {
    /// Reads a flow from a YAML or JSON file.
    ///
    /// - Parameter configuration: the engine's configuration, whose `files: allow:` folders
    ///   sub-flow files may come from besides the flow's own folder (nil: only that folder).
    /// - Parameter strict: refuse keys Nodal does not know (on the flow and its steps) instead
    ///   of ignoring them with a warning in `warnings`.
    public init(contentsOfFile path: String, configuration: NodalConfig? = nil, strict: Bool = false) throws(FlowError) {
        self = try FlowLoading.reading(file: path, configuration: configuration, strict: strict) { () throws(FlowError) in
            let text: String
            do throws(FileSystemError) { text = try FileSystem.readText(path) } catch { throw FlowError(file: path, error.reason) }
            return path.hasSuffix(".json") ? try Flow(json: text, file: path) : try Flow(yaml: text, file: path)
        }
    }

    /// Reads a flow from YAML text (JSON text is YAML too). `strict` as for `init(contentsOfFile:)`.
    public init(yaml text: String, file: String? = nil, configuration: NodalConfig? = nil, strict: Bool = false) throws(FlowError) {
        self = try FlowLoading.reading(file: file, configuration: configuration, strict: strict) { () throws(FlowError) in
            guard let node = try YAMLConversion.compose(text, file: file) else {
                throw FlowError(file: file, "the flow is empty")
            }
            var flow = try Flow(document: try YAMLConversion.json(node, file: file), file: file)
            flow.sourceHash = flow.combinedHash(ContentHash.sha256Hex(text))
            flow.locateWarnings(in: node)
            return flow
        }
    }

    /// Reads a flow from JSON text. `strict` as for `init(contentsOfFile:)`.
    public init(json text: String, file: String? = nil, configuration: NodalConfig? = nil, strict: Bool = false) throws(FlowError) {
        self = try FlowLoading.reading(file: file, configuration: configuration, strict: strict) { () throws(FlowError) in
            var flow = try Flow(document: try TextInput.parseJSON(text, file: file), file: file)
            flow.sourceHash = flow.combinedHash(ContentHash.sha256Hex(text))
            // The JSON parser keeps no positions; JSON is YAML, so find the lines the slow way,
            // and only when there is something to place.
            if flow.warnings.contains(where: { $0.file == file && $0.line == nil }),
               let node = try? YAMLConversion.compose(text, file: file) {
                flow.locateWarnings(in: node)
            }
            return flow
        }
    }

    /// Fills in the line of this file's own warnings from its composed document.
    private mutating func locateWarnings(in node: Node) {
        let unplaced = warnings.indices.filter { warnings[$0].file == file && warnings[$0].line == nil }
        let lines = YAMLConversion.lines(of: unplaced.map { warnings[$0].location }, in: node)
        for (index, line) in zip(unplaced, lines) { warnings[index].line = line }
    }

    static let knownKeys: Set<String> = [
        "schema", "$schema", "name", "description", "version", "schemas", "inputSchema", "outputSchema",
        "steps", "output", "test", "metadata", "examples", "variables", "input_schema", "output_schema",
    ]
    static let knownStepKeys: Set<String> = [
        "id", "component", "input", "onError", "mustExecute", "inputSchema", "outputSchema", "description",
        "metadata", "timeout", "cache", "flow", "input_schema", "output_schema",
    ]

    /// A flow's hash covers its sub-flows' files, so a resume notices a changed sub-flow too.
    fileprivate func combinedHash(_ ownHash: String) -> String {
        let subflowHashes = steps.compactMap { $0.subflow?.flow.sourceHash }
        if subflowHashes.isEmpty { return ownHash }
        return ContentHash.sha256Hex(([ownHash] + subflowHashes).joined(separator: "\n"))
    }

    /// Builds a flow from its parsed document, checking every part of it.
    ///
    /// - Parameter configuration: as for `init(contentsOfFile:configuration:)`.
    public init(document: JSON, file: String? = nil, configuration: NodalConfig? = nil, strict: Bool = false) throws(FlowError) {
        self = try FlowLoading.reading(file: file, configuration: configuration, strict: strict) { () throws(FlowError) in
            try Flow(checking: document, file: file)
        }
    }

    private init(checking document: JSON, file: String?) throws(FlowError) {
        let loading = FlowLoading.current
        nesting = loading?.nesting ?? []
        guard case .object(let root) = document else {
            throw FlowError(file: file, "a flow must be a mapping with 'steps' and 'output', not \(document.typeName)")
        }
        // A document with neither, and keys no flow has, is not a flow: refused even though
        // unknown keys are otherwise only warned about. A sub-flow file is named by a flow (it
        // may be any file in its folder), so its keys, which may be a secret's, are not shown.
        let unknownKeys = root.keys.filter { !Self.knownKeys.contains($0) }
        if root["steps"] == nil, root["output"] == nil, !unknownKeys.isEmpty {
            if loading?.files.isEmpty == false {
                throw FlowError(file: file, "not a flow: a flow is a mapping with 'steps' and 'output', and this file has neither (its keys are not shown)")
            }
            throw FlowError(file: file, "not a flow: a flow is a mapping with 'steps' and 'output', and this one has neither (its keys: \(unknownKeys.prefix(10).map { DisplayText.escaped($0) }.joined(separator: ", ")))")
        }
        let strict = loading?.strict ?? false
        var warnings: [FlowWarning] = []
        for key in root.keys where !Self.knownKeys.contains(key) {
            let known = "known: \(Self.knownKeys.sorted().joined(separator: ", "))"
            if strict { throw FlowError(file: file, field: key, "unknown flow key (\(known))") }
            warnings.append(FlowWarning(file: file, field: key, location: [.key(key)], "unknown flow key, ignored (\(known))"))
        }
        self.file = file
        name = try Self.optionalString(root, "name", file: file)
        description = try Self.optionalString(root, "description", file: file)
        // Stepflow has spelled these three ways over time.
        inputSchema = root["inputSchema"] ?? root["input_schema"] ?? root["schemas"]?["properties"]?["input"]
        outputSchema = root["outputSchema"] ?? root["output_schema"] ?? root["schemas"]?["properties"]?["output"]
        if case .object? = root["schemas"] { schemasDocument = root["schemas"] }

        // First pass: step ids, so references can be checked in any order.
        let rawSteps: [JSON]
        switch root["steps"] {
        case nil, .null?: rawSteps = []
        case .array(let list)?: rawSteps = list
        case let other?: throw FlowError(file: file, field: "steps", "'steps' must be a list, not \(other.typeName)")
        }
        var indexes: [String: Int] = [:]
        indexes.reserveCapacity(rawSteps.count)
        for (position, raw) in rawSteps.enumerated() {
            guard case .object(let object) = raw else {
                throw FlowError(file: file, field: "steps[\(position)]", "a step must be a mapping, not \(raw.typeName)")
            }
            guard case .string(let id)? = object["id"], !id.isEmpty else {
                throw FlowError(file: file, field: "steps[\(position)].id", "every step needs a non-empty string 'id'")
            }
            if indexes[id] != nil {
                throw FlowError(file: file, step: id, field: "id", "two steps have the id '\(id)'")
            }
            indexes[id] = position
        }
        stepIndexes = indexes

        var steps: [FlowStep] = []
        steps.reserveCapacity(rawSteps.count)
        for (position, raw) in rawSteps.enumerated() {
            let object = raw.objectValue!
            let id = object["id"]!.stringValue!
            for key in object.keys where !Self.knownStepKeys.contains(key) {
                let known = "known: \(Self.knownStepKeys.sorted().joined(separator: ", "))"
                if strict { throw FlowError(file: file, step: id, field: key, "unknown step key (\(known))") }
                warnings.append(FlowWarning(
                    file: file, step: id, field: key, location: [.key("steps"), .index(position), .key(key)],
                    "unknown step key, ignored (\(known))"))
            }
            var step = try Self.step(object, position: position, indexes: indexes, flowSchemas: root["schemas"], file: file)
            if let path = raw["flow"]?.stringValue {
                let subflow = try Self.readSubflow(path, step: step.id, parentFile: file)
                warnings += subflow.warnings
                step.subflow = Subflow(path: path, flow: subflow)
            }
            steps.append(step)
        }
        self.steps = steps
        self.warnings = warnings
        // A sub-flow's steps are known as `step.inner` in checkpoints and resume keys; a step of
        // this flow with such an id would be mistaken for one of them.
        for step in steps where step.subflow != nil {
            if let clash = steps.first(where: { $0.id.hasPrefix(step.id + ".") }) {
                throw FlowError(file: file, step: clash.id, field: "id", "the id '\(clash.id)' reads as a step inside sub-flow step '\(step.id)'; rename one of them")
            }
        }

        let parser = ExpressionParser(stepIndexes: indexes, file: file, step: nil)
        output = try parser.parse(root["output"] ?? .null, field: "output")
        testCases = try Self.testCases(root["test"], file: file)
        try Self.checkForCycles(steps, file: file)
        compiledSchemas = compilingSchemas()
    }

    private static func step(
        _ object: JSONObject, position: Int, indexes: [String: Int], flowSchemas: JSON?, file: String?
    ) throws(FlowError) -> FlowStep {
        let id = object["id"]!.stringValue!
        let component: String
        switch (object["component"], object["flow"]) {
        case (.string(let route)?, nil) where !route.isEmpty:
            component = route
        case (nil, .string(let path)?) where !path.isEmpty:
            // A sub-flow step; the flow itself is read by the caller.
            component = "flow:" + path
        case (.some, .some):
            throw FlowError(file: file, step: id, field: "flow", "a step has either a 'component' or a 'flow' (a sub-flow file), not both")
        case (nil, let flow?):
            throw FlowError(file: file, step: id, field: "flow", "'flow' must be the path of a flow file, not \(flow)")
        default:
            throw FlowError(file: file, step: id, field: "component", "every step needs a 'component' route such as '/builtin/create_messages' (or a 'flow' file to run as a sub-flow)")
        }
        guard component.hasPrefix("/") || object["flow"] != nil else {
            throw FlowError(file: file, step: id, field: "component", "component '\(component)' must be a route starting with '/'")
        }
        let parser = ExpressionParser(stepIndexes: indexes, file: file, step: id)
        let input = try parser.parse(object["input"] ?? .object(JSONObject()), field: "input")
        var dependencies: [Int] = []
        input.collectEagerSteps(into: &dependencies)
        let onError = try errorPolicy(object["onError"], step: id, file: file)
        let mustExecute: Bool
        switch object["mustExecute"] {
        case nil, .null?: mustExecute = false
        case .bool(let value)?: mustExecute = value
        case let other?: throw FlowError(file: file, step: id, field: "mustExecute", "must be true or false, not \(other.typeName)")
        }
        var timeout: Double?
        switch object["timeout"] {
        case nil, .null?: break
        case let value?:
            timeout = try number(value, in: .timeout, unit: " of seconds", file: file, step: id, field: "timeout")
        }
        let cache: Bool
        switch object["cache"] {
        case nil, .null?: cache = false
        case .bool(let value)?: cache = value
        case let other?: throw FlowError(file: file, step: id, field: "cache", "must be true or false, not \(other.typeName)")
        }
        return FlowStep(
            id: id, component: component, input: input, onError: onError, mustExecute: mustExecute,
            timeout: timeout, cache: cache, schemas: try StepSchemas.read(object, id: id, position: position, flowSchemas: flowSchemas, file: file),
            eagerDependencies: uniqued(dependencies))
    }

    /// Reads a sub-flow file named by a step's `flow` key, relative to the parent's folder.
    ///
    /// The file must be inside the outermost flow's folder (after resolving symlinks) or a folder
    /// a trusted configuration allows (`files: allow:`), as for `load_file`: a flow must not be
    /// able to make Nodal read `/etc/passwd` or `~/.ssh/id_rsa` and show parts of it in errors.
    /// A path outside gets the same error whether or not it exists.
    private static func readSubflow(_ path: String, step: String, parentFile: String?) throws(FlowError) -> Flow {
        let loading = FlowLoading.current ?? FlowLoading(file: parentFile, configuration: nil)
        let base = parentFile.map(FileSystem.directoryName) ?? FileSystem.currentDirectory
        let baseReal = FileSystem.realPath(base) ?? FileSystem.lexicallyNormalized(FileSystem.join(FileSystem.currentDirectory, base))
        let joined = FileSystem.join(baseReal, path)
        let existing = FileSystem.realPath(joined)
        let real = existing ?? FileSystem.resolvingExistingAncestor(FileSystem.lexicallyNormalized(joined))
        guard loading.roots.contains(where: { FileSystem.isInside(real, folder: $0) }) else {
            throw FlowError(file: parentFile, step: step, field: "flow", """
                sub-flow '\(path)' is outside the flow's folder (\(loading.roots[0])) and the folders a trusted \
                configuration allows, so it is not read. To allow its folder, add it to files: { allow: [...] } \
                in a configuration you name with --config FILE (or in \(NodalConfig.userFolderDescription)/nodal-config.yml)
                """)
        }
        guard existing != nil, FileSystem.isFile(real) else {
            throw FlowError(file: parentFile, step: step, field: "flow", "sub-flow file '\(path)' does not exist (looked for \(real))")
        }
        let reading = loading.files + (parentFile.map { [FileSystem.realPath($0) ?? $0] } ?? [])
        if reading.contains(real) {
            let chain = (reading.drop(while: { $0 != real }) + [real]).map(FileSystem.baseName)
            throw FlowError(file: parentFile, step: step, field: "flow", "sub-flows include each other: \(chain.joined(separator: " -> "))")
        }
        let level = "sub-flow \(FileSystem.baseName(path)) (step '\(step)')"
        guard loading.nesting.count < Limits.nesting else {
            throw FlowError(file: parentFile, step: step, field: "flow", FlowLoading.tooDeep(loading.nesting + [level]))
        }
        var inner = loading
        inner.files = reading
        inner.nesting.append(level)
        let resolved = FileSystem.join(base, path)
        do {
            return try FlowLoading.$current.withValue(inner) { try Flow(contentsOfFile: resolved) }
        } catch var error as FlowError {
            // The sub-flow's own error names its file, step and field; say where it was included.
            error.message += " (sub-flow of step '\(step)' in \(parentFile ?? "the flow"))"
            throw error
        } catch {
            throw FlowError(file: parentFile, step: step, field: "flow", "cannot read sub-flow \(resolved): \(error)")
        }
    }

    private static func errorPolicy(_ value: JSON?, step: String, file: String?) throws(FlowError) -> ErrorPolicy {
        guard let value, !value.isNull else { return .fail }
        guard case .object(let object) = value, case .string(let action)? = object["action"] else {
            throw FlowError(file: file, step: step, field: "onError", "'onError' needs an 'action' (fail, useDefault, retry or continue)")
        }
        func number(_ key: String, default fallback: Double, in range: NumericRange, unit: String = "") throws(FlowError) -> Double {
            guard let raw = object[key], !raw.isNull else { return fallback }
            return try Self.number(raw, in: range, unit: unit, file: file, step: step, field: "onError.\(key)")
        }
        switch action {
        case "fail":
            return .fail
        case "useDefault":
            return .useDefault(object["defaultValue"] ?? .null)
        case "continue":
            return .continue
        case "retry":
            // In range, so the conversion to Int cannot trap.
            let maxRetries = try number("maxRetries", default: 3, in: .maxRetries)
            return .retry(RetryPolicy(
                maxRetries: Int(maxRetries),
                initialInterval: .clampedSeconds(try number("initialInterval", default: 0, in: .interval, unit: " of seconds")),
                multiplier: try number("multiplier", default: 2, in: .multiplier),
                maxInterval: .clampedSeconds(try number("maxInterval", default: 30, in: .interval, unit: " of seconds")),
                jitter: try number("jitter", default: 0, in: .jitter)))
        default:
            throw FlowError(file: file, step: step, field: "onError.action", "unknown action '\(action)' (known: fail, useDefault, retry, continue)")
        }
    }

    /// A numeric key's value, or an error naming the file, step, field, value and allowed range.
    private static func number(_ value: JSON, in range: NumericRange, unit: String, file: String?, step: String, field: String) throws(FlowError) -> Double {
        if let number = range.check(value) { return number }
        let problem: String
        switch value {
        case .int(let number): problem = "\(number) is out of range"
        case .double(let number): problem = "\(number) is out of range"
        default: problem = "\(value.typeName) is not a number"
        }
        throw FlowError(file: file, step: step, field: field, "\(problem): must be \(range.text(unit: unit))")
    }

    private static func testCases(_ value: JSON?, file: String?) throws(FlowError) -> [FlowTestCase] {
        guard let value, !value.isNull else { return [] }
        guard case .array(let cases)? = value["cases"] ?? .array([]) else {
            throw FlowError(file: file, field: "test.cases", "'test.cases' must be a list")
        }
        var result: [FlowTestCase] = []
        for (index, raw) in cases.enumerated() {
            guard case .object(let object) = raw else {
                throw FlowError(file: file, field: "test.cases[\(index)]", "a test case must be a mapping")
            }
            result.append(FlowTestCase(
                name: object["name"]?.stringValue ?? "case \(index + 1)",
                description: object["description"]?.stringValue,
                input: object["input"] ?? .object(JSONObject()),
                expected: object["output"]))
        }
        return result
    }

    private static func optionalString(_ object: JSONObject, _ key: String, file: String?) throws(FlowError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case let other?: throw FlowError(file: file, field: key, "'\(key)' must be a string, not \(other.typeName)")
        }
    }

    /// Rejects a cycle among steps (counting references on every branch), naming the steps on it.
    private static func checkForCycles(_ steps: [FlowStep], file: String?) throws(FlowError) {
        // Iterative depth-first search: 0 unvisited, 1 on the current path, 2 done.
        var state = [UInt8](repeating: 0, count: steps.count)
        var references: [[Int]] = steps.map { step in
            var all: [Int] = []
            step.input.collectAllSteps(into: &all)
            return uniqued(all)
        }
        for start in steps.indices where state[start] == 0 {
            var stack: [(node: Int, next: Int)] = [(start, 0)]
            state[start] = 1
            while let top = stack.last {
                let edges = references[top.node]
                if top.next < edges.count {
                    stack[stack.count - 1].next += 1
                    let target = edges[top.next]
                    if state[target] == 1 {
                        let path = stack.map(\.node)
                        var cycle = path[path.firstIndex(of: target)!...].map { steps[$0].id } + [steps[target].id]
                        // A cycle through thousands of steps is named by its ends, not in full.
                        if cycle.count > 20 {
                            cycle = cycle.prefix(10) + ["... \(cycle.count - 20) more steps ..."] + cycle.suffix(10)
                        }
                        throw FlowError(file: file, step: steps[target].id, field: "input",
                            "steps form a cycle: \(cycle.joined(separator: " -> "))")
                    }
                    if state[target] == 0 {
                        state[target] = 1
                        stack.append((target, 0))
                    }
                } else {
                    state[top.node] = 2
                    stack.removeLast()
                }
            }
        }
        references.removeAll()
    }
}

func uniqued(_ values: [Int]) -> [Int] {
    if values.count < 2 { return values }
    var seen = Set<Int>()
    return values.filter { seen.insert($0).inserted }
}
