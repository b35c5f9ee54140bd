package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ModelHostsTest {

  @Test
  void onlyHostsTheOperatorApprovedForTheTenantAndLoopback() {
    String approvals = "acme:llm.acme.example, *:shared.example ,beta:";
    assertThat(ModelHosts.isApprovedFor("acme", "https://LLM.acme.example:8443/v1", approvals)).isTrue();
    assertThat(ModelHosts.isApprovedFor("acme", "https://shared.example/v1", approvals)).isTrue();
    assertThat(ModelHosts.isApprovedFor("beta", "https://llm.acme.example/v1", approvals)).isFalse();
    assertThat(ModelHosts.isApprovedFor("acme", "https://evil.example/v1", approvals)).isFalse();
    assertThat(ModelHosts.isApprovedFor("acme", "https://llm.acme.example.evil.example/v1", approvals)).isFalse();
    assertThat(ModelHosts.isApprovedFor("acme", "https://evil.example/v1", null)).isFalse();
    assertThat(ModelHosts.isApprovedFor("acme", "http://127.0.0.1:9/v1", null)).isTrue();
    assertThat(ModelHosts.isApprovedFor("acme", "http://localhost/v1", null)).isTrue();
    assertThat(ModelHosts.isApprovedFor("acme", "not a url", approvals)).isFalse();
    assertThatThrownBy(() -> ModelHosts.requireApprovedFor("acme", "settings.embedding", "https://evil.example/v1"))
        .isInstanceOf(ModelHosts.HostNotApprovedException.class)
        .hasMessageContaining("CARECONTEXT_MODEL_HOSTS").hasMessageNotContaining("evil");
  }

  @Test
  void approvalsThatCanNeverMatchAreNamedForTheStartWarning() {
    assertThat(ModelHosts.ineffectiveApprovals("acme:llm.acme.example, *:shared.example,x:[::1]")).isEmpty();
    assertThat(ModelHosts.ineffectiveApprovals(null)).isEmpty();
    // no tenant, no host, a scheme, a port, a path, '=' for ':'
    assertThat(ModelHosts.ineffectiveApprovals(
        "llm.acme.example, beta:, acme:https://llm.acme.example, acme:llm.acme.example:443, acme:llm.example/v1, "
            + "acme=llm.acme.example"))
        .containsExactly("llm.acme.example", "beta:", "acme:https://llm.acme.example", "acme:llm.acme.example:443",
            "acme:llm.example/v1", "acme=llm.acme.example");
  }
}
