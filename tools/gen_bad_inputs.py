#!/usr/bin/env python3
"""Writes the bad-input corpus, tests/bad_inputs/<NNN-name>/ (numbered in the order below) (run by crates/train/tests/bad_inputs.rs).

Each case folder holds `run.toml`, the files it references (CSV, safetensors — made here with
`struct` + `json`, no torch), `expect.txt` (substrings the one-line error must contain, one per
line) and, optionally, `args.txt` (extra `descent train` arguments, one per line; an `--out`
there replaces the test's own). Standard library only:

    python3 tools/gen_bad_inputs.py        # rewrites tests/bad_inputs/ from scratch

Expectations say what a *good* message must name: the file at fault, the line for TOML
errors, the key or column, and the problem.
"""

import json
import os
import shutil
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "bad_inputs")

# Every key the config knows, so each one can be broken in place.
FULL = """\
epochs = 2
seed = 0
dtype = "f32"
device = "cpu"

[model]
kind = "mlp"
sizes = [2, 3, 1]
activation = "relu"

[data]
train = "train.csv"
targets = ["y"]

[batching]
mode = "full"
shuffle = true

[loss]
kind = "mse"
l2 = 0.0
l1 = 0.0

[optimizer]
kind = "sgd"
lr = 0.1
momentum = 0.0
dampening = 0.0
weight_decay = 0.0
nesterov = false
maximize = false
l1 = 0.0
"""

CSV = "a,b,y\n1,2,3\n4,5,6\n0.5,-1,2\n"

cases = []


def case(name, expect, toml=FULL, files=None, args=None, csv=True):
    """`files`: name -> str | bytes | None (None: a directory)."""
    files = dict(files or {})
    if csv and "train.csv" not in files:
        files["train.csv"] = CSV
    cases.append((name, toml, files, expect, args))


def section_of(text, key, section):
    """(start, end) character range of `[section]`'s body, or the top level."""
    if section is None:
        start = 0
    else:
        start = text.index(f"[{section}]\n") + len(f"[{section}]\n")
    nxt = text.find("\n[", start)
    return start, (len(text) if nxt < 0 else nxt + 1)


def setkey(key, value, section=None, text=FULL):
    """Replaces `key = …` in `section` (None: top level) with `key = value`; returns (toml, line)."""
    a, b = section_of(text, key, section)
    body = text[a:b]
    lines = body.split("\n")
    for i, l in enumerate(lines):
        if l.split("=")[0].strip() == key:
            lines[i] = f"{key} = {value}"
            break
    else:
        raise KeyError(key)
    new = text[:a] + "\n".join(lines) + text[b:]
    return new, line_of(new, f"{key} = {value}", after=a)


def addkey(key, value, section=None, text=FULL):
    a, _ = section_of(text, key, section)
    new = text[:a] + f"{key} = {value}\n" + text[a:]
    return new, line_of(new, f"{key} = {value}", after=a)


def delkey(key, section=None, text=FULL):
    a, b = section_of(text, key, section)
    lines = [l for l in text[a:b].split("\n") if l.split("=")[0].strip() != key]
    return text[:a] + "\n".join(lines) + text[b:]


def delsection(section, text=FULL):
    a = text.index(f"[{section}]\n")
    _, b = section_of(text, None, section)
    return text[:a] + text[b:]


def line_of(text, needle, after=0):
    pos = text.index(needle, after)
    return text[:pos].count("\n") + 1


# ------------------------------------------------------------------------------------ TOML syntax
t = FULL.replace("epochs = 2", "epochs = = 2")
case("toml-syntax-error", ["run.toml", "line 1"], t)
t = FULL.replace("seed = 0\n", "seed = 0\nepochs = 3\n")
case("toml-duplicate-key", ["run.toml", f"line {line_of(t, 'epochs = 3')}", "duplicate key", "epochs"], t)
t = FULL.replace('train = "train.csv"', 'train = "train.csv')
case("toml-unterminated-string", ["run.toml", f"line {line_of(t, 'train = ')}"], t)
t = FULL.replace("sizes = [2, 3, 1]", "sizes = [2, 3, 1")
# toml notices the missing `]` on the next line, and says so.
case("toml-unterminated-array", ["run.toml", f"line {line_of(t, 'sizes = ') + 1}", "array", "`]`"], t)
t = FULL + '\n[model]\nkind = "mlp"\n'
case("toml-duplicate-table", ["run.toml", f"line {t[:t.rindex('[model]')].count(chr(10)) + 1}", "model"], t)
case("toml-empty-file", ["run.toml", "missing field `epochs`"], "")
case("toml-is-json", ["run.toml", "line 1"], '{"epochs": 2, "model": {"kind": "mlp"}}\n')
case("toml-binary-garbage", ["run.toml"], b"\x00\x01\x02\xff\xfe\x89PNG\r\n\x1a\n\x00\x00")

