"""build.bat, run by Wine's cmd with a cl.exe stand-in (tools/msvc): it builds both programs with
the real cl flags checked by clang-cl in MSVC mode, and stops at the first failure."""
import glob
import os
import shutil
import subprocess
import sys

import pytest

from tests.harness import ROOT

# What build.bat builds from: itself and every top-level source file (a new header needs no edit here).
SOURCES = ["build.bat"] + sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "*.[ch]*"))
                                 if p.endswith((".cpp", ".h")))

pytestmark = pytest.mark.skipif(os.name == "nt", reason="on Windows, run build.bat itself")


@pytest.fixture
def prefix(wine):
    return wine.prefix


@pytest.fixture
def tree(tmp_path):
    for name in SOURCES:
        shutil.copy(os.path.join(ROOT, name), tmp_path / name)
    return tmp_path


def run_build_bat(tree, prefix, mode="cl", *args):
    env = dict(os.environ, WINEPREFIX=prefix, CLSHIM_OUT=os.path.join(ROOT, "build", "clshim"))
    result = subprocess.run([os.path.join(ROOT, "tools", "msvc", "run-build-bat.sh"),
                             str(tree / "build.bat"), mode] + list(args), stdin=subprocess.DEVNULL,
                            env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    return result.returncode, result.stdout + result.stderr


def is_pe(path):
    with open(path, "rb") as f:
        return f.read(2) == b"MZ"


def test_builds_both_programs(tree, prefix):
    code, output = run_build_bat(tree, prefix)
    assert code == 0, output
    assert is_pe(tree / "server.exe") and is_pe(tree / "client.exe")
    assert "built server.exe and client.exe" in output


def test_without_cl_on_path_says_where_to_build(tree, prefix):
    code, output = run_build_bat(tree, prefix, mode="nocl")
    assert code != 0
    assert "x64 Native Tools Command Prompt for VS" in output
    assert not (tree / "server.exe").exists()


def test_a_compile_error_stops_the_build(tree, prefix):
    with open(tree / "server.cpp", "a") as f:
        f.write("\nint broken = ;\n")
    code, output = run_build_bat(tree, prefix)
    assert code != 0
    assert "server.cpp" in output and "server.exe failed to build" in output
    assert not (tree / "client.exe").exists()  # the batch stopped at the first failure


def test_an_msvc_only_warning_is_shown_and_strict_stops_on_it(tree, prefix):
    # g++ would accept this; cl at /W4 warns about the narrowing (C4244), and so does the check.
    # A user's build shows it and goes on (a newer Visual Studio adds warnings); strict stops.
    with open(tree / "client.cpp", "a") as f:
        f.write("\nint narrow(long long v) { return v; }\n")
    code, output = run_build_bat(tree, prefix)
    assert code == 0, output
    assert "client.cpp" in output and "warning" in output
    assert is_pe(tree / "client.exe")
    os.remove(tree / "client.exe")
    code, output = run_build_bat(tree, prefix, "cl", "strict")
    assert code != 0
    assert "client.cpp" in output and "client.exe failed to build" in output
    assert is_pe(tree / "server.exe")  # the first target still built


# Narrowing that clang proves safe and cl at /W4 still warns about (it does no range analysis).
NARROWING_CL_WARNS_ABOUT = """
void take(unsigned char c);
int narrowing_cl_warns_about(unsigned char b, bool cond) {
    take(b == '\\t' ? ' ' : b);
    const int length = cond ? sizeof(long long) : sizeof(char);
    return length;
}
"""


def test_the_stand_in_warns_where_cl_would_and_clang_does_not(tree, prefix):
    with open(tree / "server.cpp", "a") as f:
        f.write(NARROWING_CL_WARNS_ABOUT)
    code, output = run_build_bat(tree, prefix, "cl", "strict")
    assert code != 0 and "server.exe failed to build" in output
    assert "C4244: conversion from 'int' to 'unsigned char'" in output
    assert "C4267: conversion from 'unsigned long long' to 'int'" in output


def test_the_narrowing_check_finds_those_and_nothing_constant(tmp_path):
    source = tmp_path / "narrow.cpp"
    source.write_text(NARROWING_CL_WARNS_ABOUT + """
int constants_fit(char c, short& s) {
    unsigned char u = 'a';  // constants that fit: cl says nothing
    short k = 5;
    char from_static_cast = static_cast<char>(c + 1);
    s -= 1;                 // computed as int, stored back in a short: cl warns
    return u + k + from_static_cast + static_cast<int>(sizeof u);
}
""")
    result = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "msvc", "msvc-narrowing.py"), str(source)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    found = [line.split(": warning ")[1].split(",")[0] for line in result.stdout.splitlines()]
    assert found == ["C4244: conversion from 'int' to 'unsigned char'",
                     "C4267: conversion from 'unsigned long long' to 'int'",
                     "C4244: conversion from 'int' to 'short'"], result.stdout
