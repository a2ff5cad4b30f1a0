package io.berth.build;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BuildPlanTest {
    static final String MULTI = """
            ARG GO=1.22
            FROM golang:${GO} AS build
            RUN go build -o /app
            FROM alpine AS tools
            RUN apk add curl
            FROM build AS test
            RUN go test
            FROM scratch AS final
            COPY --from=build /app /app
            COPY --from=1 /usr/bin/curl /curl
            COPY --from=busybox:1.36 /bin/busybox /busybox
            FROM final AS unused
            """;

    static BuildPlan plan(String dockerfile, String target, Map<String, String> buildArgs) throws Exception {
        Dockerfile df = DockerfileParser.parse(dockerfile);
        BuildArgs args = new BuildArgs(buildArgs, Map.of());
        args.declareMetaArgs(df.metaArgs(), df.escape());
        return BuildPlan.plan(df, target, args);
    }

    @Test
    void onlyTheStagesTheTargetNeedsInDependencyOrder() throws Exception {
        BuildPlan p = plan(MULTI, "final", Map.of());
        assertThat(p.stages()).extracting(BuildPlan.PlannedStage::index).containsExactly(0, 1, 3);
        assertThat(p.target().index()).isEqualTo(3);
        assertThat(p.target().fromScratch()).isTrue();
        assertThat(p.target().dependsOn()).containsExactlyInAnyOrder(0, 1);
        assertThat(p.target().copyImages()).containsExactly("busybox:1.36");
        assertThat(p.stage(0).from().image()).isEqualTo("golang:1.22");
        assertThat(p.stage(0).baseStage()).isNull();
        assertThat(p.stage(2)).isNull();
        assertThat(p.stepCount(DockerfileParser.parse(MULTI))).isEqualTo(1 + 2 + 2 + 4);
    }

    @Test
    void fromAnEarlierStage() throws Exception {
        BuildPlan p = plan(MULTI, "TEST", Map.of("GO", "1.23"));
        assertThat(p.stages()).extracting(BuildPlan.PlannedStage::index).containsExactly(0, 2);
        assertThat(p.target().baseStage()).isZero();
        assertThat(p.stage(0).from().image()).isEqualTo("golang:1.23");
    }

    @Test
    void defaultTargetIsTheLastStage() throws Exception {
        BuildPlan p = plan(MULTI, null, Map.of());
        assertThat(p.target().index()).isEqualTo(4);
        assertThat(p.target().baseStage()).isEqualTo(3);
        assertThat(p.stages()).extracting(BuildPlan.PlannedStage::index).containsExactly(0, 1, 3, 4);
    }

    @Test
    void unknownTarget() {
        assertThatThrownBy(() -> plan(MULTI, "nope", Map.of()))
                .isInstanceOf(BuildException.class).hasMessage("failed to reach build target nope in Dockerfile");
    }

    @Test
    void laterStageByNameInCopyFromAndCycles() throws Exception {
        BuildPlan p = plan("FROM a AS one\nCOPY --from=two /x /x\nFROM b AS two\n", "one", Map.of());
        assertThat(p.stages()).extracting(BuildPlan.PlannedStage::index).containsExactly(1, 0);
        assertThatThrownBy(() -> plan("FROM a AS one\nCOPY --from=two /x /x\nFROM b AS two\nCOPY --from=one /y /y\n", null, Map.of()))
                .hasMessage("circular dependency detected on stage: two");
        assertThatThrownBy(() -> plan("FROM a AS one\nCOPY --from=one /x /x\n", null, Map.of()))
                .hasMessage("Dockerfile parse error line 2: circular dependency detected on stage: one");
        assertThatThrownBy(() -> plan("FROM a\nCOPY --from=0 /x /x\n", null, Map.of()))
                .hasMessage("Dockerfile parse error line 2: invalid from flag value 0: refers to current or future build stage");
    }

    @Test
    void fromALaterStageNameIsAnImage() throws Exception {
        BuildPlan p = plan("FROM later AS first\nFROM alpine AS later\n", "first", Map.of());
        assertThat(p.target().baseStage()).isNull();
        assertThat(p.target().from().image()).isEqualTo("later");
    }

    @Test
    void copyFromWithAMetaArg() throws Exception {
        BuildPlan p = plan("ARG SRC=build\nFROM a AS build\nFROM b\nCOPY --from=${SRC} /x /x\n", null, Map.of());
        assertThat(p.target().dependsOn()).containsExactly(0);
        Dockerfile df = DockerfileParser.parse("FROM a AS build\nFROM b\n");
        assertThat(BuildPlan.resolveCopyFrom(df, "BUILD", 1, 3)).isEqualTo(new BuildPlan.CopyFrom(0, null));
        assertThat(BuildPlan.resolveCopyFrom(df, "nginx", 1, 3)).isEqualTo(new BuildPlan.CopyFrom(null, "nginx"));
    }
}
