"""resonance_rope.torch against the real transformers modeling code (tiny random models built from
configs, nothing downloaded).

The reference forward pass is the model's own unpatched code with its rotation function
(``apply_rotary_pos_emb`` / DeepSeek's ``apply_rotary_pos_emb_interleave``) replaced by one that
ignores transformers' cos/sin and rotates the captured pre-RoPE q and k with ``Rope.apply_``
(positions captured from the rotary module's input). The patched model must give the same
logits bit for bit. The per-architecture table is printed at the end of the pytest run
(conftest.py's terminal summary).
"""
import importlib
import json
import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")           # nothing is downloaded
torch = pytest.importorskip("torch", reason="torch is not installed in this environment: run `make deps EXTRAS=torch` "
                            "(tools/requirements/torch.txt) to run the PyTorch / transformers tests")
transformers = pytest.importorskip("transformers", reason="transformers is not installed: run `make deps EXTRAS=torch`")

SEED = 1234
VOCAB = 97
TABLE = []          # rows for the summary printed by conftest.py


def small(**kw):
    base = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
    base.update(kw)
    return base


def longrope_factors(pairs):
    rng = np.random.default_rng(SEED)
    return [float(x) for x in 1.0 + rng.random(pairs)], [float(x) for x in 1.0 + 4.0 * rng.random(pairs)]


SHORT, LONG = longrope_factors(8)
# (name, config class, model class, modeling module, rotation function, config kwargs, lengths)
ARCHS = [
    ("llama", "LlamaConfig", "LlamaForCausalLM", "llama", "apply_rotary_pos_emb",
     small(rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                            "high_freq_factor": 4.0, "original_max_position_embeddings": 32}), [40]),
    ("mistral", "MistralConfig", "MistralForCausalLM", "mistral", "apply_rotary_pos_emb",
     small(rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}, sliding_window=None), [40]),
    ("qwen2", "Qwen2Config", "Qwen2ForCausalLM", "qwen2", "apply_rotary_pos_emb",
     small(rope_parameters={"rope_type": "linear", "rope_theta": 1000000.0, "factor": 4.0}), [40]),
    ("qwen3", "Qwen3Config", "Qwen3ForCausalLM", "qwen3", "apply_rotary_pos_emb",
     small(head_dim=16, rope_parameters={"rope_type": "yarn", "rope_theta": 1000000.0, "factor": 4.0,
                                         "original_max_position_embeddings": 64}), [40]),
    ("phi3", "Phi3Config", "Phi3ForCausalLM", "phi3", "apply_rotary_pos_emb",
     small(num_key_value_heads=4, original_max_position_embeddings=48, pad_token_id=0,
           rope_parameters={"rope_type": "longrope", "rope_theta": 10000.0, "short_factor": SHORT,
                            "long_factor": LONG}), [40, 64]),
    ("gpt_neox", "GPTNeoXConfig", "GPTNeoXForCausalLM", "gpt_neox", "apply_rotary_pos_emb",
     dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
          max_position_embeddings=256,
          rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.25}), [40]),
    ("gemma", "GemmaConfig", "GemmaForCausalLM", "gemma", "apply_rotary_pos_emb",
     small(head_dim=16, rope_parameters={"rope_type": "default", "rope_theta": 10000.0}), [40]),
    ("deepseek_v3", "DeepseekV3Config", "DeepseekV3ForCausalLM", "deepseek_v3", "apply_rotary_pos_emb_interleave",
     small(num_key_value_heads=4, moe_intermediate_size=32, n_routed_experts=4, num_experts_per_tok=2, n_group=1,
           topk_group=1, first_k_dense_replace=1, q_lora_rank=32, kv_lora_rank=16, qk_rope_head_dim=8,
           qk_nope_head_dim=8, v_head_dim=8, rope_interleave=True,
           rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0,
                            "original_max_position_embeddings": 64, "mscale": 1.0, "mscale_all_dim": 0.707,
                            "beta_fast": 32.0, "beta_slow": 1.0}), [40]),
    ("gpt_oss", "GptOssConfig", "GptOssForCausalLM", "gpt_oss", "apply_rotary_pos_emb",
     small(head_dim=16, num_local_experts=4, num_experts_per_tok=2, sliding_window=16,
           rope_parameters={"rope_type": "yarn", "rope_theta": 150000.0, "factor": 32.0, "beta_fast": 32.0,
                            "beta_slow": 1.0, "truncate": False, "original_max_position_embeddings": 64}), [40]),
]


