package io.berth.runtime;

import io.berth.runtime.AttachSession.StdStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

    private static final long POLL_MILLIS = 50;

    /** Every entry the query selects from what the log (its rotated files, then the current one) holds now. */
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
     * Reads the log into {@code sink}: the rotated files {@code file.N ... file.1} (oldest
     * first, see {@link LogRotator}), then {@code file} itself. With {@code query.follow()},
     * keeps reading new lines until {@code writing} says the container no longer runs (then
     * reads what is left), the sink returns false, a line is past {@code until} or the clock
     * is.
     *
     * <p>Following survives rotation: the open file is read to its end once the path names
     * another file (conmon then has closed the old one), then any file rotated after it,
     * then the new current one; files are told apart by inode, so no line comes twice.
     */
    public static void read(Path file, LogQuery query, BooleanSupplier writing, Sink sink) throws IOException, InterruptedException {
        Parser parser = new Parser(query);
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        List<Opened> files = openAll(file);
        Opened cur = null;
        try {
            // What is there now: with a tail, keep only the last lines.
            ArrayDeque<LogEntry> tail = query.tail() >= 0 ? new ArrayDeque<>() : null;
            Sink first = tail == null ? sink : e -> {
                if (query.tail() == 0) return true;
                if (tail.size() == query.tail()) tail.removeFirst();
                tail.addLast(e);
                return true;
            };
            boolean go = true;
            for (Opened o : files) {
                if (go && !parser.pastUntil) go = drain(o.ch, buf, parser, first);
            }
            // the newest stays open for following
            if (!files.isEmpty()) cur = files.removeLast();
            for (Opened o : files) o.ch.close();
            files.clear();
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
                if (cur == null) {
                    cur = open(file);
                    if (cur == null) {
                        if (!running || pastClock(query)) break;
                        Thread.sleep(POLL_MILLIS);
                        continue;
                    }
                }
                long before = cur.ch.position();
                if (!drain(cur.ch, buf, parser, sink) || parser.pastUntil) return;
                if (cur.ch.position() != before) continue;
                Object now = key(file);
                if (now != null && !now.equals(cur.key)) {
                    // Rotated: conmon closed the old file before it made the new one, so what we
                    // hold is complete once read to its end.
                    if (!drain(cur.ch, buf, parser, sink) || parser.pastUntil) return;
                    // Files rotated after ours, looked up while ours is still open (so its inode
                    // cannot be reused by a new file meanwhile).
                    List<Path> newer = rotatedAfter(file, cur.key);
                    Object held = cur.key;
                    for (Path p : newer) {
                        Opened o = open(p);
                        if (o == null) continue;
                        try {
                            if (!o.key.equals(held) && (!drain(o.ch, buf, parser, sink) || parser.pastUntil)) return;
                        } finally {
                            o.ch.close();
                        }
                    }
                    cur.ch.close();
                    cur = null;
                    continue;
                }
                if (!running || pastClock(query)) break;
                Thread.sleep(POLL_MILLIS);
            }
            parser.flushPartials(sink);
        } finally {
            if (cur != null) cur.ch.close();
            for (Opened o : files) o.ch.close();
        }
    }

    private static boolean pastClock(LogQuery query) {
        return query.until() != null && Instant.now().isAfter(query.until());
    }

    /** An open log file and the identity (device and inode) of what it opened. */
    private record Opened(FileChannel ch, Object key) {}

    /** The log's files, oldest first; the current file (if any) last. */
    private static List<Opened> openAll(Path file) throws IOException {
        // Newest first: a rotation while we open moves files towards older names, so going
        // that way meets a moved file again rather than missing it; the inode drops the repeat.
        List<Opened> newestFirst = new ArrayList<>();
        Set<Object> keys = new HashSet<>();
        try {
            List<Path> paths = new ArrayList<>();
            paths.add(file);
            paths.addAll(LogRotator.rotatedFiles(file));
            for (Path p : paths) {
                Opened o = open(p);
                if (o == null) continue;
                if (keys.add(o.key)) newestFirst.add(o);
                else o.ch.close();
            }
        } catch (IOException | RuntimeException e) {
            for (Opened o : newestFirst) o.ch.close();
            throw e;
        }
        return new ArrayList<>(newestFirst.reversed());
    }

    /** The rotated files written after the file {@code key} (it is among them), oldest first. */
    private static List<Path> rotatedAfter(Path file, Object key) throws IOException {
        List<Path> rotated = LogRotator.rotatedFiles(file);
        for (int i = 0; i < rotated.size(); i++) {
            if (key.equals(key(rotated.get(i)))) return rotated.subList(0, i).reversed();
        }
        return List.of();
    }

    /** Opens {@code p} and learns which file it opened (stat, open, stat: equal keys mean no rename came between); null if missing. */
    private static Opened open(Path p) throws IOException {
        for (int attempt = 0; attempt < 10; attempt++) {
            Object k1 = key(p);
            if (k1 == null) return null;
            FileChannel ch;
            try {
                ch = FileChannel.open(p, StandardOpenOption.READ);
            } catch (NoSuchFileException e) {
                continue;
            }
            if (k1.equals(key(p))) return new Opened(ch, k1);
            ch.close();
        }
        return null;
    }

    /** The file's identity (device and inode), or null when it does not exist. */
    static Object key(Path p) throws IOException {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (NoSuchFileException e) {
            return null;
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
