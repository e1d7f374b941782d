#!/usr/bin/env python3
"""make bench (python3 -m bench.run): server.exe --echo side by side with a single-threaded Asio echo server and the
lecture's skeleton, under the same Wine, with client.exe as the load.

Each server and its own freshly started wineserver are pinned to core 0, the load (client.exe and
its wineserver, in another Wine prefix) to core 1: unpinned, the same server's figures swing 2-4x
here. Every scenario runs after a warm-up, ROUNDS times with the servers alternating, and the
table reports medians. Figures go to stdout, bench/results.md and bench/results.png.
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

from tests.harness import BUILD, ROOT, Wine, free_port

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
ONLY = os.environ.get("BENCH_ONLY", "")  # a substring of scenario names, to run a subset
SERVER_CPU, LOAD_CPU = "0", "1"

SERVERS = {
    "ours": lambda port: ["server.exe", "--echo", "--quiet", "--bind", "127.0.0.1", "--port", str(port)],
    "asio": lambda port: ["asio_echo.exe", str(port)],
    "skeleton": lambda port: ["skeleton_echo.exe", str(port)],
}
CHAT_SERVER = lambda port: ["server.exe", "--quiet", "--bind", "127.0.0.1", "--port", str(port)]
# BENCH_BASELINE=path/to/an/older/server.exe adds it as "baseline": how a change is judged.
BASELINE = os.environ.get("BENCH_BASELINE", "")
if BASELINE:
    SERVERS["baseline"] = lambda port: [os.path.abspath(BASELINE), "--echo", "--quiet", "--bind", "127.0.0.1",
                                        "--port", str(port)]


class Scenario:
    def __init__(self, name, args, metric, servers=None, server_cmd=None, timeout=180):
        self.name, self.args, self.metric = name, args, metric
        self.servers = servers or tuple(SERVERS)
        self.server_cmd, self.timeout = server_cmd, timeout


# metric: "rate" = replies per second; "serve" = time until every connection was answered once;
# "hold" = errors and server memory per connection while they are held.
SCENARIOS = [
    Scenario("ping-pong 1 conn", ["--bots", "1", "--mix", "echo", "--depth", "1", "--duration", "5"], "rate"),
    Scenario("ping-pong 100 conns", ["--bots", "100", "--mix", "echo", "--depth", "1", "--duration", "5"], "rate"),
    Scenario("ping-pong 1000 conns", ["--bots", "1000", "--ramp", "2000", "--mix", "echo", "--depth", "1",
                                      "--duration", "5"], "rate"),
    Scenario("pipelined 100x16", ["--bots", "100", "--mix", "echo", "--depth", "16", "--duration", "5"], "rate"),
    Scenario("accept burst 1000", ["--bots", "1000", "--ramp", "100000", "--mix", "echo", "--depth", "1",
                                   "--duration", "2"], "serve"),
    Scenario("accept under load 1000", ["--bots", "1000", "--ramp", "200", "--mix", "echo", "--depth", "1",
                                        "--duration", "2"], "serve", timeout=300),
    Scenario("hold 10000 conns 30s", ["--bots", "10000", "--ramp", "2000", "--mix", "echo", "--rate", "1",
                                      "--duration", "30"], "hold", timeout=400),
    Scenario("chat fan-out 200", ["--bots", "200", "--mix", "chat", "--rate", "1", "--duration", "10"], "rate",
             servers=("ours",), server_cmd=CHAT_SERVER),
]


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def core_ticks():
    """{"0": (busy, total), ...}: clock ticks of every core so far, from one read of /proc/stat."""
    ticks = {}
    with open("/proc/stat") as f:
        for line in f:
            name, *fields = line.split()
            if name.startswith("cpu") and name != "cpu":
                values = [int(x) for x in fields]
                ticks[name[3:]] = (sum(values) - values[3] - values[4], sum(values))  # idle, iowait
    return ticks


def busy_percent(first, last):
    busy, total = last[0] - first[0], last[1] - first[1]
    return 100.0 * busy / total if total else float("nan")


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    except (OSError, AttributeError):
        return 0


class PinnedServer:
    """A server .exe and a fresh wineserver of its own, both on SERVER_CPU."""

    def __init__(self, command, wine):
        self.wine = wine.start()
        self.port = int(command[-1])
        self.process = wine.spawn(command[0], command[1:])
        self.process.wait_for_line(lambda l: "listening" in l, timeout=60)

    def cpu(self):
        return cpu_seconds(self.process.proc.pid) + cpu_seconds(self.wine.server.pid)

    def rss_kb(self):
        return rss_kb(self.process.proc.pid)

    def stop(self):
        self.process.stop()
        died = self.wine.death()
        leftovers = self.wine.stop()
        if died:
            print("  " + died, file=sys.stderr, flush=True)
        elif leftovers:
            print(f"  {leftovers} processes were still running in {self.wine.prefix}", file=sys.stderr, flush=True)


def output_of(command, env, timeout, on_line=None):
    """Runs a load to its end, or kills it after `timeout` seconds; its output, each line handed
    to on_line as it comes."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = []
    deadline = time.monotonic() + timeout
    for raw in proc.stdout:
        line = raw.decode(errors="replace")
        output.append(line)
        if on_line:
            on_line(line)
        if time.monotonic() > deadline:
            proc.kill()
            break
    proc.wait()
    return "".join(output)


