"""Writes test/fixtures/onnx/: small models exported by PyTorch's own torch.onnx.export (opset 17,
the highest torch 1.13 supports) plus their inputs and PyTorch's outputs, for test/onnx/import.test.ts.
Run with Debian's python3-torch 1.13: /usr/bin/python3 scripts/fixtures_onnx.py"""
import json
import os
import zlib

import torch
from torch import nn

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "onnx")


def seed(name):
    torch.manual_seed(zlib.crc32(name.encode()))


def mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3), nn.LogSoftmax(-1)), (5, 6)


def cnn():
    m = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=1, padding=1, bias=False),
        nn.BatchNorm2d(6),
        nn.Sigmoid(),
        nn.AvgPool2d(2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(6, 3),
    )
    for b in (m[1], m[5]):
        b.running_mean.uniform_(-0.5, 0.5)
        b.running_var.uniform_(0.5, 2.0)
        b.weight.data.uniform_(0.5, 1.5)
        b.bias.data.uniform_(-0.5, 0.5)
    return m, (3, 2, 8, 8)


class LstmClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 5, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Linear(10, 3)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def lstm():
    return LstmClassifier(), (3, 6, 4)


class GruClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 5, num_layers=2, bidirectional=True)
        self.head = nn.Linear(10, 3)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(out[-1])


def gru():
    # Time-major: dim 0 is the sequence (6 steps), batch 3.
    return GruClassifier(), (6, 3, 4)


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = {}
    for name, make in (("mlp", mlp), ("cnn", cnn), ("lstm", lstm), ("gru", gru)):
        seed(name)
        model, shape = make()
        model.eval()
        x = torch.randn(*shape)
        with torch.no_grad():
            y = model(x)
        torch.onnx.export(
            model, (x,), os.path.join(OUT, f"{name}.onnx"), opset_version=17,
            input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
        )
        cases[name] = {
            "input": {"shape": list(x.shape), "data": [float(v) for v in x.flatten()]},
            "output": {"shape": list(y.shape), "data": [float(v) for v in y.flatten()]},
        }
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f)


if __name__ == "__main__":
    main()
