package io.carecontext.fhir;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DecimalType;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Range;
import org.hl7.fhir.r4.model.Ratio;

/** Plain-text helpers of the renderer: codes with their systems, quantities, ranges, HTML, sentence windows. */
final class Texts {

  private static final Map<String, String> SYSTEMS = Map.of(
      "http://loinc.org", "LOINC",
      "http://snomed.info/sct", "SNOMED CT",
      "http://www.nlm.nih.gov/research/umls/rxnorm", "RxNorm",
      "http://hl7.org/fhir/sid/icd-10-cm", "ICD-10-CM",
      "http://hl7.org/fhir/sid/icd-10", "ICD-10",
      "http://hl7.org/fhir/sid/cvx", "CVX",
      "http://www.ama-assn.org/go/cpt", "CPT");
  private static final Pattern SENTENCE_END = Pattern.compile("(?<=[.!?])\\s+(?=[A-Z0-9\"'(\\[])");

  private Texts() {}

  /**
   * {@code Hemoglobin A1c (LOINC 4548-4)}: display with the system's short name and code, of the
   * first coding of a standard system, else of the first coding.
   */
  static String concept(CodeableConcept cc) {
    if (cc == null || cc.isEmpty()) {
      return "";
    }
    // a coding of a standard system first: EHRs often send their local code before the LOINC one
    Coding c = cc.getCoding().stream().filter(x -> x.hasCode() && x.hasSystem() && SYSTEMS.containsKey(x.getSystem()))
        .findFirst().orElse(cc.getCoding().stream().filter(x -> x.hasDisplay() || x.hasCode()).findFirst().orElse(null));
    String display = cc.hasText() ? cc.getText() : c != null && c.hasDisplay() ? c.getDisplay() : "";
    if (c == null || !c.hasCode()) {
      return display;
    }
    String system = c.hasSystem() ? SYSTEMS.getOrDefault(c.getSystem(), lastSegment(c.getSystem())) : "code";
    return (display.isEmpty() ? "" : display + " ") + "(" + system + " " + c.getCode() + ")";
  }

  /**
   * A concept's words alone: its text, else a display, else a code. For qualifiers (a route, a
   * timing, a reason) where naming the code system would only add noise to the sentence.
   */
  static String label(CodeableConcept cc) {
    if (cc == null || cc.isEmpty()) {
      return "";
    }
    if (cc.hasText()) {
      return cc.getText();
    }
    return cc.getCoding().stream().filter(Coding::hasDisplay).map(Coding::getDisplay).findFirst()
        .orElse(cc.getCoding().stream().filter(Coding::hasCode).map(Coding::getCode).findFirst().orElse(""));
  }

  /**
   * {@code < 0.01 ng/mL}: the comparator, without which "below the detection limit" reads as a
   * measured value, then the value as sent (see {@link #decimal}) and the unit.
   */
  static String quantity(Quantity q) {
    if (q == null || !q.hasValue()) {
      return "";
    }
    String unit = unit(q.hasUnit() ? q.getUnit() : q.hasCode() ? q.getCode() : "");
    String comparator = q.hasComparator() ? q.getComparator().toCode() + " " : "";
    return comparator + decimal(q.getValueElement()) + (unit.isEmpty() ? "" : " " + unit);
  }

  /**
   * UCUM codes sent as the unit's text (Synthea, many lab feeds), in the words a reader knows: "7.2
   * 10*3/uL" read as 7.2 × 30 per microlitre, "38.4 Cel" and "168 mm[Hg]" as typing slips. Any other
   * unit is shown as sent.
   */
  private static final Map<String, String> UCUM_WORDS = Map.ofEntries(Map.entry("Cel", "°C"),
      Map.entry("[degF]", "°F"), Map.entry("mm[Hg]", "mmHg"), Map.entry("[lb_av]", "lb"), Map.entry("[oz_av]", "oz"),
      Map.entry("[in_i]", "in"), Map.entry("[ft_i]", "ft"), Map.entry("10*3/uL", "x10^3/µL"),
      Map.entry("10*6/uL", "x10^6/µL"), Map.entry("10*9/L", "x10^9/L"), Map.entry("10*12/L", "x10^12/L"),
      Map.entry("10*3/mm3", "x10^3/mm³"), Map.entry("10*6/mm3", "x10^6/mm³"), Map.entry("/[HPF]", "/HPF"),
      Map.entry("/[LPF]", "/LPF"), Map.entry("[iU]", "IU"), Map.entry("[iU]/L", "IU/L"), Map.entry("[IU]", "IU"),
      Map.entry("[IU]/L", "IU/L"), Map.entry("m[iU]/L", "mIU/L"), Map.entry("u[iU]/mL", "µIU/mL"));

