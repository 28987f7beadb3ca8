"""The resonance_rope package against independent float64 numpy references (reference.py):
rotation in every buffer shape, tables, constructors, refusals before any call, errors."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import reference as ref

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def expected_angles(rope, pos, d, base, resonance):
    theta = ref.plain_theta(d, base)
    assert np.allclose(rope.inv_freq(), 2 * np.pi / ref.resonance_periods(theta) if resonance else theta,
                       rtol=4e-16, atol=0)
    return ref.angles(pos, periods=ref.resonance_periods(theta)) if resonance else ref.angles(pos, theta)


@pytest.mark.parametrize("layout", ["neox", "gptj"])
@pytest.mark.parametrize("resonance", [False, True])
def test_rotation_strided_heads_padded_rows(rr, layout, resonance):
    rng = np.random.default_rng(1)
    rope = rr.Rope(rotary_dim=64, head_dim=80, base=10000.0, resonance=resonance, layout=layout)
    buf = rng.standard_normal((10, 6, 96)).astype(np.float32)
    q = buf[:, ::2, :80]                                  # every other head, padded rows
    before = buf.copy()
    pos = rng.integers(-(1 << 20), 1 << 20, 10).astype(np.int64)
    want = ref.rotate(q, expected_angles(rope, pos, 64, 10000.0, resonance), layout, d=64)
    assert rope.apply_(q, pos) is q
    assert np.abs(q - want).max() < 2e-6
    assert np.array_equal(buf[:, 1::2], before[:, 1::2]), "untouched heads changed"
    assert np.array_equal(buf[:, :, 80:], before[:, :, 80:]), "padding changed"
    assert np.array_equal(buf[:, ::2, 64:80], before[:, ::2, 64:80]), "pass-through dims changed"


def test_rotation_axes_batch_qk_inverse_and_factor(rr):
    rng = np.random.default_rng(2)
    rope = rr.Rope(rotary_dim=32, base=500000.0, resonance=True, scaling="yarn", factor=4.0,
                   original_max_position=256)
    theta = rope.inv_freq()
    per = rope.resonance_wavelengths()
    assert np.allclose(theta, 2 * np.pi / per, rtol=4e-16, atol=0)   # resonance: 2pi / integer
    # Hugging Face shapes: q [batch, heads, tokens, d], k with fewer heads, positions per batch row.
    q = rng.standard_normal((2, 4, 7, 32)).astype(np.float32)
    k = rng.standard_normal((2, 2, 7, 32)).astype(np.float32)
    pos = rng.integers(0, 1 << 40, (2, 7)).astype(np.int64)
    q0, k0 = q.copy(), k.copy()
    rope.apply_(q, pos, k, axes="bhtd", attention_factor=True)
    for b in range(2):
        ang = ref.angles(pos[b], periods=per)
        a = rope.attention_factor
        assert a > 1                                       # YaRN's mscale
        want_q = ref.rotate(q0[b].transpose(1, 0, 2), ang, "neox", scale=a).transpose(1, 0, 2)
        want_k = ref.rotate(k0[b].transpose(1, 0, 2), ang, "neox", scale=a).transpose(1, 0, 2)
        assert np.abs(q[b] - want_q).max() < 3e-6 and np.abs(k[b] - want_k).max() < 3e-6
    # One position row shared by the batch, head-major 3-D, 2-D: all the same rotation.
    x = rng.standard_normal((7, 3, 32)).astype(np.float32)
    a1, a2, a3 = x.copy(), np.ascontiguousarray(x.transpose(1, 0, 2)), x[:, 0, :].copy()
    rope.apply_(a1, pos[0])
    rope.apply_(a2, pos[0], axes="htd")
    rope.apply_(a3, pos[0])
    assert np.array_equal(a1, a2.transpose(1, 0, 2)) and np.array_equal(a1[:, 0, :], a3)
    # Inverse undoes; start= equals explicit consecutive positions.
    rope.apply_(a1, pos[0], inverse=True)
    assert np.abs(a1 - x).max() < 2e-6
    b1, b2 = x.copy(), x.copy()
    rope.apply_(b1, start=-5)
    rope.apply_(b2, np.arange(-5, 2))
    assert np.array_equal(b1, b2)


def test_threads_do_not_change_results(rr):
    rope = rr.Rope(rotary_dim=64, resonance=True)
    x = np.random.default_rng(3).standard_normal((257, 4, 64)).astype(np.float32)
    a, b = x.copy(), x.copy()
    rope.apply_(a, start=10 ** 9, n_threads=1)
    rope.apply_(b, start=10 ** 9, n_threads=2)
    assert np.array_equal(a, b)


def test_fused_qkv_views(rr):
    """q and k as views into one fused qkv row (same token stride): accepted, both rotated."""
    rope = rr.Rope(rotary_dim=16, head_dim=16)
    qkv = np.random.default_rng(4).standard_normal((5, (4 + 2 + 2) * 16)).astype(np.float32)
    q = qkv[:, :64].reshape(5, 4, 16)
    k = qkv[:, 64:96].reshape(5, 2, 16)
    v_before = qkv[:, 96:].copy()
    q0, k0 = q.copy(), k.copy()
    rope.apply_(q, np.arange(5), k)
    ang = ref.angles(np.arange(5), ref.plain_theta(16, 10000.0))
    assert np.abs(q - ref.rotate(q0, ang, "neox")).max() < 1e-6
    assert np.abs(k - ref.rotate(k0, ang, "neox")).max() < 1e-6
    assert np.array_equal(qkv[:, 96:], v_before)


@pytest.mark.parametrize("layout", ["half", "hf", "gptj", "vllm"])
def test_cos_sin_layouts(rr, layout):
    rope = rr.Rope(rotary_dim=16, base=10000.0, resonance=True)
    pos = np.array([-(1 << 50), -1, 0, 7, 1 << 33], dtype=np.int64)
    ang = ref.angles(pos, periods=ref.resonance_periods(ref.plain_theta(16, 10000.0)))
    c, s = np.cos(ang), np.sin(ang)
    expand = {"half": lambda x: x, "hf": lambda x: np.concatenate([x, x], 1),
              "gptj": lambda x: np.repeat(x, 2, axis=1)}
    out = rope.cos_sin(pos, layout=layout)
    if layout == "vllm":
        assert out.shape == (5, 16) and np.abs(out - np.concatenate([c, s], 1)).max() < 1.2e-7
    else:
        assert np.abs(out[0] - expand[layout](c)).max() < 1.2e-7
        assert np.abs(out[1] - expand[layout](s)).max() < 1.2e-7
    again = rope.cos_sin(start=-3, count=4, layout=layout)
    listed = rope.cos_sin(range(-3, 1), layout=layout)
    assert all(np.array_equal(x, y) for x, y in zip(again, listed))


def test_hf_config_sources_agree_and_match_llama3(rr, fixtures):
    path = os.path.join(fixtures, "llama-3.1-8b.json")
    cfg = json.load(open(path))
    sc = cfg["rope_scaling"]
    want = ref.llama3_theta(128, cfg["rope_theta"], sc["factor"], sc["low_freq_factor"], sc["high_freq_factor"],
                            sc["original_max_position_embeddings"])
    variants = [rr.Rope.from_hf_config(path), rr.Rope.from_hf_config(cfg), rr.Rope.from_hf_config(open(path).read()),
                rr.Rope.from_hf_config(open(path, "rb").read()), rr.Rope.from_hf_config(open(path))]
    for rope in variants:
        assert rope.scaling == "llama3" and rope.rotary_dim == 128 and not rope.resonance
        assert np.allclose(rope.inv_freq(), want, rtol=1e-15, atol=0)
    res = rr.Rope.from_hf_config(path, resonance=True)
    assert np.array_equal(res.resonance_wavelengths(), ref.resonance_periods(want))
    assert np.allclose(res.inv_freq(), 2 * np.pi / ref.resonance_periods(want), rtol=4e-16, atol=0)
    assert np.allclose(res.wavelengths(), 2 * np.pi / want, rtol=1e-15, atol=0)
    # The factors that turn the llama3 frequencies into Resonance ones.
    assert np.allclose(res.resonance_freq_factors(), want / res.inv_freq(), rtol=6e-8, atol=0)


def test_every_fixture_loads(rr, fixtures):
    for name in sorted(os.listdir(fixtures)):
        rope = rr.Rope.from_hf_config(os.path.join(fixtures, name), sequence_length=4096, resonance=True)
        assert rope.inv_freq().shape == (rope.rotary_dim // 2,), name


def test_from_gguf_dict_text_and_rope_freqs(rr):
    meta = {"general.architecture": "llama", "llama.rope.freq_base": 500000.0, "llama.rope.dimension_count": 8,
            "llama.attention.key_length": 8, "llama.context_length": 8192}
    rope = rr.Rope.from_gguf(meta)
    assert rope.layout == "gptj" and rope.base == 500000.0 and rope.head_dim == 8
    assert np.allclose(rope.inv_freq(), ref.plain_theta(8, 500000.0), rtol=1e-15, atol=0)
    text = "general.architecture=llama\nllama.rope.freq_base=500000.0\nllama.rope.dimension_count=8\n"
    assert np.array_equal(rr.Rope.from_gguf(text, layout="neox").inv_freq(), rope.inv_freq())
    factors = np.array([1.0, 1.0, 2.5, 8.0], np.float32)
    with_freqs = rr.Rope.from_gguf(dict(meta, rope_freqs=factors))
    assert with_freqs.scaling == "freq_factors"
    assert np.allclose(with_freqs.inv_freq(), ref.plain_theta(8, 500000.0) / factors, rtol=1e-15, atol=0)


def test_posgen_against_python_reference(rr):
    import itertools
    m, near, far, length = 7, 3, 1, 20
    gen = rr.PosGen(modulus=m, near=near, far=far, length=length)
    combos = list(itertools.combinations(range(m), far + near))

    def grow(seeds):
        t = list(seeds)
        while len(t) < length:
            n = len(t)
            t.append(sum(t[n - near - far: n]) % m)        # recurrent: far tokens just before the near ones
        return t

    train = gen.generate("train", count=40)
    assert train.dtype == np.int32 and train.shape == (40, length)
    assert train.tolist() == [grow(combos[i % len(combos)]) for i in range(40)]
    assert gen.sequence([2, 0, 3, 1]).tolist() == grow([2, 0, 3, 1])
    pred = train.copy()
    pred[:, 10] = (pred[:, 10] + 1) % m                    # wrong at one ID position
    pred[::2, 15] = (pred[::2, 15] + 1) % m                # wrong at one OOD position, half the rows
    score = gen.score(pred, train, train_length=12)
    assert score.id_total == 40 * (12 - 4) and score.ood_total == 40 * (length - 12)
    assert score.id_correct == score.id_total - 40 and score.ood_correct == score.ood_total - 20
    assert np.isnan(score.per_position[:4]).all() and score.per_position[10] == 0 and score.per_position[15] == 0.5
    with pytest.raises(TypeError, match="int32"):
        gen.score(pred.astype(np.int64), train, 12)


def test_feature_gap_against_brute_force(rr):
    L, Lp = 64, 256
    for resonance in (False, True):
        rope = rr.Rope(rotary_dim=16, base=10000.0, resonance=resonance)
        g = rope.feature_gap(L, Lp)
        theta = ref.plain_theta(16, 10000.0)
        per = ref.resonance_periods(theta)
        a_train = ref.angles(np.arange(L), theta, per if resonance else None)
        a_test = ref.angles(np.arange(L, Lp), theta, per if resonance else None)
        want = np.array([ref.chord_gap(a_train[:, i], a_test[:, i]) for i in range(8)])
        assert g.gaps.shape == (8,) and np.abs(g.gaps - want).max() < 1e-9
        pre = int((2 * np.pi / theta < L).sum())
        assert g.pre_critical_pairs == pre and g.critical_pair == pre
        if resonance:
            assert g.periodic_pairs == int((per <= L).sum()) and np.all(g.gaps[per <= L] == 0)
        assert g.max_gap == pytest.approx(want.max(), abs=1e-9)


# ---- refusals: before any call, never a copy ---------------------------------------------------

@pytest.fixture
def spy(rr, monkeypatch):
    """Replaces the apply functions with recorders: a refusal must not reach the library."""
    from resonance_rope._lib import library
    calls = []
    lib = library()
    for name in ("rr_rope_apply_f32_inplace", "rr_rope_apply_f16_inplace", "rr_rope_apply_bf16_inplace"):
        monkeypatch.setattr(lib, name, lambda *a, _n=name: calls.append(_n) or 0, raising=False)
    return calls


def test_refusals_happen_before_any_call(rr, spy):
    rope = rr.Rope(rotary_dim=8)
    ok = np.zeros((2, 1, 8), np.float32)
    cases = [
        (TypeError, "float32, float16 or bfloat16", lambda: rope.apply_(np.zeros((2, 1, 8), np.float64))),
        (TypeError, "numpy array", lambda: rope.apply_([[0.0] * 8])),
        (TypeError, "element='bfloat16'", lambda: rope.apply_(np.zeros((2, 1, 8), np.uint16))),
        (TypeError, "does not hold", lambda: rope.apply_(ok, element="bfloat16")),
        (ValueError, "contiguous last axis", lambda: rope.apply_(np.zeros((2, 1, 16), np.float32)[:, :, ::2])),
        (ValueError, "head_dim 6", lambda: rope.apply_(np.zeros((2, 1, 6), np.float32))),
        (ValueError, "negative", lambda: rope.apply_(np.zeros((3, 1, 8), np.float32)[::-1])),
        (ValueError, "axes=", lambda: rope.apply_(np.zeros((1, 2, 1, 8), np.float32))),
        (ValueError, "3 dimensions", lambda: rope.apply_(np.zeros((2, 8), np.float32), axes="thd")),
        (ValueError, "2 entries for 3 tokens", lambda: rope.apply_(np.zeros((3, 1, 8), np.float32), [1, 2])),
        (TypeError, "int64", lambda: rope.apply_(ok, np.arange(2, dtype=np.int32))),
        (TypeError, "int64", lambda: rope.cos_sin(np.arange(3, dtype=np.int32))),
        (ValueError, "contiguous", lambda: rope.apply_(ok, np.arange(4, dtype=np.int64)[::2])),
        (ValueError, "tokens", lambda: rope.apply_(ok, None, np.zeros((3, 1, 8), np.float32))),
        (TypeError, "q's dtype", lambda: rope.apply_(ok, None, np.zeros((2, 1, 8), np.float16))),
        (ValueError, "n_threads", lambda: rope.apply_(ok, n_threads=-1)),
    ]
    ro = np.zeros((2, 1, 8), np.float32)
    ro.setflags(write=False)
    cases.append((ValueError, "read-only", lambda: rope.apply_(ro)))
    raw = np.zeros(2 * 8 * 4 + 1, np.uint8)[1:].view(np.float32).reshape(2, 1, 8)   # misaligned view
    cases.append((ValueError, "aligned", lambda: rope.apply_(raw)))
    for exc, text, call in cases:
        with pytest.raises(exc, match=text):
            call()
    assert spy == [] and not ok.any()
    rope.apply_(ok)                                         # and the spy does see a good call
    assert spy == ["rr_rope_apply_f32_inplace"]


def test_library_errors_raise(rr):
    with pytest.raises(rr.ResonanceRopeError) as e:
        rr.Rope(rotary_dim=7)
    err = e.value
    assert err.status == 3 and err.status_name == "RR_STATUS_INVALID_DIMENSION"
    assert "rotary_dim = 7" in err.message and err.function == "rr_rope_create"
    assert err.status_text and err.status_text in str(err) and err.message in str(err)
    with pytest.raises(rr.ResonanceRopeError) as e:
        rr.Rope(rotary_dim=8, base=float("nan"))
    assert e.value.status == 4
    with pytest.raises(rr.ResonanceRopeError) as e:
        rr.Rope.from_hf_config('{"rope_theta": 1e4, "head_dim": 64,')
    assert e.value.status_name == "RR_STATUS_PARSE_ERROR"
    with pytest.raises(rr.ResonanceRopeError) as e:             # q and k share elements
        rope = rr.Rope(rotary_dim=8)
        buf = np.zeros((2, 2, 8), np.float32)
        rope.apply_(buf, None, buf[:, 1:, :])
    assert e.value.status_name == "RR_STATUS_OVERLAP"
    with pytest.raises(ValueError, match="layout"):
        rr.Rope(rotary_dim=8, layout="interleaved")


def test_inv_freq_drop_in_for_hf(rr):
    """Resonance-off inv_freq equals Hugging Face's 1/base^(arange(0,d,2)/d) to float32."""
    rope = rr.Rope(rotary_dim=128, base=10000.0)
    hf = 1.0 / (10000.0 ** (np.arange(0, 128, 2, dtype=np.int64).astype(np.float32) / 128))
    ulps = np.abs(rope.inv_freq(np.float32).view(np.int32) - hf.astype(np.float32).view(np.int32))
    assert ulps.max() <= 1
    with pytest.raises(TypeError):
        rope.inv_freq(np.float16)


