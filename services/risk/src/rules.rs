//! The fast path: cheap rules that settle most payments without deep scoring.

use crate::{
    config::RuleSettings,
    types::{AssessmentRequest, Decision},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleOutcome {
    /// The rules settle it.
    Decided { decision: Decision, score: i16 },
    /// Large payments need deep scoring; `base_score` is what the rules alone say.
    NeedsDeepScoring { base_score: i16 },
}

/// Scores a payment from its amount, its customer's recent velocity and the watchlist.
pub fn evaluate(request: &AssessmentRequest, recent: i64, settings: &RuleSettings) -> RuleOutcome {
    if settings.blocked_customers.contains(&request.customer_id) {
        return RuleOutcome::Decided {
            decision: Decision::Decline,
            score: 100,
        };
    }
    // Up to 40 points for size (relative to the deep-scoring threshold), 8 per recent payment.
    let threshold = settings.deep_min_amount.max(1);
    let size_points = (request.amount.saturating_mul(40) / threshold).min(40);
    let velocity_points = recent.saturating_mul(8).min(60);
    let score = i16::try_from((10 + size_points + velocity_points).min(100)).unwrap_or(100);
    if request.amount >= settings.deep_min_amount {
        RuleOutcome::NeedsDeepScoring { base_score: score }
    } else {
        RuleOutcome::Decided {
            decision: Decision::from_score(score),
            score,
        }
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::{RuleOutcome, evaluate};
    use crate::{
        config::RuleSettings,
        types::{AssessmentRequest, Decision},
    };

    fn request(amount: i64, customer: &str) -> AssessmentRequest {
        AssessmentRequest {
            payment_id: Uuid::nil(),
            merchant_id: "m".into(),
            customer_id: customer.into(),
            amount,
            currency: "EUR".into(),
            card_brand: "visa".into(),
        }
    }

    fn settings() -> RuleSettings {
        RuleSettings {
            deep_min_amount: 50_000,
            blocked_customers: vec!["cus_blocked".into()],
        }
    }

    #[test]
    fn small_payments_take_the_fast_path_and_large_ones_need_deep_scoring() {
        assert!(matches!(
            evaluate(&request(1_000, "c"), 0, &settings()),
            RuleOutcome::Decided {
                decision: Decision::Approve,
                ..
            }
        ));
        assert!(matches!(
            evaluate(&request(50_000, "c"), 0, &settings()),
            RuleOutcome::NeedsDeepScoring { .. }
        ));
    }

    #[test]
    fn watchlisted_customers_are_declined_and_velocity_raises_the_score() {
        assert_eq!(
            evaluate(&request(100, "cus_blocked"), 0, &settings()),
            RuleOutcome::Decided {
                decision: Decision::Decline,
                score: 100
            }
        );
        assert!(matches!(
            evaluate(&request(1_000, "c"), 12, &settings()),
            RuleOutcome::Decided {
                decision: Decision::Review,
                ..
            }
        ));
    }
}
