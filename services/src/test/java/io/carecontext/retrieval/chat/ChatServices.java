package io.carecontext.retrieval.chat;

import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.retrieval.ContextService;
import io.carecontext.retrieval.audit.AuditLog;
import java.util.function.Function;

/** Reaches the package-private seams of the chat service from the application's ITs. */
public final class ChatServices {
  private ChatServices() {}

  /**
   * A ChatService whose model call goes through the real gateway (which charges and settles), with the
   * endpoint's key read by {@code apiKey}: a key reader that throws is a failure the gateway does not name
   * (it settles the charge and rethrows).
   */
  public static ChatService withApiKey(ContextService context, AuditLog audit, TenantTransactions tx, TenantKeys keys,
                                       Function<Prompt, String> apiKey) {
    LlmGateway gateway = new LlmGateway(tx);
    return new ChatService(context, gateway, audit, tx, keys, io.carecontext.retrieval.deid.OutputPhiFilter::filter,
        (tenant, keyId, e, prompt, reserved) -> gateway.call(tenant, keyId, e, prompt, reserved,
            () -> apiKey.apply(prompt), d -> Thread.sleep(d.toMillis())));
  }
}
