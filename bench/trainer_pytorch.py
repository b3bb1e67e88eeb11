#!/usr/bin/env python3
"""The loop of bench/trainer_bench.cpp in eager PyTorch (Debian's python3-torch, the same 1.13 as
our LibTorch, on the same OpenBLAS): SimpleCNN, the same data, normalisation, batch, threads,
optimiser and evaluation batches. One JSON line per epoch. Also `--sgemm`: the machine's
single-precision matrix-product rate on the same threads; `--device cuda`: both on the GPU (the
loop as a PyTorch user writes it: one loss.item() per step)."""
import argparse
import gzip
import json
import os
import time

import numpy as np
import torch

MEAN, STD = 0.2860, 0.3530  # as nodes/trainer.cpp


def idx(path, count, images):
    with gzip.open(path, "rb") as f:
        data = f.read()
    offset = 16 if images else 8
    n = int.from_bytes(data[4:8], "big")
    count = min(count, n)
    if images:
        return np.frombuffer(data, np.uint8, count * 784, offset).reshape(count, 1, 28, 28)
    return np.frombuffer(data, np.uint8, count, offset)


def simple_cnn(blocks, channels):
    layers, cin, side = [], 1, 28
    for b in range(blocks):
        out = channels << min(b, 4)
        layers += [torch.nn.Conv2d(cin, out, 3, padding=1), torch.nn.ReLU()]
        if side >= 2:
            layers.append(torch.nn.MaxPool2d(2))
            side //= 2
        cin = out
    return torch.nn.Sequential(*layers, torch.nn.Flatten(), torch.nn.Linear(cin * side * side, 64), torch.nn.ReLU(),
                               torch.nn.Linear(64, 10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("train_n", type=int)
    ap.add_argument("test_n", type=int)
    ap.add_argument("batch", type=int)
    ap.add_argument("blocks", type=int)
    ap.add_argument("channels", type=int)
    ap.add_argument("threads", type=int)
    ap.add_argument("epochs", type=int)
    ap.add_argument("--sgemm", action="store_true")
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    torch.set_num_threads(a.threads)
    if a.sgemm:
        x = torch.randn(1024, 1024)
        for _ in range(3):
            x @ x
        t0, reps = time.perf_counter(), 20
        for _ in range(reps):
            x @ x
        print(json.dumps({"side": "sgemm", "gflop_per_s": 2 * 1024**3 * reps / (time.perf_counter() - t0) / 1e9}))
        return
    d = a.dataset
    def prep(x):
        return (torch.from_numpy(x.astype(np.float32) / 255.0) - MEAN) / STD
    train_x = prep(idx(os.path.join(d, "train-images-idx3-ubyte.gz"), a.train_n, True)).to(dev)
    train_y = torch.from_numpy(idx(os.path.join(d, "train-labels-idx1-ubyte.gz"), a.train_n,
                                   False).astype(np.int64)).to(dev)
    test_x = prep(idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"), a.test_n, True)).to(dev)
    test_y = torch.from_numpy(idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"), a.test_n, False).astype(np.int64)).to(dev)
    torch.manual_seed(1)
    model = simple_cnn(a.blocks, a.channels).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for epoch in range(1, a.epochs + 1):
        sync()
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(len(train_x), device=dev)
        total, batches = 0.0, 0
        for start in range(0, len(train_x), a.batch):
            i = order[start:start + a.batch]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(train_x.index_select(0, i)), train_y.index_select(0, i))
            total += loss.item()
            batches += 1
            loss.backward()
            opt.step()
        sync()
        t1 = time.perf_counter()
        model.eval()
        correct = 0
        with torch.no_grad():
            for start in range(0, len(test_x), 1024):
                correct += (model(test_x[start:start + 1024]).argmax(1) == test_y[start:start + 1024]).sum().item()
        sync()
        t2 = time.perf_counter()
        print(json.dumps({"side": "pytorch", "epoch": epoch, "train_images_per_s": len(train_x) / (t1 - t0),
                          "eval_images_per_s": len(test_x) / (t2 - t1), "loss": total / batches,
                          "accuracy": correct / len(test_x)}))


if __name__ == "__main__":
    main()
