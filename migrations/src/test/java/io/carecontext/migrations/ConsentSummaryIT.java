package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The chunk policy's consent rules, for every mix of consents, in both consent modes: the fast
 * path (V16), {@code allows_all_rows} of the subject's consent summary, must say exactly what the
 * three facts it replaced said together; and the per-row rule on rules read once per query (V17)
 * must let through exactly the rows that V10's {@code subject_consent_allows} lets through; and the
 * research policy's patient sets (V18) must agree with V9's {@code research_consent_allows}: a
 * patient let through whole has every row allowed by it, a patient outside every set none; and the
 * permits-only comparison (V19) must agree with the rule wherever it decides.
 */
class ConsentSummaryIT {

  static TestPlatform platform;

  @BeforeAll
  static void setUp() {
    platform = new TestPlatform();
    platform.tenant("summary");
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  /** One consent of a subject: decision, status, purposes, denied classes and labels, permitted classes and labels, whether expired. */
  private record Consent(String decision, String status, String purposes, String deniedClasses, String deniedLabels,
                         String permittedClasses, String permittedLabels, boolean expired) {
    static Consent permit() {
      return new Consent("permit", "active", "{}", "{}", "{}", "{}", "{}", false);
    }

    static Consent deny() {
      return new Consent("deny", "active", "{}", "{}", "{}", "{}", "{}", false);
    }

    Consent denying(String classes, String labels) {
      return new Consent(decision, status, purposes, classes, labels, permittedClasses, permittedLabels, expired);
    }

    Consent excepting(String classes, String labels) {
      return new Consent(decision, status, purposes, deniedClasses, deniedLabels, classes, labels, expired);
    }

    Consent withStatus(String s) {
      return new Consent(decision, s, purposes, deniedClasses, deniedLabels, permittedClasses, permittedLabels, expired);
    }

    Consent forPurposes(String p) {
      return new Consent(decision, status, p, deniedClasses, deniedLabels, permittedClasses, permittedLabels, expired);
    }

    Consent expiredAlready() {
      return new Consent(decision, status, purposes, deniedClasses, deniedLabels, permittedClasses, permittedLabels, true);
    }
  }

  private static final List<List<Consent>> SUBJECTS = List.of(
      List.of(),
      List.of(Consent.permit()),
      List.of(Consent.permit().denying("{Observation}", "{}")),
      List.of(Consent.permit().denying("{}", "{PSY}")),
      List.of(Consent.deny()),
      List.of(Consent.deny().excepting("{Condition}", "{}")),
      List.of(Consent.permit(), Consent.deny()),
      List.of(Consent.permit(), Consent.permit().denying("{Observation}", "{}")),
      List.of(Consent.permit(), Consent.permit()),
      List.of(Consent.permit(), Consent.deny().withStatus("inactive")),
      List.of(Consent.permit(), Consent.deny().expiredAlready()),
      List.of(Consent.permit(), Consent.deny().forPurposes("{HRESCH}")),
      List.of(Consent.permit().forPurposes("{HRESCH}")),
      List.of(Consent.deny().withStatus("rejected")),
      List.of(Consent.permit().denying("{Observation}", "{PSY}")),
      List.of(Consent.deny().excepting("{}", "{N}")),
      List.of(Consent.deny().excepting("{Condition}", "{N}"), Consent.permit().denying("{}", "{PSY}")),
      List.of(Consent.permit().denying("{Observation}", "{}"), Consent.permit().denying("{}", "{R}")));

  @Test
  void allowsAllRowsIsBaseAllowsWithoutClassOrLabelExclusionsForEveryMixOfConsents() throws SQLException {
    int checked = 0;
    try (Connection su = TestPostgres.superuser(platform.config)) {
      for (int s = 0; s < SUBJECTS.size(); s++) {
        String patient = "subject-" + s;
        insert(su, patient, SUBJECTS.get(s));
        for (String mode : List.of("opt-in", "opt-out")) {
          boolean[] row = summary(su, patient, mode);
          assertThat(row[3])
              .as("subject %d %s in %s mode: allows_all_rows against base_allows %s, denied classes %s, labels %s",
                  s, SUBJECTS.get(s), mode, row[0], row[1], row[2])
              .isEqualTo(row[0] && !row[1] && !row[2]);
          checked++;
        }
      }
    }
    assertThat(checked).isEqualTo(SUBJECTS.size() * 2);
  }

  private static final List<String> ROW_TYPES = List.of("Observation", "Condition", "Encounter");
  private static final List<String> ROW_LABELS = List.of("{}", "{PSY}", "{R}", "{N}", "{PSY,R}", "{N,PSY}");

  /** Checks one row (its class and labels) of one subject in one mode; {@code rs} is positioned on the query's row. */
  @FunctionalInterface
  private interface RowCheck {
    void check(ResultSet rs, String row) throws SQLException;
  }

  /**
   * Runs {@code sql}, whose two parameters are a row's class and labels, for every row type and
   * label set of every subject in {@link #SUBJECTS}, in both consent modes, with that subject's
   * settings; returns how many rows it checked.
   */
  private static int forEveryRow(String patientPrefix, String sql, RowCheck check) throws SQLException {
    int checked = 0;
    try (Connection su = TestPostgres.superuser(platform.config); PreparedStatement ps = su.prepareStatement(sql)) {
      for (int s = 0; s < SUBJECTS.size(); s++) {
        String patient = patientPrefix + s;
        insert(su, patient, SUBJECTS.get(s));
        for (String mode : List.of("opt-in", "opt-out")) {
          settings(su, "cc.subject", patient, "cc.purpose", "TREAT", "cc.consent_mode", mode);
          for (String type : ROW_TYPES) {
            for (String label : ROW_LABELS) {
              ps.setString(1, type);
              ps.setString(2, label);
              try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                check.check(rs, String.format("subject %d %s in %s mode, a %s labelled %s", s, SUBJECTS.get(s), mode,
                    type, label));
                checked++;
              }
            }
          }
        }
      }
    }
    assertThat(checked).isEqualTo(SUBJECTS.size() * 2 * ROW_TYPES.size() * ROW_LABELS.size());
    return checked;
  }

