package io.berth.build;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DockerIgnoreTest {
    static final String FILE = """
            # comment
              # indented
            **/*.go
            !important.go
            docs/**
            !docs/keep.md
            /abs/path
            ./dot/slash
            build/../tmp
            *.log
            !keep.log
            secret?.txt
            [ab]c.txt
            node_modules
            """;

    @ParameterizedTest(name = "{0} excluded={1}")
    @CsvSource(delimiter = '|', textBlock = """
            main.go                 | true
            cmd/app/main.go         | true
            important.go            | false
            cmd/important.go        | true
            docs                    | false
            docs/index.md           | true
            docs/a/b/c.md           | true
            docs/keep.md            | false
            abs/path                | true
            abs/path/inner          | true
            dot/slash               | true
            tmp/x                   | true
            build/x                 | false
            a.log                   | true
            keep.log                | false
            sub/a.log               | false
            secret1.txt             | true
            secret12.txt            | false
            ac.txt                  | true
            cc.txt                  | false
            node_modules/x/y.js     | true
            src/node_modules/x.js   | false
            README.md               | false
            Dockerfile              | false
            """)
    void matches(String path, boolean excluded) throws Exception {
        assertThat(DockerIgnore.parse(FILE).excludes(path)).isEqualTo(excluded);
    }

    @Test
    void patternsAreCleaned() throws Exception {
        assertThat(DockerIgnore.parse(FILE).patterns()).containsExactly("# indented", "**/*.go", "!important.go", "docs/**",
                "!docs/keep.md", "abs/path", "dot/slash", "tmp", "*.log", "!keep.log", "secret?.txt", "[ab]c.txt",
                "node_modules").as("only a '#' in column 1 starts a comment");
    }

    @Test
    void lastMatchWins() throws Exception {
        DockerIgnore i = DockerIgnore.of(List.of("*.md", "!README*.md", "README-secret.md"));
        assertThat(i.excludes("a.md")).isTrue();
        assertThat(i.excludes("README.md")).isFalse();
        assertThat(i.excludes("README-secret.md")).isTrue();
    }

    @Test
    void doubleStarForms() throws Exception {
        assertThat(DockerIgnore.of(List.of("**")).excludes("any/thing")).isTrue();
        assertThat(DockerIgnore.of(List.of("a/**/b")).excludes("a/b")).isTrue();
        assertThat(DockerIgnore.of(List.of("a/**/b")).excludes("a/x/y/b")).isTrue();
        assertThat(DockerIgnore.of(List.of("a/**/b")).excludes("a/x/y/c")).isFalse();
        assertThat(DockerIgnore.of(List.of("**/foo")).excludes("foo")).isTrue();
        assertThat(DockerIgnore.of(List.of("**/foo")).excludes("x/foo")).isTrue();
        assertThat(DockerIgnore.of(List.of("**/foo")).excludes("xfoo")).isFalse();
        assertThat(DockerIgnore.of(List.of("*")).excludes("a/b")).isTrue(); // parent matches
        assertThat(DockerIgnore.of(List.of("a\\*b")).excludes("a*b")).isTrue();
        assertThat(DockerIgnore.of(List.of("a\\*b")).excludes("axb")).isFalse();
        assertThat(DockerIgnore.of(List.of("a.b")).excludes("axb")).isFalse();
    }

    @Test
    void skippingDirectories() throws Exception {
        DockerIgnore i = DockerIgnore.parse(FILE);
        assertThat(i.canSkipDirectory("node_modules")).isTrue();
        assertThat(i.canSkipDirectory("docs")).isFalse(); // not itself excluded
        DockerIgnore d = DockerIgnore.of(List.of("docs", "!docs/keep.md", "vendor", "logs", "!**/*.keep"));
        assertThat(d.canSkipDirectory("docs")).isFalse();
        assertThat(d.canSkipDirectory("vendor")).isFalse(); // "!**/*.keep" might match inside
        DockerIgnore e = DockerIgnore.of(List.of("docs", "!docs/keep.md", "vendor"));
        assertThat(e.canSkipDirectory("vendor")).isTrue();
        assertThat(e.excludes("docs/keep.md")).isFalse();
        assertThat(e.excludes("docs/other.md")).isTrue();
        assertThat(DockerIgnore.empty().canSkipDirectory("x")).isFalse();
    }

    @Test
    void errors() {
        assertThatThrownBy(() -> DockerIgnore.parse("!\n")).hasMessageContaining("illegal exclusion pattern: \"!\"");
        assertThatThrownBy(() -> DockerIgnore.parse("[a\n")).hasMessageContaining("syntax error in .dockerignore pattern \"[a\"");
    }
}
