#!/usr/bin/env python3
"""Generate PyTorch reference fixtures for `descent` (Rust/Burn port of torch.optim).

Generated with torch 2.5.1 (CPU; the installed wheel reports "2.5.1+cu124"),
numpy and safetensors.  Every JSON file records ``torch.__version__`` under the
key ``"torch_version"``.  All math is float64 unless stated otherwise.

Re-run (deterministic; overwrites the files):

    python3 tools/gen_fixtures.py            # from the repository root

    # optional: write fixtures/optim_trajectories/<optimizer>.json (same schema,
    # one file per optimizer, each < 300 KB) instead of the single ~750 KB
    # fixtures/optim_trajectories.json
    python3 tools/gen_fixtures.py --split-optim

Files written (relative to the repository root):

fixtures/optim_trajectories.json  (~750 KB: 42 cases x 60 steps x 10 values of
    full-precision float64 cannot fit in 300 KB; see --split-optim)
    60-step parameter trajectories of torch.optim.{SGD, Adam, AdamW, RMSprop,
    Adagrad, Adadelta, Adamax, NAdam, RAdam} (foreach=False) plus a plain
    Python Lion (paper / optax.lion).  Two parameters, shapes [3, 2] and [4].
    The gradient at step t is set by hand, elementwise, from the current
    parameters theta (before the step):

        g = h * (theta - c) + noise[t]          (evaluated in exactly this order)

    h ~ U(0.5, 2) rounded to 3 decimals, c ~ N(0,1) and init ~ N(0,1) rounded
    to 4 decimals, noise ~ 0.1 N(0,1) rounded to 5 decimals, drawn from
    numpy.random.default_rng(seed) with seed = zlib.crc32(case name).  The
    rounding only chooses *inputs* with short decimal spellings (which keeps
    the file small); the float64 values written are exactly the values used.
    Outputs (trajectories) are written with full repr precision.

fixtures/schedules.json
    Learning-rate sequences of torch.optim.lr_scheduler classes.
    lr[i] = optimizer.param_groups[0]["lr"] read BEFORE the i-th
    scheduler.step() (the lr used by optimizer step i).

fixtures/clip_grad_norm.json
    torch.nn.utils.clip_grad_norm_ (foreach=False) and clip_grad_value_ on
    three float64 gradient tensors.

fixtures/seed/train.csv
    Synthetic regression data (recipe in make_seed_data below):
        rng = numpy.random.default_rng(0)
        X  = rng.standard_normal((256, 10))
        W1 = rng.standard_normal((10, 5)) / sqrt(10)
        W2 = rng.standard_normal(5)
        e  = rng.standard_normal(256)
        y  = tanh(X @ W1) @ W2 + 0.1 * e
    Header x0..x9,y; numbers written with Python repr precision.

fixtures/seed/init.safetensors, fixtures/seed/init_f64.safetensors
    state_dict of Mlp (ModuleList [Linear(10,5), Linear(5,1)]) built in float32
    right after torch.manual_seed(0); the f64 file is the same weights cast
    to float64 (exact).

fixtures/seed/torch_reference.json
    Training runs of the seed MLP (Linear -> ReLU -> Linear, float64, from
    init_f64) in a PyTorch loop; the training data is re-read from train.csv
    so that torch sees exactly the numbers stored in the CSV.
"""

import csv
import json
import math
import os
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file
from torch.optim import lr_scheduler as L

torch.set_default_dtype(torch.float64)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"
TV = torch.__version__


