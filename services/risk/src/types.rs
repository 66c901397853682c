//! Risk's API types are the contract's ([`contract::risk`]): callers take them without this
//! server. The two behaviours of deep scoring are those of every leak scenario.

pub use contract::{
    risk::{Assessment, AssessmentRequest, Decision, ScoringPath},
    scenario::{Mode, ModeBody},
};
