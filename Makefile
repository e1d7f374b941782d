# Linux build of a Windows program: cross-compiled with mingw-w64, run and tested under Wine.
#   make          build build/server.exe and build/client.exe
#   make run      build, then run server.exe on port 9000 under Wine (Ctrl+C stops it)
#   make test     build, then every check and test (what CI runs)
#   make fuzz     the protocol fuzzer for FUZZ_SECONDS (default 600)
#   make bench    the benchmarks (never part of make test)
# Every target first installs what is missing (tools/deps.sh).

WINCXX   := x86_64-w64-mingw32-g++-posix
WINFLAGS := -std=c++17 -O2 -static -Wall -Wextra -Wpedantic -Werror
WINLIBS  := -lws2_32 -lmswsock
BUILD    := build
PYTHON   := /usr/bin/python3
WINE_RUN := $(CURDIR)/$(BUILD)/wine/run
FUZZ_SECONDS ?= 30
PORT     ?= 9000

SOURCES  := server.cpp client.cpp protocol.h iocp.h

.PHONY: all deps run test msvc-check unit fuzz-smoke fuzz pytest bench clean

all: deps $(BUILD)/server.exe $(BUILD)/client.exe $(BUILD)/protocol-native.ok

deps:
	@tools/deps.sh

$(BUILD):
	@mkdir -p $(BUILD)

$(BUILD)/server.exe: server.cpp iocp.h protocol.h | $(BUILD)
	$(WINCXX) $(WINFLAGS) $< -o $@ $(WINLIBS) -lpsapi

$(BUILD)/client.exe: client.cpp iocp.h protocol.h | $(BUILD)
	$(WINCXX) $(WINFLAGS) $< -o $@ $(WINLIBS)

# protocol.h must stand on its own without any Windows header.
$(BUILD)/protocol-native.ok: protocol.h | $(BUILD)
	echo '#include "protocol.h"' | g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror -I. -x c++ -fsyntax-only -
	@touch $@

run: all
	@[ -f $(WINE_RUN)/system.reg ] || { echo "creating the Wine prefix $(WINE_RUN)"; \
		mkdir -p $(WINE_RUN) && WINEDEBUG=-all WINEPREFIX=$(WINE_RUN) wineboot -i >/dev/null 2>&1; }
	WINEDEBUG=-all WINEPREFIX=$(WINE_RUN) wine $(BUILD)/server.exe --port $(PORT) $(ARGS)

test: all msvc-check unit fuzz-smoke pytest

# What MSVC would say: clang-cl in MSVC mode with build.bat's warning flags, plus a lint for
# constructs clang-cl accepts and cl does not.
msvc-check: deps
	@echo '#include "protocol.h"' > $(BUILD)/protocol_check.cpp
	tools/msvc/syntax-check.sh /W4 /WX /permissive- -I. server.cpp client.cpp $(BUILD)/protocol_check.cpp
	tools/msvc/lint.sh $(SOURCES) tests bench
	@echo "msvc-check: clean"

$(BUILD)/unit_tests: tests/unit/*.cpp tests/unit/*.h protocol.h | $(BUILD)
	g++ -std=c++17 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined -fno-sanitize-recover=all \
		-I. tests/unit/*.cpp -o $@

unit: deps $(BUILD)/unit_tests
	$(BUILD)/unit_tests

$(BUILD)/fuzz_protocol: tests/fuzz/fuzz_protocol.cpp protocol.h | $(BUILD)
	clang++-14 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-I. $< -o $@

# The corpus is copied so a run never grows the seeds kept in the repository.
fuzz-smoke: deps $(BUILD)/fuzz_protocol
	@rm -rf $(BUILD)/fuzz-corpus && mkdir -p $(BUILD)/fuzz-corpus && cp tests/fuzz/corpus/* $(BUILD)/fuzz-corpus/
	$(BUILD)/fuzz_protocol -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(BUILD)/fuzz-corpus \
		> $(BUILD)/fuzz.log 2>&1 || { tail -n 60 $(BUILD)/fuzz.log; exit 1; }
	@grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units)' $(BUILD)/fuzz.log

fuzz: FUZZ_SECONDS = 600
fuzz: fuzz-smoke

pytest: all
	$(PYTHON) -m pytest -q tests/build tests/e2e

bench: all
	$(PYTHON) bench/run.py

clean:
	rm -rf $(BUILD)
