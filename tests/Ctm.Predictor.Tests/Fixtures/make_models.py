"""Exports the framework-made models the Predictor's tests serve, and records PyTorch's own answers.

Run once with Debian's python3-torch (1.13): /usr/bin/python3 tests/Ctm.Predictor.Tests/Fixtures/make_models.py
It writes <name>.onnx and <name>.json (the inputs fed and torch's outputs, flattened row-major with their shapes)
next to itself. ONNX Runtime's Python package is not installed here, so the tests compare the Predictor's answers
with torch's within float tolerance, and with ONNX Runtime's own (OnnxSession in the test) exactly.
"""
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(7)


class ConvNet(torch.nn.Module):
    """Rank 4 in (N, 3, 8, 8), two outputs: class scores (N, 4) and the feature map (N, 2, 4, 4)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 2, kernel_size=3, padding=1)
        self.pool = torch.nn.MaxPool2d(2)
        self.head = torch.nn.Linear(2 * 4 * 4, 4)

    def forward(self, image):
        features = self.pool(torch.relu(self.conv(image)))
        return self.head(features.flatten(1)), features


class Sequence(torch.nn.Module):
    """Rank 3 in (N, T, 5) with N and T symbolic: per-step outputs (N, T, 2) and their mean over time (N, 2)."""

    def __init__(self):
        super().__init__()
        self.step = torch.nn.Linear(5, 2)

    def forward(self, steps):
        y = torch.tanh(self.step(steps))
        return y, y.mean(dim=1)


class Tokens(torch.nn.Module):
    """int64 token ids (N, L) and a bool mask (N, L): masked mean of embeddings → (N, 3) scores and an int64 count."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(10, 3)

    def forward(self, ids, mask):
        weights = mask.to(torch.float32).unsqueeze(-1)
        total = (self.embed(ids) * weights).sum(dim=1)
        count = mask.to(torch.int64).sum(dim=1)
        return total / count.clamp(min=1).unsqueeze(-1).to(torch.float32), count


class Fixed(torch.nn.Module):
    """Fixed shapes only: a (2, 5) matrix and a (3,) vector that share no row dimension → (2, 3)."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(5, 3))

    def forward(self, a, b):
        return a @ self.weight + b


def export(name, model, inputs, input_names, output_names, dynamic_axes):
    model.eval()
    path = os.path.join(HERE, name + ".onnx")
    torch.onnx.export(model, inputs, path, input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic_axes, opset_version=13, do_constant_folding=True)
    with torch.no_grad():
        outputs = model(*inputs)
    if isinstance(outputs, torch.Tensor):
        outputs = (outputs,)
    record = {
        "inputs": {n: tensor_json(t) for n, t in zip(input_names, inputs)},
        "outputs": {n: tensor_json(t) for n, t in zip(output_names, outputs)},
    }
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(record, f, indent=1)


def tensor_json(t):
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": t.flatten().tolist()}


export("torch_conv", ConvNet(), (torch.randn(2, 3, 8, 8),), ["image"], ["scores", "features"],
       {"image": {0: "N"}, "scores": {0: "N"}, "features": {0: "N"}})
export("torch_sequence", Sequence(), (torch.randn(2, 4, 5),), ["steps"], ["per_step", "mean"],
       {"steps": {0: "N", 1: "T"}, "per_step": {0: "N", 1: "T"}, "mean": {0: "N"}})
export("torch_tokens", Tokens(), (torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0], [9, 9, 9, 9]]),
                                  torch.tensor([[True, True, True, False], [True, True, False, False], [True, False, True, False]])),
       ["ids", "mask"], ["scores", "count"], {"ids": {0: "N"}, "mask": {0: "N"}, "scores": {0: "N"}, "count": {0: "N"}})
export("torch_fixed", Fixed(), (torch.randn(2, 5), torch.randn(3)), ["a", "b"], ["y"], None)
