# gitstore -- GNU make build. `make` builds build/gitstore.
# `make check` and `make run` first install missing Debian packages
# (scripts/install-deps.sh), then build, then test or run.

PKGS     := libgit2 libmicrohttpd jansson sqlite3 libcrypto libcurl zlib yaml-0.1 libpcre2-8 libnats
CC       ?= cc
OPT      ?= -O2
CFLAGS_BASE = -std=c11 -D_GNU_SOURCE -g $(OPT) -Wall -Wextra -Werror -Wshadow -Wvla \
              -Wno-missing-field-initializers -Isrc
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread

BUILD    ?= build
SAN_FLAGS =
SRCS     := $(shell find src -name '*.c' ! -name hookmain.c | sort)
OBJS     := $(SRCS:src/%.c=$(BUILD)/obj/%.o)
LIB_OBJS := $(filter-out $(BUILD)/obj/main.o,$(OBJS))
# the hook client git runs per hook call: only what it needs, so it
# starts fast (no libgit2/SQLite/curl/microhttpd to load)
HOOK_OBJS := $(addprefix $(BUILD)/obj/,cli/hookmain.o cli/hook.o git/hooksock.o util/buf.o \
               util/error.o util/alloc.o util/time.o log/log.o)

UNIT_SRCS := $(shell find tests/unit -name 'test_*.c' 2>/dev/null | sort)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps check check-unit check-cel check-integration check-asan check-fuzz check-headers checksrc run bench fuzz soak clean

all: $(BUILD)/gitstore $(BUILD)/gitstore-hook

$(BUILD)/gitstore: $(OBJS)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/gitstore-hook: $(HOOK_OBJS)
	$(CC) $(SAN_FLAGS) -o $@ $^ -ljansson -lpthread

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(SAN_FLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libgitstore.a: $(LIB_OBJS)
	ar rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libgitstore.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(SAN_FLAGS) $(PKG_CFLAGS) -o $@ $< $(BUILD)/libgitstore.a $(PKG_LIBS) -lcmocka

-include $(OBJS:.o=.d) $(HOOK_OBJS:.o=.d)

deps:
	@sh scripts/install-deps.sh

# The full suite: style checks, headers, unit + integration tests, then
# the same under AddressSanitizer + UndefinedBehaviorSanitizer.
check: deps
	$(MAKE) checksrc check-headers
	$(MAKE) all $(UNIT_BINS)
	$(MAKE) check-unit check-cel check-integration
	$(MAKE) check-fuzz
	$(MAKE) check-asan

check-unit: $(UNIT_BINS)
	@sh scripts/run-unit.sh $(UNIT_BINS)

# CEL conformance (cel-spec simple tests, protobuf-message cases skipped):
# the text-format parser's self-test, then the runner (fails under 95%)
CEL_CONFORMANCE_DIR ?= ../shared/conformance/cel-spec
check-cel: $(BUILD)/gitstore
	@/usr/bin/python3 tests/cel/test_textproto.py
	@/usr/bin/python3 tests/cel/conformance.py --bin $(BUILD)/gitstore \
	  --dir $(CEL_CONFORMANCE_DIR) --json $(BUILD)/cel-conformance.json

check-integration: $(BUILD)/gitstore $(BUILD)/gitstore-hook
	@GITSTORE_BIN=$(abspath $(BUILD)/gitstore) sh scripts/run-integration.sh

check-asan:
	$(MAKE) BUILD=build-asan OPT=-O1 \
	  SAN_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  build-asan/gitstore build-asan/gitstore-hook check-unit check-cel check-integration

# every fuzz target briefly (make fuzz runs them longer)
check-fuzz:
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-8} sh scripts/fuzz.sh

check-headers:
	@sh scripts/check-headers.sh

checksrc:
	@sh scripts/checksrc.sh

run: deps
	$(MAKE) all
	@sh scripts/run.sh

bench: deps
	$(MAKE) all
	@sh scripts/bench.sh

# load, then crash soak (scripts/soak.sh; SOAK_SECONDS, SOAK_CRASH_SECONDS,
# GITSTORE_BIN, SOAK_KEEP=1)
soak: deps
	$(MAKE) all
	@sh scripts/soak.sh

clean:
	rm -rf build build-asan

fuzz: deps
	@sh scripts/fuzz.sh
