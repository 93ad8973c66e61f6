# Interleaved timing shared by the bench scripts. Every round runs every
# variant once, in a fresh random order, so the drift of a shared VM hits
# all variants alike; ratios are then taken within each round (paired)
# before their median is reported with a bootstrap 95% interval.
#
#   rounds.py run VARIANTS.tsv RUNS WARMUP OUT   (VARIANTS: "name<TAB>shell-free command")
# A command may be a sequence "A && B && C": each step is spawned directly
# (no shell, whose own start-up would be timed too) and the run stops at
# the first failure; the time is that of the whole sequence.
#   rounds.py ratios OUT REF NAME...             (REF/NAME per round, e.g. crun ward)
import collections, os, random, statistics, subprocess, sys, time


def run(variants_file, runs, warmup, out_file):
    variants = [l.rstrip("\n").split("\t") for l in open(variants_file) if l.strip()]
    null = os.open(os.devnull, os.O_RDWR)
    with open(out_file, "w") as out:
        for r in range(-warmup, runs):
            order = variants[:]
            random.shuffle(order)
            for name, cmd in order:
                steps = [c.split() for c in cmd.split(" && ")]
                cpu = 0.0
                t0 = time.perf_counter_ns()
                for step in steps:
                    p = subprocess.Popen(step, stdout=null, stderr=null)
                    _, status, ru = os.wait4(p.pid, 0)
                    cpu += ru.ru_utime + ru.ru_stime
                    code = os.waitstatus_to_exitcode(status)
                    if code != 0:
                        sys.exit(f"{name}: exit status {code}: {' '.join(step)}")
                t1 = time.perf_counter_ns()
                if r >= 0:
                    print(r, name, (t1 - t0) // 1000, int(cpu * 1e6), file=out)


def load(out_file):
    wall, cpu = collections.defaultdict(dict), collections.defaultdict(dict)
    for line in open(out_file):
        r, name, us, cus = line.split()
        wall[name][int(r)] = int(us) / 1000.0
        cpu[name][int(r)] = int(cus) / 1000.0
    return wall, cpu


def boot_median(d):
    rng = random.Random(1)
    boots = sorted(statistics.median(rng.choices(d, k=len(d))) for _ in range(1000))
    return statistics.median(d), boots[25], boots[974]


def ratios(out_file, ref, names):
    wall, _ = load(out_file)
    print("%-14s %10s %8s %8s" % ("command", "median ms", "p25", "p75"))
    for n in [ref] + names:
        v = sorted(wall[n].values())
        q = statistics.quantiles(v, n=4)
        print("%-14s %10.2f %8.2f %8.2f" % (n, statistics.median(v), q[0], q[2]))
    print("paired ratios, median of per-round ratios [bootstrap 95%% interval], %d rounds:" % len(wall[ref]))
    for n in names:
        d = [wall[n][r] / wall[ref][r] for r in wall[ref] if r in wall[n]]
        m, lo, hi = boot_median(d)
        print("  %-22s %5.2f [%5.2f, %5.2f]" % ("%s/%s" % (n, ref), m, lo, hi))


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == "ratios":
        ratios(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit("rounds.py: run|ratios")