def dump(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        # allow_nan=False: fail loudly instead of writing non-standard NaN/Infinity.
        json.dump(obj, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


# ---------------------------------------------------------------------------
# 1. optimizer trajectories
# ---------------------------------------------------------------------------

STEPS = 60
SHAPES = [[3, 2], [4]]

# Every math-relevant constructor argument (torch's names, torch's defaults).
OPT_DEFAULTS = {
    "sgd": dict(momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False),
    "adam": dict(betas=[0.9, 0.999], eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False),
    "adamw": dict(betas=[0.9, 0.999], eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False),
    "rmsprop": dict(alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False),
    "adagrad": dict(lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, maximize=False),
    "adadelta": dict(rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False),
    "adamax": dict(betas=[0.9, 0.999], eps=1e-8, weight_decay=0.0, maximize=False),
    "nadam": dict(betas=[0.9, 0.999], eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                  decoupled_weight_decay=False, maximize=False),
    "radam": dict(betas=[0.9, 0.999], eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False, maximize=False),
    # Lion is not in torch 2.5; names follow lion-pytorch (betas = (b1, b2)).
    "lion": dict(betas=[0.9, 0.99], weight_decay=0.0),
}

OPT_CLASSES = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
    "adadelta": torch.optim.Adadelta,
    "adamax": torch.optim.Adamax,
    "nadam": torch.optim.NAdam,
    "radam": torch.optim.RAdam,
}

OPT_LR = {"adadelta": 1.0, "lion": 0.01}  # everything else: 0.05

# (name, optimizer, overrides of OPT_DEFAULTS)
OPT_CASES = [
    ("sgd_plain", "sgd", {}),
    ("sgd_wd", "sgd", dict(weight_decay=0.1)),
    ("sgd_momentum", "sgd", dict(momentum=0.9)),
    ("sgd_momentum_dampening", "sgd", dict(momentum=0.9, dampening=0.3)),
    ("sgd_momentum_nesterov", "sgd", dict(momentum=0.9, nesterov=True)),
    ("sgd_momentum_nesterov_wd", "sgd", dict(momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("sgd_maximize", "sgd", dict(maximize=True)),
    ("sgd_maximize_momentum_wd", "sgd", dict(maximize=True, momentum=0.9, weight_decay=0.1)),
    ("sgd_momentum_dampening_wd_maximize", "sgd",
     dict(momentum=0.5, dampening=0.5, weight_decay=0.05, maximize=True)),
    ("adam_default", "adam", {}),
    ("adam_wd", "adam", dict(weight_decay=0.1)),
    ("adam_amsgrad", "adam", dict(amsgrad=True)),
    ("adam_maximize", "adam", dict(maximize=True)),
    ("adam_betas_eps_amsgrad_wd", "adam", dict(betas=[0.8, 0.99], eps=1e-6, amsgrad=True, weight_decay=0.01)),
    ("adamw_default", "adamw", {}),
    ("adamw_wd_amsgrad", "adamw", dict(weight_decay=0.1, amsgrad=True)),
    ("adamw_maximize", "adamw", dict(maximize=True)),
    ("rmsprop_default", "rmsprop", {}),
    ("rmsprop_momentum", "rmsprop", dict(momentum=0.9)),
    ("rmsprop_centered", "rmsprop", dict(centered=True)),
    ("rmsprop_centered_momentum_wd", "rmsprop", dict(centered=True, momentum=0.5, weight_decay=0.1)),
    ("rmsprop_maximize", "rmsprop", dict(maximize=True)),
    ("adagrad_default", "adagrad", {}),
    ("adagrad_lr_decay", "adagrad", dict(lr_decay=0.01)),
    ("adagrad_wd_init_acc", "adagrad", dict(weight_decay=0.1, initial_accumulator_value=0.5)),
    ("adagrad_maximize", "adagrad", dict(maximize=True)),
    ("adadelta_default", "adadelta", {}),
    ("adadelta_rho_wd", "adadelta", dict(rho=0.5, weight_decay=0.1)),
    ("adadelta_maximize", "adadelta", dict(maximize=True)),
    ("adamax_default", "adamax", {}),
    ("adamax_wd", "adamax", dict(weight_decay=0.1)),
    ("adamax_maximize", "adamax", dict(maximize=True)),
    ("nadam_default", "nadam", {}),
    ("nadam_wd", "nadam", dict(weight_decay=0.1)),
    ("nadam_decoupled_wd", "nadam", dict(decoupled_weight_decay=True, weight_decay=0.1)),
    ("nadam_momentum_decay", "nadam", dict(momentum_decay=0.01)),
    ("radam_default", "radam", {}),
    ("radam_wd", "radam", dict(weight_decay=0.1)),
    ("radam_decoupled_wd", "radam", dict(decoupled_weight_decay=True, weight_decay=0.1)),
    ("lion_default", "lion", {}),
    ("lion_wd", "lion", dict(weight_decay=0.1)),
]


def problem(name, shapes=SHAPES):
    """Deterministic quadratic-plus-noise problem for one case (also gen_fixtures_more.py's)."""
    seed = zlib.crc32(name.encode())
    rng = np.random.default_rng(seed)
    params = []
    for shape in shapes:
        n = int(np.prod(shape))
        params.append({
            "shape": shape,
            "init": [round(float(v), 4) for v in rng.standard_normal(n)],
            "h": [round(float(v), 3) for v in rng.uniform(0.5, 2.0, n)],
            "c": [round(float(v), 4) for v in rng.standard_normal(n)],
        })
    noise = [[[round(float(v), 5) for v in 0.1 * rng.standard_normal(int(np.prod(s)))] for s in shapes]
             for _ in range(STEPS)]
    return seed, params, noise


def as_tensors(params):
    ps = [torch.tensor(p["init"]).reshape(p["shape"]).clone().requires_grad_(True) for p in params]
    hs = [torch.tensor(p["h"]).reshape(p["shape"]) for p in params]
    cs = [torch.tensor(p["c"]).reshape(p["shape"]) for p in params]
    return ps, hs, cs


def set_grads(ps, hs, cs, noise_t):
    for p, h, c, n in zip(ps, hs, cs, noise_t):
        p.grad = h * (p.detach() - c) + torch.tensor(n).reshape(p.shape)


def torch_kwargs(options):
    kw = dict(options)
    if "betas" in kw:
        kw["betas"] = tuple(kw["betas"])
    return kw


def run_torch_opt(optimizer, options, lr, params, noise, lr_per_step=None, momentum_per_step=None):
    ps, hs, cs = as_tensors(params)
    opt = OPT_CLASSES[optimizer](ps, lr=lr, foreach=False, **torch_kwargs(options))
    traj = []
    for t in range(STEPS):
        if lr_per_step is not None:
            opt.param_groups[0]["lr"] = lr_per_step[t]
        if momentum_per_step is not None:
            opt.param_groups[0]["momentum"] = momentum_per_step[t]
        set_grads(ps, hs, cs, noise[t])
        opt.step()
        traj.append([flat(p) for p in ps])
    return traj


def run_lion(options, lr, params, noise):
    """Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"),
    written to follow optax.lion (scale_by_lion -> add_decayed_weights ->
    scale_by_learning_rate -> apply_updates) operation by operation:

        u     = sign((1 - b1) * g + b1 * m)       # interpolation, sign(0) = 0
        u     = u + wd * theta                    # decoupled weight decay
        theta = theta + (-lr) * u                 # i.e. theta - lr*(sign(..) + wd*theta)
        m     = (1 - b2) * g + b2 * m             # m_0 = 0

    No bias correction, no maximize.  (1 - b1) and (1 - b2) are evaluated in
    float64, i.e. 1.0 - 0.9 = 0.09999999999999998.
    """
    b1, b2 = options["betas"]
    wd = options["weight_decay"]
    ps, hs, cs = as_tensors(params)
    ms = [torch.zeros_like(p) for p in ps]
    traj = []
    with torch.no_grad():
        for t in range(STEPS):
            set_grads(ps, hs, cs, noise[t])
            for p, m in zip(ps, ms):
                g = p.grad
                u = torch.sign((1 - b1) * g + b1 * m)
                u = u + wd * p
                p.add_((-lr) * u)
                m.copy_((1 - b2) * g + b2 * m)
            traj.append([flat(p) for p in ps])
    return traj


def gen_optim(split=False):
    cases = []
    for name, optimizer, over in OPT_CASES:
        options = dict(OPT_DEFAULTS[optimizer])
        unknown = set(over) - set(options)
        assert not unknown, (name, unknown)
        options.update(over)
        lr = OPT_LR.get(optimizer, 0.05)
        seed, params, noise = problem(name)
        if optimizer == "lion":
            traj = run_lion(options, lr, params, noise)
        else:
            traj = run_torch_opt(optimizer, options, lr, params, noise)
        case = {"name": name, "optimizer": optimizer, "options": options, "lr": lr, "seed": seed,
                "params": params, "noise": noise, "trajectory": traj}
        if optimizer == "lion":
            case["reference"] = "paper/optax"
        cases.append(case)

    # SGD with lr and momentum changed before every step (param_groups edited in place).
    name = "sgd_varying"
    options = dict(OPT_DEFAULTS["sgd"], momentum=0.9)
    lr_per_step = [0.05 * (1 + 0.5 * math.sin(t)) for t in range(STEPS)]
    mom_per_step = [0.85 + 0.1 * math.cos(t) for t in range(STEPS)]
    seed, params, noise = problem(name)
    traj = run_torch_opt("sgd", options, 0.05, params, noise, lr_per_step, mom_per_step)
    cases.append({"name": name, "optimizer": "sgd", "family": "sgd_varying", "options": options, "lr": 0.05,
                  "lr_per_step": lr_per_step, "momentum_per_step": mom_per_step, "seed": seed,
                  "params": params, "noise": noise, "trajectory": traj})

    def doc(cs):
        return {
            "torch_version": TV,
            "steps": STEPS,
            "grad_formula": "g = h * (theta - c) + noise[t], elementwise, float64, from theta before step t",
            "constructor_extra": {"foreach": False},
            "cases": cs,
        }

    if split:
        # Same schema, one file per optimizer (each < 300 KB); sgd_varying goes into sgd.json.
        for optimizer in dict.fromkeys(c["optimizer"] for c in cases):
            dump(FIX / "optim_trajectories" / f"{optimizer}.json",
                 doc([c for c in cases if c["optimizer"] == optimizer]))
    else:
        dump(FIX / "optim_trajectories.json", doc(cases))


# ---------------------------------------------------------------------------
# 2. lr schedules
# ---------------------------------------------------------------------------

SCHED_CLASSES = {
    "constant": L.ConstantLR,
    "step": L.StepLR,
    "multistep": L.MultiStepLR,
    "exponential": L.ExponentialLR,
    "cosine": L.CosineAnnealingLR,
    "cosine_warm_restarts": L.CosineAnnealingWarmRestarts,
    "linear": L.LinearLR,
    "polynomial": L.PolynomialLR,
    "onecycle": L.OneCycleLR,
    "cyclic": L.CyclicLR,
    "plateau": L.ReduceLROnPlateau,
}

# Every constructor argument except optimizer / last_epoch / verbose, with torch's defaults.
SCHED_DEFAULTS = {
    "constant": dict(factor=1.0 / 3, total_iters=5),
    "step": dict(gamma=0.1),  # step_size required
    "multistep": dict(gamma=0.1),  # milestones required
    "exponential": dict(),  # gamma required
    "cosine": dict(eta_min=0.0),  # T_max required
    "cosine_warm_restarts": dict(T_mult=1, eta_min=0.0),  # T_0 required
    "linear": dict(start_factor=1.0 / 3, end_factor=1.0, total_iters=5),
    "polynomial": dict(total_iters=5, power=1.0),
    "onecycle": dict(total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3, anneal_strategy="cos",
                     cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
                     final_div_factor=1e4, three_phase=False),
    "cyclic": dict(step_size_up=2000, step_size_down=None, mode="triangular", gamma=1.0, scale_fn=None,
                   scale_mode="cycle", cycle_momentum=True, base_momentum=0.8, max_momentum=0.9),
    "plateau": dict(mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel", cooldown=0,
                    min_lr=0.0, eps=1e-8),
}


def sa(kind, **over):
    """Full argument dict for a (non-composite) scheduler."""
    a = dict(SCHED_DEFAULTS[kind])
    a.update(over)
    return a


def sub(kind, **over):
    return {"kind": kind, "args": sa(kind, **over)}


def build_sched(kind, args, opt):
    if kind == "sequential":
        subs = [build_sched(s["kind"], s["args"], opt) for s in args["schedulers"]]
        return L.SequentialLR(opt, subs, milestones=list(args["milestones"]))
    if kind == "chained":
        subs = [build_sched(s["kind"], s["args"], opt) for s in args["schedulers"]]
        return L.ChainedScheduler(subs, optimizer=opt)
    return SCHED_CLASSES[kind](opt, **args)


def plateau_metrics(seed, n, kind):
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    if kind == "decreasing":  # decreasing, then flat, plus noise
        m = 0.5 + np.exp(-i / 15.0) + 0.01 * rng.standard_normal(n)
    elif kind == "increasing":  # accuracy-like, for mode='max'
        m = 0.9 - 0.8 * np.exp(-i / 20.0) + 0.01 * rng.standard_normal(n)
    else:  # flat noisy plateau from the start
        m = 1.0 + 0.01 * rng.standard_normal(n)
    return [float(v) for v in m]


def gen_schedules():
    N = 130
    mom = {"momentum": 0.9}
    C = []  # (name, kind, args, optimizer, steps, extra)

    C.append(("constant_default", "constant", sa("constant"), {}, N, {}))
    C.append(("constant_half_10", "constant", sa("constant", factor=0.5, total_iters=10), {}, N, {}))
    C.append(("step_7_0.5", "step", sa("step", step_size=7, gamma=0.5), {}, N, {}))
    C.append(("step_1_0.97", "step", sa("step", step_size=1, gamma=0.97), {}, N, {}))
    C.append(("multistep_10_30_80", "multistep", sa("multistep", milestones=[10, 30, 80], gamma=0.3), {}, N, {}))
    C.append(("multistep_repeated", "multistep", sa("multistep", milestones=[10, 10, 50]), {}, N, {}))
    C.append(("exponential_0.95", "exponential", sa("exponential", gamma=0.95), {}, N, {}))
    C.append(("cosine_50_past_tmax", "cosine", sa("cosine", T_max=50, eta_min=0.0), {}, N, {}))
    C.append(("cosine_20_etamin", "cosine", sa("cosine", T_max=20, eta_min=0.01), {}, N, {}))
    C.append(("cwr_10_1", "cosine_warm_restarts", sa("cosine_warm_restarts", T_0=10, T_mult=1), {}, N, {}))
    C.append(("cwr_5_2_etamin", "cosine_warm_restarts",
              sa("cosine_warm_restarts", T_0=5, T_mult=2, eta_min=0.001), {}, N, {}))
    C.append(("linear_default", "linear", sa("linear"), {}, N, {}))
    C.append(("linear_0.1_30", "linear", sa("linear", start_factor=0.1, end_factor=1.0, total_iters=30), {}, N, {}))
    C.append(("polynomial_default", "polynomial", sa("polynomial"), {}, N, {}))
    C.append(("polynomial_50_p2", "polynomial", sa("polynomial", total_iters=50, power=2.0), {}, N, {}))
    C.append(("polynomial_100_p0.5", "polynomial", sa("polynomial", total_iters=100, power=0.5), {}, N, {}))

    C.append(("onecycle_default", "onecycle", sa("onecycle", max_lr=1.0, total_steps=120), mom, 120, {}))
    C.append(("onecycle_linear", "onecycle",
              sa("onecycle", max_lr=1.0, total_steps=120, anneal_strategy="linear"), mom, 120, {}))
    C.append(("onecycle_three_phase", "onecycle",
              sa("onecycle", max_lr=1.0, total_steps=120, three_phase=True), mom, 120, {}))
    C.append(("onecycle_epochs", "onecycle",
              sa("onecycle", max_lr=1.0, epochs=12, steps_per_epoch=10), mom, 120, {}))
    C.append(("onecycle_no_momentum", "onecycle",
              sa("onecycle", max_lr=1.0, total_steps=120, cycle_momentum=False), mom, 120, {}))

    C.append(("cyclic_triangular", "cyclic", sa("cyclic", base_lr=0.01, max_lr=0.1, step_size_up=10), mom, N, {}))
    C.append(("cyclic_triangular2", "cyclic",
              sa("cyclic", base_lr=0.01, max_lr=0.1, step_size_up=5, step_size_down=15, mode="triangular2"),
              mom, N, {}))
    C.append(("cyclic_exp_range", "cyclic",
              sa("cyclic", base_lr=0.01, max_lr=0.1, step_size_up=10, mode="exp_range", gamma=0.99), mom, N, {}))
    C.append(("cyclic_no_momentum", "cyclic",
              sa("cyclic", base_lr=0.01, max_lr=0.1, step_size_up=10, cycle_momentum=False), mom, N, {}))

    NP = 150
    C.append(("plateau_default", "plateau", sa("plateau"), {}, NP,
              {"metrics": plateau_metrics(11, NP, "decreasing")}))
    C.append(("plateau_max_abs_cooldown", "plateau",
              sa("plateau", mode="max", factor=0.5, patience=3, threshold_mode="abs", threshold=0.01, cooldown=2,
                 min_lr=0.001), {}, NP, {"metrics": plateau_metrics(12, NP, "increasing")}))
    C.append(("plateau_eps", "plateau", sa("plateau", factor=0.5, patience=2, eps=1e-3), {}, NP,
              {"metrics": plateau_metrics(13, NP, "flat")}))

    C.append(("sequential_linear_cosine", "sequential",
              {"schedulers": [sub("linear", start_factor=0.1, total_iters=10), sub("cosine", T_max=50)],
               "milestones": [10]}, {}, N, {}))
    C.append(("sequential_constant_exp_step", "sequential",
              {"schedulers": [sub("constant", factor=0.5, total_iters=5), sub("exponential", gamma=0.9),
                              sub("step", step_size=5, gamma=0.5)],
               "milestones": [5, 40]}, {}, N, {}))
    C.append(("chained_constant_exp", "chained",
              {"schedulers": [sub("constant", factor=0.1, total_iters=2), sub("exponential", gamma=0.9)]},
              {}, N, {}))
    C.append(("chained_step_linear", "chained",
              {"schedulers": [sub("step", step_size=10, gamma=0.5), sub("linear", start_factor=0.5, total_iters=20)]},
              {}, N, {}))

    base_lr = 0.1
    cases = []
    all_warnings = []
    for name, kind, args, optcfg, steps, extra in C:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            p = nn.Parameter(torch.zeros(1))
            opt = torch.optim.SGD([p], lr=base_lr, momentum=optcfg.get("momentum", 0.0))
            sched = build_sched(kind, args, opt)
            record_mom = kind in ("onecycle", "cyclic") and args["cycle_momentum"]
            lrs, moms = [], []
            for i in range(steps):
                lrs.append(float(opt.param_groups[0]["lr"]))
                if record_mom:
                    moms.append(float(opt.param_groups[0]["momentum"]))
                p.grad = torch.zeros_like(p)
                opt.step()
                if kind == "plateau":
                    sched.step(extra["metrics"][i])
                else:
                    sched.step()
        for x in w:
            all_warnings.append(f"{name}: {x.category.__name__}: {x.message}")
        case = {"name": name, "kind": kind, "args": args, "base_lr": base_lr, "optimizer": dict(optcfg),
                "steps": steps, "lr": lrs}
        if record_mom:
            case["momentum"] = moms
        if "metrics" in extra:
            case["metrics"] = extra["metrics"]
        cases.append(case)
    dump(FIX / "schedules.json", {
        "torch_version": TV,
        "convention": "lr[i] = param_groups[0]['lr'] read before the i-th sched.step(); opt.step() with zero "
                      "grads precedes every sched.step(); optimizer is SGD([dummy], lr=base_lr, momentum=...)",
        "cases": cases,
    })
    return all_warnings


# ---------------------------------------------------------------------------
# 3. gradient clipping
# ---------------------------------------------------------------------------

def gen_clip():
    shapes = [[5, 3], [3], [2, 2, 2]]
    gen = torch.Generator().manual_seed(1234)
    grads_in = [torch.randn(s, generator=gen, dtype=torch.float64) for s in shapes]
    cases = []

    def fresh():
        ps = [torch.zeros(s, requires_grad=True) for s in shapes]
        for p, g in zip(ps, grads_in):
            p.grad = g.clone()
        return ps

    for name, max_norm, norm_type in [("l2_max1", 1.0, 2.0), ("inf_max0.5", 0.5, math.inf),
                                      ("l2_max100_noclip", 100.0, 2.0), ("l1_max1", 1.0, 1.0)]:
        ps = fresh()
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type, error_if_nonfinite=False,
                                               foreach=False)
        total = float(total)
        cases.append({"name": name, "fn": "clip_grad_norm_", "max_norm": max_norm,
                      "norm_type": "inf" if math.isinf(norm_type) else norm_type,
                      "error_if_nonfinite": False,
                      "shapes": shapes, "grads_in": [flat(g) for g in grads_in], "total_norm": total,
                      "clip_coef": min(max_norm / (total + 1e-6), 1.0),
                      "grads_out": [flat(p.grad) for p in ps]})
    ps = fresh()
    torch.nn.utils.clip_grad_value_(ps, clip_value=0.1, foreach=False)
    cases.append({"name": "value_0.1", "fn": "clip_grad_value_", "clip_value": 0.1, "shapes": shapes,
                  "grads_in": [flat(g) for g in grads_in], "grads_out": [flat(p.grad) for p in ps]})
    dump(FIX / "clip_grad_norm.json", {
        "torch_version": TV,
        "note": "clip_coef = min(max_norm / (total_norm + 1e-6), 1.0); grads_out = grads_in * clip_coef "
                "(torch multiplies even when clip_coef == 1). norm_type 'inf' means infinity.",
        "cases": cases,
    })


# ---------------------------------------------------------------------------
# 4. seed data, init weights, end-to-end reference
# ---------------------------------------------------------------------------

class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(10, 5), nn.Linear(5, 1)])

    def forward(self, x):
        return self.layers[1](torch.relu(self.layers[0](x)))


