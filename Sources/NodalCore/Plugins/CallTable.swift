import NodalJSON
import CNodal
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Who a native call is for. Lives in the calling frame (`NativeNode.call`) for the whole call.
struct CallContext: Sendable {
    let stepID: String
    let nodeID: String
    let cancellation: CancellationToken?
    let events: EventSink?
    /// The node being called (for its logger). Not retained: the caller holds the node.
    unowned(unsafe) var node: NativeNode? = nil
    /// The input bytes invoke receives (the same buffer, shared, not copied), and the value they
    /// are when the caller has it parsed already: what the JSON extension's `input` reads (it
    /// parses the bytes only when the value is not there).
    var input: [UInt8] = []
    var inputValue: JSON? = nil
    /// The run the call belongs to, for the blobs and runs extensions; nil for a call outside an
    /// engine's run. Not retained: the caller holds it for the call (`NativeNode.call`'s argument).
    unowned(unsafe) var run: CallerRun? = nil
    /// In a plugin host: the engine's id of the call, which the forwarded blobs and runs
    /// extensions send their requests back under (ForwardingExtensions.swift). 0 elsewhere.
    var forwardedCall: UInt64 = 0
}

/// What a native call answered so far, kept under its slot's lock.
struct CallState: Sendable {
    var output: [UInt8]?
    var error: StepError?
    /// The size of an output refused for being over the node's limit (`Engine.maxOutputBytes`).
    var refusedOutputBytes: Int?
    /// What the extensions handed the plugin during the call; freed when the call finishes.
    private var _arena: CallArena?
    /// The JSON extension's documents and writers of the call (JSONCallDocuments.swift): empty
    /// arrays until the plugin uses the extension.
    var json = JSONCallDocuments()
    /// The call's arena, made on first use.
    var arena: CallArena {
        mutating get {
            if let arena = _arena { return arena }
            let arena = CallArena()
            _arena = arena
            return arena
        }
    }
}

/// One entry of the call table. Lives at a fixed address for the life of the process.
struct CallSlot: ~Copyable {
    /// Held by the call in flight, from `CallTable.begin` to `CallTable.finish`.
    let claimed = Atomic<Bool>(false)
    /// Bumped by `finish` (under the lock), so that the finished call's handle stops matching.
    /// Read under the lock by the services, and without it by `begin`, whose claim saw the last
    /// bump (the claim acquires what `finish`'s release of `claimed` published).
    let generation = Atomic<UInt64>(1)
    /// The address of the call's `CallContext`, in the calling frame. Written by the claimer in
    /// `begin`, before the handle exists; followed only by holders of a live handle (who got it
    /// from invoke, after `begin`) under the lock, after checking the generation. Borrowed, not
    /// retained: a call costs no reference counting for it.
    let context = Atomic<UInt>(0)
    /// Every service call on the slot's call, from any thread, and `finish` hold this.
    let state = Mutex(CallState())
}

/// The calls in flight, and what `nodal_call *` handles mean.
///
/// A handle is not a pointer: it packs a slot index (low `indexBits` bits, plus one so that no
/// handle is NULL) and the slot's generation when the call began (the other bits). Slots are never
/// freed, so a stale handle, or one the plugin made up, leads to valid memory or to no slot at
/// all; the generation, checked under the slot's lock, tells a live call from a finished one.
/// Finishing a call bumps the generation under that lock, so after `finish` returns no service
/// call can reach the finished call's state.
///
/// The table grows in segments (64 slots, then 128, 256, ...) that are never moved or freed; it
/// only grows when every slot is in flight at once.
enum CallTable {
    static let indexBits = 20
    /// Index + 1 must fit in `indexBits` bits.
    static let maximumSlots = (1 << indexBits) - 1
    static let generationMask: UInt64 = (1 << UInt64(UInt.bitWidth - indexBits)) - 1
    static let firstSegmentSize = 64
    /// Enough segments to hold `maximumSlots`.
    static let segmentCount: Int = {
        var count = 0, total = 0
        while total < maximumSlots { total += firstSegmentSize << count; count += 1 }
        return count
    }()

    /// Base addresses of the segments (0 while not yet made), published with release ordering.
    nonisolated(unsafe) private static let segments: UnsafeMutablePointer<Atomic<UInt>> = {
        let segments = UnsafeMutablePointer<Atomic<UInt>>.allocate(capacity: segmentCount)
        for index in 0..<segmentCount { (segments + index).initialize(to: Atomic(0)) }
        return segments
    }()
    /// Slots published so far (all of segments 0 ..< k for some k).
    private static let slotCount = Atomic<Int>(0)
    private static let growth = Mutex(())

    /// Where slot `index` lives (`index < slotCount`).
    private static func slot(_ index: Int) -> UnsafeMutablePointer<CallSlot> {
        let position = index / firstSegmentSize + 1
        let segment = Int.bitWidth - 1 - position.leadingZeroBitCount
        let offset = index - firstSegmentSize * ((1 << segment) - 1)
        let base = segments[segment].load(ordering: .acquiring)
        return UnsafeMutablePointer<CallSlot>(bitPattern: base).unsafelyUnwrapped + offset
    }

    /// The slot and generation a handle names, if it names a slot at all.
    private static func decode(_ handle: OpaquePointer?) -> (slot: UnsafeMutablePointer<CallSlot>, generation: UInt64)? {
        let bits = UInt(bitPattern: handle)
        let index = Int(bits & UInt((1 << indexBits) - 1)) - 1
        guard index >= 0, index < slotCount.load(ordering: .acquiring) else { return nil }
        return (slot(index), UInt64(bits >> UInt(indexBits)))
    }

