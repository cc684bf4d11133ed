//! The strong-Wolfe line search of `torch.optim.LBFGS` (`_strong_wolfe`, `_cubic_interpolate`),
//! in torch's order, on flat f64 vectors.
//!
//! Along direction d from x, with f₀ = f(x) and gtd₀ = ∇f(x)·d, a step t is accepted when
//!
//! ```text
//! f(x + t·d) ≤ f₀ + c₁·t·gtd₀          (sufficient decrease, c₁ = 1e-4)
//! |∇f(x + t·d)·d| ≤ −c₂·gtd₀           (curvature, c₂ = 0.9)
//! ```
//!
//! First a bracketing phase (extrapolating with a cubic step into [t + 0.01(t − t_prev), 10t]),
//! then a zoom phase (cubic interpolation inside the bracket, kept 10% away from its ends), at
//! most `max_ls` evaluations after the first trial point, which is always evaluated.
//!
//! The cubic's minimiser through (x₁, f₁, g₁), (x₂, f₂, g₂):
//!
//! ```text
//! d₁ = g₁ + g₂ − 3(f₁ − f₂)/(x₁ − x₂);   d₂ = √(d₁² − g₁g₂)
//! x* = x₂ − (x₂ − x₁)·(g₂ + d₂ − d₁)/(g₂ − g₁ + 2d₂)    (x₁ ≤ x₂; mirrored otherwise)
//! ```
//!
//! clamped to the bounds; the bounds' midpoint when d₁² − g₁g₂ < 0.

/// One evaluation along the line: the loss and the flat gradient at x + t·d.
pub(crate) type Probe = (f64, Vec<f64>);

/// torch's `_cubic_interpolate`.
pub fn cubic_interpolate(
    x1: f64,
    f1: f64,
    g1: f64,
    x2: f64,
    f2: f64,
    g2: f64,
    bounds: Option<(f64, f64)>,
) -> f64 {
    let (xmin_bound, xmax_bound) = bounds.unwrap_or(if x1 <= x2 { (x1, x2) } else { (x2, x1) });
    let d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2);
    let d2_square = d1 * d1 - g1 * g2;
    if d2_square >= 0.0 {
        let d2 = d2_square.sqrt();
        let min_pos = if x1 <= x2 {
            x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2))
        } else {
            x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2))
        };
        py_min(py_max(min_pos, xmin_bound), xmax_bound)
    } else {
        (xmin_bound + xmax_bound) / 2.0
    }
}

/// Python's `max(a, b)`: `a` unless `b > a`.
fn py_max(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// Python's `min(a, b)`: `a` unless `b < a`.
fn py_min(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).fold(0.0, |s, (x, y)| s + x * y)
}

pub(crate) fn abs_max(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, x| py_max(m, x.abs()))
}

/// A bracket end: step, loss, gradient, directional derivative.
#[derive(Clone)]
struct End {
    t: f64,
    f: f64,
    g: Vec<f64>,
    gtd: f64,
}

/// The search's result: loss and gradient at the accepted step, the step, and the number of
/// evaluations made.
pub(crate) struct Found {
    pub f: f64,
    pub g: Vec<f64>,
    pub t: f64,
    pub evals: u64,
}

const C1: f64 = 1e-4;
const C2: f64 = 0.9;

