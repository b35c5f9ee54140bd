package io.carecontext.services;

import io.swagger.v3.oas.annotations.OpenAPIDefinition;
import io.swagger.v3.oas.annotations.enums.SecuritySchemeType;
import io.swagger.v3.oas.annotations.info.Info;
import io.swagger.v3.oas.annotations.security.SecurityRequirement;
import io.swagger.v3.oas.annotations.security.SecurityScheme;

/** The OpenAPI document's header; the processor reads the controllers for the rest. */
@OpenAPIDefinition(
    info = @Info(title = "CareContext", version = "0.1",
        description = "Consent- and role-aware patient context for clinical AI. FHIR endpoints are described "
            + "by GET /fhir/{tenant}/metadata (CapabilityStatement)."),
    security = @SecurityRequirement(name = "apiKey"))
@SecurityScheme(name = "apiKey", type = SecuritySchemeType.HTTP, scheme = "bearer",
    description = "Authorization: Bearer <api-key>")
final class Api {
  private Api() {}
}