# ------------------------------------------------------------------------------------ unknown keys
t, n = addkey("epoch", "3")
case("unknown-top-level-key", ["run.toml", f"line {n}", "unknown field `epoch`"], t)
t, n = addkey("size", "[2, 3, 1]", "model")
case("unknown-model-key", ["run.toml", f"line {n}", "unknown field `size`"], t)
t, n = addkey("test", '"test.csv"', "data")
case("unknown-data-key", ["run.toml", f"line {n}", "unknown field `test`"], t)
t, n = addkey("batchsize", "8", "batching")
case("unknown-batching-key", ["run.toml", f"line {n}", "unknown field `batchsize`"], t)
t, n = addkey("l3", "0.1", "loss")
case("unknown-loss-key", ["run.toml", f"line {n}", "unknown field `l3`"], t)
t, n = addkey("betas", "[0.9, 0.999]", "optimizer")
case("unknown-optimizer-key", ["run.toml", f"line {n}", "unknown field `betas`"], t)
t = FULL + '\n[extras]\nverbose = true\n'
case("unknown-section", ["run.toml", f"line {line_of(t, '[extras]')}", "unknown field `extras`"], t)

# ------------------------------------------------------------------------------------ wrong types
def wrong(name, key, value, section=None, extra=()):
    """The key's line, the key (toml's snippet shows it) and, for a choice, the choices."""
    t, n = setkey(key, value, section)
    case(f"type-{name}", ["run.toml", f"line {n}", key, *extra], t)


wrong("epochs-string", "epochs", '"two"')
wrong("epochs-float", "epochs", "1.5")
wrong("epochs-negative", "epochs", "-3")
wrong("seed-string", "seed", '"0"')
wrong("seed-negative", "seed", "-1")
wrong("dtype-int", "dtype", "32", extra=["`f32`", "`f64`"])
wrong("device-bool", "device", "true", extra=["`cpu`", "`ndarray`", "`wgpu`"])
wrong("model-kind-int", "kind", "1", "model", extra=["`mlp`"])
wrong("sizes-string", "sizes", '"2,3,1"', "model")
wrong("sizes-floats", "sizes", "[2.0, 3.0, 1.0]", "model")
wrong("sizes-negative", "sizes", "[2, -3, 1]", "model")
wrong("activation-int", "activation", "1", "model", extra=["`relu`", "`tanh`"])
t, n = addkey("init_from", "5", "model")
case("type-init-from-int", ["run.toml", f"line {n}", "init_from"], t)
wrong("train-list", "train", '["train.csv"]', "data")
wrong("targets-string", "targets", '"y"', "data")
wrong("targets-ints", "targets", "[1]", "data")
wrong("mode-int", "mode", "1", "batching", extra=["`full`", "`mini`", "`stochastic`"])
t, n = addkey("batch_size", '"32"', "batching")
t, _ = setkey("mode", '"mini"', "batching", t)
case("type-batch-size-string", ["run.toml", f"line {n}", "batch_size"], t)
t, n = addkey("batch_size", "2.5", "batching")
t, _ = setkey("mode", '"mini"', "batching", t)
case("type-batch-size-float", ["run.toml", f"line {n}", "batch_size"], t)
wrong("shuffle-string", "shuffle", '"yes"', "batching")
wrong("loss-kind-int", "kind", "2", "loss", extra=["`mse`"])
wrong("loss-l2-string", "l2", '"0.1"', "loss")
wrong("loss-l1-bool", "l1", "true", "loss")
wrong("optimizer-kind-int", "kind", "1", "optimizer", extra=["`sgd`"])
wrong("lr-string", "lr", '"0.1"', "optimizer")
wrong("momentum-string", "momentum", '"0.9"', "optimizer")
wrong("dampening-bool", "dampening", "false", "optimizer")
wrong("weight-decay-string", "weight_decay", '"1e-4"', "optimizer")
wrong("nesterov-string", "nesterov", '"true"', "optimizer")
wrong("maximize-int", "maximize", "1", "optimizer")
wrong("optimizer-l1-string", "l1", '"0.01"', "optimizer")
t = 'optimizer = "sgd"\n' + delsection("optimizer")
case("type-optimizer-not-a-table", ["run.toml", "line 1", "optimizer", "table"], t)
t = 'model = "mlp"\n' + delsection("model")
case("type-model-not-a-table", ["run.toml", "line 1", "model", "table"], t)
t = 'batching = "mini"\n' + delsection("batching")
case("type-batching-not-a-table", ["run.toml", "line 1", "batching", "table"], t)

