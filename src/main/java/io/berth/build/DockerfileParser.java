package io.berth.build;

import io.berth.build.Instruction.ArgDecl;
import io.berth.build.Instruction.CommandLine;
import io.berth.build.Instruction.KeyValue;
import io.berth.build.Instruction.Source;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses a Dockerfile the way Docker's parser does: parser directives at the top
 * ({@code # escape=}, {@code # syntax=} and {@code # check=}, the last two ignored),
 * comments, line continuations with the escape character (comment and empty lines inside
 * a continuation skipped), JSON (exec) or shell form, builder flags, and every instruction
 * of the Dockerfile reference. Heredocs are refused with a clear error. Errors name the
 * line: {@code Dockerfile parse error line 3: unknown instruction: FORM}.
 *
 * <p>Variables are not substituted here; the builder does that per step with
 * {@link VariableExpander}, since the values depend on ENV and ARG in force at the step.
 */
public final class DockerfileParser {
    private static final Pattern DIRECTIVE = Pattern.compile("^#\\s*([a-zA-Z][a-zA-Z0-9]*)\\s*=\\s*(.+?)\\s*$");
    private static final Pattern WHITESPACE = Pattern.compile("[\\t\\u000B\\f\\r ]+");
    private static final Pattern HEREDOC = Pattern.compile("^(\\d*)<<(-?)([^<]*)$");
    private static final Pattern VALID_STAGE_NAME = Pattern.compile("^[a-z][a-z0-9-_.]*$");
    private static final Pattern ONBUILD_PREFIX = Pattern.compile("(?i)^\\s*ONBUILD\\s*");
    private static final Duration MINIMUM_DURATION = Duration.ofMillis(1);

    private char escape = '\\';
    private boolean directivesDone;
    private final Set<String> directivesSeen = new HashSet<>();
    private final List<String> warnings = new ArrayList<>();

    private DockerfileParser() {}

    /** Parses a Dockerfile's bytes (UTF-8, a byte-order mark is skipped). */
    public static Dockerfile parse(byte[] content) throws DockerfileParseException {
        return parse(new String(content, StandardCharsets.UTF_8));
    }

    public static Dockerfile parse(String text) throws DockerfileParseException {
        return new DockerfileParser().run(text);
    }

    /**
     * Parses one instruction, e.g. an ONBUILD trigger from a base image's config, which
     * the builder runs right after FROM. {@code line} is the FROM's line, for messages.
     */
    public static Instruction parseInstruction(String text, int line, char escape) throws DockerfileParseException {
        DockerfileParser p = new DockerfileParser();
        p.escape = escape;
        p.directivesDone = true;
        Source src = new Source(line, line, text.strip());
        Instruction i = p.parseLine(text, src);
        p.refuseHeredoc(i, text, src);
        return i;
    }

    // ---- lines -----------------------------------------------------------------------

    /** Longest line, continuations joined: as dockerd's scanner, 64 KiB less one. */
    static final int MAX_LINE = 65535;

    private static DockerfileParseException lineTooLong(int line) {
        return new DockerfileParseException(line, "dockerfile line greater than max allowed size of " + MAX_LINE);
    }

    private Dockerfile run(String text) throws DockerfileParseException {
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        List<String> lines = splitLines(text);
        for (int n = 0; n < lines.size(); n++) {
            if (lines.get(n).length() > MAX_LINE) throw lineTooLong(n + 1);
        }
        List<Instruction> all = new ArrayList<>();
        int i = 0;
        int currentLine = 0;
        while (i < lines.size()) {
            String token = trimLeft(trimNewline(lines.get(i++)));
            directive(token, currentLine + 1);
            if (isComment(token)) token = "";
            currentLine++;
            int startLine = currentLine;
            String[] cont = trimContinuation(token);
            String line = cont[0];
            boolean endOfLine = cont[1] == null;
            if (endOfLine && line.isEmpty()) continue;
            boolean emptyContinuation = false;
            StringBuilder joined = new StringBuilder(line);
            while (!endOfLine && i < lines.size()) {
                String raw = trimNewline(lines.get(i++));
                directive(raw, currentLine + 1);
                currentLine++;
                if (isComment(raw)) continue;
                if (trimLeft(raw).isEmpty()) {
                    emptyContinuation = true;
                    continue;
                }
                String[] c = trimContinuation(raw);
                if (joined.length() + c[0].length() > MAX_LINE) throw lineTooLong(startLine);
                joined.append(c[0]);
                endOfLine = c[1] == null;
            }
            line = joined.toString();
            if (emptyContinuation) {
                warnings.add("[WARNING]: Empty continuation line found in:\n    " + line);
            }
            Source src = new Source(startLine, currentLine, goTrimSpace(line));
            Instruction instruction = parseLine(line, src);
            refuseHeredoc(instruction, line, src);
            all.add(instruction);
        }
        if (warnings.stream().anyMatch(w -> w.startsWith("[WARNING]: Empty continuation"))) {
            warnings.add("[WARNING]: Empty continuation lines will become errors in a future release.");
        }
        if (all.isEmpty()) throw new DockerfileParseException(0, "file with no instructions");
        return assemble(all);
    }

    private Dockerfile assemble(List<Instruction> all) throws DockerfileParseException {
        List<Instruction.Arg> meta = new ArrayList<>();
        List<Stage> stages = new ArrayList<>();
        Instruction.From from = null;
        List<Instruction> body = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Instruction in : all) {
            if (in instanceof Instruction.From f) {
                if (from != null) stages.add(new Stage(stages.size(), from.stageName(), from, body));
                if (f.stageName() != null && !names.add(f.stageName())) {
                    throw new DockerfileParseException(f.line(), "duplicate stage name \"" + f.stageName() + "\"");
                }
                from = f;
                body = new ArrayList<>();
            } else if (from == null) {
                if (in instanceof Instruction.Arg a) {
                    meta.add(a);
                } else {
                    throw new DockerfileParseException(in.line(), "no build stage in current context");
                }
            } else {
                body.add(in);
            }
        }
        if (from == null) throw new DockerfileParseException(0, "dockerfile contains no stages to build");
        stages.add(new Stage(stages.size(), from.stageName(), from, body));
        return new Dockerfile(meta, stages, escape, warnings);
    }

    private static List<String> splitLines(String text) {
        List<String> out = new ArrayList<>();
        int start = 0;
        while (start < text.length()) {
            int nl = text.indexOf('\n', start);
            if (nl < 0) {
                out.add(text.substring(start));
                break;
            }
            out.add(text.substring(start, nl + 1));
            start = nl + 1;
        }
        return out;
    }

    private void directive(String line, int lineNo) throws DockerfileParseException {
        if (directivesDone) return;
        Matcher m = DIRECTIVE.matcher(line);
        if (!m.matches()) {
            directivesDone = true;
            return;
        }
        String key = m.group(1).toLowerCase(Locale.ROOT);
        if (!key.equals("escape") && !key.equals("syntax") && !key.equals("check")) {
            directivesDone = true;
            return;
        }
        if (!directivesSeen.add(key)) {
            throw new DockerfileParseException(lineNo, "only one " + key + " parser directive can be used");
        }
        String value = m.group(2);
        switch (key) {
            case "escape" -> {
                if (!value.equals("`") && !value.equals("\\")) {
                    throw new DockerfileParseException(lineNo, "invalid escape token '" + value + "' does not match ` or \\");
                }
                escape = value.charAt(0);
            }
            case "syntax" -> warnings.add("[NOTE]: the syntax directive (" + value
                    + ") is ignored: Berth's builder parses the Dockerfile itself");
            default -> { } // check=: build checks are not run
        }
    }

    /** Returns {line without the continuation character, non-null if the line continues}. */
    private String[] trimContinuation(String line) {
        int end = line.length();
        while (end > 0 && (line.charAt(end - 1) == ' ' || line.charAt(end - 1) == '\t')) end--;
        if (end > 0 && line.charAt(end - 1) == escape && (end == 1 || line.charAt(end - 2) != escape)) {
            return new String[] {line.substring(0, end - 1), ""};
        }
        return new String[] {line, null};
    }

    private static String trimNewline(String s) {
        int end = s.length();
        while (end > 0 && (s.charAt(end - 1) == '\n' || s.charAt(end - 1) == '\r')) end--;
        return s.substring(0, end);
    }

    static boolean isGoSpace(char c) {
        return switch (c) {
            case '\t', '\n', '\u000B', '\f', '\r', ' ', '\u0085', '\u00A0' -> true;
            default -> c > 0xff && Character.isSpaceChar(c);
        };
    }

    private static String trimLeft(String s) {
        int i = 0;
        while (i < s.length() && isGoSpace(s.charAt(i))) i++;
        return s.substring(i);
    }

    static String goTrimSpace(String s) {
        int i = 0;
        int end = s.length();
        while (i < end && isGoSpace(s.charAt(i))) i++;
        while (end > i && isGoSpace(s.charAt(end - 1))) end--;
        return s.substring(i, end);
    }

    private static boolean isComment(String line) {
        return trimLeft(line).startsWith("#");
    }

    // ---- heredocs --------------------------------------------------------------------

    private void refuseHeredoc(Instruction in, String line, Source src) throws DockerfileParseException {
        Instruction target = in;
        if (in instanceof Instruction.OnBuild ob) {
            target = ob.trigger();
            line = ob.expression();
        }
        boolean mayHold = switch (target) {
            case Instruction.Run r -> r.command().shellForm();
            case Instruction.Copy c -> !jsonForm(line);
            case Instruction.Add a -> !jsonForm(line);
            default -> false;
        };
        if (!mayHold) return;
        for (String word : rawWords(line)) {
            Matcher m = HEREDOC.matcher(word);
            if (m.matches() && !m.group(3).isEmpty()) {
                throw new DockerfileParseException(src.line(), "heredocs are not supported by this builder ("
                        + word + " in " + target.keyword() + "); put the content in a file in the build context and COPY it");
            }
        }
    }

    private boolean jsonForm(String line) {
        // COPY/ADD were parsed as JSON when the text after the flags is a JSON array
        try {
            String t = goTrimSpace(line);
            String[] kw = WHITESPACE.split(t, 2);
            if (kw.length < 2) return false;
            String rest = extractFlags(kw[1]).rest;
            return JsonArgs.parse(goTrimSpace(rest)) != null;
        } catch (JsonArgs.NotStringArray e) {
            return false;
        }
    }

    /** Words split on white space, quotes kept, backslash escapes kept (as Docker's heredoc scan does). */
    private static List<String> rawWords(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                w.append(c);
                if (c == '\\' && quote == '"' && i + 1 < line.length()) {
                    w.append(line.charAt(++i));
                } else if (c == quote) {
                    quote = 0;
                }
                continue;
            }
            if (isGoSpace(c)) {
                if (inWord) out.add(w.toString());
                w.setLength(0);
                inWord = false;
                continue;
            }
            inWord = true;
            w.append(c);
            if (c == '\\' && i + 1 < line.length()) {
                w.append(line.charAt(++i));
            } else if (c == '\'' || c == '"') {
                quote = c;
            }
        }
        if (inWord) out.add(w.toString());
        return out;
    }

    // ---- one instruction ---------------------------------------------------------------

    private Instruction parseLine(String line, Source src) throws DockerfileParseException {
        String trimmed = goTrimSpace(line);
        String[] parts = WHITESPACE.split(trimmed, 2);
        String keyword = parts[0];
        String rest = parts.length == 2 ? parts[1] : "";
        FlagSplit fs = extractFlags(rest);
        String args = goTrimSpace(fs.rest);
        Flags flags = new Flags(fs.words, src);
        return switch (keyword.toLowerCase(Locale.ROOT)) {
            case "from" -> from(src, args, flags);
            case "run" -> run(src, args, flags);
            case "cmd" -> {
                flags.parse();
                yield new Instruction.Cmd(src, commandLine(src, args));
            }
            case "entrypoint" -> {
                flags.parse();
                yield new Instruction.Entrypoint(src, commandLine(src, args));
            }
            case "shell" -> shell(src, args, flags);
            case "env" -> {
                flags.parse();
                yield new Instruction.Env(src, keyValues(src, args, "ENV"));
            }
            case "label" -> {
                flags.parse();
                yield new Instruction.Label(src, keyValues(src, args, "LABEL"));
            }
            case "arg" -> arg(src, args, flags);
            case "workdir" -> new Instruction.Workdir(src, single(src, args, flags, "WORKDIR"));
            case "user" -> new Instruction.User(src, single(src, args, flags, "USER"));
            case "stopsignal" -> new Instruction.StopSignal(src, single(src, args, flags, "STOPSIGNAL"));
            case "maintainer" -> new Instruction.Maintainer(src, single(src, args, flags, "MAINTAINER"));
            case "expose" -> {
                List<String> ports = whitespaceList(args);
                if (ports.isEmpty()) throw err(src, "EXPOSE requires at least one argument");
                flags.parse();
                yield new Instruction.Expose(src, ports);
            }
            case "volume" -> volume(src, args, flags);
            case "copy" -> copy(src, args, flags);
            case "add" -> add(src, args, flags);
            case "healthcheck" -> healthcheck(src, args, flags);
            case "onbuild" -> onbuild(src, args, flags);
            default -> throw err(src, "unknown instruction: " + keyword);
        };
    }

    private Instruction.From from(Source src, String args, Flags flags) throws DockerfileParseException {
        List<String> words = whitespaceList(args);
        String stageName = null;
        if (words.size() == 3 && words.get(1).equalsIgnoreCase("as")) {
            stageName = words.get(2).toLowerCase(Locale.ROOT);
            if (!VALID_STAGE_NAME.matcher(stageName).matches()) {
                throw err(src, "invalid name for build stage: \"" + words.get(2)
                        + "\", name can't start with a number or contain symbols");
            }
        } else if (words.size() != 1) {
            throw err(src, "FROM requires either one or three arguments");
        }
        flags.string("platform");
        flags.parse();
        return new Instruction.From(src, words.getFirst(), stageName, flags.value("platform"));
    }

    private Instruction.Run run(Source src, String args, Flags flags) throws DockerfileParseException {
        flags.strings("mount");
        flags.string("network");
        flags.string("security");
        flags.string("device");
        flags.parse();
        if (flags.given("mount")) {
            throw err(src, "RUN --mount is not supported by this builder; copy what the command needs with COPY");
        }
        if (flags.given("security")) throw err(src, "RUN --security is not supported by this builder");
        if (flags.given("device")) throw err(src, "RUN --device is not supported by this builder");
        String network = flags.value("network");
        if (network != null && !network.equals("default") && !network.equals("none") && !network.equals("host")) {
            throw err(src, "unsupported network mode \"" + network + "\" (use default, none or host)");
        }
        CommandLine cmd = commandLine(src, args);
        if (cmd.args().isEmpty()) throw err(src, "RUN requires at least one argument");
        return new Instruction.Run(src, cmd, network);
    }

    private Instruction.Shell shell(Source src, String args, Flags flags) throws DockerfileParseException {
        flags.parse();
        List<String> json = json(src, args);
        if (json == null) {
            if (args.isEmpty()) throw err(src, "SHELL requires at least one argument");
            String extra = "";
            String lower = src.original().toLowerCase(Locale.ROOT);
            if (Pattern.compile("\"[a-z]:\\\\").matcher(lower).find() && !lower.contains("\\\\")
                    && lower.contains("[") && lower.contains("]")) {
                extra = ". It looks like '" + lower + "' includes a file path without an escaped back-slash."
                        + " JSON requires back-slashes to be escaped such as [\"c:\\\\path\\\\to\\\\file.exe\", \"/parameter\"]";
            }
            throw err(src, "SHELL requires the arguments to be in JSON form" + extra);
        }
        if (json.isEmpty()) throw err(src, "SHELL requires at least one argument");
        return new Instruction.Shell(src, json);
    }

    private Instruction.Arg arg(Source src, String args, Flags flags) throws DockerfileParseException {
        List<String> words = words(args);
        if (words.isEmpty()) throw err(src, "ARG requires at least one argument");
        List<ArgDecl> decls = new ArrayList<>();
        for (String w : words) {
            int eq = w.indexOf('=');
            if (eq >= 0) {
                if (eq == 0) throw err(src, "ARG names can not be blank");
                decls.add(new ArgDecl(w.substring(0, eq), w.substring(eq + 1)));
            } else {
                decls.add(new ArgDecl(w, null));
            }
        }
        flags.parse();
        return new Instruction.Arg(src, decls);
    }

    private String single(Source src, String args, Flags flags, String keyword) throws DockerfileParseException {
        if (args.isEmpty()) throw err(src, keyword + " requires exactly one argument");
        flags.parse();
        return args;
    }

    private Instruction.Volume volume(Source src, String args, Flags flags) throws DockerfileParseException {
        List<String> list = jsonOrWords(src, args);
        if (list.isEmpty()) throw err(src, "VOLUME requires at least one argument");
        flags.parse();
        List<String> out = new ArrayList<>();
        for (String v : list) {
            v = goTrimSpace(v);
            if (v.isEmpty()) throw err(src, "VOLUME specified can not be an empty string");
            out.add(v);
        }
        return new Instruction.Volume(src, out);
    }

    private Instruction.Copy copy(Source src, String args, Flags flags) throws DockerfileParseException {
        List<String> list = jsonOrWords(src, args);
        if (list.size() < 2) {
            throw err(src, "COPY requires at least two arguments, but only one was provided. Destination could not be determined");
        }
        flags.string("chown");
        flags.string("from");
        flags.string("chmod");
        flags.bool("link");
        flags.bool("parents");
        flags.strings("exclude");
        flags.parse();
        refuseUnsupported(src, flags, "COPY");
        return new Instruction.Copy(src, list.subList(0, list.size() - 1), list.getLast(), flags.value("from"),
                flags.value("chown"), flags.value("chmod"), flags.isTrue("link"));
    }

    private Instruction.Add add(Source src, String args, Flags flags) throws DockerfileParseException {
        List<String> list = jsonOrWords(src, args);
        if (list.size() < 2) {
            throw err(src, "ADD requires at least two arguments, but only one was provided. Destination could not be determined");
        }
        flags.string("chown");
        flags.string("chmod");
        flags.bool("link");
        flags.bool("keep-git-dir");
        flags.string("checksum");
        flags.bool("parents");
        flags.strings("exclude");
        flags.parse();
        refuseUnsupported(src, flags, "ADD");
        return new Instruction.Add(src, list.subList(0, list.size() - 1), list.getLast(), flags.value("chown"),
                flags.value("chmod"), flags.value("checksum"), flags.isTrue("keep-git-dir"), flags.isTrue("link"));
    }

    private void refuseUnsupported(Source src, Flags flags, String keyword) throws DockerfileParseException {
        for (String f : List.of("parents", "exclude")) {
            if (flags.given(f)) throw err(src, keyword + " --" + f + " is not supported by this builder");
        }
    }

    private Instruction.Healthcheck healthcheck(Source src, String args, Flags flags) throws DockerfileParseException {
        int sep = 0;
        while (sep < args.length() && !isGoSpace(args.charAt(sep))) sep++;
        if (sep == 0) throw err(src, "HEALTHCHECK requires at least one argument");
        int next = sep;
        while (next < args.length() && isGoSpace(args.charAt(next))) next++;
        String type = args.substring(0, sep).toUpperCase(Locale.ROOT);
        String rest = args.substring(next);
        CommandLine cmd = commandLine(src, rest);
        if (type.equals("NONE")) {
            if (!rest.isEmpty()) throw err(src, "HEALTHCHECK NONE takes no arguments");
            return new Instruction.Healthcheck(src, new Instruction.HealthConfig(List.of("NONE"), Duration.ZERO,
                    Duration.ZERO, Duration.ZERO, Duration.ZERO, 0));
        }
        for (String f : List.of("interval", "timeout", "start-period", "start-interval", "retries")) flags.string(f);
        flags.parse();
        if (!type.equals("CMD")) throw err(src, "Unknown type \"" + type + "\" in HEALTHCHECK (try CMD)");
        if (cmd.args().isEmpty()) throw err(src, "Missing command after HEALTHCHECK CMD");
        List<String> test = new ArrayList<>();
        test.add(cmd.shellForm() ? "CMD-SHELL" : "CMD");
        test.addAll(cmd.args());
        int retries = 0;
        String r = flags.value("retries");
        if (r != null && !r.isEmpty()) {
            long v;
            try {
                v = Long.parseLong(r);
            } catch (NumberFormatException e) {
                throw err(src, "strconv.ParseInt: parsing \"" + r + "\": invalid syntax");
            }
            if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) throw err(src, "strconv.ParseInt: parsing \"" + r + "\": value out of range");
            if (v < 0) throw err(src, "--retries cannot be negative (" + v + ")");
            retries = (int) v;
        }
        return new Instruction.Healthcheck(src, new Instruction.HealthConfig(test,
                interval(src, flags, "interval"), interval(src, flags, "timeout"),
                interval(src, flags, "start-period"), interval(src, flags, "start-interval"), retries));
    }

    private Duration interval(Source src, Flags flags, String name) throws DockerfileParseException {
        String s = flags.value(name);
        if (s == null || s.isEmpty()) return Duration.ZERO;
        Duration d;
        try {
            d = GoDuration.parse(s);
        } catch (IllegalArgumentException e) {
            throw err(src, e.getMessage());
        }
        if (d.isZero()) return Duration.ZERO;
        if (d.compareTo(MINIMUM_DURATION) < 0) throw err(src, "Interval \"" + name + "\" cannot be less than 1ms");
        return d;
    }

    private Instruction.OnBuild onbuild(Source src, String args, Flags flags) throws DockerfileParseException {
        if (args.isEmpty()) throw err(src, "ONBUILD requires at least one argument");
        flags.parse();
        String triggerKeyword = WHITESPACE.split(args, 2)[0].toUpperCase(Locale.ROOT);
        switch (triggerKeyword) {
            case "ONBUILD" -> throw err(src, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
            case "MAINTAINER", "FROM" -> throw err(src, triggerKeyword + " isn't allowed as an ONBUILD trigger");
            default -> { }
        }
        String expression = ONBUILD_PREFIX.matcher(src.original()).replaceFirst("");
        Instruction trigger = parseLine(args, new Source(src.line(), src.endLine(), expression));
        return new Instruction.OnBuild(src, expression, trigger);
    }

    // ---- argument forms ----------------------------------------------------------------

    private CommandLine commandLine(Source src, String args) throws DockerfileParseException {
        if (args.isEmpty()) return new CommandLine(List.of(), false);
        List<String> json = json(src, args);
        if (json != null) return new CommandLine(json, false);
        return new CommandLine(List.of(args), true);
    }

    private static List<String> json(Source src, String args) throws DockerfileParseException {
        try {
            return JsonArgs.parse(args);
        } catch (JsonArgs.NotStringArray e) {
            throw err(src, e.getMessage());
        }
    }

    private List<String> jsonOrWords(Source src, String args) throws DockerfileParseException {
        List<String> json = json(src, args);
        return json != null ? json : whitespaceList(args);
    }

    private static List<String> whitespaceList(String args) {
        if (args.isEmpty()) return List.of();
        return List.of(WHITESPACE.split(args, -1));
    }

    /** ENV and LABEL: {@code k=v ...} (quotes kept for expansion), or the legacy {@code KEY value}. */
    private List<KeyValue> keyValues(Source src, String args, String keyword) throws DockerfileParseException {
        List<String> words = words(args);
        if (words.isEmpty()) throw err(src, keyword + " requires at least one argument");
        List<KeyValue> out = new ArrayList<>();
        if (!words.getFirst().contains("=")) {
            String[] parts = WHITESPACE.split(args, 2);
            if (parts.length < 2) throw err(src, keyword + " must have two arguments");
            out.add(new KeyValue(parts[0], parts[1]));
        } else {
            for (String w : words) {
                int eq = w.indexOf('=');
                if (eq < 0) {
                    throw err(src, "Syntax error - can't find = in \"" + w + "\". Must be of the form: name=value");
                }
                out.add(new KeyValue(w.substring(0, eq), w.substring(eq + 1)));
            }
        }
        for (KeyValue kv : out) {
            if (kv.key().isEmpty()) throw err(src, keyword + " names can not be blank");
        }
        return out;
    }

    /** Words separated by white space; quotes and escapes are kept in the word for the expansion. */
    private List<String> words(String rest) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        final int spaces = 0;
        final int inWord = 1;
        final int inQuote = 2;
        int phase = spaces;
        boolean blankOk = false;
        char quote = 0;
        int n = rest.length();
        for (int pos = 0; pos <= n; pos++) {
            char ch = pos < n ? rest.charAt(pos) : 0;
            if (phase == spaces) {
                if (pos == n) break;
                if (isGoSpace(ch)) continue;
                phase = inWord;
            }
            if (pos == n) {
                if (blankOk || !w.isEmpty()) words.add(w.toString());
                break;
            }
            if (phase == inWord) {
                if (isGoSpace(ch)) {
                    phase = spaces;
                    if (blankOk || !w.isEmpty()) words.add(w.toString());
                    w.setLength(0);
                    blankOk = false;
                    continue;
                }
                if (ch == '\'' || ch == '"') {
                    quote = ch;
                    blankOk = true;
                    phase = inQuote;
                }
                if (ch == escape) {
                    if (pos + 1 == n) continue; // an escape at the end is dropped
                    w.append(ch);
                    ch = rest.charAt(++pos);
                }
                w.append(ch);
            } else {
                if (ch == quote) phase = inWord;
                if (ch == escape && quote != '\'') {
                    if (pos + 1 == n) {
                        phase = inWord;
                        continue;
                    }
                    w.append(ch);
                    ch = rest.charAt(++pos);
                }
                w.append(ch);
            }
        }
        return words;
    }

    // ---- flags -------------------------------------------------------------------------

    private record FlagSplit(String rest, List<String> words) {}

    /** Splits leading {@code --flag[=value]} words off an instruction's arguments (Docker's rules, '\' escapes). */
    private static FlagSplit extractFlags(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean blankOk = false;
        int phase = 0; // 0 spaces, 1 word, 2 quote
        char quote = 0;
        int n = line.length();
        for (int pos = 0; pos <= n; pos++) {
            char ch = pos < n ? line.charAt(pos) : 0;
            if (phase == 0) {
                if (pos == n) break;
                if (Character.isWhitespace(ch)) continue;
                if (ch != '-' || pos + 1 == n || line.charAt(pos + 1) != '-') return new FlagSplit(line.substring(pos), words);
                phase = 1;
            }
            if (pos == n) {
                if (!word.toString().equals("--") && (blankOk || !word.isEmpty())) words.add(word.toString());
                break;
            }
            if (phase == 1) {
                if (Character.isWhitespace(ch)) {
                    phase = 0;
                    if (word.toString().equals("--")) return new FlagSplit(line.substring(pos), words);
                    if (blankOk || !word.isEmpty()) words.add(word.toString());
                    word.setLength(0);
                    blankOk = false;
                    continue;
                }
                if (ch == '\'' || ch == '"') {
                    quote = ch;
                    blankOk = true;
                    phase = 2;
                    continue;
                }
                if (ch == '\\') {
                    if (pos + 1 == n) continue;
                    ch = line.charAt(++pos);
                }
                word.append(ch);
            } else {
                if (ch == quote) {
                    phase = 1;
                    continue;
                }
                if (ch == '\\') {
                    if (pos + 1 == n) {
                        phase = 1;
                        continue;
                    }
                    ch = line.charAt(++pos);
                }
                word.append(ch);
            }
        }
        return new FlagSplit("", words);
    }

    /** An instruction's flags: declared by the instruction, then parsed with Docker's messages. */
    private static final class Flags {
        private enum Kind { STRING, BOOL, STRINGS }

        private final List<String> words;
        private final Source src;
        private final Map<String, Kind> kinds = new LinkedHashMap<>();
        private final Map<String, String> values = new LinkedHashMap<>();

        Flags(List<String> words, Source src) {
            this.words = words;
            this.src = src;
        }

        void string(String name) {
            kinds.put(name, Kind.STRING);
        }

        void bool(String name) {
            kinds.put(name, Kind.BOOL);
        }

        void strings(String name) {
            kinds.put(name, Kind.STRINGS);
        }

        String value(String name) {
            return values.get(name);
        }

        boolean given(String name) {
            return values.containsKey(name);
        }

        boolean isTrue(String name) {
            return "true".equals(values.get(name));
        }

        void parse() throws DockerfileParseException {
            for (String w : words) {
                if (!w.startsWith("--")) throw err(src, "arg should start with -- : " + w);
                if (w.equals("--")) return;
                String arg = w.substring(2);
                String value = "";
                int eq = arg.indexOf('=');
                if (eq >= 0) {
                    value = arg.substring(eq + 1);
                    arg = arg.substring(0, eq);
                }
                Kind kind = kinds.get(arg);
                if (kind == null) throw err(src, "unknown flag: " + arg);
                if (values.containsKey(arg) && kind != Kind.STRINGS) throw err(src, "duplicate flag specified: " + arg);
                switch (kind) {
                    case BOOL -> {
                        if (eq >= 0 && value.isEmpty()) throw err(src, "missing a value on flag: " + arg);
                        switch (value.toLowerCase(Locale.ROOT)) {
                            case "true", "" -> values.put(arg, "true");
                            case "false" -> values.put(arg, "false");
                            default -> throw err(src, "expecting boolean value for flag " + arg + ", not: " + value);
                        }
                    }
                    case STRING, STRINGS -> {
                        if (eq < 0) throw err(src, "missing a value on flag: " + arg);
                        values.put(arg, value);
                    }
                }
            }
        }
    }

    private static DockerfileParseException err(Source src, String message) {
        return new DockerfileParseException(src.line(), message);
    }
}