def build(arch):
    name, cfg_cls, model_cls, _, _, kw, _ = arch
    cfg = getattr(transformers, cfg_cls)(**kw)
    torch.manual_seed(SEED)
    model = getattr(transformers, model_cls)(cfg).eval()
    return model


def rotary_modules(model):
    return [m for _, m in model.named_modules() if type(m).__name__.endswith("RotaryEmbedding")]


def logits(model, ids):
    with torch.no_grad():
        return model(ids).logits


def reference_logits(model, arch, ids, rr, resonance, monkeypatch):
    """The unpatched model, its rotation done by Rope.apply_ on the captured pre-RoPE q, k."""
    name, _, _, modname, fn, kw, _ = arch
    mod = importlib.import_module("transformers.models.%s.modeling_%s" % (modname, modname))
    captured = {}
    hooks = [m.register_forward_pre_hook(
        lambda m, a, k: captured.__setitem__("pos", k.get("position_ids", a[1] if len(a) > 1 else None)),
        with_kwargs=True) for m in rotary_modules(model)]
    cfg = model.config
    original = getattr(cfg, "original_max_position_embeddings", None) or (cfg.rope_parameters or {}).get(
        "original_max_position_embeddings")

    def rope_for(pos):
        seq = int(pos.max()) + 1
        if cfg.rope_parameters.get("rope_type") == "longrope":
            # transformers' dynamic_rope_update: long factors once seq_len > original
            return rr.Rope.from_hf_config(cfg, sequence_length=seq if seq > original else original,
                                          resonance=resonance)
        return rr.Rope.from_hf_config(cfg, resonance=resonance)

    deinterleave = fn == "apply_rotary_pos_emb_interleave"

    def rotate(q, k, cos, sin, *args, **kwargs):
        pos = captured["pos"]
        rope = rope_for(pos)
        if deinterleave:   # the interleaved pairs (2i, 2i + 1): the library's gptj layout
            assert rope.layout == "gptj"
        q, k = q.clone(), k.clone()
        rope.apply_(q, pos, k, attention_factor=True)
        if deinterleave:   # transformers returns the rotated pairs de-interleaved: a pure permutation
            q = torch.cat([q[..., 0::2], q[..., 1::2]], dim=-1)
            k = torch.cat([k[..., 0::2], k[..., 1::2]], dim=-1)
        return q, k

    with monkeypatch.context() as mp:
        mp.setattr(mod, fn, rotate)
        out = logits(model, ids)
    for h in hooks:
        h.remove()
    assert "pos" in captured
    return out


@pytest.fixture(scope="module")
def rrt(rr):
    import resonance_rope.torch as rrt
    return rrt


