package io.carecontext.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.fhir.Fhir;
import io.carecontext.fhir.FhirInputException;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.SQLException;
import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Conditional matching by identifier against the real store: the keyed hash of {@code system|value}
 * that the index holds, FHIR's search escapes, and the cap on a Bundle's entries.
 */
class IdentifierMatchingIT {

  static TestPlatform platform;
  static TenantId tenant;
  static FhirStore store;
  static FhirWriter feed;

  @BeforeAll
  static void setUp() {
    platform = new TestPlatform();
    tenant = platform.tenant("idmatch");
    feed = new FhirWriter(platform.issueKey(tenant, "feed", List.of("ehr-integration"), null)
        .present(PolicySettings.ingest()), WriteAudit.NONE);
    store = new FhirStore(platform.tx, platform.keys);
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  static int count(String sql) throws SQLException {
    return (int) TestPostgres.superuserLong(platform.config, sql);
  }

  static Resource patient(String id, String system, String value) {
    return Fhir.parseResource("{\"resourceType\":\"Patient\"" + (id == null ? "" : ",\"id\":\"" + id + "\"")
        + ",\"identifier\":[{\"system\":\"" + system + "\",\"value\":\"" + value + "\"}]}");
  }

  /**
   * The index holds the keyed hash of "system|value": a Patient whose system was "urn:coll|b" and value
   * "c" hashed as one whose system is "urn:coll" and value "b|c". A conditional create of the second
   * matched the first, another patient, and answered with it; a conditional reference filed a record
   * under it. Such a system is refused now, criteria that would name one too, and a row stored before
   * (written here past the validation, as the store took it then) is matched only by what it carries.
   */
  @Test
  void aSystemWithABarNoLongerMakesTwoIdentifiersMatchAlike() throws SQLException {
    // as it could be stored before: the write path took the system as sent
    store.putAll(tenant, feed, List.of(patient("00000000-legacy", "urn:coll|b", "c")));
    int patients = count("SELECT count(*) FROM tenant_idmatch.resources WHERE resource_type = 'Patient'");
    // now refused on every write path, naming the element and not the system
    assertThatThrownBy(() -> store.create(tenant, feed, patient(null, "urn:coll|b", "c")))
        .isInstanceOf(FhirInputException.class).hasMessageContaining("Patient.identifier[0].system")
        .hasMessageContaining("cannot contain '|'").hasMessageNotContaining("coll");
    // the second bar, unescaped, was read as part of the value: the hash of the legacy row's identifier
    assertThatThrownBy(() -> store.createIfNoneExist(tenant, feed, patient(null, "urn:coll", "b|c"),
        "identifier=urn:coll|b|c")).isInstanceOf(FhirInputException.class).hasMessageContaining("\\|")
        .hasMessageNotContaining("coll");
    // escaped as FHIR says, it names system urn:coll and value b|c, which the legacy row does not carry
    FhirStore.ConditionalCreate first = store.createIfNoneExist(tenant, feed, patient(null, "urn:coll", "b|c"),
        "identifier=urn:coll|b\\|c");
    assertThat(first.created()).as("not the legacy patient").isNotNull();
    String created = first.created().id();
    FhirStore.ConditionalCreate again = store.createIfNoneExist(tenant, feed, patient(null, "urn:coll", "b|c"),
        "identifier=urn:coll|b%5C%7Cc");
    assertThat(again.existing()).isNotNull();
    assertThat(again.existing().id()).isEqualTo(created);
    // a conditional reference resolves to the patient that carries the identifier, though the legacy one
    // hashes alike and comes first by id
    store.put(tenant, feed, Fhir.parseResource("""
        {"resourceType":"Observation","id":"coll-obs","status":"final","code":{"text":"x"},
         "subject":{"reference":"Patient?identifier=urn:coll|b\\\\|c"}}"""));
    assertThat(store.read(tenant, "Observation", "coll-obs").orElseThrow().json())
        .contains("\"reference\":\"Patient/" + created + "\"");
    // and in a transaction, as a Bundle entry's ifNoneExist
    Bundle tx = store.transaction(tenant, feed, (Bundle) Fhir.parseResource("""
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:coll","value":"b|c"}]},
           "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:coll|b\\\\|c"}}]}"""));
    assertThat(tx.getEntry().get(0).getResponse().getLocation()).startsWith("Patient/" + created + "/");
    assertThat(count("SELECT count(*) FROM tenant_idmatch.resources WHERE resource_type = 'Patient'"))
        .isEqualTo(patients + 1);
  }

  /** A value with a ',' or a '|', sent escaped, is matched as that value; an unescaped ',' (an OR list) is refused. */
  @Test
  void escapedCommasAndBarsAreMatchedAsTheValueTheyStandFor() throws SQLException {
    String created = store.createIfNoneExist(tenant, feed, patient(null, "urn:esc", "LAST,FIRST"),
        "identifier=urn:esc|LAST\\,FIRST").created().id();
    assertThat(store.createIfNoneExist(tenant, feed, patient(null, "urn:esc", "LAST,FIRST"),
        "identifier=urn:esc|LAST%5C%2CFIRST").existing().id()).isEqualTo(created);
    int before = count("SELECT count(*) FROM tenant_idmatch.resources");
    // taken as one value "LAST,urn:esc|FIRST" before, which matched nothing, and the create created
    assertThatThrownBy(() -> store.createIfNoneExist(tenant, feed, patient(null, "urn:esc", "LAST,FIRST"),
        "identifier=urn:esc|LAST,urn:esc|FIRST")).isInstanceOf(FhirInputException.class)
        .hasMessageContaining("\\,").hasMessageNotContaining("LAST");
    // a backslash that starts no escape: taken literally before, now refused saying how to send one
    assertThatThrownBy(() -> store.createIfNoneExist(tenant, feed, patient(null, "urn:esc", "AB"),
        "identifier=urn:esc|A\\B")).isInstanceOf(FhirInputException.class).hasMessageContaining("backslash");
    String backslash = store.createIfNoneExist(tenant, feed, patient(null, "urn:esc", "A\\\\B"),
        "identifier=urn:esc|A\\\\B").created().id();
    assertThat(store.createIfNoneExist(tenant, feed, patient(null, "urn:esc", "A\\\\B"),
        "identifier=urn:esc|A\\\\B").existing().id()).isEqualTo(backslash);
    assertThat(count("SELECT count(*) FROM tenant_idmatch.resources")).isEqualTo(before + 1);
  }

  /**
   * A Bundle of more entries than the cap is refused whole, before anything is stored: within the 50 MB
   * body limit a transaction of hundreds of thousands of entries held the tenant's writes for its length.
   */
  @Test
  void aBundleOverTheEntryCapIsRefusedAndStoresNothing() throws SQLException {
    FhirStore capped = new FhirStore(platform.tx, platform.keys, 3);
    String entry = "{\"resource\":{\"resourceType\":\"Patient\",\"gender\":\"female\"},"
        + "\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}";
    String four = String.join(",", entry, entry, entry, entry);
    int before = count("SELECT count(*) FROM tenant_idmatch.resources");
    for (String type : List.of("transaction", "batch")) {
      Bundle b = (Bundle) Fhir.parseResource("{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":["
          + four + "]}");
      assertThatThrownBy(() -> {
        Bundle unused = "batch".equals(type) ? capped.batch(tenant, feed, b) : capped.transaction(tenant, feed, b);
      })
          .isInstanceOf(FhirInputException.class)
          .hasMessageContaining("more than 3 entries, the limit of a Bundle")
          .hasMessageContaining("CARECONTEXT_FHIR_MAX_BUNDLE_ENTRIES").hasMessageContaining("$import")
          .satisfies(e -> assertThat(((FhirInputException) e).httpStatus()).isEqualTo(400));
    }
    assertThat(count("SELECT count(*) FROM tenant_idmatch.resources")).isEqualTo(before);
    // at the cap it is taken
    Bundle three = (Bundle) Fhir.parseResource("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        + String.join(",", entry, entry, entry) + "]}");
    assertThat(capped.transaction(tenant, feed, three).getEntry()).hasSize(3);
    assertThat(count("SELECT count(*) FROM tenant_idmatch.resources")).isEqualTo(before + 3);
  }
}
