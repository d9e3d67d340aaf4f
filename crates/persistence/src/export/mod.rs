//! What Concord writes for other systems: published guides as CPSV-AP
//! JSON-LD (`cpsv`), and records in the import format (`files`).

pub mod cpsv;
pub mod files;
