#!/usr/bin/env python3
"""Generate more PyTorch reference fixtures for `descent`: ASGD, Rprop, Adafactor,
L-BFGS, Muon, MultiplicativeLR / SWALR, AveragedModel (EMA / SWA) and the
schedule-free optimizers of the `schedulefree` package.

Companion of tools/gen_fixtures.py (which, with its outputs, is left untouched).
Same conventions: float64 everywhere (``torch.set_default_dtype(torch.float64)``,
so the scalar state torch keeps "in the default dtype" -- ASGD's eta/mu, the
``step`` counters -- is float64 too), ``foreach=False`` wherever the constructor
takes it, hand-set gradients, full repr precision (JSON floats round-trip
exactly), ``allow_nan=False``.

Generated with torch 2.15.0 (CPU; the PyPI wheel reports "2.15.0+cu132";
torch.optim.Muon first shipped in 2.9, Adafactor in 2.5), schedulefree 1.4.1
and numpy 2.4.6 on Python 3.11.  Every file records ``torch_version`` (and
the optimizer files ``schedulefree_version``).  torch 2.15.0 reproduces every
trajectory of fixtures/optim_trajectories.json (made with 2.5.1) bit for bit.

Re-run (deterministic; overwrites only fixtures/optim_more/):

    python3 tools/gen_fixtures_more.py       # from the repository root

The script also checks itself: every save/load state it writes is loaded into a
fresh optimizer (``load_state_dict``) which then re-runs the second half; the
script asserts that this reproduces the recorded trajectory bit for bit.

Rounding probes.  asgd/rprop/adafactor/muon cases carry "probe_max_abs_diff":
the largest parameter difference between the trajectory and 2 reruns whose
gradients are multiplied elementwise by 1 + k*2^-52 (k random in {-1, 0, 1})
before every step -- how far ulp-level differences of a port can move the
result (<= 1e-15 here, except the maximize cases, whose |theta| grows to
29-161: <= 3e-14).  L-BFGS cases carry "stability" (see lbfgs.json below).

Files (all under fixtures/optim_more/, each < 400 KB):
    asgd.json, rprop.json, adafactor.json, muon.json, lbfgs.json,
    lbfgs_defaults.json, averaged.json, schedules.json, schedulefree.json

=============================================================================
Common recipe ("the gradient recipe", identical to tools/gen_fixtures.py)
=============================================================================

STEPS = 60 steps per case; MID = 30.  Unless a case says otherwise there are two
parameters, shapes [3, 2] and [4] (Muon: [3, 2] and [2, 4]; one Adafactor case:
[2, 3, 2] and [4]).  Tensors are flattened row-major (C order) everywhere.

Per case, ``seed = zlib.crc32(case name as UTF-8)`` and
``rng = numpy.random.default_rng(seed)`` draws, in this order,
for each parameter:  init = round(N(0,1), 4) x n, h = round(U(0.5, 2), 3) x n,
c = round(N(0,1), 4) x n;  then for each step t, for each parameter:
noise[t] = round(0.1 N(0,1), 5) x n.  These inputs are written in the case
("params": [{"shape", "init", "h", "c"}], "noise": [t][param][i]), so a test
needs no RNG.  The gradient at step t, from the parameters theta before step t:

    g = h * (theta - c) + noise[t]        (elementwise, float64, in this order)

Common case keys: "name", "optimizer", "options" (every math-relevant
constructor argument, torch's names, with torch's defaults filled in; tuples
as lists, None as null), "lr", "seed", "params", "noise", "trajectory"
([t][param] = flat values of each parameter AFTER step t, t = 0..59).

"state_after_step": 30 and "state": optimizer.state_dict() taken right after
step index 29 (i.e. after 30 steps), encoded as
    {"state": {"<param index>": {key: value}}, "param_groups": [{key: value}]}
where a tensor value is {"shape": [...], "dtype": "float64"|"int64"|...,
"data": [flat values]} (a 0-dim tensor has shape [] and one datum), a Python
number stays a number, a list stays a list, None is null.  A save/load test
builds the parameters from trajectory[29], loads this state, and runs steps
t = 30..59 with noise[30..59]; the result must equal trajectory[30..59].

=============================================================================
fixtures/optim_more/asgd.json      torch.optim.ASGD(foreach=False)
=============================================================================
options: lambd, alpha, t0, weight_decay, maximize (torch defaults 1e-4, 0.75,
1e6, 0, false; torch's default lr is 1e-2).  Extra per-step arrays (after step t):
"ax" [t][param] (the averaged parameters, state "ax"), "eta" [t] and "mu" [t]
(state scalars, identical for every parameter).  torch's per-parameter update
(single-tensor path):
    step += 1;  g = -g if maximize;  g = g + wd*theta if wd != 0
    theta = theta * (1 - lambd*eta);  theta = theta + (-eta)*g   (eta: value BEFORE this step; eta_0 = lr)
    ax = ax + (theta - ax)*mu  if mu != 1  else  ax = theta (copy)   (mu: value BEFORE this step; mu_0 = 1)
    eta = lr / (1 + lambd*lr*step)**alpha ;  mu = 1 / max(1, step - t0)   (Python float math)
State keys: step, eta, mu (0-dim, default dtype = float64 here; float32 if the
default dtype were float32), ax.

=============================================================================
fixtures/optim_more/rprop.json     torch.optim.Rprop(foreach=False)
=============================================================================
options: etas [minus, plus], step_sizes [min, max], maximize (defaults
[0.5, 1.2], [1e-6, 50], false; default lr 1e-2).  State: step, prev, step_size
(step_size starts at lr everywhere).  Update: g = -g if maximize;
s = sign(g*prev) -> etaplus if > 0, etaminus if < 0, 1 if 0;
step_size = clamp(step_size*s, min, max); g[s == etaminus] = 0;
theta = theta - sign(g)*step_size; prev = g.

=============================================================================
fixtures/optim_more/adafactor.json torch.optim.Adafactor(foreach=False)
=============================================================================
options: beta2_decay, eps [eps1, eps2] (default [null, 1e-3]: null means
eps1 = torch.finfo(param dtype).eps = 2.220446049250313e-16 for float64), d,
weight_decay, maximize (defaults -0.8, [null, 0.001], 1.0, 0.0, false; default
lr 1e-2).  A parameter of dim >= 2 is factored over its last two dims (state
row_var shape [..., n, 1], col_var [..., 1, m]), a vector keeps "variance".
Per step (Python floats where torch uses .item()):
    step += 1; b = step**beta2_decay; rho = min(lr, 1/sqrt(step))
    alpha = max(eps2, norm2(theta)/sqrt(numel)) * rho       (theta BEFORE decay)
    theta = theta * (1 - lr*weight_decay)  if weight_decay != 0
    factored: row_var.lerp_(vector_norm(g, dim=-1, keepdim)**2 / g.size(-1), b)
              col_var.lerp_(vector_norm(g, dim=-2, keepdim)**2 / g.size(-2), b)
              v = (row_var @ col_var) / clamp_min(mean(row_var, dim=-2, keepdim), eps1)
    vector:   variance.lerp_(g*g, b); v = variance
    u = rsqrt(clamp_min(v, eps1*eps1)) * g;  denom = max(1, norm2(u) / (sqrt(numel) * d))
    theta = theta + (-alpha/denom) * u
torch's lerp(a, b, w) is a + w*(b-a) if |w| < 0.5 else b - (b-a)*(1-w) (so
at step 1, where b = 1, the factors become exactly the fresh means).

=============================================================================
fixtures/optim_more/lbfgs.json, lbfgs_defaults.json   torch.optim.LBFGS (closure-driven)
=============================================================================
options: max_iter, max_eval (null means torch's max_iter*5//4; the resolved
value is in "max_eval_resolved"), tolerance_grad, tolerance_change,
history_size, line_search_fn (null or "strong_wolfe"), maximize (defaults 20,
null, 1e-7, 1e-9, 100, null, false; default lr 1).  One optimizer step t calls
the closure several times, always with the batch of step t (noise[t]).  The
closure, at the current parameters theta, sets each parameter's gradient to
    grad = sign * (h * (theta - c) + noise[t])
and returns (a Python float) sign * L with
    L = 0.0;  for each parameter, for each flat element i in order:
        d = theta_i - c_i;  L = L + (((0.5*h_i)*d)*d + noise[t]_i*theta_i)
sign = -1 for cases with maximize = true (so the maximized -L has the same
optimum), +1 otherwise ("closure_sign" in the case).  Per-step arrays:
"loss" [t] = the closure's FIRST value in step t (what LBFGS.step returns, un-negated),
"evals" [t] = number of closure calls in step t,
"trajectory" [t] = parameters after step t.
State (global, stored under parameter 0): func_evals, n_iter (cumulative),
d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, prev_loss, al (a list
of history_size entries, null until used).  Some of these are Python floats,
some 0-dim tensors (see "dtype"/"shape" in the encoding).
torch details a port must copy: the memory (d, t, old_dirs, prev_flat_grad, ...)
carries over from one .step() to the next, so the first curvature pair of a
step mixes two batches (y = g(batch t) - g(batch t-1), s = d*t of the previous
step); a pair is stored only if y.s > 1e-10; an evaluation count can exceed
max_eval (the strong-Wolfe search always evaluates its first trial point; with
max_iter = 1, max_eval resolves to 1 and every step makes 2 evaluations); a step
whose first gradient has max|g| <= tolerance_grad returns after 1 evaluation
without touching the state's n_iter.
"stability": L-BFGS amplifies rounding.  Each case is rerun 3 times with every
closure gradient element and loss multiplied by 1 + k*2^-52 (k random in
{-1, 0, 1}); "stable_steps" = the number of leading steps in which every rerun
has the same evals and loss/parameters within 1e-11 (rel. for the loss),
"stable_steps_after_resume" the same for reruns started from "state" (counted
from step 30), "probe_max_abs_diff" the largest parameter difference within
the stable steps.  lbfgs.json: every case is stable for all 60 steps (30 after
resume), probe differences <= 2.1e-12 (strong-Wolfe cases <= 1.7e-12).
lbfgs_defaults.json: torch's defaults (max_iter 20, history 100), without and
with strong Wolfe, are chaotic on this problem: stable for the first ~16-18
steps only (6 after resume); beyond "stable_steps" the values depend on the
order of floating-point sums in torch's dot products and cannot be matched;
compare only the stable prefix there.

=============================================================================
fixtures/optim_more/muon.json      torch.optim.Muon
=============================================================================
Parameters [3, 2] (tall: NS works on the transpose) and [2, 4] (wide).
options: weight_decay, momentum, nesterov, ns_coefficients [a, b, c], eps,
ns_steps, adjust_lr_fn (defaults 0.1, 0.95, true, [3.4445, -4.775, 2.0315],
1e-7, 5, null; null behaves as "original"; default lr 1e-3).  No maximize.
torch's code (not its docstring formula) does, per parameter:
    buf = buf.lerp(g, 1 - momentum)                  (an EMA, not buf*mu + g)
    u = g.lerp(buf, momentum) if nesterov else buf
    O = NS(u):  X = u in bfloat16; X = X.T if rows > cols; X = X / max(norm(X), eps)
                ns_steps times: A = X @ X.T; B = b*A + c*(A @ A); X = a*X + B @ X
                X = X.T back if transposed
    lr_adj = lr * sqrt(max(1, rows/cols))  ("original")  or  lr * 0.2 * sqrt(max(rows, cols))  ("match_rms_adamw")
    theta = theta * (1 - lr*weight_decay);  theta = theta + (-lr_adj) * O
"trajectory" is torch.optim.Muon exactly as shipped: the Newton-Schulz
iteration runs in BFLOAT16 on the CPU (result cast back when added to the
float64 parameter), so it cannot be matched to 1e-12 by a float64 port; use a
loose tolerance on it (see "bf16_vs_f64_max_abs_diff" per case).
"trajectory_ns_f64" (and "state" / "state_ns_f64") is the same torch code with
the one cast removed (``_zeropower_via_newtonschulz`` patched so that X = u in
float64, everything else unchanged): the float64 reference for 1e-12 parity.
The two trajectories differ by up to ~4e-3 (lr 0.02-0.05).  The bf16 path is
insensitive to ulp-level input changes (its probe difference is 0), so a port
that reproduces torch's bfloat16 rounding (round-to-nearest-even casts, and
torch's CPU bf16 matmul/addmm/norm accumulation) could match "trajectory"
exactly; that accumulation order is torch's/oneDNN's and may vary by CPU.
Muon raises ValueError at construction for any parameter that is not 2-D.

=============================================================================
fixtures/optim_more/averaged.json  torch.optim.swa_utils.AveragedModel
=============================================================================
A module holding the two parameters (p0 [3, 2], p1 [4]) is trained by
torch.optim.SGD(lr=0.05, momentum=0.9, foreach=False) with the gradient
recipe; AveragedModel(model, <fn>, use_buffers=False) is built BEFORE step 0
(its copy holds the initial weights until the first update) and
update_parameters(model) is called after step t when t >= start and
(t - start) % every == 0.  Per case: "averaging" {"kind": "ema"|"swa",
"fn": "get_ema_multi_avg_fn"|"get_swa_multi_avg_fn"|null, "decay" (ema),
"start", "every"}, "trajectory" [t] (model parameters after step t),
"averaged" [t] (averaged parameters after step t and its update, if any),
"n_averaged" [t].  The first update copies the weights; later ones:
    ema (get_ema_multi_avg_fn(decay)):  avg = lerp(avg, p, 1 - decay)     (1 - decay in float64)
    swa (get_swa_multi_avg_fn()):       avg = lerp(avg, p, 1/(n_averaged + 1))  (weight a 0-dim float64 tensor)
    swa, fn null (AveragedModel's default on CPU: get_swa_avg_fn):
                                        avg = avg + (p - avg) / (n_averaged + 1)
with torch's lerp formula above.  "state": the AveragedModel's state_dict
(module.p0, module.p1, n_averaged int64) and the SGD state_dict, both after
step index 29 ("state" = {"averaged_model": ..., "optimizer": ...}).

=============================================================================
fixtures/optim_more/schedules.json MultiplicativeLR and SWALR
=============================================================================
Schema and convention of fixtures/schedules.json: lr[i] =
param_groups[0]["lr"] read before the i-th sched.step(); opt.step() with zero
grads precedes every sched.step(); optimizer SGD([dummy], lr=base_lr).
"multiplicative": args {"factor"}: MultiplicativeLR(opt, lr_lambda=lambda epoch: factor);
    lr[0] = base_lr, lr[i] = lr[i-1] * factor (recursive: rounding accumulates).
"swalr": args {"swa_lr", "anneal_epochs", "anneal_strategy"} (torch defaults
    anneal_epochs 10, anneal_strategy "cos"): SWALR(opt, **args).  Its
    constructor already runs one step (call i = 0); call i sets, from the
    current group lr:
        step = i (max(1, i) if anneal_epochs == 0)
        prev_a = f(clamp((step-1)/max(1, anneal_epochs), 0, 1));  a = f(clamp(step/max(1, anneal_epochs), 0, 1))
        start = swa_lr if prev_a == 1 else (lr - prev_a*swa_lr)/(1 - prev_a)
        lr = swa_lr*a + start*(1 - a)
    with f(x) = (1 - cos(pi*x))/2 ("cos") or x ("linear"); lr[i] is the value
    after call i (so lr[0] = swa_lr when anneal_epochs = 0).

=============================================================================
fixtures/optim_more/schedulefree.json  schedulefree.SGDScheduleFree / AdamWScheduleFree
=============================================================================
optimizer "sgd_schedulefree" options: momentum, weight_decay, warmup_steps, r,
weight_lr_power (defaults 0.9, 0, 0, 0.0, 2; default lr 1.0);
"adamw_schedulefree" options: betas, eps, weight_decay, warmup_steps, r,
weight_lr_power (defaults [0.9, 0.999], 1e-8, 0, 0, 0.0, 2.0; default lr
0.0025).  Built with foreach=False; opt.train() before step 0.  The gradient
recipe is evaluated at the parameters the optimizer holds in train mode (y).
"trajectory" [t] = y after step t (train mode); "eval" [t] = x after step t,
i.e. what the parameters become after opt.eval() (computed on a deep copy, so
the recorded run itself never leaves train mode, except:) "toggle_every" k > 0:
after every k-th step the live run calls opt.eval() then opt.train(); that
round trip is not exactly the identity in floating point, so the next step
starts from "y_after_toggle"["<t>"] (recorded), not from trajectory[t].
schedulefree's math (per group, k = steps done before this one):
    sched = (k+1)/warmup_steps if k < warmup_steps else 1.0;  lr_t = lr*sched
    lr_max = max(lr_t, lr_max) (lr_max starts at -1.0);  weight = (k+1)**r * lr_max**weight_lr_power
    weight_sum += weight;  ckp1 = weight/weight_sum (0 if weight_sum == 0)
  SGD:   g = g + wd*y (if wd != 0);  y = lerp(y, z, ckp1);  y = y + lr_t*(momentum*(1-ckp1) - 1) * g;  z = z - lr_t*g
  AdamW: v = v*beta2 + (1-beta2)*g*g;  denom = sqrt(v / (1 - beta2**(k+1))) + eps;  g = g/denom;
         g = g + wd*y (if wd != 0);  y = lerp(y, z, ckp1);  y = y + lr_t*(beta1*(1-ckp1) - 1) * g;  z = z - lr_t*g
  (z starts as a copy of the initial parameters)
  eval:  x = lerp(y, z, 1 - 1/beta1)  (beta1 = momentum for SGD);   train: y = lerp(x, z, 1 - beta1)
"state": state_dict in train mode after step index 29 (z, exp_avg_sq per
parameter; the group's k, weight_sum, lr_max, scheduled_lr, train_mode);
"state_params": the parameters (y) at that moment, which is
y_after_toggle["29"] rather than trajectory[29] in the toggle cases (the
eval/train round trip changed 1-3 elements by ~5e-17 in these runs).
"""

