"""nnh.py: nn.h's model files in Python, and the bridge to PyTorch.

    import nnh
    m = nnh.load("model.nn")        # a Model: sizes, acts, params, ...
    y = nnh.predict(m, x)           # nn.h's forward pass, in double
    seq = nnh.to_torch(m)           # a torch.nn.Sequential computing the same
    m2 = nnh.from_torch(seq)        # and back (Linear and nn.h's activations)
    nnh.save(m2, "back.nn")

Standard library only; predict uses numpy when it is there, to_torch and
from_torch need torch.  It reads every format version nn.h reads (1 and 2)
and writes what it read byte for byte; it refuses what nn_load_mem refuses,
with the same reason (NnhError.code: "NOT_MODEL", "VERSION", "TRUNCATED",
"CORRUPT", "TRAILING" or "UNSUPPORTED").  Values are checked as a build in
the file's own precision checks them.  The format is the comment above
nn_save_size in nn.h.

Optimizer state does not cross to PyTorch: to_torch leaves it behind (a
torch.optim optimizer starts afresh) and from_torch makes a model without
it.
"""
import array
import math
import struct
import sys
import zlib

MAGIC = b"\x89NNH\r\n\x1a\n"
FORMAT_VERSION = 2
FLAG_CLASS_WEIGHTS, FLAG_OPTIMIZER, FLAG_SCALING = 1, 2, 4
HEADER_BYTES = 40
ACTS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "softmax")
OPTS = ("sgd", "adam", "adamw")
LEAKY_RELU_SLOPE = 0.01
MAX_STEPS = 1 << 53
SIZE_MAX = (1 << 64) - 1  # nn.h's size_t on a 64-bit host


class NnhError(ValueError):
    """A model nn.h would refuse; .code names nn.h's reason."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code


class Model:
    """What a model file holds.  params is nn_params' layout: for each layer
    its weights W (n_out x n_in, row-major, as torch.nn.Linear.weight), then
    its biases b.  Reals are array.array ('f' for 4-byte files, 'd' for 8),
    so that they go back to the file bit for bit."""

    def __init__(self, sizes, acts, params, real_size=4, version=FORMAT_VERSION,
                 rng=None, class_weights=None, shift=None, scale=None, opt=None):
        self.sizes = list(sizes)  # n_layers + 1 widths
        self.acts = list(acts)  # one nn_act value per layer (ACTS names them)
        self.real_size = real_size
        self.version = version
        self.rng = rng if rng is not None else rng_seed(0)  # (state, inc)
        self.params = params
        self.class_weights = class_weights  # sizes[-1] reals or None
        self.shift, self.scale = shift, scale  # sizes[0] reals each, or None
        self.opt = opt  # None, or (kind, t, m, v)

    def layer(self, l):
        """(W as a list of rows, b) of layer l"""
        n_in, n_out = self.sizes[l], self.sizes[l + 1]
        at = sum((self.sizes[k] + 1) * self.sizes[k + 1] for k in range(l))
        w = [list(self.params[at + o * n_in: at + (o + 1) * n_in]) for o in range(n_out)]
        return w, list(self.params[at + n_out * n_in: at + (n_in + 1) * n_out])


def rng_seed(seed):
    """nn_rng_seed's state: PCG32's reference seeding on nn.h's stream"""
    mask = (1 << 64) - 1
    inc = ((0x14057B7EF767814F << 1) | 1) & mask
    state = (0 * 6364136223846793005 + inc) & mask
    state = (state + seed) & mask
    state = (state * 6364136223846793005 + inc) & mask
    return state, inc


def param_count(sizes):
    return sum((sizes[l] + 1) * sizes[l + 1] for l in range(len(sizes) - 1))


def _reals(kind, data, at, count):
    a = array.array(kind)
    a.frombytes(data[at: at + count * a.itemsize])
    if sys.byteorder == "big":
        a.byteswap()
    return a


def _real_bytes(kind, values):
    a = array.array(kind, values)
    if sys.byteorder == "big":
        a.byteswap()
    return a.tobytes()


def _finite(values):
    return all(math.isfinite(v) for v in values)


