#!/usr/bin/env python3
"""Make a GGUF model use Resonance RoPE in llama.cpp, without touching llama.cpp.

llama.cpp divides pair i's RoPE frequency by rope_freqs[i] (the optional f32 tensor
`rope_freqs.weight`, shape [rotary_dim / 2]). Writing f_i = theta_i / theta~_i there, with
theta~_i = 2*pi / round(2*pi / theta_i), gives every pair an integer wavelength: Resonance RoPE,
or Resonance YaRN on top of a YaRN model's own scaling (llama.cpp applies YaRN to theta / f).

If the file already has rope_freqs (Llama 3.1 GGUFs store their llama3 factors there), those
factors define the model's frequencies, theta_i / old_i; the new tensor is old_i times the
Resonance factors of those frequencies (= base theta_i / theta~_i), so the llama3 scaling is kept.
Scalings that llama.cpp applies from metadata (linear, YaRN) act after the division, so the
factors are computed relative to the scaled frequencies: Resonance YaRN for a YaRN model.

    python3 Examples/python/gguf_add_resonance.py model.gguf model-resonance.gguf

Needs `pip install gguf` (to copy the file) and the resonance_rope package.
"""
import argparse
import sys

import numpy as np

import resonance_rope as rr

# Architectures whose llama.cpp loader creates the optional rope_freqs tensor (see the README,
# "llama.cpp"); for others llama.cpp would not read it, or would refuse an unexpected tensor.
READS_ROPE_FREQS = {"llama", "deci", "mllama", "refact", "minicpm", "granite", "granitemoe"}
TENSOR = "rope_freqs.weight"


def resonance_rope_freqs(path: str, layout: str = None) -> tuple:
    """(new rope_freqs as float32 [d/2], old rope_freqs or None, the Resonance Rope).

    The Rope read from the file has the frequencies llama.cpp uses, theta_i / old_i with any
    scaling llama.cpp applies from the metadata (linear, YaRN). llama.cpp divides by rope_freqs
    BEFORE that scaling, and the scalings are linear in theta, so new_i = old_i * theta_i' /
    theta~_i (theta_i' the file's scaled frequency) makes llama.cpp compute theta~_i."""
    from resonance_rope import _gguf  # the package's small GGUF metadata reader
    _, tensors = _gguf.read_gguf(path)
    old = tensors.get(TENSOR)
    rope = rr.Rope.from_gguf(path, resonance=True, layout=layout)   # reads the old rope_freqs too
    scaled = 2 * np.pi / rope.wavelengths()                          # theta_i' before rounding
    ones = np.ones(rope.pair_count) if old is None else old.astype(np.float64)
    new = (ones * scaled / rope.inv_freq()).astype(np.float32)       # in double, rounded once
    return new, old, rope


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--force", action="store_true", help="write even for an architecture not known to read rope_freqs")
    args = ap.parse_args(argv)

    import gguf  # pip install gguf

    reader = gguf.GGUFReader(args.input)
    arch_field = reader.get_field(gguf.Keys.General.ARCHITECTURE)
    arch = arch_field.contents() if arch_field else None
    if arch not in READS_ROPE_FREQS and not args.force:
        print("%s: architecture %r is not known to read rope_freqs in llama.cpp (pass --force to write anyway)"
              % (args.input, arch), file=sys.stderr)
        return 2
    # llama.cpp's layout does not change the factors; give one so unknown architectures work.
    new, old, rope = resonance_rope_freqs(args.input, layout="gptj")

    writer = gguf.GGUFWriter(args.output, arch, endianess=reader.endianess)
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        vtype = field.types[0]
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), vtype, sub_type=sub)
    writer.add_string("resonance_rope.version", rr.__version__)
    writer.add_string("resonance_rope.note", "rope_freqs.weight holds Resonance RoPE factors%s"
                      % (" times the original rope_freqs" if old is not None else ""))

    tensors = [(t.name, t.data, t.tensor_type) for t in reader.tensors if t.name != TENSOR]
    tensors.append((TENSOR, new, gguf.GGMLQuantizationType.F32))
    for name, data, ttype in tensors:
        writer.add_tensor_info(name, data.shape, data.dtype, data.nbytes, ttype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for _, data, _ in tensors:
        writer.write_tensor_data(data, tensor_endianess=reader.endianess)
    writer.close()

    print("%s -> %s: %s %s[%d] (%s), wavelengths of pairs 0..3 now %s"
          % (args.input, args.output, "replaced" if old is not None else "added", TENSOR, new.size,
             "old factors x Resonance" if old is not None else "Resonance", rope.resonance_wavelengths()[:4].tolist()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
