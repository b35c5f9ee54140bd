package io.carecontext.services.http;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.micronaut.serde.ObjectMapper;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Request bodies bound as the server binds them (Micronaut Serde with {@link StrictScalars}), for
 * unit tests of body records: {@code @RegisterExtension static final RequestBodies bodies = new RequestBodies();}.
 */
public final class RequestBodies implements AfterAllCallback {

  private final ObjectMapper json = ObjectMapper.create(Map.of(), "io.carecontext.services.http");

  /** The mapper itself, for code that reads bodies through it (as the controllers do). */
  public ObjectMapper mapper() {
    return json;
  }

  public <T> T read(String body, Class<T> type) throws IOException {
    return json.readValue(body, type);
  }

  /** The message of the 400 the server answers for this body: it must name the field, never the value. */
  public String refusal(String body, Class<?> type) {
    IOException e = assertThrows(IOException.class, () -> json.readValue(body, type));
    return ApiErrorProcessor.badField(e, type).orElseThrow(() -> new AssertionError("not named: " + e)).message();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (json instanceof AutoCloseable c) {
      c.close();
    }
  }
}
