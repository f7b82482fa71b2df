package dev.coffer.store.s3;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coffer.store.UnknownException;
import java.io.IOException;

/** The JSON form of records. Unknown fields are ignored so that newer writers stay readable. */
final class Json {
  private static final ObjectMapper MAPPER = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
      .setSerializationInclusion(JsonInclude.Include.NON_NULL);

  private Json() {}

  static byte[] write(Object record) {
    try {
      return MAPPER.writeValueAsBytes(record);
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode " + record, e);
    }
  }

  static <T> T read(byte[] bytes, Class<T> type, String key) {
    try {
      return MAPPER.readValue(bytes, type);
    } catch (IOException e) {
      throw new UnknownException("unreadable record " + key + ": " + e.getMessage(), e);
    }
  }
}
