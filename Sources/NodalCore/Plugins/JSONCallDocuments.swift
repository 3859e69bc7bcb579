import NodalJSON
import Synchronization

/// The JSON extension's documents and writers of one call, and what its handles mean.
///
/// A value handle packs a document's serial (high 32 bits) and a node of that document plus one
/// (low 32 bits); a writer handle is a serial with the low bits zero, so no writer handle is a
/// value handle. Serials come from one process-wide counter, so a handle of another call (or a
/// made-up one) names no document of this call and reads as missing; and since every lookup
/// checks the node against the document's own table, no handle reaches memory it should not.
///
/// `@unchecked Sendable`: it lives in the call's `CallState` and is only touched under the call
/// slot's lock (through `CallTable.withLiveCall`), one thread at a time, as `CallArena` is.
final class JSONCallDocuments: @unchecked Sendable {
    private var documents: [UInt32: JSONCallDocument] = [:]
    private var writers: [UInt32: JSONExtensionWriter] = [:]
    /// The input's root handle once parsed (0 if the input was not JSON).
    private var inputRoot: UInt64?

    /// Never 0, so that no handle is 0 (NODAL_JSON_NONE, "no writer").
    private static let serials = Atomic<UInt32>(0)
    private static func nextSerial() -> UInt32 {
        while true {
            let serial = serials.wrappingAdd(1, ordering: .relaxed).newValue
            if serial != 0 { return serial }
        }
    }

    /// The input's root value, parsed on first use from the bytes invoke got.
    func input(_ bytes: [UInt8]) -> UInt64 {
        if let inputRoot { return inputRoot }
        let root = (try? JSON(parsing: bytes)).map(add) ?? 0
        inputRoot = root
        return root
    }

    /// Makes `root` a document of the call; returns its root handle.
    func add(_ root: JSON) -> UInt64 {
        let serial = Self.nextSerial()
        documents[serial] = JSONCallDocument(root)
        return UInt64(serial) << 32 | 1
    }

    /// The document and node `handle` names, if it is a value of this call.
    func resolve(_ handle: UInt64) -> (document: JSONCallDocument, node: Int)? {
        let node = Int(handle & 0xFFFF_FFFF) - 1
        guard node >= 0, let document = documents[UInt32(handle >> 32)], node < document.nodeCount else { return nil }
        return (document, node)
    }

    /// The handle of `node`, a node of the document `like` is a value of.
    func handle(_ node: Int, like value: UInt64) -> UInt64 {
        value & 0xFFFF_FFFF_0000_0000 | UInt64(node + 1)
    }

    func newWriter() -> UInt64 {
        let serial = Self.nextSerial()
        writers[serial] = JSONExtensionWriter()
        return UInt64(serial) << 32
    }

    /// The writer `handle` names, if it is a writer of this call.
    func writer(_ handle: UInt64) -> JSONExtensionWriter? {
        guard handle & 0xFFFF_FFFF == 0 else { return nil }
        return writers[UInt32(handle >> 32)]
    }
}

extension CallState {
    /// The call's JSON documents and writers, made on first use.
    var jsonDocuments: JSONCallDocuments {
        mutating get {
            if let json { return json }
            let documents = JSONCallDocuments()
            json = documents
            return documents
        }
    }
}

/// One read-only document of a call: its values as a table of nodes, node 0 the root.
///
/// A container's children get nodes (side by side, in document order) the first time they are
/// asked for, so a plugin that reads one field of a large input does not pay for the rest. Each
/// node holds its value (the parsed `JSON`, shared, not copied).
final class JSONCallDocument {
    private struct Node {
        let value: JSON
        /// The node of the first child, once the children have nodes; -1 before.
        var firstChild: Int = -1
    }

    private var nodes: [Node]
    /// Key to member position, for objects past `JSONObject`'s own linear-search size.
    private var keyTables: [Int: [String: Int]] = [:]
    /// The C strings handed out for a string node (`string`) or a member's key (`member`), so
    /// that asking again gives the same pointer and costs nothing.
    private var strings: [Int: (pointer: UnsafePointer<CChar>, count: Int)] = [:]
    private var keys: [Int: (pointer: UnsafePointer<CChar>, count: Int)] = [:]

