package io.berth.api;

/** API versions as major.minor, compared numerically (1.9 < 1.24 < 1.41). */
public record ApiVersion(int major, int minor) implements Comparable<ApiVersion> {
    public static final ApiVersion CURRENT = new ApiVersion(1, 41);
    public static final ApiVersion MINIMUM = new ApiVersion(1, 24);

    public static ApiVersion parse(String text) {
        int dot = text.indexOf('.');
        try {
            if (dot < 0) return new ApiVersion(Integer.parseInt(text), 0);
            return new ApiVersion(Integer.parseInt(text.substring(0, dot)), Integer.parseInt(text.substring(dot + 1)));
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("malformed API version \"" + text + "\"");
        }
    }

    @Override
    public int compareTo(ApiVersion o) {
        return major != o.major ? Integer.compare(major, o.major) : Integer.compare(minor, o.minor);
    }

    public boolean lessThan(String other) {
        return compareTo(parse(other)) < 0;
    }

    @Override
    public String toString() {
        return major + "." + minor;
    }
}
