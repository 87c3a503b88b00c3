//! The network: linear layers with ReLU between them, trained by AdamW on mean squared error.

use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::{Device, Module, Tensor, Var};
use candle_nn::{AdamW, Linear, Optimizer, ParamsAdamW};

use super::data::{Dataset, TrainOptions, TrainReport};
use super::Trained;
use crate::neural::error::NeuralError;

/// A trained stack of linear layers (weights detached from the optimizer).
#[derive(Debug, Clone)]
pub(crate) struct Mlp {
    pub(crate) layers: Vec<Linear>,
}

fn forward(layers: &[Linear], x: &Tensor) -> candle_core::Result<Tensor> {
    let mut h = x.clone();
    for (i, layer) in layers.iter().enumerate() {
        h = layer.forward(&h)?;
        if i + 1 < layers.len() {
            h = h.relu()?;
        }
    }
    Ok(h)
}

impl Mlp {
    /// Runs `n` standardised rows of `dim` features (row-major); standardised outputs.
    pub(crate) fn predict(
        &self,
        x: &[f32],
        n: usize,
        dim: usize,
    ) -> Result<Vec<Vec<f32>>, NeuralError> {
        let x = Tensor::from_slice(x, (n, dim), &Device::Cpu)?;
        Ok(forward(&self.layers, &x)?.to_vec2::<f32>()?)
    }
}

/// A fixed-seed xorshift: training is repeatable for the same data and options (candle's CPU
/// random generator cannot be seeded).
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        Self(0x9E37_79B9_7F4A_7C15)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in [-bound, bound).
    fn uniform(&mut self, bound: f64) -> f32 {
        let unit = (self.next() >> 11) as f64 / (1_u64 << 53) as f64;
        ((2.0 * unit - 1.0) * bound) as f32
    }

    /// Shuffles `order` (Fisher-Yates).
    fn shuffle(&mut self, order: &mut [u32]) {
        for i in (1..order.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
    }
}

/// A trainable layer `inputs` -> `outputs`, initialised with the variance candle-nn's `linear`
/// uses (Kaiming for ReLU, here uniform in ±sqrt(6 / inputs); biases uniform in
/// ±1/sqrt(inputs)), but from `rng`.
fn layer(inputs: usize, outputs: usize, rng: &mut Rng) -> candle_core::Result<(Linear, [Var; 2])> {
    let fan_in = inputs as f64;
    let weight: Vec<f32> = (0..inputs * outputs)
        .map(|_| rng.uniform((6.0 / fan_in).sqrt()))
        .collect();
    let bias: Vec<f32> = (0..outputs)
        .map(|_| rng.uniform(1.0 / fan_in.sqrt()))
        .collect();
    let weight = Var::from_vec(weight, (outputs, inputs), &Device::Cpu)?;
    let bias = Var::from_vec(bias, outputs, &Device::Cpu)?;
    let linear = Linear::new(weight.as_tensor().clone(), Some(bias.as_tensor().clone()));
    Ok((linear, [weight, bias]))
}

pub(crate) fn train(
    data: &Dataset<'_>,
    options: &TrainOptions,
    cancel: &AtomicBool,
) -> Result<(Trained, TrainReport), NeuralError> {
    let device = Device::Cpu;
    let inputs = data.inputs.clone();
    let outputs = data.outputs.clone();
    let n = data.rows.len();
    let x = Tensor::from_vec(inputs.apply_rows(data.rows), (n, data.input_dim), &device)?;
    let y = Tensor::from_vec(
        outputs.apply_rows(data.labels),
        (n, data.output_dim),
        &device,
    )?;

    let mut rng = Rng::new();
    let mut dims = vec![data.input_dim];
    dims.extend(&options.hidden_sizes);
    dims.push(data.output_dim);
    let mut layers = Vec::with_capacity(dims.len() - 1);
    let mut vars = Vec::with_capacity(2 * layers.capacity());
    for w in dims.windows(2) {
        let (linear, params) = layer(w[0], w[1], &mut rng)?;
        layers.push(linear);
        vars.extend(params);
    }
    let mut optimizer = AdamW::new(
        vars,
        ParamsAdamW {
            lr: options.learning_rate,
            weight_decay: 0.0,
            ..Default::default()
        },
    )?;

    let batch = n.min(64);
    let mut order: Vec<u32> = (0..n as u32).collect();
    for _ in 0..options.epochs {
        if cancel.load(Ordering::Acquire) {
            return Err(NeuralError::Cancelled);
        }
        rng.shuffle(&mut order);
        for chunk in order.chunks(batch) {
            if cancel.load(Ordering::Acquire) {
                return Err(NeuralError::Cancelled);
            }
            let index = Tensor::from_slice(chunk, chunk.len(), &device)?;
            let xb = x.index_select(&index, 0)?;
            let yb = y.index_select(&index, 0)?;
            let loss = forward(&layers, &xb)?.sub(&yb)?.sqr()?.mean_all()?;
            optimizer.backward_step(&loss)?;
        }
    }

    let mlp = Mlp {
        layers: layers
            .iter()
            .map(|l| Linear::new(l.weight().detach(), l.bias().map(Tensor::detach)))
            .collect(),
    };
    let trained = Trained {
        mlp,
        inputs,
        outputs,
    };
    let predictions = trained.predict(data.rows)?;
    if predictions.iter().flatten().any(|v| !v.is_finite()) {
        return Err(NeuralError::NonFinite(
            "training diverged (the model's outputs are not finite numbers); lower learningRate"
                .into(),
        ));
    }
    let mut sum = 0.0;
    let mut count = 0.0;
    for (p, l) in predictions.iter().zip(data.labels) {
        for (a, b) in p.iter().zip(l) {
            sum += (a - b) * (a - b);
            count += 1.0;
        }
    }
    // A training that diverged is a failure, never a model: a non-finite loss (labels above
    // 1e154, whose squared errors f64 cannot hold) or weights would replace a good model
    // with one whose predictions cannot be trusted.
    let loss = sum / count;
    let weights_finite = trained.mlp.layers.iter().try_fold(true, |ok, l| {
        let mut all = vec![l.weight().flatten_all()?];
        all.extend(l.bias().cloned());
        let finite = all.iter().try_fold(true, |ok, t| {
            let values = t.to_dtype(candle_core::DType::F64)?.to_vec1::<f64>()?;
            candle_core::Result::Ok(ok && values.iter().all(|v| v.is_finite()))
        })?;
        candle_core::Result::Ok(ok && finite)
    })?;
    if !(loss.is_finite() && weights_finite) {
        return Err(NeuralError::NonFinite(format!(
            "training diverged (loss {loss}{}); the previous model stays",
            if weights_finite {
                ""
            } else {
                ", weights not finite"
            }
        )));
    }
    Ok((
        trained,
        TrainReport {
            loss,
            epochs: options.epochs,
        },
    ))
}