def loads(data):
    """A Model from the bytes of a model file, or NnhError."""
    data = bytes(data)
    n = len(data)
    if n == 0:
        raise NnhError("TRUNCATED", "no data")
    if data[:8] != MAGIC[:min(n, 8)]:
        raise NnhError("NOT_MODEL", "it does not start with nn.h's magic")
    if n < 12:
        raise NnhError("TRUNCATED", "it ends inside the header")
    version, = struct.unpack_from("<I", data, 8)
    if version > FORMAT_VERSION:
        raise NnhError("VERSION", "format version %d; this reads 1 and 2" % version)
    if version == 0:
        raise NnhError("UNSUPPORTED", "format version 0")
    if n < HEADER_BYTES:
        raise NnhError("TRUNCATED", "it ends inside the header")
    real_size, flags, L = struct.unpack_from("<III", data, 12)
    known = FLAG_CLASS_WEIGHTS | FLAG_OPTIMIZER | (FLAG_SCALING if version >= 2 else 0)
    if real_size not in (4, 8) or flags & ~known or L == 0:
        raise NnhError("UNSUPPORTED", "real size %d, flags %#x, %d layers" % (real_size, flags, L))
    head = HEADER_BYTES + 8 * (L + 1) + 4 * L
    if n < head:
        raise NnhError("TRUNCATED", "it ends inside the sizes or activations")
    sizes, P = [], 0
    for i in range(L + 1):
        s, = struct.unpack_from("<Q", data, HEADER_BYTES + 8 * i)
        if s == 0:
            raise NnhError("UNSUPPORTED", "size %d is 0" % i)
        if i > 0:
            P += (sizes[-1] + 1) * s
            if P > SIZE_MAX:
                raise NnhError("TRUNCATED", "more parameters than any data holds")
        sizes.append(s)
    acts = list(struct.unpack_from("<%dI" % L, data, HEADER_BYTES + 8 * (L + 1)))
    if any(a >= len(ACTS) for a in acts):
        raise NnhError("UNSUPPORTED", "an unknown activation")
    n_in, n_out = sizes[0], sizes[-1]
    length = head + P * real_size
    length += n_out * real_size if flags & FLAG_CLASS_WEIGHTS else 0
    length += 2 * n_in * real_size if flags & FLAG_SCALING else 0
    length += 16 + 2 * P * real_size if flags & FLAG_OPTIMIZER else 0
    length += 4
    if length > SIZE_MAX or n < length:
        raise NnhError("TRUNCATED", "it ends before the model does")
    if n > length:
        raise NnhError("TRAILING", "%d bytes follow the model" % (n - length))
    crc, = struct.unpack_from("<I", data, length - 4)
    if zlib.crc32(data[: length - 4]) != crc:
        raise NnhError("CORRUPT", "the CRC-32 does not match")
    kind = "f" if real_size == 4 else "d"
    at = head
    params = _reals(kind, data, at, P)
    at += P * real_size
    class_weights = shift = scale = opt = None
    if flags & FLAG_CLASS_WEIGHTS:
        class_weights = _reals(kind, data, at, n_out)
        at += n_out * real_size
    if flags & FLAG_SCALING:
        shift = _reals(kind, data, at, n_in)
        scale = _reals(kind, data, at + n_in * real_size, n_in)
        at += 2 * n_in * real_size
    if flags & FLAG_OPTIMIZER:
        okind, zero, t = struct.unpack_from("<IIQ", data, at)
        if okind >= len(OPTS) or zero != 0 or t == 0:
            raise NnhError("UNSUPPORTED", "optimizer kind %d, step %d" % (okind, t))
        m = _reals(kind, data, at + 16, P)
        v = _reals(kind, data, at + 16 + P * real_size, P)
        opt = (okind, t, m, v)
    # what the values mean, as nn_load checks them
    if not _finite(params) or (shift is not None and not (_finite(shift) and _finite(scale))):
        raise NnhError("UNSUPPORTED", "a NaN or infinite parameter")
    if class_weights is not None and (not _finite(class_weights) or acts[-1] != 5
                                      or any(c < 0 for c in class_weights)):
        raise NnhError("UNSUPPORTED", "class weights not finite, negative or not on softmax")
    if opt is not None and (not _finite(opt[2]) or not _finite(opt[3]) or t > MAX_STEPS
                            or any(x < 0 for x in opt[3])):
        raise NnhError("UNSUPPORTED", "optimizer state non-finite, negative v, or t > 2^53")
    state, inc = struct.unpack_from("<QQ", data, 24)
    return Model(sizes, acts, params, real_size, version, (state, inc), class_weights,
                 shift, scale, opt)


