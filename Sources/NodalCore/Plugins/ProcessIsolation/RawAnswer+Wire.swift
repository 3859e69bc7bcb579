import NodalJSON
import CNodal

/// A call's raw answer as the `result` frame carries it: [status, output present ("1"/"0"),
/// output, error JSON (empty: none), refused output size (empty: none)].
extension NativeNode.RawAnswer {
    package var wireFields: [[UInt8]] {
        [
            Int(status).wireField, (output == nil ? "0" : "1").wireField, output ?? [],
            error.map { $0.json.serializedBytes() } ?? [], refusedOutputBytes?.wireField ?? [],
        ]
    }

    /// The answer a `result` frame carries; a malformed one reads as a failure naming the problem.
    init(wire frame: PluginHostWire.Frame) {
        guard frame.fields.count == 5, let status = frame.int(0) else {
            self.init(status: NODAL_ERROR, output: nil, error: StepError(
                code: "PLUGIN_HOST_FAILED", message: "the plugin host sent a result that does not read"), refusedOutputBytes: nil)
            return
        }
        let error = frame.fields[3].isEmpty ? nil : (try? JSON(parsing: frame.fields[3])).flatMap(StepError.init(json:))
        self.init(
            status: Int32(truncatingIfNeeded: status), output: frame.fields[1] == [UInt8(ascii: "1")] ? frame.fields[2] : nil,
            error: error, refusedOutputBytes: frame.int(4))
    }
}
