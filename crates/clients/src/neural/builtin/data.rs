//! Training data: validation, standardisation and the training options.

use neural_trader_resilience::{validate_count, ConfigError};

use crate::neural::error::NeuralError;

/// Options of [`super::BuiltinModel::train_blocking`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Passes over the training data (default 200).
    pub epochs: u32,
    /// AdamW learning rate (default 0.01).
    pub learning_rate: f64,
    /// Sizes of the hidden layers (default `[32, 32]`; empty: a linear model).
    pub hidden_sizes: Vec<usize>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            epochs: 200,
            learning_rate: 0.01,
            hidden_sizes: vec![32, 32],
        }
    }
}

/// Largest accepted number of epochs.
pub const MAX_EPOCHS: u32 = 1_000_000;
/// Largest accepted number of hidden layers.
pub const MAX_LAYERS: usize = 16;
/// Largest accepted hidden layer width.
pub const MAX_HIDDEN: usize = 4096;
/// Largest accepted number of weights and biases (16 million: with the optimizer's state, about
/// 256 MB of f32), so that a training cannot exhaust memory and abort the process.
pub const MAX_PARAMETERS: usize = 16_000_000;
/// Largest accepted number of numbers in the training data (rows times features), and likewise
/// in the labels and in one row of features to predict from: 10 million (80 MB of f64). The
/// binding checks it before reading a JS array, whose `length` alone can be 2^32 - 1 (a sparse
/// array) and would otherwise be read element by element for minutes.
pub const MAX_CELLS: usize = 10_000_000;

impl TrainOptions {
    /// Checks every field against its range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_count("epochs", self.epochs, MAX_EPOCHS)?;
        if !(self.learning_rate.is_finite()
            && self.learning_rate > 0.0
            && self.learning_rate <= 10.0)
        {
            return Err(ConfigError::out_of_range(
                "learning_rate",
                "a finite number > 0 and <= 10",
                self.learning_rate.to_string(),
            ));
        }
        if self.hidden_sizes.len() > MAX_LAYERS {
            return Err(ConfigError::out_of_range(
                "hidden_sizes",
                format!("at most {MAX_LAYERS} layer widths"),
                format!("{} widths", self.hidden_sizes.len()),
            ));
        }
        for &n in &self.hidden_sizes {
            let width = u32::try_from(n).unwrap_or(u32::MAX);
            validate_count("hidden_sizes", width, MAX_HIDDEN as u32)?;
        }
        Ok(())
    }
}

/// What training achieved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainReport {
    /// Mean squared error on the training data after the last epoch, in the labels' units.
    pub loss: f64,
    /// Epochs run.
    pub epochs: u32,
}

/// Validated training data and its standardisation.
#[derive(Debug)]
pub(crate) struct Dataset<'a> {
    pub(crate) rows: &'a [Vec<f64>],
    pub(crate) labels: &'a [Vec<f64>],
    pub(crate) input_dim: usize,
    pub(crate) output_dim: usize,
    pub(crate) inputs: Standardizer,
    pub(crate) outputs: Standardizer,
}

impl<'a> Dataset<'a> {
    pub(crate) fn new(rows: &'a [Vec<f64>], labels: &'a [Vec<f64>]) -> Result<Self, NeuralError> {
        let bad = |m: String| Err(NeuralError::InvalidTrainingData(m));
        if rows.is_empty() {
            return bad("data must hold at least one row".into());
        }
        if rows.len() != labels.len() {
            return bad(format!(
                "data has {} rows but labels has {}",
                rows.len(),
                labels.len()
            ));
        }
        let input_dim = rows[0].len();
        let output_dim = labels[0].len();
        if input_dim == 0 || output_dim == 0 {
            return bad("rows and labels must not be empty".into());
        }
        for (what, dim) in [("data", input_dim), ("labels", output_dim)] {
            if rows.len().saturating_mul(dim) > MAX_CELLS {
                return Err(NeuralError::InvalidOption(format!(
                    "{what} would hold {} numbers, more than {MAX_CELLS}",
                    rows.len().saturating_mul(dim)
                )));
            }
        }
        for (i, (row, label)) in rows.iter().zip(labels).enumerate() {
            if row.len() != input_dim {
                return bad(format!(
                    "row {i} has {} features, row 0 has {input_dim}",
                    row.len()
                ));
            }
            if label.len() != output_dim {
                return bad(format!(
                    "label {i} has {} values, label 0 has {output_dim}",
                    label.len()
                ));
            }
            if row.iter().chain(label).any(|v| !v.is_finite()) {
                return bad(format!("row {i} holds a value that is not a finite number"));
            }
        }
        let inputs = Standardizer::fit(rows);
        let outputs = Standardizer::fit(labels);
        if !(inputs.is_finite() && outputs.is_finite()) {
            return bad("data or labels span more than the largest finite number".into());
        }
        Ok(Self {
            rows,
            labels,
            input_dim,
            output_dim,
            inputs,
            outputs,
        })
    }

