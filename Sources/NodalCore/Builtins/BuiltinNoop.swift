/// Stepflow's `/builtin/noop`: returns its input unchanged (any JSON, null too). For measuring
/// what the engine itself costs per step.
enum BuiltinNoop {
    static func call(_ input: Payload, _ context: NodeContext) -> NodeOutcome {
        .success(input)
    }
}