# ------------------------------------------------------------------------------------ missing keys
case("missing-epochs", ["run.toml", "missing field `epochs`"], delkey("epochs"))
case("missing-model", ["run.toml", "missing field `model`"], delsection("model"))
case("missing-model-kind", ["run.toml", "missing field `kind`", "model"], delkey("kind", "model"))
case("missing-model-sizes", ["run.toml", "missing field `sizes`"], delkey("sizes", "model"))
case("missing-data", ["run.toml", "missing field `data`"], delsection("data"))
case("missing-data-train", ["run.toml", "missing field `train`"], delkey("train", "data"))
case("missing-data-targets", ["run.toml", "missing field `targets`"], delkey("targets", "data"))
case("missing-optimizer", ["run.toml", "missing field `optimizer`"], delsection("optimizer"))
case("missing-optimizer-kind", ["run.toml", "missing field `kind`", "optimizer"], delkey("kind", "optimizer"))

# ------------------------------------------------------------------------------------ invalid values
t, _ = setkey("epochs", "0")
case("epochs-zero", ["run.toml", "epochs must be at least 1"], t)
t, _ = setkey("lr", "-0.1", "optimizer")
case("lr-negative", ["run.toml", "Invalid learning rate: -0.1"], t)
t, _ = setkey("lr", "nan", "optimizer")
case("lr-nan", ["run.toml", "Invalid learning rate: NaN"], t)
t, _ = setkey("lr", "inf", "optimizer")
case("lr-infinite", ["run.toml", "lr", "inf"], t)
t, _ = setkey("momentum", "-0.9", "optimizer")
case("momentum-negative", ["run.toml", "Invalid momentum value: -0.9"], t)
t, _ = setkey("weight_decay", "-1e-4", "optimizer")
case("weight-decay-negative", ["run.toml", "Invalid weight_decay value: -0.0001"], t)
t, _ = setkey("nesterov", "true", "optimizer")
case("nesterov-without-momentum", ["run.toml", "Nesterov momentum requires a momentum and zero dampening"], t)
t, _ = setkey("nesterov", "true", "optimizer")
t, _ = setkey("momentum", "0.9", "optimizer", t)
t, _ = setkey("dampening", "0.1", "optimizer", t)
case("nesterov-with-dampening", ["run.toml", "Nesterov momentum requires a momentum and zero dampening"], t)
t, _ = setkey("mode", '"mini"', "batching")
case("mini-without-batch-size", ["run.toml", "batch_size is required"], t)
t, _ = setkey("mode", '"mini"', "batching")
t, _ = addkey("batch_size", "0", "batching", t)
case("batch-size-zero", ["run.toml", "batch_size must be at least 1"], t)
t, _ = setkey("l2", "-0.5", "loss")
case("loss-l2-negative", ["run.toml", "[loss] l2", "-0.5"], t)
t, _ = setkey("l1", "-0.5", "loss")
case("loss-l1-negative", ["run.toml", "[loss] l1", "-0.5"], t)
t, _ = setkey("l2", "inf", "loss")
case("loss-l2-infinite", ["run.toml", "[loss] l2", "inf"], t)
t, _ = setkey("l1", "-0.01", "optimizer")
case("optimizer-l1-negative", ["run.toml", "Invalid l1 value: -0.01"], t)
t, _ = setkey("dampening", "nan", "optimizer")
case("dampening-nan", ["run.toml", "Invalid dampening value: NaN"], t)


def variant(name, key, value, section, bad):
    t, n = setkey(key, f'"{value}"', section)
    case(f"unknown-{name}", ["run.toml", f"line {n}", f"unknown variant `{value}`", *bad], t)


