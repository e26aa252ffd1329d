//! Native tests of the bucket's rules, HTTP answers and certification.

mod candid_interface;
pub(crate) mod fixture;
mod http_answers;
mod store_rules;
