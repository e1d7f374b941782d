#!/usr/bin/env python3
"""Linux side of the Wine `cl.exe` shim: translate an MSVC cl command line and run it.

Invoked (detached) by cl.exe inside Wine as:  cl_emul.exe <request-dir>
<request-dir>/args.txt holds the cl arguments (one per line, already split with Windows
quoting rules).  We write out.txt and finally rc.txt (atomically) which cl.exe waits for.
Step 1 (CLSHIM_SYNTAX=1, default): clang-cl /Zs with the *original* cl flags + mingw/libc++
headers + overlay/ (flags must be understood by a cl-compatible driver).
Step 2: x86_64-w64-mingw32-g++-posix -static with translated flags, producing the real .exe.
"""
import os, subprocess, sys

HERE = os.path.dirname(os.path.realpath(__file__))
CHECK = os.path.join(os.path.dirname(HERE), "msvc-syntax-check.sh")
NARROWING = os.path.join(os.path.dirname(HERE), "msvc-narrowing.py")
GXX = "x86_64-w64-mingw32-g++-posix"
SRC_EXT = (".c", ".cpp", ".cc", ".cxx")
IGNORED_PREFIXES = ("/Zc:", "/permissive", "/utf-8", "/sdl", "/GS", "/Gy", "/GL", "/FS", "/MP",
                    "/diagnostics:", "/bigobj", "/wd", "/we", "/w1", "/w2", "/w3", "/w4",
                    "/external:", "/analyze", "/JMC", "/RTC", "/Gm", "/fp:")


class Unsupported(Exception):
    pass


def norm(a):
    return "/" + a[1:] if a.startswith("-") and len(a) > 1 else a


def translate(args):
    """cl args -> (g++ argv, sources, output)."""
    out, compile_only, opts, srcs, objs, libs, cstd = None, False, [], [], [], [], None
    obj_out = None
    it = iter(args)
    for raw in it:
        a = norm(raw)
        low = a.lower()
        if low == "/link":
            for la in it:  # linker options
                l = norm(la)
                if l.lower().startswith("/out:"):
                    out = l[5:]
                elif l.lower() == "/subsystem:windows":
                    opts.append("-mwindows")
                elif l.lower().startswith("/subsystem:console"):
                    opts.append("-mconsole")
                elif l.lower().endswith(".lib"):
                    libs.append("-l" + l[:-4])
                elif l.lower().startswith(("/nologo", "/debug", "/opt:", "/incremental", "/machine:", "/libpath:")):
                    pass
                else:
                    raise Unsupported("linker option " + la)
            break
        if not a.startswith("/") or os.path.exists(raw):
            if low.endswith(SRC_EXT):
                srcs.append(raw)
            elif low.endswith(".obj"):
                objs.append(raw)
            elif low.endswith(".lib"):
                libs.append("-l" + raw[:-4])
            else:
                raise Unsupported("input " + raw)
            continue
        if low == "/nologo":
            pass
        elif low in ("/o1", "/os"):
            opts.append("-Os")
        elif low in ("/o2", "/ox", "/ot"):
            opts.append("-O2")
        elif low == "/od":
            opts.append("-O0")
        elif low in ("/w0", "/w"):
            opts.append("-w")
        elif low in ("/w1", "/w2", "/w3"):
            opts.append("-Wall")
        elif low in ("/w4", "/wall"):
            opts += ["-Wall", "-Wextra"]
        elif low == "/wx":
            opts.append("-Werror")
        elif low.startswith("/eh"):
            pass
        elif low.startswith("/std:"):
            v = a[5:].replace("latest", "2b")
            cstd = "-std=" + v
        elif low.startswith("/fe"):
            out = a[3:].lstrip(":")
        elif low.startswith("/fo"):
            obj_out = a[3:].lstrip(":")  # where cl puts objects; g++ links without keeping them
        elif low == "/c":
            compile_only = True
        elif low in ("/zi", "/z7"):
            opts.append("-g")
        elif low in ("/md", "/mt", "/mdd", "/mtd"):
            pass  # we always link -static below
        elif a.startswith("/D"):
            opts.append("-D" + (a[2:] or next(it)))
        elif a.startswith("/U"):
            opts.append("-U" + (a[2:] or next(it)))
        elif a.startswith("/I"):
            opts.append("-I" + (a[2:] or next(it)))
        elif a.startswith(IGNORED_PREFIXES):
            pass
        else:
            raise Unsupported("flag " + raw)
    if not srcs and not objs:
        raise Unsupported("no input files")
    if out is None and compile_only and obj_out and not obj_out.endswith(("\\", "/")):
        out = obj_out
    if out is None:
        base = os.path.splitext(os.path.basename((srcs or objs)[0]))[0]
        out = base + (".obj" if compile_only else ".exe")
    elif not compile_only and not os.path.splitext(out)[1]:
        out += ".exe"
    argv = [GXX] + ([cstd] if cstd else []) + opts + (["-c"] if compile_only else []) + srcs + objs
    argv += ["-o", out]
    if not compile_only:
        argv += ["-static"] + libs
    return argv, srcs, out


def main():
    req = sys.argv[1]
    with open(os.path.join(req, "args.txt"), encoding="utf-8") as f:
        args = [l.rstrip("\n") for l in f if l.rstrip("\n")]
    log = []
    rc = 0
    try:
        argv, srcs, out = translate(args)
        for s in srcs:
            log.append(os.path.basename(s) + "\n")  # cl echoes each source name
        if os.environ.get("CLSHIM_SYNTAX", "1") == "1" and srcs:
            cl_args = []
            skip = False
            for a in args:
                if norm(a).lower() == "/link":
                    break
                if a.lower().endswith((".lib", ".obj")):
                    continue
                if norm(a).lower().startswith("/fo"):
                    continue  # /Zs writes nothing; clang-cl also reads obj\ as no folder on Linux
                cl_args.append(a)
            p = subprocess.run([CHECK, "-Qunused-arguments"] + cl_args, capture_output=True, text=True)
            log.append(p.stdout + p.stderr)
            if p.returncode:
                rc = 2
            # What clang-cl lets through and cl at /W4 does not: narrowing it cannot prove unsafe.
            warns = any(norm(a).lower() == "/w4" for a in cl_args)
            if rc == 0 and warns:
                p = subprocess.run([sys.executable, NARROWING] + srcs, capture_output=True, text=True)
                log.append(p.stdout + p.stderr)
                if p.returncode and any(norm(a).lower() == "/wx" for a in cl_args):
                    log.append("error: warnings treated as errors (/WX)\n")
                    rc = 2
        if rc == 0:
            p = subprocess.run(argv, capture_output=True, text=True)
            log.append(p.stdout + p.stderr)
            rc = 0 if p.returncode == 0 else 2
    except Unsupported as e:
        log.append("cl shim: unsupported %s (extend cl_emul.py)\n" % e)
        rc = 2
    except Exception as e:  # never leave cl.exe waiting
        log.append("cl shim: internal error: %r\n" % (e,))
        rc = 2
    with open(os.path.join(req, "out.txt"), "w") as f:
        f.write("".join(log).replace("\n", "\r\n"))
    with open(os.path.join(req, "rc.tmp"), "w") as f:
        f.write(str(rc))
    os.rename(os.path.join(req, "rc.tmp"), os.path.join(req, "rc.txt"))


if __name__ == "__main__":
    main()