# ---- float16 / bfloat16 ------------------------------------------------------------------------

def half_case(rr, dtype_name):
    rng = np.random.default_rng(5)
    rope = rr.Rope(rotary_dim=64, head_dim=72, resonance=True)
    x = rng.standard_normal((9, 3, 72))
    pos = rng.integers(-(1 << 45), 1 << 45, 9).astype(np.int64)
    want = ref.rotate(x, ref.angles(pos, periods=rope.resonance_wavelengths()), "neox", d=64)
    return rope, x, pos, want


def test_float16_in_place(rr):
    rope, x, pos, want = half_case(rr, "float16")
    q = x.astype(np.float16)
    if not rr.has_half_precision():
        with pytest.raises(rr.LibraryTooOldError, match="rr_rope_apply_f16_inplace"):
            rope.apply_(q, pos)
        pytest.skip("library without rr_rope_apply_f16_inplace: the clear error was checked")
    want = ref.rotate(q.astype(np.float64), ref.angles(pos, periods=rope.resonance_wavelengths()), "neox", d=64)
    buf = np.zeros((9, 4, 80), np.float16)
    view = buf[:, 1:, :72]                                   # strided heads, padded rows
    view[...] = q
    rope.apply_(view, pos)
    ulp = np.spacing(np.abs(want).astype(np.float16)).astype(np.float64)
    assert np.all(np.abs(view.astype(np.float64) - want) <= ulp), "more than 1 float16 ulp from float64"
    assert np.array_equal(view[..., 64:], q[..., 64:]) and not buf[:, 0].any() and not buf[..., 72:].any()


