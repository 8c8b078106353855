//! Views: where the manifest's jobs meet the ledger's records. The plan table, `status`,
//! `results.csv`/`results.json` and JUnit are built here, above both `plan` (which knows
//! nothing of the ledger) and `ledger` (which knows job keys, not jobs).

pub mod image_models;
pub mod junit;
pub mod models;
pub mod next;
pub mod plan;
pub mod results;
pub mod spend;
pub mod stages;
pub mod status;

pub use plan::{PLAN_FORMAT, Plan};
pub use results::{RESULTS_FORMAT, ResultRow, RowState};

/// Rows as CSV with a header (the serde field names).
pub fn to_csv<T: serde::Serialize>(rows: impl IntoIterator<Item = T>) -> std::io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.serialize(row).map_err(std::io::Error::other)?;
    }
    w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}
