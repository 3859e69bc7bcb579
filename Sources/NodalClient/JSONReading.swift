import NodalJSON

/// Reading the server's replies. Numbers the API types as 64-bit arrive as strings in proto3's
/// JSON (`"sequenceNumber": "12"`), 32-bit ones as numbers; both are taken either way.
extension JSON {
    var looseInt: Int? {
        if let int = intValue { return int }
        if let text = stringValue { return Int(text) }
        return nil
    }

    var looseUInt64: UInt64? {
        if let int = intValue, int >= 0 { return UInt64(int) }
        if let text = stringValue { return UInt64(text) }
        return nil
    }

    var looseDouble: Double? {
        if let double = doubleValue { return double }
        if let text = stringValue { return Double(text) }
        return nil
    }

    /// The value unless it is missing or null.
    var present: JSON? {
        if isNull { return Optional.none }
        return self
    }
}

/// Reads one field of a reply, or throws `.invalidReply` naming it.
struct ReplyReader {
    let json: JSON
    let what: String

    init(_ json: JSON, _ what: String) throws(NodalClientError) {
        guard case .object = json else {
            throw NodalClientError(.invalidReply, "the server's \(what) is not a JSON object: \(json.typeName)", body: json)
        }
        self.json = json
        self.what = what
    }

    func string(_ key: String) throws(NodalClientError) -> String {
        guard let value = json[key]?.stringValue else {
            throw NodalClientError(.invalidReply, "the server's \(what) has no string '\(key)'", body: json)
        }
        return value
    }

    func object(_ key: String) throws(NodalClientError) -> JSON {
        guard let value = json[key], case .object = value else {
            throw NodalClientError(.invalidReply, "the server's \(what) has no object '\(key)'", body: json)
        }
        return value
    }

    func array(_ key: String) throws(NodalClientError) -> [JSON] {
        guard let value = json[key]?.arrayValue else {
            throw NodalClientError(.invalidReply, "the server's \(what) has no array '\(key)'", body: json)
        }
        return value
    }

    func int(_ key: String) throws(NodalClientError) -> Int {
        guard let value = json[key]?.looseInt else {
            throw NodalClientError(.invalidReply, "the server's \(what) has no integer '\(key)'", body: json)
        }
        return value
    }
}
