#!/usr/bin/env python3
"""The loop of bench/trainer_bench.cpp in eager PyTorch (Debian's python3-torch, the same 1.13 as
our LibTorch, on the same OpenBLAS): SimpleCNN, the same data, normalisation, batch, threads,
optimiser and evaluation batches. One JSON line per epoch. Also `--sgemm`: the machine's
single-precision matrix-product rate on the same threads; `--device cuda`: both on the GPU (the
loop as a PyTorch user writes it: one loss.item() per step). `--arch vgg11|vgg16|resnet18|resnet20`
(`--width`, `--batch-norm` for VGG, images resized to `--resize` and 3 channels) builds the model zoo's network of that
name layer for layer; `--graphs` captures the whole step (forward, backward and the optimiser)
as one CUDA graph, PyTorch's recipe (drop the last partial batch, losses read once per epoch);
`--bf16` autocasts the forward pass; `--channels-last` the memory format."""
import argparse
import contextlib
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


VGG_STACKS = {11: [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
              16: [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]}


def scaled(c, width):
    return max(1, round(c * width))


def vgg(depth, width, side, batch_norm):
    """nodes/model_zoo.cpp's vgg(): conv 3x3 (+ BatchNorm) + ReLU stacks, max-pool while 2x2 or
    larger, global average pooling, one linear classifier."""
    layers, cin = [], 3
    for c in VGG_STACKS[depth]:
        if c == 0:
            if side >= 2:
                layers.append(torch.nn.MaxPool2d(2))
                side //= 2
            continue
        out = scaled(c, width)
        layers += [torch.nn.Conv2d(cin, out, 3, padding=1)] + ([torch.nn.BatchNorm2d(out)] if batch_norm else [])
        layers.append(torch.nn.ReLU())
        cin = out
    return torch.nn.Sequential(*layers, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(cin, 10))


class Residual(torch.nn.Module):
    """model_zoo.cpp's basic residual block: two 3x3 convs with BatchNorm, a 1x1 shortcut on a change."""

    def __init__(self, cin, planes, stride):
        super().__init__()
        conv = lambda i, o, k, s=1: torch.nn.Conv2d(i, o, k, stride=s, padding=k // 2, bias=False)
        self.body = torch.nn.Sequential(conv(cin, planes, 3, stride), torch.nn.BatchNorm2d(planes), torch.nn.ReLU(),
                                        conv(planes, planes, 3), torch.nn.BatchNorm2d(planes))
        self.shortcut = (torch.nn.Sequential(conv(cin, planes, 1, stride), torch.nn.BatchNorm2d(planes))
                         if stride != 1 or cin != planes else torch.nn.Identity())
        self.relu = torch.nn.ReLU()

    def forward(self, x):
        return self.relu(self.body(x) + self.shortcut(x))


def resnet(depth, width):
    """model_zoo.cpp's resnet() for the basic-block depths (18, and 20/32/56 for small images)."""
    if depth == 18:
        blocks, planes = [2, 2, 2, 2], [64, 128, 256, 512]
    else:
        n = (depth - 2) // 6
        blocks, planes = [n, n, n], [16, 32, 64]
    cin = scaled(planes[0], width)
    layers = [torch.nn.Conv2d(3, cin, 3, padding=1, bias=False), torch.nn.BatchNorm2d(cin), torch.nn.ReLU()]
    for stage, (count, p) in enumerate(zip(blocks, planes)):
        p = scaled(p, width)
        for b in range(count):
            layers.append(Residual(cin, p, 2 if stage > 0 and b == 0 else 1))
            cin = p
    return torch.nn.Sequential(*layers, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(cin, 10))


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
    ap.add_argument("--arch", default="simple_cnn")
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--resize", type=int, default=0)
    ap.add_argument("--batch-norm", action="store_true")
    ap.add_argument("--graphs", action="store_true")
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--channels-last", action="store_true")
    a = ap.parse_args()
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    torch.set_num_threads(a.threads)
    if a.sgemm:  # the BLAS's sgemm (torch.mm), and oneDNN's fp32 GEMM (a 1 x 1 convolution), which the convolutions use
        def rate(op, flop, reps):
            op()
            t0 = time.perf_counter()
            for _ in range(reps):
                op()
            return flop * reps / (time.perf_counter() - t0) / 1e9
        x = torch.randn(2048, 2048)
        images, weight = torch.randn(64, 1024, 16, 16), torch.randn(1024, 1024, 1, 1)
        print(json.dumps({"side": "sgemm", "gflop_per_s": rate(lambda: x @ x, 2 * 2048**3, 5),
                          "onednn_gflop_per_s": rate(lambda: torch.nn.functional.conv2d(images, weight),
                                                     2 * 64 * 256 * 1024 * 1024, 3)}))
        return
    d = a.dataset
    def prep(x):
        x = torch.from_numpy(x.astype(np.float32) / 255.0)
        if a.resize:  # as nodes/trainer.cpp: resized, then normalised; 3 channels at batch time
            x = torch.nn.functional.interpolate(x, size=(a.resize, a.resize), mode="bilinear", align_corners=False)
        return (x - MEAN) / STD
    train_x = prep(idx(os.path.join(d, "train-images-idx3-ubyte.gz"), a.train_n, True)).to(dev)
    train_y = torch.from_numpy(idx(os.path.join(d, "train-labels-idx1-ubyte.gz"), a.train_n,
                                   False).astype(np.int64)).to(dev)
    test_x = prep(idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"), a.test_n, True)).to(dev)
    test_y = torch.from_numpy(idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"), a.test_n, False).astype(np.int64)).to(dev)
    torch.manual_seed(1)
    if a.arch.startswith("vgg"):
        model = vgg(int(a.arch[3:]), a.width, a.resize or 28, a.batch_norm)
    elif a.arch.startswith("resnet"):
        model = resnet(int(a.arch[6:]), a.width)
    else:
        model = simple_cnn(a.blocks, a.channels)
    model = model.to(dev)
    memory = torch.channels_last if a.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    cin = 3 if a.resize else 1

    def net_input(x):
        return x.expand(-1, cin, -1, -1).contiguous(memory_format=memory) if cin > x.size(1) or a.channels_last else x

    def autocast(cache=True):
        if not a.bf16:
            return contextlib.nullcontext()
        return torch.autocast(a.device.split(":")[0], dtype=torch.bfloat16, cache_enabled=cache)

    def loss_of(i):
        with autocast(cache=not a.graphs):
            return torch.nn.functional.cross_entropy(model(net_input(train_x.index_select(0, i))),
                                                     train_y.index_select(0, i))

    graph, static_idx, static_loss = None, None, None
    for epoch in range(1, a.epochs + 1):
        sync()
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(len(train_x), device=dev)
        total, batches = 0.0, 0
        if a.graphs:
            sums = torch.zeros((), dtype=torch.float64, device=dev)
            for b in range(len(train_x) // a.batch):
                i = order[b * a.batch:(b + 1) * a.batch]
                if graph is None and b < 3:  # warm-up on a side stream, then capture the whole step
                    side = torch.cuda.Stream()
                    side.wait_stream(torch.cuda.current_stream())
                    with torch.cuda.stream(side):
                        opt.zero_grad(set_to_none=True)
                        loss = loss_of(i)
                        loss.backward()
                        opt.step()
                        sums += loss.detach()
                    torch.cuda.current_stream().wait_stream(side)
                    continue
                if graph is None:
                    static_idx = i.clone()
                    graph = torch.cuda.CUDAGraph()
                    opt.zero_grad(set_to_none=True)
                    with torch.cuda.graph(graph):
                        static_loss = loss_of(static_idx)
                        static_loss.backward()
                        opt.step()
                static_idx.copy_(i)
                graph.replay()
                sums += static_loss.detach()
            batches = len(train_x) // a.batch
            total = sums.item()
        else:
            for start in range(0, len(train_x), a.batch):
                i = order[start:start + a.batch]
                opt.zero_grad()
                loss = loss_of(i)
                total += loss.item()
                batches += 1
                loss.backward()
                opt.step()
        sync()
        t1 = time.perf_counter()
        model.eval()
        correct = 0
        with torch.no_grad(), autocast():
            for start in range(0, len(test_x), 1024):
                logits = model(net_input(test_x[start:start + 1024]))
                correct += (logits.argmax(1) == test_y[start:start + 1024]).sum().item()
        sync()
        t2 = time.perf_counter()
        print(json.dumps({"side": "pytorch", "epoch": epoch, "train_images_per_s": len(train_x) / (t1 - t0),
                          "eval_images_per_s": len(test_x) / (t2 - t1), "loss": total / batches,
                          "accuracy": correct / len(test_x)}))


if __name__ == "__main__":
    main()
