import NodalJSON

/// A writer of the JSON extension: builds one JSON value step by step, as a streaming writer
/// does, refusing any step that is out of place (include/nodal.h, nodal_json's writer).
///
/// Strings and numbers are written by `JSON`'s own writer (JSONWriter.swift), so the text is
/// byte for byte what Nodal writes for the same value. Once a step was refused the writer stays
/// failed and gives no text.
///
/// Touched only under its call's lock (it lives in the call's `JSONCallDocuments`).
final class JSONExtensionWriter {
    private enum Kind { case object, array }

    private struct Frame {
        let kind: Kind
        /// Members or elements written so far.
        var count = 0
        /// In an object: a key was written and its value is due.
        var afterKey = false
    }

    private var bytes: [UInt8] = []
    private var open: [Frame] = []
    /// The top-level value is complete: nothing more may be written.
    private var complete = false
    private(set) var failed = false
    /// The text handed out by `finished`, kept in the call's arena.
    private var handedOut: (pointer: UnsafePointer<CChar>, count: Int)?

    /// Refuses the step; the writer stays failed.
    private func refuse() -> Bool {
        failed = true
        return false
    }

    /// Whether a value may start here; writes the comma before an array's next element.
    private func startValue() -> Bool {
        guard !failed else { return false }
        if let top = open.last {
            switch top.kind {
            case .array: if top.count > 0 { bytes.append(UInt8(ascii: ",")) }
            case .object: guard top.afterKey else { return refuse() }
            }
        } else if complete {
            return refuse()  // a second top-level value
        }
        return true
    }

    /// After a value (a scalar, or an end): counts it in its container, or completes the writer.
    private func endValue() {
        guard !open.isEmpty else { complete = true; return }
        open[open.count - 1].count += 1
        open[open.count - 1].afterKey = false
    }

    func beginObject() -> Bool {
        guard startValue() else { return false }
        bytes.append(UInt8(ascii: "{"))
        open.append(Frame(kind: .object))
        return true
    }

    func beginArray() -> Bool {
        guard startValue() else { return false }
        bytes.append(UInt8(ascii: "["))
        open.append(Frame(kind: .array))
        return true
    }

    func endObject() -> Bool {
        guard !failed, let top = open.last, top.kind == .object, !top.afterKey else { return refuse() }
        open.removeLast()
        bytes.append(UInt8(ascii: "}"))
        endValue()
        return true
    }

    func endArray() -> Bool {
        guard !failed, let top = open.last, top.kind == .array else { return refuse() }
        open.removeLast()
        bytes.append(UInt8(ascii: "]"))
        endValue()
        return true
    }

    /// A member's key: only in an object, where a key is due. `utf8` must be valid UTF-8.
    func key(_ utf8: UnsafeRawBufferPointer) -> Bool {
        guard !failed, let top = open.last, top.kind == .object, !top.afterKey,
              let key = String(validating: utf8, as: UTF8.self) else { return refuse() }
        if top.count > 0 { bytes.append(UInt8(ascii: ",")) }
        JSON.writeString(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        open[open.count - 1].afterKey = true
        return true
    }

    func string(_ utf8: UnsafeRawBufferPointer) -> Bool {
        guard let text = String(validating: utf8, as: UTF8.self) else { return refuse() }
        return scalar { JSON.writeString(text, to: &$0) }
    }

    /// A double, as Nodal writes doubles (`2.0`, `0.1`, `1e+300`). JSON has no NaN or infinity.
    func number(_ value: Double) -> Bool {
        guard value.isFinite else { return refuse() }
        return scalar { JSON.writeDouble(value, to: &$0) }
    }

    func integer(_ value: Int64) -> Bool {
        scalar { JSON.writeInt(Int(value), to: &$0) }
    }

    func bool(_ value: Bool) -> Bool {
        scalar { $0.append(contentsOf: value ? Array("true".utf8) : Array("false".utf8)) }
    }

    func null() -> Bool {
        scalar { $0.append(contentsOf: Array("null".utf8)) }
    }

    /// A whole value of a document, compact, keys in document order.
    func value(_ value: JSON) -> Bool {
        scalar { value.write(to: &$0, sortedKeys: false) }
    }

    /// A value that needs no begin and end: written in one go where a value may start.
    private func scalar(_ write: (inout [UInt8]) -> Void) -> Bool {
        guard startValue() else { return false }
        write(&bytes)
        endValue()
        return true
    }

    /// Refuses a step whose argument was bad (a NULL pointer, a handle that is not a value).
    func refuseArgument() -> Bool { refuse() }

    /// The finished text, kept in `arena` until the call ends (the same copy when asked again),
    /// or nil while the value is incomplete or after a refused step.
    func finished(arena: CallArena) -> (pointer: UnsafePointer<CChar>, count: Int)? {
        guard complete, !failed else { return nil }
        if let handedOut { return handedOut }
        let kept = arena.keep(bytes)
        handedOut = kept
        return kept
    }
}