def make_seed_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 10))
    W1 = rng.standard_normal((10, 5)) / math.sqrt(10.0)
    W2 = rng.standard_normal(5)
    e = rng.standard_normal(256)
    y = np.tanh(X @ W1) @ W2 + 0.1 * e
    path = FIX / "seed" / "train.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        f.write(",".join([f"x{j}" for j in range(10)] + ["y"]) + "\n")
        for i in range(256):
            f.write(",".join(repr(float(v)) for v in list(X[i]) + [y[i]]) + "\n")


def load_csv():
    with open(FIX / "seed" / "train.csv") as f:
        r = csv.reader(f)
        header = next(r)
        rows = [[float(v) for v in row] for row in r]
    assert header == [f"x{j}" for j in range(10)] + ["y"]
    t = torch.tensor(rows, dtype=torch.float64)
    return t[:, :10].contiguous(), t[:, 10:].contiguous()  # y as [n, 1]


def make_init():
    torch.set_default_dtype(torch.float32)
    try:
        torch.manual_seed(0)
        model = Mlp()
    finally:
        torch.set_default_dtype(torch.float64)
    sd = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    assert all(v.dtype == torch.float32 for v in sd.values())
    save_file(sd, str(FIX / "seed" / "init.safetensors"))
    save_file({k: v.double() for k, v in sd.items()}, str(FIX / "seed" / "init_f64.safetensors"))


