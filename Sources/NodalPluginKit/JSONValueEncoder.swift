// Encodable values written straight into a JSON value (no text in between). JSON cannot hold
// NaN or infinities: encoding one throws, naming the field.

enum JSONValueEncoder {
    /// Encodes `value`; a NaN or infinite number throws `OUT_OF_RANGE` naming the field, and any
    /// other encoding failure `NODE_FAILED`.
    static func encode<T: Encodable>(_ value: T) throws(NodeError) -> JSON {
        let root = Slot()
        do {
            try value.encode(to: ValueEncoder(slot: root, codingPath: []))
        } catch let error as NodeError {
            throw error
        } catch EncodingError.invalidValue(let number as Double, let context) where !number.isFinite {
            throw nonFinite(context.codingPath)
        } catch EncodingError.invalidValue(let number as Float, let context) where !number.isFinite {
            throw nonFinite(context.codingPath)
        } catch {
            throw NodeError(code: "NODE_FAILED", message: "the output could not be encoded: \(error)")
        }
        return root.json
    }

    static func nonFinite(_ codingPath: [any CodingKey]) -> NodeError {
        let field = DecodingMessage.path(codingPath)
        return NodeError(
            code: "OUT_OF_RANGE",
            message: "the output\(field.isEmpty ? "" : " field '\(field)'") is not a finite number, which JSON cannot hold")
    }
}

/// One value being built. Containers hand out slots that are filled later, so slots are objects.
final class Slot {
    enum Content {
        case empty
        case value(JSON)
        case object(keys: [String], slots: [String: Slot])
        case array([Slot])
    }
    var content = Content.empty

    var json: JSON {
        switch content {
        case .empty: return .object(JSONObject())
        case .value(let value): return value
        case .object(let keys, let slots): return .object(JSONObject(keys.map { (key: $0, value: slots[$0]!.json) }))
        case .array(let slots): return .array(slots.map(\.json))
        }
    }

    /// The slot for `key`, making this an object (again, if it was something else).
    func child(_ key: String) -> Slot {
        var keys: [String] = [], slots: [String: Slot] = [:]
        if case .object(let existingKeys, let existing) = content { (keys, slots) = (existingKeys, existing) }
        if let slot = slots[key] { return slot }
        let slot = Slot()
        keys.append(key)
        slots[key] = slot
        content = .object(keys: keys, slots: slots)
        return slot
    }

    /// A new last element, making this an array (again, if it was something else).
    func append() -> Slot {
        var slots: [Slot] = []
        if case .array(let existing) = content { slots = existing }
        let slot = Slot()
        slots.append(slot)
        content = .array(slots)
        return slot
    }

    func makeObject() { if case .object = content {} else { content = .object(keys: [], slots: [:]) } }
    func makeArray() { if case .array = content {} else { content = .array([]) } }
    var arrayCount: Int { if case .array(let slots) = content { slots.count } else { 0 } }
}

struct ValueEncoder: Encoder {
    let slot: Slot
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        slot.makeObject()
        return KeyedEncodingContainer(KeyedSlots<Key>(slot: slot, codingPath: codingPath))
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        slot.makeArray()
        return ArraySlots(slot: slot, codingPath: codingPath)
    }
    func singleValueContainer() -> any SingleValueEncodingContainer { SingleSlot(slot: slot, codingPath: codingPath) }
}

