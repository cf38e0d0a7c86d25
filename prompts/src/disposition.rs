use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How urgently a patient must be seen, from least to most urgent.
///
/// The derive order *is* the clinical order: `max` of two dispositions is the
/// more urgent one, which is how the safety floor is applied
/// (final = max(rule floor, model proposal)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Home care with safety-netting advice.
    SelfCare,
    /// Book a regular appointment.
    Routine,
    /// Seen by a clinician within 24 hours (book same/next day).
    #[serde(rename = "urgent_24h")]
    Urgent24h,
    /// Go to an emergency department now.
    EmergencyDepartment,
    /// Call an ambulance now.
    EmergencyAmbulance,
}

/// A disposition name that is not one of the five levels.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown disposition `{0}` (expected emergency_ambulance, emergency_department, urgent_24h, routine or self_care)"
)]
pub struct UnknownDisposition(pub String);

impl Disposition {
    /// All five levels, least urgent first.
    pub const ALL: [Disposition; 5] = [
        Disposition::SelfCare,
        Disposition::Routine,
        Disposition::Urgent24h,
        Disposition::EmergencyDepartment,
        Disposition::EmergencyAmbulance,
    ];

    /// The stable wire name, as used in JSON, suites and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::SelfCare => "self_care",
            Disposition::Routine => "routine",
            Disposition::Urgent24h => "urgent_24h",
            Disposition::EmergencyDepartment => "emergency_department",
            Disposition::EmergencyAmbulance => "emergency_ambulance",
        }
    }

    /// How soon a clinician must review a report at this level (the
    /// clinician SLA), in minutes. The patient's instruction never waits for
    /// it: emergencies are told to call or go at once; the review confirms
    /// they did, and books or follows up the others.
    pub fn clinician_review_minutes(self) -> u32 {
        match self {
            Disposition::EmergencyAmbulance => 15,
            Disposition::EmergencyDepartment => 30,
            Disposition::Urgent24h => 4 * 60,
            Disposition::Routine => 3 * 24 * 60,
            Disposition::SelfCare => 7 * 24 * 60,
        }
    }

    /// True for the two levels that send the patient to emergency care now.
    pub fn is_emergency(self) -> bool {
        self >= Disposition::EmergencyDepartment
    }
}

impl fmt::Display for Disposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Disposition {
    type Err = UnknownDisposition;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Disposition::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| UnknownDisposition(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_urgent_levels_are_reviewed_sooner() {
        for pair in Disposition::ALL.windows(2) {
            assert!(pair[0].clinician_review_minutes() > pair[1].clinician_review_minutes());
        }
    }

    #[test]
    fn order_is_clinical_urgency() {
        assert!(Disposition::EmergencyAmbulance > Disposition::EmergencyDepartment);
        assert!(Disposition::EmergencyDepartment > Disposition::Urgent24h);
        assert!(Disposition::Urgent24h > Disposition::Routine);
        assert!(Disposition::Routine > Disposition::SelfCare);
        assert_eq!(
            Disposition::Routine.max(Disposition::EmergencyDepartment),
            Disposition::EmergencyDepartment
        );
    }

    #[test]
    fn wire_names_round_trip_through_serde_and_from_str() {
        for d in Disposition::ALL {
            let json = serde_json::to_string(&d).unwrap();
            assert_eq!(json, format!("\"{}\"", d.as_str()));
            assert_eq!(serde_json::from_str::<Disposition>(&json).unwrap(), d);
            assert_eq!(d.as_str().parse::<Disposition>(), Ok(d));
        }
        assert!("urgent".parse::<Disposition>().is_err());
    }

    #[test]
    fn only_the_top_two_levels_are_emergencies() {
        let emergencies: Vec<_> = Disposition::ALL
            .into_iter()
            .filter(|d| d.is_emergency())
            .collect();
        assert_eq!(
            emergencies,
            vec![
                Disposition::EmergencyDepartment,
                Disposition::EmergencyAmbulance
            ]
        );
    }
}
