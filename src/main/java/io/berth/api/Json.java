package io.berth.api;

import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.MapperFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The one JSON mapper of the API layer. Request fields match whatever their case, as Go's
 * encoding/json matches them in dockerd: docker-py sends {@code CPURealtimePeriod} for the
 * documented {@code CpuRealtimePeriod}, and dockerd takes it.
 */
public final class Json {
    public static final JsonMapper MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_PROPERTIES)
            .build();

    private Json() {}

    public static byte[] bytes(Object value) {
        return MAPPER.writeValueAsBytes(value);
    }
}
