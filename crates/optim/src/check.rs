//! torch.optim's constructor checks, with its messages byte for byte (ported scripts and the
//! tests compare them), and Python's `repr(float)` those messages print.

use crate::error::OptimError;

/// Python's `repr(float)`: `0.1`, `2.0`, `1e-08`, `1e+16`, `inf` — shortest round-trip digits,
/// positional for exponents −4..16, scientific with a two-digit exponent otherwise.
pub(crate) fn py_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    let sci = format!("{:e}", x.abs());
    let Some((mantissa, exp)) = sci.split_once('e') else { return sci };
    let Ok(exp) = exp.parse::<i32>() else { return sci };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let n = digits.len() as i32;
    if (-4..16).contains(&exp) {
        let point = exp + 1;
        if point <= 0 {
            format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
        } else if point >= n {
            format!("{sign}{digits}{}.0", "0".repeat((point - n) as usize))
        } else {
            let (a, b) = digits.split_at(point as usize);
            format!("{sign}{a}.{b}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{frac}e{esign}{:02}", exp.abs())
    }
}

// `!(0 <= x)` rather than `x < 0` throughout: NaN must fail, as torch's `not 0.0 <= x` does.

#[allow(clippy::neg_cmp_op_on_partial_ord)]
pub(crate) fn check_lr(lr: f64) -> Result<(), OptimError> {
    if !(0.0 <= lr) {
        return Err(OptimError::invalid(format!("Invalid learning rate: {}", py_float(lr))));
    }
    Ok(())
}

#[allow(clippy::neg_cmp_op_on_partial_ord)]
pub(crate) fn check_eps(eps: f64) -> Result<(), OptimError> {
    if !(0.0 <= eps) {
        return Err(OptimError::invalid(format!("Invalid epsilon value: {}", py_float(eps))));
    }
    Ok(())
}

/// `0 ≤ β < 1` for both betas.
pub(crate) fn check_betas(betas: [f64; 2]) -> Result<(), OptimError> {
    for (i, b) in betas.iter().enumerate() {
        if !(0.0 <= *b && *b < 1.0) {
            return Err(OptimError::invalid(format!("Invalid beta parameter at index {i}: {}", py_float(*b))));
        }
    }
    Ok(())
}

pub(crate) fn check_weight_decay(weight_decay: f64) -> Result<(), OptimError> {
    check_nonneg("weight_decay", weight_decay)
}

/// `Invalid {name} value: {x}` unless `0 ≤ x`.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
pub(crate) fn check_nonneg(name: &str, x: f64) -> Result<(), OptimError> {
    if !(0.0 <= x) {
        return Err(OptimError::invalid(format!("Invalid {name} value: {}", py_float(x))));
    }
    Ok(())
}

/// `{name} should be >= 0 but is: {x}` unless `0 ≤ x`: the wording of torch's newer optimizers
/// (Adafactor, Muon) for what [`check_nonneg`] says in the older one's.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
pub(crate) fn check_should_be_nonneg(name: &str, x: f64) -> Result<(), OptimError> {
    if !(0.0 <= x) {
        return Err(OptimError::invalid(format!("{name} should be >= 0 but is: {}", py_float(x))));
    }
    Ok(())
}

/// Rejects NaN and ±inf (PyTorch does not check; they make every later lr NaN or inf).
pub(crate) fn check_finite(class: &str, name: &str, value: f64) -> Result<(), OptimError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(OptimError::invalid(format!(
            "{class} {name} must be a finite number, but got {}",
            py_float(value)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::py_float;

    #[test]
    fn python_float_repr() {
        for (x, s) in [
            (0.1, "0.1"),
            (2.0, "2.0"),
            (1.5, "1.5"),
            (-0.0, "-0.0"),
            (-1.0, "-1.0"),
            (1e-8, "1e-08"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.0 / 3.0, "0.3333333333333333"),
            (123456.789, "123456.789"),
            (-2.5e-7, "-2.5e-07"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ] {
            assert_eq!(py_float(x), s);
        }
    }
}