struct SingleSlot: SingleValueEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { slot.content = .value(.null) }
    mutating func encode(_ value: Bool) throws { slot.content = .value(.bool(value)) }
    mutating func encode(_ value: String) throws { slot.content = .value(.string(value)) }
    mutating func encode(_ value: Double) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "not a finite number"))
        }
        slot.content = .value(Self.number(value))
    }
    mutating func encode(_ value: Float) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "not a finite number"))
        }
        slot.content = .value(Self.number(Double(value)))
    }

    /// A whole number is written without a fraction (80, not 80.0), as Foundation's JSONEncoder
    /// writes it: the text Swift authors expect. Both read back as the same JSON number.
    static func number(_ value: Double) -> JSON {
        value.rounded() == value && abs(value) < 9_007_199_254_740_992 ? .int(Int(value)) : .double(value)
    }
    mutating func encode(_ value: Int) throws { slot.content = .value(.int(value)) }
    mutating func encode(_ value: Int8) throws { integer(value) }
    mutating func encode(_ value: Int16) throws { integer(value) }
    mutating func encode(_ value: Int32) throws { integer(value) }
    mutating func encode(_ value: Int64) throws { integer(value) }
    mutating func encode(_ value: UInt) throws { integer(value) }
    mutating func encode(_ value: UInt8) throws { integer(value) }
    mutating func encode(_ value: UInt16) throws { integer(value) }
    mutating func encode(_ value: UInt32) throws { integer(value) }
    mutating func encode(_ value: UInt64) throws { integer(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try value.encode(to: ValueEncoder(slot: slot, codingPath: codingPath)) }

    /// Beyond Int's range (a UInt64 above Int.max) the number is kept as a double, as JSON readers do.
    private func integer<T: FixedWidthInteger>(_ value: T) {
        slot.content = .value(Int(exactly: value).map(JSON.int) ?? .double(Double(value)))
    }
}

struct KeyedSlots<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slot: Slot
    let codingPath: [any CodingKey]

    private func single(_ key: Key) -> SingleSlot { SingleSlot(slot: slot.child(key.stringValue), codingPath: codingPath + [key]) }

    mutating func encodeNil(forKey key: Key) throws { var s = single(key); try s.encodeNil() }
    mutating func encode(_ value: Bool, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: Float, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { var s = single(key); try s.encode(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        ValueEncoder(slot: slot.child(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        ValueEncoder(slot: slot.child(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { ValueEncoder(slot: slot.child("super"), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        ValueEncoder(slot: slot.child(key.stringValue), codingPath: codingPath + [key])
    }
}

struct ArraySlots: UnkeyedEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]
    var count: Int { slot.arrayCount }

    private func single() -> SingleSlot {
        let path = codingPath + [IndexKey(slot.arrayCount)]
        return SingleSlot(slot: slot.append(), codingPath: path)
    }

    mutating func encodeNil() throws { var s = single(); try s.encodeNil() }
    mutating func encode(_ value: Bool) throws { var s = single(); try s.encode(value) }
    mutating func encode(_ value: String) throws { var s = single(); try s.encode(value) }
    mutating func encode(_ value: Double) throws { var s = single(); try s.encode(value) }
    mutating func encode(_ value: Float) throws { var s = single(); try s.encode(value) }
    mutating func encode(_ value: Int) throws { var s = single(); try s.encode(value) }
    mutating func encode(_ value: Int8) throws { var s = single(); try s.encode(value) }
    mutating func encode(_ value: Int16) throws { var s = single(); try s.encode(value) }
    mutating func encode(_ value: Int32) throws { var s = single(); try s.encode(value) }
    mutating func encode(_ value: Int64) throws { var s = single(); try s.encode(value) }
    mutating func encode(_ value: UInt) throws { var s = single(); try s.encode(value) }
    mutating func encode(_ value: UInt8) throws { var s = single(); try s.encode(value) }
    mutating func encode(_ value: UInt16) throws { var s = single(); try s.encode(value) }
    mutating func encode(_ value: UInt32) throws { var s = single(); try s.encode(value) }
    mutating func encode(_ value: UInt64) throws { var s = single(); try s.encode(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { var s = single(); try s.encode(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = codingPath + [IndexKey(slot.arrayCount)]
        return ValueEncoder(slot: slot.append(), codingPath: path).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = codingPath + [IndexKey(slot.arrayCount)]
        return ValueEncoder(slot: slot.append(), codingPath: path).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder {
        let path = codingPath + [IndexKey(slot.arrayCount)]
        return ValueEncoder(slot: slot.append(), codingPath: path)
    }
}
