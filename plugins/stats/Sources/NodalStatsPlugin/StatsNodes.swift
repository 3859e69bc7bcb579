// The stats nodes: mean, summary and histogram over an array of numbers.

import NodalPluginKit

struct Mean: CodableNode {
    let name = "mean"
    let description: String? = "Arithmetic mean of 'values'."
    let flags: NodeFlags = .pure
    let inputSchema: JSON? = Schemas.valuesInput
    let outputSchema: JSON? = [
        "type": "object", "properties": ["mean": ["type": "number"]], "required": ["mean"],
    ]

    struct Output: Encodable { let mean: Double }

    func run(_ input: ValuesInput, context: NodeContext) throws -> Output {
        Output(mean: try Statistics(input.values).mean())
    }
}

struct Summary: CodableNode {
    let name = "summary"
    let description: String? = "Count, min, max, mean and population standard deviation of 'values'."
    let flags: NodeFlags = .pure
    let inputSchema: JSON? = Schemas.valuesInput
    let outputSchema: JSON? = [
        "type": "object",
        "properties": [
            "count": ["type": "integer", "minimum": 1], "min": ["type": "number"], "max": ["type": "number"],
            "mean": ["type": "number"], "stddev": ["type": "number", "minimum": 0],
        ],
        "required": ["count", "min", "max", "mean", "stddev"],
    ]

    func run(_ input: ValuesInput, context: NodeContext) throws -> SummaryOutput {
        try Statistics(input.values).summary()
    }
}

struct Histogram: CodableNode {
    let name = "histogram"
    let description: String? = "Counts 'values' in 'buckets' equal-width buckets between their min and max."
    let flags: NodeFlags = .pure
    let inputSchema: JSON? = [
        "type": "object",
        "properties": [
            "values": ["type": "array", "items": ["type": "number"], "minItems": 1],
            "buckets": ["type": "integer", "minimum": 1, "maximum": .int(Statistics.maxBuckets)],
        ],
        "required": ["values", "buckets"],
    ]
    let outputSchema: JSON? = [
        "type": "object",
        "properties": [
            "edges": ["type": "array", "items": ["type": "number"]],
            "counts": ["type": "array", "items": ["type": "integer", "minimum": 0]],
        ],
        "required": ["edges", "counts"],
    ]

    struct Input: Decodable {
        let values: [Double]
        /// Read as a number so that 2.5 gets a clear message rather than a decoder's.
        let buckets: Double
    }

    func run(_ input: Input, context: NodeContext) throws -> HistogramOutput {
        try Statistics(input.values).histogram(buckets: input.buckets)
    }
}

enum Schemas {
    static let valuesInput: JSON = [
        "type": "object",
        "properties": ["values": ["type": "array", "items": ["type": "number"], "minItems": 1]],
        "required": ["values"],
    ]
}

struct ValuesInput: Decodable {
    let values: [Double]
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
