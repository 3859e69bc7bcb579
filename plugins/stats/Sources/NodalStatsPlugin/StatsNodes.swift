// The stats nodes: mean, summary and histogram over an array of numbers.

import CNodal

// MARK: - Node table

enum StatsNodes {
    static var all: [NodeSpec] {
        [
        NodeSpec(
            name: "mean",
            description: "Arithmetic mean of 'values'.",
            flags: NodeFlags.pure,
            inputSchema: Schemas.valuesInput,
            outputSchema: #"{"type":"object","properties":{"mean":{"type":"number"}},"required":["mean"]}"#,
            invoke: { _, host, call, input, length in
                withHostCall(host, call) { hostCall in
                    hostCall.run(ValuesInput.self, input: input, length: length) { input throws(NodeFailure) in
                        MeanOutput(mean: try Statistics(input.values).mean())
                    }
                }
            }
        ),
        NodeSpec(
            name: "summary",
            description: "Count, min, max, mean and population standard deviation of 'values'.",
            flags: NodeFlags.pure,
            inputSchema: Schemas.valuesInput,
            outputSchema: #"""
                {"type":"object","properties":{"count":{"type":"integer","minimum":1},\#
                "min":{"type":"number"},"max":{"type":"number"},"mean":{"type":"number"},\#
                "stddev":{"type":"number","minimum":0}},\#
                "required":["count","min","max","mean","stddev"]}
                """#,
            invoke: { _, host, call, input, length in
                withHostCall(host, call) { hostCall in
                    hostCall.run(ValuesInput.self, input: input, length: length) { input throws(NodeFailure) in
                        try Statistics(input.values).summary()
                    }
                }
            }
        ),
        NodeSpec(
            name: "histogram",
            description: "Counts 'values' in 'buckets' equal-width buckets between their min and max.",
            flags: NodeFlags.pure,
            inputSchema: #"""
                {"type":"object","properties":{"values":{"type":"array","items":{"type":"number"},\#
                "minItems":1},"buckets":{"type":"integer","minimum":1,"maximum":1000000}},\#
                "required":["values","buckets"]}
                """#,
            outputSchema: #"""
                {"type":"object","properties":{"edges":{"type":"array","items":{"type":"number"}},\#
                "counts":{"type":"array","items":{"type":"integer","minimum":0}}},\#
                "required":["edges","counts"]}
                """#,
            invoke: { _, host, call, input, length in
                withHostCall(host, call) { hostCall in
                    hostCall.run(HistogramInput.self, input: input, length: length) { input throws(NodeFailure) in
                        try Statistics(input.values).histogram(buckets: input.buckets)
                    }
                }
            }
        ),
        ]
    }
}

enum Schemas {
    static let valuesInput = #"""
        {"type":"object","properties":{"values":{"type":"array","items":{"type":"number"},\#
        "minItems":1}},"required":["values"]}
        """#
}

// MARK: - Inputs and outputs

struct ValuesInput: Decodable {
    let values: [Double]
}

struct HistogramInput: Decodable {
    let values: [Double]
    /// Read as a number so that 2.5 gets a clear message rather than a decoder's.
    let buckets: Double
}

struct MeanOutput: Encodable {
    let mean: Double
}

struct SummaryOutput: Encodable {
    let count: Int
    let min: Double
    let max: Double
    let mean: Double
    let stddev: Double
}

struct HistogramOutput: Encodable {
    let edges: [Double]
    let counts: [Int]
}

// MARK: - Computation

/// Statistics over a non-empty array. Sums are compensated (Neumaier); when a sum would overflow,
/// the values are scaled first, so huge inputs still give finite results when the answer is finite.
struct Statistics {
    static let maxBuckets = 1_000_000

    let values: [Double]

    init(_ values: [Double]) throws(NodeFailure) {
        guard !values.isEmpty else {
            throw .invalidInput("field 'values' must not be empty")
        }
        self.values = values
    }

    func mean() throws(NodeFailure) -> Double {
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

    func summary() throws(NodeFailure) -> SummaryOutput {
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
    func histogram(buckets requested: Double) throws(NodeFailure) -> HistogramOutput {
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
