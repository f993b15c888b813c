//! People of the platform: list, creation (with a temporary password shown once), role and language,
//! deactivation and, for administrators, password resets.

use crate::auth::SignedIn;
use crate::pages::kit::{
    entity_picker, field_error, history, new_link, no_store, page_request, render, DoneQuery, EntityNames, FormErrors,
    HistoryRow, Layout, Opt, OrPage, PageError, Pager, DEFAULT_ZONE,
};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use baluarte_core::model::{Role, User};
use baluarte_core::policy::{Action, Resource};
use baluarte_core::service::access;
use baluarte_core::service::{UserFilter, UserInput, UserPatch};
use baluarte_core::time::local_display;
use baluarte_core::CoreError;
use baluarte_core::FieldCode;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/new", get(new_form))
        .route("/users/{id}", get(show).post(update))
        .route("/users/{id}/deactivate", post(deactivate))
        .route("/users/{id}/reactivate", post(reactivate))
        .route("/users/{id}/reset-password", post(reset_password))
}

fn role_options(s: &SignedIn, l: &Layout, selected: &str, current: Option<Role>) -> Vec<Opt> {
    let mut roles: Vec<Role> = access::grantable_roles(s.actor());
    if let Some(r) = current.filter(|r| !roles.contains(r)) {
        roles.insert(0, r);
    }
    roles
        .iter()
        .map(|r| Opt::new(r.as_str(), l.t.t(&format!("role.{r}")), selected))
        .collect()
}

fn with_status(status: StatusCode, mut res: Response) -> Response {
    *res.status_mut() = status;
    res
}

fn form_status(errors: &FormErrors) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

// ----- list -----

#[derive(Debug, Deserialize, Default)]
struct ListQuery {
    entity_id: Option<String>,
    q: Option<String>,
    inactive: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

#[derive(Debug)]
struct UserRow {
    id: String,
    name: String,
    email: String,
    role: String,
    entity_id: String,
    entity: String,
    totp: bool,
    active: bool,
}

#[derive(Template)]
#[template(path = "users_list.html")]
struct UsersPage {
    l: Layout,
    entity_id: String,
    entity_name: String,
    national: bool,
    q: String,
    inactive: bool,
    new_href: Option<String>,
    rows: Vec<UserRow>,
    pager: Pager,
}

async fn list(State(state): State<AppState>, s: SignedIn, Query(q): Query<ListQuery>) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let entity_id = q.entity_id.as_deref().map(str::trim).unwrap_or_default().to_string();
    let query = q.q.as_deref().map(str::trim).unwrap_or_default().to_string();
    let inactive = q.inactive.is_some();
    let filter = UserFilter {
        entity_id: (!entity_id.is_empty()).then(|| entity_id.clone()),
        q: (!query.is_empty()).then(|| query.clone()),
        include_inactive: inactive,
    };
    let page = state
        .services
        .users()
        .list_users(actor, &filter, page_request(&q.page, &q.per_page))
        .await
        .page(lang)?;
    let l = Layout::signed_in(&s, "users.title", "users", "/users");
    let mut names = EntityNames::default();
    let mut rows = Vec::with_capacity(page.items.len());
    for u in &page.items {
        let entity = names
            .get(&state, actor, &u.entity_id)
            .await
            .page(lang)?
            .map(|(n, _)| n)
            .unwrap_or_default();
        rows.push(UserRow {
            id: u.id.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            role: l.t.t(&format!("role.{}", u.role)).to_string(),
            entity_id: u.entity_id.clone(),
            entity,
            totp: u.totp_enabled,
            active: u.active,
        });
    }
    let entity_name = names
        .get(&state, actor, &entity_id)
        .await
        .page(lang)?
        .map(|(n, _)| n)
        .unwrap_or_default();
    let new_href = new_link(actor, Resource::User, "/users/new", &entity_id);
    let inactive_flag = if inactive { "1" } else { "" };
    let pager = Pager::new(
        "/users",
        &[("entity_id", &entity_id), ("q", &query), ("inactive", inactive_flag)],
        &page,
    );
    Ok(render(UsersPage {
        l,
        national: actor.national(),
        entity_id,
        entity_name,
        q: query,
        inactive,
        new_href,
        rows,
        pager,
    }))
}

