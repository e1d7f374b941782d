// require.h - the fuzz targets' check: a broken invariant says where and calls std::abort(), which
// libFuzzer reports with the input.
#pragma once

#include <cstdio>
#include <cstdlib>

inline void require_at(bool condition, const char* file, int line) {
    if (!condition) {
        std::fprintf(stderr, "invariant broken at %s:%d\n", file, line);
        std::abort();
    }
}
#define require(condition) require_at((condition), __FILE__, __LINE__)