def dumps(model):
    """The bytes of a model file, as nn_save writes them (in model.version)."""
    m = model
    L = len(m.sizes) - 1
    kind = "f" if m.real_size == 4 else "d"
    if m.real_size not in (4, 8) or L < 1 or len(m.acts) != L:
        raise ValueError("real size 4 or 8, and one activation per layer")
    if len(m.params) != param_count(m.sizes):
        raise ValueError("%d parameters for sizes %s, not %d"
                         % (len(m.params), m.sizes, param_count(m.sizes)))
    scaled = m.shift is not None
    if scaled and m.version < 2:
        raise ValueError("input scaling needs format version 2")
    flags = ((FLAG_CLASS_WEIGHTS if m.class_weights is not None else 0)
             | (FLAG_OPTIMIZER if m.opt is not None else 0) | (FLAG_SCALING if scaled else 0))
    out = [MAGIC, struct.pack("<IIII", m.version, m.real_size, flags, L),
           struct.pack("<QQ", *m.rng), struct.pack("<%dQ" % (L + 1), *m.sizes),
           struct.pack("<%dI" % L, *m.acts), _real_bytes(kind, m.params)]
    if m.class_weights is not None:
        out.append(_real_bytes(kind, m.class_weights))
    if scaled:
        out += [_real_bytes(kind, m.shift), _real_bytes(kind, m.scale)]
    if m.opt is not None:
        okind, t, mm, vv = m.opt
        out += [struct.pack("<IIQ", okind, 0, t), _real_bytes(kind, mm), _real_bytes(kind, vv)]
    body = b"".join(out)
    data = body + struct.pack("<I", zlib.crc32(body))
    loads(data)  # what nn.h would refuse is not written
    return data


def load(path):
    with open(path, "rb") as f:
        return loads(f.read())


def save(model, path):
    data = dumps(model)
    with open(path, "wb") as f:
        f.write(data)


def predict(model, x):
    """nn.h's forward pass in double on rows x (B x sizes[0]): the input
    scaling, then z = x W^T + b and the activation, layer by layer.  A
    numpy array when numpy is there, else lists of floats."""
    try:
        import numpy as np
    except ImportError:
        return _predict_lists(model, x)
    a = np.array(x, dtype=np.float64).reshape(-1, model.sizes[0])
    if model.shift is not None:
        a = (a - np.array(model.shift, np.float64)) * np.array(model.scale, np.float64)
    for l, act in enumerate(model.acts):
        w, b = model.layer(l)
        z = a @ np.array(w, np.float64).T + np.array(b, np.float64)
        if act == 0:
            a = z
        elif act == 1:  # 1 / (1 + e^-z), as e^z / (1 + e^z) below 0
            e = np.exp(-np.abs(z))
            a = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
        elif act == 2:
            a = np.tanh(z)
        elif act == 3:  # !(z <= 0) ? z : 0, which passes NaN on
            a = np.where(z <= 0, 0.0, z)
        elif act == 4:
            a = np.where(z > 0, z, LEAKY_RELU_SLOPE * z)
        else:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
    return a


def _predict_lists(model, x):
    flat = [float(v) for row in x for v in (row if hasattr(row, "__len__") else [row])]
    n_in = model.sizes[0]
    rows = [flat[k: k + n_in] for k in range(0, len(flat), n_in)]
    out = []
    for a in rows:
        if model.shift is not None:
            a = [(v - s) * c for v, s, c in zip(a, model.shift, model.scale)]
        for l, act in enumerate(model.acts):
            w, b = model.layer(l)
            z = [bo + sum(xi * wi for xi, wi in zip(a, wo)) for wo, bo in zip(w, b)]
            if act == 0:
                a = z
            elif act == 1:
                a = [1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))
                     for v in z]
            elif act == 2:
                a = [math.tanh(v) for v in z]
            elif act == 3:
                a = [0.0 if v <= 0 else v for v in z]
            elif act == 4:
                a = [v if v > 0 else LEAKY_RELU_SLOPE * v for v in z]
            else:
                m = max(z)
                e = [math.exp(v - m) for v in z]
                a = [v / sum(e) for v in e]
        out.append(a)
    return out


def _torch():
    import torch
    return torch


_scaling_class = None


def scaling_module(shift, scale, dtype=None):
    """x' = (x - shift) * scale as a torch module, nnh.InputScaling (nn.h's
    input scaling; torch.save keeps it, as nnh is importable)."""
    global _scaling_class, InputScaling
    torch = _torch()
    if _scaling_class is None:
        class InputScaling(torch.nn.Module):
            def __init__(self, shift, scale, dtype=None):
                super().__init__()
                self.register_buffer("shift", torch.tensor(list(shift), dtype=dtype))
                self.register_buffer("scale", torch.tensor(list(scale), dtype=dtype))

            def forward(self, x):
                return (x - self.shift) * self.scale

        InputScaling.__module__ = __name__
        _scaling_class = InputScaling
    return _scaling_class(shift, scale, dtype)


