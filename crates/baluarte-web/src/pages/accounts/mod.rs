//! People and their access: signing in and out, the person's own account and second factor, the people
//! of the platform, and API tokens.

mod access;
mod account;
mod tokens;
mod users;

use crate::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(access::routes())
        .merge(account::routes())
        .merge(users::routes())
        .merge(tokens::routes())
}
