// hash-bench: Nodal's hand-written SHA-256 (ContentHash: blob ids, flow ids, cache keys) against
// swift-crypto's SHA256 (BoringSSL's assembly underneath on Linux), on inputs of the sizes those
// hashes see: a step's input for a cache key (~100 B), a flow file (2 KB to 200 KB), a big blob (4 MB).
//
//   swift build -c release --product hash-bench && .build/release/hash-bench
//
// Each line: MB/s of both, best of 5, and the ratio; both digests are compared on every size.
import Crypto
import Foundation
import NodalCore

#if canImport(Glibc)
import Glibc
#endif

func seconds(_ duration: Duration) -> Double {
    let (s, atto) = duration.components
    return Double(s) + Double(atto) / 1e18
}

func best(_ repeats: Int, _ body: () -> Void) -> Double {
    var fastest = Double.infinity
    let clock = ContinuousClock()
    for _ in 0..<repeats {
        let start = clock.now
        body()
        fastest = min(fastest, seconds(clock.now - start))
    }
    return fastest
}

func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { byte in
        let digits = Array("0123456789abcdef")
        return String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 15)])
    }.joined()
}

/// Bytes that look like JSON text (what the hashes read), not zeros.
func input(size: Int) -> [UInt8] {
    let pattern = Array(#"{"id":"step-17","component":"/std/increment","input":{"value":{"$step":"s16","path":"value"}}},"#.utf8)
    return (0..<size).map { pattern[$0 % pattern.count] }
}

var mismatches = 0
print("size        Nodal MB/s   swift-crypto MB/s   Nodal / swift-crypto (time)")
for size in [100, 2_000, 20_000, 200_000, 4_000_000] {
    let bytes = input(size: size)
    let nodal = hex(ContentHash.sha256(bytes))
    let vetted = hex(Crypto.SHA256.hash(data: bytes))
    if nodal != vetted {
        print("digests differ at \(size) bytes: \(nodal) against \(vetted)")
        mismatches += 1
    }
    // About 40 MB hashed per measurement, whatever the size.
    let rounds = max(1, 40_000_000 / size)
    var sink: UInt8 = 0
    let ours = best(5) { for _ in 0..<rounds { sink &+= ContentHash.sha256(bytes)[0] } }
    let theirs = best(5) { for _ in 0..<rounds { sink &+= Crypto.SHA256.hash(data: bytes).first { _ in true }! } }
    if sink == 1 { print("") }
    let megabytes = Double(size * rounds) / 1e6
    let label = "\(size) B".padding(toLength: 12, withPad: " ", startingAt: 0)
    print(label + String(format: "%10.1f   %17.1f   %.2fx", megabytes / ours, megabytes / theirs, ours / theirs))
}
exit(mismatches == 0 ? 0 : 1)