  /** A UCUM code in words; an annotation alone or before a unit loses its braces ("{INR}", "{cells}/uL"). */
  static String unit(String unit) {
    String u = UCUM_WORDS.getOrDefault(unit, unit);
    return u.startsWith("{") && u.indexOf('}') > 1 ? u.substring(1, u.indexOf('}')) + u.substring(u.indexOf('}') + 1) : u;
  }

  /**
   * A decimal as it was sent: FHIR makes its precision significant, so 7.0 is not 7 and 0.50 not 0.5
   * (a value's trailing zeros say how precisely it was measured). HAPI keeps the original text.
   */
  static String decimal(DecimalType d) {
    return d == null || d.isEmpty() ? "" : d.getValueAsString();
  }

  /** {@code 1 tablet to 2 tablet}; one bound alone is {@code >= 4 %} or {@code <= 5.6 %}, never "4 % to". */
  static String range(Quantity low, Quantity high) {
    String l = quantity(low);
    String h = quantity(high);
    return l.isEmpty() ? h.isEmpty() ? "" : "<= " + h : h.isEmpty() ? ">= " + l : l + " to " + h;
  }

  static String range(Range r) {
    return r == null ? "" : range(r.getLow(), r.getHigh());
  }

  /** {@code 1 / 64}, {@code 4 g / 1 d}. */
  static String ratio(Ratio r) {
    String n = quantity(r == null ? null : r.getNumerator());
    String d = quantity(r == null ? null : r.getDenominator());
    return n.isEmpty() || d.isEmpty() ? n : n + " / " + d;
  }

  static String lastSegment(String system) {
    String s = system.replaceAll("/+$", "");
    return s.substring(s.lastIndexOf('/') + 1);
  }

  /** Narrative to plain text: scripts and styles dropped, tags removed, whitespace folded. */
  static String plain(String html) {
    if (html == null) {
      return "";
    }
    return entities(tagsRemoved(scriptsRemoved(html))).replaceAll("\\s+", " ").strip();
  }

  // An HTML attachment is an EHR's text: the patterns that did the next two, <[^>]*> and
  // (?is)<(script|style)[^>]*>.*?</\1>, began at every "<" (or "<script") and scanned to the text's end when no
  // ">" (or closing tag) followed, quadratic in its length: 64 KiB of "a<" took 7.6 s. They remove the same
  // spans, each found once.

  /** Each tag, from a "<" to the first ">" after it, as a blank; a "<" with no ">" after it stays. */
  static String tagsRemoved(String s) {
    StringBuilder b = new StringBuilder(s.length());
    int at = 0;
    for (int open = s.indexOf('<'); open >= 0; open = s.indexOf('<', at)) {
      int close = s.indexOf('>', open + 1);
      if (close < 0) {
        break; // no ">" after this "<", and so none after any later one
      }
      b.append(s, at, open).append(' ');
      at = close + 1;
    }
    return b.append(s, at, s.length()).toString();
  }

  /**
   * Each script or style element, from its start tag to the first end tag of its name (ASCII case ignored), as a
   * blank; one without an end tag stays for {@link #tagsRemoved}. A kind whose element found no end once finds
   * none later either: a later start's tag ends no earlier, and its end tag is looked for in less of the text.
   */
  static String scriptsRemoved(String s) {
    char[] lower = s.toCharArray();
    for (int i = 0; i < lower.length; i++) {
      if (lower[i] >= 'A' && lower[i] <= 'Z') {
        lower[i] += 'a' - 'A';
      }
    }
    String l = new String(lower);
    String[] names = {"script", "style"};
    int[] next = {l.indexOf("<script"), l.indexOf("<style")};
    StringBuilder b = new StringBuilder(s.length());
    int at = 0;
    while (true) {
      int k = next[0] < 0 ? 1 : next[1] < 0 || next[0] < next[1] ? 0 : 1;
      int open = next[k];
      if (open < 0) {
        break;
      }
      int tagEnd = l.indexOf('>', open + 1 + names[k].length());
      int close = tagEnd < 0 ? -1 : l.indexOf("</" + names[k] + ">", tagEnd + 1);
      if (close < 0) {
        next[k] = -1;
        continue;
      }
      b.append(s, at, open).append(' ');
      at = close + names[k].length() + 3;
      for (int j = 0; j < 2; j++) {
        if (next[j] >= 0 && next[j] < at) {
          next[j] = l.indexOf("<" + names[j], at);
        }
      }
    }
    return b.append(s, at, s.length()).toString();
  }

