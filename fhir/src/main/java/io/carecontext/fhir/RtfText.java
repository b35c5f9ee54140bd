package io.carecontext.fhir;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.Set;

/**
 * The text of an RTF document (a note sent as {@code text/rtf}, as Epic and Cerner export many),
 * without its control words, font and colour tables, pictures or field codes. Stored as it came,
 * a discharge summary read "\par \pard{\pntext\f1\'B7\tab}... Do NOT restart lisinopril", and
 * "38.4\'b0C" for 38.4 °C.
 *
 * <p>A reader of its own rather than {@code javax.swing.text.rtf.RTFEditorKit}: that one builds a
 * Swing document (the java.desktop module, AWT fonts and a shared style cache) to return text, and
 * drops {@code \}{@code uN} characters. This one is a single linear pass with a bounded group depth:
 * what it does not know it leaves out, never copies through as markup.
 */
final class RtfText {

  /** Destinations whose content is not document text: tables, metadata, pictures, objects, field codes. */
  private static final Set<String> SKIPPED = Set.of("fonttbl", "colortbl", "stylesheet", "info", "pict", "object",
      "header", "headerl", "headerr", "headerf", "footer", "footerl", "footerr", "footerf", "listtable",
      "listoverridetable", "rsidtbl", "generator", "xmlnstbl", "themedata", "colorschememapping", "latentstyles",
      "datastore", "fldinst", "pn", "filetbl", "revtbl", "mmathPr", "bkmkstart", "bkmkend", "nonshppict", "shp",
      "operator", "author", "title", "subject", "keywords", "comment", "company", "doccomm", "userprops");

  private static final Map<String, String> SYMBOLS = Map.ofEntries(Map.entry("par", "\n"), Map.entry("line", "\n"),
      Map.entry("row", "\n"), Map.entry("sect", "\n"), Map.entry("page", "\n"), Map.entry("cell", " "),
      Map.entry("tab", " "), Map.entry("lquote", "\u2018"), Map.entry("rquote", "\u2019"),
      Map.entry("ldblquote", "\u201C"), Map.entry("rdblquote", "\u201D"), Map.entry("bullet", "\u2022"),
      Map.entry("endash", "\u2013"), Map.entry("emdash", "\u2014"), Map.entry("emspace", " "),
      Map.entry("enspace", " "), Map.entry("qmspace", " "));

  /** Deeper nesting than any editor writes: the rest of such a group is left out rather than followed. */
  private static final int MAX_DEPTH = 256;

  private RtfText() {}

  /** Whether the text is an RTF document at all ({@code {\rtf1 ...}}). */
  static boolean isRtf(String s) {
    return s != null && s.stripLeading().startsWith("{\\rtf");
  }

  /** Group state: inside a skipped destination, and how many fallback characters follow a {@code \}{@code u}. */
  private record State(boolean skip, int unicodeFallback) {}

  /** The document's text, paragraphs on their own lines; "" when it is not RTF. */
  static String toText(String rtf) {
    if (!isRtf(rtf)) {
      return "";
    }
    StringBuilder out = new StringBuilder(rtf.length() / 2);
    Deque<State> stack = new ArrayDeque<>();
    State state = new State(false, 1);
    Charset codePage = Charset.forName("windows-1252");
    int pendingFallback = 0; // characters of a unicode escape's fallback still to drop
    int n = rtf.length();
    int i = 0;
    while (i < n) {
      char c = rtf.charAt(i);
      if (c == '{') {
        if (stack.size() >= MAX_DEPTH) {
          i = skipGroup(rtf, i);
          continue;
        }
        stack.push(state);
        pendingFallback = 0;
        i++;
      } else if (c == '}') {
        state = stack.isEmpty() ? state : stack.pop();
        pendingFallback = 0;
        i++;
      } else if (c == '\\' && i + 1 < n) {
        char d = rtf.charAt(i + 1);
        if (Character.isLetter(d)) {
          int start = i + 1;
          int j = start;
          while (j < n && j - start < 32 && isAsciiLetter(rtf.charAt(j))) {
            j++;
          }
          String word = rtf.substring(start, j);
          int paramStart = j;
          if (j < n && rtf.charAt(j) == '-') {
            j++;
          }
          while (j < n && j - paramStart < 10 && Character.isDigit(rtf.charAt(j))) {
            j++;
          }
          String digits = rtf.substring(paramStart, j);
          Integer param = digits.isEmpty() || digits.equals("-") ? null : Integer.valueOf(digits);
          if (j < n && rtf.charAt(j) == ' ') {
            j++; // the space that ends a control word is not text
          }
          i = j;
          if (word.equals("bin") && param != null && param > 0) {
            i = (int) Math.min(n, (long) i + param); // binary data: never text
          } else if (SKIPPED.contains(word)) {
            state = new State(true, state.unicodeFallback());
          } else if (word.equals("uc") && param != null) {
            state = new State(state.skip(), Math.max(0, param));
          } else if (word.equals("u") && param != null) {
            if (!state.skip()) {
              out.append((char) (param < 0 ? param + 65536 : param));
            }
            pendingFallback = state.unicodeFallback();
          } else if (word.equals("ansicpg") && param != null) {
            codePage = codePage(param, codePage);
          } else if (!state.skip() && SYMBOLS.containsKey(word)) {
            out.append(SYMBOLS.get(word));
          }
          continue;
        }
        i += 2;
        switch (d) {
          case '\'' -> {
            if (i + 2 <= n && isHex(rtf.charAt(i)) && isHex(rtf.charAt(i + 1))) {
              int b = Integer.parseInt(rtf.substring(i, i + 2), 16);
              i += 2;
              if (pendingFallback > 0) {
                pendingFallback--;
              } else if (!state.skip()) {
                out.append(new String(new byte[] {(byte) b}, codePage));
              }
            }
          }
          case '*' -> state = new State(true, state.unicodeFallback());
          case '{', '}', '\\', '~', '_', '\n', '\r' -> {
            if (pendingFallback > 0) {
              pendingFallback--;
            } else if (!state.skip()) {
              out.append(d == '~' ? ' ' : d == '_' ? '-' : d == '\r' ? '\n' : d);
            }
          }
          default -> { } // \- (optional hyphen), \| and the like: no text
        }
      } else {
        i++;
        if (c == '\n' || c == '\r') {
          continue; // line breaks in the file are not in the document
        }
        if (pendingFallback > 0) {
          pendingFallback--;
          continue;
        }
        if (!state.skip()) {
          out.append(c);
        }
      }
    }
    return out.toString().replaceAll("[ \\t\\x0B\\f]+", " ").replaceAll(" ?\n ?", "\n").replaceAll("\n{3,}", "\n\n")
        .strip();
  }

  /** The index after the group that opens at {@code open}. */
  private static int skipGroup(String rtf, int open) {
    int depth = 0;
    for (int i = open; i < rtf.length(); i++) {
      char c = rtf.charAt(i);
      if (c == '\\') {
        i++;
      } else if (c == '{') {
        depth++;
      } else if (c == '}' && --depth == 0) {
        return i + 1;
      }
    }
    return rtf.length();
  }

  private static Charset codePage(int number, Charset otherwise) {
    try {
      return number == 65001 ? StandardCharsets.UTF_8 : Charset.forName("windows-" + number);
    } catch (IllegalArgumentException e) {
      try {
        return Charset.forName("cp" + number);
      } catch (IllegalArgumentException e2) {
        return otherwise;
      }
    }
  }

  private static boolean isAsciiLetter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }

  private static boolean isHex(char c) {
    return Character.digit(c, 16) >= 0;
  }
}
