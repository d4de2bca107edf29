# Entry points only; the build itself is CMake + ctest (see README.md).
#   make build  the server and the browser COP (build/web, esbuild; Node at build time only)
#   make demo   build, start the server with config/kizuna.yaml and the simulator
#   make test   unit + integration + interop tests, then again under ASan+UBSan,
#               then a short fuzz smoke run
#   make bench  benchmarks (never part of make test)
#   make fuzz   longer fuzzing (FUZZ_SECONDS per target, default 300)
#   make deb    the Debian package (dpkg-buildpackage -b -us -uc), moved to $(DEB_DIR)
#   make deb-test  build it, unpack it into a fresh root and check it
#               (tests/package/deb-test.sh; needs root; docs/operations.md)

BUILD       ?= build
ASAN_BUILD  ?= build-asan
FUZZ_BUILD  ?= build-fuzz
JOBS        ?= $(shell nproc)
FUZZ_SECONDS ?= 300
DEB_DIR     ?= $(BUILD)/deb
SMOKE_SECONDS ?= 20

.PHONY: all deps build test test-asan fuzz-build fuzz fuzz-smoke bench demo clean deb deb-test

all: build

deps:
	@scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DDEVELOPER=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j$(JOBS)

# After each run, scripts/check-counts.sh checks that every test and fuzz
# target the sources define was registered, ran and passed.
test: build
	cd $(BUILD) && ctest --output-on-failure --no-tests=error --timeout 600 -j2
	scripts/check-counts.sh ctest $(BUILD)
	$(MAKE) test-asan
	scripts/check-counts.sh ctest $(ASAN_BUILD)
	$(MAKE) fuzz-smoke
	scripts/check-counts.sh fuzz $(FUZZ_BUILD)

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DDEVELOPER=ON -DCMAKE_BUILD_TYPE=Debug \
	      -DSANITIZE=address,undefined
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --output-on-failure --timeout 900 -j2

fuzz-build: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DKZ_FUZZ=ON -DBUILD_TESTING=OFF -DKZ_WEB=OFF \
	      -DSANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(FUZZ_BUILD) -j$(JOBS)

fuzz-smoke: fuzz-build
	scripts/fuzz.sh $(FUZZ_BUILD) $(SMOKE_SECONDS)

fuzz: fuzz-build
	scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: build
	bench/run.sh $(BUILD)

demo: build
	scripts/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

# dpkg-buildpackage writes its files next to the source tree (..); they are
# moved into $(DEB_DIR).  The package's own build tree is obj-*/ in here.
deb: deps
	DEB_BUILD_OPTIONS="nocheck parallel=$(JOBS)" dpkg-buildpackage -b -us -uc
	mkdir -p $(DEB_DIR)
	v=$$(dpkg-parsechangelog -S Version); a=$$(dpkg-architecture -qDEB_HOST_ARCH); \
	for f in kizuna_$${v}_$${a}.deb kizuna-dbgsym_$${v}_$${a}.deb kizuna_$${v}_$${a}.buildinfo \
	         kizuna_$${v}_$${a}.changes; do \
	    if [ -f ../$$f ]; then mv ../$$f $(DEB_DIR)/; fi; \
	done
	@ls -l $(DEB_DIR)/*.deb

deb-test: deb
	tests/package/deb-test.sh $(DEB_DIR)/kizuna_$$(dpkg-parsechangelog -S Version)_$$(dpkg-architecture -qDEB_HOST_ARCH).deb
