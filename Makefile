# resonance-rope: the front door.
#   make demo      build everything and run the C and Python examples
#   make test      every test (Swift, header, C, libffi, Python)
#   make install PREFIX=DIR
#   make python-wheel   a wheel of the Python package with the library inside (dist/)
#   make header    regenerate Include/resonance_rope.h from the Swift sources
#   make bench     release build, then the kernel benchmark table (NATIVE=1: this CPU's build)
#   make NATIVE=1 ...   build for this CPU (may SIGILL elsewhere); default: any x86-64

SHELL      := /bin/bash
SWIFT      ?= swift
PYTHON     ?= python3
CC         ?= cc
PREFIX     ?= $(CURDIR)/stage
STAGE      := $(CURDIR)/stage
VERSION    := 0.1.0
SOVERSION  := 0
NATIVE     ?= 0

ifeq ($(NATIVE),1)
  SCRATCH    := .build-native
  CPU_FLAGS  := -Xswiftc -target-cpu -Xswiftc native -Xcc -march=native -Xswiftc -DRESONANCE_ROPE_NATIVE
else
  SCRATCH    := .build-release
  CPU_FLAGS  :=
endif
# -static-stdlib links the Swift runtime into the .so (it must stay out of Package.swift,
# where it breaks `swift test`).
RELEASE_FLAGS := -c release -Xswiftc -static-stdlib $(CPU_FLAGS) --scratch-path $(SCRATCH)
RELEASE_DIR   := $(SCRATCH)/release
LIB           := $(RELEASE_DIR)/libresonance_rope.so
CLI           := $(RELEASE_DIR)/resonance-rope

C_WARN     := -std=c99 -Wall -Wextra -Werror -pedantic
PKG        := PKG_CONFIG_PATH=$(STAGE)/lib/pkgconfig pkg-config

.PHONY: all build deps header check-header install stage demo test test-swift test-c test-ffi \
        test-python test-symbols python-wheel bench clean

all: build

deps:
	@bash tools/ensure-deps.sh

build:
	$(SWIFT) build $(RELEASE_FLAGS)

# Release build (never benchmark debug), then the benchmark table; `$(CLI) bench --json` for JSON.
bench: build
	$(CLI) bench

# The debug build makes the compiler emit the @c declarations (.build/resonance_rope-emitted.h).
header:
	$(SWIFT) build
	$(PYTHON) tools/gen_header.py

check-header:
	$(SWIFT) build
	$(PYTHON) tools/gen_header.py --check

install: build
	install -d $(PREFIX)/lib/pkgconfig $(PREFIX)/include $(PREFIX)/bin
	install -m 755 $(LIB) $(PREFIX)/lib/libresonance_rope.so.$(VERSION)
	strip --strip-unneeded $(PREFIX)/lib/libresonance_rope.so.$(VERSION)
	ln -sf libresonance_rope.so.$(VERSION) $(PREFIX)/lib/libresonance_rope.so.$(SOVERSION)
	ln -sf libresonance_rope.so.$(SOVERSION) $(PREFIX)/lib/libresonance_rope.so
	install -m 644 Include/resonance_rope.h $(PREFIX)/include/resonance_rope.h
	install -m 755 -s $(CLI) $(PREFIX)/bin/resonance-rope
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' tools/resonance_rope.pc.in \
	  > $(PREFIX)/lib/pkgconfig/resonance_rope.pc

stage:
	$(MAKE) --no-print-directory install PREFIX=$(STAGE)

demo: deps stage
	$(MAKE) --no-print-directory -C Examples/c PKG_CONFIG_PATH=$(STAGE)/lib/pkgconfig run
	PYTHONPATH=$(CURDIR)/python RESONANCE_ROPE_LIB=$(STAGE)/lib/libresonance_rope.so $(PYTHON) Examples/python/demo.py

test: deps check-header test-swift stage test-symbols test-c test-ffi test-python test-no-toolchain
	@echo "make test: all suites passed"

test-swift:
	@mkdir -p .build
	$(SWIFT) test 2>&1 | tee .build/swift-test.log | grep -E "error:|failed|Executed|Test run with" ; \
	  test $${PIPESTATUS[0]} -eq 0

test-symbols:
	$(PYTHON) tools/check_symbols.py $(STAGE)/lib/libresonance_rope.so

TEST_C_BIN := Tests/c/bin
test-c:
	mkdir -p $(TEST_C_BIN)
	$(CC) $(C_WARN) $$($(PKG) --cflags resonance_rope) Tests/c/test_abi.c -o $(TEST_C_BIN)/test_abi \
	  $$($(PKG) --libs resonance_rope) -Wl,-rpath,$(STAGE)/lib -lm
	$(TEST_C_BIN)/test_abi
	g++ -std=c++11 -Wall -Wextra -Werror -pedantic $$($(PKG) --cflags resonance_rope) -x c++ \
	  Tests/c/test_header_cxx.cpp -o $(TEST_C_BIN)/test_header_cxx $$($(PKG) --libs resonance_rope) \
	  -Wl,-rpath,$(STAGE)/lib
	$(TEST_C_BIN)/test_header_cxx

test-ffi:
	mkdir -p $(TEST_C_BIN)
	$(CC) $(C_WARN) -D_GNU_SOURCE $$($(PKG) --cflags resonance_rope) Tests/c/test_ffi.c \
	  -o $(TEST_C_BIN)/test_ffi -lffi -ldl -lm
	$(TEST_C_BIN)/test_ffi $(STAGE)/lib/libresonance_rope.so

# The installed library and tool must work with the Swift toolchain hidden (a private mount
# namespace with an empty /opt/swift); skipped with a message where unshare is not permitted.
SWIFT_ROOT := $(abspath $(dir $(shell command -v $(SWIFT)))/../..)
test-no-toolchain:
	@if unshare -m true 2>/dev/null; then \
	  unshare -m sh -c 'mount -t tmpfs none $(SWIFT_ROOT) && test -z "$$(ls -A $(SWIFT_ROOT))" && \
	    $(TEST_C_BIN)/test_abi >/dev/null && $(STAGE)/bin/resonance-rope freqs --rotary-dim 8 --json >/dev/null && \
	    echo "test-no-toolchain: 2 passed, 0 failed (C tests and tool with $(SWIFT_ROOT) hidden)"'; \
	else echo "test-no-toolchain: skipped (unshare -m not permitted here)"; fi

test-python:
	PYTHONPATH=$(CURDIR)/python RESONANCE_ROPE_LIB=$(STAGE)/lib/libresonance_rope.so RESONANCE_ROPE_CLI=$(STAGE)/bin/resonance-rope \
	  $(PYTHON) -m pytest -q Tests/python

# A wheel of the Python package (python/) with the built library inside (dist/*.whl, tagged for
# this platform); `pip install ./python` alone gives a pure-Python package that finds the library.
python-wheel: stage
	rm -rf python/build && mkdir -p dist
	cp $(STAGE)/lib/libresonance_rope.so.$(VERSION) python/resonance_rope/libresonance_rope.so.$(SOVERSION)
	$(PYTHON) -m pip wheel --no-deps -q -w dist ./python; s=$$?; \
	  rm -rf python/resonance_rope/libresonance_rope.so.$(SOVERSION) python/build python/*.egg-info; exit $$s
	@ls dist/*.whl

clean:
	rm -rf .build .build-release .build-native $(STAGE) $(TEST_C_BIN) dist python/build
	$(MAKE) -C Examples/c clean
