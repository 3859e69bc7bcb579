import NodalJSON
import CNodal
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `nodal_json` table (`org.nodal.json.v1`, include/nodal.h): a plugin reads its input and
/// writes its output through the host's JSON parser and writer instead of carrying its own.
///
/// Every function reaches its call through `CallTable.withLiveCall`, under the call's lock and
/// only while the call is in flight: from any thread of the plugin during invoke, and a handle
/// kept past its invoke (or made up) gets NODAL_INVALID, NODAL_JSON_NONE or NULL and touches no
/// memory of the finished call. Values and writers are looked up in the call's own
/// `JSONCallDocuments`, so one of another call reads as missing. What the host hands out
/// (strings, keys, finished text, parse errors) belongs to the call's documents, writers and
/// arena, and is freed when the call ends. Each function's contract (thread, ownership, return)
/// is the one its declaration in `struct nodal_json` states; the closures below keep to it.
enum JSONExtension {
    static let none: nodal_json_value = 0

    /// `body` on the document and node `value` names in the live call, or nil.
    private static func withValue<Result>(
        _ call: OpaquePointer?, _ value: nodal_json_value, _ body: (JSONCallDocument, Int) -> Result?
    ) -> Result? {
        guard value != none else { return nil }
        return CallTable.withLiveCall(call) { state, _ -> Result? in
            guard let (document, node) = state.json.resolve(value) else { return nil }
            return body(document, node)
        } ?? nil
    }

    /// A step of the writer `writer` of the live call: NODAL_INVALID if the call is not live or
    /// the writer is not one of its own, else whatever the step answers.
    private static func step(_ call: OpaquePointer?, _ writer: nodal_json_writer, _ body: (JSONExtensionWriter) -> Bool) -> nodal_status {
        CallTable.withLiveCall(call) { state, _ in
            guard let target = state.json.writer(writer) else { return NODAL_INVALID }
            return body(target) && target.withinLimit(&state) ? NODAL_OK : NODAL_INVALID
        } ?? NODAL_INVALID
    }

    /// `len` bytes at `pointer`, or nil if the pointer is NULL or the length is above PTRDIFF_MAX.
    private static func bytes(_ pointer: UnsafePointer<CChar>?, _ length: Int) -> UnsafeRawBufferPointer? {
        guard let pointer, length >= 0 else { return nil }
        return UnsafeRawBufferPointer(start: pointer, count: length)
    }

    /// "line L, column C" of byte `offset` of `text` (columns count code points, from 1).
    static func location(of offset: Int, in text: UnsafeRawBufferPointer) -> String {
        var line = 1, column = 1
        for byte in text.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return "line \(line), column \(column)"
    }

