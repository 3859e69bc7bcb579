import NodalJSON

/// What one route rule's plugin has for a component, as the engine finds it.
enum RouteRuleOutcome: Sendable {
    /// The plugin runs the component like this.
    case resolved(ResolvedComponent)
    /// The plugin does not have it (or cannot run now): why, for messages. The next rule is tried.
    case lacks(String)
}

extension NodalConfig {
    /// Resolves `component` through `routes:` as Stepflow's router does, or returns nil when no
    /// route matches it.
    ///
    /// The longest matching route is taken and its rules are tried in order. A rule is skipped
    /// when its `componentDeny` lists the component name, its `componentAllow` does not, or its
    /// plugin lacks the component (`resolveRule` answers `.lacks`). A rule with `conditions` is
    /// kept as a candidate and trying goes on; the first candidate without conditions ends the
    /// list. When the first candidate has no conditions it is the answer; otherwise the step's
    /// input decides when it runs: the first candidate whose conditions all hold runs it, and
    /// when none holds the step fails with `NO_MATCHING_ROUTE`, listing every rule and why it
    /// did not apply. When no rule can ever apply, resolution throws, naming the file, the route
    /// and each rule's reason.
    ///
    /// - Parameter resolveRule: resolves one rule: its plugin entry and the component name to ask
    ///   it for (`/chat`); `.lacks` when the plugin has no such component. Throws for problems
    ///   that are not about this rule (a plugin that failed to load).
    func resolveRoute(
        _ component: String, rule resolveRule: (PluginEntry, String) throws -> RouteRuleOutcome
    ) throws -> ResolvedComponent? {
        guard let (route, captured) = matchingRoute(for: component) else { return nil }
        var candidates: [(rule: RouteRule, name: String, resolved: ResolvedComponent)] = []
        var skipped: [(rule: RouteRule, reason: String)] = []
        for rule in route.rules {
            let name = route.componentName(for: rule, captured: captured)
            if let exclusion = rule.exclusion(of: name) {
                skipped.append((rule, exclusion))
                continue
            }
            switch try resolveRule(plugins[rule.plugin]!, name) {
            case .lacks(let reason):
                skipped.append((rule, reason))
            case .resolved(let resolved):
                candidates.append((rule, name, resolved))
            }
            if let last = candidates.last, last.rule.conditions.isEmpty { break }
        }
        // The messages name the configuration file and field themselves: the engine reports a
        // component that does not resolve under the flow's file, step and field.
        let place = "routes.\(route.prefix)"
        let configuration = file.map { "\($0), field '\(place)'" } ?? "field '\(place)'"
        guard let first = candidates.first else {
            let reasons = skipped.map { "[\($0.rule.index)] plugin '\($0.rule.plugin)': \($0.reason)" }
            throw FlowError(file: file, field: place, "no rule of route '\(route.prefix)' (\(configuration)) resolves component '\(component)': \(reasons.joined(separator: "; "))")
        }
        if first.rule.conditions.isEmpty { return first.resolved }
        // The input decides: every candidate must be callable from where the choice is made.
        var bodies: [@Sendable (Payload, NodeContext) -> NodeOutcome] = []
        for candidate in candidates {
            guard case .inline(let body) = candidate.resolved.executor, candidate.resolved.nodeID.providedBuiltinName == nil else {
                throw FlowError(file: file, field: "\(place)[\(candidate.rule.index)]", """
                    rule [\(candidate.rule.index)] of route '\(route.prefix)' (\(configuration)): rules with 'conditions' \
                    choose by the step's input when it runs, which Nodal can do between \
                    builtin and mock plugins; this rule leads to \(candidate.resolved.nodeID), which it cannot choose \
                    at run time yet. Give this route's conditional rules builtin or mock plugins, or route \
                    \(component) without conditions
                    """)
            }
            bodies.append(body)
        }
        let choices = zip(candidates, bodies).map { RouteChoice(rule: $0.rule, name: $0.name, nodeID: $0.resolved.nodeID, body: $1) }
        let router = ConditionalRoute(
            component: component, place: configuration, choices: choices,
            skipped: skipped.map { ($0.rule.index, "[\($0.rule.index)] plugin '\($0.rule.plugin)': \($0.reason)") })
        return ResolvedComponent(
            route: component, nodeID: "route:" + choices.map(\.nodeID).joined(separator: "|"),
            executor: .inline { input, context in router.call(input, context) })
    }
}

/// One rule a conditional route may choose when the step runs.
struct RouteChoice: Sendable {
    var rule: RouteRule
    /// The component name the rule's plugin is asked for.
    var name: String
    var nodeID: String
    var body: @Sendable (Payload, NodeContext) -> NodeOutcome
}

/// The choice among a route's rules by the step's input: the first whose conditions hold.
struct ConditionalRoute: Sendable {
    var component: String
    /// The file and field of the route, for messages.
    var place: String
    var choices: [RouteChoice]
    /// Rules skipped before the run (component lists, plugins without the component): their
    /// index and why.
    var skipped: [(Int, String)]

    func call(_ input: Payload, _ context: NodeContext) -> NodeOutcome {
        let json = input.json
        var reasons = skipped
        for choice in choices {
            switch check(choice.rule, json) {
            case .holds: return choice.body(input, context)
            case .fails(let reason): reasons.append((choice.rule.index, "[\(choice.rule.index)] plugin '\(choice.rule.plugin)': \(reason)"))
            case .missing(let condition):
                // Stepflow's router stops here too: a path the input does not have is an error,
                // not a condition that does not hold.
                return .failure(StepError(
                    code: "NO_MATCHING_ROUTE",
                    message: "Failed to extract value from input path: '\(condition.path)' (rule [\(choice.rule.index)] of \(place), for component \(component))"))
            }
        }
        return .failure(StepError(
            code: "NO_MATCHING_ROUTE",
            message: "No matching rule found for component: \(component) (\(place): \(reasons.sorted { $0.0 < $1.0 }.map(\.1).joined(separator: "; ")))"))
    }

    private enum Check {
        case holds
        case fails(String)
        case missing(RouteCondition)
    }

    private func check(_ rule: RouteRule, _ input: JSON) -> Check {
        for condition in rule.conditions {
            switch condition.holds(for: input) {
            case true?: continue
            case false?: return .fails("\(condition.path) is \(condition.path.evaluate(input) ?? .null), not \(condition.value)")
            case nil: return .missing(condition)
            }
        }
        return .holds
    }
}
