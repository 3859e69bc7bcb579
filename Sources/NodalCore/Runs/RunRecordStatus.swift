import NodalJSON

// Here, not beside RunRecord: Storage sits below Runs and knows nothing of run results.
extension RunRecord.Status {
    /// How a finished run is recorded.
    public init(_ status: RunStatus) {
        switch status {
        case .success: self = .success
        case .failed: self = .failed
        case .canceled: self = .canceled
        case .paused: self = .paused
        }
    }
}