  private static final Pattern ENTITY = Pattern.compile("&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});");
  /**
   * Named entities clinical HTML uses. Only five were read, so "38.4&deg;C", "&ge;2 episodes" and
   * "&frac12; tab" reached the reader as written; numeric ones ("&#8805;", "&#176;") are read as well.
   */
  private static final Map<String, String> NAMED = Map.ofEntries(Map.entry("nbsp", " "), Map.entry("lt", "<"),
      Map.entry("gt", ">"), Map.entry("amp", "&"), Map.entry("quot", "\""), Map.entry("apos", "'"),
      Map.entry("deg", "°"), Map.entry("plusmn", "±"), Map.entry("micro", "µ"), Map.entry("ge", "≥"),
      Map.entry("le", "≤"), Map.entry("ne", "≠"), Map.entry("times", "×"), Map.entry("divide", "÷"),
      Map.entry("frac12", "½"), Map.entry("frac14", "¼"), Map.entry("frac34", "¾"), Map.entry("sup2", "²"),
      Map.entry("sup3", "³"), Map.entry("middot", "·"), Map.entry("bull", "•"), Map.entry("ndash", "–"),
      Map.entry("mdash", "—"), Map.entry("lsquo", "‘"), Map.entry("rsquo", "’"), Map.entry("ldquo", "“"),
      Map.entry("rdquo", "”"), Map.entry("hellip", "…"), Map.entry("rarr", "→"), Map.entry("larr", "←"),
      Map.entry("uarr", "↑"), Map.entry("darr", "↓"), Map.entry("alpha", "α"), Map.entry("beta", "β"),
      Map.entry("gamma", "γ"), Map.entry("delta", "δ"), Map.entry("mu", "μ"), Map.entry("reg", "®"),
      Map.entry("copy", "©"), Map.entry("trade", "™"), Map.entry("eacute", "é"), Map.entry("egrave", "è"),
      Map.entry("ntilde", "ñ"), Map.entry("uuml", "ü"), Map.entry("ouml", "ö"), Map.entry("auml", "ä"));

  /** Character references in one pass ("&amp;lt;" is the text "&lt;"); an unknown name stays as written. */
  static String entities(String s) {
    Matcher m = ENTITY.matcher(s);
    StringBuilder b = new StringBuilder();
    while (m.find()) {
      String name = m.group(1);
      String with;
      if (name.charAt(0) == '#') {
        int cp = name.length() > 1 && (name.charAt(1) == 'x' || name.charAt(1) == 'X')
            ? Integer.parseInt(name.substring(2), 16) : Integer.parseInt(name.substring(1));
        with = cp == 0xA0 ? " " : Character.isValidCodePoint(cp) && cp != 0 ? new String(Character.toChars(cp)) : m.group();
      } else {
        with = NAMED.getOrDefault(name, m.group());
      }
      m.appendReplacement(b, Matcher.quoteReplacement(with));
    }
    return m.appendTail(b).toString();
  }

  /** Plain text with its whitespace folded; nothing else changes ("<" and ">" are text here, not tags). */
  static String folded(String text) {
    return text == null ? "" : text.replaceAll("\\s+", " ").strip();
  }

  /**
   * Long text in windows of at most {@code maxChars}, split on sentence boundaries, each window
   * repeating the previous window's last sentence so no statement loses its context.
   */
  static List<String> windows(String text, int maxChars) {
    List<String> out = new ArrayList<>();
    String t = text.strip();
    if (t.isEmpty()) {
      return out;
    }
    if (t.length() <= maxChars) {
      out.add(t);
      return out;
    }
    List<String> sentences = new ArrayList<>();
    for (String s : SENTENCE_END.split(t)) {
      for (int i = 0; i < s.length(); i += maxChars) {
        sentences.add(s.substring(i, Math.min(s.length(), i + maxChars)).strip());
      }
    }
    StringBuilder window = new StringBuilder();
    String last = null;
    for (String s : sentences) {
      if (window.length() > 0 && window.length() + 1 + s.length() > maxChars) {
        out.add(window.toString());
        window.setLength(0);
        if (last != null && last.length() + 1 + s.length() <= maxChars) {
          window.append(last);
        }
      }
      if (window.length() > 0) {
        window.append(' ');
      }
      window.append(s);
      last = s;
    }
    if (window.length() > 0) {
      out.add(window.toString());
    }
    return out;
  }

  static String join(String... parts) {
    StringBuilder b = new StringBuilder();
    for (String p : parts) {
      if (p != null && !p.isBlank()) {
        if (b.length() > 0) {
          b.append(' ');
        }
        b.append(p.strip());
      }
    }
    return b.toString();
  }
}
