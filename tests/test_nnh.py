"""make python: examples/nnh.py against nn.h (tests/nnh_helper.c, built in
float and in double) and the real PyTorch.
    python3 tests/test_nnh.py BUILD_DIR CC
Ends with "N passed, N failed"."""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
import numpy as np  # noqa: E402
import torch  # noqa: E402

import nnh  # noqa: E402

build, cc = sys.argv[1], sys.argv[2]
helper = {4: os.path.join(build, "nnh", "helper_float"), 8: os.path.join(build, "nnh", "helper_double")}
passed = failed = 0
tmp = tempfile.mkdtemp(prefix="nnh-")


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAILED: " + what)


def run(*args):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("%s failed:\n%s%s" % (" ".join(map(str, args)), r.stdout[-2000:], r.stderr[-2000:]))
    return r.stdout


def doubles(path):
    with open(path, "rb") as f:
        data = f.read()
    return np.frombuffer(data, dtype="<f8")


def write_doubles(path, v):
    np.asarray(v, dtype="<f8").tofile(path)


def rel_err(a, b):
    """the largest |a - b| / max(|b|, 1)"""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1.0))) if a.size else 0.0


CODES = {0: "OK", -1: "NOMEM", -2: "INVALID", -5: "NOT_MODEL", -6: "VERSION", -7: "TRUNCATED",
         -8: "CORRUPT", -9: "TRAILING", -10: "UNSUPPORTED"}


def code_of(data):
    try:
        nnh.loads(data)
        return "OK"
    except nnh.NnhError as e:
        return e.code


# ---- the generator's seeding is nn_rng_seed's
for seed in (0, 1, 12345):
    state, inc = map(int, run(helper[4], "seed", seed).split())
    check(nnh.rng_seed(seed) == (state, inc), "rng_seed(%d)" % seed)

# ---- round trips and predictions, every kind of model nn.h writes
worst = {4: 0.0, 8: 0.0}
worst_torch = {4: 0.0, 8: 0.0}
for size in (4, 8):
    d = os.path.join(tmp, str(size))
    os.makedirs(d)
    count = int(run(helper[size], "gen", d))
    check(count == 24, "helper gen made 24 models")
    flags_seen = set()
    for k in range(count):
        path = os.path.join(d, "m%d.nn" % k)
        with open(path, "rb") as f:
            data = f.read()
        m = nnh.loads(data)
        flags_seen.add((m.shift is not None, m.class_weights is not None, m.opt is not None))
        check(nnh.dumps(m) == data, "m%d (%d-byte reals): written back byte for byte" % (k, size))
        check(m.real_size == size, "m%d: real size" % k)
        x = doubles(os.path.join(d, "m%d.x" % k)).reshape(-1, m.sizes[0])
        y = doubles(os.path.join(d, "m%d.y" % k)).reshape(-1, m.sizes[-1])
        worst[size] = max(worst[size], rel_err(nnh.predict(m, x), y))
        if k < 4:  # without numpy: the same sums in plain Python
            check(rel_err(nnh._predict_lists(m, x.tolist()), nnh.predict(m, x)) <= 1e-14,
                  "m%d: predict without numpy" % k)
        seq = nnh.to_torch(m)
        with torch.no_grad():
            yt = seq(torch.tensor(x, dtype=torch.float32 if size == 4 else torch.float64))
        worst_torch[size] = max(worst_torch[size], rel_err(yt.numpy(), y))
        # back through from_torch: the same net (no optimizer state)
        back = nnh.from_torch(seq)
        check(back.sizes == m.sizes and back.acts == m.acts and list(back.params) == list(m.params)
              and back.opt is None, "m%d: from_torch(to_torch(m)) is m's net" % k)
    check(len(flags_seen) >= 6, "models with and without scaling, class weights and optimizer state")
