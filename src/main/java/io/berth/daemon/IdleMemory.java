package io.berth.daemon;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives memory back once the daemon goes idle after work. The serial collector (chosen for a
 * small, fast-starting daemon) only shrinks the heap at a full collection, and an idle daemon
 * allocates too little to ever have one; glibc keeps freed native memory in its arenas. So
 * when requests came since the last look and none for {@code quiet}, one full collection runs
 * (it shrinks the heap to MaxHeapFreeRatio of the live data, with -XX:-ShrinkHeapInSteps at
 * once) and malloc_trim(0) hands freed native pages back. A busy daemon is never interrupted;
 * an idle one pays one collection of a small heap per burst.
 */
final class IdleMemory implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(IdleMemory.class);
    private static final Optional<MethodHandle> MALLOC_TRIM = Linker.nativeLinker().defaultLookup().find("malloc_trim")
            .map(f -> Linker.nativeLinker().downcallHandle(f, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG)));

    private final LongSupplier activity;
    private final Runnable giveBack;
    private final ScheduledExecutorService timer;
    private long lastSeen;
    private long lastTrimmed;

    /** {@code activity} counts requests (any number that grows with work); looked at every {@code quiet}. */
    IdleMemory(LongSupplier activity, Duration quiet) {
        this(activity, quiet, IdleMemory::giveBack);
    }

    IdleMemory(LongSupplier activity, Duration quiet, Runnable giveBack) {
        this.activity = activity;
        this.giveBack = giveBack;
        this.lastSeen = activity.getAsLong();
        this.lastTrimmed = lastSeen;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "idle-memory");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::look, quiet.toMillis(), quiet.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Trims when there was work since the last trim and none since the last look. */
    private void look() {
        long now = activity.getAsLong();
        boolean quietSinceLastLook = now == lastSeen;
        lastSeen = now;
        if (quietSinceLastLook && now != lastTrimmed) {
            lastTrimmed = now;
            giveBack.run();
        }
    }

    /** One full collection, then freed native memory back to the kernel. */
    static void giveBack() {
        long t0 = System.nanoTime();
        System.gc();
        MALLOC_TRIM.ifPresent(trim -> {
            try {
                int ignored = (int) trim.invokeExact(0L);
            } catch (Throwable e) {
                log.debug("malloc_trim failed: {}", e.toString());
            }
        });
        log.debug("idle: gave memory back in {} ms", (System.nanoTime() - t0) / 1_000_000);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
