package io.carecontext.services.fhir;

import io.carecontext.fhir.StoredTypes;
import java.util.Date;
import java.util.List;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementKind;
import org.hl7.fhir.r4.model.CapabilityStatement.RestfulCapabilityMode;
import org.hl7.fhir.r4.model.CapabilityStatement.SystemRestfulInteraction;
import org.hl7.fhir.r4.model.CapabilityStatement.TypeRestfulInteraction;
import org.hl7.fhir.r4.model.Enumerations.FHIRVersion;
import org.hl7.fhir.r4.model.Enumerations.PublicationStatus;

/**
 * The CapabilityStatement of exactly what the FHIR endpoint implements: every type it stores
 * ({@link StoredTypes}, the list the write and read paths check), with the interactions each has.
 * It listed 20 types, those retrieval chunks, while every R4 type was written: a client that
 * trusted it held back Locations, Medications and Provenance the endpoint would have taken.
 */
final class Capabilities {

  private static final List<TypeRestfulInteraction> INTERACTIONS = List.of(TypeRestfulInteraction.READ,
      TypeRestfulInteraction.VREAD, TypeRestfulInteraction.CREATE, TypeRestfulInteraction.UPDATE,
      TypeRestfulInteraction.DELETE);

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
    // R4's CapabilityStatement has no element for it: said where a client reading the statement looks
    rest.setDocumentation("Writes (create, update, transaction, batch, $import) take Prefer: handling=strict to "
        + "refuse a resource holding an element FHIR R4 does not define (400, the OperationOutcome names the "
        + "element that holds it); without it (or with handling=lenient) such elements are skipped, and the "
        + "answer warns where: a Bundle's response entry, $import's OperationOutcome (per line, the first 100), "
        + "and a create or update that sends Prefer: return=OperationOutcome (answered with an OperationOutcome "
        + "instead of the resource; return=minimal answers no body). Prefer: return applies to each written entry of "
        + "a transaction or batch too: representation puts the stored resource in entry.resource, OperationOutcome "
        + "an information issue of what was stored in entry.response.outcome, minimal (or none) neither; a failed "
        + "batch entry keeps its own OperationOutcome. A conditional create that matched answers the existing "
        + "resource, no body (minimal) or an information issue that nothing was stored (OperationOutcome)");
    rest.addInteraction().setCode(SystemRestfulInteraction.TRANSACTION);
    rest.addInteraction().setCode(SystemRestfulInteraction.BATCH);
    rest.addOperation().setName("import").setDefinition("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/import")
        .setDocumentation("POST application/fhir+ndjson, one resource a line, streamed and committed in batches");
    for (String type : StoredTypes.all()) {
      var r = rest.addResource().setType(type);
      INTERACTIONS.forEach(i -> r.addInteraction().setCode(i));
      // readHistory: vread serves every earlier version too, until the resource is deleted
      r.setVersioning(CapabilityStatement.ResourceVersionPolicy.VERSIONEDUPDATE).setReadHistory(true)
          .setUpdateCreate(true).setConditionalCreate(true).setConditionalDelete(
              CapabilityStatement.ConditionalDeleteStatus.NOTSUPPORTED);
    }
    return cs;
  }
}
