"""Hostile input through the Python package (issue 13: items 1, 5, 6, 9): every refusal comes
before the library is called or anything is written, with an exception that names the
argument or the file offset. References are independent of the code under test: float64
rotations (reference.py), element sets enumerated by brute force, the `gguf` package's own
writer and reader. Random cases are seeded; the seed is printed (pytest -s, or on failure)."""
import itertools
import os
import pickle
import re
import struct
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from numpy.lib.stride_tricks import as_strided

import reference as ref

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SEED = int(os.environ.get("RR_TEST_SEED", "13"))


def rng_for(test):
    print("%s: seed %d (set RR_TEST_SEED to change it)" % (test, SEED))
    return np.random.default_rng(SEED)


def block(monkeypatch, *names):
    """Records (and blocks) calls of the named library functions: a refusal must not reach them."""
    from resonance_rope._lib import library
    lib, seen = library(), []
    for name in names:
        monkeypatch.setattr(lib, name, lambda *a, _n=name: seen.append(_n) or 0, raising=False)
    return seen


@pytest.fixture
def calls(rr, monkeypatch):
    """The rotation functions, recorded and blocked."""
    return block(monkeypatch, "rr_rope_apply_f32_inplace", "rr_rope_apply_f16_inplace", "rr_rope_apply_bf16_inplace")


# ---- item 1: per-pair arrays have exactly rotary_dim / 2 values --------------------------------

def test_pair_arrays_checked_before_create(rr, monkeypatch):
    good = np.linspace(1.0, 2.0, 64)
    longrope = dict(rotary_dim=128, scaling="longrope", factor=4.0, original_max_position=4096)
    cases = [
        (ValueError, r"freq_factors has 1 values; rotary_dim / 2 = 64",
         dict(rotary_dim=128, scaling="freq_factors", freq_factors=np.ones(1))),
        (ValueError, r"freq_factors has 65 values; rotary_dim / 2 = 64",
         dict(rotary_dim=128, scaling="freq_factors", freq_factors=np.ones(65))),
        (ValueError, r"short_factor has 63 values; rotary_dim / 2 = 64",
         dict(longrope, short_factor=[1.0] * 63, long_factor=good)),
        (ValueError, r"long_factor has 0 values; rotary_dim / 2 = 64",
         dict(longrope, short_factor=good, long_factor=[])),
        (ValueError, r"short_factor must be 1-D", dict(longrope, short_factor=good.reshape(8, 8), long_factor=good)),
        (ValueError, r"freq_factors\[3\] = nan is not finite",
         dict(rotary_dim=8, scaling="freq_factors", freq_factors=[1, 1, 1, float("nan")])),
        (ValueError, r"long_factor\[0\] = inf is not finite",
         dict(longrope, short_factor=good, long_factor=np.r_[np.inf, good[1:]])),
        (TypeError, r"freq_factors must hold real numbers",
         dict(rotary_dim=8, scaling="freq_factors", freq_factors=["1", "2", "3", "4"])),
        (TypeError, r"freq_factors must hold real numbers",
         dict(rotary_dim=8, scaling="freq_factors", freq_factors=np.ones(4, complex))),
        (ValueError, r"freq_factors must be a 1-D array",
         dict(rotary_dim=8, scaling="freq_factors", freq_factors=[[1, 2], [3]])),
    ]
    calls = block(monkeypatch, "rr_rope_create")
    for exc, text, kwargs in cases:
        with pytest.raises(exc, match=text):
            rr.Rope(**kwargs)
    assert calls == []


def test_short_pair_array_before_an_unmapped_page(rr):
    """The issue's crash: one double at the end of a page followed by a PROT_NONE page. Run in
    a child process, so that a read past the array (SIGSEGV) fails the test, not pytest."""
    child = textwrap.dedent("""
        import ctypes, mmap, sys
        import numpy as np
        import resonance_rope as rr
        page = mmap.PAGESIZE
        mem = mmap.mmap(-1, 2 * page)
        libc = ctypes.CDLL(None, use_errno=True)
        addr = ctypes.addressof(ctypes.c_char.from_buffer(mem))
        libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        assert libc.mprotect(addr + page, page, 0) == 0            # PROT_NONE
        one = np.frombuffer(mem, dtype=np.float64, count=1, offset=page - 8)
        one[0] = 2.0
        for kw in ({"scaling": "freq_factors", "freq_factors": one},
                   {"scaling": "longrope", "factor": 4.0, "original_max_position": 4096,
                    "short_factor": one, "long_factor": np.ones(64)}):
            try:
                rr.Rope(rotary_dim=128, **kw)
                print("accepted")
            except ValueError as e:
                print("refused:", e)
        sys.stdout.flush()
        del one
    """)
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    r = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, "child died with %d: %s" % (r.returncode, r.stderr[-2000:])
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and all(l.startswith("refused:") and "1 values" in l for l in lines), r.stdout