def train_run(name, X, Y, batch_size, epochs, opt_kwargs, l1, l2, sched_args=None):
    model = Mlp().double()
    model.load_state_dict(load_file(str(FIX / "seed" / "init_f64.safetensors")))
    opt = torch.optim.SGD(model.parameters(), foreach=False, **opt_kwargs)
    sched = L.OneCycleLR(opt, **sched_args) if sched_args else None
    mse = nn.MSELoss(reduction="mean")
    n = X.shape[0]
    bs = n if batch_size is None else batch_size
    losses, lrs, moms = [], [], []
    for _ in range(epochs):
        for start in range(0, n, bs):  # file order, last partial batch kept
            xb, yb = X[start:start + bs], Y[start:start + bs]
            m = xb.shape[0]
            lrs.append(float(opt.param_groups[0]["lr"]))
            moms.append(float(opt.param_groups[0]["momentum"]))
            opt.zero_grad()
            out = model(xb)
            loss = mse(out, yb)
            params = list(model.parameters())
            if l2:
                loss = loss + l2 / (2 * m) * sum((p * p).sum() for p in params)
            if l1:
                loss = loss + l1 / m * sum(p.abs().sum() for p in params)
            loss.backward()
            losses.append(float(loss))
            opt.step()
            if sched is not None:
                sched.step()
    config = {
        "batching": "full" if batch_size is None else "minibatch",
        "batch_size": bs, "shuffle": False, "drop_last": False, "epochs": epochs,
        "steps": len(losses),
        "lr": opt_kwargs["lr"], "momentum": opt_kwargs.get("momentum", 0.0),
        "dampening": opt_kwargs.get("dampening", 0.0),
        "nesterov": opt_kwargs.get("nesterov", False), "weight_decay": opt_kwargs.get("weight_decay", 0.0),
        "l1": l1, "l2": l2,
        "loss": "MSELoss(mean) + l2/(2m)*sum(theta^2) + l1/m*sum(|theta|), sums over all weights and biases, "
                "m = rows in the batch",
        "scheduler": ({"kind": "onecycle", "args": sched_args, "stepped": "after every optimizer step"}
                      if sched_args else None),
    }
    run = {"name": name, "config": config, "loss": losses, "lr": lrs}
    if sched_args:
        run["momentum"] = moms
    run["final_params"] = {k: flat(v) for k, v in model.state_dict().items()}
    return run


