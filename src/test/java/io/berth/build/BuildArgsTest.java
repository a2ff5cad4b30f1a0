package io.berth.build;

import io.berth.build.Instruction.KeyValue;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Variable expansion per instruction and build-arg semantics, run the way the builder will run them. */
class BuildArgsTest {

    /** A tiny stand-in for the builder: walks a stage, applying ARG and ENV, expanding each instruction. */
    record Walk(List<Instruction> expanded, Map<String, String> env, BuildArgs.StageArgs args) {}

    static Walk walk(Dockerfile df, int stage, BuildArgs args, Map<String, String> baseEnv) throws Exception {
        BuildArgs.StageArgs sa = args.newStage();
        Map<String, String> env = new LinkedHashMap<>(baseEnv);
        List<Instruction> out = new java.util.ArrayList<>();
        for (Instruction in : df.stages().get(stage).instructions()) {
            if (in instanceof Instruction.Arg a) {
                sa.declare(a, env, df.escape());
                out.add(a);
                continue;
            }
            Instruction x = VariableExpander.expand(in, sa.env(env), df.escape());
            if (x instanceof Instruction.Env e) {
                for (KeyValue kv : e.pairs()) env.put(kv.key(), kv.value());
            }
            out.add(x);
        }
        return new Walk(out, env, sa);
    }

    static BuildArgs args(Map<String, String> options, Dockerfile df) throws Exception {
        BuildArgs a = new BuildArgs(options, BuildArgs.platformArgs("linux/amd64", "linux/arm64/v8"));
        a.declareMetaArgs(df.metaArgs(), df.escape());
        return a;
    }

    @Test
    void envInOneInstructionSeesTheValuesBeforeIt() throws Exception {
        Dockerfile df = DockerfileParser.parse("""
                FROM x
                ENV a=old
                ENV a=1 b=$a
                ENV c=${a}-${b}
                """);
        Walk w = walk(df, 0, args(Map.of(), df), Map.of());
        assertThat(w.env()).containsEntry("a", "1").containsEntry("b", "old").containsEntry("c", "1-old");
    }

    @Test
    void argDefaultsReferToEarlierArgsAndBuildArgsWin() throws Exception {
        Dockerfile df = DockerfileParser.parse("""
                FROM x
                ARG A=1
                ARG B=${A}0 C=$B
                ARG D
                ENV E=$A$B$C-$D
                RUN echo $A
                """);
        Walk w = walk(df, 0, args(Map.of(), df), Map.of());
        // ARG values in one line are expanded one after the other
        assertThat(w.env()).containsEntry("E", "11010-");
        assertThat(w.args().values()).containsEntry("A", "1").containsEntry("B", "10").containsEntry("C", "10")
                .doesNotContainKey("D");
        assertThat(w.args().isDeclared("D")).isTrue();
        // RUN is left to the shell
        assertThat(((Instruction.Run) w.expanded().getLast()).command().args()).containsExactly("echo $A");

        Walk over = walk(df, 0, args(Map.of("A", "7", "D", "d"), df), Map.of());
        assertThat(over.env()).containsEntry("E", "77070-d");
    }

    @Test
    void argIsUsableOnlyAfterItsDeclarationAndEnvWins() throws Exception {
        Dockerfile df = DockerfileParser.parse("""
                FROM x
                WORKDIR /$V
                ARG V=one
                WORKDIR /$V
                ENV V=two
                WORKDIR /$V
                """);
        Walk w = walk(df, 0, args(Map.of(), df), Map.of());
        assertThat(w.expanded()).filteredOn(i -> i instanceof Instruction.Workdir)
                .extracting(i -> ((Instruction.Workdir) i).path()).containsExactly("/", "/one", "/two");
    }

    @Test
    void metaArgsOnlyInFromUnlessRedeclared() throws Exception {
        Dockerfile df = DockerfileParser.parse("""
                ARG VERSION=3.19
                ARG BASE=alpine:${VERSION}
                FROM --platform=$BUILDPLATFORM ${BASE} AS one
                LABEL v=$VERSION
                FROM ${BASE}
                ARG VERSION
                LABEL v=$VERSION
                """);
        BuildArgs a = args(Map.of(), df);
        assertThat(a.metaEnv()).containsEntry("BASE", "alpine:3.19").containsEntry("TARGETARCH", "arm64")
                .containsEntry("TARGETVARIANT", "v8").containsEntry("BUILDPLATFORM", "linux/amd64");
        Instruction.From from = VariableExpander.expandFrom(df.stages().get(0).from(), a.metaEnv(), df.escape());
        assertThat(from.image()).isEqualTo("alpine:3.19");
        assertThat(from.platform()).isEqualTo("linux/amd64");
        assertThat(((Instruction.Label) walk(df, 0, a, Map.of()).expanded().getFirst()).pairs())
                .containsExactly(new KeyValue("v", ""));
        assertThat(((Instruction.Label) walk(df, 1, a, Map.of()).expanded().getLast()).pairs())
                .containsExactly(new KeyValue("v", "3.19"));

        BuildArgs over = args(Map.of("VERSION", "3.20"), df);
        assertThat(over.metaEnv()).containsEntry("BASE", "alpine:3.20");
        assertThat(((Instruction.Label) walk(df, 1, over, Map.of()).expanded().getLast()).pairs())
                .containsExactly(new KeyValue("v", "3.20"));
    }