@pytest.mark.parametrize("arch", ARCHS, ids=[a[0] for a in ARCHS])
def test_architecture(arch, rr, rrt, monkeypatch, tmp_path):
    name, lengths = arch[0], arch[6]
    print("seed %d" % SEED)
    model = build(arch)
    torch.manual_seed(SEED + 1)
    row = {"arch": name, "rope_type": model.config.rope_parameters.get("rope_type")}
    ref_diff, nores_diff = 0.0, 0.0
    for n in lengths:
        ids = torch.randint(0, VOCAB, (2, n))
        base = logits(model, ids)
        for resonance in (False, True):
            rrt.patch_model(model, resonance=resonance, exact=True)
            assert all(isinstance(m, rrt.RotaryEmbedding) for m in rotary_modules(model))
            patched = logits(model, ids)
            rrt.unpatch_model(model)
            assert not hasattr(model.config, rrt.CONFIG_KEY)
            ref = reference_logits(model, arch, ids, rr, resonance, monkeypatch)
            assert torch.equal(patched, ref), "%s: patched differs from the Rope.apply_ reference by %g" % (
                name, (patched - ref).abs().max())
            ref_diff = max(ref_diff, float((patched - ref).abs().max()))
            if not resonance:
                # Same frequencies, exact tables vs transformers' float32 angles: float32 rounding.
                d = float((patched - base).abs().max())
                nores_diff = max(nores_diff, d)
                assert d < 1e-4 * float(base.abs().max()), "%s: %g" % (name, d)
            else:
                assert not torch.equal(patched, base)       # Resonance changes the model
        assert torch.equal(logits(model, ids), base)         # unpatch restored the original
    row["ref"], row["nores"] = ref_diff, nores_diff

    # inv_freq-only mode: the library's frequencies in transformers' float32 formula.
    rrt.patch_model(model, resonance=False, exact=False)
    row["inv_only"] = float((logits(model, ids) - base).abs().max())
    assert row["inv_only"] < 1e-4 * float(base.abs().max())

    # A choice other than the default survives save/load: patch_model(loaded) reads it.
    model.save_pretrained(tmp_path / "inv")
    other = getattr(transformers, arch[2]).from_pretrained(tmp_path / "inv")
    rrt.patch_model(other)
    assert all(not m.exact and not m.resonance for m in rotary_modules(other))

    # Idempotent, saved with the model, restored by patch_model after from_pretrained.
    rrt.patch_model(model, resonance=True, exact=True)
    rrt.patch_model(model, resonance=True, exact=True)
    patched = logits(model, ids)
    assert model.config.resonance_rope["resonance"] is True and model.config.resonance_rope["exact"] is True
    model.save_pretrained(tmp_path)
    saved = json.load(open(tmp_path / "config.json"))
    assert saved[rrt.CONFIG_KEY]["resonance"] is True
    loaded = getattr(transformers, arch[2]).from_pretrained(tmp_path).eval()
    assert torch.equal(logits(loaded, ids), base)            # loading alone does not patch
    rrt.patch_model(loaded)
    row["roundtrip"] = float((logits(loaded, ids) - patched).abs().max())
    assert torch.equal(logits(loaded, ids), patched)

    # generate() with the KV cache (decode steps at positions n, n + 1, ...): each greedy token
    # equals the argmax of a full forward pass over the prefix.
    prompt = ids[:1, :12]
    with torch.no_grad():
        out = loaded.generate(prompt, max_new_tokens=6, do_sample=False, pad_token_id=0)
    assert out.shape == (1, 18)
    for t in range(12, 18):
        assert int(logits(loaded, out[:, :t])[0, -1].argmax()) == int(out[0, t])
    row["generate"] = "ok"

    # bfloat16: the tables are the float32 exact tables rounded to bf16; the logits stay close.
    loaded.to(torch.bfloat16)
    rrt.patch_model(loaded)
    emb = rotary_modules(loaded)[0]
    x = torch.zeros(1, dtype=torch.bfloat16)
    pos = torch.arange(n).unsqueeze(0)
    cos16, sin16 = emb(x, pos)
    cos32, sin32 = emb(torch.zeros(1), pos)
    assert cos16.dtype == torch.bfloat16 and torch.equal(cos16, cos32.to(torch.bfloat16))
    assert torch.equal(sin16, sin32.to(torch.bfloat16))
    bf = logits(loaded, ids).float()
    assert torch.isfinite(bf).all()
    row["bf16"] = float((bf - patched).abs().max() / patched.abs().max())
    assert row["bf16"] < 0.1
    TABLE.append(row)


