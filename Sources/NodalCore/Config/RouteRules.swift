import NodalJSON
internal import Yams

/// One key of `routes:` and its rules, in Stepflow's layout:
///
/// ```yaml
/// routes:
///   "/llm":                          # a prefix: /llm/chat, /llm/a/b, ...
///     - plugin: llama                # tried first: only when the step's input says so
///       conditions: [{ path: $.model, value: llama2 }]
///     - plugin: openai               # else this one, for the components it allows
///       componentAllow: [/chat]
///     - plugin: mock                 # else this one
///   "/python/{component}":           # Stepflow's newer patterns: one segment ...
///     - plugin: python
///   "/{*component}":                 # ... or the rest of the route
///     - { plugin: builtin }
/// ```
///
/// Rules are tried in order. A rule is skipped when its `componentDeny` lists the component,
/// when its `componentAllow` does not, when its plugin lacks the component, or (when the step
/// runs) when one of its `conditions` does not hold: the value at `path` (a JSONPath into the
/// step's input, `$.a.b` or `a.b`) must equal `value`. `component` rewrites the name the plugin
/// is asked for (`"/v2/{component}"`); by default it is the part of the route after the prefix
/// (`/chat` for `/llm/chat`), which is also what `componentAllow`/`componentDeny` list.
struct RouteEntry: Sendable {
    /// The key as written (`/mock`, `/python/{component}`).
    var prefix: String
    var rules: [RouteRule]
    /// The literal part before any placeholder (`/python`), on which routes match by longest prefix.
    var base: String
    var match: Match
    /// The placeholder's name (`component`), when the key ends in one.
    var placeholder: String?

    enum Match: Sendable {
        /// A plain prefix: the route itself or anything below it.
        case prefix
        /// `{NAME}`: exactly one more segment.
        case segment
        /// `{*NAME}`: one or more segments.
        case rest
    }

    /// The first rule's plugin (the whole route's, when it has one rule).
    var plugin: String { rules[0].plugin }

    init(prefix: String, node: Node, file: String?) throws(FlowError) {
        let field = "routes.\(prefix)"
        guard prefix.hasPrefix("/") else {
            throw FlowError(file: file, field: field, "a route prefix must start with '/' (such as '/mock' or '/python/{component}')")
        }
        self.prefix = prefix
        (base, match, placeholder) = try Self.pattern(prefix, file: file, field: field)
        guard case .sequence(let list) = node, !list.isEmpty else {
            throw FlowError(file: file, field: field, "a route must be a non-empty list of rules such as '- plugin: builtin'")
        }
        var rules: [RouteRule] = []
        for (index, ruleNode) in list.enumerated() {
            rules.append(try RouteRule(index: index, node: ruleNode, file: file, field: "\(field)[\(index)]"))
        }
        if placeholder != "component", let placeholder, let rule = rules.first(where: { $0.component == nil }) {
            throw FlowError(file: file, field: "\(field)[\(rule.index)].component", "the route's placeholder is '{\(placeholder)}', so the rule needs 'component' to say which component to ask for (such as '/{\(placeholder)}')")
        }
        self.rules = rules
    }

    /// `/a/b` → (`/a/b`, prefix); `/a/{component}` → (`/a`, segment); `/{*component}` → (`/`, rest).
    private static func pattern(_ key: String, file: String?, field: String) throws(FlowError) -> (String, Match, String?) {
        guard key.contains("{") || key.contains("}") else {
            let trimmed = key.count > 1 && key.hasSuffix("/") ? String(key.dropLast()) : key
            return (trimmed, .prefix, nil)
        }
        let slash = key.lastIndex(of: "/")!
        let last = key[key.index(after: slash)...]
        let head = String(key[..<slash])
        guard last.hasPrefix("{"), last.hasSuffix("}"), !head.contains("{"), !head.contains("}") else {
            throw FlowError(file: file, field: field, "a placeholder may only be the last segment of a route, as in '/python/{component}' or '/{*component}'")
        }
        var name = String(last.dropFirst().dropLast())
        let rest = name.hasPrefix("*")
        if rest { name.removeFirst() }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw FlowError(file: file, field: field, "'\(last)' is not a placeholder such as '{component}' or '{*component}'")
        }
        return (head.isEmpty ? "/" : head, rest ? .rest : .segment, name)
    }

    /// The part of `component` this route captures (without a leading '/'), or nil when the
    /// route does not match it. `/mock/one` under `/mock` captures `one`; under `/` all of
    /// `mock/one`.
    func capture(_ component: String) -> String? {
        let rest: Substring
        if base == "/" {
            guard component.hasPrefix("/") else { return nil }
            rest = component.dropFirst()
        } else {
            guard component.hasPrefix(base) else { return nil }
            let after = component.dropFirst(base.count)
            if after.isEmpty {
                return match == .prefix ? "" : nil
            }
            guard after.hasPrefix("/") else { return nil }
            rest = after.dropFirst()
        }
        switch match {
        case .prefix: return String(rest)
        case .segment: return rest.isEmpty || rest.contains("/") ? nil : String(rest)
        case .rest: return rest.isEmpty ? nil : String(rest)
        }
    }

    /// The component name `rule` asks its plugin for, given what the route captured.
    func componentName(for rule: RouteRule, captured: String) -> String {
        guard let template = rule.component else { return "/" + captured }
        guard let placeholder else { return template }
        return template.replacing("{\(placeholder)}", with: captured).replacing("{*\(placeholder)}", with: captured)
    }
}