import copy
import importlib.metadata
import json
import os
import random
import sys
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.optim._muon as torch_muon
from torch.optim import lr_scheduler as L
from torch.optim import swa_utils

import schedulefree

from gen_fixtures import as_tensors, problem, set_grads

torch.set_default_dtype(torch.float64)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "optim_more"
TV = torch.__version__
SFV = importlib.metadata.version("schedulefree")

STEPS = 60
MID = 30
SHAPES = [[3, 2], [4]]


def dump(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        # allow_nan=False: fail loudly instead of writing non-standard NaN/Infinity.
        json.dump(obj, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")


PROBE_DOC = ("probe_max_abs_diff: largest parameter difference between the trajectory and 2 reruns whose gradients "
             "are multiplied elementwise by 1 + k*2^-52 (k random in {-1,0,1}) before every step: the size of "
             "rounding effects, a guide for the tolerance")


def header(**extra):
    d = {"torch_version": TV, "schedulefree_version": SFV, "steps": STEPS, "state_after_step": MID,
         "grad_formula": "g = h * (theta - c) + noise[t], elementwise, float64, from theta before step t"}
    d.update(extra)
    return d


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


# --- the gradient recipe: tools/gen_fixtures.py's, so both files see the same inputs ---

def snapshot(ps):
    return [flat(p) for p in ps]


def restart_params(values, params):
    """Fresh leaf tensors holding the given flat values (exact)."""
    return [torch.tensor(v).reshape(p["shape"]).clone().requires_grad_(True) for v, p in zip(values, params)]


# --- state encoding ---

def enc(v):
    if isinstance(v, torch.Tensor):
        return {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""),
                "data": v.detach().reshape(-1).tolist()}
    if isinstance(v, (list, tuple)):
        return [enc(x) for x in v]
    if isinstance(v, dict):
        return {str(k): enc(x) for k, x in v.items()}
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    raise TypeError(type(v))


def enc_opt_state(sd):
    return {"state": {str(k): enc(s) for k, s in sd["state"].items()},
            "param_groups": [enc(g) for g in sd["param_groups"]]}


def jsonable(options):
    return json.loads(json.dumps(options))


def kw(options):
    """Constructor kwargs: lists back to tuples where torch wants tuples."""
    k = dict(options)
    for key in ("betas", "etas", "step_sizes", "eps", "ns_coefficients"):
        if isinstance(k.get(key), list):
            k[key] = tuple(k[key])
    return k


# ---------------------------------------------------------------------------
# plain gradient optimizers: ASGD, Rprop, Adafactor, Muon
# ---------------------------------------------------------------------------

def jittered(ps, rnd):
    """Rounding probe: every gradient element times 1 + k*2**-52, k uniform in {-1, 0, 1}."""
    for p in ps:
        p.grad = p.grad * torch.tensor([1.0 + rnd.choice((-1, 0, 1)) * 2.0 ** -52
                                        for _ in range(p.numel())]).reshape(p.shape)


def probe_diff(make_opt, params, noise, traj, seeds=(1, 2)):
    """Largest parameter difference between `traj` and reruns with jittered gradients."""
    worst = 0.0
    for seed in seeds:
        rnd = random.Random(seed)
        ps, hs, cs = as_tensors(params)
        opt = make_opt(ps)
        for t in range(STEPS):
            set_grads(ps, hs, cs, noise[t])
            jittered(ps, rnd)
            opt.step()
            worst = max(worst, max(abs(a - b) for q1, q2 in zip(snapshot(ps), traj[t]) for a, b in zip(q1, q2)))
    return worst


def run_grad_opt(make_opt, params, noise, extra_record=None):
    """Run STEPS steps; return (trajectory, extras, mid_state_dict); check save/load resume."""
    ps, hs, cs = as_tensors(params)
    opt = make_opt(ps)
    traj, extras, mid_sd = [], [], None
    for t in range(STEPS):
        set_grads(ps, hs, cs, noise[t])
        opt.step()
        traj.append(snapshot(ps))
        if extra_record:
            extras.append(extra_record(opt, ps))
        if t + 1 == MID:
            mid_sd = copy.deepcopy(opt.state_dict())
    # resume check: fresh params + fresh optimizer + load_state_dict
    ps2 = restart_params(traj[MID - 1], params)
    _, hs2, cs2 = as_tensors(params)
    opt2 = make_opt(ps2)
    opt2.load_state_dict(copy.deepcopy(mid_sd))
    for t in range(MID, STEPS):
        set_grads(ps2, hs2, cs2, noise[t])
        opt2.step()
        assert snapshot(ps2) == traj[t], ("resume mismatch", t)
    return traj, extras, mid_sd


def case_base(name, optimizer, options, lr, shapes=SHAPES):
    seed, params, noise = problem(name, shapes)
    return {"name": name, "optimizer": optimizer, "options": jsonable(options), "lr": lr, "seed": seed,
            "params": params, "noise": noise}, params, noise


ASGD_DEFAULTS = dict(lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, maximize=False)
ASGD_CASES = [
    ("asgd_default", 0.01, {}),
    ("asgd_lr_t0", 0.05, dict(t0=10.0)),
    ("asgd_lambd_alpha_wd", 0.05, dict(lambd=0.01, alpha=0.5, t0=5.0, weight_decay=0.1)),
    ("asgd_maximize", 0.05, dict(maximize=True, t0=20.0)),
]


def gen_asgd():
    cases = []
    for name, lr, over in ASGD_CASES:
        options = dict(ASGD_DEFAULTS, **over)
        case, params, noise = case_base(name, "asgd", options, lr)

        def rec(opt, ps):
            st0 = opt.state[ps[0]]
            for p in ps:  # eta / mu are the same for every parameter
                assert float(opt.state[p]["eta"]) == float(st0["eta"]) and float(opt.state[p]["mu"]) == float(st0["mu"])
            return ([flat(opt.state[p]["ax"]) for p in ps], float(st0["eta"]), float(st0["mu"]))

        traj, ex, sd = run_grad_opt(lambda ps: torch.optim.ASGD(ps, lr=lr, foreach=False, **kw(options)),
                                    params, noise, rec)
        assert all(v.dtype == torch.float64 for s in sd["state"].values() for v in s.values())
        case.update(trajectory=traj, ax=[e[0] for e in ex], eta=[e[1] for e in ex], mu=[e[2] for e in ex],
                    state=enc_opt_state(sd), probe_max_abs_diff=probe_diff(
                        lambda ps: torch.optim.ASGD(ps, lr=lr, foreach=False, **kw(options)), params, noise, traj))
        cases.append(case)
    dump(OUT / "asgd.json", header(constructor_extra={"foreach": False}, probe=PROBE_DOC, cases=cases))


RPROP_DEFAULTS = dict(etas=[0.5, 1.2], step_sizes=[1e-6, 50.0], maximize=False)
RPROP_CASES = [
    ("rprop_default", 0.01, {}),
    ("rprop_etas_step_sizes", 0.05, dict(etas=[0.3, 1.5], step_sizes=[1e-3, 0.08])),
    ("rprop_maximize", 0.02, dict(maximize=True)),
]


def gen_rprop():
    cases = []
    for name, lr, over in RPROP_CASES:
        options = dict(RPROP_DEFAULTS, **over)
        case, params, noise = case_base(name, "rprop", options, lr)
        make = lambda ps: torch.optim.Rprop(ps, lr=lr, foreach=False, **kw(options))  # noqa: E731
        traj, _, sd = run_grad_opt(make, params, noise)
        case.update(trajectory=traj, state=enc_opt_state(sd), probe_max_abs_diff=probe_diff(make, params, noise, traj))
        cases.append(case)
    dump(OUT / "rprop.json", header(constructor_extra={"foreach": False}, probe=PROBE_DOC, cases=cases))


ADAFACTOR_DEFAULTS = dict(beta2_decay=-0.8, eps=[None, 1e-3], d=1.0, weight_decay=0.0, maximize=False)
ADAFACTOR_CASES = [
    ("adafactor_default", 0.01, {}, SHAPES),
    ("adafactor_lr_wd", 0.05, dict(weight_decay=0.1), SHAPES),
    ("adafactor_eps_d_decay", 0.05, dict(eps=[1e-30, 1e-2], d=2.0, beta2_decay=-0.5), SHAPES),
    ("adafactor_maximize", 0.05, dict(maximize=True), SHAPES),
    ("adafactor_3d", 0.05, dict(weight_decay=0.01), [[2, 3, 2], [4]]),
]


def gen_adafactor():
    cases = []
    for name, lr, over, shapes in ADAFACTOR_CASES:
        options = dict(ADAFACTOR_DEFAULTS, **over)
        case, params, noise = case_base(name, "adafactor", options, lr, shapes)
        make = lambda ps: torch.optim.Adafactor(ps, lr=lr, foreach=False, **kw(options))  # noqa: E731
        traj, _, sd = run_grad_opt(make, params, noise)
        case.update(trajectory=traj, state=enc_opt_state(sd), probe_max_abs_diff=probe_diff(make, params, noise, traj))
        if options["eps"][0] is None:
            case["eps1_resolved"] = float(torch.finfo(torch.float64).eps)
        cases.append(case)
    dump(OUT / "adafactor.json", header(constructor_extra={"foreach": False}, probe=PROBE_DOC, cases=cases))


# --- Muon ---

_ORIG_NS = torch_muon._zeropower_via_newtonschulz


def _ns_f64(grad, ns_coefficients, ns_steps, eps):
    """torch's _zeropower_via_newtonschulz with the bfloat16 cast removed (copy kept)."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if len(grad.shape) != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    a, b, c = ns_coefficients
    ortho_grad = grad.clone()  # torch: grad.to(dtype=torch.bfloat16, copy=True)
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    ortho_grad.div_(ortho_grad.norm().clamp(min=eps))
    for _ in range(ns_steps):
        gram_matrix = ortho_grad @ ortho_grad.T
        gram_update = torch.addmm(gram_matrix, gram_matrix, gram_matrix, beta=b, alpha=c)
        ortho_grad = torch.addmm(ortho_grad, gram_update, ortho_grad, beta=a)
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    return ortho_grad


MUON_SHAPES = [[3, 2], [2, 4]]
MUON_DEFAULTS = dict(weight_decay=0.1, momentum=0.95, nesterov=True, ns_coefficients=[3.4445, -4.775, 2.0315],
                     eps=1e-7, ns_steps=5, adjust_lr_fn=None)
MUON_CASES = [
    ("muon_default", 0.02, {}),
    ("muon_no_nesterov", 0.02, dict(nesterov=False)),
    ("muon_match_rms_adamw", 0.02, dict(adjust_lr_fn="match_rms_adamw")),
    ("muon_match_rms_adamw_no_nesterov_wd0", 0.02,
     dict(adjust_lr_fn="match_rms_adamw", nesterov=False, weight_decay=0.0)),
    ("muon_original_ns_momentum", 0.05,
     dict(adjust_lr_fn="original", ns_coefficients=[3.0, -3.2, 1.2], ns_steps=3, momentum=0.9, eps=1e-5)),
]


def gen_muon():
    # Muon refuses non-2-D parameters (ValueError at construction).
    try:
        torch.optim.Muon([torch.zeros(4, requires_grad=True)])
        raise AssertionError("Muon accepted a 1-D parameter")
    except ValueError:
        pass
    assert torch_muon._single_tensor_muon.__globals__ is vars(torch_muon)
    cases = []
    for name, lr, over in MUON_CASES:
        options = dict(MUON_DEFAULTS, **over)
        case, params, noise = case_base(name, "muon", options, lr, MUON_SHAPES)

        def make(ps):
            return torch.optim.Muon(ps, lr=lr, **kw(options))

        torch_muon._zeropower_via_newtonschulz = _ORIG_NS
        traj, _, sd = run_grad_opt(make, params, noise)
        probe16 = probe_diff(make, params, noise, traj)
        torch_muon._zeropower_via_newtonschulz = _ns_f64
        try:
            traj64, _, sd64 = run_grad_opt(make, params, noise)
            probe64 = probe_diff(make, params, noise, traj64)
        finally:
            torch_muon._zeropower_via_newtonschulz = _ORIG_NS
        diff = max(abs(a - b) for s1, s2 in zip(traj, traj64) for q1, q2 in zip(s1, s2) for a, b in zip(q1, q2))
        case.update(trajectory=traj, state=enc_opt_state(sd), trajectory_ns_f64=traj64,
                    state_ns_f64=enc_opt_state(sd64), bf16_vs_f64_max_abs_diff=diff,
                    probe_max_abs_diff=probe16, probe_max_abs_diff_ns_f64=probe64)
        cases.append(case)
    dump(OUT / "muon.json", header(
        probe=PROBE_DOC + " (probe_max_abs_diff_ns_f64: the same for trajectory_ns_f64)",
        note="trajectory: torch.optim.Muon as shipped (Newton-Schulz in bfloat16); trajectory_ns_f64: the same "
             "with the Newton-Schulz iteration in float64 (the float64 parity reference)",
        cases=cases))


# ---------------------------------------------------------------------------
# L-BFGS
# ---------------------------------------------------------------------------

LBFGS_DEFAULTS = dict(max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9, history_size=100,
                      line_search_fn=None, maximize=False)
# Cases with max_iter <= 3 stay insensitive to rounding for all 60 steps (see "stability"); with torch's
# defaults the run is chaotic after a few steps (documented per case, kept for the first steps).
LBFGS_CASES = [
    ("lbfgs_default", 1.0, {}),
    ("lbfgs_strong_wolfe_default", 1.0, dict(line_search_fn="strong_wolfe")),
    ("lbfgs_it3_hist2", 0.5, dict(max_iter=3, history_size=2)),
    ("lbfgs_it2_lr1", 1.0, dict(max_iter=2, history_size=2)),
    ("lbfgs_tolerances", 1.0, dict(max_iter=3, history_size=2, tolerance_grad=0.12, tolerance_change=2e-3)),
    ("lbfgs_maximize", 0.5, dict(max_iter=2, history_size=2, maximize=True)),
    ("lbfgs_strong_wolfe_it3", 1.0, dict(line_search_fn="strong_wolfe", max_iter=3, history_size=2)),
    ("lbfgs_strong_wolfe_it2_eval10", 1.0, dict(line_search_fn="strong_wolfe", max_iter=2, max_eval=10, history_size=3)),
    ("lbfgs_strong_wolfe_it1_eval5", 1.0, dict(line_search_fn="strong_wolfe", max_iter=1, max_eval=5)),
    ("lbfgs_strong_wolfe_it1", 1.0, dict(line_search_fn="strong_wolfe", max_iter=1)),
    ("lbfgs_strong_wolfe_tolerances", 1.0, dict(line_search_fn="strong_wolfe", max_iter=3, history_size=2,
                                                tolerance_grad=0.1, tolerance_change=1e-2)),
    ("lbfgs_strong_wolfe_maximize", 1.0, dict(line_search_fn="strong_wolfe", max_iter=3, history_size=2,
                                              maximize=True)),
]
LBFGS_CHAOTIC = ("lbfgs_default", "lbfgs_strong_wolfe_default")  # written to lbfgs_defaults.json
STABLE_TOL = 1e-11
N_PROBES = 3


def run_lbfgs(options, lr, params, noise, sign, jitter=None, start=None):
    """Run steps t0..59 (t0 = 0, or MID when start = (param values, state_dict) is given).

    Returns ([(first loss, evals, params after step)], state_dict after step MID-1 or None, resolved max_eval).
    jitter: seed of a rounding probe that multiplies every gradient element and the loss returned by each
    closure call by 1 + k*2**-52, k uniform in {-1, 0, 1} (never used for the recorded fixtures).
    """
    rnd = random.Random(jitter)
    hs = [torch.tensor(p["h"]).reshape(p["shape"]) for p in params]
    cs = [torch.tensor(p["c"]).reshape(p["shape"]) for p in params]
    if start is None:
        ps, _, _ = as_tensors(params)
        t0 = 0
    else:
        ps = restart_params(start[0], params)
        t0 = MID
    opt = torch.optim.LBFGS(ps, lr=lr, **kw(options))
    if start is not None:
        opt.load_state_dict(copy.deepcopy(start[1]))
    counter = [0]
    out, sd = [], None
    for t in range(t0, STEPS):
        noise_t = [torch.tensor(n).reshape(p["shape"]) for n, p in zip(noise[t], params)]

        def closure():
            counter[0] += 1
            loss = 0.0
            for p, h, c, n in zip(ps, hs, cs, noise_t):
                th = p.detach()
                for x, hh, cc, nn_ in zip(th.reshape(-1).tolist(), h.reshape(-1).tolist(),
                                          c.reshape(-1).tolist(), n.reshape(-1).tolist()):
                    d = x - cc
                    loss = loss + (((0.5 * hh) * d) * d + nn_ * x)
                g = h * (th - c) + n
                if jitter is not None:
                    g = g * torch.tensor([1.0 + rnd.choice((-1, 0, 1)) * 2.0 ** -52
                                          for _ in range(g.numel())]).reshape(g.shape)
                p.grad = g if sign > 0 else -g
            if jitter is not None:
                loss = loss * (1.0 + rnd.choice((-1, 0, 1)) * 2.0 ** -52)
            return sign * loss

        before = counter[0]
        first = opt.step(closure)
        out.append((float(first), counter[0] - before, snapshot(ps)))
        if t + 1 == MID:
            sd = copy.deepcopy(opt.state_dict())
    if start is None:
        assert opt.state[ps[0]]["func_evals"] == counter[0] == sum(o[1] for o in out)
    return out, sd, opt.param_groups[0]["max_eval"]


def stable_prefix(ref, other):
    """(number of leading steps where `other` has the same eval counts and agrees to STABLE_TOL,
    largest parameter difference within them)."""
    worst = 0.0
    for i, (a, b) in enumerate(zip(ref, other)):
        dp = max(abs(x - y) for q1, q2 in zip(a[2], b[2]) for x, y in zip(q1, q2))
        if a[1] != b[1] or dp > STABLE_TOL or abs(a[0] - b[0]) > STABLE_TOL * max(1.0, abs(a[0])):
            return i, worst
        worst = max(worst, dp)
    return len(ref), worst


def gen_lbfgs():
    cases, summary = [], {}
    for name, lr, over in LBFGS_CASES:
        options = dict(LBFGS_DEFAULTS, **over)
        case, params, noise = case_base(name, "lbfgs", options, lr)
        sign = -1.0 if options["maximize"] else 1.0
        out, sd, max_eval = run_lbfgs(options, lr, params, noise, sign)
        # save/load check: fresh parameters and optimizer, load_state_dict, steps MID..59 bit for bit
        again, _, _ = run_lbfgs(options, lr, params, noise, sign, start=(out[MID - 1][2], sd))
        assert again == out[MID:], ("lbfgs resume mismatch", name)
        # rounding probes, from the start and from the saved state
        pr = [stable_prefix(out, run_lbfgs(options, lr, params, noise, sign, jitter=j)[0])
              for j in range(1, N_PROBES + 1)]
        stable, worst = min(x[0] for x in pr), max(x[1] for x in pr)
        pr = [stable_prefix(out[MID:], run_lbfgs(options, lr, params, noise, sign, jitter=j,
                                                 start=(out[MID - 1][2], sd))[0])
              for j in range(1, N_PROBES + 1)]
        stable_resume = min(x[0] for x in pr)
        summary[name] = (stable, stable_resume, sum(o[1] for o in out), worst)
        case.update(closure_sign=sign, max_eval_resolved=max_eval, loss=[o[0] for o in out],
                    evals=[o[1] for o in out], trajectory=[o[2] for o in out], state=enc_opt_state(sd),
                    stability={"stable_steps": stable, "stable_steps_after_resume": stable_resume,
                               "probe_max_abs_diff": worst})
        cases.append(case)
    for fname, sel in (("lbfgs.json", lambda c: c["name"] not in LBFGS_CHAOTIC),
                       ("lbfgs_defaults.json", lambda c: c["name"] in LBFGS_CHAOTIC)):
        dump(OUT / fname, header(
            closure="grad = sign*(h*(theta-c)+noise[t]); returns sign*L, L = sum over params, flat elements in order, "
                    "of ((0.5*h)*d)*d + noise[t]*theta, d = theta-c, accumulated left to right from 0.0 in float64",
            stability_probe=f"{N_PROBES} reruns in which every closure call multiplies each gradient element and the "
                            "loss by 1 + k*2^-52 (k random in {-1,0,1}); stable_steps = leading steps t where every "
                            f"rerun has the same evals[t] and loss/params within {STABLE_TOL}; "
                            "stable_steps_after_resume = the same for reruns started from 'state' (counted from step "
                            f"{MID}); probe_max_abs_diff = the largest parameter difference seen within the stable steps. "
                            "Steps beyond these depend on rounding: compare only within them.",
            cases=[c for c in cases if sel(c)]))
    return summary


# ---------------------------------------------------------------------------
# AveragedModel: EMA / SWA
# ---------------------------------------------------------------------------

class Two(nn.Module):
    def __init__(self, values, params):
        super().__init__()
        self.p0 = nn.Parameter(torch.tensor(values[0]).reshape(params[0]["shape"]).clone())
        self.p1 = nn.Parameter(torch.tensor(values[1]).reshape(params[1]["shape"]).clone())


AVG_CASES = [
    ("ema_0.9", dict(kind="ema", fn="get_ema_multi_avg_fn", decay=0.9, start=0, every=1)),
    ("ema_default_decay", dict(kind="ema", fn="get_ema_multi_avg_fn", decay=0.999, start=0, every=1)),
    ("ema_0.8_start10_every3", dict(kind="ema", fn="get_ema_multi_avg_fn", decay=0.8, start=10, every=3)),
    ("swa_every_step", dict(kind="swa", fn="get_swa_multi_avg_fn", start=0, every=1)),
    ("swa_start20_every5", dict(kind="swa", fn="get_swa_multi_avg_fn", start=20, every=5)),
    ("swa_default_fn_start5", dict(kind="swa", fn=None, start=5, every=1)),
]
AVG_SGD = dict(lr=0.05, momentum=0.9)


def gen_averaged():
    cases = []
    for name, av in AVG_CASES:
        seed, params, noise = problem(name)

        def make(values):
            model = Two(values, params)
            opt = torch.optim.SGD(model.parameters(), foreach=False, **AVG_SGD)
            if av["fn"] == "get_ema_multi_avg_fn":
                avg = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(av["decay"]))
            elif av["fn"] == "get_swa_multi_avg_fn":
                avg = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
            else:
                avg = swa_utils.AveragedModel(model)
            return model, opt, avg

        hs = [torch.tensor(p["h"]).reshape(p["shape"]) for p in params]
        cs = [torch.tensor(p["c"]).reshape(p["shape"]) for p in params]

        def run(model, opt, avg, t_range):
            traj, avgs, ns = [], [], []
            for t in t_range:
                ps = [model.p0, model.p1]
                set_grads(ps, hs, cs, noise[t])
                opt.step()
                if t >= av["start"] and (t - av["start"]) % av["every"] == 0:
                    avg.update_parameters(model)
                traj.append(snapshot(ps))
                avgs.append(snapshot([avg.module.p0, avg.module.p1]))
                ns.append(int(avg.n_averaged))
            return traj, avgs, ns

        model, opt, avg = make([p["init"] for p in params])
        t1, a1, n1 = run(model, opt, avg, range(MID))
        sd_avg = copy.deepcopy(avg.state_dict())
        sd_opt = copy.deepcopy(opt.state_dict())
        t2, a2, n2 = run(model, opt, avg, range(MID, STEPS))
        # resume check: fresh model from trajectory[MID-1], fresh AveragedModel and SGD, load both state_dicts
        model2, opt2, avg2 = make(t1[-1])
        avg2.load_state_dict(copy.deepcopy(sd_avg))
        opt2.load_state_dict(copy.deepcopy(sd_opt))
        assert run(model2, opt2, avg2, range(MID, STEPS)) == (t2, a2, n2), ("averaged resume mismatch", name)
        cases.append({"name": name, "averaging": av, "base_optimizer": dict(kind="sgd", foreach=False, **AVG_SGD),
                      "seed": seed, "params": params, "noise": noise, "trajectory": t1 + t2, "averaged": a1 + a2,
                      "n_averaged": n1 + n2,
                      "state": {"averaged_model": enc(dict(sd_avg)), "optimizer": enc_opt_state(sd_opt)}})
    dump(OUT / "averaged.json", header(
        model="module with parameters p0 [3,2] and p1 [4]; AveragedModel(model, <fn>, use_buffers=False)",
        cases=cases))


# ---------------------------------------------------------------------------
# schedules: MultiplicativeLR, SWALR
# ---------------------------------------------------------------------------

def gen_schedules():
    N = 130
    C = [
        ("multiplicative_0.95", "multiplicative", dict(factor=0.95)),
        ("multiplicative_0.5", "multiplicative", dict(factor=0.5)),
        ("multiplicative_1.02", "multiplicative", dict(factor=1.02)),
        ("swalr_default_0.05", "swalr", dict(swa_lr=0.05, anneal_epochs=10, anneal_strategy="cos")),
        ("swalr_linear_5_0.01", "swalr", dict(swa_lr=0.01, anneal_epochs=5, anneal_strategy="linear")),
        ("swalr_cos_30_up", "swalr", dict(swa_lr=0.3, anneal_epochs=30, anneal_strategy="cos")),
        ("swalr_anneal0", "swalr", dict(swa_lr=0.02, anneal_epochs=0, anneal_strategy="cos")),
        ("swalr_linear_1", "swalr", dict(swa_lr=0.02, anneal_epochs=1, anneal_strategy="linear")),
    ]
    base_lr = 0.1
    cases = []
    for name, kind, args in C:
        p = nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=base_lr)
        if kind == "multiplicative":
            factor = args["factor"]
            sched = L.MultiplicativeLR(opt, lr_lambda=lambda epoch, f=factor: f)
        else:
            sched = swa_utils.SWALR(opt, **args)
        lrs = []
        for _ in range(N):
            lrs.append(float(opt.param_groups[0]["lr"]))
            p.grad = torch.zeros_like(p)
            opt.step()
            sched.step()
        cases.append({"name": name, "kind": kind, "args": args, "base_lr": base_lr, "optimizer": {}, "steps": N,
                      "lr": lrs})
    dump(OUT / "schedules.json", {
        "torch_version": TV,
        "convention": "lr[i] = param_groups[0]['lr'] read before the i-th sched.step(); opt.step() with zero "
                      "grads precedes every sched.step(); optimizer is SGD([dummy], lr=base_lr); multiplicative = "
                      "MultiplicativeLR(opt, lr_lambda=lambda epoch: factor); swalr = SWALR(opt, **args)",
        "cases": cases,
    })


# ---------------------------------------------------------------------------
# schedule-free
# ---------------------------------------------------------------------------

SF_DEFAULTS = {
    "sgd_schedulefree": dict(momentum=0.9, weight_decay=0.0, warmup_steps=0, r=0.0, weight_lr_power=2.0),
    "adamw_schedulefree": dict(betas=[0.9, 0.999], eps=1e-8, weight_decay=0.0, warmup_steps=0, r=0.0,
                               weight_lr_power=2.0),
}
SF_CLASSES = {"sgd_schedulefree": schedulefree.SGDScheduleFree,
              "adamw_schedulefree": schedulefree.AdamWScheduleFree}
SF_CASES = [
    ("sgd_sf_default", "sgd_schedulefree", 0.1, {}, 0),
    ("sgd_sf_warmup_wd_momentum", "sgd_schedulefree", 0.2, dict(warmup_steps=10, weight_decay=0.01, momentum=0.8), 0),
    ("sgd_sf_r_wlp_toggle", "sgd_schedulefree", 0.1, dict(r=1.0, weight_lr_power=0.0, warmup_steps=5), 10),
    ("adamw_sf_default", "adamw_schedulefree", 0.05, {}, 0),
    ("adamw_sf_warmup_wd_betas", "adamw_schedulefree", 0.05,
     dict(warmup_steps=10, weight_decay=0.1, betas=[0.8, 0.99], eps=1e-6), 0),
    ("adamw_sf_r_wlp_toggle", "adamw_schedulefree", 0.05, dict(r=0.5, weight_lr_power=1.0, warmup_steps=5), 10),
]


def gen_schedulefree():
    cases = []
    for name, optimizer, lr, over, toggle in SF_CASES:
        options = dict(SF_DEFAULTS[optimizer], **over)
        case, params, noise = case_base(name, optimizer, options, lr)
        b1 = options["momentum"] if optimizer == "sgd_schedulefree" else options["betas"][0]

        def make(ps):
            return SF_CLASSES[optimizer](ps, lr=lr, foreach=False, **kw(options))

        hs = [torch.tensor(p["h"]).reshape(p["shape"]) for p in params]
        cs = [torch.tensor(p["c"]).reshape(p["shape"]) for p in params]

        def run(ps, opt, t_range):
            ys, xs, toggled = [], [], {}
            for t in t_range:
                set_grads(ps, hs, cs, noise[t])
                opt.step()
                ys.append(snapshot(ps))
                ps_c, opt_c = copy.deepcopy((ps, opt))
                opt_c.eval()
                xs.append(snapshot(ps_c))
                with torch.no_grad():  # the same, by hand
                    manual = [flat(p.detach().clone().lerp_(opt.state[p]["z"], 1 - 1 / b1)) for p in ps]
                assert manual == xs[-1]
                if toggle and (t + 1) % toggle == 0:
                    opt.eval()
                    assert snapshot(ps) == xs[-1]
                    opt.train()
                    toggled[str(t)] = snapshot(ps)
            return ys, xs, toggled

        ps, _, _ = as_tensors(params)
        opt = make(ps)
        opt.train()
        y1, x1, g1 = run(ps, opt, range(MID))
        sd = copy.deepcopy(opt.state_dict())
        mid_y = snapshot(ps)  # differs from y1[-1] only if a toggle happened after step MID-1
        y2, x2, g2 = run(ps, opt, range(MID, STEPS))
        ps2 = restart_params(mid_y, params)
        opt2 = make(ps2)
        opt2.load_state_dict(copy.deepcopy(sd))
        assert opt2.param_groups[0]["train_mode"] is True
        assert run(ps2, opt2, range(MID, STEPS)) == (y2, x2, g2), ("schedulefree resume mismatch", name)
        case.update(toggle_every=toggle, trajectory=y1 + y2, eval=x1 + x2, y_after_toggle={**g1, **g2},
                    state=enc_opt_state(sd), state_params=mid_y)
        cases.append(case)
    dump(OUT / "schedulefree.json", header(
        constructor_extra={"foreach": False},
        protocol="opt.train() before step 0; per step: grads at y, opt.step(), record y, record x from a deep "
                 "copy put in eval(); toggle_every k > 0: live opt.eval(); opt.train() after every k-th step",
        note="state_params = the parameters (train mode, y) at the moment the state was saved",
        cases=cases))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    gen_asgd()
    gen_rprop()
    gen_adafactor()
    gen_muon()
    lb = gen_lbfgs()
    gen_averaged()
    gen_schedules()
    gen_schedulefree()
    for name, (stable, stable_resume, evals, worst) in lb.items():
        print(f"lbfgs {name}: stable_steps={stable} after_resume={stable_resume} evals={evals} "
              f"probe_max_abs_diff={worst:.2g}", file=sys.stderr)
    for p in sorted(OUT.rglob("*.json")):
        print(f"{os.path.getsize(p):>9}  {p.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
