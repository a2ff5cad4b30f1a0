package io.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.runtime.AttachSession.StdStream;
import io.berth.runtime.LogReader.LogEntry;
import io.berth.runtime.LogReader.LogQuery;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogReaderTest {
    @TempDir Path dir;

    static final String LOG = """
            2024-05-01T10:00:00.000000001+00:00 stdout F one
            2024-05-01T10:00:01.000000000+02:00 stderr P par
            2024-05-01T10:00:02.500000000+00:00 stdout F two
            2024-05-01T10:00:03.000000000+02:00 stderr P t-
            2024-05-01T10:00:04.000000000+02:00 stderr F end
            2024-05-01T10:00:05.000000000+00:00 stdout F\s
            2024-05-01T10:00:06.123456789+00:00 stdout F three
            """;

    private Path write(String text) throws Exception {
        Path f = dir.resolve("ctr.log");
        Files.writeString(f, text);
        return f;
    }

    private static List<String> texts(List<LogEntry> es) {
        return es.stream().map(e -> e.stream().name().charAt(3) + ":" + e.text()).toList();
    }

    @Test
    void joinsPartialLinesAndSeparatesStreams() throws Exception {
        List<LogEntry> all = LogReader.readAll(write(LOG), LogQuery.ALL);
        assertThat(texts(all)).containsExactly("O:one\n", "O:two\n", "E:part-end\n", "O:\n", "O:three\n");
        assertThat(all.get(2).time()).isEqualTo(Instant.parse("2024-05-01T08:00:01Z"));
        assertThat(all.get(4).time()).isEqualTo(Instant.parse("2024-05-01T10:00:06.123456789Z"));
        assertThat(texts(LogReader.readAll(write(LOG), LogQuery.ALL.withStreams(false, true)))).containsExactly("E:part-end\n");
    }

    @Test
    void tailSinceUntil() throws Exception {
        Path f = write(LOG);
        assertThat(texts(LogReader.readAll(f, LogQuery.ALL.withTail(2)))).containsExactly("O:\n", "O:three\n");
        assertThat(LogReader.readAll(f, LogQuery.ALL.withTail(0))).isEmpty();
        assertThat(texts(LogReader.readAll(f, LogQuery.ALL.withTimes(Instant.parse("2024-05-01T10:00:02.5Z"), null))))
                .containsExactly("O:two\n", "O:\n", "O:three\n");
        assertThat(texts(LogReader.readAll(f, LogQuery.ALL.withTimes(null, Instant.parse("2024-05-01T10:00:02.5Z")))))
                .containsExactly("O:one\n", "O:two\n", "E:part-end\n");
    }

    @Test
    void unfinishedLineAtTheEndComesWithoutNewline() throws Exception {
        Path f = write("2024-05-01T10:00:00Z stdout P no newline\n");
        assertThat(texts(LogReader.readAll(f, LogQuery.ALL))).containsExactly("O:no newline");
    }

    @Test
    void followsUntilTheWriterStops() throws Exception {
        Path f = write("2024-05-01T10:00:00Z stdout F a\n");
        AtomicBoolean running = new AtomicBoolean(true);
        List<String> got = new CopyOnWriteArrayList<>();
        Thread t = Thread.ofVirtual().start(() -> {
            try {
                LogReader.read(f, LogQuery.ALL.withFollow(true), running::get, e -> got.add(e.text()));
            } catch (Exception e) {
                got.add("error " + e);
            }
        });
        Thread.sleep(300);
        Files.writeString(f, "2024-05-01T10:00:01Z stdout P b", StandardOpenOption.APPEND);
        Thread.sleep(300);
        assertThat(got).containsExactly("a\n");
        Files.writeString(f, "\n2024-05-01T10:00:02Z stdout F c\n", StandardOpenOption.APPEND);
        Thread.sleep(300);
        assertThat(got).containsExactly("a\n", "bc\n");
        running.set(false);
        t.join(5000);
        assertThat(t.isAlive()).isFalse();
    }
}
