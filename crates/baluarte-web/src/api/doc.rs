//! The standard error responses of the OpenAPI document, declared once for every operation instead of
//! by hand per route.
//!
//! The handlers' annotations name the verdicts particular to them (403, 404, 409, 422 …). What an
//! operation can answer because of its shape is added here: 401 where credentials are required, 400,
//! 413, 415 and 422 for a JSON body (malformed, over the limit, not JSON, fields of the wrong type), 400
//! for a query string that does not parse. Every error response is then `application/problem+json`
//! with the `Problem` schema, which is what `error::Problem` and the middleware that rewrites axum's own
//! rejections (`auth::problem_for_plain_errors`) serve.

use crate::error::PROBLEM_JSON;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};

/// The standard text of an error status, for responses whose annotation gave none.
fn description(status: &str) -> &'static str {
    match status {
        "400" => "The request cannot be read: malformed JSON, or a query or path parameter that does not parse",
        "401" => "Credentials are missing, invalid, expired or revoked",
        "403" => "The caller's role or token may not do this",
        "404" => "No such record, or one the caller may not see",
        "409" => "The request conflicts with the record's state",
        "413" => "The request body is larger than the limit",
        "415" => "The request body's Content-Type is not the one documented",
        "422" => "Some fields are not valid: `errors` names each one with its code",
        "429" => "Too many failed attempts; see Retry-After",
        _ => "An error, as RFC 9457 problem+json",
    }
}

/// Whether the operation is public: its `security` is the one empty requirement (`security(())`).
fn is_public(op: &Operation) -> bool {
    op.security
        .as_ref()
        .is_some_and(|s| s.iter().all(|r| *r == SecurityRequirement::default()))
}

fn has_json_body(op: &Operation) -> bool {
    op.request_body
        .as_ref()
        .is_some_and(|b| b.content.contains_key("application/json"))
}

fn has_query(op: &Operation) -> bool {
    op.parameters
        .as_ref()
        .is_some_and(|ps| ps.iter().any(|p| p.parameter_in == ParameterIn::Query))
}

/// The standard error responses of one operation, and every error response as problem+json.
fn operation(op: &mut Operation) {
    let mut statuses: Vec<&str> = Vec::new();
    if !is_public(op) {
        statuses.push("401");
    }
    if has_json_body(op) {
        statuses.extend(["400", "413", "415", "422"]);
    }
    if has_query(op) {
        statuses.push("400");
    }
    for s in statuses {
        op.responses
            .responses
            .entry(s.to_string())
            .or_insert_with(|| RefOr::T(Response::new(description(s))));
    }
    for (status, res) in op.responses.responses.iter_mut() {
        if !(status.starts_with('4') || status.starts_with('5')) {
            continue;
        }
        if let RefOr::T(res) = res {
            if res.description.is_empty() {
                res.description = description(status).to_string();
            }
            res.content.clear();
            res.content.insert(
                PROBLEM_JSON.to_string(),
                Content::new(Some(Ref::from_schema_name("Problem"))),
            );
        }
    }
}

/// Apply the standard error responses to every operation of the document.
pub fn standard_errors(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.options,
            &mut item.head,
            &mut item.trace,
        ];
        for op in ops.into_iter().flatten() {
            operation(op);
        }
    }
}
