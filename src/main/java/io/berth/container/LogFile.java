package io.berth.container;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Reads a container's log as conmon writes it (k8s-file): one line a record,
 * {@code <RFC3339Nano> stdout|stderr F|P <text>}, where P marks a partial line whose rest
 * follows in the next record.
 */
public final class LogFile {
    /** One piece of output: stream 1 stdout, 2 stderr; {@code text} ends with a newline unless partial. */
    public record Entry(Instant time, int stream, byte[] text) {}

    public interface Sink {
        void accept(Entry e) throws IOException;
    }

    /**
     * @param stdout   include stdout
     * @param stderr   include stderr
     * @param sinceNanos only entries at or after (null: all)
     * @param untilNanos only entries before (null: all)
     * @param tail     only the last N entries (-1: all)
     */
    public record Options(boolean stdout, boolean stderr, Long sinceNanos, Long untilNanos, int tail, boolean follow) {}

    private LogFile() {}

    static Entry parse(String line) {
        int a = line.indexOf(' ');
        if (a < 0) return null;
        int b = line.indexOf(' ', a + 1);
        if (b < 0) return null;
        int c = line.indexOf(' ', b + 1);
        String stream = line.substring(a + 1, b);
        String tag = c < 0 ? line.substring(b + 1) : line.substring(b + 1, c);
        String text = c < 0 ? "" : line.substring(c + 1);
        Instant t;
        try {
            t = OffsetDateTime.parse(line.substring(0, a)).toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
        boolean partial = tag.contains("P");
        String body = partial ? text : text + "\n";
        return new Entry(t, stream.equals("stderr") ? 2 : 1, body.getBytes(StandardCharsets.UTF_8));
    }

    private static boolean keep(Entry e, Options o) {
        if (e.stream() == 1 && !o.stdout()) return false;
        if (e.stream() == 2 && !o.stderr()) return false;
        long n = e.time().getEpochSecond() * 1_000_000_000L + e.time().getNano();
        if (o.sinceNanos() != null && n < o.sinceNanos()) return false;
        if (o.untilNanos() != null && n >= o.untilNanos()) return false;
        return true;
    }

    /**
     * Sends the log's entries to {@code sink}; with {@code follow}, keeps reading new ones
     * until {@code stillRunning} turns false (and the file has no more), or the thread is
     * interrupted.
     */
    public static void read(Path file, Options o, Sink sink, BooleanSupplier stillRunning) throws IOException, InterruptedException {
        long pos = 0;
        if (Files.exists(file)) {
            List<Entry> initial = new ArrayList<>();
            ArrayDeque<Entry> last = new ArrayDeque<>();
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
                byte[] all = new byte[(int) Math.min(raf.length(), Integer.MAX_VALUE - 16)];
                raf.readFully(all);
                int start = 0;
                for (int i = 0; i < all.length; i++) {
                    if (all[i] != '\n') continue;
                    Entry e = parse(new String(all, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                    if (e == null || !keep(e, o)) continue;
                    if (o.tail() >= 0) {
                        last.addLast(e);
                        if (last.size() > o.tail()) last.removeFirst();
                    } else {
                        initial.add(e);
                    }
                }
                pos = start;
            }
            if (o.tail() >= 0) initial.addAll(last);
            for (Entry e : initial) sink.accept(e);
        }
        if (!o.follow()) return;
        StringBuilder pending = new StringBuilder();
        while (true) {
            boolean running = stillRunning.getAsBoolean();
            long size = Files.exists(file) ? Files.size(file) : 0;
            if (size < pos) pos = 0; // rotated
            if (size > pos) {
                try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
                    raf.seek(pos);
                    byte[] chunk = new byte[(int) Math.min(size - pos, 1 << 20)];
                    raf.readFully(chunk);
                    pos += chunk.length;
                    pending.append(new String(chunk, StandardCharsets.UTF_8));
                }
                int nl;
                while ((nl = pending.indexOf("\n")) >= 0) {
                    Entry e = parse(pending.substring(0, nl));
                    pending.delete(0, nl + 1);
                    if (e == null || !keep(e, o)) continue;
                    if (o.untilNanos() != null && e.time().getEpochSecond() * 1_000_000_000L + e.time().getNano() >= o.untilNanos()) return;
                    sink.accept(e);
                }
                continue;
            }
            if (!running) return;
            if (o.untilNanos() != null && System.currentTimeMillis() * 1_000_000L >= o.untilNanos()) return;
            Thread.sleep(50);
        }
    }
}