tol = {4: 1e-6, 8: 1e-12}
for size in (4, 8):
    print("%d-byte files: nnh.predict within %.2g of nn_predict, to_torch within %.2g"
          % (size, worst[size], worst_torch[size]))
    check(worst[size] <= tol[size], "nnh.predict agrees with nn_predict (%d-byte reals)" % size)
    check(worst_torch[size] <= tol[size], "to_torch agrees with nn_predict (%d-byte reals)" % size)

# ---- a version-1 file (nn.h reads it; nnh reads and writes it alike)
with open(os.path.join(tmp, "4", "m0.nn"), "rb") as f:
    v2 = f.read()
m = nnh.loads(v2)
check(m.shift is None, "m0 has no scaling, so it can be a version-1 file")
v1 = v2[:8] + struct.pack("<I", 1) + v2[12:-4]
v1 += struct.pack("<I", zlib.crc32(v1))
m1 = nnh.loads(v1)
check(m1.version == 1 and nnh.dumps(m1) == v1, "a version-1 file reads and writes back")
p1 = os.path.join(tmp, "v1.nn")
with open(p1, "wb") as f:
    f.write(v1)
write_doubles(os.path.join(tmp, "v1.x"), doubles(os.path.join(tmp, "4", "m0.x")))
run(helper[4], "load", p1, os.path.join(tmp, "v1.x"), os.path.join(tmp, "v1.y"))
check(np.array_equal(doubles(os.path.join(tmp, "v1.y")), doubles(os.path.join(tmp, "4", "m0.y"))),
      "nn.h loads the version-1 file and predicts as before")

# ---- every prefix and every one-byte change: nnh's reason is nn.h's
for size, k in ((4, 3), (8, 5), (4, 1)):
    path = os.path.join(tmp, str(size), "m%d.nn" % k)
    with open(path, "rb") as f:
        data = bytearray(f.read())
    lines = run(helper[size], "damage", path).splitlines()
    same = differ = 0
    for line in lines:
        f = line.split()
        if f[0] == "t":
            want, got = CODES[int(f[2])], code_of(bytes(data[: int(f[1])]))
            same += want == got
            differ += want != got
            continue
        at = int(f[1])
        was = data[at]
        for v, c in enumerate(f[2:]):
            if v == was:
                continue
            data[at] = v
            want, got = CODES[int(c)], code_of(bytes(data))
            if want != got and differ < 5:
                print("  byte %d = %d: nn.h %s, nnh %s" % (at, v, want, got))
            same += want == got
            differ += want != got
        data[at] = was
    print("m%d (%d-byte reals, %d bytes): %d damaged files, %d with another reason"
          % (k, size, len(data), same + differ, differ))
    check(differ == 0 and same > 255 * len(data), "m%d: every damaged file refused as nn.h does" % k)

# ---- from_torch: refusals that name the module
for bad, name in ((torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Dropout(0.1)), "Dropout"),
                  (torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LeakyReLU(0.2)), "LeakyReLU"),
                  (torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Softmax(dim=0)), "Softmax"),
                  (torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(5, 2)), "Linear"),
                  (torch.nn.Sequential(torch.nn.ReLU()), "ReLU"),
                  (torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.GELU()), "GELU")):
    try:
        nnh.from_torch(bad)
        check(False, "from_torch refuses %s" % name)
    except ValueError as e:
        check(name in str(e), "from_torch's message names %s: %s" % (name, e))

# ---- a net trained in PyTorch on digits, in nn.h and in its C header
rows = np.loadtxt("examples/data/digits.csv", delimiter=",", skiprows=1)
x_all, y_all = rows[:, :64].astype(np.float32), rows[:, 64].astype(np.int64)
xtr, ytr, xte, yte = x_all[:1437], y_all[:1437], x_all[1437:], y_all[1437:]
torch.manual_seed(0)
seq = torch.nn.Sequential(nnh.scaling_module([0.0] * 64, [1 / 16] * 64), torch.nn.Linear(64, 32),
                          torch.nn.ReLU(), torch.nn.Linear(32, 10))
