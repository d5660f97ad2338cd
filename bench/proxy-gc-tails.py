#!/usr/bin/env python3
"""Whether a fixed-rate run's slowest requests line up with the sidecars' safepoints (GC pauses).

usage: bench/proxy-gc-tails.py REQUESTS_LOG GC_LOG...

REQUESTS_LOG: h2load's per-request log of one target (proxy-bench.sh --keep-request-logs true
writes <target>-requests.log). GC_LOG: each sidecar's -Xlog file written with the decorations
timemillis,uptimenanos (see bench/README.md, "Attributing a tail to GC pauses"). Prints, for the
requests' time window, each process's safepoints by kind, young pauses per second and their
lengths, the age-1 survivors each collection copied (with gc+age=trace), and how many of the
requests at or above p99 overlapped a safepoint (±1 ms: the log's time is in whole ms).
"""
import re
import statistics
import sys


def main(requests_log, gc_logs):
    rows = [line.split('\t') for line in open(requests_log)
            if line.strip() and not line.startswith('#')]
    starts = [int(r[0]) for r in rows]
    durations = [int(r[2]) for r in rows]
    t0 = min(starts) // 1000
    t1 = max(s + d for s, d in zip(starts, durations)) // 1000
    seconds = (t1 - t0) / 1000
    print(f"{len(rows)} requests in {seconds:.1f} s")
    intervals = []
    for path in gc_logs:
        kinds, young, survivors = {}, [], []
        for line in open(path):
            m = re.match(r'\[(\d+)ms\]', line)
            if not m or not t0 <= int(m.group(1)) <= t1:
                continue
            sp = re.search(r'Safepoint "(\w+)".*Total: (\d+) ns', line)
            if sp:
                kinds[sp.group(1)] = kinds.get(sp.group(1), 0) + 1
                ms = int(sp.group(2)) / 1e6
                end = int(m.group(1))
                intervals.append(((end - ms - 1) * 1000, (end + 1) * 1000))
                if sp.group(1) == 'GenCollectForAllocation':
                    young.append(ms)
            age = re.search(r'age\s+1:\s+(\d+) bytes', line)
            if age:
                survivors.append(int(age.group(1)))
        text = f"{path}: safepoints {kinds}; young pauses {len(young) / seconds:.2f}/s"
        if young:
            young.sort()
            text += (f", ms min {young[0]:.2f} median {statistics.median(young):.2f}"
                     f" max {young[-1]:.2f}")
        if survivors:
            text += f"; age-1 survivors KB median {statistics.median(survivors) / 1024:.0f}"
        print(text)
    p99 = sorted(durations)[int(len(durations) * 0.99)]
    slow = [(s, d) for s, d in zip(starts, durations) if d >= p99]
    hit = sum(1 for s, d in slow if any(a < s + d and s < b for a, b in intervals))
    print(f"p99 {p99} us: {hit} of the {len(slow)} requests at or above it overlapped a safepoint")


if __name__ == '__main__':
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
