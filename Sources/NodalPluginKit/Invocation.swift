// One call of a node through the C ABI: the input parsed, the Swift node run, and every outcome
// (output, thrown error, cancellation) turned into what include/nodal.h expects. Nothing a node
// throws gets past this: invoke is a C function.

internal import CNodal

enum Invocation {
    /// The `invoke` of every node this Kit describes (include/nodal.h: nodal_node.invoke).
    ///
    /// Thread: whichever thread the host calls it on; the Kit adds no locking (the node's flags
    /// tell the host whether it may call concurrently).
    /// Ownership: `node` is one of this Kit's descriptors; `host` is the host's table for the life
    /// of the process; `input` is borrowed for the call and copied (parsed) before the node runs;
    /// the output is handed to host->write_output, which copies it.
    /// Returns NODAL_OK after writing the output, NODAL_ERROR after setting the error (or after
    /// the host refused the output as too large: the host then reports that itself), or
    /// NODAL_CANCELLED when the node stopped because the host said the call was cancelled.
    static func invoke(
        _ node: UnsafePointer<nodal_node>?, _ host: UnsafePointer<nodal_host>?, _ call: OpaquePointer?,
        _ input: UnsafePointer<CChar>?, _ length: Int
    ) -> nodal_status {
        guard let host else { return NODAL_ERROR }  // no host: nothing to answer through
        let table = HostTable(pointer: host)
        guard let node, let data = node.pointee.node_data else {
            setError(table, call, NodeError(code: "NODE_FAILED", message: "NodalPluginKit: invoke was called without this node's descriptor"))
            return NODAL_ERROR
        }
        let box = Unmanaged<NodeBox>.fromOpaque(data).takeUnretainedValue()
        let context = NodeContext(host: table, call: CallHandle(pointer: call), nodeID: box.id)

        let parsed: JSON
        do {
            guard let input, length > 0 else {
                setError(table, call, .invalidInput("input is not valid JSON: it is empty"))
                return NODAL_ERROR
            }
            parsed = try JSON(parsing: UnsafeRawBufferPointer(start: input, count: length))
        } catch {
            setError(table, call, .invalidInput("input is not valid JSON: \(error)"))
            return NODAL_ERROR
        }

        let output: JSON
        do {
            output = try box.node.run(parsed, context: context)
        } catch let error as NodeError {
            setError(table, call, error)
            return NODAL_ERROR
        } catch is CancellationError where context.isCancelled {
            return NODAL_CANCELLED
        } catch is CancellationError {
            // NODAL_CANCELLED without a cancellation is a bug the host would report vaguely.
            setError(table, call, NodeError(code: "NODE_FAILED", message: "node \(box.id) threw CancellationError, but the call was not cancelled"))
            return NODAL_ERROR
        } catch {
            setError(table, call, NodeError(code: "NODE_FAILED", message: String(describing: error)))
            return NODAL_ERROR
        }

        if let field = output.firstNonFiniteNumber(at: "") {
            setError(table, call, NodeError(
                code: "OUT_OF_RANGE",
                message: "the output\(field.isEmpty ? "" : " field '\(field)'") of node \(box.id) is not a finite number, which JSON cannot hold"))
            return NODAL_ERROR
        }
        guard let write = table.field(\.write_output).flatMap({ $0 }) else { return NODAL_ERROR }
        let bytes = output.serializedBytes()
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { write(call, $0.baseAddress, $0.count) }
        }
        switch status {
        case NODAL_OK: return NODAL_OK
        case NODAL_ERROR: return NODAL_ERROR  // over the host's output limit: it says so itself
        default:
            setError(table, call, NodeError(code: "OUTPUT_REJECTED", message: "the host refused the output of node \(box.id) (status \(status))"))
            return NODAL_ERROR
        }
    }

    /// host->set_error with the error's code, message and details.
    static func setError(_ host: HostTable, _ call: OpaquePointer?, _ error: NodeError) {
        guard let setError = host.field(\.set_error).flatMap({ $0 }) else { return }
        let details = error.details.map { $0.serializedBytes() } ?? []
        _ = error.code.withoutNULs.withCString { code in
            error.message.withoutNULs.withCString { message in
                details.withUnsafeBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) { details in
                        setError(call, code, message, details.isEmpty ? nil : details.baseAddress, details.count)
                    }
                }
            }
        }
    }
}

extension JSON {
    /// The path of the first NaN or infinity in the value ("" for the value itself), or nil.
    func firstNonFiniteNumber(at path: String) -> String? {
        switch self {
        case .double(let number) where !number.isFinite: return path
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                if let found = element.firstNonFiniteNumber(at: "\(path)[\(index)]") { return found }
            }
        case .object(let object):
            for (key, value) in object {
                if let found = value.firstNonFiniteNumber(at: path.isEmpty ? key : "\(path).\(key)") { return found }
            }
        default: break
        }
        return nil
    }
}
