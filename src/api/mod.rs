//! fence's SQL functions (`#[pg_extern]`), by area, each file named as the regression test
//! of that area (`pg_test/sql/<area>.sql`): each converts its arguments, calls fence's logic
//! and returns.

mod analyze;
mod chain;
mod exemptions;
mod fleet;
mod governance;
mod rows;
