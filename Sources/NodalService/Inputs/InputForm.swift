import NodalCore
import NodalJSON

/// A flow's input schema read as the form a person fills in: its top-level `properties`, each
/// known by its name and by its `title` (the label a person sees), with the value it takes when
/// the request leaves it out (`default`) and whether the flow fixes it (`readOnly: true`).
///
/// Only the property's own schema is read for these (a `$ref` at the schema's root is followed,
/// one in a property is not); `allOf`, `anyOf` and the like are not looked into.
struct InputForm {
    struct Property {
        var name: String
        var title: String?
        /// `default`, or for a fixed property without one its `const`.
        var value: JSON?
        /// `readOnly: true`: the flow sets it; a request may not, unless `overridable`.
        var fixed: Bool
        /// `"x-nodal-overridable": true` beside `readOnly`: hidden from a form, but an API caller may set it.
        var overridable: Bool
    }

    /// In the schema's order.
    private(set) var properties: [Property] = []
    private var byName: [String: Int] = [:]
    /// Whether the schema lists properties at all; without them the body's keys are the input's.
    private(set) var listsProperties = false
    /// Whether keys that name no property go into the input as they are: the schema lists none,
    /// or says more are welcome (`additionalProperties` other than `false`, `patternProperties`).
    /// A schema that lists properties and says nothing refuses them here, so a mistyped label is
    /// an error rather than a value the flow never reads.
    private(set) var acceptsOtherKeys = true

    init(flow: Flow) {
        guard case .object(let schema)? = Self.root(of: flow), case .object(let listed)? = schema["properties"] else { return }
        listsProperties = true
        let additional = schema["additionalProperties"]
        acceptsOtherKeys = (additional != nil && additional != .bool(false)) || schema["patternProperties"] != nil
        for (name, propertySchema) in listed {
            let object = propertySchema.objectValue ?? JSONObject()
            let fixed = object["readOnly"] == .bool(true)
            byName[name] = properties.count
            properties.append(Property(
                name: name,
                title: object["title"]?.stringValue,
                value: object["default"] ?? (fixed ? object["const"] : nil),
                fixed: fixed,
                overridable: object["x-nodal-overridable"] == .bool(true)))
        }
    }

    enum Match: Equatable {
        case property(Int)
        /// Several properties carry this title (exactly, or ignoring case): their names.
        case ambiguous([String])
        case none
    }

    /// The property `key` names: by name, else by exact title, else by title ignoring case.
    func match(_ key: String) -> Match {
        if let index = byName[key] { return .property(index) }
        let exact = properties.indices.filter { properties[$0].title == key }
        if exact.count == 1 { return .property(exact[0]) }
        if exact.count > 1 { return .ambiguous(exact.map { properties[$0].name }) }
        let lowered = key.lowercased()
        let loose = properties.indices.filter { properties[$0].title?.lowercased() == lowered }
        if loose.count == 1 { return .property(loose[0]) }
        if loose.count > 1 { return .ambiguous(loose.map { properties[$0].name }) }
        return .none
    }

    /// Each property as an error lists it, `'Title' (name)` or `'name'`, with the names a
    /// request may use for it.
    var acceptedNames: [(shown: String, names: [String])] {
        properties.map { property in
            guard let title = property.title, title != property.name else { return ("'\(property.name)'", [property.name]) }
            return ("'\(title)' (\(property.name))", [property.name, title])
        }
    }

    /// The input schema, with a `$ref` at its root followed (a few times at most): Stepflow's
    /// `#/schemas/...` pointers start at the flow, others at the schema itself.
    private static func root(of flow: Flow) -> JSON? {
        guard var schema = flow.inputSchema else { return nil }
        for _ in 0..<8 {
            guard case .object(let object) = schema, object["properties"] == nil,
                  case .string(let reference)? = object["$ref"], reference.hasPrefix("#")
            else { return schema }
            let tokens: [String] = reference.dropFirst().split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
                String($0).replacing("~1", with: "/").replacing("~0", with: "~")
            }
            var target: JSON?
            if tokens.first == "schemas", let document = flow.schemasDocument {
                target = follow(tokens.dropFirst(), in: document)
            } else {
                target = follow(tokens[...], in: flow.inputSchema!)
            }
            guard let target else { return schema }
            schema = target
        }
        return schema
    }

    private static func follow(_ tokens: ArraySlice<String>, in document: JSON) -> JSON? {
        var value = document
        for token in tokens {
            switch value {
            case .object(let object): guard let next = object[token] else { return nil }; value = next
            case .array(let array): guard let index = Int(token), array.indices.contains(index) else { return nil }; value = array[index]
            default: return nil
            }
        }
        return value
    }
}