def test_bfloat16_as_uint16_and_ml_dtypes(rr):
    rope, x, pos, _ = half_case(rr, "bfloat16")
    bits = ref.bf16_round(x.astype(np.float32))
    if not rr.has_half_precision():
        with pytest.raises(rr.LibraryTooOldError, match="rr_rope_apply_bf16_inplace"):
            rope.apply_(bits, pos, element="bfloat16")
        pytest.skip("library without rr_rope_apply_bf16_inplace: the clear error was checked")
    x_bf = ref.bf16_to_f32(bits).astype(np.float64)
    exact = ref.rotate(x_bf, ref.angles(pos, periods=rope.resonance_wavelengths()), "neox", d=64)
    want = ref.bf16_round(exact.astype(np.float32))          # round-to-nearest-even of the result
    q = bits.copy()
    rope.apply_(q, pos, element="bfloat16")
    diff = np.abs(q.astype(np.int32) - want.astype(np.int32))
    assert diff.max() <= 1 and (diff == 0).mean() > 0.95, "bf16 results off by more than one ulp"
    assert np.array_equal(q[..., 64:], bits[..., 64:])
    ml_dtypes = pytest.importorskip("ml_dtypes")
    q2 = bits.copy().view(ml_dtypes.bfloat16)
    rope.apply_(q2, pos)
    assert np.array_equal(q2.view(np.uint16), q)


