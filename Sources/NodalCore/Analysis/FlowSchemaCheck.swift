import NodalJSON

/// The check `Engine.validate` (and `nodal validate`) makes of a flow's data against schemas,
/// without running it, as Stepflow's static type check does: each step's input against its
/// component's input schema, and the flow's output against its output schema, as far as they
/// are known before the run.
///
/// An input is known in part: its constants, and for `{$input: path}` and `{$step: id, path: p}`
/// the schema the value will be valid under (the flow's input schema, the step's output schema,
/// followed along the path). Only what must fail is reported (`JSONSchema.staticViolations`):
/// a constant that does not match, a required member the input does not have, a value whose
/// declared schema allows no type the target allows, a read of a member its schema forbids.
/// `$variable`, `$if`, `$switch` and `$coalesce` are not known, and neither is what depends on
/// values (`enum` of a reference, numeric bounds, `anyOf`): the check before each call catches those.
enum FlowSchemaCheck {
    struct Findings {
        var errors: [FlowError] = []
        var warnings: [FlowWarning] = []
    }

    /// A schema a value is known to be valid under, and what to call it in messages.
    private struct Declared {
        var schema: JSONSchema
        var name: String
    }

    static func check(_ flow: Flow, components: [ResolvedComponent]) -> Findings {
        var findings = Findings()
        check(flow, components: components, into: &findings)
        return findings
    }

    private static func check(_ flow: Flow, components: [ResolvedComponent], into findings: inout Findings) {
        var inputSchema: JSONSchema?
        var outputSchema: JSONSchema?
        do { inputSchema = try flow.compiledInputSchema() } catch { findings.errors.append(error) }
        do { outputSchema = try flow.compiledOutputSchema() } catch { findings.errors.append(error) }
        // A default the input schema fills in but does not accept fails every run that leaves
        // the field out, with a message about a value the caller never gave.
        for (location, violation) in inputSchema?.defaultsNotMatchingTheirSchemas() ?? [] {
            findings.warnings.append(FlowWarning(
                file: flow.file, field: "inputSchema",
                "the default at \(location) does not match its own schema (\(violation.message)), so a run that leaves the field out is refused"))
        }
        if case .literal(.null) = flow.output {
            findings.warnings.append(FlowWarning(
                file: flow.file, field: "output",
                "the flow has no 'output', so every run of it returns null; add output: (an expression such as { $step: ID }) to say what a run returns"))
        }

        // What each step's output is declared to be, and what its input is checked against.
        var outputs: [Declared?] = []
        var inputs: [Declared?] = []
        outputs.reserveCapacity(flow.steps.count)
        inputs.reserveCapacity(flow.steps.count)
        for (step, component) in zip(flow.steps, components) {
            var input: Declared?
            var output: Declared?
            if let schemas = component.schemas {
                input = schemas.input.map { Declared(schema: $0, name: "the input schema of \(schemas.owner)") }
                output = schemas.output.map { Declared(schema: $0, name: "the output schema of step '\(step.id)', \(schemas.owner)") }
                for problem in schemas.problems {
                    findings.warnings.append(FlowWarning(file: flow.file, step: step.id, field: "component", "\(schemas.owner): \(problem)"))
                }
            }
            if case .subflow(let subflow, let subcomponents) = component.executor {
                var inner = Findings()
                check(subflow, components: subcomponents, into: &inner)
                let place = " (sub-flow of step '\(step.id)' in \(flow.file ?? "the flow"))"
                findings.errors += inner.errors.map { error in
                    var error = error
                    error.message += place
                    return error
                }
                findings.warnings += inner.warnings.map { warning in
                    var warning = warning
                    warning.message += place
                    return warning
                }
                let name = "sub-flow \(FileSystem.baseName(subflow.file ?? step.component))"
                if let schema = try? subflow.compiledInputSchema() {
                    input = Declared(schema: schema, name: "the input schema of \(name)")
                }
                if let schema = try? subflow.compiledOutputSchema() {
                    output = Declared(schema: schema, name: "the output schema of step '\(step.id)', \(name)")
                }
            }
            inputs.append(input)
            outputs.append(output)
        }

        let reader = Reader(
            input: inputSchema.map { Declared(schema: $0, name: "the flow's input schema") }, outputs: outputs)
        for (index, step) in flow.steps.enumerated() {
            var reads: [FlowError] = []
            let value = reader.value(of: step.input, field: "input", problems: &reads)
            findings.errors += reads.map { problem in
                var problem = problem
                problem.file = flow.file
                problem.step = step.id
                return problem
            }
            guard let expected = inputs[index] else { continue }
            for violation in expected.schema.staticViolations(of: value) {
                findings.errors.append(FlowError(
                    file: flow.file, step: step.id, field: violation.field(under: "input"),
                    "\(violation.message), against \(expected.name) at \(violation.keywordLocation)"))
            }
        }
        var reads: [FlowError] = []
        let output = reader.value(of: flow.output, field: "output", problems: &reads)
        findings.errors += reads.map { problem in
            var problem = problem
            problem.file = flow.file
            return problem
        }
        if let outputSchema {
            for violation in outputSchema.staticViolations(of: output) {
                findings.errors.append(FlowError(
                    file: flow.file, field: violation.field(under: "output"),
                    "\(violation.message), against the flow's output schema at \(violation.keywordLocation)"))
            }
        }
    }

    /// Turns an expression into what is known of its value before the run.
    private struct Reader {
        var input: Declared?
        var outputs: [Declared?]

        func value(of expression: Expression, field: String, problems: inout [FlowError]) -> StaticValue {
            switch expression {
            case .literal(let value):
                return .known(value)
            case .input(let path):
                return read(input, path, what: "the run's input", field: field, problems: &problems)
            case .step(let index, let id, let path):
                return read(outputs[index], path, what: "the output of step '\(id)'", field: field, problems: &problems)
            case .object(let members):
                return .object(members.map { member in
                    (key: member.key, value: value(of: member.value, field: field + "." + member.key, problems: &problems))
                })
            case .array(let elements):
                return .array(elements.enumerated().map { position, element in
                    value(of: element, field: "\(field)[\(position)]", problems: &problems)
                })
            case .variable, .conditional, .choice, .coalesce, .withDefault:
                // Known only when the run gets there (a reference with a default may take either).
                return .unknown
            }
        }

        private func read(
            _ declared: Declared?, _ path: JSONPath, what: String, field: String, problems: inout [FlowError]
        ) -> StaticValue {
            guard let declared, let schema = declared.schema.root.descendant(path.segments) else { return .unknown }
            if schema.admitsNothing {
                problems.append(FlowError(
                    field: field,
                    "reads \(path) of \(what), and \(declared.name) allows nothing there (at \(schema.location)), so it is never there"))
                return .unknown
            }
            return .described(schema, origin: StaticOrigin(schema: declared.name, path: path))
        }
    }
}