variant("activation", "activation", "gelu", "model", ["relu"])
variant("loss-kind", "kind", "mae", "loss", ["mse"])
variant("batching-mode", "mode", "batch", "batching", ["full", "mini", "stochastic"])
variant("dtype", "dtype", "f16", None, ["f32", "f64"])
variant("device", "device", "tpu", None, ["cpu", "ndarray", "wgpu"])
variant("model-kind", "kind", "transformer", "model", ["mlp", "cnn"])
variant("optimizer-kind", "kind", "sgdd", "optimizer", ["sgd"])
t, _ = setkey("sizes", "[2]", "model")
case("sizes-too-short", ["run.toml", "sizes", "at least an input and an output"], t)
t, _ = setkey("sizes", "[]", "model")
case("sizes-empty", ["run.toml", "sizes", "at least an input and an output"], t)
t, _ = setkey("sizes", "[2, 0, 1]", "model")
case("sizes-with-zero", ["run.toml", "sizes[1] is 0"], t)
t, _ = setkey("dtype", '"f64"')
t, _ = setkey("device", '"wgpu"', None, t)
case("f64-on-wgpu", ["f64", "wgpu", "cpu"], t)

# ------------------------------------------------------------------------------------ CSV
case("csv-empty-file", ["train.csv", "empty"], files={"train.csv": ""})
case("csv-header-only", ["train.csv", "no data rows"], files={"train.csv": "a,b,y\n"})
case("csv-ragged-short-row", ["train.csv", "line 3", "2 cells", "3 columns"], files={"train.csv": "a,b,y\n1,2,3\n4,5\n"})
case("csv-ragged-long-row", ["train.csv", "line 2", "4 cells", "3 columns"], files={"train.csv": "a,b,y\n1,2,3,4\n4,5,6\n"})
case("csv-non-numeric-cell", ["train.csv", "line 3", "column `b`", "`x` is not a number"], files={"train.csv": "a,b,y\n1,2,3\n4,x,6\n"})
case("csv-nan-cell", ["train.csv", "line 2", "column `y`", "not a finite number"], files={"train.csv": "a,b,y\n1,2,NaN\n4,5,6\n"})
case("csv-inf-cell", ["train.csv", "line 3", "column `a`", "not a finite number"], files={"train.csv": "a,b,y\n1,2,3\ninf,5,6\n"})
case("csv-empty-cell", ["train.csv", "line 3", "column `b`", "empty"], files={"train.csv": "a,b,y\n1,2,3\n4,,6\n"})
t, _ = setkey("targets", '["z"]', "data")
case("csv-missing-target-column", ["train.csv", "target column `z`", "a,b,y"], t)
case("csv-duplicate-column", ["train.csv", "line 1", "`a` appears twice"], files={"train.csv": "a,a,y\n1,2,3\n"})
t, _ = setkey("sizes", "[3, 3, 1]", "model")
case("csv-feature-count-mismatch", ["train.csv", "2 feature columns", "3 inputs"], t)
t, _ = setkey("sizes", "[2, 3, 2]", "model")
case("csv-target-count-mismatch", ["train.csv", "1 target columns", "2 outputs"], t)
case("csv-missing-file", ["train.csv", "cannot read"], csv=False)
case("csv-is-a-directory", ["train.csv", "directory"], files={"train.csv": None})
case("csv-binary-garbage", ["train.csv", "UTF-8"], files={"train.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\xfd"})
case("csv-empty-column-name", ["train.csv", "line 1", "column 2 has an empty name"], files={"train.csv": "a,,y\n1,2,3\n"})
t, _ = setkey("targets", '["a", "b", "y"]', "data")
t, _ = setkey("sizes", "[1, 3]", "model", t)
case("csv-no-feature-columns", ["train.csv", "every column is a target"], t)
t, n = setkey("targets", "[]", "data")
case("csv-targets-empty-list", ["run.toml", "targets", "empty"], t)

# ------------------------------------------------------------------------------------ safetensors
DT = {"F32": ("<f", 4), "F64": ("<d", 8), "I32": ("<i", 4), "I64": ("<q", 8)}