#[allow(clippy::too_many_arguments)]
/// torch's `_strong_wolfe(obj_func, x, t, d, f, g, gtd, tolerance_change=1e-9, max_ls)`;
/// `obj(t)` evaluates at x + t·d (and leaves the parameters at x).
pub(crate) fn strong_wolfe(
    mut obj: impl FnMut(f64) -> Probe,
    mut t: f64,
    d: &[f64],
    f: f64,
    g: Vec<f64>,
    gtd: f64,
    tolerance_change: f64,
    max_ls: i64,
) -> Found {
    let d_norm = abs_max(d);
    let (mut f_new, mut g_new) = obj(t);
    let mut evals = 1;
    let mut gtd_new = dot(&g_new, d);
    let mut prev = End {
        t: 0.0,
        f,
        g: g.clone(),
        gtd,
    };
    let mut ls_iter = 0;
    // Bracketing: `ends` is torch's (bracket, bracket_f, bracket_g, bracket_gtd); `done` when
    // the first phase already satisfied both conditions.
    let mut bracket: Option<(Vec<End>, bool)> = None;
    while ls_iter < max_ls {
        let new = End {
            t,
            f: f_new,
            g: g_new.clone(),
            gtd: gtd_new,
        };
        if f_new > f + C1 * t * gtd || (ls_iter > 1 && f_new >= prev.f) {
            bracket = Some((vec![prev, new], false));
            break;
        }
        if gtd_new.abs() <= -C2 * gtd {
            bracket = Some((vec![new], true));
            break;
        }
        if gtd_new >= 0.0 {
            bracket = Some((vec![prev, new], false));
            break;
        }
        let min_step = t + 0.01 * (t - prev.t);
        let max_step = t * 10.0;
        let tmp = t;
        t = cubic_interpolate(
            prev.t,
            prev.f,
            prev.gtd,
            t,
            f_new,
            gtd_new,
            Some((min_step, max_step)),
        );
        prev = End {
            t: tmp,
            f: f_new,
            g: g_new,
            gtd: gtd_new,
        };
        (f_new, g_new) = obj(t);
        evals += 1;
        gtd_new = dot(&g_new, d);
        ls_iter += 1;
    }
    let (mut ends, done) = match bracket {
        Some(b) => b,
        // max_ls reached (or 0): torch brackets [0, t] and, with no evaluations left, returns
        // the better end. Its gtd is unused then.
        None => (
            vec![
                End {
                    t: 0.0,
                    f,
                    g,
                    gtd: f64::NAN,
                },
                End {
                    t,
                    f: f_new,
                    g: g_new,
                    gtd: gtd_new,
                },
            ],
            false,
        ),
    };
    let search = Search {
        d,
        d_norm,
        f,
        gtd,
        tolerance_change,
        max_ls,
    };
    let low = search.zoom(&mut obj, &mut ends, done, ls_iter, &mut evals);
    let end = ends.swap_remove(low);
    Found {
        f: end.f,
        g: end.g,
        t: end.t,
        evals,
    }
}

/// What the zoom phase reads: the direction and the line's start.
struct Search<'a> {
    d: &'a [f64],
    d_norm: f64,
    f: f64,
    gtd: f64,
    tolerance_change: f64,
    max_ls: i64,
}

impl Search<'_> {
    /// torch's zoom phase; returns the index of the low end (the accepted step).
    fn zoom(
        &self,
        obj: &mut impl FnMut(f64) -> Probe,
        b: &mut [End],
        mut done: bool,
        mut ls_iter: i64,
        evals: &mut u64,
    ) -> usize {
        let Search {
            d,
            d_norm,
            f,
            gtd,
            tolerance_change,
            max_ls,
        } = *self;
        let order = |b: &[End]| {
            if b[0].f <= b[b.len() - 1].f {
                (0, 1)
            } else {
                (1, 0)
            }
        };
        let (mut low, mut high) = order(b);
        let mut insuf_progress = false;
        while !done && ls_iter < max_ls {
            if (b[1].t - b[0].t).abs() * d_norm < tolerance_change {
                break;
            }
            let mut t = cubic_interpolate(b[0].t, b[0].f, b[0].gtd, b[1].t, b[1].f, b[1].gtd, None);
            let (bmax, bmin) = (py_max(b[0].t, b[1].t), py_min(b[0].t, b[1].t));
            let eps = 0.1 * (bmax - bmin);
            if py_min(bmax - t, t - bmin) < eps {
                if insuf_progress || t >= bmax || t <= bmin {
                    t = if (t - bmax).abs() < (t - bmin).abs() {
                        bmax - eps
                    } else {
                        bmin + eps
                    };
                    insuf_progress = false;
                } else {
                    insuf_progress = true;
                }
            } else {
                insuf_progress = false;
            }
            let (f_new, g_new) = obj(t);
            *evals += 1;
            let gtd_new = dot(&g_new, d);
            ls_iter += 1;
            let new = End {
                t,
                f: f_new,
                g: g_new,
                gtd: gtd_new,
            };
            if f_new > f + C1 * t * gtd || f_new >= b[low].f {
                b[high] = new;
                (low, high) = order(b);
            } else {
                if gtd_new.abs() <= -C2 * gtd {
                    done = true;
                } else if gtd_new * (b[high].t - b[low].t) >= 0.0 {
                    b[high] = b[low].clone();
                }
                b[low] = new;
            }
        }
        low
    }
}
