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
record CpuUse(long jvmNanos, long postgresCpuTicks, long wallNanos) {

  /** Linux reports process times in clock ticks; 100 a second on every mainstream kernel build. */
  private static final double TICKS_PER_SECOND = 100;

  static CpuUse now() {
    var os = ManagementFactory.getOperatingSystemMXBean();
    long jvm = os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : -1;
    return new CpuUse(jvm, postgresTicks(), System.nanoTime());
  }

  /** Cores busy on average between {@code start} and this snapshot: {JVM, PostgreSQL}. */
  double[] coresSince(CpuUse start) {
    double wall = (wallNanos - start.wallNanos) / 1e9;
    double jvm = jvmNanos < 0 ? Double.NaN : (jvmNanos - start.jvmNanos) / 1e9 / wall;
    double pg = postgresCpuTicks < 0 || start.postgresCpuTicks < 0 ? Double.NaN
        : (postgresCpuTicks - start.postgresCpuTicks) / TICKS_PER_SECOND / wall;
    return new double[] {jvm, pg};
  }

  private static long postgresTicks() {
    Path proc = Path.of("/proc");
    if (!Files.isDirectory(proc)) {
      return -1;
    }
    long ticks = 0;
    try (Stream<Path> pids = Files.list(proc)) {
      for (Path p : (Iterable<Path>) pids.filter(d -> d.getFileName().toString().chars().allMatch(Character::isDigit))::iterator) {
        ticks += postgresTicks(p.resolve("stat"));
      }
    } catch (IOException e) {
      return -1;
    }
    return ticks;
  }

  /** utime + stime of one process if it is PostgreSQL; fields after the parenthesised name. */
  private static long postgresTicks(Path stat) {
    try {
      String s = Files.readString(stat);
      int open = s.indexOf('(');
      int close = s.lastIndexOf(')');
      if (open < 0 || close < 0 || !s.substring(open + 1, close).equals("postgres")) {
        return 0;
      }
      String[] f = s.substring(close + 2).split(" ");
      return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }
}
