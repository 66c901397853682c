//! Payments' calls to the services it depends on: typed clients on the contract's wire types,
//! under the caller's deadline (HotROD keeps each client with its callee; here a client lives
//! with its caller, so that no service links another's server).

pub mod ledger;
pub mod risk;