opt = torch.optim.Adam(seq.parameters(), lr=0.01)
for epoch in range(150):
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(seq(torch.tensor(xtr)), torch.tensor(ytr))
    loss.backward()
    opt.step()
seq.append(torch.nn.Softmax(dim=-1))  # nn.h's classifier ends in softmax
with torch.no_grad():
    acc_torch = float((seq(torch.tensor(xte)).argmax(1).numpy() == yte).mean())
model = nnh.from_torch(seq)
path = os.path.join(tmp, "digits_torch.nn")
nnh.save(model, path)
acc_c = float(run(helper[4], "accuracy", path, "examples/data/digits.csv", 1437, 1797))
hdr = os.path.join(tmp, "digits_torch.h")
run(helper[4], "export", path, hdr, "digits")
prog = os.path.join(tmp, "header_acc.c")
with open(prog, "w") as f:
    f.write('#include <stdio.h>\n#include "digits_torch.h"\nint main(void) {\n'
            '    float x[64];\n    int label, right = 0, n = 0, i;\n'
            '    for (;;) {\n'
            '        for (i = 0; i < 64; i++) if (scanf("%f,", &x[i]) != 1) break;\n'
            '        if (i < 64 || scanf("%d", &label) != 1) break;\n'
            '        right += digits_classify(x) == label;\n'
            '        n++;\n    }\n'
            '    printf("%.6f\\n", (double)right / n);\n    return 0;\n}\n')
run(*cc.split(), "-std=c99", "-O2", "-Wall", "-Werror", "-I", tmp, "-o", prog[:-2], prog, "-lm")
test_csv = "\n".join(",".join("%g" % v for v in r) for r in rows[1437:])
acc_h = float(subprocess.run([prog[:-2]], input=test_csv, capture_output=True, text=True,
                             check=True).stdout)
print("digits trained in PyTorch: test accuracy %.4f in PyTorch, %.4f in nn.h, %.4f in its C header"
      % (acc_torch, acc_c, acc_h))
check(acc_torch > 0.85, "PyTorch learned digits")
check(abs(acc_c - acc_torch) < 1e-9 and abs(acc_h - acc_torch) < 1e-9,
      "nn.h and the exported header give PyTorch's test accuracy")

# ---- ONNX from to_torch's Sequential, as the README shows
net = nnh.to_torch(nnh.load(path))
torch.onnx.export(net, torch.zeros(1, 64), os.path.join(tmp, "digits.onnx"))
check(os.path.getsize(os.path.join(tmp, "digits.onnx")) > 1000, "torch.onnx.export writes the net")
# torch.save keeps the input scaling module, and torch.load finds it again
torch.save(net, os.path.join(tmp, "digits.pt"))
again = torch.load(os.path.join(tmp, "digits.pt"))
with torch.no_grad():
    check(torch.equal(again(torch.tensor(xte)), net(torch.tensor(xte))), "torch.save and load of to_torch's net")

# ---- the README's two programs
def block(mark):
    lines, on, inside = [], False, False
    for line in open("README.md", encoding="utf-8"):
        line = line.rstrip("\n")
        if line == "<!-- %s -->" % mark:
            on = True
        elif on and line.startswith("```"):
            if inside:
                break
            inside = True
        elif inside:
            lines.append(line)
    return "\n".join(lines) + "\n"


shutil.copy(path, os.path.join(tmp, "model.nn"))
for mark in ("nnh: from nn.h to PyTorch", "nnh: from PyTorch to nn.h"):
    code = block(mark)
    check(len(code) > 50, "README.md has the block %s" % mark)
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp, capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=os.path.abspath("examples")))
    check(r.returncode == 0, "README.md's program '%s' runs: %s" % (mark, r.stderr[-500:]))
check(nnh.load(os.path.join(tmp, "from_torch.nn")).sizes == [4, 16, 3],
      "the README's PyTorch program writes a model nnh reads")

shutil.rmtree(tmp)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
