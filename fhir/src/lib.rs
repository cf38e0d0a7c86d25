//! OpenMRS over FHIR R4 (plus the OpenMRS REST calls FHIR lacks): patients,
//! practitioners, locations, slots and appointments.
//!
//! Empty until the scheduling issue; the crate exists so the workspace
//! layout matches the architecture from the first commit.
