import NodalJSON
import CNodal
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The JSON extension's documents and writers of one call, and what its handles mean.
///
/// A value handle packs a document's serial (high 32 bits) and a node of that document plus one
/// (low 32 bits); a writer handle is a serial with the low bits zero, so no writer handle is a
/// value handle. Serials come from one process-wide counter, so a handle of another call (or a
/// made-up one) names no document of this call and reads as missing; and since every lookup
/// checks the node against the document's own table, no handle reaches memory it should not.
///
/// Kept inline in the call's `CallState` (empty until the plugin asks for something, then a
/// few small arrays), so a call that uses no JSON pays nothing and one that does pays no table
/// of its own. Only touched under the call slot's lock (through `CallTable.withLiveCall`).
struct JSONCallDocuments: Sendable {
    /// The call's first document and writer (most calls have one of each: the input and the
    /// output), then the others in the order they were made, which is by serial unless the
    /// counter wrapped during the call.
    private var documents = JSONSerialTable<JSONCallDocument>()
    private var writers = JSONSerialTable<JSONExtensionWriter>()
    /// The input's root handle once parsed (0 if the input was not JSON).
    private var inputRoot: UInt64?

    /// Never 0, so that no handle is 0 (NODAL_JSON_NONE, "no writer").
    private static let serials = Atomic<UInt32>(0)
    static func nextSerial() -> UInt32 {
        while true {
            let serial = serials.wrappingAdd(1, ordering: .relaxed).newValue
            if serial != 0 { return serial }
        }
    }

    /// The input's root value: the value the caller parsed already, or else the bytes invoke
    /// got, parsed on first use.
    mutating func input(_ context: CallContext) -> UInt64 {
        if let inputRoot { return inputRoot }
        let value = context.inputValue ?? (try? JSON(parsing: context.input))
        let root = value.map { add($0) } ?? 0
        inputRoot = root
        return root
    }

    /// Makes `root` a document of the call; returns its root handle.
    mutating func add(_ root: JSON) -> UInt64 {
        let serial = Self.nextSerial()
        documents.append(JSONCallDocument(root, serial: serial))
        return UInt64(serial) << 32 | 1
    }

    /// The document and node `handle` names, if it is a value of this call.
    func resolve(_ handle: UInt64) -> (document: JSONCallDocument, node: Int)? {
        let node = Int(handle & 0xFFFF_FFFF) - 1
        guard node >= 0, let document = documents.find(UInt32(handle >> 32)), node < document.nodeCount else { return nil }
        return (document, node)
    }

    /// The handle of `node`, a node of the document `like` is a value of.
    static func handle(_ node: Int, like value: UInt64) -> UInt64 {
        value & 0xFFFF_FFFF_0000_0000 | UInt64(node + 1)
    }

    mutating func newWriter(limit: Int) -> UInt64 {
        let serial = Self.nextSerial()
        writers.append(JSONExtensionWriter(serial: serial, limit: limit))
        return UInt64(serial) << 32
    }

    /// The writer `handle` names, if it is a writer of this call.
    func writer(_ handle: UInt64) -> JSONExtensionWriter? {
        guard handle & 0xFFFF_FFFF == 0 else { return nil }
        return writers.find(UInt32(handle >> 32))
    }
}

/// What the call's tables find entries by.
protocol JSONSerialNumbered: AnyObject, Sendable {
    var serial: UInt32 { get }
}

/// A call's documents or writers by serial: the first inline (no array for a call that makes
/// one), the rest in the order they were made.
struct JSONSerialTable<Item: JSONSerialNumbered>: Sendable {
    private var first: Item?
    private var rest: [Item] = []
    /// Whether `rest` is in serial order (it is, unless the counter wrapped during the call).
    private var bySerial = true

    mutating func append(_ item: Item) {
        guard first != nil else { first = item; return }
        if let last = rest.last, item.serial < last.serial { bySerial = false }
        rest.append(item)
    }

    /// The first entry, the newest (what a plugin just made), then by binary search, or one by
    /// one after the counter wrapped.
    func find(_ serial: UInt32) -> Item? {
        guard let first else { return nil }
        if first.serial == serial { return first }
        guard let last = rest.last else { return nil }
        if last.serial == serial { return last }
        guard bySerial else { return rest.first { $0.serial == serial } }
        var low = 0, high = rest.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let found = rest[middle].serial
            if found == serial { return rest[middle] }
            if found < serial { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }
}

/// One read-only document of a call: its values as a table of nodes, node 0 the root.
///
/// A container's children get nodes (side by side, in document order) the first time they are
/// asked for, so a plugin that reads one field of a large input does not pay for the rest. Each
/// node holds its value (the parsed `JSON`, shared, not copied).
///
/// `@unchecked Sendable`: only touched under its call's lock, like the call's other state.
final class JSONCallDocument: JSONSerialNumbered, @unchecked Sendable {
    private struct Node {
        let value: JSON
        /// The value's nodal_json_type and its elements or members, read once here so that
        /// `type` and `count` do not unpack the value each time.
        let type: Int32
        let count: Int
        /// The node of the first child, once the children have nodes; -1 before.
        var firstChild: Int = -1

