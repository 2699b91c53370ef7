"""Writes packages/data/test/fixtures/torch-data.json with Debian's PyTorch 1.13.

    /usr/bin/python3 tools/torch-fixtures/data.py

What torch.utils.data does with a seeded generator, for the tests to compare
with bit for bit:

- random_split: the indices of every Subset, for lengths given as counts and
  as fractions (floor, then the remainder handed out one by one, round-robin),
  with a generator and with the default one after torch.manual_seed; the
  10,000-digit MNIST split (8,000 / 2,000 from Generator().manual_seed(0))
  in full.
- shuffling: the epochs of the loop `for epoch ...: order = torch.randperm(n,
  generator=g)` (one permutation an epoch, the order DataLoader(shuffle=True,
  rng) gives here; tools/torch-fixtures/mnist.py shuffles the same way), and
  the first epoch of RandomSampler(data, generator=g), which is that loop's
  first permutation. (From its second epoch on, PyTorch 1.13's RandomSampler
  is one permutation further along: at the end of each epoch it draws a
  permutation for the `num_samples % n` remainder and slices none of it.)
"""
import torch
from torch.utils.data import RandomSampler, random_split

from common import write


def split_case(n, lengths, seed, default_generator=False):
    if default_generator:
        torch.manual_seed(seed)
        parts = random_split(range(n), lengths)
    else:
        parts = random_split(range(n), lengths, generator=torch.Generator().manual_seed(seed))
    return {
        "n": n,
        "lengths": lengths,
        "seed": seed,
        "defaultGenerator": default_generator,
        "subsets": [[int(i) for i in part.indices] for part in parts],
    }


def shuffle_case(n, seed, epochs):
    g = torch.Generator().manual_seed(seed)
    loop = [[int(i) for i in torch.randperm(n, generator=g)] for _ in range(epochs)]
    sampler = RandomSampler(range(n), generator=torch.Generator().manual_seed(seed))
    return {"n": n, "seed": seed, "epochs": loop, "randomSamplerFirstEpoch": [int(i) for i in sampler]}


def main():
    splits = [
        split_case(10, [3, 7], 42),
        split_case(30, [0.3, 0.3, 0.4], 42),
        split_case(10, [0.25, 0.25, 0.5], 1),   # floor gives 2, 2, 5: the remainder 1 goes to the first
        split_case(7, [0.5, 0.5], 3),           # 3, 3 and a remainder of 1
        split_case(11, [0.1, 0.2, 0.3, 0.4], 5),  # 1, 2, 3, 4 and a remainder of 1
        split_case(5, [1], 0),                  # a single 1 sums to 1: read as a fraction, all 5 items
        split_case(6, [0, 6], 9),
        split_case(10, [5, 5], 7, default_generator=True),
        split_case(10_000, [8_000, 2_000], 0),  # apps/mnist's split
    ]
    shuffles = [shuffle_case(10, 3, 3), shuffle_case(103, 1, 2)]
    write("data", "torch-data", {"randomSplit": splits, "shuffle": shuffles})


if __name__ == "__main__":
    main()
