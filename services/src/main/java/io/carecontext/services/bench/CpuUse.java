package io.carecontext.services.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * CPU time spent by this JVM (service, benchmark clients and LangChain4j together) and by every
 * PostgreSQL process on the machine, read around a measured run: which side a run is bound by.
 * PostgreSQL's share comes from {@code /proc} and is unknown (NaN) where there is none, or when
 * PostgreSQL runs on another machine.
 */
record CpuUse(long jvmNanos, long postgresCpuTicks, long jitMillis, long wallNanos) {

  /** Linux reports process times in clock ticks; 100 a second on every mainstream kernel build. */
  private static final double TICKS_PER_SECOND = 100;

  static CpuUse now() {
    var os = ManagementFactory.getOperatingSystemMXBean();
    long jvm = os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : -1;
    return new CpuUse(jvm, postgresTicks(), jitCpuMillis(), System.nanoTime());
  }

  /**
   * CPU time of this JVM's JIT compiler threads so far, in ms, from {@code /proc/self/task}; -1 where
   * there is none. (The JVM's own compilation-time counter moves only when a compilation ends, so a
   * compilation that runs for seconds, as C2's of a large method can on a slow machine, shows there
   * as quiet seconds and then one busy one.)
   */
  static long jitCpuMillis() {
    Path tasks = Path.of("/proc/self/task");
    if (!Files.isDirectory(tasks)) {
      return -1;
    }
    long ticks = 0;
    try (Stream<Path> threads = Files.list(tasks)) {
      for (Path t : (Iterable<Path>) threads::iterator) {
        ticks += ticks(t.resolve("stat"), name -> name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre"));
      }
    } catch (IOException e) {
      return -1;
    }
    return Math.round(ticks * 1000 / TICKS_PER_SECOND);
  }

  /**
   * Cores busy on average between {@code start} and this snapshot: {JVM, PostgreSQL, JIT}. The
   * JIT's share is part of the JVM's: the CPU its compiler threads used.
   */
  double[] coresSince(CpuUse start) {
    double wall = (wallNanos - start.wallNanos) / 1e9;
    double jvm = jvmNanos < 0 ? Double.NaN : (jvmNanos - start.jvmNanos) / 1e9 / wall;
    double pg = postgresCpuTicks < 0 || start.postgresCpuTicks < 0 ? Double.NaN
        : (postgresCpuTicks - start.postgresCpuTicks) / TICKS_PER_SECOND / wall;
    double jit = jitMillis < 0 ? Double.NaN : (jitMillis - start.jitMillis) / 1e3 / wall;
    return new double[] {jvm, pg, jit};
  }

  private static long postgresTicks() {
    Path proc = Path.of("/proc");
    if (!Files.isDirectory(proc)) {
      return -1;
    }
    long ticks = 0;
    try (Stream<Path> pids = Files.list(proc)) {
      for (Path p : (Iterable<Path>) pids.filter(d -> d.getFileName().toString().chars().allMatch(Character::isDigit))::iterator) {
        ticks += ticks(p.resolve("stat"), "postgres"::equals);
      }
    } catch (IOException e) {
      return -1;
    }
    return ticks;
  }

  /** utime + stime of one process or thread if its name is one {@code wanted}; fields after the parenthesised name. */
  private static long ticks(Path stat, java.util.function.Predicate<String> wanted) {
    try {
      String s = Files.readString(stat);
      int open = s.indexOf('(');
      int close = s.lastIndexOf(')');
      if (open < 0 || close < 0 || !wanted.test(s.substring(open + 1, close))) {
        return 0;
      }
      String[] f = s.substring(close + 2).split(" ");
      return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }
}
