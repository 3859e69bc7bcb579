import NodalJSON
/// `/builtin/interrupt`: pauses the run for outside input (a person's decision, an approval).
///
/// The step's whole input is what is shown to whoever answers (the pause record's `value`). The
/// run ends with status `paused`; resuming it with a value for the step's key (its id, dotted
/// under the sub-flow steps it is nested in) makes that value the step's output.
enum BuiltinInterrupt {
    static func call(_ input: Payload, _ context: NodeContext) -> NodeOutcome {
        do {
            return .success(Payload(json: try context.interrupt(showing: input.json)))
        } catch let interrupt as Interrupt {
            return .paused(PauseRequest(key: context.stepID, value: interrupt.value))
        } catch let error as StepError {
            return .failure(error)
        } catch {
            return .failure(StepError(code: "NODE_FAILED", message: String(describing: error)))
        }
    }
}
