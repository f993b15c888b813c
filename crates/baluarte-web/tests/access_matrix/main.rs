//! The access matrix: every API route × every role (five national roles, three entity roles, three
//! token kinds) × own and foreign entity. Each cell names the expected status, and no response to an
//! entity-scoped caller may carry data of the foreign entity. A route missing from the matrix fails
//! the test, so new routes must be added here. The relations between incidents (merged, merged into,
//! campaign, correlation) have their own matrix × TLP in `relations`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

use baluarte_test_support::clock;
use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

const NATIONAL: [&str; 5] = ["admin", "coordinator", "csirt", "soc", "nat_auditor"];
const ENTITY: [&str; 3] = ["officer", "reporter", "ent_auditor"];
const TOKENS: [&str; 3] = ["token_registry", "token_events", "token_incidents"];

/// "admin,coordinator=201; ent=404; *=403": groups are nat, ent, tok, people; `*` is the default.
fn expected(spec: &str, actor: &str) -> u16 {
    let mut default = None;
    for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (who, code) = part.split_once('=').expect("who=code");
        let code: u16 = code.trim().parse().expect("status");
        for w in who.split(',').map(str::trim) {
            let hit = match w {
                "*" => {
                    default = Some(code);
                    false
                }
                "nat" => NATIONAL.contains(&actor),
                "ent" => ENTITY.contains(&actor),
                "tok" => TOKENS.contains(&actor),
                "people" => !TOKENS.contains(&actor),
                name => name == actor,
            };
            if hit {
                return code;
            }
        }
    }
    default.unwrap_or_else(|| panic!("no expectation for {actor} in {spec}"))
}

struct Case {
    method: &'static str,
    /// The route as in the OpenAPI document, for the coverage check.
    route: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    expect: &'static str,
}

const fn case(
    method: &'static str,
    route: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    expect: &'static str,
) -> Case {
    Case {
        method,
        route,
        path,
        body,
        expect,
    }
}

mod incident_rows;
mod records;
mod registry_rows;
mod relations;
mod runner;

use incident_rows::incident_cases;
use records::{incident_records, Ids};
use registry_rows::cases;
use runner::get_json;
