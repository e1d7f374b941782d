#!/usr/bin/env python3
"""msvc-narrowing.py FILE... -- what MSVC's C4244/C4267 at /W4 would flag and clang-cl does not.

cl warns on every implicit conversion to a narrower arithmetic type whose value is not a
compile-time constant; it does no range analysis. clang (and clang-tidy) prove that
`b == '\\t' ? ' ' : b` fits an unsigned char, or that `c ? sizeof(a) : sizeof(b)` fits an int, and
stay quiet: cl does not. This walks the AST instead, with clang-query in MSVC mode over the same
headers as msvc-syntax-check.sh, and reports each implicit integral or floating conversion to a
narrower type (sizes of the MSVC x64 ABI) whose source is not a constant, outside system headers.
Exit code 1 when it finds one.
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# clang-cl's MSVC mode in the GCC driver's spelling (cl's own would read an absolute path like
# /work/x.cpp as an option): the MSVC target and ABI, and the headers msvc-syntax-check.sh uses.
CLANG_ARGS = ["--target=x86_64-pc-windows-msvc", "-fms-compatibility", "-fms-extensions",
              "-fms-compatibility-version=19.29", "-std=c++17", "-fcxx-exceptions", "-fexceptions",
              "-D_LIBCPP_NO_VCRUNTIME", "-isystem", f"{HERE}/overlay", "-isystem", "/usr/lib/llvm-14/include/c++/v1",
              "-isystem", "/usr/x86_64-w64-mingw32/include"]
MATCHER = ('implicitCastExpr(anyOf(hasCastKind("CK_IntegralCast"), hasCastKind("CK_FloatingToIntegral"), '
           'hasCastKind("CK_IntegralToFloating"), hasCastKind("CK_FloatingCast")), '
           'unless(isExpansionInSystemHeader()))')
# `c += i` with a char c: computed as int and stored back narrower, with no cast node in the AST.
COMPOUND = ('binaryOperator(hasAnyOperatorName("+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "|=", "^="), '
            'unless(isExpansionInSystemHeader()))')
COMPUTED = re.compile(r"ComputeResultTy='([^']*)'(?::'([^']*)')?")

# Bytes of each arithmetic type under MSVC on x64 (long is 4 bytes there, unlike Linux).
SIZES = {
    "bool": 1, "char": 1, "signed char": 1, "unsigned char": 1, "char8_t": 1,
    "short": 2, "unsigned short": 2, "wchar_t": 2, "char16_t": 2,
    "int": 4, "unsigned int": 4, "long": 4, "unsigned long": 4, "char32_t": 4, "float": 4,
    "long long": 8, "unsigned long long": 8, "double": 8, "long double": 8,
}
FLOATING = {"float", "double", "long double"}
# The mantissa bits a floating type holds: a wider integer does not fit it exactly.
MANTISSA = {"float": 24, "double": 53, "long double": 53}

NODE = re.compile(r"^(?P<indent>[ |`-]*)(?P<kind>\w+) 0x[0-9a-f]+ <(?P<range>[^>]*)>(?P<rest>.*)$")
TYPE = re.compile(r"'([^']*)'(?::'([^']*)')?")


def plain(type_text):
    """'const unsigned char' -> 'unsigned char'; unknown (class, pointer, enum) -> None."""
    t = re.sub(r"\b(const|volatile)\b", "", type_text).strip()
    t = re.sub(r"\s+", " ", t)
    return t if t in SIZES else None


def node_type(rest):
    """The (desugared) type a dumped node carries: the first quoted type, desugared if shown."""
    m = TYPE.search(rest)
    if not m:
        return None
    return m.group(2) or m.group(1)


def loses_data(source, dest):
    if source in FLOATING and dest not in FLOATING:
        return True
    if source not in FLOATING and dest in FLOATING:
        return SIZES[source] * 8 > MANTISSA[dest]
    return SIZES[dest] < SIZES[source]


def is_constant(subtree):
    """Literals, sizeof and constexpr variables only: cl evaluates those and does not warn."""
    skip_below = None  # inside a sizeof: nothing there is evaluated
    for line in subtree:
        m = NODE.match(line)
        if not m:
            continue
        kind, rest, depth = m.group("kind"), m.group("rest"), len(m.group("indent"))
        if skip_below is not None and depth > skip_below:
            continue
        skip_below = depth if kind == "UnaryExprOrTypeTraitExpr" else None
        if kind in ("CallExpr", "CXXMemberCallExpr", "MemberExpr", "ArraySubscriptExpr", "CXXOperatorCallExpr"):
            return False
        if kind == "DeclRefExpr" and "non_odr_use_constant" not in rest and "EnumConstant" not in rest:
            return False
    return True


def query(path, matcher):
    """The matches clang-query dumps, each as its list of AST lines."""
    command = ["clang-query-14", path, "-c", "set output dump", "-c", "match " + matcher, "--"] + CLANG_ARGS + [
        "-I", os.getcwd()]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0 or "error:" in result.stderr:
        sys.exit(f"msvc-narrowing: clang-query failed on {path}:\n{result.stderr[-3000:]}")
    return [[l for l in match.split("\n") if NODE.match(l)] for match in result.stdout.split("\nMatch #")[1:]]


def findings(path):
    found = []
    for lines in query(path, MATCHER):
        if len(lines) < 2:
            continue
        root, child = NODE.match(lines[0]), NODE.match(lines[1])
        if "part_of_explicit_cast" in root.group("rest"):
            continue  # the inside of a static_cast: the program said so
        dest, source = plain(node_type(root.group("rest")) or ""), plain(node_type(child.group("rest")) or "")
        if not dest or not source or not loses_data(source, dest) or is_constant(lines[1:]):
            continue
        found.append((root.group("range").split(",")[0], source, dest))
    for lines in query(path, COMPOUND):
        root = NODE.match(lines[0])
        computed = COMPUTED.search(root.group("rest"))
        dest = plain(node_type(root.group("rest")) or "")
        source = plain((computed.group(2) or computed.group(1)) if computed else "")
        if dest and source and loses_data(source, dest):
            found.append((root.group("range").split(",")[0], source, dest))
    return found


def main():
    seen = set()
    for path in sys.argv[1:]:
        for where, source, dest in findings(path):
            if where in seen:
                continue
            seen.add(where)
            file, line, column = where.rsplit(":", 2)
            code = "C4267" if source == "unsigned long long" and not dest.endswith(("float", "double")) else "C4244"
            print(f"{os.path.relpath(file)}({line},{column}): warning {code}: conversion from '{source}' to "
                  f"'{dest}', possible loss of data (cl at /W4 warns; make it explicit, or keep the wider type)")
    if seen:
        sys.exit(1)


if __name__ == "__main__":
    main()
