package io.carecontext.services.http;

import io.micronaut.serde.annotation.Serdeable;

/** The body of every non-FHIR error. */
@Serdeable
public record ApiError(String error, String message) {}
