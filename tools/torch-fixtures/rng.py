"""Reference sequences for packages/ndarray/src/random (TorchGenerator, NumpyRandomState).

Writes packages/ndarray/test/fixtures/random.json. Run with Debian's PyTorch 1.13
and numpy 1.24:

    /usr/bin/python3 tools/torch-fixtures/rng.py

The torch values are what torch's AVX2/AVX512 CPU kernels produce (any x86-64
with AVX2, on Linux/glibc); torch's DEFAULT kernels round uniform_(a, b) and
float32 randn differently, so regenerate on such a machine.

torch seeds are written as decimal strings (the test reads them with BigInt) so
that seeds above 2^53 survive JSON. Every torch case reseeds with
torch.manual_seed, so the cases do not depend on one another; the "sequence"
cases chain several calls after one seed on purpose.
"""
import math

import numpy as np
import torch

from common import tensor, write

TORCH_SEEDS = [0, 42, 2**40 + 3]
RAND_SIZES = [1, 5, 15, 16, 17, 33, 100]
RANDN_SIZES = [1, 5, 15, 16, 17, 31, 33, 100]
DTYPES = {"float32": torch.float32, "float64": torch.float64}
# A Kaiming-style bound: not a power of two, so from/to/range all round.
BOUND = 1 / math.sqrt(3)


def torch_cases():
    rand, randn, randperm, sequences = [], [], [], []

    for seed in TORCH_SEEDS:
        for name, dtype in DTYPES.items():
            for n in RAND_SIZES:
                torch.manual_seed(seed)
                rand.append({"seed": str(seed), "n": n, "dtype": name, "low": 0.0, "high": 1.0,
                             "values": tensor(torch.rand(n, dtype=dtype))})
            for n in (5, 17, 100):
                torch.manual_seed(seed)
                values = torch.empty(n, dtype=dtype).uniform_(-BOUND, BOUND)
                rand.append({"seed": str(seed), "n": n, "dtype": name, "low": -BOUND, "high": BOUND,
                             "values": tensor(values)})
            for n in RANDN_SIZES:
                torch.manual_seed(seed)
                randn.append({"seed": str(seed), "n": n, "dtype": name, "mean": 0.0, "std": 1.0,
                              "values": tensor(torch.randn(n, dtype=dtype))})
            for n in (5, 33):
                torch.manual_seed(seed)
                values = torch.empty(n, dtype=dtype).normal_(0.3, 1.7)
                randn.append({"seed": str(seed), "n": n, "dtype": name, "mean": 0.3, "std": 1.7,
                              "values": tensor(values)})

    # A long float32 randn: many blocks of the AVX2 kernel, plus a tail.
    torch.manual_seed(1234)
    randn.append({"seed": "1234", "n": 4099, "dtype": "float32", "mean": 0.0, "std": 1.0,
                  "values": tensor(torch.randn(4099))})
    torch.manual_seed(1234)
    randn.append({"seed": "1234", "n": 1001, "dtype": "float64", "mean": 0.0, "std": 1.0,
                  "values": tensor(torch.randn(1001, dtype=torch.float64))})

    # A seed above 2^53: only its low 32 bits reach MT19937.
    big = 2**63 + 5
    torch.manual_seed(big)
    rand.append({"seed": str(big), "n": 5, "dtype": "float32", "low": 0.0, "high": 1.0,
                 "values": tensor(torch.rand(5))})

    for seed in (0, 42):
        for n in (1, 2, 10, 1000, 10000):
            torch.manual_seed(seed)
            randperm.append({"seed": str(seed), "n": n, "values": tensor(torch.randperm(n))})

    # The seed notebook: two draws in a row from one seed.
    torch.manual_seed(42)
    a = torch.rand(5, 1)
    b = torch.rand(5, 1)
    sequences.append({"name": "manual_seed(42); rand(5, 1); rand(5, 1)", "seed": "42",
                      "calls": [{"op": "rand", "dtype": "float32", "values": tensor(a)},
                                {"op": "rand", "dtype": "float32", "values": tensor(b)}]})

    # The scalar normal path caches the sine half of each Box-Muller pair in the
    # generator; the vectorised path (n >= 16) neither uses nor clears it.
    torch.manual_seed(7)
    calls = []
    for op, n, dtype in [("randn", 1, "float64"), ("randn", 1, "float64"), ("randn", 3, "float32"),
                         ("randn", 20, "float32"), ("randn", 1, "float32"), ("rand", 2, "float64"),
                         ("randn", 2, "float64"), ("randn", 16, "float64"), ("randn", 5, "float64")]:
        fn = torch.randn if op == "randn" else torch.rand
        calls.append({"op": op, "dtype": dtype, "values": tensor(fn(n, dtype=DTYPES[dtype]))})
    sequences.append({"name": "manual_seed(7); mixed randn/rand calls", "seed": "7", "calls": calls})

    fresh = torch.Generator()
    default = {"initial_seed": str(fresh.initial_seed()),
               "rand": tensor(torch.rand(5, generator=fresh))}

    return {"rand": rand, "randn": randn, "randperm": randperm, "sequences": sequences,
            "default_generator": default}


def as_tensor(array):
    return tensor(torch.from_numpy(np.ascontiguousarray(array)))


def numpy_cases():
    cases = []
    for seed in (0, 42):
        np.random.seed(seed)
        cases.append({"seed": seed, "op": "random_sample", "n": 100,
                      "values": as_tensor(np.random.random_sample(100))})
        np.random.seed(seed)
        cases.append({"seed": seed, "op": "randn", "n": 101, "values": as_tensor(np.random.randn(101))})
        np.random.seed(seed)
        cases.append({"seed": seed, "op": "uniform", "n": 10, "low": -2.5, "high": 4.0,
                      "values": as_tensor(np.random.uniform(-2.5, 4.0, 10))})
        np.random.seed(seed)
        cases.append({"seed": seed, "op": "normal", "n": 10, "mean": 1.5, "std": 0.5,
                      "values": as_tensor(np.random.normal(1.5, 0.5, 10))})
        for high in (1, 2, 3, 10, 100, 1000, 2**31 + 7, 2**32):
            np.random.seed(seed)
            cases.append({"seed": seed, "op": "randint", "n": 20, "high": high,
                          "values": [int(v) for v in np.random.randint(0, high, size=20)]})

    # An array seed goes through init_by_array.
    np.random.seed([1, 2, 3])
    array_seed = {"seed": [1, 2, 3], "values": as_tensor(np.random.random_sample(5))}

    # The seed notebook: one seed, three calls in a row.
    np.random.seed(0)
    notebook = [as_tensor(np.random.random_sample(10)), as_tensor(np.random.random_sample(5)),
                as_tensor(np.random.random_sample((10, 5)))]

    # legacy_gauss keeps the second value of a pair across calls.
    np.random.seed(3)
    gauss_calls = [as_tensor(np.random.randn(n)) for n in (1, 1, 3, 2)]

    return {"cases": cases, "array_seed": array_seed, "notebook": notebook,
            "gauss_calls": {"seed": 3, "sizes": [1, 1, 3, 2], "values": gauss_calls}}


if __name__ == "__main__":
    write("ndarray", "random", {"numpy_version": np.__version__,
                                "torch": torch_cases(), "numpy": numpy_cases()})