def tagged_fields(text, tag):
    """The fields of the line `TAG k=v k=v ...` in a load's output, as floats ({} without one)."""
    match = re.search(rf"^{tag} (.*)$", text, re.M)
    return {k: float(v) for k, v in (kv.split("=") for kv in match.group(1).split())} if match else {}


def run_load(args, port, wine, timeout, on_progress=None):
    """client.exe pinned to LOAD_CPU; returns the RESULT and SERVED fields."""
    command = wine.command("client.exe", args + ["127.0.0.1", str(port)])
    text = output_of(command, wine.env, timeout, lambda line: on_progress and line.startswith("t=") and on_progress())
    fields = {}
    for tag in ("RESULT", "SERVED"):
        fields.update({f"{tag.lower()}.{k}": v for k, v in tagged_fields(text, tag).items()})
    if "result.sent" not in fields:
        fields["result.errors"] = float("nan")
        sys.stderr.write("client.exe gave no RESULT:\n" + text[-2000:])
    return fields


def duration_of(args):
    return float(args[args.index("--duration") + 1])


def warm_up_args(args):
    """A short run of the same shape: 1 second, at most 100 bots."""
    warm = list(args)
    warm[warm.index("--duration") + 1] = "1"
    bots = warm.index("--bots") + 1
    warm[bots] = str(min(int(warm[bots]), 100))
    return warm


def measure(scenario, server_name, load_wine):
    port = free_port()
    command = (scenario.server_cmd or SERVERS[server_name])(port)
    server = PinnedServer(command, Wine("bench-server", cpu=SERVER_CPU))
    try:
        run_load(warm_up_args(scenario.args), port, load_wine, 60)
        time.sleep(0.5)
        base_rss, base_cpu = server.rss_kb(), server.cpu()
        peak = {"rss": base_rss}
        cores = {}  # each core's ticks at the first and the latest progress line: the steady state

        def sample():
            peak["rss"] = max(peak["rss"], server.rss_kb())
            ticks = core_ticks()
            now = {"server": ticks.get(SERVER_CPU, (0, 0)), "load": ticks.get(LOAD_CPU, (0, 0))}
            cores.setdefault("first", now)
            cores["last"] = now

        fields = run_load(scenario.args, port, load_wine, scenario.timeout, on_progress=sample)
        fields["cpu_s"] = server.cpu() - base_cpu
        fields["rss_mb"] = peak["rss"] / 1024
        bots = int(scenario.args[scenario.args.index("--bots") + 1])
        fields["kb_per_conn"] = max(0, peak["rss"] - base_rss) / bots
        if "last" in cores:
            # Which side was the limit: a load core below 100 % while the server's is at 100 % means
            # the figures are the server's, not the load generator's.
            fields["server_busy"] = busy_percent(cores["first"]["server"], cores["last"]["server"])
            fields["load_busy"] = busy_percent(cores["first"]["load"], cores["last"]["load"])
        fields["rate"] = fields.get("result.received", 0) / duration_of(scenario.args)
        return fields
    finally:
        server.stop()


def median(runs, key):
    values = [r[key] for r in runs if key in r and r[key] == r[key]]
    return statistics.median(values) if values else float("nan")


def main():
    for exe in ("server.exe", "client.exe", "asio_echo.exe", "skeleton_echo.exe"):
        if not os.path.exists(os.path.join(BUILD, exe)):
            sys.exit(f"build/{exe} is missing: run `make bench`")
    if not shutil.which("taskset"):
        sys.exit("taskset is missing (Debian package util-linux)")
    started = time.strftime("%Y-%m-%d %H:%M")
    load_wine = Wine("bench-load", cpu=LOAD_CPU).start()
    try:
        rows = run_all(load_wine)
    finally:
        load_wine.stop()
    table = render(rows, started)
    if not ONLY:
        table += round_trips_section()
    print("\n" + table)
    write_table(table)
    chart(rows)


def round_trips_section():
    """What one echo costs in wineserver round trips, for each server (bench/wine_calls.py), at
    100 ping-pong connections: how close each is to the floor of 6 (3 for a receive, 3 for a send)."""
    from bench import wine_calls  # imports this module: not at the top
    bots = 100
    calls = wine_calls.wine_calls(bots=bots)
    return (f"\nWineserver round trips per echo (`python3 -m bench.wine_calls {bots}`: {bots} ping-pong "
            "connections, steady state, counted with the server's wineserver tracing every request; the floor "
            "is 6, three for a receive and three for a send that complete at once):\n\n" + wine_calls.render(calls))


def write_table(table):
    """Puts the table between the echo markers of bench/results.md."""
    write_between("<!-- make bench: table -->\n", "<!-- make bench: end -->", table)


