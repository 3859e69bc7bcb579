import Foundation
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON

/// `routes:` as Stepflow's router reads them: rules tried in order, skipped for their conditions,
/// their component lists or a plugin without the component; Stepflow's `{component}` patterns.
@Suite struct RouteRuleTests {
    /// Mock plugins answering `/chat` (and `/embed`) with their own name, whatever the model;
    /// one without them, and a native one that is not loaded.
    static let plugins: String = {
        let inputs = ["{ q: hi }"] + ["llama2", "gpt-4", "other"].map { "{ q: hi, model: \($0) }" }
        func mock(_ name: String, _ components: [String]) -> String {
            let behaviors = inputs.map { "\($0): { outcome: success, result: { by: \(name) } }" }.joined(separator: ", ")
            return "  \(name): { type: mock, components: { " + components.map { "\($0): { behaviors: { \(behaviors) } }" }.joined(separator: ", ") + " } }"
        }
        return (["plugins:", mock("llama", ["/chat"]), mock("openai", ["/chat", "/embed"]), mock("fallback", ["/chat", "/embed"]),
                 "  empty: { type: mock, components: { /other: { behaviors: {} } } }",
                 "  native: { type: nodal, id: org.example.none }"]).joined(separator: "\n")
    }()

    func config(_ routes: String, file: String? = "/flows/stepflow-config.yml") throws -> NodalConfig {
        try NodalConfig(yaml: Self.plugins + "\nroutes:\n" + routes, file: file)
    }

    /// Resolves as the engine does for mock plugins; any other plugin lacks every component.
    func resolve(_ component: String, in config: NodalConfig) throws -> ResolvedComponent? {
        try config.resolveRoute(component) { entry, name in
            guard entry.type == "mock" else { return .lacks("plugin '\(entry.name)' is not a mock") }
            guard let resolved = entry.mock?.resolve(name, route: component) else {
                return .lacks("mock plugin '\(entry.name)' has no component '\(name)'")
            }
            return .resolved(resolved)
        }
    }

    /// Which plugin answers `component` for a step whose input has `model` (none when nil).
    func answer(_ component: String, model: JSON?, in config: NodalConfig) throws -> NodeOutcome {
        let resolved = try #require(try resolve(component, in: config))
        guard case .inline(let body) = resolved.executor else { Issue.record("not inline"); return .canceled }
        var input: JSONObject = ["q": "hi"]
        if let model { input["model"] = model }
        return body(Payload(json: .object(input)), NodeContext(runID: "r", stepID: "ask", component: component))
    }

    func by(_ outcome: NodeOutcome) -> String? {
        guard case .success(let payload) = outcome else { return nil }
        return payload.json["by"]?.stringValue
    }

    func failure(_ outcome: NodeOutcome) -> StepError? {
        guard case .failure(let error) = outcome else { return nil }
        return error
    }

    // MARK: Rules in order

    @Test func conditionsOnTheStepsInputChooseTheFirstRuleThatHolds() throws {
        let config = try config("""
              "/llm":
                - { plugin: llama, conditions: [{ path: $.model, value: llama2 }] }
                - { plugin: openai, conditions: [{ path: model, value: gpt-4 }, { path: q, value: hi }] }
                - { plugin: fallback }
            """)
        #expect(by(try answer("/llm/chat", model: "llama2", in: config)) == "llama")
        #expect(by(try answer("/llm/chat", model: "gpt-4", in: config)) == "openai")
        #expect(by(try answer("/llm/chat", model: "other", in: config)) == "fallback")
    }

    @Test func aRuleWithoutConditionsFirstIsTheAnswerBeforeTheRun() throws {
        let config = try config("""
              "/llm":
                - { plugin: openai }
                - { plugin: llama }
            """)
        let resolved = try #require(try resolve("/llm/chat", in: config))
        #expect(resolved.nodeID == "mock/chat")
        #expect(by(try answer("/llm/chat", model: nil, in: config)) == "openai")
    }

    @Test func componentListsAndPluginsWithoutTheComponentSkipARule() throws {
        let config = try config("""
              "/llm":
                - { plugin: empty }
                - { plugin: native }
                - { plugin: llama, componentAllow: [chat] }
                - { plugin: openai, componentDeny: [/embed] }
                - { plugin: fallback }
            """)
        #expect(by(try answer("/llm/chat", model: nil, in: config)) == "llama")
        #expect(by(try answer("/llm/embed", model: nil, in: config)) == "fallback")
    }