        init(value: JSON) {
            self.value = value
            switch value {
            case .null: (type, count) = (NODAL_JSON_NULL, 0)
            case .bool: (type, count) = (NODAL_JSON_BOOL, 0)
            case .int, .double: (type, count) = (NODAL_JSON_NUMBER, 0)
            case .string: (type, count) = (NODAL_JSON_STRING, 0)
            case .array(let elements): (type, count) = (NODAL_JSON_ARRAY, elements.count)
            case .object(let object): (type, count) = (NODAL_JSON_OBJECT, object.count)
            }
        }
    }

    let serial: UInt32
    private var nodes: [Node]
    /// Key to member position, for objects past `linearSearchLimit` members.
    private var keyTables: [Int: [String: Int]] = [:]
    /// The C strings handed out for a string node (`string`) or a member's key (`member`), so
    /// that asking again gives the same pointer and costs nothing. Freed with the document, when
    /// the call ends.
    private var strings: [Int: (pointer: UnsafePointer<CChar>, count: Int)] = [:]
    private var keys: [Int: (pointer: UnsafePointer<CChar>, count: Int)] = [:]

    /// Handles hold node + 1 in 32 bits.
    static let maximumNodes = Int(UInt32.max) - 1
    static let linearSearchLimit = 16

    init(_ root: JSON, serial: UInt32) {
        self.serial = serial
        // Room for the root's children too: most plugins read a field of their input.
        let root = Node(value: root)
        nodes = []
        nodes.reserveCapacity(1 + min(root.count, 32))
        nodes.append(root)
    }

    deinit {
        for kept in strings.values { free(UnsafeMutableRawPointer(mutating: kept.pointer)) }
        for kept in keys.values { free(UnsafeMutableRawPointer(mutating: kept.pointer)) }
    }

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
    func count(_ node: Int) -> Int { nodes[node].count }

    /// The value's nodal_json_type.
    func type(_ node: Int) -> Int32 { nodes[node].type }

    /// The position of the member whose key has exactly these UTF-8 bytes (no Unicode
    /// normalization: a C plugin compares bytes), if `node` is an object that has it.
    func position(ofKey key: UnsafeRawBufferPointer, inObject node: Int) -> Int? {
        guard case .object(let object) = nodes[node].value else { return nil }
        let entries = object.entries
        if entries.count <= Self.linearSearchLimit {
            return entries.firstIndex { Self.bytes(of: $0.key, equal: key) }
        }
        if keyTables[node] == nil {
            var table: [String: Int] = [:]
            table.reserveCapacity(entries.count)
            for (index, entry) in entries.enumerated() { table[entry.key] = index }
            keyTables[node] = table
        }
        // String lookup is by canonical equivalence; the bytes must match as well.
        guard let index = keyTables[node]?[String(decoding: key, as: UTF8.self)],
              Self.bytes(of: entries[index].key, equal: key) else { return nil }
        return index
    }

    private static func bytes(of text: String, equal key: UnsafeRawBufferPointer) -> Bool {
        let utf8 = text.utf8
        guard utf8.count == key.count else { return false }
        return utf8.withContiguousStorageIfAvailable { stored in
            stored.count == 0 || memcmp(stored.baseAddress!, key.baseAddress!, stored.count) == 0
        } ?? utf8.elementsEqual(key)
    }

    /// The node `path` leads to from `node`, if there is one and the path is well-formed.
    func follow(_ path: UnsafeRawBufferPointer, from node: Int) -> Int? {
        var current = node
        let walked = JSONExtensionPath.walk(path) { step in
            switch step {
            case .key(let key):
                guard let position = position(ofKey: key, inObject: current), let first = firstChild(current) else { return false }
                current = first + position
            case .index(let index):
                guard nodes[current].type == NODAL_JSON_ARRAY, index < nodes[current].count,
                      let first = firstChild(current) else { return false }
                current = first + index
            }
            return true
        }
        return walked ? current : nil
    }

    /// A string node's text, NUL-terminated, until the call ends.
    func cString(_ node: Int) -> (pointer: UnsafePointer<CChar>, count: Int)? {
        if let kept = strings[node] { return kept }
        guard case .string(let text) = nodes[node].value else { return nil }
        let kept = Self.copy(text)
        strings[node] = kept
        return kept
    }

    /// The key of member `position` of the object `node` (whose children have nodes, the first
    /// being `first`), until the call ends.
    func cKey(_ position: Int, ofObject node: Int, first: Int) -> (pointer: UnsafePointer<CChar>, count: Int)? {
        if let kept = keys[first + position] { return kept }
        guard case .object(let object) = nodes[node].value, position < object.count else { return nil }
        let kept = Self.copy(object.entries[position].key)
        keys[first + position] = kept
        return kept
    }

    /// A NUL-terminated copy (a string may hold NUL itself: the count says where it ends).
    private static func copy(_ text: String) -> (pointer: UnsafePointer<CChar>, count: Int) {
        let utf8 = text.utf8
        let count = utf8.count
        let memory = malloc(count + 1)!.assumingMemoryBound(to: UInt8.self)
        _ = UnsafeMutableBufferPointer(start: memory, count: count).initialize(from: utf8)
        memory[count] = 0
        return (UnsafeRawPointer(memory).assumingMemoryBound(to: CChar.self), count)
    }
}
