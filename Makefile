# nn.h: build the tests and examples.  See README.md.
#   make            build the examples and every test program
#   make test       the suite: C and C++, float and double, -DNDEBUG, -DNN_REFERENCE
#                   (EXAMPLES= leaves out the examples: the test programs alone)
#   make examples   build the examples into build/examples/
#   make sanitize   the C suite under ASan (with leak checks) and UBSan
#   make fuzz       libFuzzer on nn_load_mem for FUZZ_TIME (60) seconds
#   make portability  every compiler, C++ standard, libc, 32-bit, s390x...
#   make bench      P1, P2, P2x2, P3, FMA peak, kernels, latency; native and -O2
#   make mcu        exported nets on an emulated Cortex-M3 and ATmega328P
#   make python     examples/nnh.py (model files in Python) against PyTorch
#   make install    nn.h and nn.pc under PREFIX (/usr/local); uninstall
#   make clean      remove build/
# Flags: CFLAGS/CXXFLAGS set optimisation (default -O2 -g); the warnings sit
# in WARN_C/WARN_CXX, so `make test CFLAGS=-O0` still warns.  CC=clang
# CXX=clang++ builds everything with clang.

CFLAGS ?= -O2 -g
CXXFLAGS ?= -O2 -g
LDLIBS = -lm
BUILD = build

WARN_C = -std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wconversion \
  -Wsign-conversion -Wdouble-promotion -Wstrict-prototypes \
  -Wmissing-prototypes -Wcast-qual -Wundef -Wvla -Wwrite-strings -Wformat=2 \
  -Werror
CXXSTD = c++11
WARN_CXX = -std=$(CXXSTD) -Wall -Wextra -Wpedantic -Wshadow -Wconversion \
  -Wsign-conversion -Wdouble-promotion -Wcast-qual -Wundef -Werror
ifneq (,$(findstring clang,$(shell $(CC) --version 2>/dev/null)))
WARN_C += -Wcomma
endif

# The suite is built six ways: C and C++, float and double; C with
# -DNDEBUG, the release build (CMake's Release, most distributions), in
# which NN_ASSERT is off and every check of sizes, settings and data must
# still hold; and C with -DNN_REFERENCE, the textbook code without the fast
# paths, which must pass the same tests.  CONFIGS may name fewer
# (CONFIGS="c-float c-double").
CONFIGS = c-float c-double c-ndebug c-ref cxx-float cxx-double
# no C++ compiler: the C++ configs are left out, and make says so
ifeq ($(origin CONFIGS),file)
ifeq (,$(shell command -v $(firstword $(CXX)) 2>/dev/null))
CONFIGS := $(filter-out cxx-%,$(CONFIGS))
$(info make: no C++ compiler "$(CXX)": the C++ configs of the suite are skipped)
endif
endif
COMPILE_c-float = $(CC) $(WARN_C) $(CFLAGS)
COMPILE_c-double = $(CC) $(WARN_C) $(CFLAGS) -DNN_REAL=double
COMPILE_c-ndebug = $(CC) $(WARN_C) $(CFLAGS) -DNDEBUG
COMPILE_c-ref = $(CC) $(WARN_C) $(CFLAGS) -DNN_REFERENCE
COMPILE_cxx-float = $(CXX) -x c++ $(WARN_CXX) $(CXXFLAGS)
COMPILE_cxx-double = $(CXX) -x c++ $(WARN_CXX) $(CXXFLAGS) -DNN_REAL=double

TESTS = kernels activations losses network gradcheck alloc learn optim train model \
  checks scaling
# The tests that need nothing but the API link the implementation each
# config compiles once (tests/dropin_impl.c, with the counting allocator of
# tests/counting_alloc.h, which test_alloc, test_train and test_model
# read), instead of compiling it again themselves, as the others must to
# reach nn.h's internals.  (-x none: the object is not C++ source in the
# C++ configs, which compile with -x c++.)
API_TESTS = learn optim scaling alloc train model
# test_export is built in two steps: linked with nn.o, it writes the
# exported headers; then it is built again with them (see its rules)
PROGRAMS = $(addprefix test_,$(TESTS)) test_export dropin static nostdio
EXAMPLES = xor sine article walkthrough iris spiral fashion_mnist faq deploy
# examples whose only promise is to run and exit 0; tests/examples.sh checks
# what the others print and write
PLAIN_EXAMPLES = xor article walkthrough
FASHION = /usr/share/datasets/fashion-mnist