    /// Runs `body` on the state of the call `handle` names, under its lock, if that call is in
    /// flight. Returns nil (and runs nothing) for NULL, made-up and finished calls' handles.
    /// `body` gets the call's answer so far and its context.
    static func withLiveCall<Result>(
        _ handle: OpaquePointer?, _ body: (inout CallState, UnsafePointer<CallContext>) -> Result
    ) -> Result? {
        guard let (slot, generation) = decode(handle) else { return nil }
        return locked(slot) { state in
            guard slot.pointee.generation.load(ordering: .relaxed) == generation,
                  let context = UnsafePointer<CallContext>(bitPattern: slot.pointee.context.load(ordering: .relaxed))
            else { return nil }
            return body(&state, context)
        }
    }

    /// `body` under the slot's lock. Every access to a slot's state goes through here.
    private static func locked<Result>(_ slot: UnsafeMutablePointer<CallSlot>, _ body: (inout CallState) -> Result) -> Result {
        slot.pointee.state.withLock { state in
            ThreadSanitizer.acquire?(slot)
            defer { ThreadSanitizer.release?(slot) }
            return body(&state)
        }
    }

    /// A call that has begun: its handle for the plugin, and its slot for `finish`.
    struct Call {
        let handle: OpaquePointer
        fileprivate let index: Int
    }

    /// Claims a free slot and opens a call in it for `context`, which must stay valid until
    /// `finish`. Returns nil only when `maximumSlots` calls are in flight at once.
    ///
    /// Takes no lock: claiming the slot makes it this thread's, and nothing but `finish` (which
    /// only the claimer calls) changes the generation.
    static func begin(_ context: UnsafePointer<CallContext>) -> Call? {
        guard let index = claim() else { return nil }
        let slot = slot(index)
        slot.pointee.context.store(UInt(bitPattern: context), ordering: .relaxed)
        let generation = slot.pointee.generation.load(ordering: .relaxed)
        let bits = UInt(generation) << UInt(indexBits) | UInt(index + 1)
        return Call(handle: OpaquePointer(bitPattern: bits).unsafelyUnwrapped, index: index)
    }

    /// Closes the call: from here on its handle is stale. Returns what the plugin answered.
    static func finish(_ call: Call) -> (output: [UInt8]?, error: StepError?, refusedOutputBytes: Int?) {
        let slot = slot(call.index)
        let answer = locked(slot) { state in
            let generation = slot.pointee.generation.load(ordering: .relaxed)
            slot.pointee.generation.store((generation + 1) & generationMask, ordering: .relaxed)
            slot.pointee.context.store(0, ordering: .relaxed)
            defer { state = CallState() }
            return (state.output, state.error, state.refusedOutputBytes)
        }
        slot.pointee.claimed.store(false, ordering: .releasing)
        return answer
    }

    /// A free slot, made free by an earlier `finish`. Probing starts at a place that depends on
    /// the thread, so that threads calling at once mostly claim different slots at the first try.
    private static func claim() -> Int? {
        let start = threadHint()
        while true {
            let count = slotCount.load(ordering: .acquiring)
            if count > 0 {
                // start * count / 2^24: a place in 0 ..< count without a division.
                var index = (start &* count) >> 24
                for _ in 0..<count {
                    let candidate = slot(index)
                    if !candidate.pointee.claimed.load(ordering: .relaxed),
                       candidate.pointee.claimed.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
                        return index
                    }
                    index = index + 1 == count ? 0 : index + 1
                }
            }
            guard grow(from: count) else { return nil }
        }
    }

    /// Adds a segment, unless another thread already did since `count` was read. Returns false
    /// when the table is full.
    private static func grow(from count: Int) -> Bool {
        growth.withLock { _ in
            let current = slotCount.load(ordering: .relaxed)
            guard current == count else { return true }
            guard current < maximumSlots else { return false }
            var segment = 0, start = 0
            while start < current { start += firstSegmentSize << segment; segment += 1 }
            let size = min(firstSegmentSize << segment, maximumSlots - current)
            let base = UnsafeMutablePointer<CallSlot>.allocate(capacity: size)
            for offset in 0..<size { (base + offset).initialize(to: CallSlot()) }
            segments[segment].store(UInt(bitPattern: base), ordering: .releasing)
            slotCount.store(current + size, ordering: .releasing)
            return true
        }
    }

    private static func threadHint() -> Int {
        #if canImport(Glibc)
        let thread = UInt(pthread_self())
        #else
        let thread = UInt(bitPattern: pthread_self())
        #endif
        // Thread ids are addresses: multiply to spread them, keep the high 24 bits.
        return Int(truncatingIfNeeded: (UInt64(thread) &* 0x9E37_79B9_7F4A_7C15) >> 40)
    }
}

/// Tells ThreadSanitizer about the slot locks, when the process runs under it.
///
/// On Linux, Synchronization.Mutex is a priority-inheritance futex: when the lock is contended the
/// kernel hands it to the waiting thread, a hand-over ThreadSanitizer cannot see, so it reports
/// the state the lock protects as raced (any contended Mutex does, not only these). Its runtime
/// exports `__tsan_acquire`/`__tsan_release` for exactly this; in a process without it both hooks
/// are nil and cost a load and a branch.
enum ThreadSanitizer {
    typealias Hook = @convention(c) (UnsafeMutableRawPointer?) -> Void
    static let acquire: Hook? = hook("__tsan_acquire")
    static let release: Hook? = hook("__tsan_release")

    private static func hook(_ name: String) -> Hook? {
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, name) else { return nil }
        return unsafeBitCast(symbol, to: Hook.self)
    }
}
