// check.h - a test runner small enough to read: TEST(name) registers a test, CHECK(expr) records
// a failure with its test name and expression. main() runs them all and closes with the line
// "N passed, N failed"; the exit code is non-zero when any test failed.
#pragma once

#include <cstdio>
#include <functional>
#include <vector>

namespace check {

struct Test {
    const char* name;
    std::function<void()> body;
};

inline std::vector<Test>& registry() {
    static std::vector<Test> tests;
    return tests;
}

inline int& failures_in_current_test() {
    static int failures = 0;
    return failures;
}

struct Register {
    Register(const char* name, std::function<void()> body) { registry().push_back({name, std::move(body)}); }
};

inline void fail(const char* file, int line, const char* expression) {
    std::printf("  %s:%d: CHECK(%s) failed\n", file, line, expression);
    ++failures_in_current_test();
}

inline int run_all() {
    int passed = 0, failed = 0;
    for (const Test& test : registry()) {
        failures_in_current_test() = 0;
        test.body();
        if (failures_in_current_test() == 0) {
            ++passed;
        } else {
            ++failed;
            std::printf("FAILED %s\n", test.name);
        }
    }
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

}  // namespace check

#define CHECK_CONCAT2(a, b) a##b
#define CHECK_CONCAT(a, b) CHECK_CONCAT2(a, b)
#define TEST(name)                                                                   \
    static void name();                                                              \
    static const check::Register CHECK_CONCAT(register_, name)(#name, name);         \
    static void name()
#define CHECK(expression) \
    ((expression) ? (void)0 : check::fail(__FILE__, __LINE__, #expression))