// ----- creation -----

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
struct NewUserForm {
    entity_id: String,
    name: String,
    email: String,
    role: String,
    password: String,
}

#[derive(Debug, Deserialize, Default)]
struct NewQuery {
    entity_id: Option<String>,
    entity_q: Option<String>,
}

#[derive(Template)]
#[template(path = "users_new.html")]
struct NewUserPage {
    l: Layout,
    form: NewUserForm,
    /// For national people: the entities to pick from, narrowed by `entity_q`.
    entities: Option<Vec<Opt>>,
    entity_q: String,
    /// For everyone else: their own entity, fixed.
    own_entity: String,
    roles: Vec<Opt>,
    errors: FormErrors,
}

async fn new_user_page(
    state: &AppState,
    s: &SignedIn,
    form: NewUserForm,
    entity_q: String,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let entities = entity_picker(state, s, &entity_q, &form.entity_id).await?;
    let l = Layout::signed_in(s, "users.new_title", "users", "/users/new");
    let status = form_status(&errors);
    let page = NewUserPage {
        roles: role_options(s, &l, &form.role, None),
        own_entity: s.info.entity_name.clone(),
        entities,
        entity_q,
        form,
        errors,
        l,
    };
    Ok(with_status(status, render(page)))
}

async fn new_form(
    State(state): State<AppState>,
    s: SignedIn,
    Query(q): Query<NewQuery>,
) -> Result<Response, PageError> {
    let actor = s.actor();
    let entity_id = access::entity_for(actor, q.entity_id.as_deref());
    access::permits(actor, Resource::User, Action::Create, Some(&entity_id)).page(s.ctx.lang)?;
    let form = NewUserForm {
        entity_id,
        role: Role::Reporter.as_str().into(),
        ..Default::default()
    };
    new_user_page(&state, &s, form, q.entity_q.unwrap_or_default(), FormErrors::default()).await
}

#[derive(Template)]
#[template(path = "users_created.html")]
struct CreatedPage {
    l: Layout,
    user_id: String,
    name: String,
    email: String,
    password: String,
}

async fn create(
    State(state): State<AppState>,
    s: SignedIn,
    Form(mut form): Form<NewUserForm>,
) -> Result<Response, PageError> {
    let actor = s.actor();
    form.entity_id = access::entity_for(actor, Some(&form.entity_id));
    let result = match Role::parse(form.role.trim()) {
        Some(role) => {
            let password = (!form.password.is_empty()).then(|| form.password.clone());
            let input = UserInput {
                entity_id: form.entity_id.clone(),
                email: form.email.clone(),
                name: form.name.clone(),
                role,
                password,
            };
            state.services.users().create_user(actor, input).await
        }
        None => Err(field_error("role", FieldCode::Required)),
    };
    // The password typed is never sent back to the browser.
    form.password.clear();
    match result {
        Ok(created) => match created.temporary_password {
            Some(password) => {
                let l = Layout::signed_in(&s, "users.created_title", "users", "/users");
                let u = created.user;
                Ok(no_store(render(CreatedPage {
                    l,
                    user_id: u.id,
                    name: u.name,
                    email: u.email,
                    password,
                })))
            }
            None => Ok(Redirect::to(&format!("/users/{}?done=user_created", created.user.id)).into_response()),
        },
        Err(CoreError::Invalid(errors)) => {
            new_user_page(&state, &s, form, String::new(), FormErrors::new(s.tr(), &errors)).await
        }
        Err(e) => Err(e).page(s.ctx.lang),
    }
}

// ----- detail and changes -----

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
struct EditForm {
    name: String,
    role: String,
    lang: String,
}

#[derive(Debug, Default)]
struct UserCan {
    edit: bool,
    change_role: bool,
    deactivate: bool,
    reactivate: bool,
    reset_password: bool,
}

#[derive(Template)]
#[template(path = "users_detail.html")]
struct UserPage {
    l: Layout,
    u: User,
    role_label: String,
    entity_name: String,
    created: String,
    can: UserCan,
    form: EditForm,
    roles: Vec<Opt>,
    langs: Vec<Opt>,
    errors: FormErrors,
    history: Option<Vec<HistoryRow>>,
}

