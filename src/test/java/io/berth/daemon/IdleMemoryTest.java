package io.berth.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class IdleMemoryTest {

    @Test
    void givesBackOncePerBurstAndNeverWhileBusy() throws Exception {
        AtomicLong requests = new AtomicLong();
        AtomicInteger trims = new AtomicInteger();
        try (IdleMemory idle = new IdleMemory(requests::get, Duration.ofMillis(100), trims::incrementAndGet)) {
            Thread.sleep(450);
            assertThat(trims).as("no work yet, nothing to give back").hasValue(0);

            long busyUntil = System.nanoTime() + Duration.ofMillis(600).toNanos();
            while (System.nanoTime() < busyUntil) {
                requests.incrementAndGet();
                Thread.sleep(20);
            }
            assertThat(trims).as("a busy daemon is not interrupted").hasValue(0);

            Thread.sleep(450);
            assertThat(trims).as("one give-back after the burst").hasValue(1);
            Thread.sleep(450);
            assertThat(trims).as("idle again: nothing more to do").hasValue(1);

            requests.incrementAndGet();
            Thread.sleep(450);
            assertThat(trims).as("the next burst, however small").hasValue(2);
        }
    }

    @Test
    void theGiveBackShrinksAGrownHeap() {
        // Only meaningful with the daemon's collector settings (see ./berth), which surefire's JVM may not have:
        // what is asserted is that the collection ran and freed the garbage of the burst.
        byte[][] burst = new byte[64][];
        for (int i = 0; i < burst.length; i++) burst[i] = new byte[1 << 20];
        MemoryUsage before = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        burst = null;
        IdleMemory.giveBack();
        MemoryUsage after = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        assertThat(after.getUsed()).as("heap used after the give-back, was %d", before.getUsed())
                .isLessThan(before.getUsed() - (32L << 20));
    }
}
