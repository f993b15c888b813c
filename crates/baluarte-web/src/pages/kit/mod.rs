//! The kit every page shares: the frame ([`Layout`]) and error pages, form helpers, the options of
//! selects, the entity picker and names, and an object's history.

mod entities;
mod forms;
mod history;
mod layout;
mod options;

pub use entities::{entity_picker, new_link, EntityNames, DEFAULT_ZONE};
pub use forms::{
    encode, field_error, invalid_status, no_store, non_empty, page_request, safe_next, status_with, DoneQuery,
    FormErrors, Pager,
};
pub use history::{action_label, changed_fields, history, HistoryRow};
pub use layout::{error_page, render, Layout, Nav, OrPage, PageError, UserBar};
pub use options::{sector_label, sector_options, tlp_options, Opt};