def test_from_hf_config_sources(rr, tmp_path):
    cfg = transformers.LlamaConfig(**small(rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0,
                                                            "factor": 8.0, "low_freq_factor": 1.0,
                                                            "high_freq_factor": 4.0,
                                                            "original_max_position_embeddings": 32}))
    cfg.save_pretrained(tmp_path)
    want = rr.Rope.from_hf_config(cfg.to_dict(), resonance=True).inv_freq()
    text = (tmp_path / "config.json").read_text()
    for source in (cfg, cfg.to_dict(), tmp_path, str(tmp_path), tmp_path / "config.json",
                   str(tmp_path / "config.json"), text, text.encode()):
        r = rr.Rope.from_hf_config(source, resonance=True)
        assert r.scaling == "llama3" and np.array_equal(r.inv_freq(), want), type(source)
    # transformers' own frequencies for this config (float32): the library's agree to rounding
    hf_inv, _ = transformers.modeling_rope_utils.ROPE_INIT_FUNCTIONS["llama3"](cfg)
    assert np.allclose(rr.Rope.from_hf_config(cfg).inv_freq(), hf_inv.double().numpy(), rtol=2e-7, atol=0)
    with pytest.raises(FileNotFoundError, match="config file does not exist"):
        rr.Rope.from_hf_config(str(tmp_path / "missing.json"))
    with pytest.raises(FileNotFoundError, match="config file does not exist"):
        rr.Rope.from_hf_config(tmp_path / "empty-dir-has-no-config")


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_apply_torch_zero_copy(rr, rrt, dtype):
    """Rope.apply_ on torch tensors in HF's [batch, heads, tokens, dim] layout with [batch, tokens]
    position ids, in place, equals the numpy path on the same bits (float32 also against float64)."""
    import reference as ref
    rng = np.random.default_rng(SEED)
    print("seed %d" % SEED)
    rope = rr.Rope(rotary_dim=16, head_dim=24, base=10000.0, resonance=True)
    tdt = getattr(torch, dtype)
    q = torch.from_numpy(rng.standard_normal((2, 40, 3, 24)).astype(np.float32)).to(tdt).transpose(1, 2)
    k = torch.from_numpy(rng.standard_normal((2, 1, 40, 24)).astype(np.float32)).to(tdt)
    pos = torch.from_numpy(rng.integers(0, 100000, (2, 40)))
    q0, k0 = q.clone(), k.clone()
    ptr = q.data_ptr()
    assert rope.apply_(q, pos, k) is q and q.data_ptr() == ptr and not q.is_contiguous()
    # numpy path on copies of the same bits
    view = (lambda t: t.view(torch.int16).numpy().view(np.uint16)) if dtype == "bfloat16" else (lambda t: t.numpy())
    qn, kn = view(q0.contiguous()).copy(), view(k0).copy()
    rope.apply_(qn, pos.numpy(), kn, axes="bhtd", element="bfloat16" if dtype == "bfloat16" else None)
    assert np.array_equal(view(q.contiguous()), qn) and np.array_equal(view(k), kn)
    if dtype == "float32":
        # independent float64 rotation with the library's integer wavelengths
        ang = ref.angles(pos.numpy().reshape(-1), periods=rope.resonance_wavelengths()).reshape(2, 1, 40, 8)
        x = q0.double().numpy()
        x1, x2 = x[..., :8], x[..., 8:16]
        want = np.concatenate([x1 * np.cos(ang) - x2 * np.sin(ang), x2 * np.cos(ang) + x1 * np.sin(ang),
                               x[..., 16:]], -1)
        assert np.abs(q.double().numpy() - want).max() < 1e-5
    # the functional form and [1, tokens] broadcast position ids
    q2 = q0.clone()
    rrt.apply_(rope, q2, None, pos[:1])
    q3 = q0.clone()
    rope.apply_(q3, pos[0])
    assert torch.equal(q2, q3)