async fn show(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    user_page(&state, &s, &id, q.done.as_deref(), None, FormErrors::default()).await
}

async fn user_page(
    state: &AppState,
    s: &SignedIn,
    id: &str,
    done: Option<&str>,
    form: Option<EditForm>,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let u = state.services.users().get_user(actor, id).await.page(lang)?;
    let (entity_name, zone) = EntityNames::default()
        .get(state, actor, &u.entity_id)
        .await
        .page(lang)?
        .unwrap_or_else(|| (String::new(), DEFAULT_ZONE.to_string()));
    let allowed = |a: Action| access::can(actor, Resource::User, a, Some(&u.entity_id));
    let own = actor.user_id() == Some(id);
    let can = UserCan {
        edit: allowed(Action::Update),
        change_role: allowed(Action::Update) && !own,
        deactivate: allowed(Action::Deactivate) && u.active && !own,
        reactivate: allowed(Action::Deactivate) && !u.active,
        reset_password: allowed(Action::ResetPassword),
    };
    let history = history(state, s, "user", id, &zone).await?;
    let form = form.unwrap_or_else(|| EditForm {
        name: u.name.clone(),
        role: u.role.as_str().into(),
        lang: u.lang.clone(),
    });
    let l = Layout::signed_in(s, "users.title", "users", &format!("/users/{id}"))
        .with_title(u.name.clone())
        .with_done(done);
    let langs = vec![
        Opt::new("es", l.t.t("lang.es"), &form.lang),
        Opt::new("en", l.t.t("lang.en"), &form.lang),
    ];
    let status = form_status(&errors);
    let page = UserPage {
        role_label: l.t.t(&format!("role.{}", u.role)).to_string(),
        roles: role_options(s, &l, &form.role, Some(u.role)),
        created: local_display(u.created_at, &zone),
        entity_name,
        can,
        form,
        langs,
        errors,
        history,
        u,
        l,
    };
    Ok(with_status(status, render(page)))
}

async fn update(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<EditForm>,
) -> Result<Response, PageError> {
    let patch = UserPatch {
        name: Some(form.name.clone()),
        // No role sent (one's own account): the role stays as it is.
        role: Role::parse(form.role.trim()),
        lang: Some(form.lang.trim().to_string()),
    };
    match state.services.users().update_user(s.actor(), &id, patch).await {
        Ok(_) => Ok(Redirect::to(&format!("/users/{id}?done=user_saved")).into_response()),
        Err(CoreError::Invalid(errors)) => {
            user_page(&state, &s, &id, None, Some(form), FormErrors::new(s.tr(), &errors)).await
        }
        Err(e) => Err(e).page(s.ctx.lang),
    }
}

async fn deactivate(State(state): State<AppState>, s: SignedIn, Path(id): Path<String>) -> Result<Response, PageError> {
    state
        .services
        .users()
        .set_user_active(s.actor(), &id, false)
        .await
        .page(s.ctx.lang)?;
    Ok(Redirect::to(&format!("/users/{id}?done=user_deactivated")).into_response())
}

async fn reactivate(State(state): State<AppState>, s: SignedIn, Path(id): Path<String>) -> Result<Response, PageError> {
    state
        .services
        .users()
        .set_user_active(s.actor(), &id, true)
        .await
        .page(s.ctx.lang)?;
    Ok(Redirect::to(&format!("/users/{id}?done=user_reactivated")).into_response())
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct ResetForm {
    reset_totp: Option<String>,
}

#[derive(Template)]
#[template(path = "users_password.html")]
struct PasswordPage {
    l: Layout,
    user_id: String,
    name: String,
    email: String,
    password: String,
    totp_reset: bool,
}

async fn reset_password(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<ResetForm>,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let u = state.services.users().get_user(s.actor(), &id).await.page(lang)?;
    let totp_reset = form.reset_totp.is_some();
    let password = state
        .services
        .users()
        .reset_password(s.actor(), &id, totp_reset)
        .await
        .page(lang)?;
    let l = Layout::signed_in(&s, "users.reset_title", "users", &format!("/users/{id}"));
    Ok(no_store(render(PasswordPage {
        l,
        user_id: u.id,
        name: u.name,
        email: u.email,
        password,
        totp_reset,
    })))
}