def test_pair_arrays_of_any_real_dtype_give_the_reference(rr):
    theta = ref.plain_theta(16, 10000.0)
    f = np.array([1, 1, 2, 3, 5, 8, 13, 21])
    strided = np.zeros(16)[::2]
    strided[:] = f
    for given in (f.tolist(), f.astype(np.float32), f.astype(np.int16), strided):
        rope = rr.Rope(rotary_dim=16, scaling="freq_factors", freq_factors=given)
        assert np.allclose(rope.inv_freq(), theta / f, rtol=1e-15, atol=0)


# ---- item 6: integers never wrap to 64 (or 32) bits ------------------------------------------

def int_cases(rr):
    rope = rr.Rope(rotary_dim=8)
    gen = rr.PosGen(modulus=7, length=12)
    refs = gen.generate("test", count=2)
    q = np.zeros((2, 1, 8), np.float32)
    meta = {"general.architecture": "llama", "llama.rope.freq_base": 1e4, "llama.rope.dimension_count": 8}
    cfg = {"rope_theta": 1e4, "head_dim": 8}
    big, neg = 2 ** 64 + 7, -2 ** 63 - 1
    return [
        ("start", lambda: rope.cos_sin(start=big, count=1)),
        ("start", lambda: rope.cos_sin(start=neg, count=1)),
        ("count", lambda: rope.cos_sin(start=0, count=2 ** 64 + 1)),
        ("positions[1]", lambda: rope.cos_sin([0, big])),
        ("positions[0]", lambda: rope.cos_sin([2 ** 63, 0])),
        ("positions[2]", lambda: rope.cos_sin([0, 1, neg])),
        ("train_length", lambda: rope.count_pairs(2 ** 64 + 4096)),
        ("train_length", lambda: rope.feature_gap(2 ** 64 + 64, 256)),
        ("test_length", lambda: rope.feature_gap(64, 2 ** 64 + 256)),
        ("modulus", lambda: rr.PosGen(modulus=2 ** 64 + 17)),
        ("near", lambda: rr.PosGen(near=2 ** 64 + 3)),
        ("far", lambda: rr.PosGen(far=2 ** 64 + 1)),
        ("length", lambda: rr.PosGen(length=2 ** 64 + 64)),
        ("train_size", lambda: rr.PosGen(train_size=2 ** 64 + 10)),
        ("validation_size", lambda: rr.PosGen(validation_size=neg)),
        ("test_size", lambda: rr.PosGen(test_size=2 ** 64)),
        ("first", lambda: gen.generate("test", first=2 ** 64, count=1)),
        ("count", lambda: gen.generate("test", count=2 ** 64 + 1)),
        ("train_length", lambda: gen.score(refs, refs, train_length=2 ** 64 + 6)),
        ("seeds[0]", lambda: gen.sequence([2 ** 32 + 2, 0, 3, 1])),
        ("sequence_length", lambda: rr.Rope(rotary_dim=8, scaling="dynamic", factor=2.0, sequence_length=big)),
        ("original_max_position", lambda: rr.Rope(rotary_dim=8, scaling="yarn", factor=4.0,
                                                  original_max_position=2 ** 64 + 4096)),
        ("max_position", lambda: rr.Rope(rotary_dim=8, max_position=2 ** 64 + 4096)),
        ("rotary_dim", lambda: rr.Rope(rotary_dim=2 ** 32 + 8)),
        ("head_dim", lambda: rr.Rope(rotary_dim=8, head_dim=2 ** 32 + 8)),
        ("sequence_length", lambda: rr.Rope.from_hf_config(cfg, sequence_length=big)),
        ("sequence_length", lambda: rr.Rope.from_gguf(meta, sequence_length=big)),
        ("start", lambda: rope.apply_(q, start=big)),
        ("n_threads", lambda: rope.apply_(q, n_threads=2 ** 32 + 1)),
        ("positions[0]", lambda: rope.apply_(q, [big, 0])),
    ]


def test_out_of_range_integers_raise_naming_the_argument(rr):
    for name, call in int_cases(rr):
        with pytest.raises(rr.IntegerRangeError) as e:
            call()
        err = e.value
        assert isinstance(err, OverflowError) and isinstance(err, ValueError)
        assert err.name == name, (name, str(err))
        assert str(err).startswith(name + " = ") and "allowed" in str(err) and err.low < err.high
        assert not err.low <= err.value <= err.high
    again = pickle.loads(pickle.dumps(err))                 # crosses process boundaries intact
    assert type(again) is type(err) and str(again) == str(err) and again.name == err.name


