package io.berth.build;

import io.berth.build.Instruction.ArgDecl;
import io.berth.build.Instruction.CommandLine;
import io.berth.build.Instruction.KeyValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DockerfileParserTest {

    static Instruction only(String dockerfile) throws DockerfileParseException {
        Dockerfile df = DockerfileParser.parse("FROM scratch\n" + dockerfile);
        assertThat(df.stages().getFirst().instructions()).hasSize(1);
        return df.stages().getFirst().instructions().getFirst();
    }

    static String error(String dockerfile) {
        try {
            DockerfileParser.parse(dockerfile);
        } catch (DockerfileParseException e) {
            return e.getMessage();
        }
        throw new AssertionError("parsed without error: " + dockerfile);
    }

    // ---- structure ------------------------------------------------------------------

    @Test
    void stagesMetaArgsAndLines() throws Exception {
        Dockerfile df = DockerfileParser.parse("""
                # a comment
                ARG BASE=alpine
                ARG V
                FROM ${BASE}:$V AS Build
                RUN make

                from --platform=linux/arm64 busybox
                COPY --from=build /out /out
                """);
        assertThat(df.metaArgs()).hasSize(2);
        assertThat(df.metaArgs().get(0).args()).containsExactly(new ArgDecl("BASE", "alpine"));
        assertThat(df.metaArgs().get(1).args()).containsExactly(new ArgDecl("V", null));
        assertThat(df.stages()).hasSize(2);
        Stage build = df.stages().get(0);
        assertThat(build.index()).isZero();
        assertThat(build.name()).isEqualTo("build");
        assertThat(build.baseName()).isEqualTo("${BASE}:$V");
        assertThat(build.from().line()).isEqualTo(4);
        assertThat(build.instructions()).singleElement().satisfies(i -> {
            assertThat(i.line()).isEqualTo(5);
            assertThat(i.source().original()).isEqualTo("RUN make");
        });
        Stage second = df.stages().get(1);
        assertThat(second.name()).isNull();
        assertThat(second.platform()).isEqualTo("linux/arm64");
        assertThat(second.baseName()).isEqualTo("busybox");
        assertThat(second.from().line()).isEqualTo(7);
        assertThat(df.stageNamed("BUILD")).contains(build);
        assertThat(df.lastStage()).isEqualTo(second);
    }

    @Test
    void continuationsCommentsAndEmptyLines() throws Exception {
        Dockerfile df = DockerfileParser.parse("""
                FROM busybox
                RUN echo a \\
                # a comment inside the continuation
                    && echo b \\

                    && echo c
                RUN echo done
                """);
        List<Instruction> ins = df.stages().getFirst().instructions();
        assertThat(ins).hasSize(2);
        Instruction.Run run = (Instruction.Run) ins.get(0);
        assertThat(run.command()).isEqualTo(new CommandLine(List.of("echo a     && echo b     && echo c"), true));
        assertThat(run.source().line()).isEqualTo(2);
        assertThat(run.source().endLine()).isEqualTo(6);
        assertThat(ins.get(1).line()).isEqualTo(7);
        assertThat(df.warnings()).anySatisfy(w -> assertThat(w).contains("Empty continuation line"));
    }

    @Test
    void continuationEndingTheFile() throws Exception {
        Instruction.Run run = (Instruction.Run) only("RUN echo a \\");
        assertThat(run.command().args()).containsExactly("echo a");
    }

    @Test
    void escapedEscapeAtTheEndIsNoContinuation() throws Exception {
        Dockerfile df = DockerfileParser.parse("FROM x\nRUN echo a\\\\\nRUN echo b\n");
        assertThat(df.stages().getFirst().instructions()).hasSize(2);
    }

    @Test
    void windowsStyleDockerfileWithBacktickEscape() throws Exception {
        Dockerfile df = DockerfileParser.parse("""
                # escape=`
                FROM mcr.microsoft.com/windows/servercore
                COPY testfile.txt c:\\
                RUN dir c:\\ `
                    && echo done
                ENV PATHX="c:\\program files" `
                    B=2
                """.replace("\n", "\r\n"));
        assertThat(df.escape()).isEqualTo('`');
        List<Instruction> ins = df.stages().getFirst().instructions();
        assertThat(ins).hasSize(3);
        assertThat(((Instruction.Copy) ins.get(0)).destination()).isEqualTo("c:\\");
        assertThat(((Instruction.Run) ins.get(1)).command().args()).containsExactly("dir c:\\     && echo done");
        Instruction.Env env = (Instruction.Env) ins.get(2);
        assertThat(env.pairs()).containsExactly(new KeyValue("PATHX", "\"c:\\program files\""), new KeyValue("B", "2"));
        Instruction.Env expanded = (Instruction.Env) VariableExpander.expand(env, java.util.Map.of(), df.escape());
        assertThat(expanded.pairs()).containsExactly(new KeyValue("PATHX", "c:\\program files"), new KeyValue("B", "2"));
    }

    @Test
    void directives() throws Exception {
        Dockerfile df = DockerfileParser.parse("""
                # syntax=docker/dockerfile:1
                # check=skip=all
                # escape=\\
                FROM x
                """);
        assertThat(df.escape()).isEqualTo('\\');
        assertThat(df.warnings()).anySatisfy(w -> assertThat(w).contains("syntax directive (docker/dockerfile:1) is ignored"));
        // a directive after a comment is only a comment
        Dockerfile late = DockerfileParser.parse("# hello\n# escape=`\nFROM x\nRUN a \\\n b\n");
        assertThat(late.escape()).isEqualTo('\\');
        assertThat(late.stages().getFirst().instructions()).hasSize(1);
        assertThat(error("# escape=\\\n# escape=`\nFROM x\n")).isEqualTo("Dockerfile parse error line 2: only one escape parser directive can be used");
        assertThat(error("# escape=x\nFROM x\n")).isEqualTo("Dockerfile parse error line 1: invalid escape token 'x' does not match ` or \\");
    }

    @Test
    void byteOrderMarkAndCaseInsensitiveKeywords() throws Exception {
        Dockerfile df = DockerfileParser.parse("\uFEFFfRoM x\nrun echo\nWorkDir /a\n");
        assertThat(df.stages().getFirst().instructions()).hasSize(2);
    }

    // ---- errors -----------------------------------------------------------------------

    static Stream<Arguments> errors() {
        return Stream.of(
                Arguments.of("FROM x\n\nFORM y\n", "Dockerfile parse error line 3: unknown instruction: FORM"),
                Arguments.of("", "file with no instructions"),
                Arguments.of("# only a comment\n\n", "file with no instructions"),
                Arguments.of("ARG A\n", "dockerfile contains no stages to build"),
                Arguments.of("RUN echo\nFROM x\n", "Dockerfile parse error line 1: no build stage in current context"),
                Arguments.of("FROM\n", "Dockerfile parse error line 1: FROM requires either one or three arguments"),
                Arguments.of("FROM a b\n", "Dockerfile parse error line 1: FROM requires either one or three arguments"),
                Arguments.of("FROM a AS 1x\n", "Dockerfile parse error line 1: invalid name for build stage: \"1x\", name can't start with a number or contain symbols"),
                Arguments.of("FROM a AS x\nFROM b AS X\n", "Dockerfile parse error line 2: duplicate stage name \"x\""),
                Arguments.of("FROM a\nRUN <<EOF\necho hi\nEOF\n", "Dockerfile parse error line 2: heredocs are not supported by this builder (<<EOF in RUN); put the content in a file in the build context and COPY it"),
                Arguments.of("FROM a\nCOPY <<-\"EOT\" /x\nEOT\n", "Dockerfile parse error line 2: heredocs are not supported by this builder (<<-\"EOT\" in COPY); put the content in a file in the build context and COPY it"),
                Arguments.of("FROM a\nRUN --mount=type=cache,target=/root/.cache go build\n", "Dockerfile parse error line 2: RUN --mount is not supported by this builder; copy what the command needs with COPY"),
                Arguments.of("FROM a\nRUN --network=bridge x\n", "Dockerfile parse error line 2: unsupported network mode \"bridge\" (use default, none or host)"),
                Arguments.of("FROM a\nCOPY --foo=1 a b\n", "Dockerfile parse error line 2: unknown flag: foo"),
                Arguments.of("FROM a\nCOPY --from a b\n", "Dockerfile parse error line 2: missing a value on flag: from"),
                Arguments.of("FROM a\nCOPY --chown=1 --chown=2 a b\n", "Dockerfile parse error line 2: duplicate flag specified: chown"),
                Arguments.of("FROM a\nCOPY --link=maybe a b\n", "Dockerfile parse error line 2: expecting boolean value for flag link, not: maybe"),
                Arguments.of("FROM a\nENV --x=1 A=b\n", "Dockerfile parse error line 2: unknown flag: x"),
                Arguments.of("FROM a\nCOPY a\n", "Dockerfile parse error line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
                Arguments.of("FROM a\nADD [\"a\"]\n", "Dockerfile parse error line 2: ADD requires at least two arguments, but only one was provided. Destination could not be determined"),
                Arguments.of("FROM a\nCMD [\"a\", 1]\n", "Dockerfile parse error line 2: when using JSON array syntax, arrays must be comprised of strings only"),
                Arguments.of("FROM a\nSHELL /bin/bash -c\n", "Dockerfile parse error line 2: SHELL requires the arguments to be in JSON form"),
                Arguments.of("FROM a\nSHELL []\n", "Dockerfile parse error line 2: SHELL requires at least one argument"),
                Arguments.of("FROM a\nENV\n", "Dockerfile parse error line 2: ENV requires at least one argument"),
                Arguments.of("FROM a\nENV A\n", "Dockerfile parse error line 2: ENV must have two arguments"),
                Arguments.of("FROM a\nENV A=1 B\n", "Dockerfile parse error line 2: Syntax error - can't find = in \"B\". Must be of the form: name=value"),
                Arguments.of("FROM a\nENV =1\n", "Dockerfile parse error line 2: ENV names can not be blank"),
                Arguments.of("FROM a\nLABEL\n", "Dockerfile parse error line 2: LABEL requires at least one argument"),
                Arguments.of("FROM a\nARG\n", "Dockerfile parse error line 2: ARG requires at least one argument"),
                Arguments.of("FROM a\nARG =x\n", "Dockerfile parse error line 2: ARG names can not be blank"),
                Arguments.of("FROM a\nWORKDIR\n", "Dockerfile parse error line 2: WORKDIR requires exactly one argument"),
                Arguments.of("FROM a\nUSER\n", "Dockerfile parse error line 2: USER requires exactly one argument"),
                Arguments.of("FROM a\nSTOPSIGNAL\n", "Dockerfile parse error line 2: STOPSIGNAL requires exactly one argument"),
                Arguments.of("FROM a\nEXPOSE\n", "Dockerfile parse error line 2: EXPOSE requires at least one argument"),
                Arguments.of("FROM a\nVOLUME\n", "Dockerfile parse error line 2: VOLUME requires at least one argument"),
                Arguments.of("FROM a\nVOLUME [\"\"]\n", "Dockerfile parse error line 2: VOLUME specified can not be an empty string"),
                Arguments.of("FROM a\nRUN\n", "Dockerfile parse error line 2: RUN requires at least one argument"),
                Arguments.of("FROM a\nONBUILD\n", "Dockerfile parse error line 2: ONBUILD requires at least one argument"),
                Arguments.of("FROM a\nONBUILD ONBUILD RUN x\n", "Dockerfile parse error line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
                Arguments.of("FROM a\nONBUILD from x\n", "Dockerfile parse error line 2: FROM isn't allowed as an ONBUILD trigger"),
                Arguments.of("FROM a\nONBUILD MAINTAINER me\n", "Dockerfile parse error line 2: MAINTAINER isn't allowed as an ONBUILD trigger"),
                Arguments.of("FROM a\nONBUILD RUN <<EOF\nx\nEOF\n", "Dockerfile parse error line 2: heredocs are not supported by this builder (<<EOF in RUN); put the content in a file in the build context and COPY it"),
                Arguments.of("FROM a\nHEALTHCHECK\n", "Dockerfile parse error line 2: HEALTHCHECK requires at least one argument"),
                Arguments.of("FROM a\nHEALTHCHECK NONE x\n", "Dockerfile parse error line 2: HEALTHCHECK NONE takes no arguments"),
                Arguments.of("FROM a\nHEALTHCHECK CMD\n", "Dockerfile parse error line 2: Missing command after HEALTHCHECK CMD"),
                Arguments.of("FROM a\nHEALTHCHECK CMDX x\n", "Dockerfile parse error line 2: Unknown type \"CMDX\" in HEALTHCHECK (try CMD)"),
                Arguments.of("FROM a\nHEALTHCHECK --interval=1d CMD x\n", "Dockerfile parse error line 2: time: unknown unit \"d\" in duration \"1d\""),
                Arguments.of("FROM a\nHEALTHCHECK --interval=5 CMD x\n", "Dockerfile parse error line 2: time: missing unit in duration \"5\""),
                Arguments.of("FROM a\nHEALTHCHECK --timeout=10us CMD x\n", "Dockerfile parse error line 2: Interval \"timeout\" cannot be less than 1ms"),
                Arguments.of("FROM a\nHEALTHCHECK --retries=-1 CMD x\n", "Dockerfile parse error line 2: --retries cannot be negative (-1)"),
                Arguments.of("FROM a\nHEALTHCHECK --retries=x CMD x\n", "Dockerfile parse error line 2: strconv.ParseInt: parsing \"x\": invalid syntax"),
                Arguments.of("FROM a\nHEALTHCHECK --color=red CMD x\n", "Dockerfile parse error line 2: unknown flag: color"),
                Arguments.of("FROM a\nCOPY --exclude=*.md . /x\n", "Dockerfile parse error line 2: COPY --exclude is not supported by this builder"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource
    void errors(String dockerfile, String message) {
        assertThat(error(dockerfile)).isEqualTo(message);
    }

    // ---- instructions -----------------------------------------------------------------

    @Test
    void execAndShellForms() throws Exception {
        assertThat(((Instruction.Run) only("RUN [\"echo\", \"a b\"]")).command())
                .isEqualTo(new CommandLine(List.of("echo", "a b"), false));
        assertThat(((Instruction.Run) only("RUN echo \"a b\"  c")).command())
                .isEqualTo(new CommandLine(List.of("echo \"a b\"  c"), true));
        // invalid JSON falls back to the shell form, as Docker does
        assertThat(((Instruction.Cmd) only("CMD [\"echo\", 'x']")).command())
                .isEqualTo(new CommandLine(List.of("[\"echo\", 'x']"), true));
        assertThat(((Instruction.Cmd) only("CMD [\"a\"] b")).command().shellForm()).isTrue();
        assertThat(((Instruction.Cmd) only("CMD [\"a\\u0041\\n\"]")).command().args()).containsExactly("aA\n");
        assertThat(((Instruction.Entrypoint) only("ENTRYPOINT []")).command()).isEqualTo(new CommandLine(List.of(), false));
        assertThat(((Instruction.Shell) only("SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]")).shell())
                .containsExactly("/bin/bash", "-o", "pipefail", "-c");
        CommandLine sh = new CommandLine(List.of("echo $HOME"), true);
        assertThat(sh.withShell(List.of("/bin/sh", "-c"))).containsExactly("/bin/sh", "-c", "echo $HOME");
        Instruction.Run net = (Instruction.Run) only("RUN --network=none echo");
        assertThat(net.network()).isEqualTo("none");
        assertThat(net.command().args()).containsExactly("echo");
    }

    @Test
    void envAndLabelForms() throws Exception {
        assertThat(((Instruction.Env) only("ENV A=1 B=\"two words\" C=a\\ b")).pairs()).containsExactly(
                new KeyValue("A", "1"), new KeyValue("B", "\"two words\""), new KeyValue("C", "a\\ b"));
        // legacy form: the rest of the line is the value, spaces kept
        assertThat(((Instruction.Env) only("ENV GREETING hello   big world")).pairs())
                .containsExactly(new KeyValue("GREETING", "hello   big world"));
        Instruction.Label label = (Instruction.Label) only("LABEL \"a b\"=\"c d\" version=1.0 empty=");
        assertThat(label.pairs()).containsExactly(new KeyValue("\"a b\"", "\"c d\""), new KeyValue("version", "1.0"),
                new KeyValue("empty", ""));
        Instruction.Label expanded = (Instruction.Label) VariableExpander.expand(label, java.util.Map.of(), '\\');
        assertThat(expanded.pairs()).containsExactly(new KeyValue("a b", "c d"), new KeyValue("version", "1.0"),
                new KeyValue("empty", ""));
        assertThat(((Instruction.Label) only("LABEL multi.line=\"a \\\n  b\"")).pairs())
                .containsExactly(new KeyValue("multi.line", "\"a   b\""));
    }

    @Test
    void argForms() throws Exception {
        assertThat(((Instruction.Arg) only("ARG A B=2 C=\"x y\" D=")).args()).containsExactly(
                new ArgDecl("A", null), new ArgDecl("B", "2"), new ArgDecl("C", "\"x y\""), new ArgDecl("D", ""));
    }

    @Test
    void copyAndAdd() throws Exception {
        Instruction.Copy c = (Instruction.Copy) only("COPY --from=build --chown=app:app --chmod=0755 --link src/*.go  ./other /dst/");
        assertThat(c.sources()).containsExactly("src/*.go", "./other");
        assertThat(c.destination()).isEqualTo("/dst/");
        assertThat(c.from()).isEqualTo("build");
        assertThat(c.chown()).isEqualTo("app:app");
        assertThat(c.chmod()).isEqualTo("0755");
        assertThat(c.link()).isTrue();
        Instruction.Copy json = (Instruction.Copy) only("COPY [\"my file.txt\", \"other file\", \"/dest dir/\"]");
        assertThat(json.sources()).containsExactly("my file.txt", "other file");
        assertThat(json.destination()).isEqualTo("/dest dir/");
        assertThat(json.from()).isNull();
        assertThat(json.link()).isFalse();
        Instruction.Add a = (Instruction.Add) only("ADD --checksum=sha256:abc --keep-git-dir=true https://x/y.tgz /z");
        assertThat(a.sources()).containsExactly("https://x/y.tgz");
        assertThat(a.checksum()).isEqualTo("sha256:abc");
        assertThat(a.keepGitDir()).isTrue();
        // quoted flag values
        assertThat(((Instruction.Copy) only("COPY --chown=\"1:2\" a b")).chown()).isEqualTo("1:2");
        // COPY with "<<" inside a JSON form is no heredoc
        assertThat(((Instruction.Copy) only("COPY [\"<<a\", \"b\"]")).sources()).containsExactly("<<a");
    }

    @Test
    void heredocLookalikesAreFine() throws Exception {
        assertThat(((Instruction.Run) only("RUN echo \"<<EOF\" && echo $((1<<2))")).command().shellForm()).isTrue();
        assertThat(((Instruction.Run) only("RUN [\"sh\", \"-c\", \"cat <<EOF\"]")).command().shellForm()).isFalse();
        assertThat(((Instruction.Run) only("RUN echo << x")).command().args()).containsExactly("echo << x");
    }

    @Test
    void singleValueInstructions() throws Exception {
        assertThat(((Instruction.Workdir) only("WORKDIR /a b")).path()).isEqualTo("/a b");
        assertThat(((Instruction.User) only("USER app:staff")).user()).isEqualTo("app:staff");
        assertThat(((Instruction.StopSignal) only("STOPSIGNAL SIGKILL")).signal()).isEqualTo("SIGKILL");
        assertThat(((Instruction.Maintainer) only("MAINTAINER Jane <j@x>")).maintainer()).isEqualTo("Jane <j@x>");
        assertThat(((Instruction.Volume) only("VOLUME /a /b")).paths()).containsExactly("/a", "/b");
        assertThat(((Instruction.Volume) only("VOLUME [\"/a b\", \"/c\"]")).paths()).containsExactly("/a b", "/c");
    }

    @Test
    void expose() throws Exception {
        Instruction.Expose e = (Instruction.Expose) only("EXPOSE 80 53/udp 8000-8002/TCP 9000/sctp");
        assertThat(e.ports()).containsExactly("80/tcp", "53/udp", "8000/tcp", "8001/tcp", "8002/tcp", "9000/sctp");
        assertThatThrownBy(() -> ((Instruction.Expose) only("EXPOSE 80/xyz")).ports())
                .hasMessage("Dockerfile parse error line 2: invalid proto: xyz");
        assertThatThrownBy(() -> ((Instruction.Expose) only("EXPOSE abc")).ports())
                .hasMessage("Dockerfile parse error line 2: invalid containerPort: abc");
        assertThatThrownBy(() -> ((Instruction.Expose) only("EXPOSE 70000")).ports())
                .hasMessage("Dockerfile parse error line 2: invalid containerPort: 70000");
    }

    @Test
    void healthcheck() throws Exception {
        Instruction.Healthcheck h = (Instruction.Healthcheck) only(
                "HEALTHCHECK --interval=30s --timeout=1m30s --start-period=1.5s --start-interval=500ms --retries=3 CMD curl -f http://localhost/ || exit 1");
        assertThat(h.health().test()).containsExactly("CMD-SHELL", "curl -f http://localhost/ || exit 1");
        assertThat(h.health().interval()).isEqualTo(Duration.ofSeconds(30));
        assertThat(h.health().timeout()).isEqualTo(Duration.ofSeconds(90));
        assertThat(h.health().startPeriod()).isEqualTo(Duration.ofMillis(1500));
        assertThat(h.health().startInterval()).isEqualTo(Duration.ofMillis(500));
        assertThat(h.health().retries()).isEqualTo(3);
        Instruction.Healthcheck exec = (Instruction.Healthcheck) only("HEALTHCHECK cmd [\"/bin/check\", \"-q\"]");
        assertThat(exec.health().test()).containsExactly("CMD", "/bin/check", "-q");
        assertThat(exec.health().interval()).isEqualTo(Duration.ZERO);
        assertThat(((Instruction.Healthcheck) only("HEALTHCHECK none")).health().test()).containsExactly("NONE");
        assertThat(((Instruction.Healthcheck) only("HEALTHCHECK --interval=0s CMD x")).health().interval()).isZero();
    }

    @Test
    void onbuild() throws Exception {
        Instruction.OnBuild ob = (Instruction.OnBuild) only("onbuild  COPY --chown=1 . /app");
        assertThat(ob.expression()).isEqualTo("COPY --chown=1 . /app");
        assertThat(ob.trigger()).isInstanceOfSatisfying(Instruction.Copy.class, c -> {
            assertThat(c.sources()).containsExactly(".");
            assertThat(c.chown()).isEqualTo("1");
            assertThat(c.line()).isEqualTo(2);
        });
        assertThat(((Instruction.OnBuild) only("ONBUILD COPY [\"<<a\", \"b\"]")).trigger()).isInstanceOf(Instruction.Copy.class);
        // a trigger from a base image's config, parsed when the child build runs it
        Instruction t = DockerfileParser.parseInstruction("RUN [\"make\"]", 1, '\\');
        assertThat(t).isInstanceOf(Instruction.Run.class);
        assertThatThrownBy(() -> DockerfileParser.parseInstruction("FORM x", 4, '\\'))
                .hasMessage("Dockerfile parse error line 4: unknown instruction: FORM");
    }

    @Test
    void stepTextIsTheJoinedLine() throws Exception {
        Dockerfile df = DockerfileParser.parse("FROM a\n  RUN apt-get update && \\\n      apt-get install -y x   \n");
        assertThat(df.stages().getFirst().instructions().getFirst().source().original())
                .isEqualTo("RUN apt-get update &&       apt-get install -y x");
    }
}
