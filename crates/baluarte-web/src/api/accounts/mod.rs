//! People and their access over the API: sessions and the caller's own account (password, second
//! factor), users, API tokens.

mod session;
mod tokens;
mod users;

use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this capability and their OpenAPI document.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(session::login, session::logout))
        .routes(routes!(session::me, session::update_me))
        .routes(routes!(session::change_password))
        .routes(routes!(session::begin_totp))
        .routes(routes!(session::confirm_totp))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::get_user, users::update_user))
        .routes(routes!(users::deactivate_user))
        .routes(routes!(users::reactivate_user))
        .routes(routes!(users::reset_password))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::get_token))
        .routes(routes!(tokens::revoke_token))
}
