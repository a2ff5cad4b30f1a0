package io.berth.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GlobTest {
    @ParameterizedTest(name = "{0} ~ {1} = {2}")
    @CsvSource(delimiter = '|', textBlock = """
            *.go          | main.go        | true
            *.go          | cmd/main.go    | false
            cmd/*.go      | cmd/main.go    | true
            a?c           | abc            | true
            a?c           | a/c            | false
            [ab]c.txt     | bc.txt         | true
            [^ab]c.txt    | bc.txt         | false
            [^ab]c.txt    | zc.txt         | true
            [a-c]x        | bx             | true
            [a-c]x        | dx             | false
            \\*x          | *x             | true
            \\*x          | ax             | false
            a*b*c         | aXbYc          | true
            a*b*c         | aXbY/c         | false
            ''            | ''             | true
            """)
    void goFilepathMatch(String pattern, String path, boolean expected) throws BuildException {
        assertThat(Glob.of(pattern).matches(path)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} ~ {1} = {2}")
    @CsvSource(delimiter = '|', textBlock = """
            **/*.go       | main.go        | true
            **/*.go       | a/b/main.go    | true
            docs/**       | docs/a/b.md    | true
            a/**/b        | a/b            | true
            a/**/b        | a/x/y/b        | true
            a/**/b        | a/x/y/c        | false
            **x           | a/b/x          | true
            """)
    void dockerDoubleStar(String pattern, String path, boolean expected) throws BuildException {
        assertThat(Glob.withDoubleStar(pattern).matches(path)).isEqualTo(expected);
    }

    @Test
    void malformedPatternsAreSyntaxErrors() {
        assertThatThrownBy(() -> Glob.of("[abc")).isInstanceOf(BuildException.class).hasMessageContaining("syntax error");
        assertThatThrownBy(() -> Glob.of("abc\\")).isInstanceOf(BuildException.class).hasMessageContaining("syntax error");
    }

    /** The backtracking regex took 78 s of CPU on a 34-character name; the NFA answers at once. */
    @Test
    void pathologicalPatternIsLinear() throws BuildException {
        String pattern = "*a".repeat(30) + "b";
        String name = "a".repeat(5000);
        long t0 = System.nanoTime();
        assertThat(Glob.withDoubleStar(pattern).matches(name)).isFalse();
        assertThat(Glob.of(pattern).matches(name)).isFalse();
        assertThat((System.nanoTime() - t0) / 1_000_000).as("ms").isLessThan(2000);
    }

    @Test
    void nestedSubstitutionsAreRefusedNotOverflowed() {
        String deep = "${a:-".repeat(20_000) + "x" + "}".repeat(20_000);
        assertThatThrownBy(() -> ShellWords.expand(deep, Map.of())).isInstanceOf(ExpansionException.class)
                .hasMessageContaining("nested deeper than");
        String fine = "${a:-".repeat(10) + "x" + "}".repeat(10);
        assertThat(catchExpand(fine)).isEqualTo("x");
    }

    @Test
    void expansionsAreCapped() {
        String big = "y".repeat(600_000);
        assertThatThrownBy(() -> ShellWords.expand("$v$v", Map.of("v", big))).isInstanceOf(ExpansionException.class)
                .hasMessageContaining("expansion longer than");
        assertThatThrownBy(() -> ShellWords.expand("${v//y/yyyy}", Map.of("v", big))).isInstanceOf(ExpansionException.class)
                .hasMessageContaining("expansion longer than");
    }

    @Test
    void longLinesAreRefused() {
        String dockerfile = "FROM busybox\nENV x=" + "a".repeat(70_000) + "\n";
        assertThatThrownBy(() -> DockerfileParser.parse(dockerfile)).isInstanceOf(DockerfileParseException.class)
                .hasMessageContaining("dockerfile line greater than max allowed size of 65535");
        String continued = "FROM busybox\nENV x=" + ("a".repeat(40_000) + "\\\n").repeat(3) + "b\n";
        assertThatThrownBy(() -> DockerfileParser.parse(continued)).isInstanceOf(DockerfileParseException.class)
                .hasMessageContaining("max allowed size");
    }

    private static String catchExpand(String w) {
        try {
            return ShellWords.expand(w, Map.of());
        } catch (ExpansionException e) {
            throw new AssertionError(e);
        }
    }
}
