package io.berth.image;

import com.fasterxml.jackson.annotation.JsonInclude;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** The one JSON mapper for image documents: unknown fields ignored, nulls left out. */
public final class ImageJson {
    private ImageJson() {}

    public static final JsonMapper MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .changeDefaultPropertyInclusion(v -> v.withValueInclusion(JsonInclude.Include.NON_NULL).withContentInclusion(JsonInclude.Include.NON_NULL))
            .build();

    /** Serialises a model Berth writes itself (a config it built, a manifest it pushes). */
    public static byte[] toBytes(Object value) {
        return MAPPER.writeValueAsBytes(value);
    }
}