def to_torch(model):
    """A torch.nn.Sequential computing what the net computes: the input
    scaling (when the model has one) as its first module, then per layer
    a Linear with the weights and biases copied and the activation's
    module (none for linear; Softmax(dim=-1))."""
    torch = _torch()
    dtype = torch.float32 if model.real_size == 4 else torch.float64
    mods = []
    if model.shift is not None:
        mods.append(scaling_module(model.shift, model.scale, dtype))
    for l, act in enumerate(model.acts):
        w, b = model.layer(l)
        lin = torch.nn.Linear(model.sizes[l], model.sizes[l + 1], dtype=dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(w, dtype=dtype))
            lin.bias.copy_(torch.tensor(b, dtype=dtype))
        mods.append(lin)
        if act:
            mods.append([None, torch.nn.Sigmoid(), torch.nn.Tanh(), torch.nn.ReLU(),
                         torch.nn.LeakyReLU(LEAKY_RELU_SLOPE), torch.nn.Softmax(dim=-1)][act])
    return torch.nn.Sequential(*mods)


def from_torch(seq, seed=0):
    """A Model from a torch.nn.Sequential of Linear layers, each followed by
    at most one of Sigmoid, Tanh, ReLU, LeakyReLU (slope 0.01), Softmax
    (over the last dimension) or Identity, optionally led by the module
    scaling_module (or to_torch) makes.  Anything else raises ValueError
    naming the module.  float64 weights make an 8-byte file, others a
    4-byte one; the generator is nn_rng_seed(seed)'s."""
    torch = _torch()
    mods = list(seq)
    shift = scale = None
    sizes, acts, params = [], [], []
    real_size = 4

    def where(k, m):
        return "module %d (%s)" % (k, type(m).__name__)

    k = 0
    if mods and hasattr(mods[0], "shift") and hasattr(mods[0], "scale") \
            and not isinstance(mods[0], torch.nn.Linear):
        shift = mods[0].shift.detach().double().tolist()
        scale = mods[0].scale.detach().double().tolist()
        k = 1
    while k < len(mods):
        m = mods[k]
        if not isinstance(m, torch.nn.Linear):
            raise ValueError("from_torch: %s where a Linear layer was expected" % where(k, m))
        if sizes and sizes[-1] != m.in_features:
            raise ValueError("from_torch: %s takes %d inputs after %d outputs"
                             % (where(k, m), m.in_features, sizes[-1]))
        if not sizes:
            sizes.append(m.in_features)
        sizes.append(m.out_features)
        if m.weight.dtype == torch.float64:
            real_size = 8
        params += m.weight.detach().double().flatten().tolist()
        params += (m.bias.detach().double().tolist() if m.bias is not None
                   else [0.0] * m.out_features)
        act = 0
        if k + 1 < len(mods) and not isinstance(mods[k + 1], torch.nn.Linear):
            a = mods[k + 1]
            if isinstance(a, torch.nn.Sigmoid):
                act = 1
            elif isinstance(a, torch.nn.Tanh):
                act = 2
            elif isinstance(a, torch.nn.ReLU):
                act = 3
            elif isinstance(a, torch.nn.LeakyReLU) and a.negative_slope == LEAKY_RELU_SLOPE:
                act = 4
            elif isinstance(a, torch.nn.Softmax) and a.dim in (-1, 1):
                act = 5
            elif not isinstance(a, torch.nn.Identity):
                raise ValueError("from_torch: %s has no nn.h activation (leaky ReLU only with "
                                 "slope 0.01, softmax only over the last dimension)"
                                 % where(k + 1, a))
            k += 1
        acts.append(act)
        k += 1
    if not sizes:
        raise ValueError("from_torch: no Linear layer")
    kind = "f" if real_size == 4 else "d"
    model = Model(sizes, acts, array.array(kind, params), real_size, rng=rng_seed(seed),
                  shift=None if shift is None else array.array(kind, shift),
                  scale=None if scale is None else array.array(kind, scale))
    dumps(model)  # nn.h's checks: finite weights
    return model


def __getattr__(name):
    """nnh.InputScaling, made on first use (for torch.load of a saved
    Sequential); torch is imported only then."""
    if name == "InputScaling":
        scaling_module([], [])
        return _scaling_class
    raise AttributeError(name)
