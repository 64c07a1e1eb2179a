"""PyTorch peer for the engine sweep: samples/s of the same MLP (32 -> W -> W -> 1, ReLU, logistic loss, Adam 1e-3)
at each (batch, width) cell, on the CPU and, when torch.cuda.is_available(), on CUDA.

Usage: python3 torch_sweep.py TRAIN.f32 WINDOW_SECONDS THREADS CELLS
CELLS is "batch:width,batch:width,...". Prints one JSON line per (device, cell), then {"done": true}.
Each cell: untimed warm-up steps, then steps until WINDOW_SECONDS pass; the loss comes back to the host every step
(as the Ctm engines return theirs), which also makes CUDA's clock honest.
"""
import json
import sys
import time

import torch
from torch import nn

FEATURES = 32


def main():
    path, window, threads, cells = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    torch.manual_seed(42)
    torch.set_num_threads(threads)
    # No numpy: the GPU machine may have torch alone.
    with open(path, "rb") as f:
        raw = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(-1, FEATURES + 1)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(json.dumps({"torch": torch.__version__, "devices": devices,
                      "cuda_device": torch.cuda.get_device_name(0) if "cuda" in devices else None}), flush=True)
    for device in devices:
        x_all = raw[:, :FEATURES].contiguous().to(device)
        y_all = raw[:, FEATURES:].contiguous().to(device)
        n = x_all.shape[0]
        for cell in cells.split(","):
            batch, width = (int(v) for v in cell.split(":"))
            model = nn.Sequential(nn.Linear(FEATURES, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                                  nn.Linear(width, 1)).to(device)
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
            loss_fn = nn.BCEWithLogitsLoss()
            order = torch.randperm(n, device=device)
            steps_per_epoch = max(1, n // batch)

            def step(i):
                idx = order[(i % steps_per_epoch) * batch:(i % steps_per_epoch + 1) * batch]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(x_all[idx]), y_all[idx])
                loss.backward()
                optimizer.step()
                return loss.item(), len(idx)

            i = 0
            warm = time.perf_counter()
            while time.perf_counter() - warm < min(0.3, window) or i < 3:
                step(i)
                i += 1
            start = time.perf_counter()
            samples = 0
            while True:
                _, rows = step(i)
                i += 1
                samples += rows
                elapsed = time.perf_counter() - start
                if elapsed >= window:
                    break
            print(json.dumps({"device": device, "batch": batch, "width": width,
                              "samples_per_sec": samples / elapsed}), flush=True)
    print(json.dumps({"done": True}), flush=True)


if __name__ == "__main__":
    main()
