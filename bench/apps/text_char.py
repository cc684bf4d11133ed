#!/usr/bin/env python3
"""PyTorch twin of examples/configs/text-char.toml: a character GRU on data/tiny_corpus.txt
(or an LSTM, for a config with cell = "lstm").

Data as descent's text.rs: the vocabulary is the corpus's distinct characters, sorted; each
row is the `context` (24) previous character ids and the next character's id; the last
round(10%) of the text's targets are held out. Model as descent-model's char_rnn.rs:
embedding (32) -> GRU (hidden 128, PyTorch's gate layout, which Burn's reset_after = true
GRU follows) over the window -> the last hidden state -> dense to vocab logits;
cross-entropy. Batch 64, Adam(lr 0.005), CosineAnnealingLR(T_max 10) stepped per epoch.
Prints one JSON line (see common.py).

    /path/to/python bench/apps/text_char.py [--threads N] [--epochs E]
"""

import os
import time

import torch

import common


class CharRnn(torch.nn.Module):
    def __init__(self, vocab, embed, hidden, cell):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, embed)
        rnn = torch.nn.LSTM if cell == "lstm" else torch.nn.GRU
        self.rnn = rnn(embed, hidden, batch_first=True)
        self.head = torch.nn.Linear(hidden, vocab)

    def forward(self, x):
        out, _ = self.rnn(self.embed(x))
        return self.head(out[:, -1])


def load(path, context, valid_fraction):
    t = time.perf_counter()
    with open(path, encoding="utf-8") as f:
        text = f.read()
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    n = len(ids)
    cut = n - int(common.round_half_away(n * valid_fraction))

    def windows(a, b):
        targets = torch.arange(a, b)
        x = ids[targets.unsqueeze(1) - context + torch.arange(context)]
        return x.contiguous(), ids[targets].contiguous()

    x, y = windows(context, cut)
    xv, yv = windows(cut, n)
    return (x, y, xv, yv), len(vocab), time.perf_counter() - t


def main():
    args, cfg = common.parse_args("text-char")
    m, d = cfg["model"], cfg["data"]
    cell = m.get("cell", "gru")
    assert cell in ("gru", "lstm"), f"cell = {cell!r}: the twin has gru and lstm"
    path = os.path.normpath(os.path.join(cfg["_dir"], d["train"]))
    data, vocab, load_s = load(path, d["context"], d["valid_fraction"])
    ce = torch.nn.CrossEntropyLoss()
    common.train(
        "text-char",
        cfg,
        data,
        lambda: CharRnn(vocab, m["embed"], m["hidden"], cell),
        lambda model, xb, yb: ce(model(xb), yb),
        ce,
        True,
        load_s,
        args.threads,
    )


if __name__ == "__main__":
    main()
