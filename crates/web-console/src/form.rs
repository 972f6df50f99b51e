//! Form pieces: labelled inputs that show their own field's problem from a refused use case, selects
//! over the domain's closed vocabularies, and the two-step button for an action that cannot be undone.

use api::ApiError;
use maud::{Markup, html};

use crate::layout::csrf;
use crate::ui;
use crate::viewer::Viewer;

/// What a refused submission said, so each input can show the problem with its own field.
#[derive(Clone, Copy, Default)]
pub struct Refusal<'a>(pub Option<&'a ApiError>);

impl Refusal<'_> {
    fn of(&self, field: &str) -> Option<String> {
        self.0.and_then(|e| e.field_errors().iter().find(|fe| fe.field == field)).map(|fe| fe.message.clone())
    }

    /// The problem with `field`, for a field not drawn by [`input`] (or spread over several).
    pub fn problem(&self, field: &str) -> Markup {
        html! { @if let Some(m) = self.of(field) { span class="field-error" { (m) } } }
    }

    /// The refusal's summary above the form (nothing when the form was not refused).
    pub fn alert(&self) -> Markup {
        html! { @if let Some(e) = self.0 { div class="alert error" role="alert" { (e.detail()) } } }
    }
}

/// A labelled `<input>` of `kind` (`text`, `email`, `date`, ...) holding `value`.
pub fn input(refusal: Refusal<'_>, name: &str, label: &str, value: &str, kind: &str) -> Markup {
    let problem = refusal.of(name);
    html! {
        label { (label)
            input type=(kind) name=(name) value=(value) aria-invalid=[problem.as_ref().map(|_| "true")];
            @if let Some(m) = problem { span class="field-error" { (m) } }
        }
    }
}

/// A labelled `<select>` over `options` (shown as [`ui::label`] shows them, sent as their text
/// values), with `chosen` selected; `blank` adds a first "none" option that sends nothing.
pub fn select<T: Copy + PartialEq + serde::Serialize + std::fmt::Display>(
    refusal: Refusal<'_>,
    name: &str,
    label: &str,
    options: &[T],
    chosen: Option<T>,
    blank: Option<&str>,
) -> Markup {
    let problem = refusal.of(name);
    html! {
        label { (label)
            select name=(name) aria-invalid=[problem.as_ref().map(|_| "true")] {
                @if let Some(none) = blank { option value="" selected[chosen.is_none()] { (none) } }
                @for o in options { option value=(o) selected[chosen == Some(*o)] { (ui::label(o)) } }
            }
            @if let Some(m) = problem { span class="field-error" { (m) } }
        }
    }
}

/// A button for an action that cannot be undone: the first press opens a short warning with the
/// button that posts. Plain HTML (`<details>`), so it works without JavaScript and under the CSP.
pub fn confirm(viewer: &Viewer, action: &str, label: &str, warning: &str) -> Markup {
    html! {
        details class="confirm" {
            summary class="btn danger" { (label) "…" }
            form class="confirm-box" method="post" action=(action) {
                (csrf(viewer))
                p { (warning) }
                button class="btn danger" type="submit" { (label) }
            }
        }
    }
}

/// A form's text field as the use cases take it: trimmed, with an empty one meaning "none".
pub fn text(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A form's choice read back as the value it names (none when empty or not one of them).
pub fn chosen<T: std::str::FromStr>(value: &Option<String>) -> Option<T> {
    text(value).and_then(|v| v.parse().ok())
}
