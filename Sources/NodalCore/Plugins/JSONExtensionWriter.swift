import NodalJSON
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A writer of the JSON extension: builds one JSON value step by step, as a streaming writer
/// does, refusing any step that is out of place (include/nodal.h, nodal_json's writer).
///
/// Strings and numbers are written by `JSON`'s own writer (JSONWriter.swift), so the text is
/// byte for byte what Nodal writes for the same value. Once a step was refused the writer stays
/// failed and gives no text.
///
/// `@unchecked Sendable`: touched only under its call's lock (it lives in the call's
/// `JSONCallDocuments`), like the call's other state.
final class JSONExtensionWriter: JSONSerialNumbered, @unchecked Sendable {
    let serial: UInt32
    private var bytes: [UInt8] = []
    /// The containers open: how many, and which are objects (a bit each, the innermost at
    /// `depth - 1`; past 64 levels in `deeperObjects`). Only the innermost needs more state: an
    /// enclosing one always has the value being written as a member or element already.
    private var depth = 0
    private var objects: UInt64 = 0
    private var deeperObjects: [Bool] = []
    /// The innermost container has a member or element already (the next one needs a comma).
    private var hasItems = false
    /// The innermost container is an object whose key was written: its value is due.
    private var afterKey = false
    /// The keys of each open object, innermost last (`openObjects` of them in use). A key
    /// written twice would reach the output parser, which keeps one value and drops the other
    /// without a word; String equality is that parser's (JSONObject), so a canonically
    /// equivalent key counts as the same. Slots are emptied and reused, keeping their storage,
    /// so sibling objects allocate nothing.
    private var keySets: [Set<String>] = []
    private var openObjects = 0
    /// The top-level value is complete: nothing more may be written.
    private var complete = false
    private(set) var failed = false
    /// The text handed out by `finished`: a NUL-terminated copy, freed with the writer when the
    /// call ends.
    private var handedOut: (pointer: UnsafePointer<CChar>, count: Int)?

    /// The most bytes the text may have: the node's output limit (`Engine.maxOutputBytes`), since
    /// the text is for `write_output`. Checked after each step, so memory stays within the limit
    /// plus one step's value.
    let limit: Int

    init(serial: UInt32, limit: Int = Int.max) {
        self.serial = serial
        self.limit = limit
        bytes.reserveCapacity(64)
    }

    /// After a step: true while the text is within `limit`. Past it the writer fails, its bytes
    /// are dropped, and the call is marked as having refused an output that large, so the step
    /// fails with OUTPUT_TOO_LARGE whatever the plugin does next.
    func withinLimit(_ state: inout CallState) -> Bool {
        guard bytes.count > limit else { return true }
        state.refusedOutputBytes = bytes.count
        bytes = []
        return refuse()
    }

    deinit {
        if let handedOut { free(UnsafeMutableRawPointer(mutating: handedOut.pointer)) }
    }

    /// Whether the container at `level` (from 0, outermost) is an object.
    private func isObject(_ level: Int) -> Bool {
        level < 64 ? objects & (1 << UInt64(level)) != 0 : deeperObjects[level - 64]
    }

    private var innermostIsObject: Bool { isObject(depth - 1) }

    private func open(object: Bool) {
        if depth < 64 {
            if object { objects |= 1 << UInt64(depth) } else { objects &= ~(1 << UInt64(depth)) }
        } else if depth - 64 < deeperObjects.count {
            deeperObjects[depth - 64] = object
        } else {
            deeperObjects.append(object)
        }
        depth += 1
        hasItems = false
        afterKey = false
        if object {
            if openObjects < keySets.count { keySets[openObjects].removeAll(keepingCapacity: true) } else { keySets.append([]) }
            openObjects += 1
        }
    }

    /// Refuses the step; the writer stays failed.
    private func refuse() -> Bool {
        failed = true
        return false
    }

    /// Whether a value may start here; writes the comma before an array's next element.
    private func startValue() -> Bool {
        guard !failed else { return false }
        if depth > 0 {
            if innermostIsObject {
                guard afterKey else { return refuse() }
            } else if hasItems {
                bytes.append(UInt8(ascii: ","))
            }
        } else if complete {
            return refuse()  // a second top-level value
        }
        return true
    }

    /// After a value (a scalar, or an end): counts it in its container, or completes the writer.
    private func endValue() {
        guard depth > 0 else { complete = true; return }
        hasItems = true
        afterKey = false
    }

    func beginObject() -> Bool {
        guard startValue() else { return false }
        bytes.append(UInt8(ascii: "{"))
        open(object: true)
        return true
    }

