//! A report table as the formats see it: a title, one column per run, rows of cells.

pub use crate::suite::test::Cell;

#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    /// The headline rows (what the paper's tables report) are shown in bold.
    pub headline: bool,
    pub cells: Vec<Cell>,
    /// The long-form metric of its lines (`max_overhead`, `min@2`), if they have one.
    pub metric: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub title: String,
    /// Text cells read left-aligned (descriptions) rather than as figures.
    pub text_left: bool,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    /// The paper's scenario whose runs the table shows, if it is one scenario's table.
    pub scenario: Option<u8>,
}
