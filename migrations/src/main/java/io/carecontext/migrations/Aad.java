package io.carecontext.migrations;

import java.nio.charset.StandardCharsets;

/**
 * The associated data that binds each tenant ciphertext to its place, so a ciphertext copied to
 * another row, resource or tenant fails to decrypt. Writers and readers must build it here.
 */
public final class Aad {

  private Aad() {}

  public static byte[] resource(TenantId tenant, String type, String id, long version) {
    return ("resource|" + tenant.value() + "|" + type + "/" + id + "|" + version).getBytes(StandardCharsets.UTF_8);
  }

  public static byte[] chunk(TenantId tenant, String type, String id, int seq) {
    return ("chunk|" + tenant.value() + "|" + type + "/" + id + "|" + seq).getBytes(StandardCharsets.UTF_8);
  }

  public static byte[] audit(TenantId tenant, String field) {
    return ("audit|" + tenant.value() + "|" + field).getBytes(StandardCharsets.UTF_8);
  }
}
