package io.carecontext.retrieval.deid;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Puts identities back into a model's answer for callers that may see them. Tokens the model
 * invented or mangled are removed, never guessed.
 */
public final class Reidentifier {

  private static final Pattern TOKENISH = Pattern.compile(
      "\\[?\\b(?:PATIENT|PROVIDER|PERSON|DATE|PHONE|FAX|EMAIL|SSN|MRN|PLAN|ACCOUNT|LICENSE|VEHICLE|DEVICE|URL|IP|ADDRESS|CITY|ZIP|ID)[ _]\\d+\\b\\]?");

  private Reidentifier() {}

  public static String reidentify(String answer, TokenMap tokens) {
    return replace(answer, tokens, true);
  }

  /** For callers that must never see identities (researchers): known tokens stay, invented ones go. */
  public static String keepTokens(String answer, TokenMap tokens) {
    return replace(answer, tokens, false);
  }

  private static String replace(String answer, TokenMap tokens, boolean reveal) {
    Matcher m = TOKENISH.matcher(answer);
    StringBuilder b = new StringBuilder();
    while (m.find()) {
      String token = m.group();
      String value = tokens.valueOf(token).map(v -> reveal ? v : token).orElse("");
      m.appendReplacement(b, Matcher.quoteReplacement(value));
    }
    m.appendTail(b);
    return b.toString().replaceAll(" {2,}", " ");
  }
}
