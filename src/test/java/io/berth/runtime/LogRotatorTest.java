package io.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.runtime.LogReader.LogEntry;
import io.berth.runtime.LogReader.LogQuery;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rotation of a log's files, and reading them back (all, tail, follow) as the rotator leaves them. */
class LogRotatorTest {
    @TempDir Path dir;

    private static String record(int n) {
        return Instant.ofEpochSecond(1_700_000_000L + n) + " stdout F line " + n + "\n";
    }

    private static String records(int from, int to) {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < to; i++) sb.append(record(i));
        return sb.toString();
    }

    private static List<String> texts(List<LogEntry> es) {
        return es.stream().map(LogEntry::text).toList();
    }

    private static List<String> lines(int from, int to) {
        return IntStream.range(from, to).mapToObj(i -> "line " + i + "\n").toList();
    }

    @Test
    void maxFileOneRotatesAsTwoHalves() {
        assertThat(LogRotator.effective(new LogRotator.Limits(10_000, 1))).isEqualTo(new LogRotator.Limits(5_000, 2));
        assertThat(LogRotator.effective(new LogRotator.Limits(10_000, 3))).isEqualTo(new LogRotator.Limits(10_000, 3));
    }

    @Test
    void rotateShiftsAndDropsTheOldest() throws Exception {
        Path log = dir.resolve("c.log");
        Files.writeString(log, "now");
        Files.writeString(dir.resolve("c.log.1"), "one");
        Files.writeString(dir.resolve("c.log.2"), "two");
        LogRotator.rotate(log, 3);
        assertThat(log).doesNotExist();
        assertThat(dir.resolve("c.log.1")).hasContent("now");
        assertThat(dir.resolve("c.log.2")).hasContent("one");
        assertThat(dir.resolve("c.log.3")).doesNotExist();
        assertThat(LogRotator.rotatedFiles(log)).containsExactly(dir.resolve("c.log.1"), dir.resolve("c.log.2"));

        Files.writeString(log, "later");
        LogRotator.rotate(log, 2);
        assertThat(dir.resolve("c.log.1")).hasContent("later");
        assertThat(dir.resolve("c.log.2")).doesNotExist();

        Files.writeString(log, "last");
        LogRotator.rotate(log, 1);
        assertThat(log).doesNotExist();
        assertThat(LogRotator.rotatedFiles(log)).isEmpty();

        Files.writeString(log, "first");
        LogRotator.rotate(log, 5); // room to spare: nothing dropped
        Files.writeString(log, "second");
        LogRotator.rotate(log, 5);
        assertThat(dir.resolve("c.log.1")).hasContent("second");
        assertThat(dir.resolve("c.log.2")).hasContent("first");
    }

    @Test
    void checkRotatesOverSizeAndAsksConmonToReopen() throws Exception {
        Path log = dir.resolve("c.log");
        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        Path ctl = Files.writeString(bundle.resolve("ctl"), ""); // a plain file stands for the fifo
        LogRotator rotator = new LogRotator(List::of);
        var t = new LogRotator.Target("c", log, bundle, new LogRotator.Limits(100, 3));

        Files.writeString(log, records(0, 1));
        rotator.check(t, true);
        assertThat(Files.readString(ctl)).isEmpty();
        assertThat(LogRotator.holdPath(log)).exists(); // the second name on the current file

        Files.writeString(log, records(1, 4), StandardOpenOption.APPEND);
        rotator.check(t, true);
        assertThat(log).doesNotExist();
        assertThat(LogRotator.holdPath(log)).doesNotExist();
        assertThat(dir.resolve("c.log.1")).hasContent(records(0, 4));
        assertThat(Files.readString(ctl)).isEqualTo("2 0 0\n");

        // conmon reopens: a new empty file at the path
        Files.writeString(log, records(4, 5));
        rotator.check(t, true);
        assertThat(texts(LogReader.readAll(log, LogQuery.ALL))).containsExactlyElementsOf(lines(0, 5));

        // conmon's own cap replaces the file (tmp + rename): the held name keeps the old one
        Files.writeString(dir.resolve("c.log.tmp"), records(5, 6));
        Files.move(dir.resolve("c.log.tmp"), log, StandardCopyOption.ATOMIC_MOVE);
        rotator.check(t, true);
        assertThat(dir.resolve("c.log.1")).hasContent(records(4, 5));
        assertThat(dir.resolve("c.log.2")).hasContent(records(0, 4));
        assertThat(texts(LogReader.readAll(log, LogQuery.ALL))).containsExactlyElementsOf(lines(0, 6));

        // after the exit: the last file stays (a next start rotates it), the held name goes
        Files.writeString(ctl, "");
        Files.writeString(log, records(6, 9), StandardOpenOption.APPEND);
        rotator.check(t, false);
        assertThat(Files.readString(ctl)).isEmpty();
        assertThat(log).hasContent(records(5, 9));
        assertThat(LogRotator.holdPath(log)).doesNotExist();
        assertThat(dir.resolve("c.log.1")).hasContent(records(4, 5));
        assertThat(dir.resolve("c.log.2")).hasContent(records(0, 4));
        rotator.check(t, true); // started again, over size
        assertThat(dir.resolve("c.log.1")).hasContent(records(5, 9));
        assertThat(dir.resolve("c.log.2")).hasContent(records(4, 5));
        assertThat(dir.resolve("c.log.3")).doesNotExist();
    }

    @Test
    void readsRotatedFilesOldestFirstWithTailAcrossThem() throws Exception {
        Path log = dir.resolve("c.log");
        Files.writeString(dir.resolve("c.log.2"), records(0, 3));
        Files.writeString(dir.resolve("c.log.1"), records(3, 6) + Instant.ofEpochSecond(1_700_000_006L) + " stdout P split-\n");
        Files.writeString(log, Instant.ofEpochSecond(1_700_000_006L) + " stdout F line\n" + records(7, 9));
        Files.writeString(dir.resolve("c.log.hold"), "not read");
        List<String> all = new ArrayList<>(lines(0, 6));
        all.add("split-line\n");
        all.addAll(lines(7, 9));
        assertThat(texts(LogReader.readAll(log, LogQuery.ALL))).containsExactlyElementsOf(all);
        assertThat(texts(LogReader.readAll(log, LogQuery.ALL.withTail(4)))).containsExactlyElementsOf(all.subList(5, 9));
        assertThat(texts(LogReader.readAll(log, LogQuery.ALL.withTimes(Instant.ofEpochSecond(1_700_000_002L),
                Instant.ofEpochSecond(1_700_000_004L))))).containsExactlyElementsOf(lines(2, 5));
        Files.delete(log); // between a rotation and conmon's reopen
        List<String> before = new ArrayList<>(all.subList(0, 6));
        before.add("split-"); // the unfinished line, as it is
        assertThat(texts(LogReader.readAll(log, LogQuery.ALL))).containsExactlyElementsOf(before);
    }

    /** A writer standing for conmon: appends through one open file, reopens as conmon does (tmp, rename). */
    private static final class FakeConmon {
        final Path log;
        FileChannel ch;

        FakeConmon(Path log) throws IOException {
            this.log = log;
            ch = FileChannel.open(log, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        }

        void write(String s) throws IOException {
            ch.write(ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)));
        }

        void reopen() throws IOException {
            ch.close();
            Path tmp = log.resolveSibling(log.getFileName() + ".tmp");
            ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            Files.move(tmp, log, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    @Test
    void followSeesEveryLineOnceAcrossRotations() throws Exception {
        Path log = dir.resolve("c.log");
        FakeConmon conmon = new FakeConmon(log);
        conmon.write(records(0, 10));
        AtomicBoolean running = new AtomicBoolean(true);
        List<String> got = new CopyOnWriteArrayList<>();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                LogReader.read(log, LogQuery.ALL.withFollow(true).withTail(3), running::get, e -> got.add(e.text()));
            } catch (Exception e) {
                errors.add(e);
            }
        });
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> got.size() == 3);
        int n = 10;
        for (int round = 0; round < 12; round++) {
            for (int i = 0; i < 7; i++) conmon.write(record(n++));
            // a reader polls every 50 ms: a file must live longer than that to be seen (the rotator looks every 250 ms)
            Thread.sleep(120);
            LogRotator.rotate(log, round % 2 == 0 ? 2 : 1); // max-file 1: the file is gone, read through the held fd
            for (int i = 0; i < 3; i++) conmon.write(record(n++)); // conmon has not reopened yet
            Thread.sleep(round % 4 == 0 ? 0 : 60);
            conmon.reopen();
            conmon.write(record(n++));
        }
        Thread.sleep(300);
        running.set(false);
        reader.join(5000);
        conmon.ch.close();
        assertThat(errors).isEmpty();
        assertThat(reader.isAlive()).isFalse();
        assertThat(got).containsExactlyElementsOf(lines(7, n));
    }
}
