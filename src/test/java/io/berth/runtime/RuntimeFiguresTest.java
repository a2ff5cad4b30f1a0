package io.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Figures printed, not asserted: the cost of a container through conmon and the runtime here. */
class RuntimeFiguresTest {
    @TempDir Path tmp;
    RuntimeFixture rt;

    @BeforeEach
    void setUp() throws Exception {
        rt = new RuntimeFixture(tmp);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (rt != null) rt.close();
    }

    @Test
    void createStartWaitAndConmonMemory() throws Exception {
        List<Double> create = new ArrayList<>();
        List<Double> total = new ArrayList<>();
        List<Double> delete = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String id = RuntimeFixture.newId();
            long t0 = System.nanoTime();
            rt.create(id, rt.spec("true").build());
            long t1 = System.nanoTime();
            rt.conmon.start(id);
            assertThat(rt.awaitExit(id, Duration.ofSeconds(20)).exitCode()).isZero();
            long t2 = System.nanoTime();
            if (i >= 2) { // the first runs warm up the JVM's paths
                create.add((t1 - t0) / 1e6);
                total.add((t2 - t0) / 1e6);
            }
            long t3 = System.nanoTime();
            rt.conmon.delete(id);
            if (i >= 2) delete.add((System.nanoTime() - t3) / 1e6);
        }
        Collections.sort(create);
        Collections.sort(total);
        Collections.sort(delete);
        System.out.printf("[figures] %s via conmon: create %.1f ms, create+start+wait of `true` %.1f ms (median of %d; min %.1f, max %.1f)%n",
                rt.runtime.name(), create.get(create.size() / 2), total.get(total.size() / 2), total.size(), total.getFirst(), total.getLast());
        System.out.printf("[figures] delete (state + delete --force + wait for conmon): %.1f ms median%n", delete.get(delete.size() / 2));

        String id = RuntimeFixture.newId();
        ContainerHandle h = rt.run(id, rt.spec("sleep", "1000").build());
        Thread.sleep(300);
        String rss = field(Path.of("/proc/" + h.conmonPid() + "/status"), "VmRSS:");
        String pss = field(Path.of("/proc/" + h.conmonPid() + "/smaps_rollup"), "Pss:");
        System.out.printf("[figures] conmon per container: RSS %s, PSS %s%n", rss, pss);
        assertThat(rss).isNotEmpty();
    }

    private static String field(Path file, String name) throws Exception {
        return Files.readAllLines(file).stream().filter(l -> l.startsWith(name)).map(l -> l.substring(name.length()).trim())
                .findFirst().orElse("");
    }
}
