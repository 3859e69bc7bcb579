import Foundation
public import Nodal

/// What the fuzzer (Fuzz/FlowFuzz) does with one input, shared with the test that replays the
/// inputs it found (FuzzCorpusTests): parse it as JSON, load it as a YAML and a JSON flow,
/// validate what loads, and run what validates, canceled after `runLimit`.
public enum FuzzInput {
    public struct Outcome: Sendable {
        public var parsedFlows = 0
        public var validFlows = 0
    }

    /// An engine with one Swift node, `/fuzz/echo`, beside the builtins.
    public static func makeEngine() -> Engine {
        let engine = Engine()
        engine.register(route: "/fuzz/echo") { input, _ in input }
        return engine
    }

    public static func feed(_ input: [UInt8], to engine: Engine, runLimit: Duration = .milliseconds(200)) async -> Outcome {
        var outcome = Outcome()
        let text = String(decoding: input, as: UTF8.self)
        _ = try? JSON(parsing: input)
        for flow in [try? Flow(yaml: text, file: nil), try? Flow(json: text, file: nil)] {
            guard let flow else { continue }
            outcome.parsedFlows += 1
            guard (try? engine.validate(flow)) != nil else { continue }
            outcome.validFlows += 1
            var options = RunOptions()
            let token = CancellationToken()
            options.cancellation = token
            let timer = Task {
                try? await Task.sleep(for: runLimit)
                token.cancel()
            }
            _ = await engine.run(flow, input: ["name": "fuzz", "x": 1], options: options)
            timer.cancel()
        }
        return outcome
    }
}