  @Test
  void theRowRuleOnRulesReadOncePerQueryLetsThroughExactlyTheRowsOfTheRuleItReplaced() throws SQLException {
    int[] allowed = {0};
    int checked = forEveryRow("rows-", """
        WITH r(type, labels) AS (SELECT ?::text, ?::text[])
        SELECT tenant_summary.subject_consent_allows(type, labels),
               tenant_summary.subject_consent_rules_allow((SELECT tenant_summary.subject_consent_rules()), type, labels)
        FROM r""", (rs, row) -> {
          assertThat(rs.getBoolean(2)).as(row).isEqualTo(rs.getBoolean(1));
          allowed[0] += rs.getBoolean(1) ? 1 : 0;
        });
    // Both outcomes occur, so the comparison is not between two constants.
    assertThat(allowed[0]).isPositive().isLessThan(checked);
  }

  @Test
  void thePermitsOnlyComparisonAgreesWithTheRuleWheneverItDecidesAndThePolicysConsentArmAlways() throws SQLException {
    int[] decidedFast = {0};
    // The policy's consent arm (V19) without the override, and its permits-only comparison alone.
    forEveryRow("permits-", """
        WITH r(type, labels) AS (SELECT ?::text, ?::text[])
        SELECT tenant_summary.subject_consent_allows(type, labels),
               NOT type = ANY ((SELECT tenant_summary.subject_excluded_classes())::text[])
                 AND NOT labels && (SELECT tenant_summary.subject_excluded_labels()),
               (SELECT allows_all_rows FROM tenant_summary.subject_consent_summary)
                 OR coalesce(NOT type = ANY ((SELECT tenant_summary.subject_excluded_classes())::text[])
                               AND NOT labels && (SELECT tenant_summary.subject_excluded_labels()),
                             tenant_summary.subject_consent_rules_allow(
                                 (SELECT tenant_summary.subject_consent_rules()), type, labels))
        FROM r""", (rs, row) -> {
          boolean rule = rs.getBoolean(1);
          boolean fast = rs.getBoolean(2);
          if (!rs.wasNull()) {
            assertThat(fast).as("the comparison, " + row).isEqualTo(rule);
            decidedFast[0]++;
          }
          assertThat(rs.getBoolean(3)).as("the policy's consent arm, " + row).isEqualTo(rule);
        });
    // The comparison decides every row of the subjects whose applicable consents are all permits
    // (10 of the 18, in both modes) and leaves the others to the rule.
    assertThat(decidedFast[0]).isEqualTo(10 * 2 * ROW_TYPES.size() * ROW_LABELS.size());
  }