def safetensors(tensors, truncate=None):
    """tensors: [(name, dtype, shape)] filled with 0.1·i; `truncate`: keep that many bytes."""
    header, data = {}, b""
    for name, dtype, shape in tensors:
        fmt, size = DT[dtype]
        count = 1
        for s in shape:
            count *= s
        vals = [(0.1 * i if fmt in "<f<d" else i) for i in range(count)]
        blob = b"".join(struct.pack(fmt, v) for v in vals)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    out = struct.pack("<Q", len(h)) + h + data
    return out if truncate is None else out[:truncate]


GOOD_W = [("layers.0.weight", "F32", [3, 2]), ("layers.0.bias", "F32", [3]), ("layers.1.weight", "F32", [1, 3]), ("layers.1.bias", "F32", [1])]
W_TOML, _ = addkey("init_from", '"init.safetensors"', "model")


def weights(name, expect, blob):
    case(f"weights-{name}", expect, W_TOML, files={} if blob is False else {"init.safetensors": blob})


weights("missing-file", ["init.safetensors", "cannot read weights"], False)
weights("not-safetensors", ["init.safetensors", "not a safetensors file"], b"a,b,y\n1,2,3\n")
full = safetensors(GOOD_W)
weights("truncated", ["init.safetensors", "not a safetensors file"], full[: len(full) - 10])
weights("empty-file", ["init.safetensors", "not a safetensors file"], b"")
weights("header-length-too-large", ["init.safetensors", "not a safetensors file"], struct.pack("<Q", 1 << 40) + b"{}")
weights("wrong-shape", ["init.safetensors", "`layers.0.weight` has shape [4, 2], expected [3, 2]"],
        safetensors([("layers.0.weight", "F32", [4, 2])] + GOOD_W[1:]))
weights("missing-tensor", ["init.safetensors", "`layers.1.bias` is missing"], safetensors(GOOD_W[:3]))
weights("extra-tensor", ["init.safetensors", "unexpected tensor `layers.2.weight`"],
        safetensors(GOOD_W + [("layers.2.weight", "F32", [1, 1])]))
weights("int-dtype", ["init.safetensors", "`layers.0.weight` has dtype I32", "float"],
        safetensors([("layers.0.weight", "I32", [3, 2])] + GOOD_W[1:]))
weights("is-a-directory", ["init.safetensors", "cannot read weights"], None)

# ------------------------------------------------------------------------------------ output & CLI
case("out-under-a-regular-file", ["blocker", "cannot create run folder"], files={"blocker": "not a folder\n"},
     args=["--out", "blocker/out"])
case("out-is-a-regular-file", ["blocker", "cannot create run folder"], files={"blocker": "not a folder\n"},
     args=["--out", "blocker"])
case("cli-unknown-device-flag", ["unknown device `tpu`", "cpu, ndarray or wgpu"], args=["--device", "tpu"])
case("cli-unknown-flag", ["--epochs"], args=["--epochs", "3"])

# ------------------------------------------------------------------------------------ [averaging], new schedules
AVG = FULL + '\n[averaging]\nkind = "ema"\ndecay = 0.99\nevery = "step"\nstart_epoch = 1\n'
t, n = setkey("decay", "1.5", "averaging", AVG)
case("averaging-decay-above-one", ["run.toml", "[averaging] decay must be in [0, 1]", "1.5"], t)
t, n = setkey("decay", "-0.1", "averaging", AVG)
case("averaging-decay-negative", ["run.toml", "[averaging] decay must be in [0, 1]", "-0.1"], t)
t, n = setkey("kind", '"polyak"', "averaging", AVG)
case("averaging-unknown-kind", ["run.toml", f"line {n}", "unknown variant `polyak`", "ema", "swa"], t)
t, n = setkey("every", '"batch"', "averaging", AVG)
case("averaging-unknown-every", ["run.toml", f"line {n}", "unknown variant `batch`", "step", "epoch"], t)
t, n = setkey("kind", '"swa"', "averaging", AVG)
case("averaging-decay-with-swa", ["run.toml", "[averaging] decay applies to kind = \"ema\" only"], t)
t, n = setkey("start_epoch", "3", "averaging", AVG)
case("averaging-start-after-last-epoch", ["run.toml", "[averaging] start_epoch = 3", "epochs = 2", "never be updated"], t)
t, n = addkey("decy", "0.9", "averaging", AVG)
case("averaging-unknown-key", ["run.toml", f"line {n}", "unknown field `decy`"], t)
t = FULL + '\n[scheduler]\nkind = "swalr"\nswa_lr = 0.05\nanneal_epochs = -1\n'
case("swalr-anneal-epochs-negative", ["run.toml", "[scheduler]", "anneal_epochs must be equal or greater than 0, got -1"], t)
t = FULL + '\n[scheduler]\nkind = "multiplicative"\n'
case("multiplicative-without-factor", ["run.toml", "[scheduler]", "missing field `factor`"], t)


