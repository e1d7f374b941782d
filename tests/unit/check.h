// check.h - a test runner small enough to read. TEST(name) registers a test; CHECK(expr) records a
// failure. main() calls check::run_all(), which runs every test, prints one line per failed check
//     FAIL test_name: CHECK(expression) at file:line
// and closes with the line "N passed, N failed" (N = tests). The exit code is non-zero when any failed.
#pragma once

#include <cstdio>
#include <exception>
#include <vector>

namespace check {

struct Test {
    const char* name;
    void (*body)();
};

inline std::vector<Test>& registry() {
    static std::vector<Test> tests;
    return tests;
}

struct Current {
    const char* name = "";
    int failures = 0;
};

inline Current& current() {
    static Current state;
    return state;
}

struct Register {
    Register(const char* name, void (*body)()) { registry().push_back({name, body}); }
};

inline void fail(const char* file, int line, const char* expression) {
    std::printf("FAIL %s: CHECK(%s) at %s:%d\n", current().name, expression, file, line);
    ++current().failures;
}

inline int run_all() {
    int passed = 0, failed = 0;
    for (const Test& test : registry()) {
        current().name = test.name;
        current().failures = 0;
        try {
            test.body();
        } catch (const std::exception& e) {
            std::printf("FAIL %s: threw %s\n", test.name, e.what());
            ++current().failures;
        } catch (...) {
            std::printf("FAIL %s: threw a non-standard exception\n", test.name);
            ++current().failures;
        }
        if (current().failures == 0)
            ++passed;
        else
            ++failed;
    }
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

}  // namespace check

#define CHECK_CONCAT2(a, b) a##b
#define CHECK_CONCAT(a, b) CHECK_CONCAT2(a, b)
#define TEST(name)                                                           \
    static void name();                                                      \
    static const check::Register CHECK_CONCAT(register_, name)(#name, name); \
    static void name()
#define CHECK(expression) ((expression) ? (void)0 : check::fail(__FILE__, __LINE__, #expression))