    /// Refuses a network too big to train in memory (over [`MAX_PARAMETERS`]).
    pub(crate) fn check_size(&self, options: &TrainOptions) -> Result<(), NeuralError> {
        let mut widths = vec![self.input_dim];
        widths.extend(&options.hidden_sizes);
        widths.push(self.output_dim);
        let parameters = widths
            .windows(2)
            .map(|w| w[0].saturating_mul(w[1]).saturating_add(w[1]))
            .fold(0_usize, usize::saturating_add);
        if parameters > MAX_PARAMETERS {
            return Err(NeuralError::InvalidOption(format!(
                "the network would have {parameters} parameters, more than {MAX_PARAMETERS}: \
                 use smaller hiddenSizes"
            )));
        }
        Ok(())
    }
}

/// Per-column z-score standardisation: `(v - mean) / std` (std 1 for a constant column).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Standardizer {
    pub(crate) mean: Vec<f64>,
    pub(crate) std: Vec<f64>,
}

impl Standardizer {
    /// Fits the columns of `rows` (non-empty, all of one length). The spread is computed on
    /// values scaled by the column's largest deviation, so that it does not overflow for
    /// values above 1e154; it is still infinite when values span more than `f64::MAX`.
    pub(crate) fn fit(rows: &[Vec<f64>]) -> Self {
        let dim = rows[0].len();
        let n = rows.len() as f64;
        let mut mean = vec![0.0; dim];
        for row in rows {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v / n;
            }
        }
        let mut scale = vec![0.0_f64; dim];
        for row in rows {
            for ((s, v), m) in scale.iter_mut().zip(row).zip(&mean) {
                *s = s.max((v - m).abs());
            }
        }
        let mut var = vec![0.0; dim];
        for row in rows {
            for (((acc, v), m), s) in var.iter_mut().zip(row).zip(&mean).zip(&scale) {
                if *s > 0.0 && s.is_finite() {
                    let d = (v - m) / s;
                    *acc += d * d / n;
                }
            }
        }
        let std = var
            .into_iter()
            .zip(&scale)
            .map(|(v, s)| {
                if !s.is_finite() {
                    f64::INFINITY
                } else if s * v.sqrt() > 1e-12 {
                    s * v.sqrt()
                } else {
                    1.0
                }
            })
            .collect();
        Self { mean, std }
    }

    /// Whether every mean and spread is finite (false for columns spanning more than
    /// `f64::MAX`).
    pub(crate) fn is_finite(&self) -> bool {
        self.mean.iter().chain(&self.std).all(|v| v.is_finite())
    }

    pub(crate) fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Standardised rows, flattened row-major as f32.
    pub(crate) fn apply_rows(&self, rows: &[Vec<f64>]) -> Vec<f32> {
        rows.iter()
            .flat_map(|row| {
                row.iter()
                    .zip(&self.mean)
                    .zip(&self.std)
                    .map(|((v, m), s)| ((v - m) / s) as f32)
            })
            .collect()
    }

    /// A standardised row back in its own units.
    pub(crate) fn revert(&self, row: &[f32]) -> Vec<f64> {
        row.iter()
            .zip(&self.mean)
            .zip(&self.std)
            .map(|((v, m), s)| *v as f64 * s + m)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ragged_or_non_finite_data_is_refused() {
        let rows = vec![vec![1.0, 2.0], vec![3.0]];
        let labels = vec![vec![1.0], vec![2.0]];
        assert!(Dataset::new(&rows, &labels).is_err());
        let rows = vec![vec![1.0, f64::NAN]];
        assert!(Dataset::new(&rows, &[vec![1.0]]).is_err());
        assert!(Dataset::new(&[vec![1.0]], &[]).is_err());
    }

    #[test]
    fn huge_values_standardise_without_overflow() {
        let rows = vec![vec![1e300], vec![-1e300], vec![0.0]];
        let s = Standardizer::fit(&rows);
        assert!(s.is_finite());
        assert!((s.std[0] / 8.16496580927726e299 - 1.0).abs() < 1e-12);
        // The mean is MAX / 3: -MAX lies further from it than f64 reaches.
        let rows = vec![vec![f64::MAX], vec![-f64::MAX], vec![f64::MAX]];
        assert!(!Standardizer::fit(&rows).is_finite());
        assert!(Dataset::new(&rows, &[vec![1.0], vec![2.0], vec![3.0]]).is_err());
    }

    #[test]
    fn networks_over_the_parameter_limit_are_refused() {
        let rows = vec![vec![0.0; 1000]];
        let labels = vec![vec![0.0]];
        let data = Dataset::new(&rows, &labels).unwrap();
        let mut options = TrainOptions::default();
        assert!(data.check_size(&options).is_ok());
        options.hidden_sizes = vec![4096; 3];
        assert_eq!(
            data.check_size(&options).unwrap_err().code(),
            "ERR_OUT_OF_RANGE"
        );
    }

    #[test]
    fn standardisation_round_trips() {
        let rows = vec![vec![1.0, 10.0], vec![3.0, 10.0]];
        let s = Standardizer::fit(&rows);
        assert_eq!(s.mean, vec![2.0, 10.0]);
        assert_eq!(s.std, vec![1.0, 1.0]);
        let x = s.apply_rows(&rows);
        assert_eq!(x, vec![-1.0, 0.0, 1.0, 0.0]);
        assert_eq!(s.revert(&x[2..]), vec![3.0, 10.0]);
    }
}
