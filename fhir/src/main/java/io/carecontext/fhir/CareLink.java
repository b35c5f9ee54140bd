package io.carecontext.fhir;

/** A practitioner's care relationship with a patient, and the resource that states it. */
public record CareLink(String practitionerId, String patientId, String sourceType, String sourceId) {}
