package io.carecontext.services.ops;

import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Produces;
import io.swagger.v3.oas.annotations.Hidden;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** The OpenAPI document generated at compile time, at the path API.md names. */
@Controller
@Hidden
public class OpenApiController {

  static final String SPEC = "META-INF/swagger/carecontext-0.1.yml";

  @Get("/openapi.yml")
  @Produces("application/yaml")
  public HttpResponse<String> spec() throws IOException {
    try (InputStream in = OpenApiController.class.getClassLoader().getResourceAsStream(SPEC)) {
      if (in == null) {
        return HttpResponse.notFound();
      }
      return HttpResponse.ok(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @Get("/openapi")
  @Produces(MediaType.TEXT_HTML)
  public HttpResponse<?> ui() {
    return HttpResponse.redirect(java.net.URI.create("/swagger-ui/index.html"));
  }

  /** The UI's folder named without its slash leads to the UI too: it answered 401, as a path that needs a key. */
  @Get("/swagger-ui")
  @Produces(MediaType.TEXT_HTML)
  public HttpResponse<?> uiFolder() {
    return ui();
  }
}