/// One rule of a route: the plugin to ask and when it applies.
struct RouteRule: Sendable {
    /// The rule's place in its route's list, for messages (`routes./llm[1]`).
    var index: Int
    var plugin: String
    var conditions: [RouteCondition]
    /// `componentAllow`: only these component names (nil: all).
    var componentAllow: [String]?
    /// `componentDeny`: never these component names.
    var componentDeny: [String]?
    /// `component`: the name to ask the plugin for, with the route's placeholder substituted.
    var component: String?

    static let keys = ["plugin", "conditions", "componentAllow", "componentDeny", "component"]

    init(index: Int, node: Node, file: String?, field: String) throws(FlowError) {
        self.index = index
        guard case .mapping(let mapping) = node else {
            throw FlowError(file: file, field: field, "a route rule must be a mapping such as '{ plugin: builtin }'")
        }
        for (keyNode, _) in mapping where !Self.keys.contains(keyNode.string ?? "") {
            throw FlowError(file: file, field: "\(field).\(keyNode.string ?? "?")", "unknown route rule key (known: \(Self.keys.joined(separator: ", ")))")
        }
        guard let plugin = mapping["plugin"]?.string, !plugin.isEmpty, case .scalar? = mapping["plugin"] else {
            throw FlowError(file: file, field: "\(field).plugin", "a route rule needs 'plugin: NAME', naming an entry of 'plugins'")
        }
        self.plugin = plugin
        conditions = []
        if let list = mapping["conditions"], !YAMLConversion.anyJSON(list).isNull {
            guard case .sequence(let items) = list else {
                throw FlowError(file: file, field: "\(field).conditions", "'conditions' must be a list such as [{ path: $.model, value: gpt-4 }]")
            }
            for (number, item) in items.enumerated() {
                conditions.append(try RouteCondition(node: item, file: file, field: "\(field).conditions[\(number)]"))
            }
        }
        componentAllow = try Self.names(mapping["componentAllow"], file: file, field: "\(field).componentAllow")
        componentDeny = try Self.names(mapping["componentDeny"], file: file, field: "\(field).componentDeny")
        if let template = mapping["component"] {
            guard case .scalar = template, let text = template.string, text.hasPrefix("/") || text.hasPrefix("{") else {
                throw FlowError(file: file, field: "\(field).component", "'component' must be a component name such as '/chat' or '/{component}'")
            }
            component = text.hasPrefix("/") ? text : "/" + text
        }
    }

    /// A list of component names; each is compared with a leading '/' (`chat` means `/chat`).
    private static func names(_ node: Node?, file: String?, field: String) throws(FlowError) -> [String]? {
        guard let node else { return nil }
        guard case .sequence(let items) = node else {
            throw FlowError(file: file, field: field, "must be a list of component names such as [/chat, /embed]")
        }
        var names: [String] = []
        for (index, item) in items.enumerated() {
            guard case .scalar = item, let name = item.string, !name.isEmpty else {
                throw FlowError(file: file, field: "\(field)[\(index)]", "a component name must be a non-empty string")
            }
            names.append(name.hasPrefix("/") ? name : "/" + name)
        }
        return names
    }

    /// Why this rule does not apply to `name` by its lists, or nil when they let it through.
    func exclusion(of name: String) -> String? {
        if let deny = componentDeny, deny.contains(name) { return "its componentDeny lists '\(name)'" }
        if let allow = componentAllow, !allow.contains(name) {
            return "its componentAllow does not list '\(name)' (it lists \(allow.isEmpty ? "nothing" : allow.joined(separator: ", ")))"
        }
        return nil
    }
}

/// A condition of a route rule: the value at `path` in the step's input equals `value`.
struct RouteCondition: Sendable {
    var path: JSONPath
    var value: JSON

    init(node: Node, file: String?, field: String) throws(FlowError) {
        guard case .mapping(let mapping) = node else {
            throw FlowError(file: file, field: field, "a condition must be a mapping such as { path: $.model, value: gpt-4 }")
        }
        for (keyNode, _) in mapping where keyNode.string != "path" && keyNode.string != "value" {
            throw FlowError(file: file, field: "\(field).\(keyNode.string ?? "?")", "unknown condition key (known: path, value)")
        }
        guard let text = mapping["path"]?.string, case .scalar? = mapping["path"] else {
            throw FlowError(file: file, field: "\(field).path", "a condition needs 'path', a JSONPath into the step's input such as $.model")
        }
        do { path = try JSONPath(text) } catch { throw FlowError(file: file, field: "\(field).path", error.description) }
        guard let valueNode = mapping["value"] else {
            throw FlowError(file: file, field: "\(field).value", "a condition needs 'value', what the input must hold at '\(text)'")
        }
        value = YAMLConversion.anyJSON(valueNode)
    }

    /// Whether the condition holds for `input`; nil when the path finds nothing there.
    func holds(for input: JSON) -> Bool? {
        guard let found = path.evaluate(input) else { return nil }
        return found == value
    }
}
