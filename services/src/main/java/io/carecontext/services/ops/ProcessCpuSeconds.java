package io.carecontext.services.ops;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;

/**
 * The process's CPU time as Prometheus names it, {@code process_cpu_seconds_total} (what its own clients and
 * every node/process dashboard read). Micrometer's binder exports it in nanoseconds, {@code process_cpu_time_ns_total},
 * which no standard dashboard or alert finds, and whose rate reads as a billion times the cores in use: that one is
 * left out, and this counter takes its place.
 */
@Factory
public class ProcessCpuSeconds {

  static final String NANOSECONDS_METER = "process.cpu.time";

  /** Applied by Micronaut to the registry before any binder registers its meters. */
  @Bean
  @Singleton
  MeterFilter withoutTheNanosecondsCounter() {
    return MeterFilter.deny(id -> NANOSECONDS_METER.equals(id.getName()));
  }

  /** Registers {@code process.cpu} in seconds, when the JVM tells the process's CPU time (HotSpot does). */
  static void register(MeterRegistry registry) {
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean hotspot && hotspot.getProcessCpuTime() >= 0) {
      FunctionCounter.builder("process.cpu", hotspot, b -> b.getProcessCpuTime() / 1e9)
          .baseUnit("seconds")
          .description("CPU time used by this process")
          .register(registry);
    }
  }
}