def test_integers_at_the_edges_and_non_integers(rr):
    rope = rr.Rope(rotary_dim=8)
    top = 2 ** 63 - 1
    a = rope.cos_sin(start=top - 1, count=2)
    b = rope.cos_sin(np.array([top - 1, top], np.int64))
    c = rope.cos_sin([top - 1, top])                          # Python ints at the int64 limit
    assert all(np.array_equal(x, y) and np.array_equal(x, z) for x, y, z in zip(a, b, c))
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.prec = 256
    theta = rope.inv_freq()                   # the angle is position * inv_freq[i], exactly
    assert np.allclose(theta, ref.plain_theta(8, 10000.0), rtol=4e-16, atol=0)
    want = [[float(mpmath.cos(mpmath.mpf(m) * mpmath.mpf(float(t)))) for t in theta] for m in (top - 1, top)]
    assert np.abs(b[0] - np.array(want)).max() < 1.2e-7
    assert rr.PosGen(modulus=np.int64(2 ** 31)).modulus == 2 ** 31
    with pytest.raises(TypeError, match="start must be an integer, got float"):
        rope.cos_sin(start=1.5, count=1)
    with pytest.raises(TypeError, match="length must be an integer"):
        rr.PosGen(length=64.0)
    with pytest.raises(rr.IntegerRangeError, match=r"count = -1 is out of range: allowed 0 \.\. 2\^63 - 1"):
        rope.cos_sin(start=0, count=-1)


# ---- item 5: batch rows are checked against each other and across q/k first -------------------

def rotated(x, pos, d):
    """float64 reference rotation of x [..., tokens, heads, d] (neox) at positions pos."""
    return ref.rotate(x.astype(np.float64), ref.angles(np.asarray(pos), ref.plain_theta(d, 10000.0)), "neox")


def test_batch_stride_zero_refused_before_any_write(rr, calls):
    rope = rr.Rope(rotary_dim=8)
    buf = np.arange(2 * 3 * 8, dtype=np.float32).reshape(2, 3, 8)
    before = buf.copy()
    q = as_strided(buf, (4,) + buf.shape, (0,) + buf.strides)           # every batch row is buf
    with pytest.raises(ValueError, match=r"q\[0\] and q\[1\] share memory \(batch stride 0 bytes"):
        rope.apply_(q, start=7, axes="bthd")
    k = as_strided(buf, (4, 2, 3, 8), (0,) + buf.strides)
    with pytest.raises(ValueError, match=r"k\[0\] and k\[1\] share memory"):
        rope.apply_(np.zeros((4, 2, 3, 8), np.float32), None, k, start=7, axes="bthd")
    with pytest.raises(ValueError, match=r"q\[0\] and q\[1\] share memory"):
        rope.apply_(k[:, :, :2], None, np.zeros((4, 2, 2, 8), np.float32), start=7, axes="bhtd")
    assert calls == [] and np.array_equal(buf, before)


def test_k0_is_q1_refused(rr, calls):
    rope = rr.Rope(rotary_dim=8)
    buf = np.random.default_rng(1).standard_normal((3, 2, 4, 8)).astype(np.float32)
    before = buf.copy()
    q, k = buf[1:], buf[:-1]                                              # q[0] is k[1]
    assert np.shares_memory(q[0], k[1])
    with pytest.raises(ValueError, match=r"q\[0\] and k\[1\] share memory"):
        rope.apply_(q, None, k, start=7, axes="bthd")
    with pytest.raises(ValueError, match=r"q\[1\] and k\[0\] share memory"):
        rope.apply_(k, None, q, start=7, axes="bhtd")
    assert calls == [] and np.array_equal(buf, before)


def test_overlap_in_batch_1_refused_before_batch_0_is_rotated(rr):
    """q and k with different batch strides: row 0 is fine, row 1 is not. Before the check,
    the library rotated batch 0 and then refused batch 1."""
    rope = rr.Rope(rotary_dim=8)
    buf = np.random.default_rng(2).standard_normal(400).astype(np.float32)
    before = buf.copy()
    f = 4                                                                 # bytes per element
    # q[b] = elements [16 b, 16 b + 8), k[b] = [8 + 8 b, 16 + 8 b): k[1] is q[1].
    q = as_strided(buf, (2, 1, 1, 8), (16 * f, 8 * f, 8 * f, f))
    k = as_strided(buf[8:], (2, 1, 1, 8), (8 * f, 8 * f, 8 * f, f))
    with pytest.raises((ValueError, rr.ResonanceRopeError)) as e:
        rope.apply_(q, None, k, start=7, axes="bthd")
    assert np.array_equal(buf, before), "batch 0 was rotated before the refusal: %s" % e.value
    assert type(e.value) is ValueError and "q[1] and k[1] share memory" in str(e.value)
    # Disjoint elements, but extents that intersect in batch 1 with different token strides:
    # the library would refuse batch 1 (its q/k check) after rotating batch 0.
    q = as_strided(buf, (2, 2, 1, 8), (200 * f, 16 * f, 8 * f, f))        # q[1] rows at 200, 216
    k = as_strided(buf[100:], (2, 2, 1, 8), (108 * f, 24 * f, 8 * f, f))  # k[1] rows at 208, 232
    with pytest.raises((ValueError, rr.ResonanceRopeError)) as e:
        rope.apply_(q, None, k, start=7, axes="bthd")
    assert np.array_equal(buf, before), "batch 0 was rotated before the refusal: %s" % e.value
    assert type(e.value) is ValueError
    assert re.search(r"different batch strides .* q\[1\] and k\[1\] intersect", str(e.value))