# ---- buffer arguments against the C declarations (_abi.ScalarPointer) ----------------------------

def test_arguments_are_checked_against_the_c_declaration(rr):
    """A `double *` takes a C-contiguous writable float64 array (or byref of a c_double) and nothing
    else: a float32 array, a strided or read-only one, a bare address or a pointer to another type
    raise ctypes.ArgumentError before the call (nothing written); a `const int64_t *` takes a
    read-only int64 array but not an int32 one. An int outside its parameter's C type is refused."""
    import ctypes
    from resonance_rope._lib import library
    lib, rope = library(), rr.Rope(rotary_dim=8)
    h, n = rope._handle(), rope.pair_count
    good = np.zeros(n)
    assert lib.rr_rope_inv_freq_f64(h, good, n) == 0 and np.array_equal(good, rope.inv_freq())
    read_only = np.zeros(n)
    read_only.setflags(write=False)
    one = ctypes.c_double()
    assert lib.rr_rope_inv_freq_f64(h, ctypes.byref(one), 1) == 8 and one.value == 0   # BUFFER_TOO_SMALL
    for bad, why in ((np.zeros(n, np.float32), "a numpy array of float64, got float32"),
                     (np.zeros(2 * n)[::2], "C-contiguous"),
                     (read_only, "writable"),
                     (np.zeros(n).ctypes.data, "LP_c_double instance instead of int"),
                     (ctypes.byref(ctypes.c_float()), "instead of pointer to c_float"),
                     ([0.0] * n, "instead of list")):
        with pytest.raises(ctypes.ArgumentError, match=why):
            lib.rr_rope_inv_freq_f64(h, bad, n)
        assert not isinstance(bad, np.ndarray) or not bad.any()
    pos = np.arange(3, dtype=np.int64)
    pos.setflags(write=False)                                   # const int64_t *positions
    c, s = np.zeros((3, n), np.float32), np.zeros((3, n), np.float32)
    assert lib.rr_rope_cos_sin_f32(h, 0, 0, pos, 0, 3, c, s) == 0 and c[1].any()
    with pytest.raises(ctypes.ArgumentError, match="int64, got int32"):
        lib.rr_rope_cos_sin_f32(h, 0, 0, pos.astype(np.int32), 0, 3, c, s)
    # integers: outside the C type's range is an error, never its low bits (2**32 -> 0 = RR_STATUS_OK)
    assert lib.rr_status_string((1 << 31) - 1) and lib.rr_status_string(-(1 << 31))   # the ends of int32_t
    for call, why in ((lambda: lib.rr_status_string(1 << 32), "4294967296 is outside c_int"),
                      (lambda: lib.rr_status_string(-(1 << 31) - 1), "outside c_int"),
                      (lambda: lib.rr_rope_cos_sin_f32(h, 0, -1, pos, 0, 3, c, s), "-1 is outside c_uint"),
                      (lambda: lib.rr_rope_cos_sin_f32(h, 0, 0, None, 0, 1 << 63, c, s), "outside c_long")):
        with pytest.raises(ctypes.ArgumentError, match=why):
            call()


