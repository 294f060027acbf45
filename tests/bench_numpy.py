"""P2 of tests/bench.c in numpy, to time nn.h against a BLAS in one run.

One epoch over Fashion-MNIST (DIR, default build/fashion-mnist; `make
fashion-mnist-data`), 784-128-10, ReLU hidden, softmax + cross-entropy,
batches of 64 in a fixed order, plain SGD at learning rate 0.1, float32:
the median of 5 runs and the test accuracy, as bench.c's P2 line.  The
weights start He-normal from numpy's generator, not from nn.h's, so the
accuracy is near nn.h's, not equal.  numpy's matrix products are its
BLAS's: with Debian's libopenblas0-pthread installed, OpenBLAS (set
OPENBLAS_NUM_THREADS=1 to compare with one core).

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/bench_numpy.py [DIR]
Not a test: it asserts nothing."""
import sys
import time

import numpy as np

RUNS = 5


def idx(path, header):
    return np.fromfile(path, dtype=np.uint8)[header:]


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "build/fashion-mnist"
    x_all = idx(d + "/train-images-idx3-ubyte", 16).reshape(60000, 784).astype(np.float32) / 255
    y_all = idx(d + "/train-labels-idx1-ubyte", 8).astype(np.int64)
    tx = idx(d + "/t10k-images-idx3-ubyte", 16).reshape(10000, 784).astype(np.float32) / 255
    ty = idx(d + "/t10k-labels-idx1-ubyte", 8).astype(np.int64)
    lr = np.float32(0.1)
    times = []
    for _ in range(RUNS):
        rng = np.random.default_rng(42)
        w1 = (rng.standard_normal((128, 784)) * np.sqrt(2 / 784)).astype(np.float32)
        w2 = (rng.standard_normal((10, 128)) * np.sqrt(2 / 128)).astype(np.float32)
        b1 = np.zeros(128, np.float32)
        b2 = np.zeros(10, np.float32)
        t0 = time.perf_counter()
        for s in range(0, 60000, 64):
            x, y = x_all[s:s + 64], y_all[s:s + 64]
            z1 = x @ w1.T + b1
            a1 = np.maximum(z1, 0)
            z2 = a1 @ w2.T + b2
            p = np.exp(z2 - z2.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(len(y)), y] -= 1
            dz2 = p / len(y)  # d(mean cross-entropy)/dz2
            dz1 = (dz2 @ w2) * (z1 > 0)
            w2 -= lr * (dz2.T @ a1)
            b2 -= lr * dz2.sum(axis=0)
            w1 -= lr * (dz1.T @ x)
            b1 -= lr * dz1.sum(axis=0)
        times.append(time.perf_counter() - t0)
    acc = ((np.maximum(tx @ w1.T + b1, 0) @ w2.T + b2).argmax(axis=1) == ty).mean()
    t = sorted(times)[RUNS // 2]
    print("numpy P2 %.3f s/epoch %.0f samples/s acc %.4f" % (t, 60000 / t, acc))


if __name__ == "__main__":
    main()