    @Test
    void platformArgsInAStageOnlyWhenDeclared() throws Exception {
        Dockerfile df = DockerfileParser.parse("FROM x\nENV A=$TARGETARCH\nARG TARGETARCH TARGETOS\nENV B=$TARGETOS/$TARGETARCH\n");
        Walk w = walk(df, 0, args(Map.of(), df), Map.of());
        assertThat(w.env()).containsEntry("A", "").containsEntry("B", "linux/arm64");
    }

    @Test
    void proxyArgsReachRunWithoutDeclarationAndUnusedArgsWarn() throws Exception {
        Dockerfile df = DockerfileParser.parse("ARG USED_META\nFROM x\nARG USED\nRUN true\n");
        Map<String, String> options = new HashMap<>();
        options.put("HTTP_PROXY", "http://proxy:3128");
        options.put("USED", "1");
        options.put("USED_META", "1");
        options.put("zeta", "z");
        options.put("foo", null);
        BuildArgs a = args(options, df);
        Walk w = walk(df, 0, a, Map.of("PATH", "/bin"));
        assertThat(w.args().env(Map.of("PATH", "/bin"))).containsEntry("HTTP_PROXY", "http://proxy:3128")
                .containsEntry("USED", "1").containsEntry("PATH", "/bin").doesNotContainKey("USED_META");
        assertThat(a.unconsumed()).containsExactly("foo", "zeta");
        assertThat(a.unconsumedWarning()).contains("[Warning] One or more build-args [foo zeta] were not consumed");
        BuildArgs none = args(Map.of("USED", "1"), df);
        walk(df, 0, none, Map.of());
        assertThat(none.unconsumedWarning()).isEmpty();
    }

    @Test
    void expandsWhereDockerDoes() throws Exception {
        Dockerfile df = DockerfileParser.parse("""
                FROM x
                COPY --from=$S --chown=$U:$U --chmod=$M src/$F "$D/" /dst/$D/
                ADD --chown=$U $F /$D
                EXPOSE $PORT ${PORTS}
                VOLUME ["/data/$D"]
                USER $U
                STOPSIGNAL $SIG
                CMD echo $D
                ENTRYPOINT ["echo", "$D"]
                HEALTHCHECK CMD test $D
                ONBUILD RUN echo $D
                MAINTAINER $U
                SHELL ["/bin/$D"]
                """);
        Map<String, String> env = Map.of("S", "build", "U", "app", "M", "0644", "F", "*.go", "D", "out",
                "PORT", "80", "PORTS", "443/tcp 53/udp", "SIG", "SIGTERM");
        List<Instruction> in = df.stages().getFirst().instructions();
        List<Instruction> x = new java.util.ArrayList<>();
        for (Instruction i : in) x.add(VariableExpander.expand(i, env, '\\'));
        Instruction.Copy c = (Instruction.Copy) x.get(0);
        assertThat(c.from()).isEqualTo("build");
        assertThat(c.chown()).isEqualTo("app:app");
        assertThat(c.chmod()).isEqualTo("0644");
        assertThat(c.sources()).containsExactly("src/*.go", "out/");
        assertThat(c.destination()).isEqualTo("/dst/out/");
        Instruction.Add a = (Instruction.Add) x.get(1);
        assertThat(a.chown()).isEqualTo("app");
        assertThat(a.destination()).isEqualTo("/out");
        assertThat(((Instruction.Expose) x.get(2)).ports()).containsExactly("80/tcp", "443/tcp", "53/udp");
        assertThat(((Instruction.Volume) x.get(3)).paths()).containsExactly("/data/out");
        assertThat(((Instruction.User) x.get(4)).user()).isEqualTo("app");
        assertThat(((Instruction.StopSignal) x.get(5)).signal()).isEqualTo("SIGTERM");
        // not expanded: the shell, the container or the child build does it
        for (int i = 6; i < in.size(); i++) assertThat(x.get(i)).isEqualTo(in.get(i));
    }

    @Test
    void expansionErrorsNameTheLine() throws Exception {
        Dockerfile df = DockerfileParser.parse("FROM x\n\nWORKDIR ${A\n");
        assertThatThrownBy(() -> VariableExpander.expand(df.stages().getFirst().instructions().getFirst(), Map.of(), '\\'))
                .hasMessage("Dockerfile parse error line 3: failed to process \"${A\": syntax error: missing '}'");
        Dockerfile blank = DockerfileParser.parse("ARG B\nFROM $B\n");
        assertThatThrownBy(() -> VariableExpander.expandFrom(blank.stages().getFirst().from(), Map.of(), '\\'))
                .hasMessage("Dockerfile parse error line 2: base name ($B) should not be blank");
    }
}