def test_struct_pointer_fields_are_checked_against_the_c_declaration(rr):
    """A struct's `const double *` / `const int64_t *` field takes a C-contiguous array of exactly
    that type (_pointees_ from the header); a `void *` field any C-contiguous array."""
    from resonance_rope._abi import RopeParams, Rotation
    from resonance_rope._arrays import address
    good = np.ones(4)
    assert address(RopeParams, "short_factor", good) == good.ctypes.data
    pos = np.arange(4, dtype=np.int64)
    assert address(Rotation, "positions", pos) == pos.ctypes.data
    assert address(Rotation, "q", np.zeros(3, np.float16)) and address(Rotation, "k", np.zeros(3, np.uint16))
    for struct, field, bad, why in ((RopeParams, "short_factor", good.astype(np.float32), "of float64, got float32"),
                                    (RopeParams, "freq_factors", np.ones(8)[::2], "C-contiguous"),
                                    (Rotation, "positions", pos.astype(np.int32), "of int64, got int32"),
                                    (Rotation, "positions", [0, 1], "got <class 'list'>"),
                                    (Rotation, "q", np.zeros((4, 4), np.float32)[:, 0], "of any type")):
        with pytest.raises(TypeError, match=why):
            address(struct, field, bad)


# ---- which functions a library may lack (the "Added in" of each, _abi.FUNCTIONS) ----------------

