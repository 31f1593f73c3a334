# Serambi: the two commands of the README, and the steps behind them.
#   make run    install what is missing, build, create var/demo if absent, start the gateway
#   make test   install what is missing, build, run every test through ctest
#   make fuzz   install clang and libFuzzer if missing, build the fuzz targets, run each briefly
SHELL := /bin/bash
BUILD ?= build
SANITIZE_BUILD ?= build-sanitize
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 15
DEMO ?= var/demo
DEMO_LISTEN ?= 127.0.0.1:8443

PREFIX ?= /usr/local

# Debian 12 packages needed to build, test and run (nginx only for bench/). The portal's tests drive
# Debian's headless Chromium with selenium, and import client certificates with NSS's tools.
DEPS := build-essential cmake ninja-build pkg-config git ca-certificates curl openssl python3 \
        libssl-dev libsodium-dev libsqlcipher-dev sqlcipher libboost1.81-dev libboost-json1.81-dev \
        catch2 libcli11-dev libtomlplusplus-dev zlib1g-dev age clang-format \
        chromium chromium-driver python3-selenium libnss3-tools systemd dpkg-dev fakeroot groff-base python3-yaml python3-aiosmtpd faketime
# Only `make fuzz` needs these (tests/fuzz): Debian 12's clang 14, its libFuzzer, and the sanitizer
# runtimes, which clang only recommends.
FUZZ_DEPS := clang libfuzzer-14-dev libclang-rt-14-dev

# Installs those of the Debian packages $(1) that are not installed yet.
define install_missing
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing missing packages:" $$missing; \
	  sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

.PHONY: all deps build test test-sanitize fuzz run bench clean install deb

all: build

deps:
	$(call install_missing,$(DEPS))
	@# The tus interoperability test runs the reference tus client with Node and npm. A machine
	@# that has them already (from NodeSource, say) keeps its own; otherwise Debian's.
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
	  sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends nodejs npm; }

build: deps
	@[ -f $(BUILD)/build.ninja ] || cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD)

test: build
	cd $(BUILD) && ctest --output-on-failure

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer, in its own build directory.
test-sanitize: deps
	@[ -f $(SANITIZE_BUILD)/build.ninja ] || cmake -S . -B $(SANITIZE_BUILD) -G Ninja \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSERAMBI_SANITIZE=ON
	cmake --build $(SANITIZE_BUILD)
	cd $(SANITIZE_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure

# Every libFuzzer target (tests/fuzz) built with clang, ASan and UBSan in its own build directory,
# then run for FUZZ_SECONDS each on a scratch copy of its committed corpus.
fuzz: deps
	$(call install_missing,$(FUZZ_DEPS))
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSERAMBI_FUZZ=ON -DSERAMBI_FUZZ_SECONDS=$(FUZZ_SECONDS)
	cmake --build $(FUZZ_BUILD)
	cd $(FUZZ_BUILD) && ctest --output-on-failure -L fuzz

run: build
	SERAMBI_BIN=$(BUILD)/cli/serambi DEMO=$(DEMO) DEMO_LISTEN=$(DEMO_LISTEN) bash cli/demo.sh

bench: build
	@dpkg-query -W -f='$${Status}' nginx-light 2>/dev/null | grep -q 'ok installed' && command -v bc >/dev/null || \
	  { sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq nginx-light bc; }
	SERAMBI_BIN=$(BUILD)/cli/serambi bash bench/run.sh

# The binary, the systemd unit, the default policy and the docs under PREFIX (DESTDIR honoured).
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# A Debian package of the same, installing under /usr, that creates the serambi system user.
deb: build
	cd $(BUILD) && cpack -G DEB

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD) $(FUZZ_BUILD)
