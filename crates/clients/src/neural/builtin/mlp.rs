//! The network: linear layers with ReLU between them, trained by AdamW on mean squared error.

use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{linear, AdamW, Linear, Optimizer, ParamsAdamW, VarBuilder, VarMap};

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

/// Shuffles with a fixed-seed xorshift, so that a run is repeatable for the same data.
fn shuffle(order: &mut [u32], state: &mut u64) {
    for i in (1..order.len()).rev() {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        let j = (*state % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
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

    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &device);
    let mut dims = vec![data.input_dim];
    dims.extend(&options.hidden_sizes);
    dims.push(data.output_dim);
    let layers = dims
        .windows(2)
        .enumerate()
        .map(|(i, w)| linear(w[0], w[1], vb.pp(format!("layer{i}"))))
        .collect::<candle_core::Result<Vec<_>>>()?;
    let mut optimizer = AdamW::new(
        varmap.all_vars(),
        ParamsAdamW {
            lr: options.learning_rate,
            weight_decay: 0.0,
            ..Default::default()
        },
    )?;

    let batch = n.min(64);
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut rng = 0x9E37_79B9_7F4A_7C15_u64;
    for _ in 0..options.epochs {
        if cancel.load(Ordering::Acquire) {
            return Err(NeuralError::Cancelled);
        }
        shuffle(&mut order, &mut rng);
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
    // Infinite only for labels above 1e154, whose squared errors f64 cannot hold.
    let loss = sum / count;
    Ok((
        trained,
        TrainReport {
            loss,
            epochs: options.epochs,
        },
    ))
}