def test_apply_torch_refusals(rr, rrt):
    rope = rr.Rope(rotary_dim=8)
    q = torch.ones(1, 2, 3, 8)
    before = q.clone()
    with pytest.raises(ValueError, match="is on meta"):
        rope.apply_(torch.ones(1, 2, 3, 8, device="meta"), [0, 1, 2])
    with pytest.raises(ValueError, match="requires grad"):
        rope.apply_(torch.ones(1, 2, 3, 8, requires_grad=True), [0, 1, 2])
    with pytest.raises(TypeError, match="float32, float16 or bfloat16"):
        rope.apply_(torch.ones(1, 2, 3, 8, dtype=torch.float64), [0, 1, 2])
    with pytest.raises(TypeError, match="int64"):
        rope.apply_(q, torch.arange(3, dtype=torch.int32))
    with pytest.raises(TypeError, match="dtype"):
        rope.apply_(q, [0, 1, 2], torch.ones(1, 2, 3, 8, dtype=torch.float16))
    assert torch.equal(q, before)


def test_rotary_embedding_cache_is_bounded_and_exact(rr, rrt):
    rope = rr.Rope(rotary_dim=16, base=10000.0, resonance=True)
    emb = rrt.RotaryEmbedding(rope)
    x = torch.zeros(1)
    emb.max_cached_positions = 1024                    # small bound for the test
    pos = torch.tensor([[0, 5, 1023]])
    cos, sin = emb(x, pos)
    want_c, want_s = rope.cos_sin(np.array([0, 5, 1023]), layout="hf", attention_factor=True)
    assert torch.equal(cos[0], torch.from_numpy(want_c)) and torch.equal(sin[0], torch.from_numpy(want_s))
    far = torch.tensor([[10 ** 12, -7, 3]])            # outside the cache: tables for these positions only
    cos, sin = emb(x, far)
    want_c, want_s = rope.cos_sin(np.array([10 ** 12, -7, 3]), layout="hf", attention_factor=True)
    assert torch.equal(cos[0], torch.from_numpy(want_c)) and torch.equal(sin[0], torch.from_numpy(want_s))
    assert max(e[0] for e in emb._cache.values()) <= 1024
    for dt in (torch.float16, torch.bfloat16, torch.float64, torch.float32, torch.float16):
        emb(torch.zeros(1, dtype=dt), pos)
    assert len(emb._cache) <= 4


def test_patch_model_errors(rr, rrt):
    with pytest.raises(ValueError, match="no rotary embedding"):
        rrt.patch_model(torch.nn.Linear(2, 2))


def test_readme_torch_snippet_runs_and_prints_its_numbers(rr):
    """The PyTorch / transformers section runs as written and prints the errors it states."""
    import re
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    text = open(os.path.join(root, "README.md")).read()
    sec = text[text.index("## PyTorch / transformers"):]
    code = re.findall(r"```python\n(.*?)```", sec, re.S)[0]
    stated = re.findall(r"```text\n(.*?)```", sec, re.S)[0].strip().splitlines()
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(root),
                       env=dict(os.environ, PYTHONPATH=os.path.join(root, "python")))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[:2] == stated
    assert "'resonance': True" in lines[2] and "'exact': True" in lines[2]


def test_dynamic_ntk_follows_transformers(rr, rrt):
    """Dynamic NTK's state (grow with the longest length, reset below the original length), call by
    call against transformers' own LlamaRotaryEmbedding: same cos/sin to float32-angle rounding,
    while a wrong base would be off by far more."""
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding
    cfg = transformers.LlamaConfig(**small(max_position_embeddings=64, rope_parameters={
        "rope_type": "dynamic", "rope_theta": 10000.0, "factor": 4.0}))
    hf = LlamaRotaryEmbedding(cfg)
    ours = rrt.RotaryEmbedding(cfg, resonance=False)
    x = torch.zeros(1)
    for n in (32, 200, 120, 32, 500, 64):
        pos = torch.arange(n)[None]
        (hc, hs), (oc, os_) = hf(x, pos), ours(x, pos)
        # |error| <= n * theta_max * 2^-24 (float32 angle) + float32 rounding of cos/sin
        bound = n * 2.0 ** -24 * 2 + 1e-6
        assert float((hc - oc).abs().max()) < bound and float((hs - os_).abs().max()) < bound, n