    nonisolated(unsafe) static let table: UnsafeMutablePointer<nodal_json> = {
        let table = UnsafeMutablePointer<nodal_json>.allocate(capacity: 1)
        table.initialize(to: nodal_json())
        table.pointee.struct_size = UInt32(MemoryLayout<nodal_json>.size)

        // ---- Reading ----

        table.pointee.input = { call in
            CallTable.withLiveCall(call) { state, context in state.json.input(context.pointee) } ?? none
        }
        table.pointee.parse = { call, json, length, errorOut in
            errorOut?.pointee = nil
            return CallTable.withLiveCall(call) { state, _ in
                guard let text = bytes(json, length) else {
                    errorOut?.pointee = state.arena.keep(json == nil ? "no JSON text (NULL)" : "the length \(UInt(bitPattern: length)) is above PTRDIFF_MAX").pointer
                    return none
                }
                do throws(JSONParseError) {
                    return state.json.add(try JSON(parsing: text))
                } catch {
                    // The parser reports a byte offset; C authors read lines and columns.
                    let message = "invalid JSON at \(location(of: error.offset, in: text)): \(error.reason)"
                    errorOut?.pointee = state.arena.keep(message).pointer
                    return none
                }
            } ?? none
        }
        table.pointee.get = { call, value, path in
            guard let path else { return none }
            return withValue(call, value) { document, node in
                document.follow(UnsafeRawBufferPointer(start: path, count: strlen(path)), from: node)
                    .map { JSONCallDocuments.handle($0, like: value) }
            } ?? none
        }
        table.pointee.type = { call, value in
            withValue(call, value) { document, node in document.type(node) } ?? NODAL_JSON_MISSING
        }
        table.pointee.string = { call, value, length in
            let text = withValue(call, value) { document, node in document.cString(node) }
            length?.pointee = text?.count ?? 0
            return text?.pointer
        }
        table.pointee.number = { call, value, out in
            guard let out else { return NODAL_INVALID }
            let number = withValue(call, value) { document, node in document.value(node).doubleValue }
            guard let number else { return NODAL_INVALID }
            out.pointee = number
            return NODAL_OK
        }
        table.pointee.integer = { call, value, out in
            guard let out else { return NODAL_INVALID }
            let integer = withValue(call, value) { document, node -> Int64? in
                switch document.value(node) {
                case .int(let integer): return Int64(integer)
                // Whole doubles within Int64 (2.0); 2^63 itself is not (it rounds from above).
                case .double(let double) where double.rounded(.towardZero) == double
                    && double >= -9_223_372_036_854_775_808.0 && double < 9_223_372_036_854_775_808.0:
                    return Int64(double)
                default: return nil
                }
            }
            guard let integer else { return NODAL_INVALID }
            out.pointee = integer
            return NODAL_OK
        }
        table.pointee.boolean = { call, value, out in
            guard let out else { return NODAL_INVALID }
            let boolean = withValue(call, value) { document, node in document.value(node).boolValue }
            guard let boolean else { return NODAL_INVALID }
            out.pointee = boolean ? 1 : 0
            return NODAL_OK
        }
        table.pointee.count = { call, value in
            withValue(call, value) { document, node in document.count(node) } ?? 0
        }
        table.pointee.element = { call, value, index in
            // A size_t above Int.max arrives negative: past any end.
            withValue(call, value) { document, node in
                guard document.type(node) == NODAL_JSON_ARRAY, index >= 0, index < document.count(node),
                      let first = document.firstChild(node) else { return nil }
                return JSONCallDocuments.handle(first + index, like: value)
            } ?? none
        }
        table.pointee.member = { call, value, index, key, keyLength in
            let found = withValue(call, value) { document, node -> (nodal_json_value, (pointer: UnsafePointer<CChar>, count: Int))? in
                guard document.type(node) == NODAL_JSON_OBJECT, index >= 0, index < document.count(node),
                      let first = document.firstChild(node),
                      let name = document.cKey(index, ofObject: node, first: first) else { return nil }
                return (JSONCallDocuments.handle(first + index, like: value), name)
            }
            key?.pointee = found?.1.pointer
            keyLength?.pointee = found?.1.count ?? 0
            return found?.0 ?? none
        }

        // ---- Writing ----

        table.pointee.writer = { call in
            CallTable.withLiveCall(call) { state, context in
                state.json.newWriter(limit: context.pointee.node?.maxOutputBytes ?? Int.max)
            } ?? 0
        }
        table.pointee.begin_object = { call, writer in step(call, writer) { $0.beginObject() } }
        table.pointee.end_object = { call, writer in step(call, writer) { $0.endObject() } }
        table.pointee.begin_array = { call, writer in step(call, writer) { $0.beginArray() } }
        table.pointee.end_array = { call, writer in step(call, writer) { $0.endArray() } }
        table.pointee.key = { call, writer, key, length in
            step(call, writer) { writer in bytes(key, length).map { writer.key($0) } ?? writer.refuseArgument() }
        }
        table.pointee.write_string = { call, writer, text, length in
            step(call, writer) { writer in bytes(text, length).map { writer.string($0) } ?? writer.refuseArgument() }
        }
        table.pointee.write_number = { call, writer, number in step(call, writer) { $0.number(number) } }
        table.pointee.write_integer = { call, writer, number in step(call, writer) { $0.integer(number) } }
        table.pointee.write_bool = { call, writer, value in step(call, writer) { $0.bool(value != 0) } }
        table.pointee.write_null = { call, writer in step(call, writer) { $0.null() } }
        table.pointee.write_value = { call, writer, value in
            CallTable.withLiveCall(call) { state, _ in
                guard let target = state.json.writer(writer) else { return NODAL_INVALID }
                guard let (document, node) = state.json.resolve(value) else { return target.refuseArgument() ? NODAL_OK : NODAL_INVALID }
                return target.value(document.value(node)) && target.withinLimit(&state) ? NODAL_OK : NODAL_INVALID
            } ?? NODAL_INVALID
        }
        table.pointee.writer_json = { call, writer, length in
            let text = CallTable.withLiveCall(call) { state, _ in state.json.writer(writer)?.finished() } ?? nil
            length?.pointee = text?.count ?? 0
            return text?.pointer
        }
        return table
    }()
}
