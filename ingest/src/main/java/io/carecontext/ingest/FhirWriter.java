package io.carecontext.ingest;

import io.carecontext.migrations.PolicySettings;

/**
 * Who writes, as a FHIR write transaction needs it: the settings that present the caller's key
 * ({@link PolicySettings#fhirWrite}; the database writes resources only for a live EHR-integration
 * key of the tenant, tenant migration 29) and what records the write in the same transaction.
 */
public record FhirWriter(PolicySettings settings, WriteAudit audit) {}
