import NodalCore
import Synchronization

/// Flows read from their blobs, the most recently used `capacity` of them: reading a flow (its
/// expressions, its schemas) costs more than running a small one, and a service runs the same few
/// flows over and over. A blob's content never changes under its id, so an entry never goes stale.
final class FlowCache: Sendable {
    let capacity: Int
    private let state = Mutex<(flows: [String: Flow], order: [String])>(([:], []))

    init(capacity: Int) { self.capacity = max(1, capacity) }

    func flow(_ id: String) -> Flow? {
        state.withLock { state in
            guard let flow = state.flows[id] else { return nil }
            if let position = state.order.firstIndex(of: id) { state.order.remove(at: position) }
            state.order.append(id)
            return flow
        }
    }

    func keep(_ flow: Flow, id: String) {
        state.withLock { state in
            if state.flows.updateValue(flow, forKey: id) == nil {
                state.order.append(id)
                if state.order.count > capacity { state.flows[state.order.removeFirst()] = nil }
            }
        }
    }

    func forget(_ id: String) {
        state.withLock { state in
            state.flows[id] = nil
            state.order.removeAll { $0 == id }
        }
    }
}
