#!/usr/bin/env python3
"""A small CNN for 28 x 28 grey images (Fashion-MNIST, MNIST), saved as TorchScript for
[model] family = "torchscript" (docs/models.md). Run with Debian's python3-torch:
    /usr/bin/python3 docs/example_net.py [OUT.pt]
"""
import sys

import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Linear(8 * 14 * 14, 10)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


torch.jit.save(torch.jit.script(Net()), sys.argv[1] if len(sys.argv) > 1 else "net.pt")
