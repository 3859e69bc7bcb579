// The computations behind the stats nodes, apart from how they are called.

import NodalPluginKit

/// Statistics over a non-empty array. Sums are compensated (Neumaier); when a sum would overflow,
/// the values are scaled first, so huge inputs still give finite results when the answer is finite.
struct Statistics {
    static let maxBuckets = 1_000_000

    let values: [Double]

    init(_ values: [Double]) throws(NodeError) {
        guard !values.isEmpty else {
            throw .invalidInput("field 'values' must not be empty")
        }
        self.values = values
    }

    func mean() throws(NodeError) -> Double {
        let count = Double(values.count)
        let sum = Self.sum(values)
        if sum.isFinite {
            return sum / count
        }
        let scale = values.reduce(0) { Swift.max($0, abs($1)) }
        return Self.sum(values.map { $0 / scale }) / count * scale
    }

    /// Population standard deviation around `mean`.
    func standardDeviation(mean: Double) -> Double {
        let count = Double(values.count)
        let deviations = values.map { $0 - mean }
        let squares = Self.sum(deviations.map { $0 * $0 })
        if squares.isFinite {
            return (squares / count).squareRoot()
        }
        let scale = deviations.reduce(0) { Swift.max($0, abs($1)) }
        guard scale.isFinite, scale > 0 else {
            return .infinity // reported as OUT_OF_RANGE when encoded
        }
        let scaled = Self.sum(deviations.map { ($0 / scale) * ($0 / scale) })
        return (scaled / count).squareRoot() * scale
    }

    func summary() throws(NodeError) -> SummaryOutput {
        let mean = try mean()
        return SummaryOutput(
            count: values.count,
            min: values.min() ?? 0,
            max: values.max() ?? 0,
            mean: mean,
            stddev: standardDeviation(mean: mean)
        )
    }

    /// `buckets` equal-width buckets from min to max; a value on an inner edge belongs to the
    /// bucket on its right, and the max to the last bucket. When all values are equal the range
    /// is widened to [v - 0.5, v + 0.5] (as NumPy does).
    func histogram(buckets requested: Double) throws(NodeError) -> HistogramOutput {
        guard requested >= 1, requested <= Double(Self.maxBuckets), requested.rounded() == requested else {
            throw .invalidInput("field 'buckets' must be an integer between 1 and \(Self.maxBuckets)")
        }
        let buckets = Int(requested)
        var low = values.min() ?? 0
        var high = values.max() ?? 0
        if low == high {
            low -= 0.5
            high += 0.5
        }
        // Interpolate as low*(1-t) + high*t: never overflows, and the ends are exact.
        var edges = [Double]()
        edges.reserveCapacity(buckets + 1)
        for index in 0...buckets {
            let t = Double(index) / Double(buckets)
            edges.append(index == buckets ? high : low * (1 - t) + high * t)
        }
        var counts = [Int](repeating: 0, count: buckets)
        for value in values {
            // The last edge <= value, by binary search over the inner edges.
            var lower = 0
            var upper = buckets - 1
            while lower < upper {
                let middle = (lower + upper + 1) / 2
                if edges[middle] <= value {
                    lower = middle
                } else {
                    upper = middle - 1
                }
            }
            counts[lower] += 1
        }
        return HistogramOutput(edges: edges, counts: counts)
    }

    /// Neumaier's compensated sum.
    static func sum(_ values: [Double]) -> Double {
        var sum = 0.0
        var compensation = 0.0
        for value in values {
            let total = sum + value
            if abs(sum) >= abs(value) {
                compensation += (sum - total) + value
            } else {
                compensation += (value - total) + sum
            }
            sum = total
        }
        return sum + compensation
    }
}
