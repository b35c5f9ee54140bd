package io.carecontext.fhir.synthetic;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.fhir.BundleValidator;
import io.carecontext.fhir.ChunkRenderer;
import io.carecontext.fhir.Fhir;
import java.util.List;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

class SyntheticPatientsTest {

  @Test
  void sameSeedSameBytesAndDifferentSeedDifferentPatients() {
    String a = Fhir.toJson(SyntheticPatients.generate(7, 2).get(1).bundle());
    String b = Fhir.toJson(SyntheticPatients.generate(7, 2).get(1).bundle());
    String c = Fhir.toJson(SyntheticPatients.generate(8, 2).get(1).bundle());
    assertThat(a).isEqualTo(b).isNotEqualTo(c);
  }

  @Test
  void bundlesAreValidTransactionsOfAboutFiftyResourcesWithIdentifiersInNotes() {
    for (var p : SyntheticPatients.generate(42, 10)) {
      assertThat(BundleValidator.validate(p.bundle())).isEmpty();
      assertThat(p.bundle().getEntry().size()).isBetween(45, 55);
      String json = Fhir.toJson(p.bundle());
      assertThat(json).contains("ifNoneExist").contains("Practitioner?identifier=").contains("urn:uuid:");
      assertThat(p.planted()).extracting(SyntheticPatients.PlantedIdentifier::identifierClass)
          .contains("NAME", "MRN", "DATE", "PHONE", "ADDRESS", "ZIP");
      assertThat(p.identifiers().names()).isNotEmpty();
    }
  }

  @Test
  void thePatientChunkCarriesNoneOfItsIdentifiers() {
    var p = SyntheticPatients.generate(3, 1).get(0);
    Patient patient = (Patient) p.bundle().getEntry().get(1).getResource();
    patient.setId("x1");
    String text = new ChunkRenderer().render(patient).get(0).text();
    for (String v : List.of(patient.getNameFirstRep().getFamily(), patient.getIdentifierFirstRep().getValue(),
        patient.getTelecomFirstRep().getValue(), patient.getAddressFirstRep().getPostalCode())) {
      assertThat(text).doesNotContain(v);
    }
  }
}