class HidingLibrary:
    """A freshly loaded copy of the library that does not export the names in `hidden`."""

    def __init__(self, hidden):
        import ctypes
        self._cdll, self._hidden = ctypes.CDLL(os.environ["RESONANCE_ROPE_LIB"]), set(hidden)

    def __getattr__(self, name):
        if name in self._hidden:
            raise AttributeError(name)
        return getattr(self._cdll, name)


def test_a_library_without_a_function_of_the_oldest_supported_version_is_refused(rr):
    """Every function is "Added in 0.1.0." and 0.1.0 is the oldest library the package supports:
    a library lacking one (here the bf16 rotation) is not a library the package can use."""
    from resonance_rope import _lib
    assert _lib.OLDEST_LIBRARY == (0, 1, 0)
    assert {added for _, _, added in _lib.FUNCTIONS.values()} == {(0, 1, 0)}
    with pytest.raises(rr.LibraryNotFoundError, match="does not export rr_rope_apply_bf16_inplace: "
                                                      "not a libresonance_rope of version 0.1.0 or later"):
        _lib.Library(HidingLibrary({"rr_rope_apply_bf16_inplace"}), "hiding.so")


def test_a_function_added_later_is_optional(rr, monkeypatch):
    """Were rr_rope_apply_bf16_inplace "Added in 0.2.0.", a library without it loads, says so
    (missing, has, has_half_precision) and raises LibraryTooOldError only when a call needs it."""
    from resonance_rope import _lib
    name = "rr_rope_apply_bf16_inplace"
    restype, argtypes, _ = _lib.FUNCTIONS[name]
    monkeypatch.setattr(_lib, "FUNCTIONS", dict(_lib.FUNCTIONS, **{name: (restype, argtypes, (0, 2, 0))}))
    lib = _lib.Library(HidingLibrary({name}), "hiding.so")
    assert lib.missing == [name] and not lib.has(name) and lib.has("rr_rope_apply_f16_inplace")
    with pytest.raises(rr.LibraryTooOldError, match=name + " is not exported by hiding.so"):
        lib.require(name)
    monkeypatch.setattr(_lib, "_library", lib)                  # the package now uses this library
    assert not rr.has_half_precision()
    rope = rr.Rope(rotary_dim=8)
    q = np.full((2, 1, 8), 0x3F80, np.uint16)                  # bfloat16 ones
    with pytest.raises(rr.LibraryTooOldError, match=name):
        rope.apply_(q, element="bfloat16")
    assert (q == 0x3F80).all()
    half = np.ones((2, 1, 8), np.float16)
    rope.apply_(half, np.array([0, 1]))                       # the functions it has still work
    assert half[0].tolist() == np.ones((1, 8)).tolist() and half[1, 0, 0] != 1