def gen_seed():
    make_seed_data()
    make_init()
    X, Y = load_csv()
    runs = [
        train_run("a_fullbatch_gd", X, Y, None, 40, dict(lr=0.05), l1=0.0, l2=0.0),
        train_run("b_fullbatch_nesterov_l2", X, Y, None, 40, dict(lr=0.05, momentum=0.9, nesterov=True),
                  l1=0.0, l2=0.1),
        train_run("c_minibatch64_momentum_wd_l1", X, Y, 64, 5, dict(lr=0.02, momentum=0.9, weight_decay=1e-3),
                  l1=0.01, l2=0.0),
        train_run("d_fullbatch_onecycle", X, Y, None, 30, dict(lr=0.1, momentum=0.9), l1=0.0, l2=0.0,
                  sched_args=sa("onecycle", max_lr=0.1, total_steps=30)),
    ]
    dump(FIX / "seed" / "torch_reference.json", {
        "torch_version": TV,
        "model": "Linear(10,5) -> ReLU -> Linear(5,1), float64, init from seed/init_f64.safetensors",
        "data": "seed/train.csv (x0..x9 -> y)",
        "loop": "per step: record lr/momentum, zero_grad, forward, loss, backward, record loss, opt.step(), "
                "sched.step() (run d only)",
        "runs": runs,
    })


def main():
    FIX.mkdir(parents=True, exist_ok=True)
    gen_optim(split="--split-optim" in sys.argv[1:])
    w = gen_schedules()
    gen_clip()
    gen_seed()
    for line in w:
        print("warning:", line, file=sys.stderr)
    for p in sorted(FIX.rglob("*")):
        if p.is_file():
            print(f"{os.path.getsize(p):>9}  {p.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
