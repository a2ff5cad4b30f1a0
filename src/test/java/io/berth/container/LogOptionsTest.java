package io.berth.container;

import io.berth.errdefs.ErrorKind;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.container.HostConfig.LogConfig;
import io.berth.runtime.LogRotator;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LogOptionsTest {
    @Test
    void sizesAsDockerdReadsThem() {
        assertThat(LogOptions.parseSize("512")).isEqualTo(512);
        assertThat(LogOptions.parseSize("10k")).isEqualTo(10 * 1024);
        assertThat(LogOptions.parseSize("10K")).isEqualTo(10 * 1024);
        assertThat(LogOptions.parseSize("10kb")).isEqualTo(10 * 1024);
        assertThat(LogOptions.parseSize("10KiB")).isEqualTo(10 * 1024);
        assertThat(LogOptions.parseSize("10 k")).isEqualTo(10 * 1024);
        assertThat(LogOptions.parseSize("1m")).isEqualTo(1 << 20);
        assertThat(LogOptions.parseSize("1.5m")).isEqualTo(3 << 19);
        assertThat(LogOptions.parseSize("2g")).isEqualTo(2L << 30);
        assertThat(LogOptions.parseSize("1t")).isEqualTo(1L << 40);
        assertThat(LogOptions.parseSize("0")).isZero();
        for (String bad : new String[] {"abc", "-1", "", "k", "10x", "1.2.3", "10 kb b", " 10k"}) {
            assertThatThrownBy(() -> LogOptions.parseSize(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("invalid size: '" + bad + "'");
        }
    }

    private static LogConfig lc(String type, Map<String, String> config) {
        return new LogConfig(type, config);
    }

    private static void invalid(LogConfig asked, String message) {
        assertThatThrownBy(() -> LogOptions.validate(asked, null)).isInstanceOfSatisfying(ContainerException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
            assertThat(e.getMessage()).isEqualTo(message);
        });
    }

    @Test
    void dockerdsMessages() {
        String init = "failed to initialize logging driver: ";
        invalid(lc("json-file", Map.of("max-size", "abc")), init + "invalid size: 'abc'");
        invalid(lc("json-file", Map.of("max-size", "0")), init + "max-size must be a positive number");
        invalid(lc("json-file", Map.of("max-file", "0")), init + "max-file cannot be less than 1");
        invalid(lc("", Map.of("max-size", "1k", "max-file", "abc")), init + "strconv.Atoi: parsing \"abc\": invalid syntax");
        invalid(lc("json-file", Map.of("max-size", "1k", "compress", "maybe")), init + "strconv.ParseBool: parsing \"maybe\": invalid syntax");
        invalid(lc("json-file", Map.of("compress", "true")), init + "compress cannot be true when max-file is less than 2 or max-size is not set");
        invalid(lc("json-file", Map.of("foo", "bar")), "unknown log opt 'foo' for json-file log driver");
        invalid(lc("k8s-file", Map.of("foo", "bar")), "unknown log opt 'foo' for k8s-file log driver");
        invalid(lc("nosuch", Map.of()), "error looking up logging plugin nosuch: plugin \"nosuch\" not found");
        invalid(lc("syslog", Map.of()), "logging driver \"syslog\" is not supported by berthd: use json-file (the default)");
    }

    @Test
    void defaultsAndLimits() {
        LogConfig none = LogOptions.validate(null, null);
        assertThat(none).isEqualTo(lc("json-file", Map.of()));
        assertThat(LogOptions.limits(none)).isEmpty();
        // max-file alone is accepted (dockerd 20.10 starts such a container) and caps nothing
        assertThat(LogOptions.limits(LogOptions.validate(lc("", Map.of("max-file", "3")), null))).isEmpty();
        LogConfig both = LogOptions.validate(lc(null, Map.of("max-size", "10k", "max-file", "3", "tag", "x", "mode", "non-blocking")), null);
        assertThat(both.type()).isEqualTo("json-file");
        assertThat(LogOptions.limits(both)).contains(new LogRotator.Limits(10240, 3));
        assertThat(LogOptions.limits(LogOptions.validate(lc("k8s-file", Map.of("max-size", "1m")), null)))
                .contains(new LogRotator.Limits(1 << 20, 1));
        assertThat(LogOptions.limits(LogOptions.validate(lc("json-file", Map.of("max-size", "1m", "max-file", "2", "compress", "true")), null)))
                .contains(new LogRotator.Limits(1 << 20, 2));
    }

    @Test
    void daemonDefaultsFillInForTheirDriver() {
        LogConfig daemon = lc("json-file", Map.of("max-size", "1m", "max-file", "4"));
        assertThat(LogOptions.validate(null, daemon)).isEqualTo(lc("json-file", Map.of("max-size", "1m", "max-file", "4")));
        assertThat(LogOptions.validate(lc("", Map.of("max-size", "2k")), daemon).config())
                .isEqualTo(Map.of("max-size", "2k", "max-file", "4"));
        assertThat(LogOptions.validate(lc("k8s-file", Map.of()), daemon).config()).isEmpty();
    }

    @Test
    void hardCapIsGenerous() {
        assertThat(LogRotator.hardCap(new LogRotator.Limits(10240, 3))).isEqualTo(8L << 20);
        assertThat(LogRotator.hardCap(new LogRotator.Limits(100L << 20, 3))).isEqualTo(400L << 20);
    }
}
