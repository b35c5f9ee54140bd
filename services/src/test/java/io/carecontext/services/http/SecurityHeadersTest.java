package io.carecontext.services.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SecurityHeadersTest {

  @Test
  void eachInlineScriptIsNamedByTheHashOfItsTextExactly() {
    // the hash of the empty script and of "alert(1)" as browsers compute them (CSP Level 2, section 4.2)
    assertThat(SecurityHeaders.inlineScripts("<p><script></script></p>"))
        .isEqualTo("'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='");
    assertThat(SecurityHeaders.inlineScripts("<script>alert(1)</script>\n<script>\n</script>"))
        .isEqualTo("'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI=' "
            + "'sha256-AbpHGcgLb+kRsJGnwFEktk7uzpZOCcBY74+YBdrKVGs='");
  }

  @Test
  void aPageWithNoInlineScriptOrNoPageRunsNone() {
    assertThat(SecurityHeaders.inlineScripts("<script src='/a.js'></script><p>no script</p>")).isEqualTo("'none'");
    assertThat(SecurityHeaders.inlineScriptHash("META-INF/no-such-page.html")).isEqualTo("'none'");
  }

  @Test
  void onlyTheSwaggerUisPageIsAPage() {
    assertThat(SecurityHeaders.isPage("/swagger-ui/index.html")).isTrue();
    assertThat(SecurityHeaders.isPage("/swagger/views/swagger-ui/index.html")).isTrue();
    assertThat(SecurityHeaders.isPage("/fhir/acme/Patient/p.html")).isFalse();
    assertThat(SecurityHeaders.isPage("/swagger-ui/res/swagger-ui-bundle.js")).isFalse();
    assertThat(SecurityHeaders.isPage("/openapi.yml")).isFalse();
  }

  @Test
  void theSwaggerUiPageRunsItsOwnInlineScriptAndNothingElseOfItsKind() {
    assertThat(SecurityHeaders.PAGE).startsWith("default-src 'none'; script-src 'self' 'sha256-")
        .doesNotContain("unsafe-eval").doesNotContain("'none';  ").contains("frame-ancestors 'none'");
    assertThat(SecurityHeaders.NOTHING).startsWith("default-src 'none';").contains("frame-ancestors 'none'");
  }
}
