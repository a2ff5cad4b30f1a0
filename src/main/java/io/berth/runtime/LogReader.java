package io.berth.runtime;

import io.berth.runtime.AttachSession.StdStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Reads the log conmon writes in the k8s-file format, one record a line:
 * {@code <RFC 3339 time with nanoseconds> stdout|stderr F|P <bytes>}, where P marks a piece
 * of a longer line that the next record(s) of the same stream continue. Pieces are joined, so
 * every {@link LogEntry} is one line as the container wrote it (ending in "\n", except a last
 * unfinished line).
 */
public final class LogReader {
    private LogReader() {}

    /** One line of output. */
    public record LogEntry(StdStream stream, Instant time, byte[] content) {
        public String text() {
            return new String(content, StandardCharsets.UTF_8);
        }
    }

    /**
     * What to read.
     *
     * @param stdout include the container's stdout
     * @param stderr include its stderr
     * @param since only lines written at or after this time (null: all)
     * @param until only lines written at or before this time (null: all); following stops there
     * @param tail only the last this many lines that exist when reading starts (-1: all)
     * @param follow keep reading what is written while the container runs
     */
    public record LogQuery(boolean stdout, boolean stderr, Instant since, Instant until, int tail, boolean follow) {
        public static final LogQuery ALL = new LogQuery(true, true, null, null, -1, false);

        public LogQuery withFollow(boolean follow) {
            return new LogQuery(stdout, stderr, since, until, tail, follow);
        }

        public LogQuery withTail(int tail) {
            return new LogQuery(stdout, stderr, since, until, tail, follow);
        }

        public LogQuery withStreams(boolean stdout, boolean stderr) {
            return new LogQuery(stdout, stderr, since, until, tail, follow);
        }

        public LogQuery withTimes(Instant since, Instant until) {
            return new LogQuery(stdout, stderr, since, until, tail, follow);
        }

        boolean wants(StdStream s) {
            return s == StdStream.STDOUT ? stdout : s == StdStream.STDERR && stderr;
        }
    }

    /** Receives entries in order; return false to stop reading. */
    public interface Sink {
        boolean accept(LogEntry entry) throws IOException;
    }

    private static final long POLL_MILLIS = 100;

