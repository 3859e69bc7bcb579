extension RunOptions {
    /// The run's store as the engine writes to it. A store from outside this package conforms to
    /// the public `RunStore` only, so it cannot hold checkpoints: `nil` then, and the run refuses
    /// to start (`FlowRun.recordStart`) rather than run without the durability it asked for.
    package var storage: (any RunStorage)? { store as? any RunStorage }
}
