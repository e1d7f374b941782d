// Prints the console's input and output modes, so that a test can see them given back after
// client.exe ran in the same console (tests/e2e/test_console_client.py).
#include <windows.h>

#include <cstdio>

int main() {
    DWORD input = 0, output = 0;
    const bool ok = GetConsoleMode(GetStdHandle(STD_INPUT_HANDLE), &input) != 0 &&
                    GetConsoleMode(GetStdHandle(STD_OUTPUT_HANDLE), &output) != 0;
    std::printf(ok ? "console modes in=%lx out=%lx\n" : "console modes unknown\n", input, output);
    return ok ? 0 : 1;
}
