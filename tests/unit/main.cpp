// The unit tests of every Windows-free layer, in one program (check.h runs them all).
#include "check.h"

int main() { return check::run_all(); }