# ------------------------------------------------------------------------------------ more optimizers
def optimizer(body):
    """FULL with its [optimizer] section replaced by `body`."""
    a = FULL.index("[optimizer]\n")
    return FULL[:a] + "[optimizer]\n" + body


case("asgd-lr-negative", ["run.toml", "[optimizer]", "Invalid learning rate: -0.1"],
     optimizer('kind = "asgd"\nlr = -0.1\n'))
case("rprop-etas-out-of-order", ["run.toml", "[optimizer]", "Invalid eta values: 1.2, 0.5"],
     optimizer('kind = "rprop"\netas = [1.2, 0.5]\n'))
case("rprop-step-sizes-out-of-order", ["run.toml", "[optimizer]", "Invalid step_sizes values: 50.0, 1e-06"],
     optimizer('kind = "rprop"\nstep_sizes = [50.0, 1e-6]\n'))
t = optimizer('kind = "adafactor"\neps = [1e-3]\n')
case("adafactor-eps-one-number", ["run.toml", f"line {line_of(t, 'eps = ')}", "eps", "invalid length 1", "length 2"], t)
case("adafactor-d-below-one", ["run.toml", "[optimizer]", "Clipping threshold d should be >= 1 but is: 0.5"],
     optimizer('kind = "adafactor"\nd = 0.5\n'))
case("muon-adjust-lr-fn-unknown", ["run.toml", "[optimizer]", "Adjust learning rate function rms is not supported"],
     optimizer('kind = "muon"\nadjust_lr_fn = "rms"\n'))
case("muon-on-a-bias", ["[optimizer]", "muon takes 2-D parameters only", "layers.0.bias has shape [3]",
                        '[[optimizer.groups]] params = "bias$" kind = "adamw"'],
     optimizer('kind = "muon"\nlr = 0.02\n'))
case("group-muon-on-a-bias", ["[optimizer]", "[[optimizer.groups]] #1", "muon takes 2-D parameters only", "layers.0.bias"],
     optimizer('kind = "adamw"\n\n[[optimizer.groups]]\nparams = "^layers\\\\.0\\\\."\nkind = "muon"\n'))
t = optimizer('kind = "muon"\n\n[[optimizer.groups]]\nparams = "bias$"\nkind = "adamq"\n')
case("group-kind-unknown", ["run.toml", "[[optimizer.groups]] #1", "unknown variant `adamq`", "`muon`"], t)
t = optimizer('kind = "muon"\n\n[[optimizer.groups]]\nparams = "bias$"\nkind = "adamw"\nmomentum = 0.9\n')
case("group-kind-foreign-key", ["run.toml", "[[optimizer.groups]] #1", "unknown field `momentum`"], t)


def main():
    names = [c[0] for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    # Cases numbered after the generated ones were written by hand (L-BFGS and schedule-free,
    # 136-144): kept, everything generated is rewritten.
    if os.path.isdir(OUT):
        for d in os.listdir(OUT):
            if int(d.split("-", 1)[0]) <= len(cases):
                shutil.rmtree(os.path.join(OUT, d))
    for i, (name, toml, files, expect, args) in enumerate(cases):
        d = os.path.join(OUT, f"{i + 1:03d}-{name}")
        os.makedirs(d)
        with open(os.path.join(d, "run.toml"), "wb") as f:
            f.write(toml if isinstance(toml, bytes) else toml.encode())
        for fname, body in files.items():
            p = os.path.join(d, fname)
            if body is None:
                os.makedirs(p)
                open(os.path.join(p, ".gitkeep"), "w").close()
            else:
                with open(p, "wb") as f:
                    f.write(body if isinstance(body, bytes) else body.encode())
        with open(os.path.join(d, "expect.txt"), "w", encoding="utf-8") as f:
            f.write("".join(e + "\n" for e in expect))
        if args:
            with open(os.path.join(d, "args.txt"), "w", encoding="utf-8") as f:
                f.write("".join(a + "\n" for a in args))
    print(f"wrote {len(cases)} cases into {os.path.relpath(OUT, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