    func beginArray() -> Bool {
        guard startValue() else { return false }
        bytes.append(UInt8(ascii: "["))
        open(object: false)
        return true
    }

    func endObject() -> Bool {
        guard !failed, depth > 0, innermostIsObject, !afterKey else { return refuse() }
        depth -= 1
        openObjects -= 1
        bytes.append(UInt8(ascii: "}"))
        endValue()
        return true
    }

    func endArray() -> Bool {
        guard !failed, depth > 0, !innermostIsObject else { return refuse() }
        depth -= 1
        bytes.append(UInt8(ascii: "]"))
        endValue()
        return true
    }

    /// A member's key: only in an object, where a key is due, and not one it has. `utf8` must
    /// be valid UTF-8.
    func key(_ utf8: UnsafeRawBufferPointer) -> Bool {
        guard !failed, depth > 0, innermostIsObject, !afterKey, let literal = Self.literal(utf8) else { return refuse() }
        guard keySets[openObjects - 1].insert(literal.text).inserted else { return refuse() }
        if hasItems { bytes.append(UInt8(ascii: ",")) }
        literal.write(to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
        return true
    }

    func string(_ utf8: UnsafeRawBufferPointer) -> Bool {
        // Checked before the value starts, so that a refused string writes nothing.
        guard let literal = Self.literal(utf8) else { return refuse() }
        return scalar { literal.write(to: &$0) }
    }

    /// A string literal of valid UTF-8, written exactly as `JSON.writeString` writes it: ASCII
    /// with nothing to escape is copied as is (what that writer does with it, without making a
    /// String first); anything else goes through that writer.
    private enum Literal {
        case plain(UnsafeRawBufferPointer)
        case text(String)

        /// As a String, for comparing keys (plain ASCII of up to 15 bytes allocates nothing).
        var text: String {
            switch self {
            case .plain(let utf8): String(decoding: utf8, as: UTF8.self)
            case .text(let text): text
            }
        }

        func write(to out: inout [UInt8]) {
            switch self {
            case .plain(let utf8):
                out.append(UInt8(ascii: "\""))
                out.append(contentsOf: utf8)
                out.append(UInt8(ascii: "\""))
            case .text(let text):
                JSON.writeString(text, to: &out)
            }
        }
    }

    /// Nil when the bytes are not valid UTF-8.
    private static func literal(_ utf8: UnsafeRawBufferPointer) -> Literal? {
        var plain = true
        for byte in utf8 where byte < 0x20 || byte >= 0x80 || byte == 0x22 || byte == 0x5C {
            plain = false
            break
        }
        if plain { return .plain(utf8) }
        return String(validating: utf8, as: UTF8.self).map { .text($0) }
    }

    /// A double, as Nodal writes doubles (`2.0`, `0.1`, `1e+300`). JSON has no NaN or infinity.
    func number(_ value: Double) -> Bool {
        guard value.isFinite else { return refuse() }
        return scalar { JSON.writeDouble(value, to: &$0) }
    }

    /// An integer's decimal digits: the text `JSON.writeInt` writes, without making a String.
    func integer(_ value: Int64) -> Bool {
        scalar { out in
            var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 20 digits and a sign
            var magnitude = value.magnitude
            withUnsafeMutableBytes(of: &digits) { buffer in
                var start = buffer.count
                repeat {
                    start -= 1
                    buffer[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                    magnitude /= 10
                } while magnitude > 0
                if value < 0 {
                    start -= 1
                    buffer[start] = UInt8(ascii: "-")
                }
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start...]))
            }
        }
    }

    func bool(_ value: Bool) -> Bool {
        scalar { $0.append(contentsOf: value ? "true".utf8 : "false".utf8) }
    }

    func null() -> Bool {
        scalar { $0.append(contentsOf: "null".utf8) }
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

    /// The finished text until the call ends (the same copy when asked again), or nil while the
    /// value is incomplete or after a refused step.
    func finished() -> (pointer: UnsafePointer<CChar>, count: Int)? {
        guard complete, !failed else { return nil }
        if let handedOut { return handedOut }
        let count = bytes.count
        let memory = malloc(count + 1)!.assumingMemoryBound(to: UInt8.self)
        bytes.withUnsafeBufferPointer { memory.initialize(from: $0.baseAddress!, count: count) }
        memory[count] = 0
        let kept = (UnsafeRawPointer(memory).assumingMemoryBound(to: CChar.self), count)
        handedOut = kept
        bytes = []  // nothing more can be written: the copy is the text
        return kept
    }
}
