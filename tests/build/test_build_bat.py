"""build.bat, run by Wine's cmd with a cl.exe stand-in (tools/msvc): it builds both programs with
the real cl flags checked by clang-cl in MSVC mode, and stops at the first failure."""
import os
import shutil
import subprocess

import pytest

from tests.harness import ROOT

SOURCES = ["build.bat", "server.cpp", "client.cpp", "bots.cpp", "protocol.h", "chat.h", "bots.h", "util.h", "iocp.h"]

pytestmark = pytest.mark.skipif(os.name == "nt", reason="on Windows, run build.bat itself")


@pytest.fixture
def prefix(wine):
    return wine.prefix


@pytest.fixture
def tree(tmp_path):
    for name in SOURCES:
        shutil.copy(os.path.join(ROOT, name), tmp_path / name)
    return tmp_path


def run_build_bat(tree, prefix, mode="cl"):
    env = dict(os.environ, WINEPREFIX=prefix, CLSHIM_OUT=os.path.join(ROOT, "build", "clshim"))
    result = subprocess.run([os.path.join(ROOT, "tools", "msvc", "run-build-bat.sh"),
                             str(tree / "build.bat"), mode],
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


def test_an_msvc_only_warning_fails_the_build(tree, prefix):
    # g++ would accept this; cl at /W4 /WX rejects the narrowing (C4244), and so does the check.
    with open(tree / "client.cpp", "a") as f:
        f.write("\nint narrow(long long v) { return v; }\n")
    code, output = run_build_bat(tree, prefix)
    assert code != 0
    assert "client.cpp" in output and "client.exe failed to build" in output
    assert is_pe(tree / "server.exe")  # the first target still built
