package io.berth.build;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ShellWordsTest {
    static final Map<String, String> ENV = Map.of("A", "apple", "EMPTY", "", "P", "/usr/local/bin/tool.tar.gz",
            "SP", "a b");

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '~', emptyValue = "", textBlock = """
            $A                   | apple
            ${A}                 | apple
            x${A}y               | xappley
            $Ax                  | ''
            $UNSET               | ''
            ${UNSET}             | ''
            ${A:-d}              | apple
            ${UNSET:-d}          | d
            ${EMPTY:-d}          | d
            ${EMPTY-d}           | ''
            ${UNSET-d}           | d
            ${A:+alt}            | alt
            ${EMPTY:+alt}        | ''
            ${EMPTY+alt}         | alt
            ${UNSET+alt}         | ''
            ${UNSET:-${A}}       | apple
            ${UNSET:-a b}        | a b
            \\$A                 | $A
            \\${A}               | ${A}
            '$A'                 | $A
            '\\$A'               | \\$A
            "$A"                 | apple
            "\\$A"               | $A
            "a\\"b"              | a"b
            "a\\b"               | a\\b
            "'$A'"               | 'apple'
            a\\ b                | a b
            "$SP"                | a b
            $                    | $
            a$                   | a$
            $1                   | ''
            $$                   | ''
            ${P#*/}              | usr/local/bin/tool.tar.gz
            ${P##*/}             | tool.tar.gz
            ${P%.*}              | /usr/local/bin/tool.tar
            ${P%%.*}             | /usr/local/bin/tool
            ${P/local/opt}       | /usr/opt/bin/tool.tar.gz
            ${P//o/0}            | /usr/l0cal/bin/t00l.tar.gz
            ~"quoted "'and' mix~ | quoted and mix
            """)
    void expands(String word, String expected) throws Exception {
        assertThat(ShellWords.expand(word, ENV)).isEqualTo(expected.equals("''") ? "" : expected);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '~', textBlock = """
            ${A                  | syntax error: missing '}'
            ${                   | syntax error: missing '}'
            ${}                  | syntax error: bad substitution
            ${:-x}               | syntax error: bad substitution
            ${A:-x               | syntax error: missing '}'
            ${A^}                | unsupported modifier (^) in substitution
            ${A:=x}              | unsupported modifier (:=) in substitution
            ${UNSET?}            | UNSET: is not allowed to be unset
            ${UNSET:?must set}   | UNSET: must set
            ${EMPTY:?}           | EMPTY: is not allowed to be empty
            'abc                 | unexpected end of statement while looking for matching single-quote
            "abc                 | unexpected end of statement while looking for matching double-quote
            """)
    void errors(String word, String message) {
        assertThatThrownBy(() -> ShellWords.expand(word, ENV)).isInstanceOf(ExpansionException.class).hasMessage(message);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            `$A         | $A
            c:\\dir\\$A  | c:\\dir\\apple
            "`"x"       | "x
            """)
    void backtickEscape(String word, String expected) throws Exception {
        assertThat(ShellWords.expand(word, ENV, '`')).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            0           | 0
            300ms       | 300000000
            1.5h        | 5400000000000
            2h45m       | 9900000000000
            1m30.5s     | 90500000000
            10us        | 10000
            10µs        | 10000
            1ns         | 1
            -1s         | -1000000000
            +.5s        | 500000000
            """)
    void goDurations(String text, long nanos) {
        assertThat(GoDuration.parse(text)).isEqualTo(Duration.ofNanos(nanos));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '~', textBlock = """
            ~~      | time: invalid duration ""
            1       | time: missing unit in duration "1"
            1d      | time: unknown unit "d" in duration "1d"
            s       | time: invalid duration "s"
            .s      | time: invalid duration ".s"
            -       | time: invalid duration "-"
            """)
    void badDurations(String text, String message) {
        assertThatThrownBy(() -> GoDuration.parse(text)).hasMessage(message);
    }
}
