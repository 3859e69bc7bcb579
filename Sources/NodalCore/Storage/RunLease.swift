package import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Who runs a run right now: one owner at a time, so two processes never run the same steps.
///
/// The lease lives in the store beside the run (`RunStorage.claimLease`), names the owner (a random
/// id for one engine in one process), the host and pid it runs in, and when it expires. The owner
/// renews it while the run goes (`LeaseKeeper`); a resume, and later a worker, claims it before
/// touching the run. A lease whose time ran out, or whose pid is gone on this host, no longer holds
/// the run: it is `abandoned` and may be claimed.
package struct RunLease: Sendable, Hashable {
    package var runID: String
    package var owner: String
    package var host: String
    package var pid: Int32
    package var expiresAt: Date

    package init(runID: String, owner: String, host: String, pid: Int32, expiresAt: Date) {
        self.runID = runID
        self.owner = owner
        self.host = host
        self.pid = pid
        self.expiresAt = expiresAt
    }

    /// Whether the lease still holds its run at `now`: not expired, and, on this host, its process
    /// is alive. (On another host only the expiry can tell.)
    package func holds(at now: Date) -> Bool {
        guard expiresAt > now else { return false }
        return host != LeaseOwner.currentHost || LeaseOwner.processExists(pid)
    }

    /// For messages: `owner 1c2d… (pid 4242 on build-7), lease until 2026-12-01T09:00:00Z`.
    package var holderDescription: String {
        "owner \(owner.prefix(8)) (pid \(pid) on \(host)), lease until \(expiresAt.formatted(.iso8601))"
    }
}

/// The answer to a claim.
package enum LeaseClaim: Sendable, Hashable {
    case claimed
    /// Another owner holds a live lease.
    case heldBy(RunLease)
}

/// This process's identity as a lease holder.
package struct LeaseOwner: Sendable, Hashable {
    package var id: String
    package var host: String
    package var pid: Int32

    package init(id: String = UUID().uuidString.lowercased(), host: String = LeaseOwner.currentHost, pid: Int32 = getpid()) {
        self.id = id
        self.host = host
        self.pid = pid
    }

    package func lease(for runID: String, until expiry: Date) -> RunLease {
        RunLease(runID: runID, owner: id, host: host, pid: pid, expiresAt: expiry)
    }

    package static let currentHost: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    /// `kill(pid, 0)`: the process exists (EPERM means it exists but is someone else's).
    package static func processExists(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}

extension RunStorage {
    /// Claims `runID` for `owner` until `now + duration`. A lease held by a dead process on this
    /// host is taken over (compare-and-swap on its owner, so two claimers cannot both win).
    package func claim(
        runID: String, owner: LeaseOwner, duration: Duration, now: Date = Date()
    ) async throws -> LeaseClaim {
        let lease = owner.lease(for: runID, until: now.addingTimeInterval(duration.inSeconds))
        switch try await claimLease(lease, now: now, replacing: nil) {
        case .claimed: return .claimed
        case .heldBy(let holder) where !holder.holds(at: now):
            // Expired leases are taken by the claim itself; this one is live by the clock but its
            // process is gone.
            return try await claimLease(lease, now: now, replacing: holder.owner)
        case .heldBy(let holder): return .heldBy(holder)
        }
    }
}


extension RunStorage {
    /// A run's status as a person should read it: `abandoned` for a run recorded as `running`
    /// whose owner is gone (no lease, an expired one, or a dead pid on this host): nothing runs
    /// it, and `resume` may take it over.
    package func shownStatus(of record: RunRecord, now: Date = Date()) async throws -> String {
        guard record.status == .running else { return record.status.rawValue }
        guard let lease = try await lease(runID: record.id), lease.holds(at: now) else { return "abandoned" }
        return "running"
    }
}

/// What a run asks before it writes to its record (a checkpoint, its end): whether it still holds
/// its lease. The engine's `RunOwnership` answers it; a run without a lease has none.
protocol LeaseConfirmation: Sendable {
    func confirm() async -> Bool
}