def test_positions_inside_q_refused(rr, calls):
    rope = rr.Rope(rotary_dim=8)
    mem = np.zeros(2 * 3 * 2 * 8 // 2 + 64, np.int64)                     # one aligned buffer
    q = mem[:48].view(np.float32).reshape(2, 3, 2, 8)
    q[...] = np.random.default_rng(3).standard_normal(q.shape)
    positions = mem[40:46].reshape(2, 3)                                  # inside q[1]
    positions[...] = [[0, 1, 2], [3, 4, 5]]
    before = mem.copy()
    with pytest.raises(ValueError, match="positions share memory with q"):
        rope.apply_(q, positions, axes="bthd")
    k = mem[0:48].view(np.float32).reshape(2, 3, 2, 8)[:, :, :1]
    with pytest.raises(ValueError, match="positions share memory with k"):
        rope.apply_(np.zeros((2, 3, 1, 8), np.float32), mem[1:7].reshape(2, 3), k, axes="bthd")
    assert calls == [] and np.array_equal(mem, before)


def test_batch_layouts_that_share_no_memory_are_rotated(rr):
    """Fused qkv rows, sequence-first buffers, head-major views: accepted, equal to float64."""
    rng = rng_for("test_batch_layouts_that_share_no_memory_are_rotated")
    rope = rr.Rope(rotary_dim=16)
    B, T, Hq, Hk, D = 3, 5, 4, 2, 16
    pos = rng.integers(-1000, 1000, (B, T)).astype(np.int64)
    qkv = rng.standard_normal((B, T, (Hq + 2 * Hk) * D)).astype(np.float32)
    seq_first = rng.standard_normal((T, B, Hq, D)).astype(np.float32)
    layouts = {
        "fused bthd": (qkv[..., :Hq * D].reshape(B, T, Hq, D), qkv[..., Hq * D:(Hq + Hk) * D].reshape(B, T, Hk, D),
                       "bthd", qkv),
        "fused bhtd": (qkv[..., :Hq * D].reshape(B, T, Hq, D).transpose(0, 2, 1, 3),
                       qkv[..., Hq * D:(Hq + Hk) * D].reshape(B, T, Hk, D).transpose(0, 2, 1, 3), "bhtd", qkv),
        "sequence-first": (seq_first.transpose(1, 0, 2, 3)[:, :, :2], seq_first.transpose(1, 0, 2, 3)[:, :, 2:],
                           "bthd", seq_first),
    }
    for name, (q, k, axes, owner) in layouts.items():
        before = owner.copy()
        q0, k0 = q.copy(), k.copy()
        rope.apply_(q, pos, k, axes=axes)
        for b in range(B):
            tq = (lambda x: x) if axes == "bthd" else (lambda x: x.transpose(1, 0, 2))
            assert np.abs(tq(q[b]) - rotated(tq(q0[b]), pos[b], D)).max() < 3e-6, name
            assert np.abs(tq(k[b]) - rotated(tq(k0[b]), pos[b], D)).max() < 3e-6, name
        if name.startswith("fused"):
            assert np.array_equal(owner[..., (Hq + Hk) * D:], before[..., (Hq + Hk) * D:]), "v changed: " + name


def test_meet_is_exact_on_random_views(rr, monkeypatch):
    """_overlap.meet (block recursion, and the row-listing fallback it takes when the recursion
    would visit too many blocks) against the byte sets of random views, nested or not."""
    from resonance_rope import _overlap
    rng = rng_for("test_meet_is_exact_on_random_views")

    def random_view():
        dims = sorted(((int(rng.integers(2, 5)), int(rng.integers(1, 40))) for _ in range(int(rng.integers(0, 4)))),
                      key=lambda d: d[1])
        return _overlap.View(int(rng.integers(0, 60)), tuple(dims), int(rng.integers(1, 12)))

    def byte_set(v):
        out = set()
        for idx in itertools.product(*[range(n) for n, _ in v.dims]):
            start = v.base + sum(i * s for i, (_, s) in zip(idx, v.dims))
            out.update(range(start, start + v.row))
        return out
    met = 0
    for work in (4096, 0):                                                # 0: always the fallback
        monkeypatch.setattr(_overlap, "_WORK", work)
        for _ in range(3000):
            x, y = random_view(), random_view()
            want = bool(byte_set(x) & byte_set(y))
            assert _overlap.meet(x, y) == want == _overlap.meet(y, x), (work, x, y)
            met += want
    assert 1000 < met < 5000, met


def test_random_batch_geometries_against_brute_force(rr):
    """1000 random strided q/k views of one buffer: every layout with a shared element is refused and
    leaves the buffer untouched; the batch-level refusals match the brute-force element sets
    exactly; accepted calls equal the float64 reference."""
    from resonance_rope import _overlap
    rng = rng_for("test_random_batch_geometries_against_brute_force")
    rope = rr.Rope(rotary_dim=8)
    D, f = 8, 4
    tally = {"accepted": 0, "refused in Python": 0, "refused by the library": 0}
    strides = [0, 7, 8, 9, 12, 16, 17, 23, 24, 32, 40, 48, 64, 96, 128, 200]
    for case in range(1000):
        B, T = int(rng.integers(2, 5)), int(rng.integers(1, 4))
        Hq, Hk = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        buf = rng.standard_normal(6000).astype(np.float32)
        sq = [int(rng.choice(strides)) for _ in range(3)]
        sk = list(sq) if rng.random() < 0.4 else [int(rng.choice(strides)) for _ in range(3)]
        oq, ok = int(rng.integers(0, 300)), int(rng.integers(0, 300))

        def rows(off, s, H):
            return {(b, t, h): off + b * s[0] + t * s[1] + h * s[2]
                    for b in range(B) for t in range(T) for h in range(H)}
        rq, rk = rows(oq, sq, Hq), rows(ok, sk, Hk)
        elems = {}
        for tag, rws in (("q", rq), ("k", rk)):
            for (b, t, h), start in rws.items():
                for e in range(start, start + D):
                    elems.setdefault(e, []).append((tag, b))
        shared = [owners for owners in elems.values() if len(owners) > 1]
        any_shared = bool(shared)
        batch_level = any(len({tag for tag, _ in o}) > 1 or len({b for _, b in o}) > 1 for o in shared)
        q = as_strided(buf[oq:], (B, T, Hq, D), (sq[0] * f, sq[1] * f, sq[2] * f, f))
        k = as_strided(buf[ok:], (B, T, Hk, D), (sk[0] * f, sk[1] * f, sk[2] * f, f))
        extents_meet = sq[0] != sk[0] and any(
            oq + b * sq[0] < ok + b * sk[0] + (T - 1) * sk[1] + (Hk - 1) * sk[2] + D and
            ok + b * sk[0] < oq + b * sq[0] + (T - 1) * sq[1] + (Hq - 1) * sq[2] + D for b in range(B))
        before = buf.copy()
        pos = rng.integers(-50, 50, T).astype(np.int64)
        try:
            rope.apply_(q, pos, k, axes="bthd")
        except (ValueError, rr.ResonanceRopeError) as e:
            assert np.array_equal(buf, before), "refused (%s) after writing" % e
            tally["refused in Python" if isinstance(e, ValueError) and not isinstance(e, rr.ResonanceRopeError)
                  else "refused by the library"] += 1
        else:
            assert not any_shared, "accepted a layout with shared elements: case %d" % case
            tally["accepted"] += 1
            want = before.astype(np.float64)
            for rws in (rq, rk):
                for (b, t, h), start in rws.items():
                    want[start:start + D] = rotated(before[start:start + D].reshape(1, 1, D), pos[t:t + 1], D).ravel()
            assert np.abs(buf - want).max() < 3e-6
        # The Python check decides exactly what the brute force says about batch rows and q/k.
        try:
            _overlap.check_batch(q, k, None)
            python_refuses = False
        except ValueError:
            python_refuses = True
        assert python_refuses == (batch_level or extents_meet), (case, B, T, Hq, Hk, sq, sk, oq, ok)
    print(tally)
    assert min(tally.values()) >= 30, tally


# ---- item 9: corrupt GGUF files, empty arrays ---------------------------------------------------

class RawGGUF:
    """A GGUF v3 file assembled field by field (independent of the reader), remembering the
    byte offset of every field it writes."""

    def __init__(self, n_tensors=None, n_kv=None, version=3):
        self.kv, self.tensors, self.at = [], [], {}
        self.n_tensors, self.n_kv, self.version = n_tensors, n_kv, version

    @staticmethod
    def s(text, length=None):
        raw = text if isinstance(text, bytes) else text.encode()
        return struct.pack("<Q", len(raw) if length is None else length) + raw

    def add(self, key, vtype, payload):
        self.kv.append((key, vtype, payload))
        return self

    def u32(self, key, v):
        return self.add(key, 4, struct.pack("<I", v))

    def f32(self, key, v):
        return self.add(key, 6, struct.pack("<f", v))

    def string(self, key, v):
        return self.add(key, 8, self.s(v))

    def tensor(self, name, dims, ttype=0, offset=0):
        self.tensors.append((name, dims, ttype, offset))
        return self

    def build(self, data=b""):
        out = bytearray(b"GGUF" + struct.pack("<IQQ", self.version,
                                              len(self.tensors) if self.n_tensors is None else self.n_tensors,
                                              len(self.kv) if self.n_kv is None else self.n_kv))
        for key, vtype, payload in self.kv:
            self.at[key] = len(out)
            out += (key if isinstance(key, bytes) else self.s(key)) + struct.pack("<I", vtype)
            self.at[(key, "value")] = len(out)
            out += payload
        for name, dims, ttype, offset in self.tensors:
            self.at[name] = len(out)
            out += self.s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
            out += struct.pack("<I", ttype)
            self.at[(name, "offset")] = len(out)
            out += struct.pack("<Q", offset)
        out += b"\0" * (-len(out) % 32) + data
        return bytes(out)


def llama(raw=None):
    raw = raw or RawGGUF()
    return (raw.string("general.architecture", "llama").f32("llama.rope.freq_base", 10000.0)
            .u32("llama.rope.dimension_count", 8))


def corrupt_files():
    """(name, raw, file bytes, expected offset key, field text) for hand-made corrupt files."""
    cases = []

    def add(name, raw, data, where, field):
        cases.append((name, raw, raw.build(data) if data is not None else raw, where, field))

    r = llama().add("general.name", 8, RawGGUF.s(b"x", length=2 ** 62))
    add("string length 2^62", r, b"", ("general.name", "value"), "key 'general.name': value length")
    r = llama().add("llama.big", 9, struct.pack("<IQ", 0, 2 ** 40))
    add("uint8 array of 2^40", r, b"", ("llama.big", "value", 4), "count")
    r = llama().add("llama.big", 9, struct.pack("<IQ", 12, 2 ** 63 + 5))
    add("float64 array of 2^63 + 5", r, b"", ("llama.big", "value", 4), "count")
    r = llama().add("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 3) + RawGGUF.s("a") + RawGGUF.s("bc")
                    + RawGGUF.s(b"d", length=2 ** 50))
    add("third token of 2^50 bytes", r, b"", ("tokenizer.ggml.tokens", "value", 12 + 9 + 10),
        "key 'tokenizer.ggml.tokens': value[2] length")
    nested = b"".join(struct.pack("<IQ", 9, 1) for _ in range(100000)) + struct.pack("<IQ", 4, 0)
    r = llama().add("llama.deep", 9, nested)
    add("arrays nested 100000 deep", r, b"", None, "nested deeper than 16")
    r = llama().u32("general.alignment", 0).tensor("rope_freqs.weight", [4])
    add("alignment 0", r, b"\0" * 16, ("general.alignment", "value"), "key 'general.alignment'")
    r = llama().u32("general.alignment", 24).tensor("rope_freqs.weight", [4])
    add("alignment 24", r, b"\0" * 16, ("general.alignment", "value"), "not a power of two")
    r = llama().f32("llama.rope.freq_base", 500000.0)
    add("duplicate key", r, b"", "llama.rope.freq_base", "duplicate key")
    add("key/value count 2^64 - 1", llama(RawGGUF(n_kv=2 ** 64 - 1)), b"", 16, "key/value count")
    add("tensor count 2^60", llama(RawGGUF(n_tensors=2 ** 60)), b"", 8, "tensor count")
    r = llama().tensor("rope_freqs.weight", [2 ** 40, 2 ** 40])
    add("rope tensor of 2^80 values", r, b"", ("rope_freqs.weight", "offset"), "past the")
    r = llama().tensor("rope_freqs.weight", [4], offset=64)
    add("rope tensor past the end", r, b"\0" * 16, ("rope_freqs.weight", "offset"), "past the")
    r = llama().tensor("rope_freqs.weight", [4], offset=4)
    add("tensor offset not aligned", r, b"\0" * 64, ("rope_freqs.weight", "offset"), "multiple of the alignment")
    r = llama().tensor("rope_freqs.weight", [1, 1, 1, 1, 4])
    add("5 dimensions", r, b"\0" * 16, None, "5 dimensions")
    r = llama().tensor("rope_freqs.weight", [4]).tensor("rope_freqs.weight", [4])
    add("duplicate tensor", r, b"\0" * 16, "rope_freqs.weight", "duplicate tensor name")
    r = llama().tensor("rope_freqs.weight", [4], ttype=1)
    add("rope tensor in f16", r, b"\0" * 16, "rope_freqs.weight", "expected 0 (F32)")
    r = llama().add(RawGGUF.s(b"llama.\xff"), 4, struct.pack("<I", 1))
    add("key not UTF-8", r, b"", None, "not valid UTF-8")
    r = llama().add("llama.x", 99, b"\0" * 8)
    add("unknown value type", r, b"", None, "unknown GGUF value type 99")
    r = llama().f32("llama.rope.freq_base\nllama.rope.freq_base", 1.0)
    add("key with a line break", r, b"", "llama.rope.freq_base\nllama.rope.freq_base", "line break")
    r = llama().f32("llama.rope.scaling.factor", float("nan"))
    add("NaN value", r, b"", ("llama.rope.scaling.factor", "value"), "key 'llama.rope.scaling.factor': value")
    r = llama().add("rope_freqs", 9, struct.pack("<IQ", 6, 4) + b"\0" * 16).tensor("rope_freqs.weight", [4])
    add("rope_freqs twice", r, b"\0" * 16, None, "also has a key 'rope_freqs'")
    add("version 1", llama(RawGGUF(version=1)), b"", 4, "version 1 is not supported")
    return cases


def test_corrupt_gguf_files_raise_gguf_error_with_offset(rr, tmp_path):
    import tracemalloc
    path = str(tmp_path / "corrupt.gguf")
    for name, raw, data, where, field in corrupt_files():
        with open(path, "wb") as fh:
            fh.write(data)
        tracemalloc.start()
        try:
            with pytest.raises(rr.GGUFError) as e:
                rr.Rope.from_gguf(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        err = e.value
        assert isinstance(err, ValueError) and err.path == path, name
        assert field in str(err), (name, str(err))
        if where is not None:
            if isinstance(where, int):
                want = where
            elif isinstance(where, tuple) and len(where) == 3:
                want = raw.at[where[:2]] + where[2]              # a field inside the value
            else:
                want = raw.at[where]
            assert err.offset == want and ("at byte %d" % want) in str(err), (name, want, str(err))
        assert peak < 64 * 2 ** 20, "%s: %d bytes allocated" % (name, peak)   # bounded by the file
        again = pickle.loads(pickle.dumps(err))
        assert str(again) == str(err) and again.offset == err.offset


def write_real_ggufs(tmp_path):
    """Two small files written by the real `gguf` package (tools/requirements/test.txt)."""
    gguf = pytest.importorskip("gguf")

    def llama_kv(w):
        w.add_context_length(8192)
        w.add_rope_dimension_count(16)
        w.add_key_length(16)
        w.add_rope_freq_base(500000.0)
        w.add_string("general.name", "fuzz base")
        w.add_array("tokenizer.ggml.tokens", ["<s>", "</s>", "a", "bc", "\u00e9"])
        w.add_array("tokenizer.ggml.scores", [0.0, -1.5, -2.0, -3.25, -4.0])
        w.add_bool("llama.use_parallel_residual", True)
        w.add_array("llama.nested", [[1, 2], [3, 4, 5]])                 # arrays of arrays
        w.add_tensor("token_embd.weight", np.arange(32, dtype=np.float32).reshape(2, 16))
        w.add_tensor("rope_freqs.weight", np.array([1, 1, 1, 2, 4, 8, 8, 8], np.float32))

    def qwen2_kv(w):
        w.add_custom_alignment(64)
        w.add_context_length(32768)
        w.add_rope_dimension_count(8)
        w.add_key_length(8)
        w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
        w.add_rope_scaling_factor(4.0)
        w.add_rope_scaling_orig_ctx_len(8192)
        w.add_array("qwen2.some_ints", [3, 1, 4, 1, 5])
        w.add_tensor("output_norm.weight", np.ones(8, np.float32))

    files = []
    for arch, fill in (("llama", llama_kv), ("qwen2", qwen2_kv)):
        p = str(tmp_path / (arch + ".gguf"))
        w = gguf.GGUFWriter(p, arch)
        fill(w)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        files.append(p)
    return gguf, files


def test_reader_agrees_with_the_gguf_package(rr, tmp_path):
    from resonance_rope import _gguf
    gguf, files = write_real_ggufs(tmp_path)
    for p in files:
        meta, tensors = _gguf.read_gguf(p)
        reader = gguf.GGUFReader(p)
        want = {f.name: f.contents() for f in reader.fields.values() if not f.name.startswith("GGUF.")}
        assert set(meta) == set(want), p
        def flat(v):                                  # GGUFReader.contents() flattens nested arrays
            if isinstance(v, np.ndarray):
                return v.tolist()
            return [x for item in v for x in (flat(item) if isinstance(item, (list, np.ndarray)) else [item])] \
                if isinstance(v, list) else v
        for key, value in want.items():
            got = flat(meta[key])
            assert (got == value) if not isinstance(value, float) else got == pytest.approx(value, rel=1e-7), key
        for t in reader.tensors:
            if t.name in _gguf.ROPE_TENSORS:
                assert np.array_equal(tensors[t.name], np.asarray(t.data).ravel())
        rope = rr.Rope.from_gguf(p)
        assert rope.inv_freq().shape == (rope.pair_count,)


@pytest.fixture
def scratch(tmp_path):
    """A folder for many small files: /dev/shm when there is one (creating a file on this
    machine's /tmp costs milliseconds), else tmp_path."""
    import shutil
    import tempfile
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        d = tempfile.mkdtemp(prefix="rr-test-", dir="/dev/shm")
        yield d
        shutil.rmtree(d, ignore_errors=True)
    else:
        yield str(tmp_path)


def test_fuzz_truncated_and_bit_flipped_gguf_files(rr, tmp_path, scratch):
    """Every prefix and 3000 seeded mutations of real files: read_gguf succeeds or raises
    GGUFError, from_gguf also may raise ResonanceRopeError (the library refusing the text);
    nothing else, and no file takes long."""
    from resonance_rope import _gguf
    rng = rng_for("test_fuzz_truncated_and_bit_flipped_gguf_files")
    _, files = write_real_ggufs(tmp_path)
    path = os.path.join(scratch, "mutant.gguf")
    outcomes = {}
    extremes = [0, 1, 2 ** 31, 2 ** 32 - 1, 2 ** 40, 2 ** 63, 2 ** 64 - 1]
    t_all, worst = time.perf_counter(), 0.0

    def attempt(data, what):
        nonlocal worst
        with open(path, "wb") as fh:
            fh.write(data)
        t0 = time.perf_counter()
        for fn in (lambda: _gguf.read_gguf(path), lambda: rr.Rope.from_gguf(path)):
            try:
                fn()
                kind = "ok"
            except rr.GGUFError:
                kind = "GGUFError"
            except rr.ResonanceRopeError:
                kind = "ResonanceRopeError"
            except Exception as e:                                    # noqa: BLE001 (the point)
                raise AssertionError("%s raised %s: %s" % (what, type(e).__name__, e)) from None
            outcomes[kind] = outcomes.get(kind, 0) + 1
        worst = max(worst, time.perf_counter() - t0)

    for p in files:
        base = open(p, "rb").read()
        for n in range(len(base)):
            attempt(base[:n], "%s truncated to %d bytes" % (os.path.basename(p), n))
        for i in range(1500):
            data = bytearray(base)
            if i % 3 == 2:                                             # an extreme 8-byte length
                at = int(rng.integers(0, len(base) - 8))
                data[at:at + 8] = struct.pack("<Q", extremes[int(rng.integers(len(extremes)))])
            else:
                for _ in range(int(rng.integers(1, 4))):
                    at = int(rng.integers(0, len(base)))
                    data[at] ^= 1 << int(rng.integers(0, 8))
            attempt(bytes(data), "%s mutant %d" % (os.path.basename(p), i))
    print(outcomes, "worst %.3f s, all %.1f s" % (worst, time.perf_counter() - t_all))
    assert outcomes.get("GGUFError", 0) > 1000 and outcomes.get("ok", 0) > 100
    assert worst < 2.0


def test_empty_arrays_are_a_no_op(rr, calls):
    rope = rr.Rope(rotary_dim=8)
    for shape, axes in (((0, 2, 8), None), ((3, 0, 8), None), ((0, 8), None), ((0, 2, 3, 8), "bthd"),
                        ((2, 0, 3, 8), "bhtd"), ((2, 3, 0, 8), "bthd")):
        q = np.ones(shape, np.float32)
        assert rope.apply_(q, None, np.ones(shape, np.float32), axes=axes) is q
        tokens = shape[{None: 0, "bthd": 1, "bhtd": 2}[axes] if len(shape) == 4 else 0]
        assert rope.apply_(q, np.arange(tokens), axes=axes) is q
        assert rope.apply_(np.ones(shape, np.float16), axes=axes).size == 0
    assert calls == []
    c, s = rope.cos_sin([])
    assert c.shape == s.shape == (0, 4)
