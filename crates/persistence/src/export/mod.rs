//! What Concord writes for other systems: published guides as CPSV-AP
//! JSON-LD (`cpsv`).

pub mod cpsv;