# ---- module entry point and library lookup ----------------------------------------------------

def test_python_m_prints_version_and_path(rr):
    out = subprocess.run([sys.executable, "-m", "resonance_rope"], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))).stdout
    assert "resonance_rope %s" % rr.__version__ in out
    assert os.path.realpath(os.environ["RESONANCE_ROPE_LIB"]) in [os.path.realpath(w) for w in out.split()]


def test_library_not_found_says_where_it_looked(tmp_path):
    import shutil
    shutil.copytree(os.path.join(ROOT, "python", "resonance_rope"), os.path.join(tmp_path, "resonance_rope"))
    env = {k: v for k, v in os.environ.items() if k not in ("RESONANCE_ROPE_LIB", "LD_LIBRARY_PATH")}
    env["PYTHONPATH"] = str(tmp_path)
    r = subprocess.run([sys.executable, "-m", "resonance_rope"], capture_output=True, text=True, cwd=tmp_path, env=env)
    if r.returncode == 0:
        pytest.skip("a system-wide libresonance_rope is installed: %s" % r.stdout)
    for expected in ("$RESONANCE_ROPE_LIB", "not set", os.path.join(str(tmp_path), "resonance_rope",
                                                                     "libresonance_rope.so.0"),
                     "checkout", "libresonance_rope.so.0", "find_library"):
        assert expected in r.stderr, (expected, r.stderr)
    env["RESONANCE_ROPE_LIB"] = str(tmp_path / "missing.so")
    r = subprocess.run([sys.executable, "-m", "resonance_rope"], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert r.returncode == 1 and "missing.so" in r.stderr and "no such file" in r.stderr


def test_found_in_checkout_without_env(tmp_path):
    """With no RESONANCE_ROPE_LIB, the package in python/ finds the checkout's stage/lib."""
    env = {k: v for k, v in os.environ.items() if k != "RESONANCE_ROPE_LIB"}
    env["PYTHONPATH"] = os.path.join(ROOT, "python")
    r = subprocess.run([sys.executable, "-m", "resonance_rope"], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert r.returncode == 0 and os.path.join(ROOT, "stage", "lib") in r.stdout, r.stdout + r.stderr


def test_pair_and_table_layout_names_with_old_aliases(rr):
    # pair_layout= / table_layout= are the names (as C rr_layout / rr_table_layout and the CLI's
    # --pair-layout / --table-layout); layout= still works for both; both at once is an error.
    new, old = rr.Rope(rotary_dim=8, pair_layout="gptj"), rr.Rope(rotary_dim=8, layout="gptj")
    assert new.pair_layout == new.layout == old.pair_layout == "gptj" and "pair_layout='gptj'" in repr(new)
    assert rr.Rope(rotary_dim=8).pair_layout == "neox"
    with pytest.raises(TypeError, match="layout= is the old name of pair_layout="):
        rr.Rope(rotary_dim=8, pair_layout="gptj", layout="gptj")
    pos = np.arange(-3, 3)
    c, s = new.cos_sin(pos, table_layout="gptj")
    c_old, s_old = new.cos_sin(pos, layout="gptj")
    assert np.array_equal(c, c_old) and np.array_equal(s, s_old)
    ang = pos[:, None] * ref.plain_theta(8, 10000.0)[None, :]
    assert np.abs(c - np.repeat(np.cos(ang), 2, axis=1)).max() < 2e-7      # gptj rows: each value twice
    with pytest.raises(TypeError, match="layout= is the old name of table_layout="):
        new.cos_sin(pos, table_layout="hf", layout="hf")
    with pytest.raises(ValueError, match="table_layout must be one of"):
        new.cos_sin(pos, table_layout="neox")
    text = "general.architecture=llama\nllama.rope.dimension_count=8\nllama.attention.key_length=8\n"
    assert rr.Rope.from_gguf(text, pair_layout="neox").pair_layout == "neox"
    assert rr.Rope.from_gguf(text, layout="neox").pair_layout == "neox"


def test_posgen_paper_task_names(rr):
    for paper, old in (("recursive", "recurrent"), ("semi-recursive", "semirecurrent")):
        a = rr.PosGen(task=paper, modulus=7, length=16).generate("train", 0, 4)
        assert np.array_equal(a, rr.PosGen(task=old, modulus=7, length=16).generate("train", 0, 4))
    assert np.array_equal(rr.PosGen(arith="pow_sin_2pi").generate("train", 0, 2),
                          rr.PosGen(arith="pow_sin2pi").generate("train", 0, 2))
    with pytest.raises(ValueError, match="task must be one of recursive, cot, semi-recursive"):
        rr.PosGen(task="recursve")


def test_from_hf_config_missing_file_says_so(rr, tmp_path):
    missing = str(tmp_path / "no-such-config.json")
    with pytest.raises(FileNotFoundError, match="config file does not exist") as e:
        rr.Rope.from_hf_config(missing)
    assert missing in str(e.value)
    # JSON text is still text, and a real path still loads.
    assert rr.Rope.from_hf_config('{"head_dim": 8, "rope_theta": 10000.0}').rotary_dim == 8
