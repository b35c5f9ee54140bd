package io.carecontext.services.fhir;

import java.util.Date;
import java.util.List;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementKind;
import org.hl7.fhir.r4.model.CapabilityStatement.RestfulCapabilityMode;
import org.hl7.fhir.r4.model.CapabilityStatement.SystemRestfulInteraction;
import org.hl7.fhir.r4.model.CapabilityStatement.TypeRestfulInteraction;
import org.hl7.fhir.r4.model.Enumerations.FHIRVersion;
import org.hl7.fhir.r4.model.Enumerations.PublicationStatus;

/** The CapabilityStatement of exactly what the FHIR endpoint implements. */
final class Capabilities {

  /** Types whose content is chunked and embedded for retrieval; any R4 type can be stored. */
  static final List<String> INDEXED = List.of("Patient", "Condition", "Observation", "MedicationRequest",
      "MedicationStatement", "AllergyIntolerance", "Procedure", "Immunization", "Encounter", "DiagnosticReport",
      "DocumentReference", "CarePlan", "Coverage", "Claim", "ExplanationOfBenefit", "Consent", "CareTeam",
      "Practitioner", "RelatedPerson", "Organization");

  private Capabilities() {}

  static CapabilityStatement statement(String base) {
    CapabilityStatement cs = new CapabilityStatement();
    cs.setStatus(PublicationStatus.ACTIVE).setDate(new Date()).setKind(CapabilityStatementKind.INSTANCE)
        .setFhirVersion(FHIRVersion._4_0_1).setPublisher("CareContext");
    cs.addFormat(FhirResponses.FHIR_JSON).addFormat(FhirResponses.LEGACY_FHIR_JSON).addFormat("json");
    cs.getSoftware().setName("CareContext").setVersion("0.1");
    cs.getImplementation().setDescription("CareContext FHIR ingest endpoint").setUrl(base);
    var rest = cs.addRest().setMode(RestfulCapabilityMode.SERVER);
    rest.getSecurity().setDescription("Authorization: Bearer <api-key> with role ehr-integration");
    rest.addInteraction().setCode(SystemRestfulInteraction.TRANSACTION);
    rest.addInteraction().setCode(SystemRestfulInteraction.BATCH);
    rest.addOperation().setName("import").setDefinition("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/import")
        .setDocumentation("POST application/fhir+ndjson, one resource a line, streamed and committed in batches");
    for (String type : INDEXED) {
      var r = rest.addResource().setType(type);
      for (TypeRestfulInteraction i : List.of(TypeRestfulInteraction.READ, TypeRestfulInteraction.VREAD,
          TypeRestfulInteraction.CREATE, TypeRestfulInteraction.UPDATE, TypeRestfulInteraction.DELETE)) {
        r.addInteraction().setCode(i);
      }
      r.setVersioning(CapabilityStatement.ResourceVersionPolicy.VERSIONED).setReadHistory(false)
          .setUpdateCreate(true).setConditionalCreate(true).setConditionalDelete(
              CapabilityStatement.ConditionalDeleteStatus.NOTSUPPORTED);
    }
    return cs;
  }
}
