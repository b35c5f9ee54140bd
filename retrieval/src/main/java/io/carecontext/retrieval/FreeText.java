package io.carecontext.retrieval;

/**
 * What free text a caller writes about a patient must be: a context or chat question, a break-glass reason, a
 * break-glass review's note, an erasure's reason. Each is read by a person later (a reviewer, the privacy officer)
 * or embedded and sent to a model, and each is kept encrypted beside the patient's rows, so the rules are one:
 * <ul>
 *   <li>words: a letter or digit somewhere. A NUL, a zero-width or a no-break space alone passed
 *       {@code isBlank()}, and a review read nothing;</li>
 *   <li>no control character (C0, DEL, C1) but tab, line feed and carriage return, which lay a pasted text out (as
 *       in a FHIR string). A NUL or an escape is no part of what a person typed: a question holding one was
 *       embedded, sent to the model and answered 200.</li>
 * </ul>
 * Messages name the rule, never the character or the text.
 */
public final class FreeText {

  /** The rule a text holding a control character breaks, for messages. */
  public static final String CONTROL_CHARACTERS =
      "a control character (U+0000 to U+001F, U+007F to U+009F, other than tab, line feed and carriage return)";

  private FreeText() {}

  /** Whether {@code text} holds a letter or digit. */
  public static boolean hasWords(String text) {
    return text.codePoints().anyMatch(Character::isLetterOrDigit);
  }

  /** Whether {@code text} holds a control character other than tab, line feed and carriage return. */
  public static boolean hasControlCharacter(String text) {
    return text.chars().anyMatch(c -> Character.isISOControl(c) && c != '\t' && c != '\n' && c != '\r');
  }
}
