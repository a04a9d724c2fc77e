//! The classifier's graph, run without a graph engine when it is the one `train.py`
//! writes: `sigmoid(values · weights[indices] + bias)`. That is a sparse dot product of a
//! few hundred features with a `buckets × categories` table; tract runs it through
//! Gather → MatMul → Add → Sigmoid on padded tensors and needs its graph parsed and
//! optimised at every cold start. Here loading is reading two initialisers out of the
//! ONNX file, and a prediction touches only the rows of the features present.
//!
//! Any other graph (`None` from [`LinearGraph::recognise`]) is served by tract; the parity
//! test in `model.rs` runs both on the same file.

use tract_onnx::pb::{GraphProto, ModelProto, TensorProto};

/// The operations of the exported graph, in order, as `(op, inputs, outputs)`.
const EXPORTED_NODES: [(&str, &[&str], &[&str]); 6] = [
    ("Gather", &["weights", "indices"], &["rows"]),
    ("Unsqueeze", &["values", "middle_axis"], &["values_row"]),
    ("MatMul", &["values_row", "rows"], &["logits_3d"]),
    (
        "Reshape",
        &["logits_3d", "scores_shape"],
        &["logits_unbiased"],
    ),
    ("Add", &["logits_unbiased", "bias"], &["logits"]),
    ("Sigmoid", &["logits"], &["scores"]),
];

/// ONNX's `TensorProto.DataType` codes used here.
const FLOAT: i32 = 1;
const INT64: i32 = 7;

/// The exported linear model's parameters.
#[derive(Debug, Clone)]
pub struct LinearGraph {
    /// Row-major `buckets × categories`.
    weights: Vec<f32>,
    bias: Vec<f32>,
    buckets: usize,
}

impl LinearGraph {
    /// The parameters when `model` is exactly the exported graph; `None` for any other.
    pub fn recognise(model: &ModelProto) -> Option<Self> {
        let graph = model.graph.as_ref()?;
        let nodes_match = graph.node.len() == EXPORTED_NODES.len()
            && graph
                .node
                .iter()
                .zip(EXPORTED_NODES)
                .all(|(node, (op, inputs, outputs))| {
                    node.op_type == op && node.input == inputs && node.output == outputs
                });
        let inputs: Vec<&str> = graph.input.iter().map(|i| i.name.as_str()).collect();
        let outputs: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
        if !nodes_match || inputs != ["indices", "values"] || outputs != ["scores"] {
            return None;
        }
        // Gather along the rows, and the shape constants the exported graph uses.
        let gather_axis = graph.node[0]
            .attribute
            .iter()
            .find(|a| a.name == "axis")
            .map_or(0, |a| a.i);
        let weights = initializer(graph, "weights")?;
        let bias = initializer(graph, "bias")?;
        let [buckets, categories] = <[i64; 2]>::try_from(weights.dims.as_slice()).ok()?;
        let (buckets, categories) = (
            usize::try_from(buckets).ok()?,
            usize::try_from(categories).ok()?,
        );
        if gather_axis != 0
            || int64s(initializer(graph, "middle_axis")?)? != [1]
            || int64s(initializer(graph, "scores_shape")?)? != [1, categories as i64]
            || bias.dims != [categories as i64]
        {
            return None;
        }
        let weights = floats(weights)?;
        let bias = floats(bias)?;
        if weights.len() != buckets.checked_mul(categories)? || bias.len() != categories {
            return None;
        }
        Some(LinearGraph {
            weights,
            bias,
            buckets,
        })
    }

    pub fn categories(&self) -> usize {
        self.bias.len()
    }

    /// The graph's output for one document's features: `None` when an index is outside
    /// the table (the graph's Gather would fail too).
    pub fn scores(&self, indices: &[u32], values: &[f32]) -> Option<Vec<f32>> {
        // In f64, the logistic function exactly as ONNX defines it: the same bits on every
        // machine (tract picks an f32 rational fit and a kernel per CPU, so its last
        // digits move between AVX-512, AVX2 and NEON; the parity test bounds the gap).
        let width = self.categories();
        let mut logits: Vec<f64> = self.bias.iter().map(|&b| f64::from(b)).collect();
        for (&index, &value) in indices.iter().zip(values) {
            let index = index as usize;
            if index >= self.buckets {
                return None;
            }
            let row = &self.weights[index * width..(index + 1) * width];
            let value = f64::from(value);
            for (logit, &weight) in logits.iter_mut().zip(row) {
                *logit += value * f64::from(weight);
            }
        }
        Some(
            logits
                .iter()
                .map(|&logit| (1.0 / (1.0 + (-logit).exp())) as f32)
                .collect(),
        )
    }
}

fn initializer<'g>(graph: &'g GraphProto, name: &str) -> Option<&'g TensorProto> {
    graph.initializer.iter().find(|t| t.name == name)
}

/// A float tensor's values, from `raw_data` (little-endian, as numpy writes it) or
/// `float_data`.
fn floats(tensor: &TensorProto) -> Option<Vec<f32>> {
    values(tensor, FLOAT, &tensor.float_data, f32::from_le_bytes)
}

fn int64s(tensor: &TensorProto) -> Option<Vec<i64>> {
    values(tensor, INT64, &tensor.int64_data, i64::from_le_bytes)
}

/// A tensor's values of type `data_type`: from `raw_data`, `N` little-endian bytes each,
/// or else from the typed field; `None` for another type or a ragged `raw_data`.
fn values<T: Clone, const N: usize>(
    tensor: &TensorProto,
    data_type: i32,
    typed: &[T],
    from_le_bytes: fn([u8; N]) -> T,
) -> Option<Vec<T>> {
    if tensor.data_type != data_type {
        return None;
    }
    if tensor.raw_data.is_empty() {
        return Some(typed.to_vec());
    }
    let chunks = tensor.raw_data.chunks_exact(N);
    if !chunks.remainder().is_empty() {
        return None;
    }
    chunks
        .map(|bytes| bytes.try_into().ok().map(from_le_bytes))
        .collect()
}
