//! Risk's API types, shared by its server and its typed client.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `POST /v1/assessments`. Card data never reaches risk: only brand and last four digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentRequest {
    pub payment_id: Uuid,
    pub merchant_id: String,
    pub customer_id: String,
    /// Minor units, positive.
    pub amount: i64,
    pub currency: String,
    pub card_brand: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Decline,
    Review,
}

/// How the decision was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScoringPath {
    /// Rules alone.
    Fast,
    /// Rules plus deep scoring that finished in time.
    Deep,
    /// Deep scoring ran out of budget; the payment goes to manual review.
    Degraded,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Decline => "decline",
            Decision::Review => "review",
        }
    }

    /// Thresholds on the 0–100 score.
    pub fn from_score(score: i16) -> Self {
        match score {
            s if s >= 90 => Decision::Decline,
            s if s >= 70 => Decision::Review,
            _ => Decision::Approve,
        }
    }
}

impl std::str::FromStr for Decision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "approve" => Ok(Decision::Approve),
            "decline" => Ok(Decision::Decline),
            "review" => Ok(Decision::Review),
            other => Err(format!("unknown decision {other:?}")),
        }
    }
}

impl ScoringPath {
    pub fn as_str(self) -> &'static str {
        match self {
            ScoringPath::Fast => "fast",
            ScoringPath::Deep => "deep",
            ScoringPath::Degraded => "degraded",
        }
    }
}

impl std::str::FromStr for ScoringPath {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "fast" => Ok(ScoringPath::Fast),
            "deep" => Ok(ScoringPath::Deep),
            "degraded" => Ok(ScoringPath::Degraded),
            other => Err(format!("unknown scoring path {other:?}")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub id: Uuid,
    pub payment_id: Uuid,
    pub decision: Decision,
    /// 0 (no risk) to 100.
    pub score: i16,
    pub path: ScoringPath,
}