    @Test func whenNoRuleHoldsTheStepFailsSayingWhyForEachRule() throws {
        let config = try config("""
              "/llm":
                - { plugin: empty }
                - { plugin: llama, conditions: [{ path: $.model, value: llama2 }] }
                - { plugin: openai, conditions: [{ path: $.model, value: gpt-4 }] }
            """)
        let error = try #require(failure(try answer("/llm/chat", model: "other", in: config)))
        #expect(error.code == "NO_MATCHING_ROUTE")
        #expect(error.message == """
            No matching rule found for component: /llm/chat (/flows/stepflow-config.yml, field 'routes./llm': \
            [0] plugin 'empty': mock plugin 'empty' has no component '/chat'; \
            [1] plugin 'llama': $.model is "other", not "llama2"; [2] plugin 'openai': $.model is "other", not "gpt-4")
            """)
        // As in Stepflow's router, a path the input lacks is an error rather than a rule that does not hold.
        let missing = try #require(failure(try answer("/llm/chat", model: nil, in: config)))
        #expect(missing.code == "NO_MATCHING_ROUTE")
        #expect(missing.message.hasPrefix("Failed to extract value from input path: '$.model' (rule [1] of /flows/stepflow-config.yml, field 'routes./llm'"))
    }

    @Test func aComponentNoRuleCanResolveIsRefusedNamingEachRulesReason() throws {
        let config = try config("""
              "/llm":
                - { plugin: empty }
                - { plugin: openai, componentDeny: [/chat] }
                - { plugin: llama, componentAllow: [/embed] }
            """)
        #expect {
            try resolve("/llm/chat", in: config)
        } throws: { error in
            guard let error = error as? FlowError else { return false }
            return error.file == "/flows/stepflow-config.yml" && error.field == "routes./llm" && error.message == """
                no rule of route '/llm' (/flows/stepflow-config.yml, field 'routes./llm') resolves component '/llm/chat': \
                [0] plugin 'empty': mock plugin 'empty' has no component '/chat'; [1] plugin 'openai': its componentDeny \
                lists '/chat'; [2] plugin 'llama': its componentAllow does not list '/chat' (it lists /embed)
                """
        }
    }

    @Test func conditionalRulesLeadingToNativePluginsAreRefusedForNow() throws {
        let config = try config("""
              "/llm":
                - { plugin: llama, conditions: [{ path: $.model, value: llama2 }] }
                - { plugin: openai }
            """)
        #expect {
            try config.resolveRoute("/llm/chat") { entry, _ in
                .resolved(ResolvedComponent(route: "/llm/chat", nodeID: "org.example.\(entry.name)", executor: .pooled { _, _ in .canceled }))
            }
        } throws: { error in
            guard let error = error as? FlowError else { return false }
            return error.field == "routes./llm[0]" && error.message.hasPrefix(
                "rule [0] of route '/llm' (/flows/stepflow-config.yml, field 'routes./llm'): rules with 'conditions' choose by the step's input")
                && error.message.contains("this rule leads to org.example.llama")
        }
    }

    // MARK: Patterns

    @Test func stepflowsPatternsMatchOneSegmentOrTheRest() throws {
        let config = try config("""
              "/one/{component}": [{ plugin: openai }]
              "/{*component}": [{ plugin: fallback }]
              "/v2/{name}": [{ plugin: llama, component: "/{name}" }]
            """)
        #expect(by(try answer("/one/chat", model: nil, in: config)) == "openai")
        // Two segments are not one: the catch-all takes them, asking for all of it.
        #expect(config.matchingRoute(for: "/one/chat/x")?.entry.prefix == "/{*component}")
        #expect(config.matchingRoute(for: "/one/chat/x")?.captured == "one/chat/x")
        #expect(by(try answer("/chat", model: nil, in: config)) == "fallback")
        #expect(by(try answer("/v2/chat", model: nil, in: config)) == "llama")
    }

    // MARK: Through the engine

    static let orderedRoutes = """
          "/llm":
            - { plugin: llama, conditions: [{ path: $.model, value: llama2 }] }
            - { plugin: openai, componentDeny: [/embed] }
            - { plugin: fallback }
        """

    @Test
    func theEngineRunsStepsThroughTheRuleTheirInputChooses() async throws {
        let engine = Engine(configuration: try NodalConfig(yaml: Self.plugins + "\nroutes:\n" + Self.orderedRoutes, file: "/flows/stepflow-config.yml"))
        let flow = try Flow(yaml: """
            steps:
              - { id: chat, component: /llm/chat, input: { q: hi, model: { $input: model } } }
              - { id: embed, component: /llm/embed, input: { q: hi, model: { $input: model } } }
            output: { chat: { $step: chat, path: by }, embed: { $step: embed, path: by } }
            """)
        #expect(await engine.run(flow, input: ["model": "llama2"]).output == ["chat": "llama", "embed": "fallback"])
        #expect(await engine.run(flow, input: ["model": "gpt-4"]).output == ["chat": "openai", "embed": "fallback"])
        let unknown = try Flow(yaml: "steps:\n  - { id: x, component: /llm/nothing }\noutput: { $step: x }\n")
        #expect {
            try engine.validate(unknown)
        } throws: { error in
            (error as? FlowError)?.message.hasPrefix("no rule of route '/llm' (/flows/stepflow-config.yml, field 'routes./llm') resolves component '/llm/nothing'") == true
        }
    }

    @Test func stepflowsNewerPatternsRunThroughTheEngine() async throws {
        let config = try NodalConfig(yaml: Self.plugins + "\n  builtin: { type: builtin }\nroutes:\n" + """
              "/mock/{component}": [{ plugin: openai }]
              "/old/{name}": [{ plugin: llama, component: "/{name}" }]
              "/{*component}": [{ plugin: builtin }]
            """)
        let flow = try Flow(yaml: """
            steps:
              - { id: a, component: /mock/chat, input: { q: hi } }
              - { id: b, component: /old/chat, input: { q: hi } }
              - { id: c, component: /create_messages, input: { user_prompt: { $step: a, path: by } } }
            output: { a: { $step: a, path: by }, b: { $step: b, path: by }, c: { $step: c, path: "$.messages[0].content" } }
            """)
        let result = await Engine(configuration: config).run(flow, input: [:])
        #expect(result.output == ["a": "openai", "b": "llama", "c": "openai"], "\(String(describing: result.error))")
    }

    // MARK: Reading rules

    @Test(arguments: [
        (#""/x": [{ plugin: llama, when: 1 }]"#, "routes./x[0].when", "unknown route rule key (known: plugin, conditions, componentAllow, componentDeny, component)"),
        (#""/x": [{ plugin: nobody }]"#, "routes./x[0].plugin", "the rule names plugin 'nobody', which 'plugins' does not define"),
        (#""/x": [{ conditions: [] }]"#, "routes./x[0].plugin", "a route rule needs 'plugin: NAME'"),
        (#""/x": [{ plugin: llama, conditions: { path: a } }]"#, "routes./x[0].conditions", "'conditions' must be a list"),
        (#""/x": [{ plugin: llama, conditions: [{ path: a }] }]"#, "routes./x[0].conditions[0].value", "a condition needs 'value'"),
        (#""/x": [{ plugin: llama, conditions: [{ value: 1 }] }]"#, "routes./x[0].conditions[0].path", "a condition needs 'path'"),
        (#""/x": [{ plugin: llama, conditions: [{ path: "$.a[", value: 1 }] }]"#, "routes./x[0].conditions[0].path", "invalid path"),
        (#""/x": [{ plugin: llama, componentAllow: chat }]"#, "routes./x[0].componentAllow", "must be a list of component names"),
        (#""/x": []"#, "routes./x", "a route must be a non-empty list of rules"),
        (#""x": [{ plugin: llama }]"#, "routes.x", "must start with '/'"),
        (#""/x/{component}/y": [{ plugin: llama }]"#, "routes./x/{component}/y", "a placeholder may only be the last segment"),
        (#""/x/{name}": [{ plugin: llama }]"#, "routes./x/{name}[0].component", "the route's placeholder is '{name}'"),
    ])
    func malformedRulesAreRefusedNamingTheFileAndField(route: String, field: String, message: String) throws {
        #expect {
            try config("  " + route + "\n")
        } throws: { error in
            guard let error = error as? FlowError else { return false }
            return error.file == "/flows/stepflow-config.yml" && error.field == field && error.message.contains(message)
        }
    }
}