def write_between(begin, end, text):
    """Puts `text` between the markers `begin` and `end` in bench/results.md (at its end, with
    them, when they are not there yet); the rest of the file is kept."""
    path = os.path.join(ROOT, "bench", "results.md")
    with open(path) as f:
        old = f.read()
    if begin in old and end in old:
        new = old[:old.index(begin) + len(begin)] + text + old[old.index(end):]
    else:
        new = old + "\n" + begin + text + end + "\n"
    with open(path, "w") as f:
        f.write(new)


def run_all(load_wine):
    rows = []
    for scenario in SCENARIOS:
        if ONLY and ONLY not in scenario.name:
            continue
        runs = {name: [] for name in scenario.servers}
        for round_no in range(ROUNDS):
            for name in scenario.servers:  # alternating servers, round after round
                fields = measure(scenario, name, load_wine)
                runs[name].append(fields)
                print(f"  {scenario.name:<24} {name:<9} round {round_no + 1}: rate={fields['rate']:.0f}/s "
                      f"p99={fields.get('result.p99_ms', float('nan')):.2f}ms "
                      f"served_max={fields.get('served.max_ms', float('nan')):.0f}ms "
                      f"errors={fields.get('result.errors', float('nan')):.0f} failed={fields.get('result.failed', 0):.0f} "
                      f"cores={fields.get('server_busy', float('nan')):.0f}%/{fields.get('load_busy', float('nan')):.0f}%",
                      flush=True)
        for name in scenario.servers:
            r = runs[name]
            rows.append({
                "scenario": scenario.name, "metric": scenario.metric, "server": name,
                "rate": median(r, "rate"), "p50": median(r, "result.p50_ms"), "p99": median(r, "result.p99_ms"),
                "errors": median(r, "result.errors"), "failed": median(r, "result.failed"),
                "served_max": median(r, "served.max_ms"), "cpu": median(r, "cpu_s"),
                "rss_mb": median(r, "rss_mb"), "kb_per_conn": median(r, "kb_per_conn"),
                "server_busy": median(r, "server_busy"), "load_busy": median(r, "load_busy"),
            })
    return rows


def render(rows, started):
    machine = f"{os.cpu_count()} cores, " + platform_line()
    lines = [f"Benchmark run {started} on {machine}; medians of {ROUNDS} rounds, server pinned to one core, load to the other.",
             "",
             "| scenario | server | msgs/s | p50 ms | p99 ms | all served in ms | errors | refused | server CPU s | "
             "server core % | load core % | server MB | KB/conn | ours/asio |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    by_key = {(r["scenario"], r["server"]): r for r in rows}
    for r in rows:
        asio = by_key.get((r["scenario"], "asio"))
        ratio = ""
        if r["server"] == "ours" and asio:
            if r["metric"] == "serve":
                ratio = f"{asio['served_max'] / r['served_max']:.2f}x faster" if r["served_max"] else ""
            elif asio["rate"]:
                ratio = f"{r['rate'] / asio['rate']:.2f}"
        lines.append(f"| {r['scenario']} | {r['server']} | {r['rate']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
                     f"{r['served_max']:.0f} | {r['errors']:.0f} | {r['failed']:.0f} | {r['cpu']:.1f} | "
                     f"{r['server_busy']:.0f} | {r['load_busy']:.0f} | "
                     f"{r['rss_mb']:.0f} | {r['kb_per_conn']:.1f} | {ratio} |")
    return "\n".join(lines) + "\n"


def platform_line():
    try:
        with open("/proc/cpuinfo") as f:
            model = re.search(r"model name\s*:\s*(.*)", f.read()).group(1)
    except (OSError, AttributeError):
        model = "unknown CPU"
    wine = subprocess.run(["wine", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{model}, {wine}"


def chart(rows):
    """A grouped bar chart of msgs/s per throughput scenario relative to Asio's in the same run
    (gnuplot). The scenarios differ 40-fold in msgs/s: on one absolute axis the differences that
    matter would not show."""
    if not shutil.which("gnuplot"):
        print("gnuplot is missing: no chart")
        return
    scenarios = [s.name for s in SCENARIOS if s.metric == "rate" and len(s.servers) > 1]
    scenarios = [s for s in scenarios if any(r["scenario"] == s for r in rows)]
    if not scenarios:
        return
    data = os.path.join(BUILD, "bench-chart.dat")
    with open(data, "w") as f:
        f.write("scenario ours asio skeleton\n")
        for s in scenarios:
            values = [next((r["rate"] for r in rows if r["scenario"] == s and r["server"] == n), 0)
                      for n in ("ours", "asio", "skeleton")]
            asio = values[1] or 1
            f.write('"%s" %s\n' % (s, " ".join(f"{v / asio:.3f}" for v in values)))
    script = f"""
set terminal pngcairo size 900,480 font ",10"
set output "{os.path.join(ROOT, 'bench', 'results.png')}"
set title "Echo messages per second relative to Asio in the same run, under Wine (higher is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top right autotitle columnhead
set ylabel "msgs/s, Asio = 1"
set yrange [0:*]
set grid ytics
plot "{data}" using 2:xtic(1), "" using 3, "" using 4
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=False)


if __name__ == "__main__":
    main()
