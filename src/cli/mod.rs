//! The command families of the `liancun` binary, one file each; `main.rs` parses the command
//! line and dispatches here. Each is a thin shell over the library: parse, call, print.
//!
//! | file | commands |
//! |---|---|
//! | `workspace.rs` | import, info, stats, export, query, demo, demo-data |
//! | `zones.rs` | contiguity, zones propose, zones evaluate |
//! | `location.rs` | locate, coverage, centers, radii |
//! | `serve.rs` | serve |
//! | `plan.rs` | plan …, token …, audit |

pub mod location;
pub mod plan;
pub mod serve;
pub mod workspace;
pub mod zones;