    /// Handles hold node + 1 in 32 bits.
    static let maximumNodes = Int(UInt32.max) - 1
    static let linearSearchLimit = 16

    init(_ root: JSON) { nodes = [Node(value: root)] }

    var nodeCount: Int { nodes.count }

    func value(_ node: Int) -> JSON { nodes[node].value }

    /// The node of the first child of a container (its children, `count` of them, follow it),
    /// giving them nodes if they have none yet. Nil for scalars, and for a document that would
    /// outgrow its handles.
    func firstChild(_ node: Int) -> Int? {
        if nodes[node].firstChild >= 0 { return nodes[node].firstChild }
        let first = nodes.count
        switch nodes[node].value {
        case .array(let elements):
            guard first + elements.count <= Self.maximumNodes else { return nil }
            nodes.reserveCapacity(first + elements.count)
            for element in elements { nodes.append(Node(value: element)) }
        case .object(let object):
            guard first + object.count <= Self.maximumNodes else { return nil }
            nodes.reserveCapacity(first + object.count)
            for entry in object.entries { nodes.append(Node(value: entry.value)) }
        default:
            return nil
        }
        nodes[node].firstChild = first
        return first
    }

    /// Elements of an array, members of an object, else 0.
    func count(_ node: Int) -> Int {
        switch nodes[node].value {
        case .array(let elements): elements.count
        case .object(let object): object.count
        default: 0
        }
    }

    /// The position of the member whose key has exactly these UTF-8 bytes (no Unicode
    /// normalization: a C plugin compares bytes), if `node` is an object that has it.
    func position(ofKey key: [UInt8], inObject node: Int) -> Int? {
        guard case .object(let object) = nodes[node].value else { return nil }
        let entries = object.entries
        if entries.count <= Self.linearSearchLimit {
            return entries.firstIndex { $0.key.utf8.elementsEqual(key) }
        }
        if keyTables[node] == nil {
            var table: [String: Int] = [:]
            table.reserveCapacity(entries.count)
            for (index, entry) in entries.enumerated() { table[entry.key] = index }
            keyTables[node] = table
        }
        // String lookup is by canonical equivalence; the bytes must match as well.
        guard let name = String(validating: key, as: UTF8.self), let index = keyTables[node]?[name],
              entries[index].key.utf8.elementsEqual(key) else { return nil }
        return index
    }

    /// The node `steps` lead to from `node`, if there is one.
    func follow(_ steps: [JSONExtensionPath.Step], from node: Int) -> Int? {
        var current = node
        for step in steps {
            switch step {
            case .key(let key):
                guard let position = position(ofKey: key, inObject: current), let first = firstChild(current) else { return nil }
                current = first + position
            case .index(let index):
                guard case .array(let elements) = nodes[current].value, index < elements.count,
                      let first = firstChild(current) else { return nil }
                current = first + index
            }
        }
        return current
    }

    /// A string node's text, NUL-terminated, kept in `arena` until the call ends.
    func cString(_ node: Int, arena: CallArena) -> (pointer: UnsafePointer<CChar>, count: Int)? {
        if let kept = strings[node] { return kept }
        guard case .string(let text) = nodes[node].value else { return nil }
        let kept = arena.keep(text)
        strings[node] = kept
        return kept
    }

    /// The key of member `position` of the object `node` (whose children have nodes, the first
    /// being `first`), kept in `arena` until the call ends.
    func cKey(_ position: Int, ofObject node: Int, first: Int, arena: CallArena) -> (pointer: UnsafePointer<CChar>, count: Int)? {
        if let kept = keys[first + position] { return kept }
        guard case .object(let object) = nodes[node].value, position < object.count else { return nil }
        let kept = arena.keep(object.entries[position].key)
        keys[first + position] = kept
        return kept
    }
}