  @Test
  void theResearchPolicysPatientSetsAgreeWithResearchConsentAllowsForEveryRow() throws SQLException {
    List<String> types = List.of("Observation", "Condition", "DocumentReference");
    List<String> labels = List.of("{}", "{PSY}", "{R}", "{N}", "{PSY,R}");
    int fast = 0;
    int refused = 0;
    int checked = 0;
    try (Connection su = TestPostgres.superuser(platform.config);
         PreparedStatement sets = su.prepareStatement("""
             SELECT ? IN (SELECT patient_id FROM tenant_summary.research_consent_plain)
                    OR (current_setting('cc.consent_mode', true) = 'opt-out'
                        AND ? NOT IN (SELECT patient_id FROM tenant_summary.research_consents)),
                    ? IN (SELECT patient_id FROM tenant_summary.research_consent_partial)""");
         PreparedStatement allows = su.prepareStatement(
             "SELECT tenant_summary.research_consent_allows(?, ?, ?::text[])")) {
      for (int s = 0; s < SUBJECTS.size(); s++) {
        insert(su, "research-" + s, SUBJECTS.get(s));
      }
      for (String mode : List.of("opt-in", "opt-out")) {
        settings(su, "cc.purpose", "HRESCH", "cc.consent_mode", mode);
        for (int s = 0; s < SUBJECTS.size(); s++) {
          String patient = "research-" + s;
          boolean whole;
          boolean inPart;
          sets.setString(1, patient);
          sets.setString(2, patient);
          sets.setString(3, patient);
          try (ResultSet rs = sets.executeQuery()) {
            assertThat(rs.next()).isTrue();
            whole = rs.getBoolean(1);
            inPart = rs.getBoolean(2);
          }
          if (!whole && inPart) {
            continue; // research_consent_allows decides each row, as before
          }
          if (whole) {
            fast++;
          } else {
            refused++;
          }
          for (String type : types) {
            for (String label : labels) {
              allows.setString(1, patient);
              allows.setString(2, type);
              allows.setString(3, label);
              try (ResultSet rs = allows.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getBoolean(1)).as("subject %d %s in %s mode, let through %s, a %s labelled %s", s,
                    SUBJECTS.get(s), mode, whole ? "whole" : "not at all", type, label).isEqualTo(whole);
                checked++;
              }
            }
          }
        }
      }
    }
    // Plain permits (several subjects) in both modes and no consent in opt-out mode are let through
    // whole; denies without exceptions and, in opt-in mode, no consent not at all: neither check
    // above is vacuous.
    assertThat(fast).isGreaterThanOrEqualTo(8);
    assertThat(refused).isGreaterThanOrEqualTo(4);
    assertThat(checked).isEqualTo((fast + refused) * types.size() * labels.size());
  }

  private static void insert(Connection su, String patient, List<Consent> consents) throws SQLException {
    try (PreparedStatement ps = su.prepareStatement("""
        INSERT INTO tenant_summary.consents (consent_id, patient_id, status, decision, period_end, purposes,
                                             denied_classes, denied_labels, permitted_classes, permitted_labels)
        VALUES (?, ?, ?, ?, CASE WHEN ? THEN now() - interval '1 day' END, ?::text[], ?::text[], ?::text[],
                ?::text[], ?::text[])""")) {
      int n = 0;
      for (Consent c : consents) {
        ps.setString(1, patient + "-" + n++);
        ps.setString(2, patient);
        ps.setString(3, c.status());
        ps.setString(4, c.decision());
        ps.setBoolean(5, c.expired());
        ps.setString(6, c.purposes());
        ps.setString(7, c.deniedClasses());
        ps.setString(8, c.deniedLabels());
        ps.setString(9, c.permittedClasses());
        ps.setString(10, c.permittedLabels());
        ps.executeUpdate();
      }
    }
  }

  /** base_allows, denied_classes, denied_labels and allows_all_rows of the subject, for purpose TREAT. */
  private static boolean[] summary(Connection su, String patient, String mode) throws SQLException {
    settings(su, "cc.subject", patient, "cc.purpose", "TREAT", "cc.consent_mode", mode);
    try (PreparedStatement ps = su.prepareStatement("""
        SELECT base_allows, denied_classes, denied_labels, allows_all_rows FROM tenant_summary.subject_consent_summary""");
         ResultSet rs = ps.executeQuery()) {
      assertThat(rs.next()).isTrue();
      return new boolean[] {rs.getBoolean(1), rs.getBoolean(2), rs.getBoolean(3), rs.getBoolean(4)};
    }
  }

  /** Sets these policy settings (name, value, name, value, ...) for the rest of the session. */
  private static void settings(Connection su, String... nameValues) throws SQLException {
    try (PreparedStatement ps = su.prepareStatement("SELECT set_config(?, ?, false)")) {
      for (int i = 0; i < nameValues.length; i += 2) {
        ps.setString(1, nameValues[i]);
        ps.setString(2, nameValues[i + 1]);
        ps.execute();
      }
    }
  }
}