    /** Every entry the query selects from what the file holds now. */
    public static List<LogEntry> readAll(Path file, LogQuery query) throws IOException {
        List<LogEntry> out = new ArrayList<>();
        try {
            read(file, query.withFollow(false), () -> false, e -> out.add(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while reading " + file);
        }
        return out;
    }

    /**
     * Reads the log into {@code sink}. With {@code query.follow()}, keeps reading new lines
     * until {@code writing} says the container no longer runs (then reads what is left), the
     * sink returns false, or a line is past {@code until}.
     */
    public static void read(Path file, LogQuery query, BooleanSupplier writing, Sink sink) throws IOException, InterruptedException {
        Parser parser = new Parser(query);
        FileChannel ch = null;
        try {
            try {
                ch = FileChannel.open(file, StandardOpenOption.READ);
            } catch (NoSuchFileException e) {
                if (!query.follow()) return;
                while (ch == null) {
                    if (!writing.getAsBoolean() && !Files.exists(file)) return;
                    Thread.sleep(POLL_MILLIS);
                    try {
                        ch = FileChannel.open(file, StandardOpenOption.READ);
                    } catch (NoSuchFileException again) {
                        // not yet
                    }
                }
            }
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
            // What is there now: with a tail, keep only the last lines.
            ArrayDeque<LogEntry> tail = query.tail() >= 0 ? new ArrayDeque<>() : null;
            Sink first = tail == null ? sink : e -> {
                if (query.tail() == 0) return true;
                if (tail.size() == query.tail()) tail.removeFirst();
                tail.addLast(e);
                return true;
            };
            boolean go = drain(ch, buf, parser, first);
            if (tail != null) {
                for (LogEntry e : tail) {
                    if (!sink.accept(e)) return;
                }
            }
            if (!go || parser.pastUntil) return;
            if (!query.follow()) {
                parser.flushPartials(sink);
                return;
            }
            while (true) {
                boolean running = writing.getAsBoolean();
                long before = ch.position();
                if (!drain(ch, buf, parser, sink) || parser.pastUntil) return;
                if (ch.position() == before) {
                    if (!running) {
                        parser.flushPartials(sink);
                        return;
                    }
                    Thread.sleep(POLL_MILLIS);
                }
            }
        } finally {
            if (ch != null) ch.close();
        }
    }

    /** Reads to the current end of the file; false if the sink wants no more. */
    private static boolean drain(FileChannel ch, ByteBuffer buf, Parser parser, Sink sink) throws IOException {
        while (true) {
            buf.clear();
            int n = ch.read(buf);
            if (n <= 0) return true;
            buf.flip();
            if (!parser.feed(buf, sink)) return false;
        }
    }

    /** Splits bytes into records and joins partial lines, per stream. */
    private static final class Parser {
        private final LogQuery query;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private final Map<StdStream, Partial> partials = new EnumMap<>(StdStream.class);
        boolean pastUntil;

        Parser(LogQuery query) {
            this.query = query;
        }

        private static final class Partial {
            final Instant time;
            final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

            Partial(Instant time) {
                this.time = time;
            }
        }

        boolean feed(ByteBuffer buf, Sink sink) throws IOException {
            while (buf.hasRemaining()) {
                byte b = buf.get();
                if (b != '\n') {
                    line.write(b);
                    continue;
                }
                byte[] record = line.toByteArray();
                line.reset();
                if (!record(record, sink)) return false;
                if (pastUntil) return true;
            }
            return true;
        }

        private boolean record(byte[] r, Sink sink) throws IOException {
            int s1 = indexOf(r, 0);
            int s2 = s1 < 0 ? -1 : indexOf(r, s1 + 1);
            if (s2 < 0) return true;
            int s3 = indexOf(r, s2 + 1);
            int tagEnd = s3 < 0 ? r.length : s3;
            Instant time;
            try {
                time = OffsetDateTime.parse(new String(r, 0, s1, StandardCharsets.US_ASCII)).toInstant();
            } catch (DateTimeParseException e) {
                return true; // not a record
            }
            String streamName = new String(r, s1 + 1, s2 - s1 - 1, StandardCharsets.US_ASCII);
            StdStream stream = switch (streamName) {
                case "stdout" -> StdStream.STDOUT;
                case "stderr" -> StdStream.STDERR;
                default -> null;
            };
            if (stream == null) return true;
            String tag = new String(r, s2 + 1, tagEnd - s2 - 1, StandardCharsets.US_ASCII);
            int contentStart = s3 < 0 ? r.length : s3 + 1;
            boolean partial = tag.startsWith("P");
            Partial p = partials.get(stream);
            if (partial) {
                if (p == null) {
                    p = new Partial(time);
                    partials.put(stream, p);
                }
                p.bytes.write(r, contentStart, r.length - contentStart);
                return true;
            }
            byte[] content;
            Instant entryTime = time;
            if (p != null) {
                partials.remove(stream);
                p.bytes.write(r, contentStart, r.length - contentStart);
                p.bytes.write('\n');
                content = p.bytes.toByteArray();
                entryTime = p.time;
            } else {
                content = new byte[r.length - contentStart + 1];
                System.arraycopy(r, contentStart, content, 0, r.length - contentStart);
                content[content.length - 1] = '\n';
            }
            return emit(new LogEntry(stream, entryTime, content), sink);
        }

        private boolean emit(LogEntry e, Sink sink) throws IOException {
            if (query.until() != null && e.time().isAfter(query.until())) {
                pastUntil = true;
                return true;
            }
            if (query.since() != null && e.time().isBefore(query.since())) return true;
            if (!query.wants(e.stream())) return true;
            return sink.accept(e);
        }

        /** A line the container never finished: emitted as it is, without a newline. */
        void flushPartials(Sink sink) throws IOException {
            List<LogEntry> left = new ArrayList<>();
            for (Map.Entry<StdStream, Partial> p : partials.entrySet()) {
                left.add(new LogEntry(p.getKey(), p.getValue().time, p.getValue().bytes.toByteArray()));
            }
            partials.clear();
            left.sort((a, b) -> a.time().compareTo(b.time()));
            for (LogEntry e : left) {
                if (!emit(e, sink)) return;
            }
        }

        private static int indexOf(byte[] r, int from) {
            for (int i = from; i < r.length; i++) if (r[i] == ' ') return i;
            return -1;
        }
    }
}
