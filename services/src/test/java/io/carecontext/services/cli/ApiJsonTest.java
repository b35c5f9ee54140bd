package io.carecontext.services.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ApiJsonTest {

  @Test
  void onlyTheFhirEndpointsAnswersCountAsAnswers() {
    assertThat(ApiJson.isFhirAnswer("{\"resourceType\":\"Bundle\",\"type\":\"batch-response\"}", false)).isTrue();
    assertThat(ApiJson.isFhirAnswer("{\"resourceType\":\"OperationOutcome\",\"issue\":[]}", true)).isTrue();
    // a proxy's page, an empty body, another service's JSON, or the other kind of answer
    for (String body : new String[] {"<html>Welcome</html>", "", "{\"status\":\"ok\"}"}) {
      assertThat(ApiJson.isFhirAnswer(body, false)).as(body).isFalse();
      assertThat(ApiJson.isFhirAnswer(body, true)).as(body).isFalse();
    }
    assertThat(ApiJson.isFhirAnswer("{\"resourceType\":\"OperationOutcome\"}", false)).isFalse();
  }

  @Test
  void countsTheSucceededEntriesOfATransactionResponseNotEveryStatusField() {
    // a returned resource's own "status" must not count as an entry
    String bundle = """
        {"resourceType":"Bundle","type":"transaction-response","entry":[
          {"response":{"status":"201 Created","location":"Patient/p1/_history/1"}},
          {"resource":{"resourceType":"Observation","status":"final"},
           "response":{"status":"200 OK","location":"Observation/o1/_history/2"}},
          {"response":{"status":"400 Bad Request"}}]}""";
    assertThat(ApiJson.succeededEntries(bundle)).isEqualTo(2);
    assertThat(ApiJson.location(bundle, "Observation")).isEqualTo("o1");
    assertThatThrownBy(() -> ApiJson.location(bundle, "Practitioner")).hasMessageContaining("no Practitioner");
  }

  @Test
  void namesEachRefusedEntryOfABatchResponseByIndexStatusAndReason() {
    String bundle = """
        {"resourceType":"Bundle","type":"batch-response","entry":[
          {"response":{"status":"201 Created","location":"Patient/p1/_history/1"}},
          {"response":{"status":"400 Bad Request","outcome":{"resourceType":"OperationOutcome","issue":[
            {"severity":"error","code":"structure",
             "diagnostics":"bundle entry 1: element 'Bundle.entry[1].resource.gender': expected a JSON string",
             "expression":["Bundle.entry[1].resource.gender"]}]}}},
          {"response":{"status":"200 OK"}},
          {"response":{"status":"422 Unprocessable Entity","outcome":{"resourceType":"OperationOutcome","issue":[
            {"severity":"warning","code":"informational","diagnostics":"not a reason"},
            {"severity":"error","code":"required","diagnostics":"resourceType is required",
             "expression":["Bundle.entry[3].resource"]}]}}},
          {"response":{"status":"500 Internal Server Error"}}]}""";
    assertThat(ApiJson.succeededEntries(bundle)).isEqualTo(2);
    assertThat(ApiJson.refusedEntries(bundle)).containsExactly(
        // the path the diagnostics already name is not repeated; one they do not name is added
        // and the entry's index, which starts the line, is not repeated from the diagnostics
        "entry 1: 400 Bad Request: element 'Bundle.entry[1].resource.gender': expected a JSON string",
        "entry 3: 422 Unprocessable Entity: resourceType is required (at Bundle.entry[3].resource)",
        "entry 4: 500 Internal Server Error: the server gave no reason");
    assertThat(ApiJson.refusedEntries("<html>502</html>")).isEmpty();
  }

  @Test
  void readsImportCountsAndErrorsFromTheOperationOutcome() {
    String outcome = """
        {"resourceType":"OperationOutcome","issue":[
          {"severity":"information","code":"informational",
           "diagnostics":"lines 3, written 2, unchanged 0, failed 1, 12 ms"},
          {"severity":"error","code":"invalid","diagnostics":"line 2: element 'Patient.birthDate': not a FHIR date"}]}""";
    assertThat(ApiJson.importCount(outcome, "written")).isEqualTo(2);
    assertThat(ApiJson.importCount(outcome, "failed")).isEqualTo(1);
    assertThat(ApiJson.importCount(outcome, "lines")).isEqualTo(3);
    assertThat(ApiJson.errors(outcome)).containsExactly("line 2: element 'Patient.birthDate': not a FHIR date");
    assertThat(ApiJson.diagnostics(outcome)).startsWith("lines 3");
  }

  @Test
  void anImportStoresItsWrittenAndItsUnchangedLinesAsABundleDoes() {
    // The summary counted an NDJSON file's written lines only, but a Bundle's every 2xx entry (an
    // unchanged one answers 200): loading the same files twice said "ingested 2", then "ingested 1".
    String again = """
        {"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational",
          "diagnostics":"lines 3, written 1, unchanged 1, failed 1, 12 ms"}]}""";
    assertThat(ApiJson.importStored(again)).isEqualTo(2);
    assertThat(ApiJson.importStored("<html>502</html>")).isZero();
  }

  @Test
  void aBodyThatIsNotJsonReadsAsEmpty() {
    String html = "<html><body>502 Bad Gateway</body></html>";
    assertThat(ApiJson.succeededEntries(html)).isZero();
    assertThat(ApiJson.errors(html)).isEmpty();
    assertThat(ApiJson.diagnostics(html)).isEmpty();
    assertThat(ApiJson.number(html, "chunks")).isZero();
    assertThat(ApiJson.number(null, "chunks")).isZero();
  }

  @Test
  void readsFieldsOfPlainApiAnswers() {
    assertThat(ApiJson.number("{\"outboxDepth\":7,\"chunks\":120}", "chunks")).isEqualTo(120);
    assertThat(ApiJson.text("{\"id\":\"k1\",\"secret\":\"cc_abc\"}", "secret")).isEqualTo("cc_abc");
    assertThatThrownBy(() -> ApiJson.text("{\"id\":\"k1\"}", "secret")).hasMessageContaining("no secret");
    assertThat(ApiJson.diagnostics("{\"error\":\"unauthorized\",\"message\":\"send a key\"}")).isEqualTo("send a key");
  }
}
