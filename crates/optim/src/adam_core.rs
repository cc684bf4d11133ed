//! The update Adam and AdamW share (they differ only in how weight decay is applied), composed
//! from the [parts](crate::parts) in torch's order, with its one-pass CPU twin.

use burn::optim::LearningRate;
use burn::tensor::Tensor;

use crate::hyper::HyperParam;
use crate::parts::{addcdiv, amsgrad_max, bias_correction, first_moment, maximize, second_moment};
use crate::regularization::WeightDecay;

crate::optim_state! {
    /// Per-parameter state of Adam and AdamW: torch's `step`, `exp_avg`, `exp_avg_sq` and, with
    /// amsgrad, `max_exp_avg_sq`.
    pub struct AdamState<const D: usize> {
        pub step: u64,
        pub exp_avg: Tensor<D>,
        pub exp_avg_sq: Tensor<D>,
        pub max_exp_avg_sq: Option<Tensor<D>>,
    }
}

/// Adam's hyper-parameters; [`WeightDecay`] picks Adam (coupled) or AdamW (decoupled).
#[derive(Clone, Debug)]
pub(crate) struct AdamCore {
    pub(crate) beta1: HyperParam,
    pub(crate) beta2: f64,
    pub(crate) eps: f64,
    pub(crate) decay: WeightDecay,
    pub(crate) amsgrad: bool,
    pub(crate) maximize: bool,
}

impl AdamCore {
    pub(crate) fn step<const D: usize>(
        &self,
        lr: LearningRate,
        param: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdamState<D>>,
    ) -> (Tensor<D>, Option<AdamState<D>>) {
        let state = state.map(|s| s.land(&param));
        #[cfg(feature = "fused")]
        let (param, grad, state) = match self.step_fused(lr, param, grad, state) {
            Ok(done) => return done,
            Err(back) => back,
        };
        self.step_ops(lr, param, grad, state)
    }

    /// The update as tensor operations (any device; the reference for the fused path).
    pub(crate) fn step_ops<const D: usize>(
        &self,
        lr: LearningRate,
        param: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdamState<D>>,
    ) -> (Tensor<D>, Option<AdamState<D>>) {
        let grad = maximize(grad, self.maximize);
        let AdamState { step, exp_avg, exp_avg_sq, max_exp_avg_sq } = state.unwrap_or_else(|| AdamState {
            step: 0,
            exp_avg: param.zeros_like(),
            exp_avg_sq: param.zeros_like(),
            max_exp_avg_sq: None,
        });
        let step = step + 1;
        let (param, grad) = self.decay.apply(param, grad, lr);
        let beta1 = self.beta1.get();
        let exp_avg = first_moment(exp_avg, grad.clone(), beta1);
        let exp_avg_sq = second_moment(exp_avg_sq, grad, self.beta2);

        let step_size = lr / bias_correction(beta1, step);
        let bias_correction2_sqrt = bias_correction(self.beta2, step).powf(0.5);
        let max_exp_avg_sq = self.amsgrad.then(|| amsgrad_max(max_exp_avg_sq, exp_avg_sq.clone()));
        let v = max_exp_avg_sq.clone().unwrap_or_else(|| exp_avg_sq.clone());
        let denom = v.sqrt().div_scalar(bias_correction2_sqrt).add_scalar(self.eps);
        let param = addcdiv(param, exp_avg.clone(), denom, -step_size);
        (param, Some(AdamState { step, exp_avg, exp_avg_sq, max_exp_avg_sq }))
    }

    /// One in-place pass on the CPU (flex) backend, same bits as [`step_ops`](Self::step_ops);
    /// gives its inputs back where it does not apply (amsgrad, other devices).
    #[cfg(feature = "fused")]
    #[allow(clippy::type_complexity)]
    fn step_fused<const D: usize>(
        &self,
        lr: LearningRate,
        param: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdamState<D>>,
    ) -> Result<(Tensor<D>, Option<AdamState<D>>), (Tensor<D>, Tensor<D>, Option<AdamState<D>>)> {
        use crate::fused::{adam_flex, flex_eligible, AdamCoeffs};
        let fusable = !self.amsgrad
            && flex_eligible(&param, &grad, state.as_ref().map(|s| &s.exp_avg))
            && flex_eligible(&param, &grad, state.as_ref().map(|s| &s.exp_avg_sq));
        if !fusable {
            return Err((param, grad, state));
        }
        let (step, m, v) = match state {
            Some(s) => (s.step, Some(s.exp_avg), Some(s.exp_avg_sq)),
            None => (0, None, None),
        };
        let step = step + 1;
        let beta1 = self.beta1.get();
        let (decoupled, weight_decay) = match self.decay {
            WeightDecay::Coupled(wd) => (false, wd),
            WeightDecay::Decoupled(wd) => (true, wd),
        };
        let c = AdamCoeffs {
            maximize: self.maximize,
            decoupled,
            lr,
            weight_decay,
            lerp_weight: 1.0 - beta1,
            beta2: self.beta2,
            bias_correction2_sqrt: bias_correction(self.beta2, step).powf(0.5),
            eps: self.eps,
            step_size: lr / bias_correction(beta1, step),
        };
        match adam_flex(&c, param, grad, m, v) {
            Ok((param, exp_avg, exp_avg_sq)) => {
                Ok((param, Some(AdamState { step, exp_avg, exp_avg_sq, max_exp_avg_sq: None })))
            }
            Err((p, g, m, v)) => {
                // m and v were made (zeros) for a first step: start it over from no state.
                let state = m.zip(v).filter(|_| step > 1).map(|(exp_avg, exp_avg_sq)| AdamState {
                    step: step - 1,
                    exp_avg,
                    exp_avg_sq,
                    max_exp_avg_sq: None,
                });
                Err((p, g, state))
            }
        }
    }
}
