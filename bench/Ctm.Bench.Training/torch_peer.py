"""PyTorch peer for the Ctm training benchmark: the same MLP, optimizer, batch size and data file as the C# engine.

Usage: python3 torch_peer.py TRAIN.f32 TEST.f32 EPOCHS THREADS [SEED]
Prints one JSON line: samples_per_sec (training loop only), accuracy on the test file, loss per epoch, BLAS info.
"""
import json
import sys
import time

import numpy as np
import torch
from torch import nn

FEATURES = 32


def load(path):
    raw = np.fromfile(path, dtype=np.float32).reshape(-1, FEATURES + 1)
    return torch.from_numpy(raw[:, :FEATURES].copy()), torch.from_numpy(raw[:, FEATURES:].copy())


def blas_info():
    try:
        from threadpoolctl import threadpool_info
        return [{k: p.get(k) for k in ("internal_api", "architecture", "num_threads", "version")} for p in threadpool_info()]
    except ImportError:
        return "threadpoolctl not installed"


def main():
    train_path, test_path, epochs, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.manual_seed(int(sys.argv[5]) if len(sys.argv) > 5 else 42)
    torch.set_num_threads(threads)
    try:
        # OpenBLAS keeps its own pool beside OpenMP's: hold both to the thread count under test.
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=threads)
    except ImportError:
        pass
    x, y = load(train_path)
    x_test, y_test = load(test_path)
    n = x.shape[0]
    model = nn.Sequential(nn.Linear(FEATURES, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    curve = []
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(n)
        total, batches = 0.0, 0
        for i in range(0, n, 256):
            idx = order[i:i + 256]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        curve.append(total / n)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        accuracy = ((model(x_test) > 0).float() == y_test).float().mean().item()
    print(json.dumps({
        "samples_per_sec": n * epochs / seconds, "seconds": seconds, "accuracy": accuracy, "loss_curve": curve,
        "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_info(),
    }))


if __name__ == "__main__":
    main()
