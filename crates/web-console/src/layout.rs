//! The page shell: the document head, the sidebar (only what the viewer may use), the top bar with
//! search and the account menu, and the command palette.

use domain::Permission;
use maud::{DOCTYPE, Markup, html};

use crate::assets;
use crate::viewer::{CSRF_FIELD, Viewer};

/// Where a page sits in the sidebar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Dashboard,
    Clients,
    Workflows,
    Team,
    Documents,
    Review,
    QuickBooks,
    Marketplace,
    Members,
    Audit,
    Profile,
    Time,
    Operations,
}

struct NavItem {
    nav: Nav,
    href: &'static str,
    label: &'static str,
    /// The `g <key>` shortcut.
    key: Option<char>,
    needs: Option<Permission>,
    staff_only: bool,
}

const NAV: &[NavItem] = &[
    NavItem {
        nav: Nav::Dashboard,
        href: "/",
        label: "Dashboard",
        key: Some('d'),
        needs: None,
        staff_only: false,
    },
    NavItem {
        nav: Nav::Clients,
        href: "/clients",
        label: "Clients",
        key: Some('c'),
        needs: Some(Permission::ClientsRead),
        staff_only: false,
    },
    NavItem {
        nav: Nav::Workflows,
        href: "/workflows",
        label: "Workflows",
        key: Some('w'),
        needs: Some(Permission::WorkflowsRead),
        staff_only: true,
    },
    NavItem {
        nav: Nav::Team,
        href: "/team",
        label: "Team workload",
        key: Some('t'),
        needs: Some(Permission::WorkflowsRead),
        staff_only: true,
    },
    NavItem {
        nav: Nav::Documents,
        href: "/documents",
        label: "Documents",
        key: Some('u'),
        needs: Some(Permission::DocumentsRead),
        staff_only: false,
    },
    NavItem {
        nav: Nav::Review,
        href: "/review",
        label: "Review queue",
        key: Some('r'),
        needs: Some(Permission::DocumentsUpdate),
        staff_only: true,
    },
    NavItem {
        nav: Nav::QuickBooks,
        href: "/quickbooks",
        label: "QuickBooks",
        key: Some('q'),
        needs: Some(Permission::FinancialRead),
        staff_only: true,
    },
    NavItem {
        nav: Nav::Marketplace,
        href: "/marketplace",
        label: "Marketplace",
        key: Some('m'),
        needs: None,
        staff_only: true,
    },
    NavItem {
        nav: Nav::Members,
        href: "/members",
        label: "Members",
        key: None,
        needs: Some(Permission::UsersRead),
        staff_only: true,
    },
    NavItem {
        nav: Nav::Audit,
        href: "/audit",
        label: "Audit log",
        key: None,
        needs: Some(Permission::SystemAudit),
        staff_only: true,
    },
    NavItem {
        nav: Nav::Operations,
        href: "/operations",
        label: "Operations",
        key: None,
        needs: Some(Permission::SystemAdmin),
        staff_only: true,
    },
];

fn head(title: &str) -> Markup {
    html! {
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        title { (title) " · Countinghouse" }
        link rel="stylesheet" href=(assets::url("app.css"));
        // htmx may not inject its own <style> or evaluate strings: the CSP allows neither.
        meta name="htmx-config" content=r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"historyCacheSize":0}"#;
        script src=(assets::url("htmx.js")) defer {}
        script src=(assets::url("console.js")) defer {}
    }
}

/// A page without the shell: sign-in, invitations, errors.
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { (head(title)) }
            body {
                main class="auth" id="main" { (body) }
            }
        }
    }
}

/// The hidden CSRF field every form of a signed-in page carries.
pub fn csrf(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(viewer.csrf); }
}

/// A signed-in page: the shell around `body`, with `title` as the tab's and the heading's name.
pub fn page(viewer: &Viewer, active: Nav, title: &str, body: Markup) -> Markup {
    let staff = viewer.caller.role.is_staff();
    let hx_headers = serde_json::json!({ "X-CSRF-Token": viewer.csrf }).to_string();
    html! {
        (DOCTYPE)
        html lang="en" {
            head { (head(title)) }
            body hx-headers=(hx_headers) {
                a class="skip-link" href="#main" { "Skip to content" }
                div class="shell" {
                    nav class="sidebar" aria-label="Main" {
                        a class="brand" href="/" { span class="brand-mark" aria-hidden="true" { "CH" } "Countinghouse" }
                        ul class="nav" {
                            @for item in NAV {
                                @if (!item.staff_only || staff) && item.needs.is_none_or(|p| viewer.caller.has(p)) {
                                    li {
                                        a href=(item.href) aria-current=[(item.nav == active).then_some("page")] {
                                            span { (item.label) }
                                            @if let Some(k) = item.key { kbd aria-hidden="true" { "g " (k) } }
                                        }
                                    }
                                }
                            }
                        }
                        p class="nav-section" { "You" }
                        ul class="nav" {
                            @if staff && viewer.caller.has(Permission::WorkflowsRead) {
                                li { a href="/time" aria-current=[(active == Nav::Time).then_some("page")] { "Time sheet" } }
                            }
                            li { a href="/profile" aria-current=[(active == Nav::Profile).then_some("page")] { "Profile & security" } }
                        }
                    }
                    div class="main" {
                        header class="topbar" {
                            button class="btn search" type="button" data-palette-open aria-keyshortcuts="Control+K /" {
                                span class="muted" { "Search clients, documents, advisors…" }
                                kbd { "/" }
                            }
                            div class="who" {
                                span { strong { (viewer.organization.name) } }
                                span class="muted" { (viewer.user.name) }
                                form method="post" action="/sign-out" {
                                    (csrf(viewer))
                                    button class="btn link" type="submit" { "Sign out" }
                                }
                            }
                        }
                        main class="page" id="main" tabindex="-1" {
                            div id="flash" aria-live="polite" {}
                            (body)
                        }
                    }
                }
                dialog class="palette" id="palette" aria-label="Search" {
                    input type="search" name="q" placeholder="Jump to a client, document or advisor…" autocomplete="off"
                        aria-label="Search" aria-controls="palette-results"
                        hx-get="/search" hx-trigger="input changed delay:150ms, search" hx-target="#palette-results";
                    ul id="palette-results" role="listbox" aria-label="Results" {
                        @for item in NAV {
                            @if (!item.staff_only || staff) && item.needs.is_none_or(|p| viewer.caller.has(p)) {
                                li role="option" { a href=(item.href) { (item.label) span class="muted" { "Go to" } } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A page's heading row, with its actions on the right.
pub fn head_row(title: &str, crumbs: Option<Markup>, actions: Option<Markup>) -> Markup {
    html! {
        div {
            @if let Some(c) = crumbs { div class="crumbs" { (c) } }
            div class="page-head" {
                h1 { (title) }
                @if let Some(a) = actions { div class="actions" { (a) } }
            }
        }
    }
}