TEST_BINS = $(foreach c,$(CONFIGS),$(addprefix $(BUILD)/$(c)/,$(PROGRAMS)))
# tests/test_omp.c, in every C config but c-ref (which has no threads),
# when $(CC) has OpenMP (gcc does; tcc and a clang without libomp do not,
# and skip it)
HAVE_OPENMP := $(shell printf '\043include <omp.h>\nint main(void) { return omp_get_max_threads() < 1; }\n' | \
  $(CC) -x c -fopenmp -o /dev/null - 2>/dev/null && echo yes)
ifeq ($(HAVE_OPENMP),yes)
TEST_BINS += $(addsuffix /test_omp,$(addprefix $(BUILD)/,$(filter-out c-ref,$(filter c-%,$(CONFIGS)))))
endif
EXAMPLE_BINS = $(addprefix $(BUILD)/examples/,$(EXAMPLES))

all: examples $(TEST_BINS)

# The compilers and flags the build directory holds programs of: when they
# change (make test CFLAGS=-O0, then make test), everything is rebuilt,
# and a build directory that is up to date can be trusted to be this one.
BUILD_FLAGS = $(CC) | $(CXX) | $(CFLAGS) | $(CXXFLAGS) | $(CXXSTD)
STAMP = $(BUILD)/flags
$(STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(BUILD_FLAGS)' | cmp -s - $@ || echo '$(BUILD_FLAGS)' >$@
FORCE:

examples: $(EXAMPLE_BINS)

# The examples build as their first lines say (cc -O2 examples/xor.c -lm),
# but with NN_STATIC, which lets the compiler drop the part of nn.h an
# example does not call: that builds them in about half the time, and the
# objects of every config compile the whole of it (nn.o).  make
# portability builds xor.c by hand, as the README has it.
$(BUILD)/examples/%: examples/%.c examples/png.h examples/idx.h nn.h $(STAMP)
	@mkdir -p $(@D)
	$(CC) $(WARN_C) $(CFLAGS) -DNN_STATIC -o $@ $< $(LDLIBS)

# The test programs that compile the implementation themselves take it
# with NN_STATIC, so that the compiler drops every function a test never
# calls (most of nn.h, for most tests) instead of compiling it again for
# each: the suite builds in about 60% of the time.  The library's
# external linkage is what dropin, static and tests/link.sh test.
define CONFIG_RULES
$(BUILD)/$(1)/test_%: tests/test_%.c tests/harness.h tests/counting_alloc.h nn.h $(STAMP)
	@mkdir -p $$(@D)
	$$(COMPILE_$(1)) -DNN_STATIC -o $$@ $$< $$(LDLIBS)
$(BUILD)/$(1)/nn.o: tests/dropin_impl.c tests/counting_alloc.h nn.h $(STAMP)
	@mkdir -p $$(@D)
	$$(COMPILE_$(1)) -c -o $$@ tests/dropin_impl.c
$(addprefix $(BUILD)/$(1)/test_,$(API_TESTS)): $(BUILD)/$(1)/test_%: tests/test_%.c tests/harness.h tests/counting_alloc.h $(BUILD)/$(1)/nn.o $(STAMP)
	$$(COMPILE_$(1)) -o $$@ $$< -x none $(BUILD)/$(1)/nn.o $$(LDLIBS)
$(BUILD)/$(1)/dropin: tests/dropin_main.c $(BUILD)/$(1)/nn.o tests/harness.h $(STAMP)
	$$(COMPILE_$(1)) -o $$@ tests/dropin_main.c -x none $(BUILD)/$(1)/nn.o $$(LDLIBS)
$(BUILD)/$(1)/test_omp: tests/test_omp.c tests/harness.h nn.h $(STAMP)
	@mkdir -p $$(@D)
	$$(COMPILE_$(1)) -DNN_STATIC -fopenmp -o $$@ $$< $$(LDLIBS)
$(BUILD)/$(1)/nostdio: tests/nostdio.c nn.h $(STAMP)
	@mkdir -p $$(@D)
	$$(COMPILE_$(1)) -DNN_STATIC -o $$@ $$< $$(LDLIBS)
$(BUILD)/$(1)/export/exported.h: tests/test_export.c tests/harness.h $(BUILD)/$(1)/nn.o $(STAMP)
	@mkdir -p $$(@D)
	$$(COMPILE_$(1)) -DTEST_EXPORT_GEN -o $$(@D)/gen $$< -x none $(BUILD)/$(1)/nn.o $$(LDLIBS)
	$$(NN_RUN) $$(@D)/gen $$(@D)
$(BUILD)/$(1)/test_export: tests/test_export.c $(BUILD)/$(1)/export/exported.h $(BUILD)/$(1)/nn.o $(STAMP)
	$$(COMPILE_$(1)) -I$(BUILD)/$(1)/export -o $$@ $$< -x none $(BUILD)/$(1)/nn.o $$(LDLIBS)
$(BUILD)/$(1)/static: tests/static_a.c tests/static_b.c tests/harness.h nn.h $(STAMP)
	@mkdir -p $$(@D)
	$$(COMPILE_$(1)) -o $$@ tests/static_a.c tests/static_b.c $$(LDLIBS)
endef
$(foreach c,$(CONFIGS),$(eval $(call CONFIG_RULES,$(c))))

# Runs every test program, the plain examples (each must exit 0), the
# checks of what the other examples print and write, and the check that
# README.md and nn.h's quick start match the code; ends with the line
# "N passed, N failed".
# NN_RUN runs each program (e.g. NN_RUN=qemu-s390x for a cross build).
# make test EXAMPLES= runs the test programs alone: the examples and the
# checks of README.md and of linkage are C programs of $(CC), which the
# C++-only lines of make portability would build again unchanged.
NN_RUN =
export NN_RUN
EXAMPLE_RUNS = $(if $(EXAMPLES),$(foreach b,$(addprefix $(BUILD)/examples/,$(PLAIN_EXAMPLES)),"$(NN_RUN) $(b)") \
  "sh tests/examples.sh $(BUILD)" "sh tests/readme.sh $(BUILD) '$(CC)'" "sh tests/link.sh '$(CC)'")
test: $(TEST_BINS) $(EXAMPLE_BINS)
	@sh tests/run.sh $(foreach b,$(TEST_BINS),"$(NN_RUN) $(b)") $(EXAMPLE_RUNS)

# The suite under AddressSanitizer (with LeakSanitizer, so a leak fails
# too) and UndefinedBehaviorSanitizer, in the C configs and the examples;
# any report fails the run.  The C++ configs are the same code, whose
# memory and arithmetic the sanitizers see the same way; SAN_CONFIGS may
# name them too.
# -Og: the sanitizers check every access and operation the program makes
# at any level; -Og compiles the instrumented suite in about 60% of -O1's
# time and runs it about as fast (-O0 runs the examples' training 2-3x
# slower).
SAN_FLAGS = -Og -g -fsanitize=address,undefined -fno-sanitize-recover=all \
  -fno-omit-frame-pointer
SAN_CONFIGS = c-float c-double c-ndebug c-ref
sanitize:
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(MAKE) test BUILD=$(BUILD)/sanitize CFLAGS="$(SAN_FLAGS)" CXXFLAGS="$(SAN_FLAGS)" \
	  CONFIGS="$(SAN_CONFIGS)"

# libFuzzer on nn_load_mem for FUZZ_TIME seconds, from a corpus of valid
# float and double models.  Needs clang and its runtime (Debian:
# libclang-rt-14-dev or the runtime of your clang's version).
FUZZ_CC ?= clang
FUZZ_TIME ?= 60
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
$(BUILD)/fuzz/fuzz_load: tests/fuzz_load.c nn.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(WARN_C) $(FUZZ_FLAGS) -o $@ $< $(LDLIBS)
$(BUILD)/fuzz/seeds-float: tests/fuzz_seeds.c nn.h
	@mkdir -p $(@D)
	$(CC) $(WARN_C) -O1 -o $@ $< $(LDLIBS)
$(BUILD)/fuzz/seeds-double: tests/fuzz_seeds.c nn.h
	@mkdir -p $(@D)
	$(CC) $(WARN_C) -O1 -DNN_REAL=double -o $@ $< $(LDLIBS)
fuzz: $(BUILD)/fuzz/fuzz_load $(BUILD)/fuzz/seeds-float $(BUILD)/fuzz/seeds-double
	@mkdir -p $(BUILD)/fuzz/corpus
	$(BUILD)/fuzz/seeds-float $(BUILD)/fuzz/corpus
	$(BUILD)/fuzz/seeds-double $(BUILD)/fuzz/corpus
	$(BUILD)/fuzz/fuzz_load -max_total_time=$(FUZZ_TIME) -timeout=10 \
	  -rss_limit_mb=2048 -print_final_stats=1 \
	  -artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus

# The exported nets of examples/deploy.c on emulated microcontrollers, a
# Cortex-M3 (qemu-system-arm) and an ATmega328P (simavr), and their flash
# and RAM (tests/mcu.sh).  Needs gcc-arm-none-eabi, libnewlib-arm-none-eabi,
# qemu-system-arm, gcc-avr, avr-libc and simavr; Fashion-MNIST joins in
# when make fashion-mnist-data has run (MCU_FASHION=1 requires it).
mcu:
	@sh tests/mcu.sh $(BUILD) '$(CC)'

# examples/nnh.py, the Python reader and writer of model files, against
# nn.h (tests/nnh_helper.c in float and double) and PyTorch
# (tests/test_nnh.py).  Needs python3-numpy and python3-torch.
PYTHON = /usr/bin/python3
$(BUILD)/nnh/helper_float: tests/nnh_helper.c nn.h
	@mkdir -p $(@D)
	$(CC) $(WARN_C) $(CFLAGS) -o $@ $< $(LDLIBS)
$(BUILD)/nnh/helper_double: tests/nnh_helper.c nn.h
	@mkdir -p $(@D)
	$(CC) $(WARN_C) $(CFLAGS) -DNN_REAL=double -o $@ $< $(LDLIBS)
python: $(BUILD)/nnh/helper_float $(BUILD)/nnh/helper_double
	@sh tests/run.sh "$(PYTHON) tests/test_nnh.py $(BUILD) '$(CC)'"

# Every toolchain and build nn.h promises, one line each (tests/portability.sh).
portability:
	@sh tests/portability.sh

# The header and a pkg-config file; DESTDIR is honoured.
PREFIX = /usr/local
INCLUDEDIR = $(PREFIX)/include
PKGCONFIGDIR = $(PREFIX)/lib/pkgconfig
VERSION = $(shell sed -n 's/^\#define NN_VERSION_STRING "\(.*\)"/\1/p' nn.h)
install:
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 nn.h $(DESTDIR)$(INCLUDEDIR)/nn.h
	printf '%s\n' 'prefix=$(PREFIX)' 'includedir=$(INCLUDEDIR)' '' 'Name: nn.h' \
	  'Description: small dense feedforward neural networks in one C header' \
	  'Version: $(VERSION)' 'Libs: -lm' 'Cflags: -I$${includedir}' \
	  > $(DESTDIR)$(PKGCONFIGDIR)/nn.pc
uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/nn.h $(DESTDIR)$(PKGCONFIGDIR)/nn.pc

# Unpacks Debian's dataset-fashion-mnist for examples/fashion_mnist.c.
fashion-mnist-data:
	@test -d $(FASHION) || { echo "no $(FASHION): sudo apt-get install dataset-fashion-mnist"; exit 1; }
	@mkdir -p $(BUILD)/fashion-mnist
	for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do \
	  gzip -dc $(FASHION)/$$f.gz > $(BUILD)/fashion-mnist/$$f.part && \
	  mv $(BUILD)/fashion-mnist/$$f.part $(BUILD)/fashion-mnist/$$f || exit 1; done

# The benchmark (tests/bench.c): P1, P2, P3 (Adam, the defaults), the FMA
# peak, the kernels' GFLOP/s and the latency of one sample,
# single-threaded; then P2 on 2 threads
# from a build with -fopenmp; then P1 and the rest again from a plain -O2
# build, what `cc -O2 app.c` gives, in the same run.  It reads
# Fashion-MNIST from BENCH_DATA when it is there (make fashion-mnist-data),
# else times random data of the same shape.  Not part of make test.  Built
# every time, so that the BENCH_CFLAGS given are the ones measured.
BENCH_CFLAGS = -O3 -march=native
BENCH_PLAIN_CFLAGS = -O2
BENCH_DATA = $(BUILD)/fashion-mnist
bench:
	@mkdir -p $(BUILD)/bench
	$(CC) $(WARN_C) $(BENCH_CFLAGS) -o $(BUILD)/bench/bench tests/bench.c $(LDLIBS)
	$(CC) $(WARN_C) $(BENCH_CFLAGS) -fopenmp -o $(BUILD)/bench/bench_omp tests/bench.c $(LDLIBS)
	$(CC) $(WARN_C) $(BENCH_PLAIN_CFLAGS) -o $(BUILD)/bench/bench_plain tests/bench.c $(LDLIBS)
	@echo "== $(BENCH_CFLAGS)"
	$(NN_RUN) $(BUILD)/bench/bench $(BENCH_DATA)
	@echo "== $(BENCH_CFLAGS) -fopenmp"
	$(NN_RUN) $(BUILD)/bench/bench_omp $(BENCH_DATA)
	@echo "== $(BENCH_PLAIN_CFLAGS)"
	$(NN_RUN) $(BUILD)/bench/bench_plain $(BENCH_DATA)

clean:
	rm -rf $(BUILD)

.PHONY: all examples test clean sanitize fuzz portability install uninstall FORCE \
  fashion-mnist-data bench mcu python
