#!/bin/bash
# Vector-instruction evidence for the kernels of a built libresonance_rope.so:
#   tools/disasm_summary.sh .build-release/release/libresonance_rope.so
# One line per kernel (every specialization and closure of it summed): instructions, packed
# float32 / float64 arithmetic, scalar floating-point arithmetic, ymm / zmm operands, prefetches,
# F16C conversions.
objdump -d --no-show-raw-insn "$1" | awk '
/^[0-9a-f]+ <.*>:$/ { name=$2; next }
{ ins=$2; ops=$3 }
name ~ /ResonanceRopeCore.*(_rotate33|_rotateConvertedRow|_rotateToken|fillE06layout)/ || name ~ /resonance_rope_(f16c|bf16)/ {
  key = name
  if (name ~ /_rotate33.*BFloat16ElementO/) key="_rotate<BFloat16Element> (software bf16)"
  else if (name ~ /_rotate33.*Float16ElementO/) key="_rotate<Float16Element> (software f16)"
  else if (name ~ /_rotate33.*Float32ElementO/) key="_rotate<Float32Element> (f32, and f16/bf16 rows)"
  else if (name ~ /_rotateConvertedRow/) key="_rotateConvertedRow (f16/bf16 rows via F16C/AVX2)"
  else if (name ~ /_rotateToken/) key="_rotateToken (out-of-line copies)"
  else if (name ~ /fillE06layout/) key="fillTable"
  else if (name ~ /resonance_rope_/) { sub(/^</, "", key); sub(/>:$/, "", key) }
  else next
  n[key]++
  if (ins ~ /^v?(mul|add|sub)ps$/) ps[key]++
  if (ins ~ /^v?(mul|add|sub)pd$/) pd[key]++
  if (ins ~ /^v?(mul|add|sub)s[sd]$/) sc[key]++
  if (ops ~ /ymm/) y[key]++
  if (ops ~ /zmm/) z[key]++
  if (ins ~ /prefetch/) pf[key]++
  if (ins ~ /cvtph2ps|cvtps2ph/) cv[key]++
}
END { for (k in n) printf "%-55s instr %5d  packed-f32 %4d  packed-f64 %4d  scalar-fp %3d  ymm %4d  zmm %4d  prefetch %2d  f16c %2d\n", k, n[k], ps[k], pd[k], sc[k], y[k], z[k], pf[k], cv[k] }' | sort
